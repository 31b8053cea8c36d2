"""Compare options: hand-known deltas on the tiny fixture, the KPI table's shape, who moves,
INMSS reliance on the default data, the process pool, and the ``compare`` command.

Tiny baseline (worked by hand from the places and costing tables): S2 (inclusion base, 2 P1
places, £15,000) takes C1 (ranked it first) and C2 (prefers mainstream: the duty); S1 (total 3)
takes C3, C4 (continuing) and C5; C6 ranked S3 first and S3 (£60,000) is the only P1 place
left. One more P1 place at S2 lets C6 move S3 → S2: place cost −£45,000 (15,000 − 60,000),
one child fewer in INMSS (−£60,000 of INMSS cost), and first preference met for 1 of the 2
children who ranked (C1) instead of 2 of 2. Transport figures come from ``optimiser.options``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import DESIGN_KPIS
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.scenarios.compare import compare_scenarios, who_moves
from optimiser.scenarios.scenario import scenario_from_mapping

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
INMSS = ("nmss", "independent_special")
runner = CliRunner()


def scenario(*changes: dict, name: str = "option", source: str = "option.yaml"):
    return scenario_from_mapping({"name": name, "changes": list(changes)}, source=source)


ONE_MORE = {"set_places": {"setting_id": "S2", "package_id": "P1", "places": 3}}


def arc(opts: pd.DataFrame, child: str, setting_id: str) -> pd.Series:
    row = opts[(opts["child_id"] == child) & (opts["setting_id"] == setting_id)]
    assert len(row) == 1, f"no arc {child} → {setting_id}"
    return row.iloc[0]


@pytest.fixture(scope="module")
def tiny_cmp(tiny_path):
    ds = optimiser.load_dataset(tiny_path)
    sc = scenario(ONE_MORE, name="one more P1 place at S2")
    return ds, sc, compare_scenarios(ds, [sc])


def test_one_more_place_moves_c6_from_inmss_to_the_base(tiny_cmp):
    _ds, sc, cmp = tiny_cmp
    base = cmp.results["baseline"].placements.set_index("child_id")["setting_id"]
    after = cmp.results[sc.name].placements.set_index("child_id")["setting_id"]
    assert base.to_dict() == {
        "C1": "S2",
        "C2": "S2",
        "C3": "S1",
        "C4": "S1",
        "C5": "S1",
        "C6": "S3",
    }
    assert after.to_dict() == {**base.to_dict(), "C6": "S2"}


def test_hand_known_deltas(tiny_cmp):
    ds, sc, cmp = tiny_cmp
    d = cmp.deltas[sc.name]
    assert d["place_cost_gbp"] == 15000 - 60000
    assert d["inmss_children"] == -1
    assert d["inmss_cost_gbp"] == -60000
    assert d["inmss_share"] == pytest.approx(0 - 1 / 6)
    assert d["placed_children"] == 0 and d["unplaced_children"] == 0
    assert d["first_preference_share"] == pytest.approx(1 / 2 - 2 / 2)
    assert d["capital_cost_gbp"] == 0
    assert (
        d[[i for i in d.index if i.startswith(("placed_children_", "unplaced_children_"))]] == 0
    ).all()
    opts = optimiser.options(ds, sc)
    to_s2, to_s3 = arc(opts, "C6", "S2"), arc(opts, "C6", "S3")
    assert to_s2["place_cost_gbp"] == 15000 and to_s3["place_cost_gbp"] == 60000
    assert d["transport_cost_gbp"] == pytest.approx(
        to_s2["transport_cost_gbp"] - to_s3["transport_cost_gbp"], abs=0.01
    )
    assert d["total_cost_gbp"] == pytest.approx(d["place_cost_gbp"] + d["transport_cost_gbp"])
    cap = ds.policy.max_travel_min.primary  # C6 is 7: primary
    assert d["children_over_journey_cap"] == -int(to_s3["travel_min"] > cap)


def test_who_moves_counts_by_type_and_package(tiny_cmp):
    ds, sc, cmp = tiny_cmp
    opts = optimiser.options(ds, sc)
    transport = (
        arc(opts, "C6", "S2")["transport_cost_gbp"] - arc(opts, "C6", "S3")["transport_cost_gbp"]
    )
    moves = cmp.moves
    assert len(moves) == 1
    row = moves.iloc[0]
    assert (
        row["scenario"],
        row["package_id"],
        row["from_type"],
        row["to_type"],
        row["children"],
    ) == (sc.name, "P1", "independent_special", "inclusion_base", 1)
    assert row["place_change_gbp"] == -45000
    assert row["transport_change_gbp"] == pytest.approx(transport, abs=0.01)
    assert row["total_change_gbp"] == pytest.approx(-45000 + transport, abs=0.01)
    assert list(moves.columns) == [
        "scenario",
        "package_id",
        "from_type",
        "to_type",
        "children",
        "place_change_gbp",
        "transport_change_gbp",
        "unplaced_change_gbp",
        "total_change_gbp",
    ]


def test_who_moves_counts_unplaced_and_ignores_new_children(tiny):
    """Closing S2: C1, C2 and C6 lose their base. New children from demand growth are left out."""
    base = optimiser.allocate(tiny)
    sc = scenario({"close_setting": {"setting_id": "S2"}}, {"demand_growth": {"P1": 2.0}})
    other = optimiser.allocate(tiny, sc)
    moves = who_moves(base, other, scenario="closed")
    base_at = base.placements.set_index("child_id")["setting_id"]
    other_at = other.placements.set_index("child_id")["setting_id"]
    moved = [c for c in tiny.children["child_id"] if base_at.get(c, "") != other_at.get(c, "")]
    assert {"C1", "C2"} <= set(moved)
    assert moves["children"].sum() == len(moved)
    assert (moves["from_type"] != "unplaced").all()  # everyone was placed in the baseline
    assert set(moves["scenario"]) == {"closed"}
    assert moves["total_change_gbp"].is_monotonic_increasing


def test_kpi_table_shape(tiny_cmp):
    _ds, sc, cmp = tiny_cmp
    assert list(cmp.kpis.columns) == ["baseline", sc.name]
    assert list(cmp.deltas.columns) == [sc.name]
    rows = set(cmp.kpis.index)
    assert set(DESIGN_KPIS) <= rows
    assert {
        "capital_cost_gbp",
        "children_over_journey_cap",
        "mainstream_preference_met_share",
        "placed_children",
    } <= rows
    for pkg in ("P1", "P2"):
        for phase in ("primary", "secondary", "post16"):
            assert f"placed_children_{pkg}_{phase}" in rows
            assert f"unplaced_children_{pkg}_{phase}" in rows
    # by hand: P1 primary = C1 C2 C6, P1 secondary = C3, P2 primary = C5, P2 secondary = C4
    base = cmp.kpis["baseline"]
    assert base[
        [
            "placed_children_P1_primary",
            "placed_children_P1_secondary",
            "placed_children_P1_post16",
            "placed_children_P2_primary",
            "placed_children_P2_secondary",
        ]
    ].tolist() == [3, 1, 0, 1, 1]
    assert base["place_cost_gbp"] == 15000 * 2 + 26000 + 28000 * 2 + 60000
    assert base["inmss_children"] == 1 and base["inmss_cost_gbp"] == 60000
    assert cmp.kpis[sc.name]["place_cost_gbp"] == 15000 * 3 + 26000 + 28000 * 2
    assert cmp.kpis.index.is_unique


def test_kpis_equal_each_results_kpis(tiny_cmp):
    ds, sc, cmp = tiny_cmp
    for name, res in cmp.results.items():
        for key, value in res.kpis.items():
            assert cmp.kpis.at[key, name] == pytest.approx(value, nan_ok=True)
    single = optimiser.allocate(ds, sc)
    assert cmp.kpis[sc.name]["total_cost_gbp"] == pytest.approx(single.kpis["total_cost_gbp"])


def test_deltas_are_scenario_minus_baseline(tiny):
    a = scenario(ONE_MORE, name="a")
    b = scenario({"cap_fees": {"max_annual_cost_gbp": 30000}}, name="b")
    c = scenario(
        {
            "add_setting": {
                "setting_id": "N1",
                "name": "n",
                "setting_type": "inclusion_base",
                "easting": 384000,
                "northing": 396500,
                "age_min": 4,
                "age_max": 11,
                "places": {"P1": 2},
                "capital_cost_gbp": 40000,
            }
        },
        name="c",
    )
    cmp = compare_scenarios(tiny, [a, b, c])
    assert list(cmp.kpis.columns) == ["baseline", "a", "b", "c"]
    for name in "abc":
        expected = cmp.kpis[name] - cmp.kpis["baseline"]
        pd.testing.assert_series_equal(cmp.deltas[name], expected, check_names=False)
    assert cmp.kpis.loc["capital_cost_gbp"].tolist() == [0, 0, 0, 40000]
    # fee cap at 30,000: C6 stays at S3 (its first preference) for 30,000 instead of 60,000
    assert cmp.deltas.at["place_cost_gbp", "b"] == -30000
    assert cmp.deltas.at["inmss_children", "b"] == 0
    assert set(cmp.moves["scenario"]) <= {"a", "b", "c"}
    pd.testing.assert_frame_equal(optimiser.compare(tiny, [a, b, c]), cmp.kpis)


def test_no_scenarios_gives_the_baseline_only(tiny):
    cmp = compare_scenarios(tiny, [])
    assert list(cmp.kpis.columns) == ["baseline"]
    assert cmp.deltas.shape == (len(cmp.kpis), 0)
    assert cmp.moves.empty


@pytest.mark.parametrize("names", [["x", "x"], ["baseline"], ["a", "baseline"]])
def test_duplicate_or_baseline_names_are_rejected(tiny, names):
    options_ = [scenario(ONE_MORE, name=n) for n in names]
    with pytest.raises(ValueError, match="unique and not 'baseline'"):
        optimiser.compare(tiny, options_)


def test_compare_validates_before_solving_and_leaves_ds_alone(tiny):
    before = tiny.places.copy(deep=True), tiny.settings.copy(deep=True)
    good = scenario(ONE_MORE, name="good")
    bad = scenario(
        {"set_places": {"setting_id": "S9", "package_id": "P1", "places": 1}},
        name="bad",
        source="bad.yaml",
    )
    with pytest.raises(optimiser.DataValidationError, match=r"bad\.yaml, change 1 \(set_places\)"):
        optimiser.compare(tiny, [good, bad])
    optimiser.compare(tiny, [good])
    pd.testing.assert_frame_equal(tiny.places, before[0])
    pd.testing.assert_frame_equal(tiny.settings, before[1])


# --- default data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inmss_homes(default_ds):
    """A new SEMH school where the most INMSS-placed children to place live."""
    res = optimiser.allocate(default_ds)
    p = res.placements
    inm = p[p["setting_type"].isin(INMSS) & ~p["continuing"]]
    if inm.empty:
        pytest.skip("no newly placed INMSS children in the default data")
    pkg, phase = inm.groupby(["package_id", "phase"]).size().idxmax()
    group = inm[(inm["package_id"] == pkg) & (inm["phase"] == phase)]
    homes = default_ds.children.set_index("child_id").loc[group["child_id"]]
    ages = homes["age"].astype(int)
    change = {
        "add_setting": {
            "setting_id": "NEW-SEMH",
            "name": "New special school",
            "setting_type": "maintained_special",
            "easting": float(homes["easting"].median()),
            "northing": float(homes["northing"].median()),
            "age_min": int(ages.min()),
            "age_max": int(ages.max()),
            "places": {pkg: len(group)},
            "annual_cost_gbp": {pkg: 30000},
            "capital_cost_gbp": 60000 * len(group),
        }
    }
    return res, change, len(group)


def test_new_school_next_to_inmss_children_reduces_inmss_reliance(default_ds, inmss_homes):
    res, change, n = inmss_homes
    sc = scenario(change, name="new school")
    semh = optimiser.load_scenario(EXAMPLES / "semh_expansion_egerton_high.yaml")
    cmp = compare_scenarios(default_ds, [sc, semh])
    assert cmp.kpis.at["inmss_children", "baseline"] == res.kpis["inmss_children"]
    for name in ("new school", semh.name):
        assert cmp.deltas.at["inmss_children", name] < 0
        assert cmp.deltas.at["inmss_cost_gbp", name] < 0
        assert cmp.deltas.at["inmss_share", name] < 0
        moved = cmp.moves[cmp.moves["scenario"] == name]
        out_of_inmss = moved[moved["from_type"].isin(INMSS) & ~moved["to_type"].isin(INMSS)][
            "children"
        ].sum()
        assert out_of_inmss > 0
    placed_new = cmp.results["new school"].placements["setting_id"].eq("NEW-SEMH").sum()
    assert 0 < placed_new <= n
    assert cmp.kpis.at["capital_cost_gbp", "new school"] == 60000 * n
    assert cmp.kpis.at["capital_cost_gbp", semh.name] == 1440000


def test_process_pool_gives_the_same_table(default_ds):
    options_ = [
        optimiser.load_scenario(EXAMPLES / f)
        for f in ("semh_expansion_egerton_high.yaml", "inmss_fee_cap.yaml")
    ]
    one = compare_scenarios(default_ds, options_, workers=1)
    two = compare_scenarios(default_ds, options_, workers=2)
    pd.testing.assert_frame_equal(one.kpis, two.kpis)
    pd.testing.assert_frame_equal(one.deltas, two.deltas)
    pd.testing.assert_frame_equal(one.moves, two.moves)
    for name in one.results:
        pd.testing.assert_frame_equal(one.results[name].placements, two.results[name].placements)


def test_fee_cap_example_lowers_inmss_cost_only(default_ds):
    cap = optimiser.load_scenario(EXAMPLES / "inmss_fee_cap.yaml")
    cmp = compare_scenarios(default_ds, [cap])
    capped = cmp.results[cap.name].placements
    fees = capped.loc[capped["setting_type"] == "independent_special", "place_cost_gbp"]
    assert (fees <= 55000).all()
    assert cmp.deltas.at["inmss_cost_gbp", cap.name] <= 0
    assert cmp.deltas.at["place_cost_gbp", cap.name] < 0
    assert cmp.kpis.at["capital_cost_gbp", cap.name] == 0
    assert np.isclose(
        cmp.deltas.at["total_cost_gbp", cap.name],
        cmp.deltas.at["place_cost_gbp", cap.name]
        + cmp.deltas.at["transport_cost_gbp", cap.name]
        + cmp.deltas.at["unplaced_cost_gbp", cap.name],
    )


# --- CLI ----------------------------------------------------------------------------------


def test_cli_compare_on_the_default_data():
    result = runner.invoke(
        app,
        [
            "compare",
            str(EXAMPLES / "inmss_fee_cap.yaml"),
            str(EXAMPLES / "semh_expansion_egerton_high.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    for text in (
        "baseline",
        "INMSS fee cap 55k",
        "SEMH expansion at Egerton High",
        "children in INMSS",  # KPIs in plain English
        "capital cost of the option",
        "Who moves",
    ):
        assert text in result.output


def test_cli_compare_tiny_with_moves_out(tiny_path, tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(
        "name: one more\nchanges:\n  - set_places: {setting_id: S2, package_id: P1, places: 3}\n"
    )
    out = tmp_path / "moves.csv"
    result = runner.invoke(app, ["compare", str(tiny_path), str(path), "--moves-out", str(out)])
    assert result.exit_code == 0, result.output
    moves = pd.read_csv(out)
    assert moves[["package_id", "from_type", "to_type", "children"]].values.tolist() == [
        ["P1", "independent_special", "inclusion_base", 1]
    ]
    assert "-£45,000" in result.output  # the place-cost delta


def test_cli_compare_bad_scenario_exits_1_without_traceback(tiny_path, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nchanges:\n  - close_setting: {setting_id: S9}\n")
    result = runner.invoke(app, ["compare", str(tiny_path), str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "bad.yaml, change 1 (close_setting) setting_id: found 'S9'" in result.output
    assert "Traceback" not in result.output


def test_cli_compare_malformed_yaml_exits_1(tiny_path, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nchanges: [\n")
    result = runner.invoke(app, ["compare", str(tiny_path), str(path)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "malformed YAML" in result.output
    assert "Traceback" not in result.output


def test_cli_compare_one_option_twice_exits_1_without_traceback(tiny_path, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nchanges:\n  - close_setting: {setting_id: S2}\n")
    result = runner.invoke(app, ["compare", str(tiny_path), str(path), str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "'x' more than once" in result.output and "its own `name:`" in result.output
    assert "Traceback" not in result.output


def test_an_option_named_baseline_is_refused(tiny):
    with pytest.raises(optimiser.DataValidationError, match="reserved for the baseline"):
        compare_scenarios(tiny, [scenario(name="baseline")])


def test_solves_already_made_are_used_and_give_the_same_comparison(tiny_cmp, monkeypatch):
    ds, sc, cmp = tiny_cmp
    solved = {"baseline": cmp.results["baseline"], sc.name: cmp.results[sc.name]}
    import optimiser.scenarios.compare as compare_module

    def no_solve(job):
        raise AssertionError("solved again")

    monkeypatch.setattr(compare_module, "_solve", no_solve)
    again = compare_scenarios(ds, [sc], solved=solved)
    pd.testing.assert_frame_equal(again.kpis, cmp.kpis)
    pd.testing.assert_frame_equal(again.moves, cmp.moves)
    monkeypatch.undo()
    # only the missing one is solved
    partial = compare_scenarios(ds, [sc], solved={"baseline": cmp.results["baseline"]})
    pd.testing.assert_frame_equal(partial.kpis, cmp.kpis)
