"""Write WorkbookTables to XLSX with xlsxwriter: number formats by unit, frozen headers, charts.

Text is inert: every string is written as a string (never a formula, a URL or a
number), so a name such as ``=HYPERLINK(...)`` or ``@SUM(A1)`` stays text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from optimiser._outputs import XLSX_TEXT_OPTIONS

#: xlsxwriter options: a string is never turned into a formula, a URL or a number.
TEXT_OPTIONS = XLSX_TEXT_OPTIONS


def _formats(book) -> dict[str, object]:
    return {
        "gbp": book.add_format({"num_format": "£#,##0"}),
        "share": book.add_format({"num_format": "0.0%"}),
        "min": book.add_format({"num_format": "0.0"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "head": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "banner": book.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        "note": book.add_format({"italic": True, "font_color": "#555555"}),
    }


def _unit(column: str) -> str | None:
    if column.endswith("_gbp"):
        return "gbp"
    if column.endswith("_share"):
        return "share"
    if column.endswith("_min"):
        return "min"
    if column.endswith("_children") or column in ("places", "demand", "placed", "shortfall"):
        return "count"
    return None


def _write_frame(
    book,
    fmt: dict,
    name: str,
    frame: pd.DataFrame,
    *,
    start_row: int = 2,
    title: str = "",
    banner: str = "",
) -> object:
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, title or name, fmt["title"])
    if banner:
        sheet.write_string(1, 0, banner, fmt["banner"])
    for j, col in enumerate(frame.columns):
        sheet.write_string(start_row, j, str(col), fmt["head"])
        cell_fmt = fmt.get(_unit(str(col)) or "", None)
        for i, value in enumerate(frame[col].tolist(), start=start_row + 1):
            _write_cell(sheet, i, j, value, cell_fmt)
        width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)]) + 2
        sheet.set_column(j, j, min(max(width, 8), 60))
    sheet.freeze_panes(start_row + 1, 0)
    if len(frame):
        sheet.autofilter(start_row, 0, start_row + len(frame), max(len(frame.columns) - 1, 0))
    return sheet


def _write_cell(sheet, row: int, col: int, value: object, cell_fmt: object) -> None:
    if value is None or (isinstance(value, float) and value != value):
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value), cell_fmt)
    elif hasattr(value, "item"):
        _write_cell(sheet, row, col, value.item(), cell_fmt)
    else:
        sheet.write_string(row, col, str(value))


def _column_chart(
    book,
    sheet_name: str,
    frame: pd.DataFrame,
    *,
    categories: list[str],
    series: list[str],
    title: str,
    start_row: int = 2,
    kind: str = "column",
):
    chart = book.add_chart({"type": kind})
    n = len(frame)
    cat_cols = [cast(int, frame.columns.get_loc(c)) for c in categories]  # unique columns
    for name in series:
        j = frame.columns.get_loc(name)
        chart.add_series(
            {
                "name": [sheet_name, start_row, j],
                "categories": [
                    sheet_name,
                    start_row + 1,
                    min(cat_cols),
                    start_row + n,
                    max(cat_cols),
                ],
                "values": [sheet_name, start_row + 1, j, start_row + n, j],
            }
        )
    chart.set_title({"name": title})
    chart.set_size({"width": 900, "height": 420})
    return chart


_PUBLISH_BANNER = (
    "PUBLISH — disclosure-controlled: counts 1-7, and counts from which one could be worked "
    "out, shown as c; others rounded to 5; shares and £ per child from the rounded counts; "
    "no child-level data (docs/disclosure.md)"
)
_WORKING_BANNER = "WORKING — exact figures with pseudonymous child ids; do not publish"

_TITLES = {
    "Comparison": "Options compared (change = option − baseline)",
    "Sufficiency": "Sufficiency by package × phase",
    "Wards": "By home ward: demand, INMSS reliance, transport",
    "INMSS": "INMSS reliance by setting and package",
    "Transport": "Transport by setting type",
    "Unplaced": "Children without a suitable place, and why",
    "Horizon": "Multi-year horizon",
    "Placements": "Placements (working data: pseudonymous child ids)",
    "Calibration": "The baseline beside the LA's SEN2 return (flag: off past ±5% or ±5 points)",
}

_CHARTS: dict[str, dict[str, Any]] = {
    "Sufficiency": {
        "categories": ["package_id", "phase"],
        "series": ["demand_children", "places"],
        "title": "Demand against places",
    },
    "INMSS": {
        "categories": ["name"],
        "series": ["place_cost_gbp"],
        "title": "INMSS cost by setting (top 15)",
        "kind": "bar",
    },
    "Horizon": {
        "categories": ["year"],
        "series": ["demand_children", "places", "placed_children"],
        "title": "Demand, places and children placed by year",
        "kind": "line",
    },
}


@dataclass(frozen=True)
class _Book:
    """An xlsxwriter workbook, its cell formats and the banner every sheet carries."""

    book: Any
    fmt: dict[str, object]
    banner: str

    def sheet(self, name: str, frame: pd.DataFrame, *, title: str = "") -> Any:
        """Write ``frame`` as sheet ``name`` under ``title`` (default: its title in _TITLES)."""
        title = title or _TITLES[name]
        return _write_frame(self.book, self.fmt, name, frame, title=title, banner=self.banner)

    def chart(self, name: str, frame: pd.DataFrame) -> Any:
        """The chart of sheet ``name`` (its spec in _CHARTS) over the rows of ``frame``."""
        return _column_chart(self.book, name, frame, **_CHARTS[name])


def write_tables(tables, path: Path, *, title: str, publish: bool, note: str) -> None:
    """Write every table of ``tables`` (WorkbookTables) as a sheet, with charts.

    Working workbooks chart sufficiency and INMSS cost; every workbook charts the horizon.
    """
    with pd.ExcelWriter(
        path, engine="xlsxwriter", engine_kwargs={"options": TEXT_OPTIONS}
    ) as writer:
        book = writer.book
        out = _Book(book, _formats(book), _PUBLISH_BANNER if publish else _WORKING_BANNER)
        _write_summary(out, tables.summary, title=f"{title}: key figures", note=note)
        if tables.comparison is not None:
            out.sheet("Comparison", tables.comparison)
        _write_sufficiency(out, tables.sufficiency, chart=not publish)
        out.sheet("Wards", tables.wards)
        _write_inmss(out, tables.inmss, chart=not publish)
        out.sheet("Transport", tables.transport)
        out.sheet("Unplaced", tables.unplaced)
        if tables.horizon is not None:
            _write_horizon(out, tables.horizon)
        if getattr(tables, "calibration", None) is not None:
            out.sheet("Calibration", tables.calibration)
        if tables.placements is not None:
            out.sheet("Placements", tables.placements)


def _row_below(frame: pd.DataFrame) -> int:
    """The row two blank rows below a table that _write_frame wrote from row 2."""
    return len(frame) + 5


def _write_summary(out: _Book, summary: pd.DataFrame, *, title: str, note: str) -> None:
    sheet = out.sheet("Summary", summary, title=title)
    sheet.write_string(_row_below(summary), 0, note, out.fmt["note"])


def _write_sufficiency(out: _Book, suff: pd.DataFrame, *, chart: bool) -> None:
    sheet = out.sheet("Sufficiency", suff)
    if chart and len(suff):
        sheet.insert_chart(_row_below(suff), 0, out.chart("Sufficiency", suff))


def _write_inmss(out: _Book, inmss: pd.DataFrame, *, chart: bool) -> None:
    sheet = out.sheet("INMSS", inmss)
    if chart and len(inmss):
        sheet.insert_chart(2, len(inmss.columns) + 1, out.chart("INMSS", inmss.head(15)))


def _write_horizon(out: _Book, horizon: pd.DataFrame) -> None:
    sheet = out.sheet("Horizon", horizon)
    sheet.insert_chart(_row_below(horizon), 0, out.chart("Horizon", horizon))
