"""The planner's XLSX workbook read back with openpyxl: sheets, headers and numbers against the
API, working versus publish mode (disclosure control, no child rows), no overwriting, and the
``report`` command.

Every sheet has a title in row 1, a banner in row 2 and its header in row 3; data start in row 4.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.allocation.kpis import phase_places
from optimiser.cli.app import app
from optimiser.disclosure import publish_count
from optimiser.reports.labels import format_kpis
from optimiser.reports.workbook import build_tables, write_workbook

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HEADER_ROW = 3
SUB_LA_SHEETS = ("Wards", "INMSS", "Unplaced", "Sufficiency", "Transport")
runner = CliRunner()


def sheet_rows(book, name: str) -> list[dict]:
    """Data rows of a sheet as dicts keyed by the header (row 3)."""
    rows = list(book[name].iter_rows(min_row=HEADER_ROW, values_only=True))
    header = rows[0]
    return [dict(zip(header, r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def header(book, name: str) -> list[str]:
    return [c.value for c in book[name][HEADER_ROW] if c.value is not None]


def publishable(value: object) -> bool:
    if value == "c":
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value == 0 or (value > 7 and value % 5 == 0)


@pytest.fixture(scope="module")
def fee_cap():
    return optimiser.load_scenario(EXAMPLES / "inmss_fee_cap.yaml")


@pytest.fixture(scope="module")
def books(default_ds, fee_cap, tmp_path_factory):
    """The default data's workbook in both modes, with one scenario and a 1-year horizon."""
    folder = tmp_path_factory.mktemp("books")
    working = write_workbook(default_ds, folder / "working.xlsx", scenarios=[fee_cap], years=1)
    publish = write_workbook(
        default_ds, folder / "publish.xlsx", scenarios=[fee_cap], years=1, publish=True
    )
    return {"working": openpyxl.load_workbook(working), "publish": openpyxl.load_workbook(publish)}


@pytest.fixture(scope="module")
def baseline(default_ds):
    return optimiser.allocate(default_ds)


def test_sheet_names(books):
    common = [
        "Summary",
        "Comparison",
        "Sufficiency",
        "Wards",
        "INMSS",
        "Transport",
        "Unplaced",
        "Horizon",
        "Calibration",
    ]
    assert books["working"].sheetnames == [*common, "Placements"]
    assert books["publish"].sheetnames == common


def test_without_scenarios_or_horizon_those_sheets_are_absent(tiny, tmp_path):
    book = openpyxl.load_workbook(write_workbook(tiny, tmp_path / "t.xlsx", years=0))
    assert book.sheetnames == [
        "Summary",
        "Sufficiency",
        "Wards",
        "INMSS",
        "Transport",
        "Unplaced",
        "Placements",
    ]


def test_header_rows(books, fee_cap):
    for mode, book in books.items():
        assert header(book, "Summary") == ["measure", "value"]
        assert header(book, "Comparison") == [
            "measure",
            "baseline",
            fee_cap.name,
            f"change: {fee_cap.name}",
        ]
        assert header(book, "Sufficiency")[:2] == ["package_id", "phase"]
        assert header(book, "Wards")[:2] == ["ward_code", "ward_name"]
        assert header(book, "Unplaced")[:2] == ["package_id", "reason"]
        assert header(book, "Horizon")[:3] == ["year", "demand_children", "places"]
        for name in book.sheetnames:
            assert book[name]["A1"].value, (mode, name)  # a title
            assert ("PUBLISH" if mode == "publish" else "WORKING") in book[name]["A2"].value
    assert header(books["working"], "Placements")[:3] == ["child_id", "setting_id", "package_id"]
    assert header(books["working"], "Sufficiency") == [
        "package_id",
        "phase",
        "demand_children",
        "places",
        "placed_children",
        "inmss_children",
        "unplaced_children",
        "shortfall",
        "spare_places",
    ]


def _summary(book) -> list[tuple[str, str]]:
    return [
        (r["measure"], r["value"]) for r in sheet_rows(book, "Summary") if r["value"] is not None
    ]


