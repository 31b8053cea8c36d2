"""Column and Table: the building blocks of the dataset schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Dtype = Literal["str", "int", "float", "bool", "id_list"]

DTYPE_WORDS: dict[str, str] = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "id_list": "ids separated by ';'",
}


def _number(value: float) -> str:
    """A bound as typed: 5000000, not 5e+06; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    Parameters
    ----------
    name : column header, exactly as in the file.
    dtype : one of ``str``, ``int``, ``float``, ``bool``, ``id_list``.
    unit : unit in brackets in the docs, e.g. ``GBP/yr``; empty if none.
    required : the column must be present and non-blank on every row.
    default : value used when an optional column is absent or a cell is blank.
    description : one line for the documentation.
    min, max : inclusive numeric range, or None.
    allowed : allowed text values, or None.
    unique : values must be unique within the table.
    personal : values describe a child; never echoed in messages.
    """

    name: str
    dtype: Dtype
    unit: str = ""
    required: bool = True
    default: Any = None
    description: str = ""
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False
    personal: bool = False

    def expected(self) -> str:
        """Plain-English description of a valid value, for error messages."""
        text = DTYPE_WORDS[self.dtype]
        if self.allowed:
            text = "one of " + ", ".join(self.allowed)
        if self.min is not None and self.max is not None:
            text += f" from {_number(self.min)} to {_number(self.max)}"
        elif self.min is not None:
            text += f" of at least {_number(self.min)}"
        if self.unit:
            text += f" [{self.unit}]"
        return text


@dataclass(frozen=True)
class Table:
    """One input file: its name, what a row is, and its columns."""

    name: str
    file: str
    row_is: str
    columns: tuple[Column, ...]
    required_file: bool = True
    description: str = ""

    @property
    def key(self) -> str | None:
        """Name of the unique id column, if the table has one."""
        for col in self.columns:
            if col.unique:
                return col.name
        return None

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        msg = f"table {self.name} has no column {name!r}"
        raise KeyError(msg)

    @property
    def names(self) -> list[str]:
        """Column names in schema order."""
        return [c.name for c in self.columns]
