"""Allocation on hand-solvable cases: every optimum below is worked out by hand in the comments.

Cases are written as CSV into ``tmp_path`` and read through :func:`optimiser.load_dataset`,
so column types and defaults are the loader's. Unless a case says otherwise the policy is the
default: road km = straight km × 1.3, 24 km/h (so 1 road km = 2.5 min), transport
= 2 × road miles × 190 days × £2.60 (shared) / £3.50 (solo), preference penalties 0/3000/6000,
unranked 10000, mainstream duty ≥ 50000, caps 45 min primary (< 11) / 75 min secondary.

Transport is pinned to the flat per-pupil-mile model so that the hand values stay simple
whatever the default transport calibration is: every child is eligible (no walking-distance
test), shared modes £2.60 and solo taxi £3.50 per pupil-mile, no fixed daily charge
(``FLAT_TRANSPORT``; the tiny fixture gets it through ``tiny_flat``).

Useful hand values (1 mile = 1.609344 km):
  shared transport per straight km = 2 × 1.3 / 1.609344 × 190 × 2.6 = £798.0892 (→ 798.09)
  solo transport per straight km   = 2 × 1.3 / 1.609344 × 190 × 3.5 = £1074.3508 (→ 1074.35)
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import DESIGN_KPIS, FLAT_TRANSPORT

import optimiser
from optimiser.allocation import network
from optimiser.allocation import unplaced as unplaced_module
from optimiser.allocation.arcs import build_arcs, child_frame
from optimiser.allocation.network import build_flow_network, residual_capacities

MILE_KM = 1.609344
SHARED_PER_KM = 2 * 1.3 / MILE_KM * 190 * 2.6  # £798.0892 per straight km, default policy
SOLO_PER_KM = 2 * 1.3 / MILE_KM * 190 * 3.5  # £1074.3508

OPTION_COLUMNS = [
    "child_id",
    "setting_id",
    "package_id",
    "place_cost_gbp",
    "transport_cost_gbp",
    "distance_km",
    "travel_min",
    "preference_rank",
    "arc_cost",
]
PLACEMENT_COLUMNS = [
    "child_id",
    "setting_id",
    "package_id",
    "place_cost_gbp",
    "transport_cost_gbp",
    "distance_km",
    "travel_min",
    "preference_rank",
]

E0, N0 = 380000.0, 395000.0  # a point in Trafford (BNG metres)


_SETTING = dict(
    name="setting",
    setting_type="maintained_special",
    easting=E0,
    northing=N0,
    age_min=4,
    age_max=19,
    total_places=10,
)
_CHILD = dict(
    package_id="P1",
    age=8,
    easting=E0,
    northing=N0,
    preferences="",
    prefers_mainstream=False,
    current_setting_id="",
    solo_transport=False,
)


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(value)
    return value


def _write(rows: list[dict], defaults: dict, path: Path) -> None:
    rows = [{k: _cell(v) for k, v in {**defaults, **r}.items()} for r in rows]
    pd.DataFrame(rows).to_csv(path, index=False, lineterminator="\n")


def write_case(
    folder: Path,
    *,
    settings: list[dict],
    places: list[dict],
    children: list[dict],
    policy: dict | None = None,
) -> Path:
    """A dataset folder: unspecified setting/child columns take the defaults above."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(settings, _SETTING, folder / "settings.csv")
    _write(places, {"annual_cost_gbp": ""}, folder / "places.csv")
    _write(children, _CHILD, folder / "children.csv")
    packages = sorted(
        {p["package_id"] for p in places} | {c.get("package_id", "P1") for c in children}
    )
    _write(
        [{"package_id": p, "name": f"package {p}"} for p in packages], {}, folder / "packages.csv"
    )
    policy = {"transport": FLAT_TRANSPORT, **(policy or {})}
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    return folder


@pytest.fixture
def case(tmp_path: Path):
    """Factory: write a case and return it as an ``optimiser.Dataset`` (frames from the loader)."""
    count = iter(range(1000))

    def make(**kw) -> optimiser.Dataset:
        loaded = optimiser.load_dataset(write_case(tmp_path / f"case{next(count)}", **kw))
        return optimiser.Dataset(
            children=loaded.children,
            settings=loaded.settings,
            places=loaded.places,
            packages=loaded.packages,
            policy=loaded.policy,
            costing=loaded.costing,
        )

    return make


@pytest.fixture
def tiny_flat(tiny) -> optimiser.Dataset:
    """The tiny Dataset with the flat transport model above."""
    return tiny.replace(
        policy=optimiser.Policy(**{**tiny.policy.model_dump(), "transport": FLAT_TRANSPORT})
    )


def where(res: optimiser.AllocationResult) -> dict[str, str]:
    """child_id → setting_id of the placements."""
    return dict(zip(res.placements["child_id"], res.placements["setting_id"], strict=True))


def reasons(res: optimiser.AllocationResult) -> dict[str, str]:
    return dict(zip(res.unplaced["child_id"], res.unplaced["reason"], strict=True))


