"""Terminal tables and CSV outputs a planner can read (issue 14).

* Terminal tables never cut a figure ("£46,…") at 80 or 120 columns; ``compare``
  splits its table by option when the options do not fit.
* ``compare --out`` writes the KPI table (baseline, options, changes) as CSV or XLSX,
  never over an existing file; CSV figures are rounded by unit.
* ``allocate`` summarises every unplaced child by reason category × package × phase,
  adding up to the total, and points to the per-child CSV.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.allocation.unplaced import REASON_CATEGORIES, reason_summary
from optimiser.cli.app import app
from optimiser.dataset.save import save_dataset
from optimiser.reports.labels import format_value

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OPTIONS = [
    EXAMPLES / "inmss_fee_cap.yaml",
    EXAMPLES / "all_three.yaml",
    EXAMPLES / "semh_expansion_egerton_high.yaml",
]
runner = CliRunner()
WIDTHS = (80, 120)


def run(args: list[str], columns: int):
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def assert_nothing_cut(output: str, columns: int) -> None:
    """No cell cut short, and every table within the terminal (plain lines may wrap)."""
    assert "…" not in output
    tables = [line for line in output.splitlines() if set(line) & set("┃│━─")]
    assert tables and max(map(len, tables)) <= columns


@pytest.mark.parametrize("columns", WIDTHS)
def test_compare_shows_every_figure_in_full(default_ds, columns):
    output = run(["compare", *OPTIONS], columns)
    assert_nothing_cut(output, columns)
    cmp = optimiser.compare(default_ds, [optimiser.load_scenario(p) for p in OPTIONS])
    for name in cmp.columns:
        assert format_value("total_cost_gbp", cmp.at["total_cost_gbp", name]) in output
    assert "total cost a year" in output and "total_cost_gbp" not in output  # plain English


def test_compare_at_80_columns_gives_each_option_its_own_table(default_ds):
    output = run(["compare", *OPTIONS], 80)
    assert output.count("against the baseline (Δ = change)") == len(OPTIONS)
    wide = run(["compare", *OPTIONS], 200)
    assert "against the baseline (Δ = change)" not in wide  # one table when it fits


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize(
    "args",
    [["allocate"], ["horizon", "--years", "1"], ["transport", "--no-routes"], ["calibrate"]],
    ids=["allocate", "horizon", "transport", "calibrate"],
)
def test_other_tables_never_cut_a_figure(default_ds, args, columns):
    assert_nothing_cut(run(args, columns), columns)


# --- compare --out ------------------------------------------------------------------------


def test_compare_out_csv_is_the_kpi_table_rounded(default_ds, tmp_path):
    out = tmp_path / "compare.csv"
    output = run(["compare", OPTIONS[0], "--out", out], 120)
    assert f"wrote {out}" in output
    table = pd.read_csv(out)
    sc = optimiser.load_scenario(OPTIONS[0])
    assert list(table.columns) == ["measure", "label", "baseline", sc.name, f"change: {sc.name}"]
    kpis = optimiser.compare(default_ds, [sc])
    assert table["measure"].tolist() == list(kpis.index)
    rows = table.set_index("measure")
    assert rows.at["total_cost_gbp", "label"] == "total cost a year (place + transport + unplaced)"
    for key in kpis.index:
        tol = 0.05 if key.endswith("_min") else 0.01  # minutes to 0.1
        for col in ("baseline", sc.name):
            assert rows.at[key, col] == pytest.approx(kpis.at[key, col], abs=tol)
        change = kpis.at[key, sc.name] - kpis.at[key, "baseline"]
        assert rows.at[key, f"change: {sc.name}"] == pytest.approx(change, abs=2 * tol)
    text = out.read_text()
    money = re.findall(r"-?\d+\.(\d+)", text.splitlines()[1])  # the total cost row
    assert money and all(len(d) <= 2 for d in money)  # to the penny
    share = rows.at["inmss_share", "baseline"]
    assert share == round(share, 4)


def test_compare_out_xlsx_holds_numbers_in_their_formats(tmp_path):
    out = tmp_path / "compare.xlsx"
    run(["compare", OPTIONS[0], "--out", out], 120)
    ws = openpyxl.load_workbook(out)["Comparison"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=4) if r[0].value}
    total = rows["total cost a year (place + transport + unplaced)"]
    assert isinstance(total[1].value, float) and total[1].number_format == "£#,##0"
    assert total[3].number_format == "+£#,##0;-£#,##0;£0"
    assert ws.page_setup.orientation == "landscape"


def test_compare_out_never_overwrites_and_checks_first(tmp_path):
    out = tmp_path / "compare.csv"
    out.write_text("keep me")
    result = runner.invoke(app, ["compare", str(OPTIONS[0]), "--out", str(out)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert out.read_text() == "keep me"
    bad = runner.invoke(app, ["compare", str(OPTIONS[0]), "--out", str(tmp_path / "c.txt")])
    assert bad.exit_code == 1 and ".csv or .xlsx" in bad.output
    assert "Solving" not in bad.output and not (tmp_path / "c.txt").exists()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_compare_out_keeps_a_formula_like_option_name_inert(tiny_path, tmp_path, suffix):
    sc = tmp_path / "option.yaml"
    sc.write_text(
        "name: '=SUM(1,2)'\nchanges:\n  - set_places: {setting_id: S2, package_id: P1, places: 3}\n"
    )
    out = tmp_path / f"compare{suffix}"
    run(["compare", tiny_path, sc, "--out", out], 120)
    if suffix == ".csv":
        assert "'=SUM(1,2)" in pd.read_csv(out).columns
    else:
        ws = openpyxl.load_workbook(out)["Comparison"]
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        assert not [c for c in cells if c.data_type == "f"]
        assert any(c.value == "=SUM(1,2)" and c.data_type == "s" for c in cells)


def test_csv_outputs_round_by_unit(tiny_path, tmp_path):
    out = tmp_path / "placements.csv"
    result = runner.invoke(app, ["allocate", str(tiny_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = pd.read_csv(out, dtype=str)
    for col, places in (("transport_cost_gbp", 2), ("travel_min", 1), ("distance_km", 2)):
        decimals = text[col].str.partition(".")[2].str.len()
        assert (decimals <= places).all(), (col, text[col].tolist())


# --- reasons that add up ------------------------------------------------------------------


@pytest.fixture(scope="module")
def stressed(default_ds, tmp_path_factory) -> tuple[Path, optimiser.Dataset]:
    """The default data with SPP5 delivered nowhere, SPP4 places halved, a 5-minute post-16
    cap: some 30 children unplaced across all three reason categories."""
    places = default_ds.places
    places = places[places["package_id"] != "SPP5"].reset_index(drop=True)
    spp4 = places["package_id"] == "SPP4"
    places.loc[spp4, "places"] = (places.loc[spp4, "places"] * 0.5).round()
    caps = default_ds.policy.max_travel_min.model_copy(update={"post16": 5.0})
    policy = default_ds.policy.model_copy(update={"max_travel_min": caps})
    ds = default_ds.replace(places=places, policy=policy)
    return save_dataset(ds, tmp_path_factory.mktemp("stressed") / "data"), ds


def test_reason_summary_adds_up_across_categories(stressed):
    _, ds = stressed
    res = optimiser.allocate(ds)
    assert len(res.unplaced) >= 20
    summary = reason_summary(ds, res.unplaced)
    assert summary["unplaced_children"].sum() == len(res.unplaced)
    assert set(summary["reason_category"]) == {c for _, c in REASON_CATEGORIES}
    assert not summary.duplicated(["reason_category", "package_id", "phase"]).any()
    assert res.unplaced["reason"].nunique() > len(summary) / 2  # detail folds into categories


@pytest.mark.parametrize("columns", WIDTHS)
def test_allocate_prints_every_unplaced_child_in_the_summary(stressed, columns):
    folder, ds = stressed
    res = optimiser.allocate(ds)
    output = run(["allocate", folder], columns)
    assert_nothing_cut(output, columns)
    total = len(res.unplaced)
    assert f"{total} children could not be placed" in output
    block = output[output.index(f"{total} children could not be placed") :]
    rows = re.findall(r"^│ (.+?) │ (\S*) +│ (\S*) +│ +(\d+) │$", block, re.M)
    data = [int(n) for reason, *_, n in rows if reason.strip() != "total"]
    totals = [int(n) for reason, *_, n in rows if reason.strip() == "total"]
    assert totals == [total]
    # folded reason cells are continuation rows without a count
    assert sum(data) == total
    assert "--unplaced-out" in output


def test_allocate_unplaced_out_keeps_each_childs_reason(stressed, tmp_path):
    folder, ds = stressed
    out = tmp_path / "unplaced.csv"
    output = run(["allocate", folder, "--unplaced-out", out], 120)
    detail = pd.read_csv(out)
    assert len(detail) == len(optimiser.allocate(ds).unplaced)
    assert {"child_id", "package_id", "reason"} <= set(detail.columns)
    assert "--unplaced-out FILE" not in output  # asked for: no hint
