"""Problems found in input data, and the one error that lists them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import yaml

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


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (``&a``, ``*a``, ``<<: *a``).

    Aliases let a few hundred bytes expand to gigabytes ("billion laughs"); the
    dataset's YAML files never need them, so the first anchor or alias stops the read.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _YamlAliasError(event.start_mark)
        return super().compose_node(parent, index)


class _YamlAliasError(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__("YAML anchor or alias")
        self.mark = mark


def load_yaml(text: str, *, file: str, row_offset: int = 0) -> object:
    """Parse YAML ``text`` safely: no Python objects, no anchors or aliases.

    Raises :class:`DataValidationError` naming ``file`` (and the line) at the first
    anchor or alias; other malformed YAML raises :class:`yaml.YAMLError` as usual.
    ``row_offset`` is added to the line reported (for YAML held in one cell, pass the
    cell's row and 0 for its line).
    """
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except _YamlAliasError as exc:
        line = getattr(exc.mark, "line", None)
        row = row_offset if row_offset else (None if line is None else line + 1)
        raise_problems(
            [
                Problem(
                    file,
                    row,
                    "",
                    "a YAML anchor or alias (& or *)",
                    "plain values",
                    "YAML anchors/aliases (&, *) are not allowed; write the values out",
                )
            ]
        )