# --------------------------------------------------------------------------- the tiny fixture
#
# Settings: S1 maintained_special (380000, 395000), ages 4-19, total 3, P1 ×2 @ £26000
#           (framework), P2 ×2 @ £28000 (framework); S2 inclusion_base (383000, 395000), ages
#           4-11, total 2, P1 ×2 @ £15000 (framework); S3 independent_special (400000, 395000),
#           ages 5-19, total 10, P1 ×5 @ £60000, P2 ×5 @ £65000 (own fees).
# Children (straight km to S1 / S2 / S3):
#   C1 P1 age 6,  prefs S2;S1        1      / 2      / 19     (S3 > 13.85 km primary radius)
#   C2 P1 age 9,  prefers mainstream 2      / 1      / 18     (S3 out of reach)
#   C3 P1 age 13                     0.7071 / (age)  / 19.5064 (secondary radius 23.08 km)
#   C4 P2 age 12, continuing at S1   1 (kept: its only arc)
#   C5 P2 age 8,  solo               1      / (no P2) / 20.025 (out of reach)
#   C6 P1 age 7,  prefs S3           4.1231 / 1.4142 / 16.0312 (beyond the cap but ranked)
# Arc costs (place + transport to 2 dp + preference), whole pounds:
TINY_OPTIONS = [
    # child, setting, pkg, place, transport, road km, min, rank, arc_cost
    ("C1", "S1", "P1", 26000.0, 798.09, 1.3, 3.25, 2.0, 29798),  # 26000+798.09+3000
    ("C1", "S2", "P1", 15000.0, 1596.18, 2.6, 6.5, 1.0, 16596),  # 15000+1596.18
    ("C2", "S1", "P1", 26000.0, 1596.18, 2.6, 6.5, np.nan, 27596),  # special: no duty term
    ("C2", "S2", "P1", 15000.0, 798.09, 1.3, 3.25, np.nan, -219034),  # 15798.09 − W (234832)
    ("C3", "S1", "P1", 26000.0, 564.33, 0.919239, 2.298097, np.nan, 26564),
    ("C3", "S3", "P1", 60000.0, 15567.85, 25.358332, 63.395830, np.nan, 75568),
    ("C4", "S1", "P2", 28000.0, 798.09, 1.3, 3.25, np.nan, 28798),  # continuing: penalty 0
    ("C5", "S1", "P2", 28000.0, 1074.35, 1.3, 3.25, np.nan, 29074),  # solo rate
    ("C6", "S1", "P1", 26000.0, 3290.61, 5.360037, 13.400093, np.nan, 39291),  # +10000 unranked
    ("C6", "S2", "P1", 15000.0, 1128.67, 1.838478, 4.596194, np.nan, 26129),  # +10000 unranked
    ("C6", "S3", "P1", 60000.0, 12794.34, 20.840585, 52.101464, 1.0, 72794),
]
# Mainstream-duty weight W = max(50000, ceil(Σ M_i) + 1), M_i = child i's largest arc cost
# before the duty, over the children being placed:
#   C1 29798.09; C2 27596.18; C3 75567.85; C5 29074.35; C6 72794.34
#   Σ = 234830.81 → W = 234832.
TINY_W = 234832.0


def test_tiny_arc_costs_by_hand(tiny_flat):
    got = optimiser.options(tiny_flat)
    expected = pd.DataFrame(TINY_OPTIONS, columns=OPTION_COLUMNS)
    assert list(got.columns) == OPTION_COLUMNS
    pd.testing.assert_frame_equal(
        got.drop(columns="arc_cost"),
        expected.drop(columns="arc_cost"),
        check_dtype=False,
        atol=1e-6,
        rtol=0,
    )
    assert got["arc_cost"].tolist() == expected["arc_cost"].tolist()
    # the transport formula itself, unrounded: 1 straight km = £798.0892, solo £1074.3508
    assert SHARED_PER_KM == pytest.approx(798.0892, abs=1e-4)
    assert SOLO_PER_KM == pytest.approx(1074.3508, abs=1e-4)


def test_tiny_optimum(tiny_flat):
    # Residual places: C4 keeps S1/P2, so S1 has 2 places left (P1 2, P2 1).
    # C5 has one arc (S1, 29074) → S1 has one P1 place left. C2 takes S2 (the duty makes S1
    # cost W more). The last S2 place and the last S1 place go to two of C1, C3, C6:
    #   C1@S2 + C3@S1 + C6@S3 = 16596 + 26564 + 72794 = 115954   ← best
    #   C6@S2 + C1@S1 + C3@S3 = 26129 + 29798 + 75568 = 131495
    #   C1@S2 + C6@S1 + C3@S3 = 16596 + 39291 + 75568 = 131455
    # Objective = 115954 + (15798 − 234832 = −219034) (C2) + 29074 (C5) + 28798 (C4) = −45208.
    res = optimiser.allocate(tiny_flat)
    assert where(res) == {"C1": "S2", "C2": "S2", "C3": "S1", "C4": "S1", "C5": "S1", "C6": "S3"}
    assert res.unplaced.empty
    assert res.objective == -45208.0
    assert res.duty_weight_gbp == TINY_W
    assert res.placements.set_index("child_id")["continuing"].to_dict() == {
        "C1": False,
        "C2": False,
        "C3": False,
        "C4": True,
        "C5": False,
        "C6": False,
    }
    assert optimiser.check_allocation(tiny_flat, res) == []
    # one of six placements is INMSS (C6 at S3, £60000)
    assert res.kpis["inmss_children"] == 1.0
    assert res.kpis["inmss_share"] == pytest.approx(1 / 6)
    assert res.kpis["inmss_cost_gbp"] == 60000.0
    # place cost 15000+15000+26000+28000+28000+60000; ranked children C1 (S2 rank 1), C6 (S3 rank 1)
    assert res.kpis["place_cost_gbp"] == 172000.0
    assert res.kpis["first_preference_share"] == 1.0


def test_tiny_residual_capacities(tiny_flat):
    places, total, cap = residual_capacities(tiny_flat, child_frame(tiny_flat))
    assert places[("S1", "P2")] == 1 and places[("S1", "P1")] == 2  # C4 keeps one P2 place
    assert total["S1"] == 2 and total["S2"] == 2 and total["S3"] == 10
    assert cap is None


# --------------------------------------------------------------------------- constraint families


def _package_capacity_case(case) -> optimiser.Dataset:
    """S (380000) P1 ×1 @ 20000; T (382000) P1 ×5 @ 30000. K1 at 380000, K2 at 381000."""
    return case(
        settings=[dict(setting_id="S"), dict(setting_id="T", easting=E0 + 2000)],
        places=[
            dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=20000),
            dict(setting_id="T", package_id="P1", places=5, annual_cost_gbp=30000),
        ],
        children=[dict(child_id="K1"), dict(child_id="K2", easting=E0 + 1000)],
    )


