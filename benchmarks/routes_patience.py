"""Experiment: do the settings PyVRP on its own still wins need longer searches, or other starts?

Why: ``estimate_routes``'s default (PyVRP from the greedy plan, plus one start of PyVRP's
own with seed 0, each stopped by a fixed iteration cap) is never costlier than the peer
with seed 0 (PyVRP on its own at 10 s) once the cap covers the peer's iterations, since
the peer's search is then a prefix of the default's second one. Peers with other seeds
still win a few settings. If those searches were still improving when the caps stopped
them, letting each run on while it improves would close the difference; if they had
stalled, only other starts can.

Variant measured: every capped search runs at least its cap, then stops after
``--patience`` × cap iterations without a better plan, at most ``--most`` × cap (so it
contains the default's search and its plan never costs more, setting by setting). The
search is seeded and work-capped, so the plans repeat.

Usage::

    python benchmarks/routes_patience.py --size default --patience 0.5 --most 4

prints the default and the variant beside PyVRP on its own at 10 s with seeds 0, 1, 2:
the total cost ratio and the settings the peer wins (their excess). Measured figures:
benchmarks/results/routes.md "Longer searches do not win the peer's settings".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from pyvrp.stop import MaxRuntime, MultipleCriteria, StoppingCriterion

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_routes_reference import build  # noqa: E402

import optimiser  # noqa: E402
from optimiser._solver import pyvrp_engine  # noqa: E402
from optimiser.transport.routes import RoutePlan, estimate_routes  # noqa: E402


class Patience:
    """Stop after ``cap`` iterations once ``wait`` pass without a better plan; at ``most``."""

    def __init__(self, cap: int, wait: float, most: int) -> None:
        self.cap, self.wait, self.most = cap, wait, most
        self.calls, self.since, self.best = 0, 0, float("inf")

    def __call__(self, best_cost: float) -> bool:
        self.calls += 1
        if best_cost < self.best:
            self.best, self.since = best_cost, 0
        else:
            self.since += 1
        if self.calls > self.most:
            return True
        return self.calls > self.cap and self.since > self.wait


def patient_stop(
    patience: float, most: float
) -> Callable[[int | None, float | None], StoppingCriterion]:
    """A replacement for ``pyvrp_engine._stop`` that extends every capped search."""
    plain = pyvrp_engine._stop

    def stop(max_iterations: int | None, time_limit_s: float | None) -> StoppingCriterion:
        if max_iterations is None:
            return plain(None, time_limit_s)
        cap = max(1, int(max_iterations))
        rules: list[StoppingCriterion] = [Patience(cap, patience * cap, int(most * cap))]
        if time_limit_s is not None:
            rules.append(MaxRuntime(max(0.01, float(time_limit_s))))
        return MultipleCriteria(rules)

    return stop


def costs(plan: RoutePlan) -> pd.Series:
    return plan.settings.set_index("setting_id")["cost_gbp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", default="default", choices=("default", "5k"))
    parser.add_argument("--patience", type=float, default=0.5)
    parser.add_argument("--most", type=float, default=4.0)
    parser.add_argument("--time-limit", type=float, default=10.0, help="the peer's seconds")
    args = parser.parse_args()
    ds = build(args.size)
    res = optimiser.allocate(ds)
    runs: dict[str, pd.Series] = {}
    for seed in (0, 1, 2):
        kw = dict(method="pyvrp", guided=True, warm_start=False, time_limit_s=args.time_limit)
        runs[f"peer seed {seed}"] = costs(estimate_routes(ds, res, seed=seed, **kw))
    t = time.perf_counter()
    runs["default"] = costs(estimate_routes(ds, res))
    wall = {"default": time.perf_counter() - t}
    plain = pyvrp_engine._stop
    pyvrp_engine._stop = patient_stop(args.patience, args.most)
    try:
        t = time.perf_counter()
        runs["patient"] = costs(estimate_routes(ds, res))
        wall["patient"] = time.perf_counter() - t
    finally:
        pyvrp_engine._stop = plain
    print(f"{args.size}: patience {args.patience:g} × cap, at most {args.most:g} × cap")
    for name in ("default", "patient"):
        mine = runs[name]
        print(f"  {name}: total £{mine.sum():,.0f}, {wall[name]:.1f} s wall")
        for seed in (0, 1, 2):
            peer = runs[f"peer seed {seed}"].reindex(mine.index)
            above = (mine - peer).clip(lower=0)
            lost = above[above > 0.5]
            print(
                f"    ÷ peer seed {seed} {mine.sum() / peer.sum():.4f}; costlier on "
                f"{lost.size} of {mine.size} (£{lost.sum():,.0f})"
            )


if __name__ == "__main__":
    main()
