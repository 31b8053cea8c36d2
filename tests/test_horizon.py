"""Multi-year horizon: ageing, phase transfers, leavers, new EHCPs and continuing placements by
hand on the tiny fixture; the national growth rate from the DfE series; ``from_year``; the CLI.

Tiny (tests/data/tiny): S1 maintained special 4-19 (P1 2, P2 2, total 3), S2 inclusion base
4-11 (P1 2), S3 independent special 5-19 (P1 5, P2 5). Cases below edit the children's ages
and current settings through ``Dataset.replace`` so each year can be worked by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.scenarios.horizon import national_growth_rate, roll_forward
from optimiser.scenarios.scenario import scenario_from_mapping

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / "data" / "sources" / "ehcp_placements_by_la_jan2019-jan2025.csv"
runner = CliRunner()


def with_children(ds: optimiser.Dataset, **edits: dict) -> optimiser.Dataset:
    """``with_children(ds, C2={"age": 10, "current_setting_id": "S2"})``."""
    kids = ds.children.copy()
    for cid, fields in edits.items():
        for col, value in fields.items():
            kids.loc[kids["child_id"] == cid, col] = value
    return ds.replace(children=kids)


def at(res: optimiser.AllocationResult) -> dict[str, str]:
    return res.placements.set_index("child_id")["setting_id"].to_dict()


def row(hz, year: int) -> pd.Series:
    return hz.years.set_index("year").loc[year]


def test_national_growth_rate_by_hand():
    with SERIES.open(encoding="utf-8") as f:
        national = {
            r["time_period"]: float(r["ehcplans"])
            for r in csv.DictReader(f)
            if r["geographic_level"] == "National"
        }
    first, last = national["202122"], national["202425"]  # 2021/22 → 2024/25: 3 years
    expected = (last / first) ** (1 / 3) - 1
    assert national_growth_rate() == pytest.approx(expected, rel=1e-12)
    assert 0.10 <= national_growth_rate() <= 0.12  # the "+10-12% a year"
    longer = (last / national["201920"]) ** (1 / 5) - 1
    assert national_growth_rate(last_years=5) == pytest.approx(longer, rel=1e-12)


def test_default_growth_is_the_national_rate(tiny):
    hz = roll_forward(tiny, years=1)
    assert hz.growth == pytest.approx(national_growth_rate())
    # 6 children, none leaves: round(6 × (1 + g)) − 6 new
    assert row(hz, 1)["new_ehcp_children"] == round(6 * (1 + national_growth_rate())) - 6


def test_year_0_is_the_base_allocation(tiny):
    hz = roll_forward(tiny, years=0, growth=0.0)
    assert list(hz.years["year"]) == [0]
    base = optimiser.allocate(tiny)
    pd.testing.assert_frame_equal(hz.results[0].placements, base.placements)
    y0 = row(hz, 0)
    assert y0["demand_children"] == 6
    assert y0["places"] == 2 + 2 + 2 + 5 + 5
    assert y0["total_cost_gbp"] == pytest.approx(base.kpis["total_cost_gbp"])
    assert y0[["new_ehcp_children", "leavers_children", "transfer_children"]].tolist() == [0, 0, 0]
    assert y0["inmss_children"] == 1  # C6 at S3


def test_child_outgrowing_a_setting_transfers_and_is_replaced(tiny):
    """C2 (P1) aged 11 at S2 (4-11): next year 12, outside S2's range → placed again."""
    ds = with_children(tiny, C2={"age": 11, "current_setting_id": "S2"})
    hz = roll_forward(ds, years=1, growth=0.0)
    assert at(hz.results[0])["C2"] == "S2"
    y1 = hz.results[1].placements.set_index("child_id")
    assert row(hz, 1)["transfer_children"] == 1
    assert y1.at["C2", "setting_id"] != "S2"
    assert not y1.at["C2", "continuing"]
    assert y1.at["C2", "phase"] == "secondary"
    s = tiny.settings.set_index("setting_id")
    assert (
        s.at[y1.at["C2", "setting_id"], "age_min"]
        <= 12
        <= s.at[y1.at["C2", "setting_id"], "age_max"]
    )


def test_phase_transfer_at_11_from_a_primary_setting(tiny):
    """age_max is the oldest age taken at the start of the year: a primary base is 4-10."""
    settings = tiny.settings.copy()
    settings.loc[settings["setting_id"] == "S2", "age_max"] = 10
    ds = with_children(tiny.replace(settings=settings), C2={"age": 10, "current_setting_id": "S2"})
    hz = roll_forward(ds, years=1, growth=0.0)
    assert row(hz, 1)["transfer_children"] == 1
    y1 = hz.results[1].placements.set_index("child_id")
    assert y1.at["C2", "setting_id"] != "S2"
    assert not y1.at["C2", "continuing"]


