"""Why a child went where they did (``optimiser.explain``), the preference audit and the
``honour_preference_below_gbp`` policy, on hand-solvable cases and the default data.

Hand values (flat transport of ``helpers.FLAT_TRANSPORT``, default policy otherwise): road
km = straight km × 1.3 at 24 km/h (1 straight km = 3.25 min); transport £798.09 per
straight km (2 × 1.3 / 1.609344 × 190 × £2.60, to 2 dp per arc); unranked penalty £10,000
when the parent ranked some settings; journey cap 45 min for a child of 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import FLAT_TRANSPORT
from typer.testing import CliRunner

import optimiser
from optimiser._errors import UnknownChildError
from optimiser.allocation.arcs import honour_terms
from optimiser.allocation.explain import EXPLAIN_COLUMNS, explain
from optimiser.allocation.preferences import AUDIT_COLUMNS, audit_summary, preference_audit
from optimiser.cli.app import app
from optimiser.scenarios.scenario import scenario_from_mapping

E0, N0 = 380000.0, 395000.0
KM = 798.09  # transport per straight km, to 2 dp
SETTING = dict(setting_type="maintained_special", northing=N0, age_min=4, age_max=19)
CHILD = dict(
    package_id="P1", age=8, northing=N0, prefers_mainstream="false", solo_transport="false"
)


def _cells(rows: list[dict], defaults: dict) -> pd.DataFrame:
    return pd.DataFrame([{**defaults, **r} for r in rows])


def write_case(folder: Path, settings, places, children, policy=None) -> Path:
    """A dataset folder; settings total_places default to the sum of their places."""
    folder.mkdir(parents=True, exist_ok=True)
    totals = pd.DataFrame(places).groupby("setting_id")["places"].sum()
    for s in settings:
        s.setdefault("total_places", int(totals.get(s["setting_id"], 0)))
        s.setdefault("name", f"School {s['setting_id']}")
    _cells(settings, SETTING).to_csv(folder / "settings.csv", index=False)
    _cells(places, {}).to_csv(folder / "places.csv", index=False)
    kids = _cells(children, {**CHILD, "preferences": "", "current_setting_id": ""})
    kids.to_csv(folder / "children.csv", index=False)
    pkgs = sorted({p["package_id"] for p in places} | {"P1"})
    pd.DataFrame({"package_id": pkgs, "name": pkgs}).to_csv(folder / "packages.csv", index=False)
    text = yaml.safe_dump({"transport": FLAT_TRANSPORT, **(policy or {})})
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    return folder


def reasons_case(tmp_path: Path) -> optimiser.Dataset:
    """K1 (new, age 8, at E0) and every way a setting can be chosen or ruled out.

    S1 (+1 km) 1 P1 place, held by continuing K0; S2 (+2 km) 1 P1 place £20,000; S3 (−2 km)
    5 P1 @ £25,000; S4 (at home) 5 P1 @ £30,000; S5 ages 11-16; S6 P2 only; S7 (+20 km, 65
    min). K2 lives at S2 (0 km; S3 is 4 km away).
      K1@S3 + K2@S2 = (25000 + 1596.18) + 20000            = 46596.18   ← optimum
      K1@S2 + K2@S3 = (20000 + 1596.18) + (25000 + 3192.36) = 49788.54   (+3192.36)
      K1@S4 = 30000 (spare place): dearer than S3 by 3403.82.
    """
    settings = [
        dict(setting_id="S1", easting=E0 + 1000),
        dict(setting_id="S2", easting=E0 + 2000),
        dict(setting_id="S3", easting=E0 - 2000),
        dict(setting_id="S4", easting=E0),
        dict(setting_id="S5", easting=E0 + 100, age_min=11, age_max=16),
        dict(setting_id="S6", easting=E0 + 200),
        dict(setting_id="S7", easting=E0 + 20000),
    ]
    places = [
        dict(setting_id="S1", package_id="P1", places=1, annual_cost_gbp=20000),
        dict(setting_id="S2", package_id="P1", places=1, annual_cost_gbp=20000),
        dict(setting_id="S3", package_id="P1", places=5, annual_cost_gbp=25000),
        dict(setting_id="S4", package_id="P1", places=5, annual_cost_gbp=30000),
        dict(setting_id="S5", package_id="P1", places=5, annual_cost_gbp=20000),
        dict(setting_id="S6", package_id="P2", places=5, annual_cost_gbp=20000),
        dict(setting_id="S7", package_id="P1", places=5, annual_cost_gbp=20000),
    ]
    children = [
        dict(child_id="K0", easting=E0 + 1000, current_setting_id="S1"),
        dict(child_id="K1", easting=E0),
        dict(child_id="K2", easting=E0 + 2000),
    ]
    return optimiser.load_dataset(write_case(tmp_path / "reasons", settings, places, children))


def test_explain_gives_every_setting_its_reason(tmp_path):
    ds = reasons_case(tmp_path)
    table = explain(ds, "K1")
    assert list(table.columns) == EXPLAIN_COLUMNS
    got = dict(zip(table["setting_id"], table["reason"], strict=True))
    assert table["setting_id"].tolist()[:4] == ["S3", "S1", "S2", "S4"]  # chosen, then by cost
    assert table["chosen"].tolist() == [True] + [False] * 6
    assert got["S3"] == "chosen: the least-cost eligible setting with a place"
    assert got["S2"] == (
        "full: 1 P1 place held by 0 continuing and 1 new children; placing this child here "
        "costs £3,192 a year more (1 other child moves)"
    )
    assert got["S1"].startswith("full: its 1 P1 place is held by a continuing child")
    assert got["S4"].startswith("dearer by £3,404 a year than S3 (place + transport), with a place")
    assert got["S5"] == "wrong age: takes ages 11-16, the child is 8"
    assert got["S6"] == "package not offered: P1 (it has P2)"
    assert got["S7"].startswith("beyond the journey cap: 65.0 min against the 45-min primary")
    chosen = table.iloc[0]
    assert chosen["place_cost_gbp"] == 25000 and chosen["transport_cost_gbp"] == 2 * KM
    assert table.loc[table["setting_id"] == "S7", "eligible"].item() is False
    assert table["one_more_place_gbp"].isna().all()  # placed: no advice
    assert table.attrs["summary"][0].startswith("K1 (P1, age 8, primary, journey cap 45 min)")


def test_explain_continuing_child_and_scenario(tmp_path):
    ds = reasons_case(tmp_path)
    table = explain(ds, "K0")
    assert table.iloc[0]["reason"] == "chosen: continuing placement (policy continuity: keep)"
    others = dict(zip(table["setting_id"], table["reason"], strict=True))
    assert others["S3"].startswith("not considered: the child continues at S1")
    sc = scenario_from_mapping(
        {"name": "close S3", "changes": [{"close_setting": {"setting_id": "S3"}}]}
    )
    closed = explain(ds, "K1", sc)
    assert closed.iloc[0]["setting_id"] == "S4"
    assert dict(zip(closed["setting_id"], closed["reason"], strict=True))["S3"] == "closed"


def unplaced_case(tmp_path: Path) -> optimiser.Dataset:
    """One P1 place at S1 (E0) for K1 (E0) and K2 (+1 km); S2 (+3 km) has 0 places.

    K1@S1 = 20000 < K2@S1 = 20798.09, so K2 is unplaced. One more place at S1 places K2 for
    £20,798.09; at S2 for 20000 + 2 × 798.09 = £21,596.18.
    """
    settings = [dict(setting_id="S1", easting=E0), dict(setting_id="S2", easting=E0 + 3000)]
    places = [
        dict(setting_id="S1", package_id="P1", places=1, annual_cost_gbp=20000),
        dict(setting_id="S2", package_id="P1", places=0, annual_cost_gbp=20000),
    ]
    children = [dict(child_id="K1", easting=E0), dict(child_id="K2", easting=E0 + 1000)]
    return optimiser.load_dataset(write_case(tmp_path / "unplaced", settings, places, children))


def test_explain_unplaced_child_says_what_would_place_them(tmp_path):
    ds = unplaced_case(tmp_path)
    assert optimiser.allocate(ds).unplaced["child_id"].tolist() == ["K2"]
    table = explain(ds, "K2")
    assert not table["chosen"].any()
    more = dict(zip(table["setting_id"], table["one_more_place_gbp"], strict=True))
    assert more == pytest.approx({"S1": 20000 + KM, "S2": 20000 + 2 * KM})
    got = dict(zip(table["setting_id"], table["reason"], strict=True))
    assert got["S1"].startswith("full: 1 P1 place held by 0 continuing and 1 new children")
    assert "would leave 1 other child unplaced instead" in got["S1"]
    summary = table.attrs["summary"]
    assert summary[0].startswith("K2 (P1, age 8, primary, journey cap 45 min) is unplaced")
    assert summary[1].startswith(
        "What would place them: one more P1 place at School S1 (S1), £20,798 a year"
    )


def test_explain_unknown_child_names_it_and_how_to_list_ids(tmp_path):
    ds = unplaced_case(tmp_path)
    with pytest.raises(UnknownChildError, match=r"child_id .K9. is not in .*did you mean K2, K1"):
        explain(ds, "K9")
    with pytest.raises(optimiser.OptimiserError, match=r"children\.csv"):
        optimiser.explain(ds, "nobody")


def preference_case(tmp_path: Path, **policy) -> optimiser.Dataset:
    """K1 (E0) ranks B only. A (+1 km) 1 P1 place @ £20,000; B (+2 km) 5 @ £32,000.

    A: 20000 + 798.09 + 10000 (unranked) = 30798.09; B: 32000 + 1596.18 = 33596.18 → A.
    Honouring B costs 33596.18 − 20798.09 = £12,798.09 a year. With T the unranked weight
    becomes max(10000, 0 + T): A = 20798.09 + T, so B wins once T > 12798.09.
    """
    settings = [dict(setting_id="A", easting=E0 + 1000), dict(setting_id="B", easting=E0 + 2000)]
    places = [
        dict(setting_id="A", package_id="P1", places=1, annual_cost_gbp=20000),
        dict(setting_id="B", package_id="P1", places=5, annual_cost_gbp=32000),
    ]
    children = [dict(child_id="K1", easting=E0, preferences="B")]
    folder = write_case(tmp_path / f"pref{len(policy)}", settings, places, children, policy)
    return optimiser.load_dataset(folder)


def test_audit_costs_an_unmet_preference_with_a_spare_place(tmp_path):
    ds = preference_case(tmp_path)
    res = optimiser.allocate(ds)
    audit = preference_audit(ds, res, threshold_gbp=15000)
    assert list(audit.columns) == AUDIT_COLUMNS
    row = audit.iloc[0]
    assert len(audit) == 1
    assert (row["child_id"], row["placed_setting_id"], row["preferred_setting_id"]) == (
        "K1",
        "A",
        "B",
    )
    assert row["spare_place"] and row["preferred_rank"] == 1
    assert row["honour_cost_gbp"] == pytest.approx(12000 + KM)
    assert row["verdict"] == "honour: costs under £15,000 a year"
    low = preference_audit(ds, res, threshold_gbp=12000).iloc[0]["verdict"]
    assert low == "efficient use of resources: £12,000 a year or more"
    assert preference_audit(ds, res).iloc[0]["verdict"] == "no threshold set"
    assert explain(ds, "K1").attrs["summary"][1] == (
        "The parent's 1st preference School B (B): dearer by £12,798 a year than A "
        "(place + transport), with a place free; ranked 1st."
    )
    with pytest.raises(ValueError, match="not the allocation of this dataset"):
        preference_audit(preference_case(tmp_path, honour_preference_below_gbp=20000), res)


@pytest.mark.parametrize(("threshold", "placed"), [(12700, "A"), (12900, "B"), (50000, "B")])
def test_threshold_honours_a_preference_costing_less_extra(tmp_path, threshold, placed):
    ds = preference_case(tmp_path, honour_preference_below_gbp=threshold)
    res = optimiser.allocate(ds)  # the independent check recomputes the weights
    assert res.placements.set_index("child_id")["setting_id"]["K1"] == placed
    assert preference_audit(ds, res)["verdict"].str.startswith("honour").sum() == 0


def test_threshold_leaves_weights_already_far_apart():
    pens = np.array([0.0, 3000.0, 6000.0])
    rank = np.array([1.0, 2.0, 3.0, np.nan, np.nan, 1.0])
    n = np.array([3, 3, 3, 3, 1, 1])
    # T = 5000: ranks 0 / 5000 / 10000; unranked max(10000, 15000) with 3 ranked, 10000 with 1
    got = honour_terms(rank, n, pens, 10000.0, 5000.0)
    assert got.tolist() == [0.0, 2000.0, 4000.0, 5000.0, 0.0, 0.0]
    assert honour_terms(rank, n, pens, 10000.0, 0.0).tolist() == [0.0] * 6


def test_policy_scenario_shows_the_threshold_in_compare(tmp_path):
    ds = preference_case(tmp_path)
    sc = scenario_from_mapping(
        {"name": "honour", "changes": [{"policy": {"honour_preference_below_gbp": 15000}}]}
    )
    kpis = optimiser.compare(ds, [sc])
    assert kpis.loc["first_preference_share"].tolist() == [0.0, 1.0]
    assert kpis.loc["total_cost_gbp"].diff().iloc[1] == pytest.approx(12000 + KM)


def test_default_data_audit_and_threshold(default_ds):
    res = optimiser.allocate(default_ds)
    base = audit_summary(preference_audit(default_ds, res, threshold_gbp=15000))
    assert base["spare_pairs"] > 0 and base["honour_spare_pairs"] > 0
    policy = default_ds.policy.model_copy(update={"honour_preference_below_gbp": 15000})
    honoured = default_ds.replace(policy=policy)
    after = audit_summary(preference_audit(honoured, optimiser.allocate(honoured)))
    # the theorem of arcs.py: no preference with a spare place costing < T is left unmet,
    # and no full one that displaces nobody's preference or mainstream place either
    assert after["honour_pairs"] == 0
    assert after["spare_pairs"] < base["spare_pairs"]


def test_default_data_explains_its_unplaced_children(default_ds):
    res = optimiser.allocate(default_ds)
    for child in res.unplaced["child_id"]:
        table = explain(default_ds, child)
        assert table["one_more_place_gbp"].notna().any()
        assert table.attrs["summary"][1].startswith("What would place them: one more")


runner = CliRunner()


def test_cli_explain_and_audit(tmp_path):
    folder = write_case(
        tmp_path / "cli",
        [dict(setting_id="A", easting=E0 + 1000), dict(setting_id="B", easting=E0 + 2000)],
        [
            dict(setting_id="A", package_id="P1", places=1, annual_cost_gbp=20000),
            dict(setting_id="B", package_id="P1", places=5, annual_cost_gbp=32000),
        ],
        [dict(child_id="K1", easting=E0, preferences="B")],
    )
    result = runner.invoke(app, ["explain", str(folder), "K1"])
    assert result.exit_code == 0, result.output
    assert "is placed at School A (A)" in result.output
    missing = runner.invoke(app, ["explain", str(folder), "K7"])
    assert missing.exit_code == 1
    assert "child_id 'K7' is not in" in missing.output and "Traceback" not in missing.output
    out = tmp_path / "audit.csv"
    result = runner.invoke(app, ["audit", str(folder), "--threshold", "15000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 ranked preferences above the placement (1 child): 1 with a spare place" in (
        result.output
    )
    assert pd.read_csv(out)["verdict"].tolist() == ["honour: costs under £15,000 a year"]