def _total_places_case(case) -> optimiser.Dataset:
    """S: P1 ×2 @ 20000, P2 ×2 @ 25000 but total_places 2; T (2 km): P1, P2 @ 30000."""
    return case(
        settings=[dict(setting_id="S", total_places=2), dict(setting_id="T", easting=E0 + 2000)],
        places=[
            dict(setting_id="S", package_id="P1", places=2, annual_cost_gbp=20000),
            dict(setting_id="S", package_id="P2", places=2, annual_cost_gbp=25000),
            dict(setting_id="T", package_id="P1", places=5, annual_cost_gbp=30000),
            dict(setting_id="T", package_id="P2", places=5, annual_cost_gbp=30000),
        ],
        children=[dict(child_id="A"), dict(child_id="B"), dict(child_id="C", package_id="P2")],
    )


def test_package_capacity_binds(case):
    # S (380000) P1 ×1 @ 20000; T (382000) P1 ×5 @ 30000. K1 at 380000, K2 at 381000.
    #   K1@S 20000, K1@T 30000+1596.18 = 31596; K2@S 20000+798.09 = 20798, K2@T 30798.
    #   K1@S + K2@T = 50798 < K2@S + K1@T = 52394. Without the cap both at S (40798).
    ds = _package_capacity_case(case)
    res = optimiser.allocate(ds)
    assert where(res) == {"K1": "S", "K2": "T"}
    assert res.objective == 50798.0


def test_total_places_below_package_places(case):
    # S: P1 ×2 @ 20000, P2 ×2 @ 25000 but total_places 2; T (2 km): P1, P2 @ 30000.
    # All three children at S. Saving of S over T: P1 child 31596.18−20000 = 11596.18,
    # P2 child 31596.18−25000 = 6596.18 → the two P1 children get S's two places.
    # Objective 20000 + 20000 + 31596 = 71596 (65000 if total_places were ignored).
    ds = _total_places_case(case)
    res = optimiser.allocate(ds)
    assert where(res) == {"A": "S", "B": "S", "C": "T"}
    assert res.objective == 71596.0


def test_age_range_inclusive(case):
    # Y (ages 11-16, £10000) and O (ages 4-19, £30000) at the children's home.
    ds = case(
        settings=[dict(setting_id="Y", age_min=11, age_max=16), dict(setting_id="O")],
        places=[
            dict(setting_id="Y", package_id="P1", places=9, annual_cost_gbp=10000),
            dict(setting_id="O", package_id="P1", places=9, annual_cost_gbp=30000),
        ],
        children=[
            dict(child_id="A10", age=10),
            dict(child_id="A11", age=11),
            dict(child_id="A16", age=16),
            dict(child_id="A17", age=17),
        ],
    )
    opts = optimiser.options(ds)
    assert set(opts.loc[opts["setting_id"] == "Y", "child_id"]) == {"A11", "A16"}
    res = optimiser.allocate(ds)
    assert where(res) == {"A10": "O", "A11": "Y", "A16": "Y", "A17": "O"}
    assert res.objective == 80000.0  # 30000 + 10000 + 10000 + 30000


def test_journey_cap_boundary_is_eligible(case):
    # detour 1.0, 24 km/h: 45 min ↔ 18 km, 75 min ↔ 30 km, exactly representable.
    # A (8) at 18.000 km → 45.0 min: eligible; B (8) at 18.001 km → 45.0025 min: not;
    # C (12) at 30 km → 75.0 min: eligible; D (12) at 30.001 km: not;
    # E (8) at 30 km ranks S → eligible beyond its 45-min cap (rank 1).
    ds = case(
        policy={"detour_factor": 1.0},
        settings=[dict(setting_id="S")],
        places=[dict(setting_id="S", package_id="P1", places=9, annual_cost_gbp=20000)],
        children=[
            dict(child_id="A", easting=E0 - 18000),
            dict(child_id="B", easting=E0 - 18001),
            dict(child_id="C", age=12, easting=E0 - 30000),
            dict(child_id="D", age=12, easting=E0 - 30001),
            dict(child_id="E", easting=E0 - 30000, preferences="S"),
        ],
    )
    opts = optimiser.options(ds).set_index("child_id")
    assert sorted(opts.index) == ["A", "C", "E"]
    assert opts.loc["A", "travel_min"] == 45.0 and opts.loc["C", "travel_min"] == 75.0
    assert opts.loc["E", "preference_rank"] == 1.0
    # transport at detour 1.0: 2 × 18 / 1.609344 × 190 × 2.6 = 2 × 11.18468 × 494 = 11050.47
    assert opts.loc["A", "transport_cost_gbp"] == round(2 * 18 / MILE_KM * 190 * 2.6, 2) == 11050.47
    res = optimiser.allocate(ds)
    assert sorted(where(res)) == ["A", "C", "E"]
    assert reasons(res) == {
        "B": "no eligible setting within the 45-minute journey cap "
        "(nearest of 1 settings delivering P1: 45 min)",
        "D": "no eligible setting within the 75-minute journey cap "
        "(nearest of 1 settings delivering P1: 75 min)",
    }


def test_journey_exactly_at_cap_with_default_detour(case):
    # 45 min at 24 km/h ÷ 1.3 = 13846.153846… m straight. The setting below is that far
    # from the child to the last bit: the arcs compute travel_min == 45.0 (≤ the cap), but
    # the straight line is 13846.153846153848 m, one ulp over the KD-tree radius
    # 13846.153846153846 m, so the pair is pruned. (Coordinates set after loading: a CSV
    # round trip could move them by an ulp.)
    ds = case(
        settings=[dict(setting_id="S")],
        places=[dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=20000)],
        children=[dict(child_id="A")],
    )
    sx, sy = 393845.98076959135, 395069.2304807696
    ds = ds.replace(settings=ds.settings.assign(easting=sx, northing=sy))
    assert math.hypot(sx - E0, sy - N0) / 1000 * 1.3 / 24 * 60 == 45.0
    assert list(optimiser.options(ds)["child_id"]) == ["A"]


