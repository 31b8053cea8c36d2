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

It also prints how many iterations the peer with seed 0 ran on each setting (the default's
searches contain the peer's only where the peer ran no more than the cold start's cap).
A second variant (``--patience 0 --cold N``) gives PyVRP's own start N iterations instead
of ``PYVRP_COLD_ITERATIONS``.

Usage::

    python benchmarks/routes_patience.py --size default --patience 0.5 --most 4
    python benchmarks/routes_patience.py --size 5k --patience 0 --cold 1000

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
from typing import Any

import numpy as np
import pandas as pd
from pyvrp.stop import MaxRuntime, MultipleCriteria, StoppingCriterion

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_routes_reference import build  # noqa: E402

import optimiser  # noqa: E402
from optimiser._solver import pyvrp_engine  # noqa: E402
from optimiser.transport.routes import RoutePlan, estimate_routes  # noqa: E402
from optimiser.transport.routes import estimate as routes_estimate  # noqa: E402


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
    parser.add_argument("--patience", type=float, default=0.5, help="0: no patience rule")
    parser.add_argument("--most", type=float, default=4.0)
    parser.add_argument(
        "--cold", type=int, default=None, help="the variant's PYVRP_COLD_ITERATIONS instead"
    )
    parser.add_argument("--time-limit", type=float, default=10.0, help="the peer's seconds")
    args = parser.parse_args()
    ds = build(args.size)
    res = optimiser.allocate(ds)
    runs: dict[str, pd.Series] = {}
    iterations: list[int] = []
    solve = pyvrp_engine.solve

    def counted(*a: Any, **k: Any) -> Any:
        out = solve(*a, **k)
        iterations.append(int(out.num_iterations))
        return out

    for seed in (0, 1, 2):
        kw = dict(method="pyvrp", guided=True, warm_start=False, time_limit_s=args.time_limit)
        pyvrp_engine.solve = counted if seed == 0 else solve  # type: ignore[assignment]
        try:
            runs[f"peer seed {seed}"] = costs(estimate_routes(ds, res, seed=seed, **kw))
        finally:
            pyvrp_engine.solve = solve
    its = np.array(iterations)
    print(
        f"{args.size}: the peer (seed 0) ran {np.median(its):,.0f} iterations per setting "
        f"(median; 90th percentile {np.percentile(its, 90):,.0f}, most {its.max():,}); over "
        f"500 on {(its > 500).sum()} and over 1,000 on {(its > 1000).sum()} of {its.size}"
    )
    t = time.perf_counter()
    runs["default"] = costs(estimate_routes(ds, res))
    wall = {"default": time.perf_counter() - t}
    plain, cold = pyvrp_engine._stop, routes_estimate.PYVRP_COLD_ITERATIONS
    if args.patience > 0:
        pyvrp_engine._stop = patient_stop(args.patience, args.most)
    if args.cold is not None:
        routes_estimate.PYVRP_COLD_ITERATIONS = args.cold
    try:
        t = time.perf_counter()
        runs["variant"] = costs(estimate_routes(ds, res))
        wall["variant"] = time.perf_counter() - t
    finally:
        pyvrp_engine._stop, routes_estimate.PYVRP_COLD_ITERATIONS = plain, cold
    print(
        f"{args.size}: variant with patience {args.patience:g} × cap (0: off), at most "
        f"{args.most:g} × cap; cold-start iterations {args.cold or cold}"
    )
    for name in ("default", "variant"):
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
