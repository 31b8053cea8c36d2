"""Problems found in input data, and the one error that lists them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NoReturn

from optimiser._errors import DataValidationError


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where, what was found, what was expected, and the fix.

    ``row`` is the spreadsheet row number (the header is row 1), or None for
    file-level problems. ``found`` never holds a child's personal details.
    """

    file: str
    row: int | None
    column: str
    found: str
    expected: str
    fix: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column.startswith(("key ", "change ")):
            where += f", {self.column}"
        elif self.column:
            where += f", column {self.column}"
        return f"{where}: found {self.found}; expected {self.expected}; fix: {self.fix}"


def format_problems(problems: list[Problem]) -> str:
    """One message listing every problem, numbered, errors first."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    lines = [f"{len(errors)} problem(s) in the input data:"]
    lines += [f"  {i}. {p}" for i, p in enumerate(errors, 1)]
    if warnings:
        lines.append(f"{len(warnings)} warning(s):")
        lines += [f"  - {p}" for p in warnings]
    return "\n".join(lines)


def raise_problems(problems: list[Problem]) -> NoReturn:
    """Raise one :class:`DataValidationError` listing every problem."""
    msg = format_problems(problems)
    raise DataValidationError(msg, problems)