def test_ranked_preference_beyond_cap_is_eligible(case):
    # Near (1 km) P1 @ 40000; Far (20 km: 26 road km, 65 min > 45) @ 20000.
    # A ranks Far: arc 20000 + 20 × 798.0892 = 20000 + 15961.78 = 35962 (rank 1), beats
    #   Near 40000 + 798.09 + 10000 unranked = 50798.
    # B ranks nothing: Far is out of reach, so B takes Near (40798).
    ds = case(
        settings=[
            dict(setting_id="Near", easting=E0 + 1000),
            dict(setting_id="Far", easting=E0 + 20000),
        ],
        places=[
            dict(setting_id="Near", package_id="P1", places=5, annual_cost_gbp=40000),
            dict(setting_id="Far", package_id="P1", places=5, annual_cost_gbp=20000),
        ],
        children=[dict(child_id="A", preferences="Far"), dict(child_id="B")],
    )
    opts = optimiser.options(ds)
    pairs = set(zip(opts["child_id"], opts["setting_id"], strict=True))
    assert pairs == {("A", "Near"), ("A", "Far"), ("B", "Near")}
    far = opts[(opts["child_id"] == "A") & (opts["setting_id"] == "Far")].iloc[0]
    assert far["travel_min"] == pytest.approx(65.0) and far["arc_cost"] == 35962
    res = optimiser.allocate(ds)
    assert where(res) == {"A": "Far", "B": "Near"}
    assert res.objective == 35962.0 + 40798.0


def test_closed_setting_takes_no_one_and_its_children_are_replaced(case):
    # S is closed (cheap, £10000); T 1 km away @ 30000. K1 continues at S, K2 is new.
    # Both must go to T: 2 × (30000 + 798.09) → 2 × 30798 = 61596.
    ds = case(
        settings=[dict(setting_id="S", closed=True), dict(setting_id="T", easting=E0 + 1000)],
        places=[
            dict(setting_id="S", package_id="P1", places=5, annual_cost_gbp=10000),
            dict(setting_id="T", package_id="P1", places=5, annual_cost_gbp=30000),
        ],
        children=[dict(child_id="K1", current_setting_id="S"), dict(child_id="K2")],
    )
    assert "S" not in set(optimiser.options(ds)["setting_id"])
    res = optimiser.allocate(ds)
    assert where(res) == {"K1": "T", "K2": "T"}
    assert not res.placements["continuing"].any()
    assert res.objective == 61596.0


def _continuity_case(case, continuity: str) -> optimiser.Dataset:
    # S P1 ×1 @ 40000 (ages 4-11); T (2 km) P1 ×5 @ 20000. K1 (age 8) continues at S; K2 new;
    # K3 (age 15) continues at S as well though S's age range is 4-11 and S has one place.
    return case(
        policy={"continuity": continuity},
        settings=[
            dict(setting_id="S", age_max=11, total_places=1),
            dict(setting_id="T", easting=E0 + 2000),
        ],
        places=[
            dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=40000),
            dict(setting_id="T", package_id="P1", places=5, annual_cost_gbp=20000),
        ],
        children=[
            dict(child_id="K1", current_setting_id="S"),
            dict(child_id="K2"),
            dict(child_id="K3", age=15, current_setting_id="S"),
        ],
    )


def test_continuity_keep(case):
    # keep: K1 and K3 stay at S (their only arcs, cost 40000 each, no preference penalty),
    # even over S's single place and K3's age; S's places are used up first, so K2 goes
    # to T: 20000 + 2 × 798.09 = 21596. Objective 40000 + 40000 + 21596 = 101596.
    ds = _continuity_case(case, "keep")
    opts = optimiser.options(ds)
    assert opts.loc[opts["child_id"] == "K1", "setting_id"].tolist() == ["S"]
    assert opts.loc[opts["child_id"] == "K3", "setting_id"].tolist() == ["S"]
    res = optimiser.allocate(ds)
    assert where(res) == {"K1": "S", "K2": "T", "K3": "S"}
    assert res.placements.set_index("child_id")["continuing"].to_dict() == {
        "K1": True,
        "K2": False,
        "K3": True,
    }
    assert res.objective == 101596.0
    assert optimiser.check_allocation(ds, res) == []


def test_continuity_free(case):
    # free: everyone is re-placed. K1, K2 may use S (40000) or T (21596); K3 (15) only T.
    # T is cheaper for all: 3 × 21596 = 64788.
    res = optimiser.allocate(_continuity_case(case, "free"))
    assert where(res) == {"K1": "T", "K2": "T", "K3": "T"}
    assert not res.placements["continuing"].any()
    assert res.objective == 64788.0


def _inmss_case(case, *, cap: int | None, continuing: bool) -> optimiser.Dataset:
    # X independent_special @ 20000, N nmss @ 21000, M maintained_special @ 40000, all at home.
    kids = [dict(child_id=f"K{i}") for i in (1, 2, 3)]
    if continuing:
        kids.append(dict(child_id="K0", current_setting_id="X"))
    return case(
        policy={"inmss_max_places": cap},
        settings=[
            dict(setting_id="X", setting_type="independent_special"),
            dict(setting_id="N", setting_type="nmss"),
            dict(setting_id="M"),
        ],
        places=[
            dict(setting_id="X", package_id="P1", places=5, annual_cost_gbp=20000),
            dict(setting_id="N", package_id="P1", places=5, annual_cost_gbp=21000),
            dict(setting_id="M", package_id="P1", places=5, annual_cost_gbp=40000),
        ],
        children=kids,
    )


