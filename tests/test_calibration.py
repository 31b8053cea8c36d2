"""The calibration report: the baseline beside the LA's SEN2 return (issue 13)."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.dataset.init.national import sen2_placements
from optimiser.reports.calibration import calibration

runner = CliRunner()


@pytest.fixture(scope="module")
def table(default_ds):
    return calibration(default_ds).set_index("measure")


def test_sen2_column_is_traffords_own_return(table):
    sen2 = sen2_placements("358").sort_index().iloc[-1]
    assert table.filter(like="state special", axis=0)["sen2"].iloc[0] == sen2["state_special"]
    assert table.filter(like="INMSS (independent", axis=0)["sen2"].iloc[0] == 141
    assert table.filter(like="specialist cohort (all", axis=0)["sen2"].iloc[0] == 1164


def test_model_column_counts_the_baseline_allocation(default_ds, table):
    res = optimiser.allocate(default_ds)
    inmss = table.filter(like="INMSS (independent", axis=0).iloc[0]
    assert inmss["model"] == res.kpis["inmss_children"]
    unplaced = table.filter(like="not placed", axis=0).iloc[0]
    assert unplaced["model"] == res.kpis["unplaced_children"] and math.isnan(unplaced["sen2"])


def test_flags_follow_the_tolerances(table):
    for _, r in table.iterrows():
        if math.isnan(r["sen2"]) or math.isnan(r["model"]):
            assert r["flag"] == ""
        elif r["section"] == "placements":
            assert (r["flag"] == "off") == (abs(r["model"] / r["sen2"] - 1) > 0.05 + 1e-12)
        else:
            assert (r["flag"] == "off") == (abs(r["model"] - r["sen2"]) > 0.05 + 1e-12)


def test_new_placement_inmss_share_uses_the_sen2_trend(table):
    series = sen2_placements("358").sort_index()
    last = series.iloc[-1] - series.iloc[-2]
    row = table.filter(like="new placements (last year)", axis=0).iloc[0]
    assert row["sen2"] == pytest.approx(last["inmss"] / last["specialist"])


def test_a_dataset_without_an_la_code_says_how_to_fix_it(default_ds):
    ds = default_ds.replace(policy=default_ds.policy.model_copy(update={"la_code": None}))
    with pytest.raises(optimiser.OptimiserError, match="la_code"):
        calibration(ds)
    assert calibration(ds, la="Trafford")["sen2"].notna().any()


def test_cli_calibrate_prints_the_table_and_writes_csv(tmp_path):
    out = tmp_path / "cal.csv"
    result = runner.invoke(app, ["calibrate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "SEN2" in result.output and "differ materially" in result.output
    assert out.exists() and "state special" in out.read_text()
    again = runner.invoke(app, ["calibrate", "--out", str(out)])
    assert again.exit_code == 1 and "Traceback" not in again.output


def test_demo_ends_with_the_calibration_line():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Calibration to SEN2:" in result.output.splitlines()[-1]


# --- the embedded default reproduces Trafford's SEN2 return (issue 13) --------------------


def test_default_baseline_matches_sen2_within_five_percent_and_points(table):
    groups = table[table["section"] == "placements"].dropna(subset=["sen2"])
    assert len(groups) == 5
    assert (abs(groups["model"] / groups["sen2"] - 1) <= 0.05).all(), groups
    needs = table[table["section"] == "need"]
    assert len(needs) == 4 and needs.index.str.contains("primary need").all()
    assert (abs(needs["model"] - needs["sen2"]) <= 0.05).all(), needs
    inmss = table.filter(like="INMSS share of the specialist cohort", axis=0).iloc[0]
    assert abs(inmss["model"] - inmss["sen2"]) <= 0.02
    # new placements use INMSS about as often as Trafford did over 2019-25 (15%), not 40%
    new = table.filter(like="new placements (since", axis=0).iloc[0]
    assert abs(new["model"] - new["sen2"]) <= 0.05


def test_need_rows_fall_back_to_packages_without_primary_need(default_ds):
    kids = default_ds.children.drop(columns="primary_need")
    cal = calibration(default_ds.replace(children=kids)).set_index("measure")
    rows = cal[cal["section"] == "need"]
    assert rows.index.str.contains("no primary_need held").all()
    spp3 = rows.filter(like="SPP3", axis=0).iloc[0]
    assert spp3["model"] == pytest.approx((kids["package_id"] == "SPP3").mean())


def test_need_rows_count_the_childrens_primary_need(default_ds):
    kids = default_ds.children.copy()
    kids["primary_need"] = "semh"  # every child SEMH: the SEMH share is 100%
    cal = calibration(default_ds.replace(children=kids)).set_index("measure")
    assert cal.filter(like="SEMH: share", axis=0)["model"].iloc[0] == 1.0
    assert cal.filter(like="autism and SLCN", axis=0)["model"].iloc[0] == 0.0


def test_workbook_has_a_calibration_sheet_in_both_modes(tmp_path):
    import openpyxl

    from optimiser.reports.workbook import write_workbook

    for publish in (False, True):
        path = tmp_path / f"wb_{publish}.xlsx"
        write_workbook(optimiser.load_default(), path, years=0, publish=publish)
        sheet = openpyxl.load_workbook(path, read_only=True)["Calibration"]
        rows = [r for r in sheet.iter_rows(values_only=True) if r and r[1]]
        by = {r[1]: r for r in rows}
        state = by["state special schools (LA maintained, academy, free)"]
        assert state[2] == 821 and isinstance(state[3], int | float)
        new = by["INMSS share of new placements (last year)"]
        assert (new[3] == "withheld in publish mode") == publish
        if publish:  # model counts are sums of the published (rounded) type counts
            assert state[3] % 5 == 0
