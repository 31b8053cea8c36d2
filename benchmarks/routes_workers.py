"""The default route estimate searched in one process and in parallel, on the same allocation.

Usage (from the repository root)::

    python benchmarks/routes_workers.py [--sizes default,5k] [--rounds 2]

For each SEN data set of ``bench_routes_reference.py`` (``default``: the embedded Trafford
data; ``5k``: the synthetic area), runs ``estimate_routes`` with ``workers=1`` and with
``workers=None`` (one process per core), alternating, ``--rounds`` times each, and prints
the wall seconds of each run, the ratio parallel ÷ one process (the least of each) and
whether the two plans are identical (routes and riders, cell for cell; they must be).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (HERE.parent, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_routes_reference import build  # noqa: E402

import optimiser  # noqa: E402
from optimiser.transport.routes import estimate_routes  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,5k")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    print(f"cores {cores}, load {os.getloadavg()[0]:.1f}, nice {os.nice(0)}", flush=True)
    same = True
    for size in args.sizes.split(","):
        ds = build(size)
        res = optimiser.allocate(ds)
        times: dict[str, list[float]] = {"one process": [], "parallel": []}
        plans = {}
        for _ in range(args.rounds):
            for name, workers in (("one process", 1), ("parallel", None)):
                t = time.perf_counter()
                plan = estimate_routes(ds, res, workers=workers)
                times[name].append(time.perf_counter() - t)
                plans[name] = plan
        a, b = plans["one process"], plans["parallel"]
        identical = a.routes.equals(b.routes) and a.riders.equals(b.riders)
        same &= identical
        one, par = min(times["one process"]), min(times["parallel"])
        print(
            f"{size}: one process {', '.join(f'{t:.1f}' for t in times['one process'])} s; "
            f"parallel {', '.join(f'{t:.1f}' for t in times['parallel'])} s; "
            f"parallel ÷ one {par / one:.2f}; cost £{a.summary['cost_gbp']:,.0f} / "
            f"£{b.summary['cost_gbp']:,.0f}; plans identical: {identical}",
            flush=True,
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