def test_summary_kpis_equal_the_api(books, baseline):
    expected = format_kpis(baseline.kpis)
    assert expected  # the labels exist
    assert _summary(books["working"]) == expected
    labels = dict(expected)
    assert labels["children placed"] == f"{baseline.kpis['placed_children']:,.0f}"
    assert labels["INMSS share of placements"] == f"{baseline.kpis['inmss_share']:.1%}"
    assert (
        labels["total cost a year (place + transport + unplaced)"]
        == f"£{baseline.kpis['total_cost_gbp']:,.0f}"
    )


def test_publish_summary_kpis_are_the_published_figures(books, baseline):
    """LA totals too are rounded in publish mode: exact totals beside rounded parts leak."""
    got = dict(_summary(books["publish"]))
    assert [k for k, _ in _summary(books["publish"])] == [k for k, _ in format_kpis(baseline.kpis)]
    assert got["children placed"] == f"{publish_count(baseline.kpis['placed_children']):,.0f}"
    share = round(baseline.kpis["inmss_share"] * 100) / 100
    assert got["INMSS share of placements"] == f"{share:.1%}"
    place = round(baseline.kpis["place_cost_gbp"] / 100) * 100
    assert got["  place cost"] == f"£{place:,.0f}"
    # 2 unplaced → "c": their £ (a known rate each) and the total, whose difference from
    # place + transport would give the count back, are "c" too (test_disclosure_attacks)
    assert got["children without a suitable place"] == "c"
    assert got["  unplaced children's cost (INMSS proxy)"] == "c"
    assert got["total cost a year (place + transport + unplaced)"] == "c"


def test_sufficiency_numbers_equal_the_api(books, baseline, default_ds):
    rows = sheet_rows(books["working"], "Sufficiency")
    suff = baseline.sufficiency
    assert len(rows) == len(suff)
    for r, s in zip(rows, suff.itertuples(), strict=True):
        assert (r["package_id"], r["phase"]) == (s.package_id, s.phase)
        assert r["demand_children"] == s.demand
        assert r["places"] == pytest.approx(s.places)
        assert r["placed_children"] == s.placed
        assert r["inmss_children"] == s.placed_inmss
        assert r["unplaced_children"] == s.unplaced
        assert r["shortfall"] == pytest.approx(s.shortfall)
    published = sheet_rows(books["publish"], "Sufficiency")
    # published places: public information only, the age split (no placed child behind them)
    by_age = phase_places(default_ds, pd.Index(default_ds.packages["package_id"])).ravel()
    for r, s, places in zip(published, suff.itertuples(), by_age, strict=True):
        # the rule, or "c" where secondary suppression protects a small cell
        assert r["demand_children"] in (publish_count(s.demand), "c")
        assert r["places"] == places
        assert "shortfall" not in r


def test_comparison_sheet_equals_compare(books, default_ds, fee_cap):
    kpis = optimiser.compare(default_ds, [fee_cap])
    rows = {r["measure"]: r for r in sheet_rows(books["working"], "Comparison")}
    assert list(rows) == list(kpis.index)
    for key in ("total_cost_gbp", "inmss_cost_gbp", "inmss_children", "capital_cost_gbp"):
        assert rows[key]["baseline"] == pytest.approx(kpis.at[key, "baseline"])
        assert rows[key][fee_cap.name] == pytest.approx(kpis.at[key, fee_cap.name])
        assert rows[key][f"change: {fee_cap.name}"] == pytest.approx(
            kpis.at[key, fee_cap.name] - kpis.at[key, "baseline"]
        )


def test_horizon_sheet_has_each_year(books):
    rows = sheet_rows(books["working"], "Horizon")
    assert [r["year"] for r in rows] == [0, 1]
    assert rows[1]["demand_children"] == (
        rows[0]["demand_children"] - rows[1]["leavers_children"] + rows[1]["new_ehcp_children"]
    )


def test_working_placements_sheet_is_the_allocation(books, baseline):
    rows = sheet_rows(books["working"], "Placements")
    assert len(rows) == len(baseline.placements)
    assert [r["child_id"] for r in rows] == baseline.placements["child_id"].tolist()
    assert sum(r["place_cost_gbp"] for r in rows) == pytest.approx(baseline.kpis["place_cost_gbp"])


