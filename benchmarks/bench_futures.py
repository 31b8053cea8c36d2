"""Benchmark of ``optimiser futures``: reused-arc allocation, Dask against serial, 1,000 futures.

Usage (from the repository root)::

    nice -n 10 python benchmarks/bench_futures.py [--futures 100] [--warm 8] [--same 24]
        [--out benchmarks/results/futures.md]

On the default (Trafford) data with the three example options (baseline + 3 = 4
options) over 5 years, in ONE run:

1. **per allocation-year**: the serial loop rolls ``--warm`` futures (banks built), then
   ``--same`` more; over those, wall time per allocation-year (roll + allocation, all of
   it) against the time inside the OR-Tools flow solve alone
   (``ArcBank.flow_seconds``), in the same process. Also: ``optimiser.allocate`` on the
   base year, for scale.
2. **Dask vs serial, same work**: a LocalCluster of 2 worker processes (1 thread each);
   each worker first rolls the same ``--warm`` futures (so both sides start with built
   banks), then the same ``--same`` futures are timed on the cluster. Speed-up = serial
   time / cluster time for those futures (cluster start-up and warm-up excluded, and
   reported separately). Also in CPU seconds (``time.process_time`` in each process): on
   a shared machine the kernel shares CPU between sessions (autogroup), so this session's
   processes together get one share however many there are and the wall-clock speed-up
   cannot show; serial CPU / the busiest worker's CPU is the speed-up were each worker
   given a core.
3. **many futures**: ``--futures`` futures on the same cluster (cold start of its futures'
   numbers, i.e. what a run costs after start-up), extrapolated linearly to 1,000
   futures when ``--futures`` < 1,000 (an upper estimate: banks only get warmer); and
   from CPU time: 1,000 × the cluster's CPU per future / 2 cores.

The machine is shared: the 1-minute load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import optimiser  # noqa: E402
from optimiser.scenarios.futures.api import prepare  # noqa: E402
from optimiser.scenarios.futures.engine import (  # noqa: E402
    batches,
    local_cluster,
    run_batch,
    timed_batch,
)

OPTIONS = ("autism_base_stretford_high", "inmss_fee_cap", "all_three")
YEARS = 5


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def model():
    ds = optimiser.load_default()
    options = [optimiser.load_scenario(ROOT / "examples" / f"{o}.yaml") for o in OPTIONS]
    return prepare(ds, options, years=YEARS, seed=1)


def flow_seconds(m) -> float:
    return sum(b.flow_seconds for b in m._banks.values())


def measure(n_many: int, warm: int, same: int) -> dict[str, Any]:
    from dask.distributed import Client

    out: dict[str, Any] = {"load_start": load()}
    m = model()
    n_opt = len(m.names)
    ds = m.ds
    t = time.perf_counter()
    optimiser.allocate(ds)
    out["allocate_s"] = time.perf_counter() - t
    # 1. serial: warm, then the same futures timed
    t = time.perf_counter()
    run_batch(m, 0, warm)
    out["serial_warm_s"] = time.perf_counter() - t
    f0 = flow_seconds(m)
    t, c = time.perf_counter(), time.process_time()
    serial = run_batch(m, warm, warm + same)
    out["serial_same_s"] = time.perf_counter() - t
    out["serial_same_cpu_s"] = time.process_time() - c
    out["serial_flow_s"] = flow_seconds(m) - f0
    alloc_years = same * n_opt * (YEARS + 1)
    out["alloc_years"] = alloc_years
    out["per_alloc_year_ms"] = 1000 * out["serial_same_s"] / alloc_years
    out["per_flow_ms"] = 1000 * out["serial_flow_s"] / alloc_years
    out["keys_banked"] = sum(b.n_keys for b in m._banks.values())
    out["banks"] = len(m._banks)
    out["load_serial"] = load()
    # 2. the same futures on a LocalCluster of 2 processes
    t = time.perf_counter()
    cluster = local_cluster(2)  # as optimiser.futures starts its local cluster
    client = Client(cluster)
    out["cluster_start_s"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        shared = client.scatter(m, broadcast=True)
        workers = list(client.scheduler_info()["workers"])
        warmups = [
            client.submit(run_batch, shared, 0, warm, pure=False, workers=[w]) for w in workers
        ]
        client.gather(warmups)
        out["cluster_warm_s"] = time.perf_counter() - t
        t = time.perf_counter()
        cuts = [(warm + a, warm + b) for a, b in batches(same, 2 * 4)]
        tasks = [client.submit(timed_batch, shared, a, b, pure=False) for a, b in cuts]
        parts = client.gather(tasks)
        out["dask_same_s"] = time.perf_counter() - t
        on_cluster = np.concatenate([p[0] for p in parts])
        held = client.who_has(tasks)
        who = [next(iter(held[task.key])) for task in tasks]
        per_worker: dict[str, float] = {}
        for w, p in zip(who, parts, strict=True):
            per_worker[w] = per_worker.get(w, 0.0) + p[2]
        out["dask_same_cpu_s"] = sum(p[2] for p in parts)
        out["dask_busiest_cpu_s"] = max(per_worker.values())
        out["identical"] = bool(np.array_equal(on_cluster, serial))
        out["speedup"] = out["serial_same_s"] / out["dask_same_s"]
        out["speedup_cpu"] = out["serial_same_cpu_s"] / out["dask_busiest_cpu_s"]
        out["load_dask"] = load()
        # 3. many futures (numbers after those above: not yet rolled anywhere)
        t = time.perf_counter()
        start = warm + same
        cuts = [(start + a, start + b) for a, b in batches(n_many, 2 * 4)]
        parts = client.gather(
            [client.submit(timed_batch, shared, a, b, pure=False) for a, b in cuts]
        )
        out["many_s"] = time.perf_counter() - t
        out["many_cpu_s"] = sum(p[2] for p in parts)
        out["per_1000_cpu_two_cores_s"] = out["many_cpu_s"] * 1000 / n_many / 2
        out["many_n"] = n_many
        out["per_1000_s"] = out["many_s"] * 1000 / n_many
        out["load_end"] = load()
    finally:
        client.close()
        cluster.close()
    return out


def report(r: dict[str, Any], argv: list[str]) -> str:
    import dask
    import ortools

    tools = getattr(ortools, "__version__", "?")
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ratio = r["per_alloc_year_ms"] / r["per_flow_ms"]
    many = int(r["many_n"])
    how = "measured" if many >= 1000 else f"extrapolated ×{1000 / many:.0f} from {many} futures"
    lines = [
        "# Futures benchmark",
        "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}); "
        f"Python {platform.python_version()}, OR-Tools {tools}, Dask "
        f"{dask.__version__}; {when}. Shared machine: 1-minute load average "
        f"{r['load_start']} at the start, {r['load_serial']} after the serial part, "
        f"{r['load_dask']} after the Dask part, {r['load_end']} at the end.",
        "",
        f"Command: `nice -n 10 python benchmarks/bench_futures.py {' '.join(argv)}`",
        "",
        "Work: the default (Trafford) data, 1,164 children; baseline + 3 example options "
        f"({', '.join(OPTIONS)}); years 0-{YEARS} (6 allocation-years per option per future).",
        "",
        "| measure | figure | target |",
        "|---|---:|---|",
        f"| per allocation-year, serial, banks warm ({r['alloc_years']} allocation-years) | "
        f"{r['per_alloc_year_ms']:.1f} ms | |",
        f"| of which inside the OR-Tools flow solve | {r['per_flow_ms']:.1f} ms | |",
        f"| **per allocation-year / raw flow solve** | **{ratio:.2f}×** | ≤ 2× |",
        f"| `optimiser.allocate` on the base year, for scale | {1000 * r['allocate_s']:.0f} ms | |",
        f"| serial, {r['alloc_years'] // 24} futures × 4 options × 6 years | "
        f"{r['serial_same_s']:.1f} s | |",
        f"| LocalCluster (2 processes × 1 thread), the same futures | {r['dask_same_s']:.1f} s | |",
        f"| **Dask / serial speed-up, same work (wall)** | **{r['speedup']:.2f}×** | ≥ 1.7× |",
        f"| serial CPU; cluster CPU summed; busiest worker's CPU | {r['serial_same_cpu_s']:.1f} s;"
        f" {r['dask_same_cpu_s']:.1f} s; {r['dask_busiest_cpu_s']:.1f} s | |",
        f"| speed-up were each worker given a core (serial CPU / busiest worker CPU) | "
        f"{r['speedup_cpu']:.2f}× | ≥ 1.7× |",
        f"| same tables (array equal) | {'yes' if r['identical'] else 'NO'} | |",
        f"| {r['many_n']} futures × 4 options × 6 years on the cluster | {r['many_s']:.0f} s | |",
        f"| **1,000 futures × 4 options × 5 years** ({how}) | "
        f"**{r['per_1000_s'] / 60:.1f} min** | < 10 min |",
        f"| the same from CPU time: 1,000 × cluster CPU per future / 2 cores | "
        f"{r['per_1000_cpu_two_cores_s'] / 60:.1f} min | < 10 min |",
        "",
        f"Set-up, not in the figures above: cluster start {r['cluster_start_s']:.1f} s; "
        f"scatter + warm-up of both workers {r['cluster_warm_s']:.1f} s; serial warm-up "
        f"({r['serial_warm_s']:.1f} s) building {r['banks']} banks (option × structure), "
        f"{r['keys_banked']:,} child keys banked.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--futures", type=int, default=100)
    parser.add_argument("--warm", type=int, default=8)
    parser.add_argument("--same", type=int, default=24)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "futures.md")
    args = parser.parse_args(argv)
    r = measure(args.futures, args.warm, args.same)
    text = report(r, sys.argv[1:] if argv is None else argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
