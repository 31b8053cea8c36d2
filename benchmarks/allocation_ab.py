"""allocate ÷ the bare flow on one size, warm, for comparing two checkouts on a noisy machine.

``bench_allocation.py`` times the first few cold-process runs of each size, and on these
shared 2-core machines its la figure for the same code moved between 3.35× and 4.8×
from one run to the next. This script warms the process first (3 runs), then alternates
``allocate`` on a fresh ``ds.replace()`` with the bare OR-Tools flow of the same network,
``--runs`` times each, and prints the least CPU time of each and their ratio. Run it for
two checkouts one after the other, several times over, and compare the ratios of the same
round::

    git worktree add /tmp/old <rev>
    for i in 1 2 3; do
        PYTHONPATH=/tmp/old python /tmp/old/benchmarks/allocation_ab.py --runs 25
        PYTHONPATH=. python benchmarks/allocation_ab.py --runs 25
    done
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_allocation as bench  # noqa: E402

import optimiser  # noqa: E402
from optimiser.allocation.network import build_flow_network  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="la", choices=sorted(bench.SIZES))
    ap.add_argument("--runs", type=int, default=25)
    args = ap.parse_args()
    ds, *_ = bench.build_dataset(args.size)
    for _ in range(3):
        optimiser.allocate(ds.replace())
    kids, arcs = bench.network_inputs(ds)
    net = build_flow_network(ds, arcs, kids)
    allocate_cpu, flow_cpu = [], []
    for _ in range(args.runs):
        fresh = ds.replace()
        start = time.process_time()
        optimiser.allocate(fresh)
        allocate_cpu.append(time.process_time() - start)
        flow_cpu.append(bench.raw_flow(net)[3])
    a, f = min(allocate_cpu), min(flow_cpu)
    where = Path(optimiser.__file__).resolve().parents[1]
    print(
        f"{where}: {args.size} allocate {a * 1e3:.1f} ms, flow {f * 1e3:.1f} ms, ratio {a / f:.2f}"
    )


if __name__ == "__main__":
    main()