def test_inmss_group_cap(case):
    # No cap: all three at X = 60000. Cap 1: one at X, two at M = 20000 + 80000 = 100000.
    assert optimiser.allocate(_inmss_case(case, cap=None, continuing=False)).objective == 60000.0
    res = optimiser.allocate(_inmss_case(case, cap=1, continuing=False))
    assert sorted(where(res).values()) == ["M", "M", "X"]
    assert res.objective == 100000.0
    assert res.kpis["inmss_children"] == 1.0


def test_inmss_cap_counts_continuing_children(case):
    # K0 continues at X and uses the single INMSS place: K1-K3 all go to M.
    # 20000 + 3 × 40000 = 140000.
    res = optimiser.allocate(_inmss_case(case, cap=1, continuing=True))
    assert where(res) == {"K0": "X", "K1": "M", "K2": "M", "K3": "M"}
    assert res.objective == 140000.0


def _duty_case(case, *, wants: bool, base_age_max: int = 19) -> optimiser.Dataset:
    # B inclusion_base @ 90000 and S special @ 20000, both at the child's home.
    return case(
        settings=[
            dict(setting_id="B", setting_type="inclusion_base", age_max=base_age_max),
            dict(setting_id="S"),
        ],
        places=[
            dict(setting_id="B", package_id="P1", places=1, annual_cost_gbp=90000),
            dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=20000),
        ],
        children=[dict(child_id="K", prefers_mainstream=wants)],
    )


def test_mainstream_duty_beats_cheaper_special_place(case):
    # Largest cost 90000 → W = max(50000, 90000 + 1) = 90001.
    # B costs 90000 − 90001 = −1 < S 20000: the child goes to the inclusion base.
    ds = _duty_case(case, wants=True)
    opts = optimiser.options(ds).set_index("setting_id")
    assert opts.loc["S", "arc_cost"] == 20000 and opts.loc["B", "arc_cost"] == -1
    res = optimiser.allocate(ds)
    assert where(res) == {"K": "B"}
    assert res.duty_weight_gbp == 90001.0
    assert res.objective == -1.0


def test_mainstream_duty_off_when_not_preferred_or_not_available(case):
    res = optimiser.allocate(_duty_case(case, wants=False))
    assert where(res) == {"K": "S"} and res.objective == 20000.0 and res.duty_weight_gbp == 0.0
    # prefers mainstream but B takes only up to age 7: no mainstream arc, so no duty penalty
    ds = _duty_case(case, wants=True, base_age_max=7)
    assert optimiser.options(ds)["arc_cost"].tolist() == [20000]
    assert optimiser.allocate(ds).objective == 20000.0


def test_mainstream_duty_contested_base_place(case):
    # One inclusion-base place at IB (380000) @ 15000; special S (385000) @ 30000, 5 places.
    # A (prefers mainstream) lives at S, B at IB. 5 straight km = £3990.45 transport.
    #   A@IB 18990.45, A@S 30000; B@IB 15000, B@S 33990.45.
    # Cost alone: A@S + B@IB = 45000 < A@IB + B@S = 52980.90.
    # With W = max(50000, ceil(30000 + 33990.45) + 1) = 63992 as a bonus on A's base arc:
    # A@IB = 18990.45 − 63992 → −45002, B@S 33990: −11012 is optimal.
    ds = case(
        settings=[
            dict(setting_id="IB", setting_type="inclusion_base"),
            dict(setting_id="S", easting=E0 + 5000),
        ],
        places=[
            dict(setting_id="IB", package_id="P1", places=1, annual_cost_gbp=15000),
            dict(setting_id="S", package_id="P1", places=5, annual_cost_gbp=30000),
        ],
        children=[
            dict(child_id="A", easting=E0 + 5000, prefers_mainstream=True),
            dict(child_id="B"),
        ],
    )
    res = optimiser.allocate(ds)
    assert where(res) == {"A": "IB", "B": "S"}
    assert res.duty_weight_gbp == 63992.0
    assert res.objective == -11012.0


def test_mainstream_duty_lexicographic_across_placed_sets(case):
    # One P1 place at inclusion base M and one at special X; B (P2) can only use X's single
    # seat (total 1) at £300000; C (P3) only M (total 1) at £15000. A (P1, prefers
    # mainstream) can use M or X at £20000.
    # Both M and X hold one child, so 2 children are placed whatever happens:
    #   {A@M, B@X} = 320000, honours A's preference   ← lexicographic optimum
    #   {A@X, C@M} = 20000 + W(50000) + 15000 = 85000, A in a special school
    #   {B@X, C@M} = 315000, A unplaced
    # The model picks {A@X, C@M}: W (50000) is far below the £300000 it "saves".
    ds = case(
        settings=[
            dict(setting_id="M", setting_type="inclusion_base", total_places=1),
            dict(setting_id="X", setting_type="independent_special", total_places=1),
        ],
        places=[
            dict(setting_id="M", package_id="P1", places=1, annual_cost_gbp=20000),
            dict(setting_id="X", package_id="P1", places=1, annual_cost_gbp=20000),
            dict(setting_id="X", package_id="P2", places=1, annual_cost_gbp=300000),
            dict(setting_id="M", package_id="P3", places=1, annual_cost_gbp=15000),
        ],
        children=[
            dict(child_id="A", prefers_mainstream=True),
            dict(child_id="B", package_id="P2"),
            dict(child_id="C", package_id="P3"),
        ],
    )
    assert where(optimiser.allocate(ds)) == {"A": "M", "B": "X"}


