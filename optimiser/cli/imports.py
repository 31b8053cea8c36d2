"""``optimiser import ...``: the LA's own files into a dataset folder, one command per source.

Each command is one function, registered on :data:`import_app` (``optimiser import
gias``, ``optimiser import ons`` here; ``optimiser import children`` in
:mod:`optimiser.cli.import_children`); the library code is in :mod:`optimiser.dataset.imports`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import console, err_console, fail, frame_table
from optimiser.cli.import_children import children_cmd
from optimiser.dataset.imports.gias_update import import_gias
from optimiser.dataset.imports.ons import import_ons
from optimiser.problems import Problem

import_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Bring the LA's own files (GIAS download, ONS files, a caseload export) into a "
    "dataset folder.",
)

IntoOpt = Annotated[
    Path,
    typer.Option("--into", help="Dataset folder to update (as `optimiser init` writes).",
                 show_default=False),
]  # fmt: skip
#: Warnings printed in full; the rest are counted.
SHOWN_WARNINGS = 25


def print_warnings(problems: list[Problem]) -> None:
    """Print the warnings (the first :data:`SHOWN_WARNINGS`, then how many more)."""
    warnings = [p for p in problems if p.severity == "warning"]
    if not warnings:
        return
    err_console.print(f"{len(warnings)} warning(s):")
    for p in warnings[:SHOWN_WARNINGS]:
        err_console.print(f"  - {p}", markup=False)
    if len(warnings) > SHOWN_WARNINGS:
        err_console.print(f"  … and {len(warnings) - SHOWN_WARNINGS} more")


def gias_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="edubasealldata*.csv or edubaseallstatefunded*.csv as downloaded.",
            show_default=False,
        ),
    ],
    la: Annotated[
        str,
        typer.Option("--la", help="The LA: DfE code (358), ONS code or name.", show_default=False),
    ],
    into: IntoOpt,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="CSV of SEN provision type -> package_id "
            "(default: the shipped gias_provision_packages.csv).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the changes; write nothing.")
    ] = False,
) -> None:
    """Update settings.csv and candidates.csv from a GIAS download (ages, capacities, …)."""
    try:
        with console.status(f"Reading {file.name}…"):
            result = import_gias(file, la=la, into=into, mapping=mapping, dry_run=dry_run)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    changes = result.changes
    console.print(
        f"{file.name} ({result.encoding}): {result.matched} row(s) of {into} matched by URN "
        f"for {result.la.name} ({result.la.code}); {len(changes)} cell(s) "
        + ("would change" if dry_run else "changed")
    )
    if len(changes):
        shown = changes.assign(setting=changes["id"] + " " + changes["name"])
        console.print(
            frame_table("Changes", shown, ["file", "row", "setting", "field", "old", "new"],
                        heading=str, cell=lambda _c, v: str(v),
                        left=("file", "setting", "field", "old", "new"))
        )  # fmt: skip
        counts = result.counts().reset_index()
        console.print(
            frame_table("Changed cells by field", counts, ["field", "changed"], heading=str,
                        cell=lambda _c, v: str(v), left=("field",))
        )  # fmt: skip
    print_warnings(result.problems)
    if result.backup is not None:
        console.print(f"Updated {into}; the old files are in {result.backup}")
    elif not dry_run:
        console.print(f"Nothing to change in {into}")


def ons_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="ONS ward boundaries (WD24CD…), LSOA file (LSOA21CD…) or ONSPD CSV, as published.",
            show_default=False,
        ),
    ],
    into: IntoOpt,
    la: Annotated[
        str | None,
        typer.Option("--la", help="Keep only this LA's rows (DfE code, ONS code or name)."),
    ] = None,
) -> None:
    """Write an ONS file into the dataset: wards.geojson, lsoas.csv or postcodes.csv."""
    try:
        with console.status(f"Reading {file.name}…"):
            result = import_ons(file, into=into, la=la)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    cut = f" ({result.dropped} outside the LA left out)" if la else ""
    where = f"; the old file is in {result.backup}" if result.backup else ""
    where = where if result.written else " (unchanged)"
    console.print(
        f"{file.name}: {result.kind}, {result.rows} row(s){cut} -> {into / result.file}{where}"
    )


import_app.command("gias")(gias_cmd)
import_app.command("ons")(ons_cmd)
import_app.command("children")(children_cmd)
