"""National allocate in one process against the duty's two solves side by side (issue 18).

Usage (from the repository root)::

    python benchmarks/allocation_workers.py [--size national] [--rounds 3] [--out FILE.md]

Each run is a fresh Python process (so no run inherits another's heap): it builds the
size's dataset (``bench_allocation.build_dataset``), then times ``optimiser.allocate(ds,
workers=W)`` for W = 1 (the full duty weight in one process) and W = default (on a
national network: the moderate weight W' beside the forked count D* that proves it,
:mod:`optimiser._solver.bonus_flow`), alternating, ``--rounds`` times each. This process
samples the run's memory every 50 ms from ``/proc``: the proportional set size (PSS) of
the run and of its forked counter, whose sum is the physical memory both hold (pages they
share counted once), and the run's own RSS. Reported: wall and CPU seconds of allocate,
its stages, the flow method used, the peak total PSS and RSS, and whether the two
methods' objectives agree and how many children they place differently (tied optima).
Reading ``smaps_rollup`` of a 1.5 GB process costs CPU on a 2-core machine, so the timed
rounds are not sampled (their peak RSS is the run's ``ru_maxrss``); one more run of each,
sampled, gives the memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _child(size: str, workers: int | None, out: Path) -> None:
    """One run: build, allocate once, write the figures to ``out`` (JSON)."""
    for p in (ROOT, HERE):
        sys.path.insert(0, str(p))
    import bench_allocation as bench

    import optimiser
    from optimiser._solver import bonus_flow
    from optimiser.allocation import solve

    ds, _, _ = bench.build_dataset(size)
    methods: list[str] = []
    real = bonus_flow.solve_network_with_bonus

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        sol = real(*a, **kw)
        methods.append(sol.method)
        return sol

    solve.solve_network_with_bonus = spy  # type: ignore[assignment]
    print("START", flush=True)
    t, c = time.perf_counter(), time.process_time()
    res = optimiser.allocate(ds, workers=workers)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print("END", flush=True)
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pl = res.placements
    out.write_text(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "timings": res.timings_s,
                "method": methods[0] if methods else "direct (no duties)",
                "objective": res.objective,
                "placed": len(pl),
                "where": dict(
                    zip(pl["child_id"].astype(str), pl["setting_id"].astype(str), strict=True)
                ),
                "total_cost_gbp": res.kpis.get("total_cost_gbp"),
                "maxrss_mb": maxrss,
            }
        )
    )


def _pss_tree(pid: int) -> tuple[float, float]:
    """(PSS of ``pid`` and its children, RSS of ``pid``) in MiB; (0, 0) once it is gone.

    ``/proc`` counts kB of 1,024 bytes, so kB / 1024 is MiB (2**20 bytes).
    """

    def rollup(p: int) -> dict[str, float]:
        got: dict[str, float] = {}
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ("Pss", "Rss"):
                        got[key] = int(value.split()[0]) / 1024
        except OSError:
            pass
        return got

    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    me = rollup(pid)
    return me.get("Pss", 0.0) + sum(rollup(k).get("Pss", 0.0) for k in kids), me.get("Rss", 0.0)


def _run(size: str, workers: int | None, *, sampled: bool) -> dict:
    out = Path(f"/tmp/allocation_workers_{os.getpid()}.json")
    arg = "default" if workers is None else str(workers)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", size, arg, str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    peak = {"pss": 0.0, "rss": 0.0}
    sampling = threading.Event()

    def sample() -> None:
        while sampling.is_set():
            pss, rss = _pss_tree(proc.pid)
            peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    for line in proc.stdout:
        if line.startswith("START") and sampled:
            sampling.set()
            thread.start()
        elif line.startswith("END"):
            sampling.clear()
    proc.wait()
    if thread.is_alive():
        thread.join(timeout=5)
    if proc.returncode:
        raise SystemExit(f"run failed (exit {proc.returncode})")
    got = json.loads(out.read_text())
    out.unlink()
    got.update(peak_pss_mb=peak["pss"], peak_rss_mb=peak["rss"], workers=arg, sampled=sampled)
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="national")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = []
    for r in range(args.rounds + 1):
        sampled = r == args.rounds  # the last round: memory, not time
        for workers in (1, None):
            load = os.getloadavg()[0]
            got = _run(args.size, workers, sampled=sampled)
            got["load"] = load
            rows.append(got)
            t = got["timings"]
            print(
                f"{'memory' if sampled else 'round ' + str(r + 1)} workers={got['workers']}: "
                f"allocate {got['wall']:.2f} s wall, {got['cpu']:.2f} s CPU "
                f"(arcs {t['arcs']:.2f}, solve {t['solve']:.2f}), {got['method']}, "
                f"maxrss {got['maxrss_mb']:,.0f} MiB, "
                f"peak PSS {got['peak_pss_mb']:,.0f} MiB, load {load:.1f}",
                flush=True,
            )
    one = [g for g in rows if g["workers"] == "1" and not g["sampled"]]
    two = [g for g in rows if g["workers"] != "1" and not g["sampled"]]
    mem = {g["workers"]: g for g in rows if g["sampled"]}
    same = all(g["objective"] == one[0]["objective"] for g in rows)
    moved = sum(1 for c, s in two[0]["where"].items() if one[0]["where"].get(c) != s) + sum(
        1 for c in one[0]["where"] if c not in two[0]["where"]
    )
    lines = [
        f"# allocate, one process vs side by side ({args.size})",
        "",
        f"Command: `python benchmarks/allocation_workers.py --size {args.size} "
        f"--rounds {args.rounds}`; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} cores.",
        "",
        "| round | workers | flow method | allocate wall (s) | CPU (s) | arcs (s) | solve (s) "
        "| ru_maxrss, run (MiB) | load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, g in enumerate(g for g in rows if not g["sampled"]):
        t = g["timings"]
        lines.append(
            f"| {k // 2 + 1} | {g['workers']} | {g['method']} | {g['wall']:.2f} | {g['cpu']:.2f} "
            f"| {t['arcs']:.2f} | {t['solve']:.2f} | {g['maxrss_mb']:,.0f} | {g['load']:.1f} |"
        )
    lines += [
        "",
        "Memory, one more run each sampled every 50 ms (the sampling slows it): peak PSS of "
        "the run and its counter together (the physical memory both hold), and the run's "
        "own peak RSS:",
        "",
        "| workers | flow method | allocate wall (s), sampled | peak PSS, run + counter (MiB) "
        "| peak RSS, run (MiB) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, g in mem.items():
        lines.append(
            f"| {name} | {g['method']} | {g['wall']:.2f} | {g['peak_pss_mb']:,.0f} "
            f"| {g['peak_rss_mb']:,.0f} |"
        )
    lines += [
        "",
        f"Best wall: one process {min(g['wall'] for g in one):.2f} s, side by side "
        f"{min(g['wall'] for g in two):.2f} s. Objectives identical across all runs: {same}. "
        f"Children placed elsewhere (or not) side by side against one process: {moved:,} "
        f"of {one[0]['placed']:,} placed (tied optima); total_cost_gbp "
        f"{one[0]['total_cost_gbp']:,.2f} vs {two[0]['total_cost_gbp']:,.2f}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        n = None if sys.argv[3] == "default" else int(sys.argv[3])
        _child(sys.argv[2], n, Path(sys.argv[4]))
    else:
        raise SystemExit(main())
