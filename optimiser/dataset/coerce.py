"""Turn raw text tables into typed frames, driven by the schema.

Each bad cell becomes a :class:`Problem` (file, spreadsheet row, column, what
was found, what was expected, the fix) and is left blank so that the remaining
checks still run: the user gets every problem in one pass.
"""

from __future__ import annotations

import difflib
import math
import re

import numpy as np
import pandas as pd

from optimiser.problems import Problem
from optimiser.schema._columns import Column, Table

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_WITHHELD = "a value (not shown: personal data)"


def found_text(column: Column, value: object) -> str:
    """How a found value is quoted in a message; personal values are withheld."""
    if column.personal:
        return _WITHHELD
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):g}"
    return repr(value)


#: A number with thousands separators: 1,500 or £45,000.50. Any other comma is a decimal
#: comma ("1,5", "45000,50") or a typo, and is refused rather than read as 15 or 4,500,050.
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_COMMA_FIX = (
    "write decimals with a point (1.5, 45000.50); a comma may only separate thousands "
    "(45,000); in Excel set the column's number format, or the file's locale, to English (UK)"
)


def _bad_comma(text: str) -> bool:
    """Whether a numeric cell holds a comma that is not a thousands separator."""
    cleaned = text.replace("£", "").strip()
    return "," in cleaned and not _THOUSANDS.match(cleaned)


def _parse_number(text: str) -> float | None:
    if _bad_comma(text):
        return None
    cleaned = text.replace(",", "").replace("£", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_cell(column: Column, text: str) -> tuple[object, bool]:
    """(value, ok) for one non-blank cell."""
    if column.dtype in ("str",):
        return text, True
    if column.dtype == "id_list":
        return tuple(p.strip() for p in text.split(";") if p.strip()), True
    if column.dtype == "bool":
        low = text.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE, True
        return None, False
    number = _parse_number(text)
    if number is None:
        return None, False
    if column.dtype == "int":
        if number != int(number) or above_max(column, number):
            return None, False  # above the bound is refused here: 1e30 overflows Int64
        return int(number), True
    return number, True


#: Why a number above its column's bound is refused, and what to do.
TOO_BIG_FIX = "correct the value: a larger one is almost certainly a typo (an extra digit, 1e30)"


def above_max(column: Column, number: float) -> bool:
    """Whether ``number`` is above ``column``'s upper bound (the schema's; None = no bound)."""
    return column.max is not None and number > column.max


def _too_big(column: Column, text: str) -> float | None:
    """The number in ``text`` when it is above the column's bound (quoted as check_ranges does)."""
    number = _parse_number(text) if column.dtype in ("int", "float") else None
    return number if number is not None and above_max(column, number) else None


def _number_fix(column: Column, text: str) -> str:
    """The fix for an unreadable cell of a numeric column."""
    if _bad_comma(text):
        return _COMMA_FIX
    try:
        value = float(text.replace(",", "").replace("£", "").strip())
    except ValueError:
        return "correct the cell"
    if not math.isfinite(value):
        return "write a finite number: inf and nan are not a count or a cost"
    if above_max(column, value):
        return TOO_BIG_FIX
    return "correct the cell: write a whole number"


def _typed_series(column: Column, values: list[object], n: int) -> pd.Series:
    if column.dtype == "int":
        return pd.Series(values, dtype="Int64") if n else pd.Series([], dtype="Int64")
    if column.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if column.dtype == "bool":
        return pd.Series(values, dtype="bool")
    return pd.Series(values, dtype=object)


def coerce_column(
    table: Table, column: Column, raw: pd.Series, problems: list[Problem]
) -> pd.Series:
    """Typed values of one column; a Problem for each blank required or unparsable cell."""
    values: list[object] = []
    for pos, cell in enumerate(raw.astype(str).tolist()):
        text = cell.strip()
        if not text:
            if column.required:
                problems.append(
                    Problem(
                        table.file,
                        pos + 2,
                        column.name,
                        "a blank cell",
                        column.expected(),
                        "fill in the cell",
                    )
                )
            values.append(_blank(column))
            continue
        value, ok = _parse_cell(column, text)
        if not ok:
            problems.append(
                Problem(
                    table.file,
                    pos + 2,
                    column.name,
                    found_text(column, _too_big(column, text) or text),
                    column.expected(),
                    _number_fix(column, text)
                    if column.dtype in ("int", "float")
                    else "correct the cell",
                )
            )
            value = _blank(column)
        values.append(value)
    return _typed_series(column, values, len(values))


def _blank(column: Column) -> object:
    if column.dtype == "bool":
        return bool(column.default)
    if column.dtype == "id_list":
        return ()
    if column.dtype == "str":
        return "" if column.default is None else column.default
    return column.default


#: Extra columns the loader itself reads (coordinates by lon/lat or postcode).
_HELPER_COLUMNS = frozenset({"lon", "lat", "postcode"})


#: ``DataFrame.attrs`` key of the schema columns a file did not have.
ABSENT_ATTR = "optimiser_absent_columns"


def misspelt_columns(table: Table, columns: list[str], absent: list[str]) -> dict[str, str]:
    """Schema column → the extra column (of ``columns``) that looks like a misspelling of it.

    Only the ``absent`` schema columns are candidates; an extra column that resembles
    none of them is left alone (the format allows extra columns).
    """
    lowered = {c.lower(): c for c in absent}
    out: dict[str, str] = {}
    for extra in columns:
        if extra in table.names or extra.lower() in _HELPER_COLUMNS:
            continue
        close = difflib.get_close_matches(extra.strip().lower(), list(lowered), n=1, cutoff=0.8)
        if close and lowered[close[0]] not in out:
            out[lowered[close[0]]] = extra
    return out


def coerce_table(table: Table, raw: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Typed frame in schema column order, then any extra columns as text.

    An extra column that looks like a misspelt required column is named in that
    column's error (validate's check_misspelt_columns warns of optional ones).
    """
    n = len(raw)
    out: dict[str, pd.Series] = {}
    columns = [str(c) for c in raw.columns]
    misspelt = misspelt_columns(table, columns, [c for c in table.names if c not in columns])
    for column in table.columns:
        if column.name in raw.columns:
            out[column.name] = coerce_column(table, column, raw[column.name], problems)
            continue
        like = misspelt.get(column.name)
        if column.required:
            problems.append(
                Problem(
                    table.file,
                    None,
                    column.name,
                    f"unknown column {like!r} — did you mean {column.name!r}? "
                    f"(required column {column.name!r} is missing)"
                    if like
                    else "no such column",
                    f"a column {column.name!r}: {column.description}",
                    f"rename column {like!r} to {column.name}"
                    if like
                    else f"add a column headed {column.name}",
                )
            )

        out[column.name] = _typed_series(column, [_blank(column)] * n, n)
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    for extra in raw.columns:
        if extra not in frame.columns:
            frame[extra] = raw[extra].to_numpy()
    # which schema columns the file lacked (filled with defaults here, or later from
    # another table): validate warns of an extra column that looks like one of them
    frame.attrs[ABSENT_ATTR] = [c for c in table.names if c not in columns]
    return frame
