"""Write WorkbookTables to XLSX with xlsxwriter: number formats by unit, frozen headers, charts.

Text is inert: every string is written as a string (never a formula, a URL or a
number), so a name such as ``=HYPERLINK(...)`` or ``@SUM(A1)`` stays text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from optimiser._outputs import XLSX_TEXT_OPTIONS
from optimiser.disclosure import SUPPRESSED
from optimiser.reports.labels import column_label, kpi_label, kpi_unit

#: xlsxwriter options: a string is never turned into a formula, a URL or a number.
TEXT_OPTIONS = XLSX_TEXT_OPTIONS


#: Number formats by unit; a "change" format signs the figure (+£1,200 / -£1,200).
NUMBER_FORMATS = {
    "gbp": "£#,##0",
    "share": "0.0%",
    "min": "0.0",
    "count": "#,##0",
    "count1": "#,##0.0",
    "km": "0.0",
    "gbp_change": "+£#,##0;-£#,##0;£0",
    "share_change": "+0.0%;-0.0%;0.0%",
    "min_change": "+0.0;-0.0;0.0",
    "count_change": "+#,##0;-#,##0;0",
    "count1_change": "+#,##0.0;-#,##0.0;0.0",
}
#: Paper for every sheet: A4 (xlsxwriter's paper index 9), landscape, 1 page wide.
PAPER_A4 = 9


def _formats(book) -> dict[str, object]:
    out: dict[str, object] = {
        unit: book.add_format({"num_format": code}) for unit, code in NUMBER_FORMATS.items()
    }
    out |= {
        "head": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "banner": book.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        "note": book.add_format({"italic": True, "font_color": "#555555"}),
        # a withheld figure ("c") lines up with the numbers around it
        "withheld": book.add_format({"align": "right"}),
    }
    return out


def _unit(column: str) -> str | None:
    """The number format of a column from its name (None: text or plain numbers)."""
    if "_gbp" in column or column == "arc_cost":
        return "gbp"
    if column.endswith(("_share", "_pct")):
        return "share"
    if column.endswith("_min"):
        return "min"
    if column.endswith("_km"):
        return "km"
    if column.endswith("_children") or column in (
        "places",
        "demand",
        "placed",
        "shortfall",
        "spare_places",
        "new_placements",
    ):
        return "count"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _whole(values: list[object]) -> bool:
    return all(float(cast(float, v)).is_integer() for v in values if _is_number(v) and v == v)


#: Per-cell unit: (column, row position) → unit, or None for the column's own unit.
CellUnit = Callable[[str, int], str | None]


def _write_frame(
    book,
    fmt: dict,
    name: str,
    frame: pd.DataFrame,
    *,
    start_row: int = 2,
    title: str = "",
    banner: str = "",
    cell_unit: CellUnit | None = None,
    headers: dict[str, str] | None = None,
) -> object:
    """Write ``frame`` under plain-English headers, numbers as numbers in their unit's format.

    Strings are written as strings (inert); a withheld figure ("c") stays text in a
    numeric column. ``headers`` names columns that are not names of the code (an
    option's name is shown as it is). ``cell_unit`` overrides the column's unit cell by cell (tables
    whose rows have different units: Summary, Comparison, Calibration).
    """
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, title or name, fmt["title"])
    if banner:
        sheet.write_string(1, 0, banner, fmt["banner"])
    for j, col in enumerate(frame.columns):
        label = (headers or {}).get(str(col)) or column_label(str(col))
        sheet.write_string(start_row, j, label, fmt["head"])
        values = frame[col].tolist()
        unit = _unit(str(col))
        if unit == "count" and not _whole(values):
            unit = "count1"
        for i, value in enumerate(values):
            cell = cell_unit(str(col), i) if cell_unit else None
            _write_cell(sheet, start_row + 1 + i, j, value, fmt, cell or unit)
        sheet.set_column(j, j, _width(label, values, cell_unit is not None or unit is not None))
    sheet.freeze_panes(start_row + 1, 0)
    if len(frame):
        sheet.autofilter(start_row, 0, start_row + len(frame), max(len(frame.columns) - 1, 0))
    _print_setup(sheet, start_row)
    return sheet


def _width(label: str, values: list[object], numeric: bool) -> float:
    """A column wide enough for its figures (with £ and commas) and its header's longest word."""
    shown = [f"£{v:,.0f}" if _is_number(v) and v == v else str(v) for v in values[:200]]
    longest_word = max((len(w) for w in label.split()), default=0)
    head = min(len(label), max(longest_word, 12 if numeric else 16))
    return float(min(max([head, *map(len, shown)]) + 2, 50))


def _print_setup(sheet, header_row: int) -> None:
    """Landscape A4, one page wide, title, banner and header repeated on every page."""
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, header_row)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&L&A&RPage &P of &N")


