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
from pathlib import Path

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
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
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


def _error_row(message: str) -> int | None:
    """Spreadsheet row named in a pandas parser message ('line N' is 1-based, 'row N' 0-based)."""
    line = re.search(r"line (\d+)", message)
    if line:
        return int(line.group(1))
    row = re.search(r"row (\d+)", message)
    return int(row.group(1)) + 1 if row else None


def read_folder(folder: Path, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    """Raw tables (name → text frame) from a dataset folder of CSV files."""
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
            raw[table.name] = frame
    return raw


def read_workbook(path: Path, problems: list[Problem]) -> tuple[dict[str, pd.DataFrame], object]:
    """Raw tables and the policy mapping from one XLSX workbook (one sheet per table)."""
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
        raw[table.name] = frame
    return raw, _policy_from_sheet(by_name.get("policy"), path.name, problems)


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
