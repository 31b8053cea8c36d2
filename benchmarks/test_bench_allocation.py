"""Slow checks of the allocation benchmark on the "la" size (7,000 children × 300 settings).

Run with ``pytest -m slow benchmarks/test_bench_allocation.py``. They solve the
la instance once with ``optimiser.allocate`` and check it against an
independent LP (HiGHS) and against the greedy baseline of
``bench_allocation.py``; and they hold ``allocate`` to the issue's speed target at
the 20k size (within 3× of the raw OR-Tools flow on the same arcs, as a CPU-time
ratio measured in the same process).
"""

from __future__ import annotations

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
    """The issue's speed target, as a ratio measured in one process (best of 5 CPU times)."""
    ds, _, _ = bench.build_dataset("20k")
    optimiser.allocate(ds)  # warm imports and caches
    kids, arcs = bench.network_inputs(ds)
    net = build_flow_network(ds, arcs, kids)
    alloc, raw = [], []
    for _ in range(5):
        c = time.process_time()
        optimiser.allocate(ds)
        alloc.append(time.process_time() - c)
        raw.append(bench.raw_flow(net)[3])
    ratio = min(alloc) / min(raw)
    assert ratio <= bench.TARGET_RATIO_20K, f"allocate is {ratio:.1f}× the raw flow at 20k"
