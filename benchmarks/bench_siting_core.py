"""Benchmark: optimiser.siting.solve_facility_location against HiGHS (scipy.optimize.milp).

Both solve the same generated instances, in the same run, with the same strong
formulation (assignment, capacity, x_ij <= y_i, aggregate capacity cut). The
table gives each time, the ratio ``ours / HiGHS`` (below 1: we are faster) and
whether the objectives agree (relative difference).

Instances follow Cornuejols, Sridharan & Thizy (1991): sites and customers
uniform in the unit square, demand U{5..35}, capacities scaled so that total
capacity = ``ratio`` x total demand, fixed cost ~ 100 sqrt(capacity), and
assignment cost = 10 x distance x demand (whole numbers); see
``optimiser.synth.synth_facility_location``.

Run::

    python benchmarks/bench_siting_core.py            # default sizes, 2 seeds
    python benchmarks/bench_siting_core.py --quick    # smallest sizes only
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from optimiser.siting.cflp.solve import solve_facility_location
from optimiser.synth.facility import synth_facility_location

# (m sites, n customers, capacity ratio, single_source)
SIZES = [
    (16, 50, 3.0, False),
    (30, 100, 3.0, False),
    (50, 100, 3.0, False),
    (10, 50, 2.0, True),
    (15, 60, 3.0, True),
    (20, 80, 3.0, True),
]
QUICK = [(16, 50, 3.0, False), (10, 50, 2.0, True)]


def solve_highs(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    *,
    single_source: bool,
    time_limit_s: float,
) -> float:
    """Solve the same strong formulation with scipy.optimize.milp (HiGHS); return objective."""
    m, n = cost.shape
    ii, jj = np.nonzero(np.isfinite(cost))
    p = ii.size
    x = m + np.arange(p)
    rows = np.concatenate(
        [
            jj,
            n + ii,
            n + np.arange(m),
            n + m + np.arange(p),
            n + m + np.arange(p),
            np.full(m, n + m + p),
        ]
    )
    cols = np.concatenate([x, x, np.arange(m), x, ii, np.arange(m)])
    vals = np.concatenate([np.ones(p), demand[jj], -capacity, np.ones(p), -np.ones(p), capacity])
    matrix = coo_matrix((vals, (rows, cols)), shape=(n + m + p + 1, m + p)).tocsr()
    lower = np.concatenate([np.ones(n), np.full(m + p, -np.inf), [demand.sum()]])
    upper = np.concatenate([np.ones(n), np.zeros(m + p), [np.inf]])
    integrality = np.concatenate([np.ones(m), np.full(p, 1 if single_source else 0)])
    res = milp(
        np.concatenate([fixed, cost[ii, jj]]),
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-9, "time_limit": time_limit_s},
    )
    return float(res.fun) if res.x is not None else math.nan


def run(sizes: list[tuple[int, int, float, bool]], seeds: int, time_limit_s: float) -> None:
    """Time both solvers on every (size, seed) and print a table and the geometric means."""
    print(
        f"{'mode':6} {'m x n':>8} {'seed':>4} {'ours_s':>8} {'highs_s':>8} {'ratio':>6} "
        f"{'status':>8} {'engine':>6} {'rel_diff':>9}"
    )
    ratios: dict[str, list[float]] = {"split": [], "single": []}
    for m, n, cap_ratio, single in sizes:
        mode = "single" if single else "split"
        for seed in range(seeds):
            data = synth_facility_location(
                n_sites=m, n_customers=n, seed=seed, capacity_ratio=cap_ratio, cost_decimals=0
            )
            start = time.perf_counter()
            ours = solve_facility_location(*data, single_source=single, time_limit_s=time_limit_s)
            ours_s = time.perf_counter() - start
            start = time.perf_counter()
            ref = solve_highs(*data, single_source=single, time_limit_s=time_limit_s)
            highs_s = time.perf_counter() - start
            diff = abs(ours.objective - ref) / max(abs(ref), 1e-12)
            ratios[mode].append(ours_s / highs_s)
            print(
                f"{mode:6} {f'{m}x{n}':>8} {seed:4d} {ours_s:8.3f} {highs_s:8.3f} "
                f"{ours_s / highs_s:6.2f} {ours.status:>8} {ours.engine:>6} {diff:9.1e}",
                flush=True,
            )
    for mode, values in ratios.items():
        if values:
            geo = math.exp(np.mean(np.log(values)))
            print(f"geometric mean ratio ours/HiGHS, {mode}: {geo:.2f} over {len(values)} runs")


def main() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only")
    parser.add_argument("--seeds", type=int, default=2, help="instances per size (default 2)")
    parser.add_argument(
        "--time-limit-s",
        type=float,
        default=120.0,
        help="cap per solve for both solvers [s] (default 120)",
    )
    args = parser.parse_args()
    run(QUICK if args.quick else SIZES, args.seeds, args.time_limit_s)


if __name__ == "__main__":
    main()
