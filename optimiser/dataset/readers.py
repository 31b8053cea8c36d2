"""Read the raw tables of a dataset (CSV folder or one XLSX workbook) as text.

Cells are read as strings, exactly as typed, so that every later message can
quote what was found and the row a planner sees in Excel (header = row 1).
Nothing here changes the input files.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from optimiser._errors import DataValidationError
from optimiser.problems import Problem, load_yaml
from optimiser.schema.tables import TABLES

_UTF8_FIX = "save it as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)')"


def read_csv_text(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """Read one CSV as text; record a Problem (and return None) when it cannot be read."""
    name = path.name
    data = path.read_bytes()
    if not data.strip():
        problems.append(
            Problem(
                name,
                None,
                "",
                "an empty file",
                "a header row and data rows",
                "export the table again with its header row",
            )
        )
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                name,
                None,
                "",
                f"a byte that is not UTF-8 at position {exc.start}",
                "UTF-8 text",
                _UTF8_FIX,
            )
        )
        return None
    if "\x00" in text:
        row = text.count("\n", 0, text.index("\x00")) + 1
        problems.append(
            Problem(
                name,
                row,
                "",
                "a NUL byte (binary data, not text)",
                "plain text in every cell",
                "export the table again as CSV UTF-8; a NUL byte usually means a damaged or "
                "non-CSV file",
            )
        )
        return None
    separator = _other_separator(text)
    if separator is not None:
        word, header = separator
        problems.append(
            Problem(
                name,
                1,
                "",
                f"a {word}-separated file (one column named {_clip(header)!r})",
                "comma-separated columns",
                "save it as comma-separated: in Excel, Save As > 'CSV UTF-8 (Comma delimited)'"
                " (if your Excel writes ';', set Windows' list separator to ',' and its "
                "decimal symbol to '.' first, or the numbers will carry decimal commas)",
            )
        )
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # so rows keep the numbers a planner sees in Excel
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        problems.append(
            Problem(
                name,
                _error_row(str(exc)),
                "",
                f"malformed CSV ({exc})".replace("\n", " "),
                "comma-separated rows with as many cells as the header",
                "check quotes and commas on the row named",
            )
        )
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


#: Separators other than a comma that a spreadsheet writes, by the word a message uses.
_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _other_separator(text: str) -> tuple[str, str] | None:
    """(word, header) when the header line is separated by ';', tab or '|' rather than ','.

    Excel in a European locale saves "CSV" with ';' (and decimal commas). Such a file is
    refused, not read: its numbers are ambiguous (45.000 is £45,000 there, £45 here),
    and one re-save as comma-separated puts every number right.
    """
    header = text.lstrip().split("\n", 1)[0].rstrip("\r")
    try:
        sep = csv.Sniffer().sniff(header, delimiters="," + "".join(_SEPARATORS)).delimiter
    except csv.Error:
        return None
    if sep == "," or len(next(csv.reader([header], delimiter=sep))) < 2:
        return None
    return _SEPARATORS[sep], header


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def drop_blank_rows(
    frame: pd.DataFrame, file: str, problems: list[Problem]
) -> tuple[pd.DataFrame, list[int] | None]:
    """``frame`` without rows of only blank cells, and the spreadsheet rows it keeps.

    Blank rows at the end (Excel leaves them after deleted rows) are dropped silently.
    Blank rows between data rows are one error naming them (a gap may be a deleted
    child or setting the planner did not mean to lose); they are dropped too, so they
    give no per-cell problems. The kept rows (None when none in the middle went) let
    later problems keep the row numbers a planner sees.
    """
    if frame.empty:
        return frame, None
    # one vectorised strip over the cells (a pandas .str.strip per column cost ~10 ms a
    # table, paid by every load); a missing cell reads as "nan", not blank, as before
    cells = frame.to_numpy(dtype=str)
    blank = (np.char.strip(cells) == "").all(axis=1)
    if not blank.any():
        return frame, None
    data = [i for i, b in enumerate(blank) if not b]
    last = data[-1] if data else -1
    middle = [i + 2 for i, b in enumerate(blank) if b and i < last]
    kept = frame.iloc[data].reset_index(drop=True)
    if not middle:
        return kept, None
    shown = ", ".join(map(str, middle[:10])) + (
        f" and {len(middle) - 10} more" if len(middle) > 10 else ""
    )
    problems.append(
        Problem(
            file,
            None,
            "",
            f"{len(middle)} blank row(s) between the data rows (row {shown})",
            "one data row per line, no gaps",
            "delete the blank rows (or fill them in, if something was deleted by mistake)",
        )
    )
    return kept, [i + 2 for i in data]


def _error_row(message: str) -> int | None:
    """Spreadsheet row named in a pandas parser message ('line N' is 1-based, 'row N' 0-based)."""
    line = re.search(r"line (\d+)", message)
    if line:
        return int(line.group(1))
    row = re.search(r"row (\d+)", message)
    return int(row.group(1)) + 1 if row else None


@dataclass
class ReadNotes:
    """What reading learnt that later problems must respect (one problem per cause).

    ``rows``: per table file that had blank rows between its data rows, the spreadsheet
    row of each row kept (:func:`drop_blank_rows`). ``cells``: (table file, row, column)
    of cells already reported (a merged range, a formula with no saved value), so no
    check blames them again for being blank.
    """

    rows: dict[str, list[int]] = field(default_factory=dict)
    cells: set[tuple[str, int, str]] = field(default_factory=set)


def read_folder(
    folder: Path, problems: list[Problem], notes: ReadNotes | None = None
) -> dict[str, pd.DataFrame]:
    """Raw tables (name → text frame) from a dataset folder of CSV files (``notes``: above)."""
    raw: dict[str, pd.DataFrame] = {}
    for table in TABLES.values():
        if table.file.endswith(".geojson"):
            continue
        path = folder / table.file
        if not path.exists():
            if table.required_file:
                problems.append(
                    Problem(
                        table.file,
                        None,
                        "",
                        "no such file in " + str(folder),
                        f"one row per {table.row_is}",
                        f"add {table.file} (see docs/data-format.md)",
                    )
                )
            continue
        frame = read_csv_text(path, problems)
        if frame is not None:
            raw[table.name], kept = drop_blank_rows(frame, table.file, problems)
            if kept is not None and notes is not None:
                notes.rows[table.file] = kept
    return raw


def read_workbook(
    path: Path, problems: list[Problem], notes: ReadNotes | None = None
) -> tuple[dict[str, pd.DataFrame], object]:
    """Raw tables and the policy mapping from one XLSX workbook (one sheet per table).

    Merged cells and formulas with no saved value in a table's sheet are problems
    naming the sheet, row and column (:func:`_sheet_cell_problems`); ``notes`` as for
    :func:`read_folder`.
    """
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        problems.append(
            Problem(
                path.name,
                None,
                "",
                f"a file that is not a readable workbook ({exc})",
                "an .xlsx workbook",
                "save it from Excel as .xlsx",
            )
        )
        return {}, None
    cells = _sheet_cell_problems(path, _sheet_files(sheets, path.name), sheets, problems)
    if notes is not None:
        notes.cells |= cells
    by_name = {str(k).strip().lower().removesuffix(".csv"): v for k, v in sheets.items()}
    raw: dict[str, pd.DataFrame] = {}
    for table in TABLES.values():
        if table.file.endswith(".geojson"):
            continue
        frame = by_name.get(table.name)
        if frame is None:
            if table.required_file:
                problems.append(
                    Problem(
                        path.name,
                        None,
                        "",
                        f"no sheet named {table.name!r}",
                        f"a sheet per table: one row per {table.row_is}",
                        f"add a sheet called {table.name}",
                    )
                )
            continue
        frame.columns = [str(c).strip() for c in frame.columns]
        raw[table.name], kept = drop_blank_rows(frame, table.file, problems)
        if kept is not None and notes is not None:
            notes.rows[table.file] = kept
    return raw, _policy_from_sheet(by_name.get("policy"), path.name, problems)


def _sheet_files(sheets: dict[str, pd.DataFrame], book: str) -> dict[str, str]:
    """Sheet name → the file its problems name (children.csv, plan.xlsx:policy); others out."""
    out = {}
    for sheet in sheets:
        name = str(sheet).strip().lower().removesuffix(".csv")
        if name in TABLES:
            out[str(sheet)] = TABLES[name].file
        elif name == "policy":
            out[str(sheet)] = f"{book}:policy"
    return out


def _sheet_cell_problems(
    path: Path,
    sheets: dict[str, str],
    frames: dict[str, pd.DataFrame],
    problems: list[Problem],
) -> set[tuple[str, int, str]]:
    """Problems for merged ranges and value-less formulas in ``sheets`` (sheet → table file).

    pandas reads a formula whose value Excel never saved (a file written by a script, or
    saved with calculation off) as a blank, and a merged range as one value and blanks;
    either would be defaulted or blamed cell by cell. A merged range's value is copied
    into each of its cells of ``frames`` (what Excel shows), so nothing else follows from
    it. Returns the cells reported, as (table file, row, column), so later checks leave
    them to these problems.
    """
    import openpyxl  # loads only when a workbook is read
    from openpyxl.utils import get_column_letter

    try:
        formulas = openpyxl.load_workbook(path, data_only=False)
        values = openpyxl.load_workbook(path, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return set()  # pandas read it; nothing more to learn
    covered: set[tuple[str, int, str]] = set()
    for sheet, table_file in sheets.items():
        if sheet not in formulas.sheetnames:
            continue
        ws, cached = formulas[sheet], values[sheet]
        header = {c.column: str(c.value).strip() for c in ws[1] if c.value is not None}
        where = f"{path.name}:{sheet}"
        for merged in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            problems.append(
                Problem(
                    where,
                    merged.min_row,
                    header.get(merged.min_col, get_column_letter(merged.min_col)),
                    f"merged cells {merged.coord}",
                    "one value in each cell of a table",
                    "unmerge the cells (Home > Merge & Center > Unmerge Cells) and type the "
                    "value into each cell",
                )
            )
            _fill_merged(frames[sheet], merged.bounds)
            covered |= {
                (table_file, r, header.get(c, ""))
                for r in range(merged.min_row, merged.max_row + 1)
                for c in range(merged.min_col, merged.max_col + 1)
            }
        for row in ws.iter_rows(min_row=1):
            for cell in row:
                if cell.data_type != "f" or not isinstance(cell.row, int):
                    continue
                col = cell.column if isinstance(cell.column, int) else 0
                if cached.cell(row=cell.row, column=col).value is not None:
                    continue
                problems.append(
                    Problem(
                        where,
                        cell.row,
                        header.get(col, get_column_letter(col)),
                        f"a formula with no saved value (cell {cell.coordinate})",
                        "a value",
                        "open and save the file in Excel (it saves each formula's value), "
                        "or copy the cells and paste them as values",
                    )
                )
                covered.add((table_file, cell.row, header.get(col, "")))
    return covered


def _fill_merged(frame: pd.DataFrame, bounds: tuple[int, int, int, int]) -> None:
    """Copy a merged range's value down its first column (what Excel shows in each row).

    Other columns of a range stay blank: one column's value is never another's.
    """
    min_col, min_row, _, max_row = bounds
    top, left = min_row - 2, min_col - 1
    if top < 0 or not (0 <= left < frame.shape[1] and top < len(frame)):
        return  # a merged header: the problem says so; nothing to copy
    value = str(frame.iat[top, left])
    for r in range(top, min(max_row - 1, len(frame))):
        frame.iat[r, left] = value


def _policy_from_sheet(frame: pd.DataFrame | None, file: str, problems: list[Problem]) -> object:
    """Policy mapping from a two-column sheet (key, value); values are YAML."""
    if frame is None:
        return {}
    if list(frame.columns[:2]) != ["key", "value"]:
        problems.append(
            Problem(
                f"{file}:policy",
                1,
                "",
                ", ".join(map(str, frame.columns[:2])),
                "two columns headed key and value",
                "rename the header cells",
            )
        )
        return {}
    out: dict[str, object] = {}
    for i, (key, value) in enumerate(zip(frame["key"], frame["value"], strict=True)):
        try:
            text = str(value)
            out[str(key).strip()] = (
                load_yaml(text, file=f"{file}:policy", row_offset=i + 2) if text.strip() else None
            )
        except DataValidationError as exc:
            problems.extend(exc.problems)
        except yaml.YAMLError:
            problems.append(
                Problem(
                    f"{file}:policy",
                    i + 2,
                    "value",
                    repr(value),
                    "a YAML value",
                    "write a number, a word, or {key: value}",
                )
            )
    return out
