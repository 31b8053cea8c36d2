"""``optimiser import children``: an LA's case-management export → the folder's children.csv."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import console, fail


def children_cmd(
    file: Annotated[
        Path,
        typer.Argument(help="The EHCP caseload export (.csv or .xlsx).", show_default=False),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            "--map",
            help="mapping.yaml naming the export's columns (examples/import_mappings/).",
            show_default=False,
        ),
    ],
    into: Annotated[
        Path,
        typer.Option(
            "--into", help="Dataset folder to write children.csv into.", show_default=False
        ),
    ],
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="File holding the LA's pseudonymisation key (>= 16 bytes; kept away from "
            "the dataset).",
            show_default=False,
        ),
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option(
            "--key-env",
            help="Environment variable holding the key instead.",
            show_default=False,
        ),
    ] = None,
    postcodes: Annotated[
        Path | None,
        typer.Option(
            "--postcodes",
            help="ONSPD extract (pcds, oseast1m, osnrth1m, lsoa21, ...); default: the "
            "folder's postcodes.csv.",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="A day in the academic year the ages are for (YYYY-MM-DD; default today); "
            "ages are taken on the 31 August before it.",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail, writing nothing, if any row is left out or anything is unmatched "
            "(default: leave such rows out, count and list them).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace an existing children.csv (the old one is kept as .bak)."
        ),
    ] = False,
) -> None:
    """Import children from a case-management export: ids pseudonymised, homes geocoded."""
    from optimiser.dataset.imports.children import import_children
    from optimiser.dataset.imports.pseudonyms import read_key

    try:
        if key_file is not None and key_file.resolve().is_relative_to(into.resolve()):
            msg = (
                f"the key file is inside the dataset folder {into}; move it out (the key "
                "must never be stored with the data)"
            )
            raise OptimiserError(msg)
        key = read_key(key_file, key_env)
        result = import_children(
            file,
            mapping,
            into,
            key=key,
            postcodes=postcodes,
            as_of=None if as_of is None else as_of.date(),
            strict=strict,
            force=force,
        )
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(result.summary(), markup=False)
    if result.notices:
        console.print(
            f"{' and '.join(result.notices)}: the notice that the children are synthetic now "
            "says they are the LA's own records",
            markup=False,
        )
    backup = f"; the old file is kept as {result.backup.name}" if result.backup else ""
    console.print(
        f"wrote {result.path} ({len(result.children)} children){backup}. "
        f"Next: optimiser validate {into}",
        markup=False,
    )