def test_child_aged_19_leaves_with_leave_age_19(tiny):
    ds = with_children(tiny, C3={"age": 19, "current_setting_id": "S1"})
    hz = roll_forward(ds, years=1, growth=0.0, leave_age=19)
    assert row(hz, 1)["leavers_children"] == 1
    ids = set(hz.results[1].placements["child_id"]) | set(hz.results[1].unplaced["child_id"])
    assert "C3" not in ids
    # 6 last year, 5 stay: round(6 × 1.0) − 5 = 1 new EHCP keeps demand level
    assert row(hz, 1)["new_ehcp_children"] == 1
    assert row(hz, 1)["demand_children"] == 6


def test_child_aged_19_stays_with_leave_age_25(tiny):
    """Aged 20 stays with leave_age 25, but S1 (4-19) no longer takes them: a transfer."""
    ds = with_children(tiny, C3={"age": 19, "current_setting_id": "S1"})
    hz = roll_forward(ds, years=1, growth=0.0, leave_age=25)
    assert row(hz, 1)["leavers_children"] == 0
    assert row(hz, 1)["transfer_children"] == 1
    assert at(hz.results[1]).get("C3") != "S1"


def test_new_ehcp_counts_follow_growth(tiny):
    """growth 0.5, C3 (19, at S1) leaves in year 1, nobody else reaches 20 by year 2:
    year 1: round(6 × 1.5) − 5 = 4 new → 9; year 2: round(9 × 1.5) = 14 − 9 = 5 new → 14."""
    ds = with_children(tiny, C3={"age": 19, "current_setting_id": "S1"})
    hz = roll_forward(ds, years=2, growth=0.5)
    assert hz.growth == 0.5
    assert hz.years["new_ehcp_children"].tolist() == [0, 4, 5]
    assert hz.years["leavers_children"].tolist() == [0, 1, 0]
    assert hz.years["demand_children"].tolist() == [6, 9, 14]
    kids1 = set(hz.results[1].placements["child_id"]) | set(hz.results[1].unplaced["child_id"])
    new1 = sorted(k for k in kids1 if k.startswith("Y1-"))
    assert new1 == ["Y1-00001", "Y1-00002", "Y1-00003", "Y1-00004"]
    all_ids = list(hz.results[2].placements["child_id"]) + list(hz.results[2].unplaced["child_id"])
    assert len(all_ids) == len(set(all_ids)) == 14
    # new EHCPs are drawn from the base year's children still to place (C1 C2 C5 C6)
    new_pkgs = pd.concat([hz.results[2].placements, hz.results[2].unplaced])
    new_pkgs = new_pkgs[new_pkgs["child_id"].str.startswith("Y")]
    assert set(new_pkgs["package_id"]) <= {"P1", "P2"}


def test_continuing_placements_are_kept(tiny):
    hz = roll_forward(tiny, years=2, growth=0.0)
    for year in (1, 2):
        before, now = at(hz.results[year - 1]), hz.results[year].placements.set_index("child_id")
        for cid, sid in before.items():
            assert now.at[cid, "setting_id"] == sid, (year, cid)
            assert now.at[cid, "continuing"], (year, cid)
    assert row(hz, 2)["transfer_children"] == 0 and row(hz, 2)["leavers_children"] == 0
    # every child one year older: C3 (13) is still secondary, C1 (6) still primary
    phases = hz.results[2].placements.set_index("child_id")["phase"]
    assert phases["C3"] == "secondary" and phases["C1"] == "primary"


def test_ageing_moves_children_between_phases(tiny):
    """C2 aged 9 → 11 after two years: counted as secondary in year 2 (S2 takes 4-11)."""
    hz = roll_forward(tiny, years=2, growth=0.0)
    phase = {y: hz.results[y].placements.set_index("child_id")["phase"]["C2"] for y in (0, 1, 2)}
    assert phase == {0: "primary", 1: "primary", 2: "secondary"}
    suff = hz.results[2].sufficiency.set_index(["package_id", "phase"])
    # P1: C1 8, C6 9 primary; C2 11, C3 15 secondary
    assert suff.at[("P1", "primary"), "demand"] == 2
    assert suff.at[("P1", "secondary"), "demand"] == 2


def test_unplaced_children_wait_and_are_tried_again(tiny):
    """Close S3: C3 (P1, 13), C5 (P2) and C6 (P1) all need S1 (S2 is full, 4-11), which has
    one place left beside C4. Two are placed, one waits; with everyone placed continuing,
    the same child is still unplaced (not dropped) in years 1 and 2."""
    sc = scenario_from_mapping(
        {"name": "shut", "changes": [{"close_setting": {"setting_id": "S3"}}]}
    )
    hz = roll_forward(tiny, years=2, growth=0.0, scenario=sc)
    waiting = set(hz.results[0].unplaced["child_id"])
    assert len(waiting) == 1 and waiting <= {"C3", "C5", "C6"}
    for year in (0, 1, 2):
        assert set(hz.results[year].unplaced["child_id"]) == waiting
        assert row(hz, year)["unplaced_children"] == 1
        assert row(hz, year)["demand_children"] == 6
        assert row(hz, year)["inmss_children"] == 0


