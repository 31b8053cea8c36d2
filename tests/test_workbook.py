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
from helpers import workbook_rows
from typer.testing import CliRunner

import optimiser
from optimiser.allocation.kpis import phase_places
from optimiser.cli.app import app
from optimiser.disclosure import publish_count
from optimiser.reports.labels import format_kpis, kpi_rows, kpi_unit
from optimiser.reports.workbook import build_tables, write_workbook

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HEADER_ROW = 3
SUB_LA_SHEETS = ("Wards", "INMSS", "Unplaced", "Sufficiency", "Transport")
runner = CliRunner()


def sheet_rows(book, name: str) -> list[dict]:
    """Data rows of a sheet as dicts keyed by column name (the row 3 headers read back)."""
    return workbook_rows(book, name, header_row=HEADER_ROW)


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
        assert header(book, "Summary") == ["Measure", "Value"]
        assert header(book, "Comparison") == [
            "Measure",
            "Baseline",
            fee_cap.name,  # an option keeps its name as the scenario file gives it
            f"change: {fee_cap.name}",
        ]
        assert header(book, "Sufficiency")[:2] == ["Package", "Phase"]
        assert header(book, "Wards")[:2] == ["Ward code", "Ward"]
        assert header(book, "Unplaced")[:2] == ["Package", "Reason"]
        assert header(book, "Horizon")[:4] == [
            "Year",
            "Academic year",
            "Demand (children)",
            "Places",
        ]
        for name in book.sheetnames:
            assert book[name]["A1"].value, (mode, name)  # a title
            assert ("PUBLISH" if mode == "publish" else "WORKING") in book[name]["A2"].value
    assert header(books["working"], "Placements")[:4] == [
        "Child id (pseudonymous)",
        "Setting id",
        "Setting name",
        "Package",
    ]
    assert header(books["working"], "Sufficiency") == [
        "Package",
        "Phase",
        "Demand (children)",
        "Places",
        "Placed (children)",
        "In INMSS (children)",
        "Without a place (children)",
        "Shortfall (places)",
        "Spare places",
    ]


def _summary(book) -> list[tuple[str, object]]:
    return [
        (r["measure"], r["value"]) for r in sheet_rows(book, "Summary") if r["value"] is not None
    ]


def test_summary_kpis_equal_the_api(books, baseline):
    """Every value a number in its unit's format, with the labels the terminal shows."""
    expected = kpi_rows(baseline.kpis)
    assert expected  # the labels exist
    got = _summary(books["working"])
    assert [label for label, _ in got] == [label for label, _ in format_kpis(baseline.kpis)]
    for (label, value), (_key, _, want) in zip(got, expected, strict=True):
        assert isinstance(value, (int, float)), (label, value)
        assert value == pytest.approx(want), label
    labels = dict(got)
    assert labels["children placed"] == baseline.kpis["placed_children"]
    assert labels["INMSS share of placements"] == pytest.approx(baseline.kpis["inmss_share"])
    assert labels["total cost a year (place + transport + unplaced)"] == pytest.approx(
        baseline.kpis["total_cost_gbp"]
    )
    formats = {
        r[0].value: r[1].number_format
        for r in books["working"]["Summary"].iter_rows(min_row=HEADER_ROW + 1, max_col=2)
        if r[1].value is not None
    }
    assert formats["total cost a year (place + transport + unplaced)"] == "£#,##0"
    assert formats["INMSS share of placements"] == "0.0%"
    assert formats["children placed"] == "#,##0"
    assert formats["mean journey (min)"] == "0.0"


