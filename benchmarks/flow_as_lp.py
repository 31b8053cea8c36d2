"""The allocation network as a linear programme in HiGHS, against OR-Tools' min-cost flow.

Usage (from the repository root)::

    python benchmarks/flow_as_lp.py SIZE [--time-limit 150] [--solver choose|simplex|ipm|pdlp]

SIZE is a ``bench_allocation.py`` size (default, la, 20k, national). On the network exactly
as ``allocate`` builds it (full mainstream-duty weight W), prints the CPU seconds and
objective of OR-Tools' ``solve_max_flow_with_min_cost``, then of HiGHS on the same problem
as an LP: min cost·x subject to 0 ≤ x ≤ capacity, each supply node's net outflow in
[0, supply], each demand node's net inflow in [0, demand], transit nodes balanced, and the
supply nodes' total net outflow equal to OR-Tools' max flow value (so the LP optimum is
OR-Tools' objective when HiGHS finishes). A measure of whether an LP solver is a faster
exact path than the min-cost flow (benchmarks/results/allocation.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
for p in (HERE.parent, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import bench_allocation as bench  # noqa: E402
from duty_weight import duty_network  # noqa: E402

from optimiser._solver.flow import solve_min_cost_flow  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size")
    parser.add_argument("--time-limit", type=float, default=150.0)
    parser.add_argument("--solver", default="choose")
    args = parser.parse_args(argv)
    ds, _, _ = bench.build_dataset(args.size)
    net, _, _, _ = duty_network(ds)
    n_nodes, n_arcs = len(net.supply), len(net.tail)
    print(
        f"{args.size}: {n_nodes:,} nodes, {n_arcs:,} arcs, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    c = time.process_time()
    ref = solve_min_cost_flow(net.tail, net.head, net.capacity, net.cost, net.supply, max_flow=True)
    print(
        f"OR-Tools min-cost flow: CPU {time.process_time() - c:.1f} s, objective {ref.objective:,}",
        flush=True,
    )
    sup = net.supply.astype(float)
    from_supply = sup[net.tail] > 0
    into_supply = sup[net.head] > 0
    value = float(ref.flow[from_supply].sum() - ref.flow[into_supply].sum())
    arcs = np.arange(n_arcs)
    a = sp.csr_matrix(
        (np.r_[np.ones(n_arcs), -np.ones(n_arcs)], (np.r_[net.tail, net.head], np.r_[arcs, arcs])),
        shape=(n_nodes, n_arcs),
    )
    rows = sp.vstack([a, sp.csr_matrix(a[sup > 0].sum(axis=0))]).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_arcs, rows.shape[0]
    lp.col_cost_ = net.cost.astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n_arcs), net.capacity.astype(float)
    lp.row_lower_ = np.r_[np.where(sup > 0, 0.0, sup), value]
    lp.row_upper_ = np.r_[np.where(sup > 0, sup, 0.0), value]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        rows.indptr,
        rows.indices,
        rows.data,
    )
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", args.time_limit)
    h.setOptionValue("solver", args.solver)
    h.passModel(lp)
    c, w = time.process_time(), time.perf_counter()
    h.run()
    print(
        f"HiGHS LP ({args.solver}): CPU {time.process_time() - c:.1f} s, wall "
        f"{time.perf_counter() - w:.1f} s, {h.modelStatusToString(h.getModelStatus())}, "
        f"objective {h.getInfo().objective_function_value:,.0f}",
        flush=True,
    )
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
