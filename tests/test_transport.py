"""Home-to-school transport: eligibility, mode, cost by hand, use in arcs, KPIs, calibration.

Hand values use the default policy (docs/transport.md): per pupil a day = fixed + per mile
× 2 × road miles; a year = 190 days. 1 mile = 1.609344 km.
  personal budget  0    + 0.45/mile     minibus  34 + 0.85/mile
  shared taxi     27    + 1.15/mile     solo taxi 80 + 2.00/mile
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.policy import Policy
from optimiser.transport.rules import assess, is_eligible, mode_cost_gbp, transport_cost_gbp
from optimiser.transport.tables import transport_kpis, transport_tables

MILE_KM = 1.609344
POL = Policy()


def km(miles: float) -> float:
    return miles * MILE_KM


# ------------------------------------------------------------------------------ eligibility


@pytest.mark.parametrize(
    ("age", "miles", "expected"),
    [
        (7, 2.0, False),  # under 8: exactly 2 miles is within walking distance
        (7, 2.001, True),
        (7, 2.5, True),  # under 8 the limit is 2 miles, so 2.5 is beyond it
        (8, 2.5, False),  # from 8 the limit is 3 miles
        (8, 3.0, False),  # exactly 3 miles: within walking distance
        (8, 3.001, True),
        (7, 1.999, False),
        (15, 3.0, False),
    ],
)
def test_walking_distance_edges(age, miles, expected):
    got = is_eligible(
        np.array([km(miles)]), age=np.array([age]), cannot_walk=np.array([False]), policy=POL
    )
    assert got.tolist() == [expected]


def test_cannot_walk_is_eligible_at_any_distance():
    got = is_eligible(
        np.array([0.0, km(0.5), km(2.9)]),
        age=np.array([6, 9, 12]),
        cannot_walk=np.array([True, True, True]),
        policy=POL,
    )
    assert got.all()


def test_post16_is_a_policy_switch():
    off = Policy(transport={"post16_eligible": False})
    ages, dist = np.array([15, 16, 17]), np.full(3, km(10))
    walk = np.zeros(3, bool)
    assert is_eligible(dist, age=ages, cannot_walk=walk, policy=POL).tolist() == [True] * 3
    assert is_eligible(dist, age=ages, cannot_walk=walk, policy=off).tolist() == [
        True,
        False,
        False,
    ]
    # discretionary even for a child who cannot walk
    assert not is_eligible(dist[:1], age=np.array([16]), cannot_walk=np.array([True]), policy=off)[
        0
    ]


def test_not_eligible_costs_nothing_whatever_the_mode():
    got = assess(
        np.array([km(1.0)] * 3),
        np.array([True, False, False]),
        policy=POL,
        age=np.array([10, 10, 10]),
        cannot_walk=np.zeros(3, bool),
        mode=np.array(["", "personal_budget", "solo_taxi"], object),
    )
    assert got["transport_cost_gbp"].tolist() == [0.0, 0.0, 0.0]
    assert got["mode"].tolist() == ["", "", ""]


# ------------------------------------------------------------------------------ modes by hand


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("personal_budget", 190 * 0.45 * 2 * 5),  # 855
        ("minibus", 190 * (34 + 0.85 * 2 * 5)),  # 190 × 42.5 = 8075
        ("shared_taxi", 190 * (27 + 1.15 * 2 * 5)),  # 190 × 38.5 = 7315
        ("solo_taxi", 190 * (80 + 2.0 * 2 * 5)),  # 190 × 100 = 19000
    ],
)
def test_each_mode_cost_by_hand(mode, expected):
    got = mode_cost_gbp(np.array([km(5.0)]), np.array([mode], object), policy=POL)
    assert got[0] == pytest.approx(expected, abs=1e-6)
    assert round(expected) in (855, 8075, 7315, 19000)


def test_mode_rules():
    # shared taxi vs minibus per day: 27 + 2.3 d vs 34 + 1.7 d → equal at d = 7 / 0.6 = 11.67
    miles = np.array([5.0, 11.0, 12.0, 5.0, 5.0, 5.0])
    got = assess(
        km(miles),
        np.array([False, False, False, True, True, False]),
        policy=POL,
        wheelchair=np.array([False, False, False, False, False, True]),
        mode=np.array(["", "", "", "", "personal_budget", ""], object),
    )
    assert got["mode"].tolist() == [
        "shared_taxi",
        "shared_taxi",
        "minibus",
        "solo_taxi",
        "personal_budget",
        "minibus",
    ]
    # a wheelchair user needs wheelchair spaces: minibus even where a taxi is cheaper
    assert got["transport_cost_gbp"].iloc[5] == pytest.approx(8075)
    assert got["eligible"].all()  # no age given: everyone eligible (the pre-rules behaviour)


def test_no_suitable_shared_mode_falls_back_to_solo_taxi():
    pol = Policy(transport={"minibus": {"wheelchair_spaces": 0}})
    got = assess(np.array([km(5.0)]), np.array([False]), policy=pol, wheelchair=np.array([True]))
    assert got["mode"].tolist() == ["solo_taxi"]
    assert got["transport_cost_gbp"].iloc[0] == pytest.approx(19000)


def test_transport_cost_gbp_keeps_its_old_call():
    got = transport_cost_gbp(np.array([km(5.0), km(5.0)]), np.array([False, True]), policy=POL)
    assert got.tolist() == pytest.approx([7315, 19000])


def test_partial_mode_override_keeps_the_other_rates():
    pol = Policy(transport={"shared_taxi": {"fixed_gbp_per_day": 10}})
    taxi = pol.transport.shared_taxi
    assert (taxi.fixed_gbp_per_day, taxi.gbp_per_mile, taxi.seats) == (10, 1.15, 4)
    with pytest.raises(Exception, match="seat"):
        Policy(transport={"minibus": {"seat": 3}})


# ------------------------------------------------------------------------------ in the model


def _tiny_with(tiny, **transport) -> optimiser.Dataset:
    return tiny.replace(policy=Policy(**{**tiny.policy.model_dump(), "transport": transport}))


def test_arcs_apply_eligibility_and_the_checker_agrees(tiny):
    # P1 children walk by the distance rule; P2 children cannot walk (package rule).
    ds = _tiny_with(tiny, cannot_walk_packages=["P2"])
    opts = optimiser.options(ds).set_index(["child_id", "setting_id"])
    # C3 (13) to S1: 0.7071 straight km × 1.3 = 0.919 road km = 0.57 miles < 3: walks, £0
    assert opts.loc[("C3", "S1"), "transport_cost_gbp"] == 0.0
    # C1 (6) to S2: 2 × 1.3 = 2.6 km = 1.6156 miles < 2: walks
    assert opts.loc[("C1", "S2"), "transport_cost_gbp"] == 0.0
    # C5 (P2, 8, solo) to S1: 1.3 km = 0.8078 miles; cannot walk → solo taxi
    # 190 × (80 + 2 × 2 × 0.80778) = 15813.91
    assert opts.loc[("C5", "S1"), "transport_cost_gbp"] == pytest.approx(15813.91, abs=0.01)
    res = optimiser.allocate(ds)
    assert optimiser.check_allocation(ds, res) == []


def test_cannot_walk_column_makes_a_child_eligible(tiny):
    kids = tiny.children.assign(cannot_walk=tiny.children["child_id"] == "C3")
    ds = _tiny_with(tiny, cannot_walk_packages=["P2"]).replace(children=kids)
    opts = optimiser.options(ds).set_index(["child_id", "setting_id"])
    # C3 to S1 by shared taxi: 0.57116 miles → 190 × (27 + 1.15 × 2 × 0.57116) = 5379.61
    assert opts.loc[("C3", "S1"), "transport_cost_gbp"] == pytest.approx(5379.61, abs=0.01)
    res = optimiser.allocate(ds)
    assert optimiser.check_allocation(ds, res) == []


def test_checker_catches_a_wrong_transport_cost(tiny):
    res = optimiser.allocate(tiny)
    placed = res.placements.copy()
    placed.loc[placed["child_id"] == "C2", "transport_cost_gbp"] += 50.0
    bad = dataclasses.replace(res, placements=placed)
    assert "C2: transport cost differs from the recomputation" in optimiser.check_allocation(
        tiny, bad
    )


def test_kpis_and_tables_add_up(tiny):
    res = optimiser.allocate(tiny)
    for key in (
        "transport_cost_gbp",
        "mean_travel_min",
        "max_travel_min",
        "transported_children",
        "transport_cost_per_transported_child_gbp",
        "travelling_alone_share",
    ):
        assert isinstance(res.kpis[key], float)
    tables = transport_tables(tiny, res)
    assert set(tables) == {"setting", "setting_type", "package", "ward", "area", "mode", "total"}
    for name in ("setting", "setting_type", "package", "ward", "area", "mode"):
        assert tables[name]["children"].sum() == len(res.placements)
        assert tables[name]["transport_cost_gbp"].sum() == pytest.approx(
            res.kpis["transport_cost_gbp"], abs=0.05
        )
    total = tables["total"].iloc[0]
    assert total["transported"] == res.kpis["transported_children"]
    assert total["travelling_alone"] == 1  # C5 travels alone


# ------------------------------------------------------------------------------ default data


@pytest.fixture(scope="module")
def default_res(default_ds):
    return optimiser.allocate(default_ds)


def test_calibration_mean_cost_per_transported_child(default_ds, default_res):
    """National band £8,100-9,500 (NAO, LGA/Isos, CCN; domain-facts §2.1); Trafford's
    journeys are about 60% of the national mean length, so a little below it."""
    k = default_res.kpis
    assert 7000 <= k["transport_cost_per_transported_child_gbp"] <= 9500
    assert 0.85 <= k["transported_children"] / k["placed_children"] <= 1.0
    assert 0.06 <= k["travelling_alone_share"] <= 0.12  # 9% nationally [S4]


def test_docs_default_figures_match_a_fresh_run(default_ds, default_res):
    """docs/transport.md quotes the default data's figures; they must be today's."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "transport.md").read_text("utf-8")
    tables = transport_tables(default_ds, default_res)
    total = tables["total"].iloc[0]
    mode = tables["mode"].set_index("mode")
    area = tables["area"].set_index("area")

    def per_child(row: pd.Series) -> str:
        return f"£{row['cost_per_transported_child_gbp']:,.0f}"

    quoted = [
        f"{total['transported']:,.0f} of {total['children']:,.0f} placed children transported "
        f"({total['children'] - total['transported']:.0f} within walking distance)",
        f"**{per_child(total)}**",
        f"{total['travelling_alone_share']:.1%} in solo taxis",
        f"shared taxi {mode.loc['shared_taxi', 'children']:.0f} children at\n"
        f"{per_child(mode.loc['shared_taxi'])}",
        f"minibus {mode.loc['minibus', 'children']:.0f} at {per_child(mode.loc['minibus'])}",
        f"solo taxi {mode.loc['solo_taxi', 'children']:.0f} at {per_child(mode.loc['solo_taxi'])}",
        f"in area\n{per_child(area.loc['in area'])}",
        f"out of area {per_child(area.loc['out of area'])}",
        f"INMSS out of area {per_child(area.loc['out of area (INMSS)'])}",
    ]
    for text in quoted:
        assert text in doc, text


def test_default_kpis_match_a_recount(default_ds, default_res):
    moved = default_res.placements["transport_cost_gbp"] > 0
    assert default_res.kpis["transported_children"] == moved.sum()
    kpis = transport_kpis(default_ds, default_res.placements)
    assert kpis["transport_cost_per_transported_child_gbp"] == pytest.approx(
        default_res.placements.loc[moved, "transport_cost_gbp"].mean()
    )


def test_cli_transport_command(tiny_path):
    out = CliRunner().invoke(app, ["transport", str(tiny_path), "--time-limit", "1"])
    assert out.exit_code == 0, out.output
    assert "Transport by setting type" in out.output
    assert "Shared-route estimate:" in out.output
    out = CliRunner().invoke(app, ["transport", str(tiny_path), "--no-routes"])
    assert out.exit_code == 0 and "Shared-route estimate" not in out.output
    assert "transport cost per child transported" in out.output


def test_frames_are_not_modified(tiny):
    before = tiny.children.copy()
    transport_tables(tiny, optimiser.allocate(tiny))
    pd.testing.assert_frame_equal(tiny.children, before)