def test_publish_summary_kpis_are_the_published_figures(books, baseline):
    """LA totals too are rounded in publish mode: exact totals beside rounded parts leak."""
    got = dict(_summary(books["publish"]))
    assert [k for k, _ in _summary(books["publish"])] == [k for k, _ in format_kpis(baseline.kpis)]
    assert got["children placed"] == publish_count(baseline.kpis["placed_children"])
    share = round(baseline.kpis["inmss_share"] * 100) / 100
    assert got["INMSS share of placements"] == pytest.approx(share)
    # the total only as the sum of its published parts: 2 unplaced ("c") withhold it
    assert got["total cost a year (place + transport + unplaced)"] == "c"
    assert got["  place cost"] == round(baseline.kpis["place_cost_gbp"] / 100) * 100
    assert got["longest journey (min)"] == "c"  # a withheld figure stays text


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
    first = int(rows[0]["academic_year"][:4])
    assert [r["academic_year"] for r in rows] == [
        f"{y}/{(y + 1) % 100:02d}" for y in (first, first + 1)
    ]
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


def test_publish_summary_has_no_small_exact_counts(books, baseline):
    units = {label.strip(): kpi_unit(key) for key, label, _ in kpi_rows(baseline.kpis)}
    counts = 0
    for r in sheet_rows(books["publish"], "Summary"):
        if r["value"] is not None and units[r["measure"].strip()] == "count":
            assert publishable(r["value"]), r
            counts += 1
    assert counts >= 8


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


# --- numbers as numbers, plain English, print set-up (issue 14) ---------------------------

NUMBER_TEXT = re.compile(r"^[-+]?£?[\d,]+(\.\d+)?%?$")


def test_no_figure_is_stored_as_text(books):
    """Every figure is a number (the Summary used to hold '£46,098,115'); only "c" is text."""
    for mode, book in books.items():
        for ws in book.worksheets:
            for row in ws.iter_rows(min_row=HEADER_ROW + 1):
                for c in row:
                    if isinstance(c.value, str):
                        assert not NUMBER_TEXT.match(c.value.replace(" ", "")), (
                            mode,
                            ws.title,
                            c.coordinate,
                            c.value,
                        )


def test_every_number_has_a_unit_format(books):
    """£, %, minutes and counts each in their format; the Comparison is no longer raw floats."""
    plain = {"Year", "Preference rank"}  # numbers shown as they are
    for mode, book in books.items():
        for ws in book.worksheets:
            head = [c.value for c in ws[HEADER_ROW]]
            for row in ws.iter_rows(min_row=HEADER_ROW + 1):
                for c in row:
                    if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                        if head[c.column - 1] in plain:
                            continue
                        assert c.number_format != "General", (mode, ws.title, c.coordinate)
    working = books["working"]
    comparison = {r[0].value: r for r in working["Comparison"].iter_rows(min_row=HEADER_ROW + 1)}
    total = comparison["total cost a year (place + transport + unplaced)"]
    assert [c.number_format for c in total[1:]] == ["£#,##0", "£#,##0", "+£#,##0;-£#,##0;£0"]
    assert comparison["INMSS share of placements"][1].number_format == "0.0%"
    assert comparison["children in INMSS"][1].number_format == "#,##0"
    wards = working["Wards"]
    head = [c.value for c in wards[HEADER_ROW]]
    first = {h: c for h, c in zip(head, wards[HEADER_ROW + 1], strict=True)}
    assert first["Transport per child a year (£)"].number_format == "£#,##0"
    assert first["INMSS share (%)"].number_format == "0.0%"
    assert first["Mean journey (min)"].number_format == "0.0"


def test_withheld_figures_stay_text_beside_numbers(books):
    """Publish mode: a column mixes numbers and "c"; "c" is a string, never a formula."""
    wards = books["publish"]["Wards"]
    head = [c.value for c in wards[HEADER_ROW]]
    col = head.index("Without a place (children)") + 1
    cells = [r[col - 1] for r in wards.iter_rows(min_row=HEADER_ROW + 1) if r[0].value]
    assert {c.data_type for c in cells if c.value == "c"} == {"s"}
    assert any(c.data_type == "n" for c in cells)