def _write_cell(sheet, row: int, col: int, value: object, fmt: dict, unit: str | None) -> None:
    if value is None or (_is_number(value) and value != value):
        sheet.write_blank(row, col, None)
    elif isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(row, col, bool(value))
    elif _is_number(value):
        sheet.write_number(row, col, float(cast(float, value)), fmt.get(unit or ""))
    elif value == SUPPRESSED:
        sheet.write_string(row, col, SUPPRESSED, fmt["withheld"])
    elif hasattr(value, "item"):
        _write_cell(sheet, row, col, value.item(), fmt, unit)
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
    axis: str,
    axis_format: str,
    category_axis: str,
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
    values = {"name": axis, "num_format": axis_format}
    cats = {"name": category_axis}
    # a bar chart's value axis is its x axis
    chart.set_x_axis(values if kind == "bar" else cats)
    chart.set_y_axis(cats if kind == "bar" else values)
    chart.set_size({"width": 900, "height": 420})
    return chart


_PUBLISH_BANNER = (
    "PUBLISH — disclosure-controlled: counts 1-7, and counts from which one could be worked "
    "out, shown as c; others rounded to 5; shares and £ per child from the rounded counts; "
    "no child-level data (docs/disclosure.md)"
)
_WORKING_BANNER = "WORKING — exact figures with pseudonymous child ids; do not publish"
_COMPARISON_BANNER = "WORKING — exact figures, not disclosure-controlled; do not publish"

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
        "axis": "Children (places)",
        "axis_format": "#,##0",
        "category_axis": "Package and phase",
    },
    "INMSS": {
        "categories": ["name"],
        "series": ["place_cost_gbp"],
        "title": "INMSS cost by setting (top 15)",
        "kind": "bar",
        "axis": "Place cost a year (£)",
        "axis_format": "£#,##0",
        "category_axis": "Setting",
    },
    "Horizon": {
        "categories": ["academic_year"],
        "series": ["demand_children", "places", "placed_children"],
        "title": "Demand, places and children placed by year",
        "kind": "line",
        "axis": "Children (places)",
        "axis_format": "#,##0",
        "category_axis": "Academic year",
    },
    "Horizon cost": {
        "categories": ["academic_year"],
        "series": ["total_cost_gbp", "place_cost_gbp", "transport_cost_gbp"],
        "title": "Cost a year",
        "kind": "line",
        "axis": "Cost a year (£)",
        "axis_format": "£#,##0",
        "category_axis": "Academic year",
    },
}


