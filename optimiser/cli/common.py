"""What the commands share: consoles, the DIR argument, loading, clean errors, CSV output.

User mistakes (bad data, bad paths, an output file that exists) print a clear
message and exit 1, never a traceback. DIR defaults to the embedded Trafford data.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console, ConsoleDimensions, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from optimiser._errors import OptimiserError
from optimiser._outputs import check_outputs, write_csv_output
from optimiser.dataset.load import load_dataset
from optimiser.dataset.model import Dataset
from optimiser.dataset.paths import default_path
from optimiser.dataset.validate import DataWarning

#: Width of the tables when output goes to a file or pipe and COLUMNS is not set.
PIPE_COLUMNS = 150


class _Console(Console):
    """A console whose width follows COLUMNS at each print (not once, at import).

    ``COLUMNS=80 optimiser ...`` and a test runner's environment are honoured; off a
    terminal (a file or pipe, where rich would assume 80) without COLUMNS the tables
    are PIPE_COLUMNS wide.
    """

    @property
    def size(self) -> ConsoleDimensions:
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return ConsoleDimensions(int(columns), 25)
        if not self.is_terminal:
            return ConsoleDimensions(PIPE_COLUMNS, 25)
        return Console.size.fget(self)  # type: ignore[attr-defined]

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DirArg = Annotated[
    Path | None,
    typer.Argument(
        help="Dataset folder (CSV files) or .xlsx workbook; default: the embedded Trafford data.",
        show_default=False,
    ),
]


def quiet_dask_logs() -> None:
    """Only Dask's errors on the console: not its warnings about slow worker shutdowns.

    A local cluster's nanny warns "Worker process still alive after 4.0 seconds, killing"
    when a busy machine is slow to end a worker after the run's results are in; a planner
    has nothing to act on. Errors still show.
    """
    logging.getLogger("distributed").setLevel(logging.ERROR)


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


#: Decimals a CSV keeps by the unit in a column's name: pence, 4 dp shares, 0.1 min, 10 m.
CSV_DECIMALS = (("_gbp", 2), ("_share", 4), ("_pct", 4), ("_min", 1), ("_km", 2))


def csv_decimals(name: str) -> int | None:
    """The decimals a CSV column named ``name`` is rounded to (None: left as it is)."""
    if name == "arc_cost":
        return 2
    for unit, places in CSV_DECIMALS:
        if name.endswith(unit) or f"{unit}_" in name:
            return places
    return None


def rounded_for_csv(frame):
    """``frame`` with float columns rounded by unit (money to pence, shares to 4 dp, …)."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        places = csv_decimals(str(col))
        if places is not None and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(places)
    return out


def write_csv(frame, target: Path) -> None:
    """Write a table to a new CSV, atomically and formula-inert, and say so.

    Float columns are rounded by their unit (:func:`rounded_for_csv`). Exit 1 with a
    clear message if it exists (e.g. a concurrent run wrote it first) or cannot be
    written; nothing is left half-written.
    """
    try:
        write_csv_output(rounded_for_csv(frame), target)
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
    total: list[str] | None = None,
) -> RenderableType:
    """A table of ``frame[cols]``, headed ``heading(col)``; right-aligned unless in ``left``.

    Figures (the right-aligned columns) are never cut: each keeps the width of its
    longest figure; headers wrap and text folds (never "…"). A table too wide for
    the terminal drops its outer edge and cell padding; still too wide, its figures
    are split over several tables, each repeating the ``left`` columns (or the
    first). ``total``: a last row below a line (one cell per column).

    Title, headings and cells are plain text, never Rich markup: a school or area named
    ``[bold]…`` or ``…[/b]`` shows as typed (and cannot break the table).
    """
    cells = {c: [cell(c, v) for v in frame[c]] for c in cols}

    def build(name: str, shown: list[str], *, compact: bool) -> RichTable:
        table = RichTable(title=Text(name))
        if compact:
            table.show_edge, table.padding = False, (0, 0)
        for col in shown:
            if col in left:
                table.add_column(Text(heading(col)), justify="left", overflow="fold")
            else:
                width = max(map(len, cells[col]), default=1)
                table.add_column(
                    Text(heading(col)), justify="right", overflow="fold", min_width=width
                )
        for r in range(len(frame)):
            table.add_row(*[Text(cells[c][r]) for c in shown])
        if total is not None:
            table.add_section()
            table.add_row(*[Text(v) for c, v in zip(cols, total, strict=True) if c in shown])
        return table

    def fits(table: RichTable, shown: list[str]) -> bool:
        """Rendered at the terminal's width: no line longer, every figure whole on a line."""
        width = console.width
        probe = Console(file=io.StringIO(), width=width, highlight=False, soft_wrap=True)
        probe.print(table)
        text = cast(io.StringIO, probe.file).getvalue()
        if "…" in text or max(map(len, text.splitlines()), default=0) > width:
            return False
        return all(v in text for c in shown if c not in left for v in cells[c])

    for compact in (False, True):
        whole = build(title, cols, compact=compact)
        if fits(whole, cols):
            return whole
    keys = [c for c in cols if c in left] or cols[:1]
    groups: list[list[str]] = [[]]
    for col in (c for c in cols if c not in keys):
        trial = [c for c in cols if c in keys or c in [*groups[-1], col]]
        if groups[-1] and not fits(build(title, trial, compact=True), trial):
            groups.append([])
        groups[-1].append(col)
    tables = [
        build(
            f"{title} ({i + 1} of {len(groups)})",
            [c for c in cols if c in keys or c in group],
            compact=True,
        )
        for i, group in enumerate(groups)
    ]
    return tables[0] if len(tables) == 1 else Group(*tables)