def test_preference_ranks_against_cost(case):
    # All settings at the children's home (no transport), plenty of places.
    # K1 ranks A1;A2, both £20000: A1 (0) beats A2 (3000).
    # K2 ranks B1;B2: B1 24000 + 0 vs B2 20000 + 3000 = 23000 → B2 (cost gap 4000 > 3000).
    # K3 ranks C1;C2: C1 22000 vs C2 23000 → C1 (cost gap 2000 < 3000).
    # K4 ranks A2 only: A2 20000 vs A1 20000 + 10000 unranked → A2.
    # Objective 20000 + 23000 + 22000 + 20000 = 85000.
    fees = {
        "A1": ("P1", 20000),
        "A2": ("P1", 20000),
        "B1": ("P2", 24000),
        "B2": ("P2", 20000),
        "C1": ("P3", 22000),
        "C2": ("P3", 20000),
    }
    ds = case(
        settings=[dict(setting_id=s) for s in fees],
        places=[
            dict(setting_id=s, package_id=p, places=5, annual_cost_gbp=f)
            for s, (p, f) in fees.items()
        ],
        children=[
            dict(child_id="K1", preferences="A1;A2"),
            dict(child_id="K2", package_id="P2", preferences="B1;B2"),
            dict(child_id="K3", package_id="P3", preferences="C1;C2"),
            dict(child_id="K4", preferences="A2"),
        ],
    )
    res = optimiser.allocate(ds)
    assert where(res) == {"K1": "A1", "K2": "B2", "K3": "C1", "K4": "A2"}
    assert res.placements.set_index("child_id")["preference_rank"].to_dict() == {
        "K1": 1.0,
        "K2": 2.0,
        "K3": 1.0,
        "K4": 1.0,
    }
    assert res.objective == 85000.0


# --------------------------------------------------------------------------- unplaced


def test_placing_beats_unplaced_whatever_the_cost(case):
    # The only setting costs £5m a year (solo, 10 km: + 10 × 1074.3508 = 10743.51) and the
    # unplaced penalty is £1: the child is still placed. 5000000 + 10743.51 → 5010744.
    ds = case(
        policy={"unplaced_penalty_gbp": 1.0},
        settings=[dict(setting_id="S", easting=E0 + 10000)],
        places=[dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=5_000_000)],
        children=[dict(child_id="K", solo_transport=True)],
    )
    res = optimiser.allocate(ds)
    assert where(res) == {"K": "S"} and res.unplaced.empty
    assert res.objective == 5010744.0


def test_unplaced_penalty_is_raised_above_any_placement(case):
    # One child, S has a P1 row with 0 places: unplaced, objective = penalty.
    # With one place: placed at £20000. Adding capacity must not raise the objective.
    def run(n: int) -> optimiser.AllocationResult:
        # K0 (P0, placed at £1000) keeps the placements non-empty (see the empty-result bug)
        return optimiser.allocate(
            case(
                policy={"unplaced_penalty_gbp": 1000.0},
                settings=[dict(setting_id="S")],
                places=[
                    dict(setting_id="S", package_id="P1", places=n, annual_cost_gbp=20000),
                    dict(setting_id="S", package_id="P0", places=1, annual_cost_gbp=1000),
                ],
                children=[dict(child_id="K0", package_id="P0"), dict(child_id="K")],
            )
        )

    before, after = run(0), run(1)
    assert len(before.unplaced) == 1 and after.unplaced.empty
    assert after.objective <= before.objective


def test_nobody_placeable_is_reported_not_raised(case):
    # S lists P1 with 0 places: the only child cannot be placed. The model is never
    # infeasible: the result has no placements and one unplaced row, objective = 1e6.
    ds = case(
        settings=[dict(setting_id="S")],
        places=[dict(setting_id="S", package_id="P1", places=0, annual_cost_gbp=20000)],
        children=[dict(child_id="K")],
    )
    res = optimiser.allocate(ds)
    assert res.placements.empty
    assert reasons(res) == {
        "K": "eligible settings full (1 eligible setting with 0 P1 places, all taken)"
    }
    assert res.objective == 1_000_000.0


@pytest.mark.parametrize("block", [None, 0], ids=["tables", "by-age"])
def test_unplaced_reasons_with_numbers(case, block, monkeypatch):
    # block 0: every package's children go by age with a KD-tree (the national path)
    if block is not None:
        monkeypatch.setattr(unplaced_module, "NEAREST_BLOCK", block)
    # S (380000) P1 ×1, T (381000) P1 ×2, both ages 4-11, £20000.
    # U1 needs P2 (nobody offers it); U2 is 15 (no P1 setting takes 15);
    # U3 lives 20 km west: S 26 road km = 65 min, T 68.25 min > 45.
    # F1-F3 live at S, F4 10 km east (S 7980.89, T 7182.80 transport): 3 places for 4
    # children; leaving F4 out is cheapest (F1@S 20000, F2/F3@T 20798 each).
    # Objective 20000 + 2 × 20798 + 4 unplaced × 1e6 = 4061596.
    ds = case(
        settings=[
            dict(setting_id="S", age_max=11, total_places=1),
            dict(setting_id="T", easting=E0 + 1000, age_max=11, total_places=2),
        ],
        places=[
            dict(setting_id="S", package_id="P1", places=1, annual_cost_gbp=20000),
            dict(setting_id="T", package_id="P1", places=2, annual_cost_gbp=20000),
        ],
        children=[
            dict(child_id="U1", package_id="P2"),
            dict(child_id="U2", age=15),
            dict(child_id="U3", easting=E0 - 20000),
            *[dict(child_id=f"F{i}") for i in (1, 2, 3)],
            dict(child_id="F4", easting=E0 + 10000),
        ],
    )
    res = optimiser.allocate(ds)
    assert where(res) == {"F1": "S", "F2": "T", "F3": "T"}
    assert reasons(res) == {
        "U1": "no setting delivers package P2 for age 8",
        "U2": "no setting delivers package P1 for age 15",
        "U3": "no eligible setting within the 45-minute journey cap "
        "(nearest of 2 settings delivering P1: 65 min)",
        "F4": "eligible settings full (2 eligible settings with 3 P1 places, all taken)",
    }
    assert res.unplaced.set_index("child_id")["package_id"].to_dict() == {
        "U1": "P2",
        "U2": "P1",
        "U3": "P1",
        "F4": "P1",
    }
    assert res.objective == 4061596.0
    assert res.kpis["unplaced_children"] == 4.0
    assert optimiser.check_allocation(ds, res) == []


