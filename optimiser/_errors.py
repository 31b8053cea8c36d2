"""Exceptions raised by optimiser.

Every message names what was wrong (file, row, column or argument), what was
expected and how to fix it. No message ever carries a child's personal details
(pseudonymous ids are fine).
"""

from __future__ import annotations


class OptimiserError(Exception):
    """Base class for errors raised by optimiser."""


class DataValidationError(OptimiserError, ValueError):
    """Input data breaks the dataset format; the message lists every problem found.

    Attributes
    ----------
    problems : list of Problem-like objects (each with ``file``, ``row``,
        ``column``, ``found``, ``expected``, ``fix``), empty when not known.
    """

    def __init__(self, msg: str, problems: list | None = None) -> None:
        super().__init__(msg)
        self.problems = list(problems or [])


class DataNotFoundError(OptimiserError, FileNotFoundError):
    """A data file or folder the run needs is not there."""


class InfeasibleError(OptimiserError, RuntimeError):
    """A model has no solution; the message says which data make it so."""


class SolverError(OptimiserError, RuntimeError):
    """The solver failed or returned a solution that the independent checker rejected."""


class SolverTimeoutError(SolverError):
    """The solver found no feasible solution within its time limit (none was proven absent)."""


class OutputError(OptimiserError, OSError):
    """An output file cannot be written (folder missing or read-only, disk full, ...).

    The message names the path, what went wrong and the fix; nothing is left half-written.
    """


class OutputExistsError(OutputError, FileExistsError):
    """An output file already exists; outputs are never overwritten."""


class DisclosureError(OptimiserError, ValueError):
    """A table meant for publication would disclose a suppressed count (fail closed).

    The message names the cells whose values an attacker could recover or pin
    from the published cells and their relations, and what to do about it.
    """


class UnknownChildError(OptimiserError, LookupError):
    """A child id asked about is not in the dataset; the message says how to list the ids."""

    def __str__(self) -> str:  # LookupError quotes its message; print it plainly
        return str(self.args[0]) if self.args else ""
