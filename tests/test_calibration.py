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