# --------------------------------------------------------------------------- options, API


def test_options_columns_and_arcs_used(tiny_flat):
    opts = optimiser.options(tiny_flat)
    assert list(opts.columns) == OPTION_COLUMNS
    res = optimiser.allocate(tiny_flat)
    pd.testing.assert_frame_equal(res.options, opts)
    assert list(res.placements.columns[:8]) == PLACEMENT_COLUMNS
    # the network's choice arcs are exactly the options of the children being placed
    kids, arcs = child_frame(tiny_flat), build_arcs(tiny_flat)
    net = build_flow_network(tiny_flat, arcs, kids)
    free = opts[~opts["child_id"].isin(["C4"])]
    assert net.n_choice == len(free) == 10
    assert sorted(net.cost[: net.n_choice].tolist()) == sorted(free["arc_cost"].tolist())
    child_ids = kids["child_id"].to_numpy()
    used = zip(child_ids[net.tail[: net.n_choice]], net.cost[: net.n_choice].tolist(), strict=True)
    assert sorted(used) == sorted(zip(free["child_id"], free["arc_cost"].tolist(), strict=True))


def test_every_placement_is_an_option(default_ds):
    res = optimiser.allocate(default_ds)
    keys = ["child_id", "setting_id", "package_id"]
    merged = res.placements.merge(
        res.options, on=keys, how="left", suffixes=("", "_opt"), indicator=True
    )
    assert (merged["_merge"] == "both").all()
    for col in ["place_cost_gbp", "transport_cost_gbp", "distance_km", "travel_min", "arc_cost"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_opt"])


def test_scenario_without_apply_is_a_type_error(tiny_flat):
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        optimiser.allocate(tiny_flat, scenario=object())
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        optimiser.options(tiny_flat, scenario={"changes": []})


# --------------------------------------------------------------------------- the checker


def _with_row(res, child: str, **values) -> pd.DataFrame:
    placements = res.placements.copy()
    for col, value in values.items():
        placements.loc[placements["child_id"] == child, col] = value
    return placements


def _tampered(res, placements: pd.DataFrame):
    """A copy with new placements and an objective that matches them (so only they are wrong)."""
    return dataclasses.replace(
        res, placements=placements, objective=float(placements["arc_cost"].sum())
    )


def test_check_catches_over_capacity(tiny_flat):
    res = optimiser.allocate(tiny_flat)
    opt = res.options.set_index(["child_id", "setting_id"]).loc[("C6", "S2")]
    bad = _with_row(
        res,
        "C6",
        setting_id="S2",
        setting_type="inclusion_base",
        **{c: opt[c] for c in [*PLACEMENT_COLUMNS[3:], "arc_cost"]},
    )
    # S2 now holds C1, C2, C6: 3 of its 2 P1 places and 2 total places; nothing else is wrong
    assert optimiser.check_allocation(tiny_flat, _tampered(res, bad)) == [
        "S2 × P1: 3 placed in 2 places",
        "S2: 3 placed in 2 total places",
    ]


def test_check_catches_moved_continuing_child(tiny_flat):
    res = optimiser.allocate(tiny_flat)
    # C4 (P2) moved to S3: 21 straight km → 27.3 road km, 68.25 min; 65000 + 16759.87 = 81760
    bad = _with_row(
        res,
        "C4",
        setting_id="S3",
        setting_type="independent_special",
        place_cost_gbp=65000.0,
        transport_cost_gbp=16759.87,
        distance_km=27.3,
        travel_min=68.25,
        arc_cost=81760,
    )
    assert optimiser.check_allocation(tiny_flat, _tampered(res, bad)) == [
        "C4: continuing placement moved"
    ]


def test_check_catches_ineligible_age(tiny_flat):
    res = optimiser.allocate(tiny_flat)
    # C3 (13) to S2 (ages 4-11): straight 2549.51 m → 3.3144 road km, 8.2859 min
    km = math.hypot(2500, 500) / 1000 * 1.3
    bad = _with_row(
        res,
        "C3",
        setting_id="S2",
        setting_type="inclusion_base",
        place_cost_gbp=15000.0,
        transport_cost_gbp=round(km / 1.3 * SHARED_PER_KM, 2),
        distance_km=km,
        travel_min=km * 2.5,
        arc_cost=round(15000 + km / 1.3 * SHARED_PER_KM),
    )
    assert "C3: age outside the setting's range" in optimiser.check_allocation(
        tiny_flat, _tampered(res, bad)
    )


def test_check_catches_wrong_objective(tiny_flat):
    res = optimiser.allocate(tiny_flat)
    bad = dataclasses.replace(res, objective=res.objective + 1)
    assert optimiser.check_allocation(tiny_flat, bad) == ["objective -45207 ≠ recomputed -45208"]


def test_check_catches_missing_child(tiny_flat):
    res = optimiser.allocate(tiny_flat)
    bad = res.placements[res.placements["child_id"] != "C5"].reset_index(drop=True)
    assert optimiser.check_allocation(tiny_flat, _tampered(res, bad)) == [
        "placed + unplaced (5 rows) do not cover the 6 children exactly once"
    ]


# --------------------------------------------------------------------------- default data


def _digest(res: optimiser.AllocationResult) -> str:
    return hashlib.sha256(res.placements.to_csv(lineterminator="\n").encode()).hexdigest()


def test_deterministic_in_process(default_ds):
    a, b = optimiser.allocate(default_ds), optimiser.allocate(default_ds)
    pd.testing.assert_frame_equal(a.placements, b.placements)
    pd.testing.assert_frame_equal(a.unplaced, b.unplaced)
    assert a.objective == b.objective


def test_deterministic_across_processes(default_ds, tmp_path):
    code = (
        "import hashlib, optimiser\n"
        "res = optimiser.allocate(optimiser.load_default())\n"
        "print(hashlib.sha256(res.placements.to_csv(lineterminator='\\n').encode()).hexdigest(),"
        " repr(res.objective))\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    res = optimiser.allocate(default_ds)
    assert out == [_digest(res), repr(res.objective)]


def test_default_data_smoke(default_ds):
    res = optimiser.allocate(default_ds)
    ids = list(res.placements["child_id"]) + list(res.unplaced["child_id"])
    assert sorted(ids) == sorted(default_ds.children["child_id"])
    assert optimiser.check_allocation(default_ds, res) == []
    assert set(DESIGN_KPIS) <= set(res.kpis)
    assert all(isinstance(res.kpis[k], float) for k in DESIGN_KPIS)
    assert 0.05 <= res.kpis["inmss_share"] <= 0.40
    assert res.kpis["unplaced_children"] == len(res.unplaced) < 0.1 * len(default_ds.children)
    assert res.kpis["total_cost_gbp"] == pytest.approx(
        res.kpis["place_cost_gbp"] + res.kpis["transport_cost_gbp"] + res.kpis["unplaced_cost_gbp"]
    )
    # every continuing child is kept (default policy: keep)
    cont = default_ds.children.loc[
        default_ds.children["current_setting_id"] != "", ["child_id", "current_setting_id"]
    ]
    kept = res.placements.set_index("child_id").loc[cont["child_id"], "setting_id"]
    assert (kept.to_numpy() == cont["current_setting_id"].to_numpy()).all()


# ------------------------------------------------------- each family's arcs bind (removal tests)


def _without(family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace ``network._add_<family>`` by one that adds its arcs with unlimited capacity."""
    real = getattr(network, family)

    def relaxed(net, *args, **kwargs):
        before = len(net.parts)
        real(net, *args, **kwargs)
        tail, head, _capacity, cost = net.parts[before]
        net.parts[before] = (tail, head, np.full(len(tail), 10**6), cost)

    monkeypatch.setattr(network, family, relaxed)


def test_package_capacity_family_binds(case, monkeypatch):
    # test_package_capacity_binds without (2): both children take S's single P1 place.
    ds = _package_capacity_case(case)
    assert optimiser.allocate(ds).objective == 50798.0
    _without("_add_package_capacity", monkeypatch)
    res = optimiser.allocate(ds, check=False)
    assert where(res) == {"K1": "S", "K2": "S"} and res.objective == 40798.0
    with pytest.raises(optimiser.SolverError, match="independent check"):
        optimiser.allocate(ds)


def test_setting_capacity_family_binds(case, monkeypatch):
    # test_total_places_below_package_places without (3): all three at S (65000).
    ds = _total_places_case(case)
    assert optimiser.allocate(ds).objective == 71596.0
    _without("_add_setting_capacity", monkeypatch)
    assert optimiser.allocate(ds, check=False).objective == 65000.0
    with pytest.raises(optimiser.SolverError, match="independent check"):
        optimiser.allocate(ds)


def test_inmss_group_family_binds(case, monkeypatch):
    # test_inmss_group_cap without (4): the cap of 1 is ignored, all three at X (60000).
    ds = _inmss_case(case, cap=1, continuing=False)
    assert optimiser.allocate(ds).objective == 100000.0
    _without("_add_inmss_group", monkeypatch)
    assert optimiser.allocate(ds, check=False).objective == 60000.0
    with pytest.raises(optimiser.SolverError, match="independent check"):
        optimiser.allocate(ds)


def test_choice_arcs_and_supply_families(tiny_flat, monkeypatch):
    # (1) and (5): the network has one unit-capacity choice arc per option of a child being
    # placed, and one unit of supply per such child; with no choice arcs nobody is placed.
    kids, arcs = child_frame(tiny_flat), build_arcs(tiny_flat)
    net = build_flow_network(tiny_flat, arcs, kids)
    assert (net.capacity[: net.n_choice] == 1).all()
    assert net.supply[: len(kids)].tolist() == (~kids["fixed"]).astype(int).tolist()
    assert net.supply.sum() == 0
    monkeypatch.setattr(network, "_choice_capacity", lambda n: np.zeros(n, np.int64))
    res = optimiser.allocate(tiny_flat)
    assert res.placements["continuing"].all()  # only C4, who keeps its place, is placed
    assert len(res.unplaced) == 5


def test_derived_tables_are_per_dataset_and_change_no_result(default_ds):
    """Tables a Dataset keeps (Dataset.derived) are built once, never outlive their data
    (replace and pickling start afresh), and a warm dataset allocates exactly as a cold one."""
    import pickle

    ds = default_ds.replace()
    calls = []
    assert ds.derived("probe", lambda: calls.append(1) or len(calls)) == 1
    assert ds.derived("probe", lambda: calls.append(1) or len(calls)) == 1
    assert "_derived" not in ds.replace().__dict__
    assert "_derived" not in pickle.loads(pickle.dumps(ds)).__dict__
    cold = optimiser.allocate(ds.replace())
    warm_ds = ds.replace()
    optimiser.allocate(warm_ds)
    warm = optimiser.allocate(warm_ds)
    for name in ("placements", "unplaced", "sufficiency", "options", "unplaced_rates"):
        pd.testing.assert_frame_equal(getattr(cold, name), getattr(warm, name), check_exact=True)
    assert (cold.objective, cold.kpis, cold.warnings) == (warm.objective, warm.kpis, warm.warnings)
    # a changed dataset is a new Dataset: its tables are its own
    shut = optimiser.allocate(warm_ds.replace(places=warm_ds.places.iloc[::2]))
    assert optimiser.check_allocation(warm_ds.replace(places=warm_ds.places.iloc[::2]), shut) == []
