"""Futures in the workbook: the options' decision table, the bands and a fan chart per measure.

:func:`futures_sheets` adds the sheets to an open xlsxwriter workbook (so the report can
put them beside its own); :func:`write_futures` writes them as a workbook of their own,
atomically (DESIGN §8). Sheets:

* ``Futures``: one row per option: expected cost over the horizon, P10/P50/P90,
  probability of beating the baseline, expected / P90 / max regret, unplaced child-years;
  then the run's settings (futures, seed, years, growth and its source).
* ``Futures bands``: every band row (option × year × package × measure: mean, P10,
  P50, P90).
* ``Futures chart``: the all-packages P10, P50 and P90 by year, one line per option
  and quantile, for total cost and for unplaced children (line charts).

Text is written as text (never a formula), names as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter

from optimiser._outputs import XLSX_TEXT_OPTIONS, atomic_output

if TYPE_CHECKING:  # scenarios sit below reports; the type only
    from optimiser.scenarios.futures.result import FuturesResult

#: The measures charted, with their titles and number formats.
CHARTED = {
    "total_cost_gbp": ("Total cost a year (P10, P50, P90)", "£#,##0"),
    "unplaced_children": ("Unplaced children (P10, P50, P90)", "#,##0"),
}
_GBP, _COUNT, _SHARE = "£#,##0", "#,##0.0", "0%"


def _fmt(book: Any, spec: str) -> Any:
    return book.add_format({"num_format": spec})


def _write(sheet: Any, row: int, frame: pd.DataFrame, book: Any, formats: dict[str, str]) -> int:
    """``frame`` at ``row`` (header, then rows); returns the row after it."""
    bold = book.add_format({"bold": True, "text_wrap": True})
    for c, name in enumerate(frame.columns):
        sheet.write_string(row, c, str(name), bold)
    cache = {spec: _fmt(book, spec) for spec in set(formats.values())}
    for r, values in enumerate(frame.itertuples(index=False), start=row + 1):
        for c, (name, value) in enumerate(zip(frame.columns, values, strict=True)):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is None or value != value:
                sheet.write_blank(r, c, None)
            else:
                sheet.write_number(r, c, float(value), cache.get(formats.get(str(name), "")))
    return row + len(frame) + 1


def futures_sheets(book: Any, res: FuturesResult, *, title: str = "Futures") -> None:
    """Add the three futures sheets (module docstring) to an xlsxwriter ``book``."""
    head = book.add_format({"bold": True, "font_size": 13})
    sheet = book.add_worksheet("Futures")
    sheet.write_string(0, 0, title, head)
    money = {c: _GBP for c in res.decisions.columns if c.endswith("_gbp")}
    formats = {**money, "p_beats_baseline": _SHARE, "expected_unplaced_child_years": _COUNT}
    end = _write(sheet, 2, res.decisions, book, formats)
    settings = pd.DataFrame(
        {"setting": list(res.settings), "value": [str(v) for v in res.settings.values()]}
    )
    _write(sheet, end + 1, settings, book, {})
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, len(res.decisions.columns), 16)
    sheet.freeze_panes(3, 1)

    bands = book.add_worksheet("Futures bands")
    band_formats = {c: _COUNT for c in ("mean", "p10", "p50", "p90")}
    _write(bands, 0, res.bands, book, band_formats)
    bands.freeze_panes(1, 0)
    bands.set_column(0, 0, 30)
    bands.set_column(3, 3, 20)

    _chart_sheet(book, res)


def _chart_sheet(book: Any, res: FuturesResult) -> None:
    """All-packages P10/P50/P90 by year per option, and a line chart per charted measure."""
    sheet = book.add_worksheet("Futures chart")
    b = res.bands[res.bands["package_id"] == "all"]
    options = list(dict.fromkeys(res.decisions["option"]))
    row = 0
    for measure, (chart_title, spec) in CHARTED.items():
        rows = b[b["measure"] == measure]
        wide = rows.pivot(index="year", columns="option", values=["p10", "p50", "p90"])
        table = pd.DataFrame({"year": wide.index.to_numpy()})
        for option in options:
            for q in ("p10", "p50", "p90"):
                table[f"{option} {q.upper()}"] = wide[(q, option)].to_numpy()
        sheet.write_string(row, 0, chart_title, book.add_format({"bold": True}))
        top = row + 1
        _write(sheet, top, table, book, {c: spec for c in table.columns if c != "year"})
        chart = book.add_chart({"type": "line"})
        for c, name in enumerate(table.columns[1:], start=1):
            dash = "solid" if name.endswith("P50") else "dash"
            chart.add_series(
                {
                    "name": ["Futures chart", top, c],
                    "categories": ["Futures chart", top + 1, 0, top + len(table), 0],
                    "values": ["Futures chart", top + 1, c, top + len(table), c],
                    "line": {"dash_type": dash, "width": 2.25 if dash == "solid" else 1.25},
                }
            )
        chart.set_title({"name": chart_title})
        chart.set_x_axis({"name": "Year"})
        chart.set_y_axis({"num_format": spec})
        chart.set_size({"width": 760, "height": 380})
        sheet.insert_chart(top, len(table.columns) + 1, chart)
        row = top + max(len(table) + 2, 21)
    sheet.set_column(1, 3 * len(options), 16)


def write_futures(res: FuturesResult, path: str | Path, *, title: str = "Futures") -> Path:
    """Write the futures sheets as a new workbook at ``path`` (atomic, never overwritten)."""
    with atomic_output(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSX_TEXT_OPTIONS)
        try:
            futures_sheets(book, res, title=title)
        finally:
            book.close()
    return Path(path)