def test_scenario_change_from_year_2_applies_only_from_year_2(tiny):
    sc = scenario_from_mapping(
        {
            "name": "later",
            "changes": [
                {
                    "set_places": {
                        "setting_id": "S2",
                        "package_id": "P1",
                        "places": 5,
                        "from_year": 2,
                    }
                }
            ],
        }
    )
    hz = roll_forward(tiny, years=3, growth=0.0, scenario=sc)
    assert hz.years["places"].tolist() == [16, 16, 19, 19]
    # C6 keeps its S3 place every year (continuity), even once S2 has room
    assert [at(hz.results[y])["C6"] for y in range(4)] == ["S3", "S3", "S3", "S3"]
    without = roll_forward(tiny, years=3, growth=0.0)
    for year in (0, 1):
        pd.testing.assert_frame_equal(hz.results[year].placements, without.results[year].placements)


def test_scenario_change_from_year_1_frees_places_for_newcomers(tiny):
    """Growth 0.5 with 3 more S2 places from year 1: new primary P1 children can use them."""
    sc = scenario_from_mapping(
        {
            "name": "s2",
            "changes": [
                {
                    "set_places": {
                        "setting_id": "S2",
                        "package_id": "P1",
                        "places": 5,
                        "from_year": 1,
                    }
                }
            ],
        }
    )
    hz = roll_forward(tiny, years=1, growth=0.5, scenario=sc, seed=3)
    plain = roll_forward(tiny, years=1, growth=0.5, seed=3)
    assert row(hz, 0)["places"] == row(plain, 0)["places"] == 16
    assert row(hz, 1)["places"] == 19
    assert row(hz, 1)["placed_children"] >= row(plain, 1)["placed_children"]


def test_horizon_is_deterministic_for_a_seed(default_ds):
    a = roll_forward(default_ds, years=1, seed=5)
    b = roll_forward(default_ds, years=1, seed=5)
    pd.testing.assert_frame_equal(a.years, b.years)
    pd.testing.assert_frame_equal(a.results[1].placements, b.results[1].placements)
    y1 = a.years.set_index("year").loc[1]
    y0 = a.years.set_index("year").loc[0]
    assert y1["demand_children"] == round(y0["demand_children"] * (1 + a.growth))
    assert y1["demand_children"] == (
        y0["demand_children"] - y1["leavers_children"] + y1["new_ehcp_children"]
    )
    totals = a.by_package.groupby("year")["demand"].sum()
    assert totals.tolist() == a.years["demand_children"].tolist()


def test_negative_years_rejected(tiny):
    with pytest.raises(ValueError, match="years must be 0 or more"):
        roll_forward(tiny, years=-1)


def test_children_outgrow_a_scenario_added_setting(tiny):
    sc = scenario_from_mapping(
        {
            "name": "base",
            "changes": [
                {
                    "add_setting": {
                        "setting_id": "NEW",
                        "name": "n",
                        "setting_type": "inclusion_base",
                        "easting": 380500,
                        "northing": 395500,
                        "age_min": 11,
                        "age_max": 16,
                        "places": {"P1": 2},
                    }
                }
            ],
        }
    )
    ds = with_children(tiny, C3={"age": 16})
    hz = roll_forward(ds, years=1, growth=0.0, scenario=sc)
    assert at(hz.results[0])["C3"] == "NEW"
    assert at(hz.results[1]).get("C3") != "NEW"  # 17 at an 11-16 setting


# --- CLI ----------------------------------------------------------------------------------


def test_cli_horizon_one_year():
    result = runner.invoke(app, ["horizon", "--years", "1"])
    assert result.exit_code == 0, result.output
    assert "Horizon: 1 years" in result.output
    # the embedded policy carries Trafford's own SEN2 growth, not the national trend
    growth = optimiser.load_default().policy.demand_growth_per_year
    assert growth is not None and f"{growth:+.1%}" in result.output
    assert f"{national_growth_rate():+.1%}" not in result.output


def test_cli_horizon_tiny_with_growth_and_scenario(tiny_path, tmp_path):
    path = tmp_path / "later.yaml"
    path.write_text(
        "name: later\nchanges:\n"
        "  - set_places: {setting_id: S2, package_id: P1, places: 5, from_year: 1}\n"
    )
    result = runner.invoke(
        app, ["horizon", str(tiny_path), "--years", "2", "--growth", "0.5", "--scenario", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "+50.0% a year" in result.output


def test_cli_horizon_bad_scenario_exits_1(tiny_path, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nchanges:\n  - set_places: {setting_id: S1, package_id: P1, places: -3}\n"
    )
    result = runner.invoke(
        app, ["horizon", str(tiny_path), "--years", "1", "--scenario", str(path)]
    )
    assert result.exit_code == 1
    assert "bad.yaml, change 1 (set_places) places" in result.output
    assert "Traceback" not in result.output
