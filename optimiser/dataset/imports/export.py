"""Reading a case-management export: its cells as text, row numbers, dates and ages.

Also the dataset folder's own tables as the import needs them (:func:`folder_table`) and
:class:`RowLog`, the problems of an export by row (file, row, column, fix; never a value).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from optimiser.dataset.imports.mapping import ChildrenMapping
from optimiser.dataset.readers import read_csv_text
from optimiser.problems import Problem, raise_problems


def year_start(as_of: dt.date) -> dt.date:
    """31 August before the academic year holding ``as_of`` (its ages are ages on this day)."""
    year = as_of.year if as_of >= dt.date(as_of.year, 9, 1) else as_of.year - 1
    return dt.date(year, 8, 31)


def age_on(born: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` of a child born on ``born``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


_DAY_FIRST = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y")


def parse_date(text: str, fmt: str | None = None) -> dt.date | None:
    """A date from an export cell: ``fmt`` or ISO (an Excel date cell reads as
    ``2015-03-31 00:00:00``); without ``fmt``, UK day-first too (never month-first).
    None when it is none of these."""
    text = str(text).strip()
    if not text:
        return None
    iso = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")  # unambiguous: always read
    formats = (fmt, *iso) if fmt else (*iso, *_DAY_FIRST)
    for f in formats:
        try:
            return dt.datetime.strptime(text, f).date()
        except ValueError:
            continue
    return None


def norm_label(text: object) -> str:
    """A label as matched: lower case, '&' = 'and', punctuation and extra spaces dropped."""
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower().replace("&", " and ")).strip()


def read_export(path: Path, mapping: ChildrenMapping) -> tuple[pd.DataFrame, list[int]]:
    """The export's cells as text and the spreadsheet row of each data row.

    CSV in UTF-8 (with or without a byte-order mark) or Windows-1252, as case-management
    systems write it; XLSX from the mapping's ``sheet`` (default: the first). Rows above
    ``header_row`` are skipped; blank rows are dropped, keeping every other row's number.

    Raises
    ------
    DataValidationError
        when the file cannot be read or lacks a column the mapping names.
    """
    name = path.name
    skip = mapping.header_row - 1

    def fail(found: str, expected: str, fix: str, row: int | None = None) -> None:
        raise_problems([Problem(name, row, "", found, expected, fix)])

    if not path.is_file():
        fail("no such file", "the case-management export (CSV or XLSX)", f"check the path {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(
                path,
                sheet_name=mapping.sheet if mapping.sheet is not None else 0,
                header=skip,
                dtype=str,
                keep_default_na=False,
            )
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
            sheet = f"sheet {mapping.sheet!r}" if mapping.sheet else "its first sheet"
            reason = type(exc).__name__ if not isinstance(exc, ValueError) else "unreadable"
            fail(
                f"a workbook whose {sheet} cannot be read ({reason})",
                "an .xlsx workbook",
                "save it from Excel as .xlsx, and check the mapping's sheet",
            )
    elif path.suffix.lower() in (".csv", ".txt"):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")  # Windows exports
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skiprows=skip,
                skip_blank_lines=False,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            fail(
                "malformed CSV (rows with more cells than the header, or no header)",
                f"comma-separated rows under a header in row {mapping.header_row}",
                "export it again as CSV, and check header_row in the mapping",
            )
    else:
        fail(
            f"a {path.suffix or 'suffixless'} file",
            "a .csv or .xlsx export",
            "export the caseload report as CSV or Excel (.xlsx)",
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("").astype(str)
    missing = [c for c in mapping.used_columns() if c not in frame.columns]
    if missing:
        raise_problems(
            [
                Problem(
                    name,
                    mapping.header_row,
                    col,
                    "no such column in the header row",
                    "the column the mapping names",
                    "correct the mapping's column name (headers must match exactly) or header_row",
                )
                for col in missing
            ]
        )
    rows = [mapping.header_row + 1 + i for i in range(len(frame))]
    blank = frame.apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy(bool)
    return frame[~blank].reset_index(drop=True), [
        r for r, b in zip(rows, blank, strict=True) if not b
    ]


def folder_table(folder: Path, file: str, columns: Iterable[str]) -> pd.DataFrame:
    """One CSV of the dataset folder as text (cells stripped), with ``columns`` checked.

    Raises
    ------
    DataValidationError
        when the file is missing, unreadable or lacks a column (file, column, fix).
    """
    problems: list[Problem] = []
    path = folder / file
    if not path.is_file():
        raise_problems(
            [
                Problem(
                    file,
                    None,
                    "",
                    f"no such file in {folder}",
                    f"the dataset's {file}",
                    "make the folder with optimiser init, or add it",
                )
            ]
        )
    frame = read_csv_text(path, problems)
    if frame is None:
        raise_problems(problems)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise_problems(
            [
                Problem(
                    file,
                    1,
                    c,
                    "no such column",
                    f"a column {c!r}",
                    f"add it (run optimiser validate {folder})",
                )
                for c in missing
            ]
        )
    return frame.apply(lambda c: c.str.strip())


class RowLog:
    """Problems of one export, by row (at most one 'left out' per row)."""

    def __init__(self, file: str, need_col: str) -> None:
        self.file = file
        self.need_col = need_col
        self.left_out: list[Problem] = []
        self.warnings: list[Problem] = []

    def leave_out(self, row: int, column: str, found: str, expected: str, fix: str) -> None:
        self.left_out.append(Problem(self.file, row, column, found, expected, fix))

    def warn(self, row: int, column: str, found: str, expected: str, fix: str) -> None:
        self.warnings.append(Problem(self.file, row, column, found, expected, fix, "warning"))
