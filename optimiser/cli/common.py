"""What the commands share: consoles, the DIR argument, loading, clean errors, CSV output.

User mistakes (bad data, bad paths, an output file that exists) print a clear
message and exit 1, never a traceback. DIR defaults to the embedded Trafford data.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from optimiser._errors import OptimiserError
from optimiser._outputs import check_outputs, write_csv_output
from optimiser.dataset.load import load_dataset
from optimiser.dataset.model import Dataset
from optimiser.dataset.paths import default_path
from optimiser.dataset.validate import DataWarning

# Wide enough for the tables when output goes to a file or pipe (rich assumes 80 there).
console = Console(
    highlight=False,
    soft_wrap=True,
    width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 150)),
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DirArg = Annotated[
    Path | None,
    typer.Argument(
        help="Dataset folder (CSV files) or .xlsx workbook; default: the embedded Trafford data.",
        show_default=False,
    ),
]


def load_or_exit(path: Path | None) -> Dataset:
    """Load a dataset; on a user mistake print the problems and exit 1."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            return load_dataset(path or default_path())
    except (OptimiserError, FileNotFoundError) as exc:
        err_console.print(f"[red]Cannot use {path or 'the embedded data'}[/red]")
        err_console.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def refuse_existing_or_exit(*paths: Path | None) -> None:
    """Check every output path before any work (``None`` = not asked for).

    Exit 1 with a clear message when one already exists or its folder cannot be written.
    """
    try:
        check_outputs(*[p for p in paths if p is not None])
    except (OptimiserError, OSError) as exc:
        fail(exc)


def fail(exc: Exception) -> None:
    """Print the error (no traceback) and exit 1."""
    err_console.print(str(exc), markup=False)
    raise typer.Exit(1) from None


def write_csv(frame, target: Path) -> None:
    """Write a table to a new CSV, atomically and formula-inert, and say so.

    Exit 1 with a clear message if it exists (e.g. a concurrent run wrote it first) or
    cannot be written; nothing is left half-written.
    """
    try:
        write_csv_output(frame, target)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(f"wrote {target} ({len(frame)} rows)")


def allocate_or_exit(ds: Dataset):
    """Allocate ``ds`` with a status line; on an error print it and exit 1."""
    from optimiser.allocation.solve import allocate

    with console.status(f"Allocating {len(ds.children)} children…"):
        try:
            return allocate(ds)
        except OptimiserError as exc:
            fail(exc)


def frame_table(
    title: str,
    frame,
    cols: list[str],
    *,
    heading: Callable[[str], str],
    cell: Callable[[str, Any], str],  # called with each frame value
    left: Collection[str] = (),
) -> RichTable:
    """A table of ``frame[cols]``, headed ``heading(col)``; right-aligned unless in ``left``."""
    table = RichTable(title=title)
    for col in cols:
        table.add_column(heading(col), justify="left" if col in left else "right")
    for row in frame[cols].itertuples(index=False):
        table.add_row(*[cell(c, v) for c, v in zip(cols, row, strict=True)])
    return table
