"""Write WorkbookTables to XLSX with xlsxwriter: number formats by unit, frozen headers, charts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


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
    sheet.write(0, 0, title or name, fmt["title"])
    if banner:
        sheet.write(1, 0, banner, fmt["banner"])
    for j, col in enumerate(frame.columns):
        sheet.write(start_row, j, str(col), fmt["head"])
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
    cat_cols = [frame.columns.get_loc(c) for c in categories]
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


def write_tables(tables, path: Path, *, title: str, publish: bool, note: str) -> None:
    """Write every table of ``tables`` (WorkbookTables) as a sheet, with charts."""
    banner = (
        "PUBLISH — disclosure-controlled: counts 1-7 shown as c, others rounded to 5; "
        "no child-level data"
        if publish
        else "WORKING — exact figures with pseudonymous child ids; do not publish"
    )
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        book = writer.book
        fmt = _formats(book)
        summary = _write_frame(
            book, fmt, "Summary", tables.summary, title=f"{title}: key figures", banner=banner
        )
        summary.write(len(tables.summary) + 5, 0, note, fmt["note"])
        if tables.comparison is not None:
            _write_frame(
                book,
                fmt,
                "Comparison",
                tables.comparison,
                banner=banner,
                title="Options compared (change = option − baseline)",
            )
        suff = tables.sufficiency
        sheet = _write_frame(
            book, fmt, "Sufficiency", suff, banner=banner, title="Sufficiency by package × phase"
        )
        if not publish and len(suff):
            chart = _column_chart(
                book,
                "Sufficiency",
                suff,
                categories=["package_id", "phase"],
                series=["demand_children", "places"],
                title="Demand against places",
            )
            sheet.insert_chart(len(suff) + 5, 0, chart)
        _write_frame(
            book,
            fmt,
            "Wards",
            tables.wards,
            banner=banner,
            title="By home ward: demand, INMSS reliance, transport",
        )
        sheet = _write_frame(
            book,
            fmt,
            "INMSS",
            tables.inmss,
            banner=banner,
            title="INMSS reliance by setting and package",
        )
        if not publish and len(tables.inmss):
            top = tables.inmss.head(15)
            chart = _column_chart(
                book,
                "INMSS",
                top,
                categories=["name"],
                series=["place_cost_gbp"],
                title="INMSS cost by setting (top 15)",
                kind="bar",
            )
            sheet.insert_chart(2, len(tables.inmss.columns) + 1, chart)
        _write_frame(
            book,
            fmt,
            "Transport",
            tables.transport,
            banner=banner,
            title="Transport by setting type",
        )
        _write_frame(
            book,
            fmt,
            "Unplaced",
            tables.unplaced,
            banner=banner,
            title="Children without a suitable place, and why",
        )
        if tables.horizon is not None:
            sheet = _write_frame(
                book, fmt, "Horizon", tables.horizon, banner=banner, title="Multi-year horizon"
            )
            chart = _column_chart(
                book,
                "Horizon",
                tables.horizon,
                categories=["year"],
                series=["demand_children", "places", "placed_children"],
                title="Demand, places and children placed by year",
                kind="line",
            )
            sheet.insert_chart(len(tables.horizon) + 5, 0, chart)
        if tables.placements is not None:
            _write_frame(
                book,
                fmt,
                "Placements",
                tables.placements,
                banner=banner,
                title="Placements (working data: pseudonymous child ids)",
            )
