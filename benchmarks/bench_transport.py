"""Benchmark of the shared-route estimate (``optimiser.transport.routes.estimate_routes``).

Usage (from the repository root)::

    python benchmarks/bench_transport.py [--sizes default,5k] [--time-limit 10]
        [--guided-s 0] [--out benchmarks/results/transport.md]

Per data set, in one process and on the same allocation (``optimiser.allocate``):

* **pyvrp**: ``estimate_routes(ds, res, time_limit_s=...)``, the default (the
  ortools plan below improved by a fixed number of PyVRP iterations per setting);
* **ortools**: ``estimate_routes(ds, res, method="ortools", time_limit_s=...)``
  (savings and cheapest-insertion constructions, greedy descent, the cheaper kept);
* **ortools+GLS** (only with ``--guided-s S > 0``): the same with guided local
  search for ``S`` seconds in total (not reproducible across machines);
* **nearest neighbour**: ``estimate_routes(..., method="nearest_neighbour")``,
  filling the largest vehicle from the school with the nearest child that still
  fits the seats and every ride-time cap;
* **solo taxis**: every transported child alone (the baseline).

Ratios are measured in the same run: plan cost ÷ solo-taxi cost, each plan's cost ÷
nearest-neighbour cost, its time ÷ nearest-neighbour time, and the per-child
estimate (the allocation's own transport costs) ÷ the route estimate.

Data sets: ``default`` = the embedded Trafford data; ``5k`` =
``optimiser.synth.synth_area(n_children=5_000, n_settings=200, seed=1)`` typed as
``load_dataset`` types a folder, with the Trafford policy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import optimiser  # noqa: E402
from optimiser.transport.routes.estimate import estimate_routes  # noqa: E402

SIZES = ("default", "5k")


def build(size: str) -> optimiser.Dataset:
    """The data set of a size name."""
    base = optimiser.load_default()
    if size == "default":
        return base
    from national import dataset_from_tables

    from optimiser.synth.benchmark import synth_area

    tables = synth_area(n_children=5_000, n_settings=200, seed=1)
    return dataset_from_tables(tables, policy=base.policy, name="synth 5k")


def _row(size: str, method: str, plan, elapsed: float) -> dict:
    s = plan.summary
    return {
        "size": size,
        "method": method,
        "time_s": elapsed,
        **{
            k: s[k]
            for k in (
                "transported_children",
                "routes",
                "minibus",
                "shared_taxi",
                "solo_taxi",
                "cost_gbp",
                "cost_per_child_gbp",
                "solo_baseline_gbp",
                "saving_share",
                "lower_bound_gbp",
                "riders_over_cap",
                "riders_over_cap_by_sharing",
                "settings",
                "settings_not_proven_optimal",
                "per_child_estimate_gbp",
            )
        },
    }


def run(size: str, *, time_limit_s: float, guided_s: float) -> list[dict]:
    """Allocate once, then time each route method on the same placements."""
    ds = build(size)
    t = time.perf_counter()
    res = optimiser.allocate(ds)
    alloc_s = time.perf_counter() - t
    rows = []
    methods = [
        ("pyvrp", dict(time_limit_s=time_limit_s)),
        ("ortools", dict(method="ortools", time_limit_s=time_limit_s)),
    ]
    if guided_s > 0:
        methods.append(("ortools+GLS", dict(method="ortools", time_limit_s=guided_s, guided=True)))
    methods.append(("nearest neighbour", dict(method="nearest_neighbour")))
    for name, kw in methods:
        t = time.perf_counter()
        plan = estimate_routes(ds, res, **kw)
        rows.append(_row(size, name, plan, time.perf_counter() - t))
    solo = dict(
        rows[0],
        method="solo taxis",
        time_s=0.0,
        routes=rows[0]["transported_children"],
        minibus=0.0,
        shared_taxi=0.0,
        solo_taxi=rows[0]["transported_children"],
        cost_gbp=rows[0]["solo_baseline_gbp"],
        saving_share=0.0,
        cost_per_child_gbp=rows[0]["solo_baseline_gbp"] / rows[0]["transported_children"],
        settings_not_proven_optimal=0.0,
    )
    rows.append(solo)
    nn = next(r for r in rows if r["method"] == "nearest neighbour")
    for r in rows:
        r["allocate_s"] = alloc_s
        r["placed"] = len(res.placements)
        r["ratio_cost_solo"] = r["cost_gbp"] / r["solo_baseline_gbp"]
        r["ratio_cost_nn"] = r["cost_gbp"] / nn["cost_gbp"]
        r["ratio_time_nn"] = r["time_s"] / nn["time_s"] if nn["time_s"] else float("nan")
        r["ratio_per_child_route"] = r["per_child_estimate_gbp"] / r["cost_gbp"]
    return rows


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    import ortools

    lines = [
        "# Shared-route estimate benchmark",
        "",
        f"{datetime.date.today()} · {platform.platform()} · Python {platform.python_version()} "
        f"· OR-Tools {ortools.__version__} · {os.cpu_count()} CPUs · load "
        f"{os.getloadavg()[0]:.1f} · `python benchmarks/bench_transport.py --sizes "
        f"{args.sizes} --time-limit {args.time_limit:g} --guided-s {args.guided_s:g}`",
        "",
        "| data | method | children | routes (minibus / taxi / solo) | cost £/yr | £ per child "
        "| cost ÷ solo | cost ÷ NN | time s | time ÷ NN | riders over cap (by sharing) "
        "| settings not proven optimal | lower bound £ | per-child est ÷ route |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['method']} | {r['transported_children']:,.0f} | "
            f"{r['routes']:,.0f} ({r['minibus']:,.0f} / {r['shared_taxi']:,.0f} / "
            f"{r['solo_taxi']:,.0f}) | {r['cost_gbp']:,.0f} | {r['cost_per_child_gbp']:,.0f} | "
            f"**{r['ratio_cost_solo']:.3f}** | {r['ratio_cost_nn']:.3f} | {r['time_s']:.2f} | "
            f"{r['ratio_time_nn']:.1f} | {r['riders_over_cap']:,.0f} "
            f"({r['riders_over_cap_by_sharing']:,.0f}) | "
            f"{r['settings_not_proven_optimal']:,.0f} of {r['settings']:,.0f} | "
            f"{r['lower_bound_gbp']:,.0f} | {r['ratio_per_child_route']:.3f} |"
        )
    alloc = ", ".join(sorted({f"{r['size']} {r['allocate_s']:.1f} s" for r in rows}))
    lines += [
        "",
        "cost ÷ solo = the plan's annual cost ÷ every transported child in a solo taxi "
        "(1 − saving); NN = the nearest-neighbour heuristic on the same children and "
        "caps; riders over cap all have a direct journey already over their phase's cap "
        "unless the bracket says otherwise; the lower bound is the weak bound of "
        "`optimiser.transport.routes` (geography and ride caps ignored), so the true "
        "optimality gap is at most cost − bound. Times exclude `allocate` (" + alloc + ").",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="default,5k")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=10.0,
        help="time budget of the pyvrp and ortools estimates per data set [s]",
    )
    parser.add_argument(
        "--guided-s",
        type=float,
        default=0.0,
        help="also run guided local search for this many seconds",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "transport.md")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes.split(","):
        if size not in SIZES:
            parser.error(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        rows += run(size, time_limit_s=args.time_limit, guided_s=args.guided_s)
    text = markdown(rows, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