@dataclass(frozen=True)
class _Book:
    """An xlsxwriter workbook, its cell formats and the banner every sheet carries."""

    book: Any
    fmt: dict[str, object]
    banner: str

    def sheet(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        title: str = "",
        cell_unit: CellUnit | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Write ``frame`` as sheet ``name`` under ``title`` (default: its title in _TITLES)."""
        title = title or _TITLES[name]
        return _write_frame(
            self.book,
            self.fmt,
            name,
            frame,
            title=title,
            banner=self.banner,
            cell_unit=cell_unit,
            headers=headers,
        )

    def chart(self, name: str, frame: pd.DataFrame, *, sheet: str = "") -> Any:
        """The chart ``name`` (its spec in _CHARTS) over the rows of ``frame`` on ``sheet``."""
        spec = dict(_CHARTS[name])
        spec["categories"] = [c for c in spec["categories"] if c in frame] or [frame.columns[0]]
        spec["series"] = [c for c in spec["series"] if c in frame]
        return _column_chart(self.book, sheet or name, frame, **spec)


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
            _write_comparison(out, tables.comparison)
        _write_sufficiency(out, tables.sufficiency, chart=not publish)
        out.sheet("Wards", tables.wards)
        _write_inmss(out, tables.inmss, chart=not publish)
        out.sheet("Transport", tables.transport)
        out.sheet("Unplaced", tables.unplaced)
        if tables.horizon is not None:
            _write_horizon(out, tables.horizon)
        if getattr(tables, "calibration", None) is not None:
            _write_calibration(out, tables.calibration)
        if tables.placements is not None:
            out.sheet("Placements", tables.placements)


def write_comparison_sheet(comparison: pd.DataFrame, path: Path, *, title: str) -> None:
    """A workbook of the Comparison sheet alone (``optimiser compare --out x.xlsx``)."""
    with pd.ExcelWriter(
        path, engine="xlsxwriter", engine_kwargs={"options": TEXT_OPTIONS}
    ) as writer:
        book = writer.book
        out = _Book(book, _formats(book), _COMPARISON_BANNER)
        _write_comparison(out, comparison, title=title)


def _row_below(frame: pd.DataFrame) -> int:
    """The row two blank rows below a table that _write_frame wrote from row 2."""
    return len(frame) + 5


def _write_summary(out: _Book, summary: pd.DataFrame, *, title: str, note: str) -> None:
    """The headline KPIs: label and value, each value in its KPI's unit ("c" stays text)."""
    keys = summary["kpi"].astype(str).tolist()
    frame = summary[["measure", "value"]]
    sheet = out.sheet("Summary", frame, title=title, cell_unit=lambda _col, i: kpi_unit(keys[i]))
    sheet.write_string(_row_below(frame), 0, note, out.fmt["note"])


def _write_comparison(out: _Book, comparison: pd.DataFrame, *, title: str = "") -> None:
    """Options side by side: rows in plain English, each in its KPI's unit; changes signed."""
    keys = comparison["measure"].astype(str).tolist()
    frame = comparison.assign(measure=[kpi_label(k) for k in keys])

    def unit(col: str, i: int) -> str:
        return kpi_unit(keys[i]) + ("_change" if col.startswith("change: ") else "")

    # options keep the names their scenario files give them
    names = {str(c): str(c) for c in frame.columns if c != "measure"} | {"baseline": "Baseline"}
    out.sheet("Comparison", frame, title=title, cell_unit=unit, headers=names)


def _write_calibration(out: _Book, calibration: pd.DataFrame) -> None:
    """Placement rows are counts, the other sections shares; the difference is signed."""
    counts = (calibration["section"] == "placements").tolist()

    def unit(col: str, i: int) -> str | None:
        if col == "difference_pct":
            return "share_change"
        if col not in ("sen2", "model", "difference"):
            return None
        base = "count" if counts[i] else "share"
        return base + ("_change" if col == "difference" else "")

    out.sheet("Calibration", calibration, cell_unit=unit)


def _write_sufficiency(out: _Book, suff: pd.DataFrame, *, chart: bool) -> None:
    sheet = out.sheet("Sufficiency", suff)
    if chart and len(suff):
        sheet.insert_chart(_row_below(suff), 0, out.chart("Sufficiency", suff))


def _write_inmss(out: _Book, inmss: pd.DataFrame, *, chart: bool) -> None:
    sheet = out.sheet("INMSS", inmss)
    if chart and len(inmss):
        sheet.insert_chart(_row_below(inmss), 0, out.chart("INMSS", inmss.head(15)))


def _write_horizon(out: _Book, horizon: pd.DataFrame) -> None:
    sheet = out.sheet("Horizon", horizon)
    sheet.insert_chart(_row_below(horizon), 0, out.chart("Horizon", horizon))
    if "total_cost_gbp" in horizon:
        sheet.insert_chart(
            _row_below(horizon) + 22, 0, out.chart("Horizon cost", horizon, sheet="Horizon")
        )
