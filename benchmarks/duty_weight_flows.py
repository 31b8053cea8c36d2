"""The allocation network solved with the full mainstream-duty weight W and with a moderate W'.

Usage (from the repository root)::

    python benchmarks/duty_weight_flows.py SIZE [--full] [--floor]

SIZE is a ``bench_allocation.py`` size (default, la, 20k, national). On the network exactly
as ``allocate`` builds it, prints: W, W' (twice the largest other-terms cost of a choice
arc, + 1), U (the max flow without the non-duty choice arcs: the cheap certificate of
:func:`duty_weight.solve_max_flow_min_cost_bonus`), then the CPU and wall
seconds, duties honoured, children placed and full-W cost of: the max flow at least cost
with cost −1 on the duty arcs (its duties are D*, the exact certificate), the W' solve and
(``--full``) the full-W solve and (``--floor``) the solve with no duty weight at all (not
the model: the floor of any duty weight on this network).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for p in (HERE.parent, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import bench_allocation as bench  # noqa: E402
from duty_weight import duty_network, max_flow_value  # noqa: E402

from optimiser._solver.flow import solve_min_cost_flow  # noqa: E402


def main(argv: list[str]) -> int:
    size = argv[0]
    ds, _, _ = bench.build_dataset(size)
    net, duty, rival, weight = duty_network(ds)
    n = len(net.tail)
    other = net.cost[: net.n_choice] + np.where(duty[: net.n_choice], weight, 0)
    moderate = int(2 * np.abs(other).max(initial=0) + 1)
    print(
        f"{size}: {n:,} arcs, W {weight:,}, W' {moderate:,}, {int(duty.sum()):,} duty arcs, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    keep = ~rival
    c = time.process_time()
    bound = max_flow_value(net.tail[keep], net.head[keep], net.capacity[keep], net.supply)
    print(f"U = {bound:,} (CPU {time.process_time() - c:.2f} s)", flush=True)

    def run(name: str, cost: np.ndarray) -> None:
        c, w = time.process_time(), time.perf_counter()
        flow = solve_min_cost_flow(
            net.tail, net.head, net.capacity, cost, net.supply, max_flow=True
        ).flow
        print(
            f"{name}: CPU {time.process_time() - c:.2f} s, wall {time.perf_counter() - w:.2f} s, "
            f"duties {int(flow[duty].sum()):,}, placed {int(flow[: net.n_choice].sum()):,}, "
            f"full-W cost {int(np.dot(net.cost, flow)):,}",
            flush=True,
        )

    run("cost -1 on duty arcs (D*)", -duty.astype(np.int64))
    run("W'", net.cost + np.where(duty, weight - moderate, 0))
    if "--full" in argv:
        run("full W", net.cost)
    if "--floor" in argv:  # not the model: what the flow costs with no duty weight at all
        run("no duty weight (W = 0)", net.cost + np.where(duty, weight, 0))
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