def test_working_tables_are_exact(default_ds, baseline):
    tables = build_tables(default_ds, baseline)
    assert tables.wards["demand_children"].sum() == len(default_ds.children)
    assert tables.wards["placed_children"].sum() == baseline.kpis["placed_children"]
    assert tables.inmss["inmss_children"].sum() == baseline.kpis["inmss_children"]
    assert tables.inmss["place_cost_gbp"].sum() == pytest.approx(baseline.kpis["inmss_cost_gbp"])
    assert tables.transport["transport_cost_gbp"].sum() == pytest.approx(
        baseline.kpis["transport_cost_gbp"]
    )
    assert tables.unplaced["unplaced_children"].sum() == baseline.kpis["unplaced_children"]


def _all_cells(book):
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            yield from (v for v in row if v is not None)


def test_publish_has_no_child_ids_anywhere(books, default_ds):
    ids = set(default_ds.children["child_id"].astype(str))
    token = re.compile(r"[A-Za-z0-9_\-]+")

    def hits(book):
        return {t for v in _all_cells(book) for t in token.findall(str(v)) if t in ids}

    assert hits(books["working"])  # the scan finds ids where they are (working: Placements)
    assert hits(books["publish"]) == set()


def test_publish_counts_are_disclosure_controlled(books):
    book = books["publish"]
    checked = 0
    for name in SUB_LA_SHEETS:
        for r in sheet_rows(book, name):
            for col, value in r.items():
                if str(col).endswith("_children"):
                    assert publishable(value), (name, col, value)
                    checked += 1
    assert checked > 100


def test_working_mode_has_small_counts_publish_suppresses(books):
    """Sanity for the check above: the working workbook does hold counts of 1-7."""
    small = [
        v
        for r in sheet_rows(books["working"], "Wards")
        for c, v in r.items()
        if c.endswith("_children") and isinstance(v, (int, float)) and 0 < v <= 7
    ]
    assert small
    published = [r["unplaced_children"] for r in sheet_rows(books["publish"], "Wards")]
    assert "c" in published


def test_publish_share_does_not_reveal_a_suppressed_count(books):
    for r in sheet_rows(books["publish"], "Wards"):
        if r["inmss_children"] == "c":
            assert r["inmss_share"] == "c", r["ward_code"]


def test_never_overwrites(tiny, tmp_path):
    path = tmp_path / "exists.xlsx"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="already exists"):
        write_workbook(tiny, path, years=0)
    assert path.read_bytes() == b"keep me"


# --- CLI ----------------------------------------------------------------------------------