def test_headers_and_measures_are_plain_english(books, fee_cap):
    for mode, book in books.items():
        for ws in book.worksheets:
            for h in header(book, ws.title):
                if h in (fee_cap.name, f"change: {fee_cap.name}"):
                    continue
                assert "_" not in h, (mode, ws.title, h)
        for r in book["Comparison"].iter_rows(min_row=HEADER_ROW + 1, max_col=1, values_only=True):
            assert r[0] and "_" not in r[0], (mode, r[0])
    placements = sheet_rows(books["working"], "Placements")
    assert placements[0]["setting_name"]  # the setting's name beside its id


def test_every_sheet_prints_landscape_one_page_wide_with_headers(books):
    for mode, book in books.items():
        for ws in book.worksheets:
            ps = ws.page_setup
            assert ps.orientation == "landscape", (mode, ws.title)
            assert int(ps.paperSize) == 9, (mode, ws.title)  # A4
            assert ws.sheet_properties.pageSetUpPr.fitToPage, (mode, ws.title)
            assert ps.fitToWidth in (None, 1) and ps.fitToHeight == 0, (mode, ws.title)
            assert ws.print_title_rows == "$1:$3", (mode, ws.title)


def estimated_pages(ws) -> int:
    """Pages a print of ``ws`` gives: its columns scaled to the paper, 15 pt rows."""
    from openpyxl.utils import get_column_letter

    paper = {9: (8.27, 11.69), 1: (8.5, 11.0)}.get(int(ws.page_setup.paperSize or 9))
    w, h = paper if ws.page_setup.orientation != "landscape" else paper[::-1]
    m = ws.page_margins
    width_pt = (w - m.left - m.right) * 72
    height_pt = (h - m.top - m.bottom) * 72
    columns = []
    for j in range(1, ws.max_column + 1):
        dim = ws.column_dimensions.get(get_column_letter(j))
        columns.append(((dim.width if dim is not None and dim.width else 8.43) * 7 + 5) * 0.75)
    fit = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
    scale = min(1.0, width_pt / sum(columns)) if fit else 1.0
    across = 1 if fit else -(-sum(columns) // width_pt)
    rows_per_page = int(height_pt / (15 * scale)) - 3
    return int(across * -(-max(ws.max_row - 3, 1) // rows_per_page))


def test_a_print_is_a_few_pages_a_sheet(books):
    """Fit to one page wide: only the long tables run over pages (the issue: 129 pages)."""
    for mode, book in books.items():
        pages = {ws.title: estimated_pages(ws) for ws in book.worksheets}
        assert pages["Summary"] == 1
        assert all(n <= 3 for name, n in pages.items() if name != "Placements"), (mode, pages)
    # the working Placements sheet: one row per child, 1 page wide
    assert estimated_pages(books["working"]["Placements"]) <= 30


def test_charts_have_titled_axes_in_pounds_and_children(default_ds, fee_cap, tmp_path):
    import zipfile

    path = write_workbook(default_ds, tmp_path / "w.xlsx", scenarios=[fee_cap], years=1)
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 4  # sufficiency, INMSS cost, horizon children, horizon cost
    text = "".join(charts)
    for axis in ("Children (places)", "Place cost a year (£)", "Cost a year (£)"):
        assert axis in text
    assert "£#,##0" in text  # the money axes' number format
    assert "Academic year" in text


def test_academic_years_follow_the_first_year(tiny, tmp_path):
    res = optimiser.allocate(tiny)
    from optimiser.scenarios.horizon import roll_forward

    hz = roll_forward(tiny, years=2)
    tables = build_tables(tiny, res, horizon=hz, first_year=2026)
    assert tables.horizon["academic_year"].tolist() == ["2026/27", "2027/28", "2028/29"]
    published = build_tables(tiny, res, horizon=hz, first_year=2099, publish=True)
    assert published.horizon["academic_year"].tolist() == ["2099/00", "2100/01", "2101/02"]
