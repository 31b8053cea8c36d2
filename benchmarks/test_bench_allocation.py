"""Slow checks of the allocation benchmark on the "la" size (7,000 children × 300 settings).

Run with ``pytest -m slow benchmarks/test_bench_allocation.py``. They solve the
la instance once with ``optimiser.allocate`` and check it against an
independent LP (HiGHS) and against the greedy baseline of
``bench_allocation.py``; and they hold ``allocate`` to issue 18's speed targets:
within 3× of the raw OR-Tools flow on the same arcs at the la and 20k sizes (a
CPU-time ratio measured in the same process, each allocate on a fresh
``ds.replace()`` so no derived table is reused), and the national instance
(250,000 children, 4 M arcs) under 15 s wall as it runs by default and under 1.5 GB peak
RSS in one process (``workers=1``).
The national check takes minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_allocation as bench  # noqa: E402
import national  # noqa: E402

import optimiser  # noqa: E402
from optimiser.allocation.network import build_flow_network  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def la():
    """The la dataset, its allocation and the model's own arcs and network."""
    ds, _, _ = bench.build_dataset("la")
    res = optimiser.allocate(ds)
    kids, arcs = bench.network_inputs(ds)
    net = build_flow_network(ds, arcs, kids)
    return ds, res, kids, arcs, net


def test_built_dataset_types_match_load_dataset(la, tmp_path):
    ds = la[0]
    optimiser.save_dataset(ds, tmp_path / "la")
    loaded = optimiser.load_dataset(tmp_path / "la")
    for name in ("children", "settings", "places", "packages"):
        built, read = getattr(ds, name), getattr(loaded, name)
        assert list(built.columns) == list(read.columns), name
        for col in built.columns:
            assert built[col].dtype == read[col].dtype, (name, col)


def test_la_objective_equals_highs_lp(la):
    ds, res, kids, _, net = la
    lp = bench.highs_lp(net, len(kids))
    new = res.placements[~res.placements["continuing"].astype(bool)]
    assert lp["max_fractional"] < 1e-6  # network LP: integral optimum
    assert lp["placed"] == len(new)
    assert lp["objective"] == pytest.approx(float(new["arc_cost"].sum()), abs=0.5)
    kept = float(res.placements.loc[res.placements["continuing"].astype(bool), "arc_cost"].sum())
    total = lp["objective"] + kept + len(res.unplaced) * ds.policy.unplaced_penalty_gbp
    assert res.objective == pytest.approx(total, abs=0.5)


def test_la_greedy_never_cheaper(la):
    ds, res, kids, arcs, net = la
    g = bench.greedy(ds, kids, arcs)
    new = res.placements[~res.placements["continuing"].astype(bool)]
    # allocate places as many children as any rule can, and no rule beats its objective
    assert g["placed"] <= len(res.placements)
    assert g["objective"] >= res.objective - 0.5
    # among equal placed counts: the optimum at the greedy's own count is no dearer
    best = bench.min_cost_at_count(net, g["new_placed"])
    assert g["arc_cost"] >= best
    # and in money alone (place + transport), no cheaper than the least-cost placement
    free = arcs[~arcs["fixed"].to_numpy(bool)]
    money = np.rint(free["place_cost_gbp"] + free["transport_cost_gbp"]).to_numpy(np.int64)
    least = bench.min_cost_at_count(net, g["new_placed"], money)
    assert g["new_money_gbp"] >= least - 0.5 * g["new_placed"]  # rounding of each arc
    if g["placed"] == len(res.placements):
        assert g["arc_cost"] >= float(new["arc_cost"].sum()) - 0.5


def test_national_builder_small_validates():
    ds = national.build_national(n_children=3_000, seed=7)
    optimiser.validate(ds)
    assert len(ds.children) == 3_000
    assert set(ds.settings["setting_type"]) >= {
        "maintained_special",
        "independent_special",
        "inclusion_base",
    }


def test_20k_allocate_within_target_of_raw_flow():
    """The speed target at 20k, as a ratio measured in one process (best of 5 CPU times)."""
    ratio = _cold_ratio("20k")
    assert ratio <= bench.TARGET_RATIO_20K, f"allocate is {ratio:.1f}× the raw flow at 20k"


def _cold_ratio(size: str) -> float:
    """Best-of-5 CPU time of allocate (fresh dataset each run) over that of the raw flow."""
    ds, _, _ = bench.build_dataset(size)
    optimiser.allocate(ds.replace())  # warm imports
    kids, arcs = bench.network_inputs(ds)
    net = build_flow_network(ds, arcs, kids)
    alloc, raw = [], []
    for _ in range(5):
        fresh = ds.replace()  # no table derived by an earlier run
        c = time.process_time()
        optimiser.allocate(fresh)
        alloc.append(time.process_time() - c)
        raw.append(bench.raw_flow(net)[3])
    return min(alloc) / min(raw)


def test_la_allocate_within_target_of_raw_flow():
    """Issue 18: LA-size allocate (checker included) ≤ 3× the bare min-cost flow."""
    ratio = _cold_ratio("la")
    assert ratio <= bench.TARGET_RATIO_LA, f"allocate is {ratio:.1f}× the raw flow at la size"


_NATIONAL = """
import json, os, resource, sys, time
sys.path.insert(0, {here!r})
import bench_allocation as bench
import optimiser
ds, _, _ = bench.build_dataset("national")
t, c = time.perf_counter(), os.times()
res = optimiser.allocate(ds, workers={workers})
wall, e = time.perf_counter() - t, os.times()
cpu = e.user + e.system - c.user - c.system
counter = e.children_user + e.children_system - c.children_user - c.children_system
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(dict(wall=wall, cpu=cpu, counter_cpu=counter, rss_mb=rss,
                                  load=os.getloadavg()[0], arcs=len(res.options))))
"""


def _national(workers: int | None) -> dict:
    """allocate on the national instance in a fresh process: wall, CPU, peak RSS."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    proc = subprocess.run(
        [sys.executable, "-c", _NATIONAL.format(here=str(HERE), workers=workers)],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines()[::-1] if ln.startswith("RESULT "))
    r = json.loads(line.removeprefix("RESULT "))
    assert r["arcs"] > 3_500_000  # the national size: about 4 M arcs
    return r


def test_national_under_15_s():
    """Issue 18: national allocate < 15 s wall, as it runs by default (two cores).

    By default the national flow runs its moderate duty weight beside a forked counter
    that proves it exact (optimiser/_solver/bonus_flow.py), so wall time is the measure;
    the CPU of both processes is in the message. Needs two free cores.
    """
    r = _national(None)
    seen = (
        f"wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s + counter {r['counter_cpu']:.1f} s, "
        f"load {r['load']:.1f}"
    )
    assert r["wall"] < bench.TARGET_NATIONAL_S, seen


def test_national_in_one_process_under_1_5_gb():
    """Issue 18: national allocate in one process (``workers=1``) peaks under 1.5 GB RSS.

    The default side-by-side flow holds ~0.4 GB more in its counter process; both
    together are measured by ``benchmarks/allocation_workers.py`` (PSS), not held here.
    """
    r = _national(1)
    assert r["counter_cpu"] == 0  # one process: nothing forked
    assert r["rss_mb"] / 1024 < bench.TARGET_NATIONAL_GB, f"peak RSS {r['rss_mb']:,.0f} MB"