def test_cli_report_writes_a_workbook(tmp_path):
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        app,
        [
            "report",
            "--xlsx",
            str(out),
            "--years",
            "1",
            "--scenario",
            str(EXAMPLES / "inmss_fee_cap.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "working mode" in result.output
    book = openpyxl.load_workbook(out)
    assert "Comparison" in book.sheetnames and "Placements" in book.sheetnames


def test_cli_report_publish_tiny(tiny_path, tmp_path):
    out = tmp_path / "pub.xlsx"
    result = runner.invoke(
        app, ["report", str(tiny_path), "--xlsx", str(out), "--years", "0", "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert "publish mode" in result.output
    book = openpyxl.load_workbook(out)
    assert "Placements" not in book.sheetnames
    assert not {f"C{i}" for i in range(1, 7)} & {str(v) for v in _all_cells(book)}


def test_cli_report_refuses_to_overwrite(tiny_path, tmp_path):
    out = tmp_path / "there.xlsx"
    out.write_bytes(b"old")
    result = runner.invoke(app, ["report", str(tiny_path), "--xlsx", str(out), "--years", "0"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"old"


def test_cli_report_bad_scenario_exits_1(tiny_path, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchanges:\n  - add_setting: {setting_id: S1}\n")
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        app, ["report", str(tiny_path), "--xlsx", str(out), "--years", "0", "--scenario", str(bad)]
    )
    assert result.exit_code == 1
    assert "bad.yaml, change 1 (add_setting)" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def _comparison_kind(measure: str) -> str:
    for suffix in ("_gbp", "_share", "_min"):
        if measure.endswith(suffix):
            return "per_child" if measure == "transport_cost_per_transported_child_gbp" else suffix
    return "count"


def test_publish_comparison_counts_go_through_the_rule(books, fee_cap):
    """Placed / unplaced by package × phase (and every KPI count) are "c" or rounded to 5."""
    working = {r["measure"]: r for r in sheet_rows(books["working"], "Comparison")}
    rows = {r["measure"]: r for r in sheet_rows(books["publish"], "Comparison")}
    assert list(rows) == list(working)
    options = ["baseline", fee_cap.name]
    small = 0
    for measure, r in rows.items():
        if _comparison_kind(measure) != "count":
            continue
        for option in options:
            assert publishable(r[option]), (measure, option, r[option])
            assert r[option] == publish_count(working[measure][option])
            small += 0 < working[measure][option] <= 7
        change = r[f"change: {fee_cap.name}"]
        if "c" in (r["baseline"], r[fee_cap.name]):
            assert change == "c"
        else:
            assert change == r[fee_cap.name] - r["baseline"]  # from the published figures
    assert small  # the working sheet does hold 1-7 counts (package × phase)


def test_publish_comparison_has_no_full_precision_share_or_money(books, fee_cap):
    rows = {r["measure"]: r for r in sheet_rows(books["publish"], "Comparison")}
    step = {"_gbp": 100, "per_child": 10}
    for measure, r in rows.items():
        kind = _comparison_kind(measure)
        for col in ("baseline", fee_cap.name, f"change: {fee_cap.name}"):
            value = r[col]
            if value == "c" or kind == "count":
                continue
            if kind == "_share":
                assert round(value * 100, 6) == round(value * 100), (measure, col, value)
            elif kind == "_min":
                assert value == int(value), (measure, col, value)
            else:
                assert value % step[kind] == 0, (measure, col, value)
    # a share whose counts are suppressed or not published is withheld
    assert rows["first_preference_share"]["baseline"] == "c"


def test_publish_summary_has_no_small_exact_counts(books):
    for r in sheet_rows(books["publish"], "Summary"):
        value = str(r["value"]).replace(",", "").replace("£", "")
        if value.replace(".", "").isdigit() and "." not in value and "%" not in value:
            number = int(value)
            assert number == 0 or (number > 7 and number % 5 == 0), r


def test_cli_publish_workbook_has_no_count_of_1_to_7(tmp_path):
    """The issue's case: placed/unplaced SPP5 and SPP6 counts were printed exactly."""
    out = tmp_path / "pub.xlsx"
    result = runner.invoke(
        app,
        [
            "report",
            "--xlsx",
            str(out),
            "--publish",
            "--years",
            "0",
            "--scenario",
            str(EXAMPLES / "autism_base_stretford_high.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    rows = sheet_rows(book, "Comparison")
    counts = [r for r in rows if _comparison_kind(r["measure"]) == "count"]
    assert any(r["measure"] == "placed_children_SPP5_primary" for r in counts)
    for r in counts:
        for col, value in r.items():
            if col.startswith("change: "):  # a difference of published figures
                assert value == "c" or value % 5 == 0, (r["measure"], col, value)
            elif col != "measure":
                assert publishable(value), (r["measure"], col, value)
    for name in SUB_LA_SHEETS:
        if name in book.sheetnames:
            for r in sheet_rows(book, name):
                for col, value in r.items():
                    if str(col).endswith("_children"):
                        assert publishable(value), (name, col, value)


def test_publish_derived_figures_are_rounded_on_every_sheet(books):
    """Shares whole %, £ per child and fees to £10, other £ to £100, minutes whole."""
    checked = 0
    for name in ("Wards", "INMSS", "Transport", "Comparison"):
        for r in sheet_rows(books["publish"], name):
            for col, value in r.items():
                col = str(col)
                if value == "c" or value is None or isinstance(value, str):
                    continue
                if col.endswith("_share"):
                    assert round(value * 100, 6) == round(value * 100), (name, col, value)
                elif col.endswith("_per_child") or col == "fee_gbp":
                    assert value % 10 == 0, (name, col, value)
                elif col.endswith("_gbp"):
                    assert value % 100 == 0, (name, col, value)
                elif col.endswith("_min"):
                    assert value == int(value), (name, col, value)
                else:
                    continue
                checked += 1
    assert checked > 20
