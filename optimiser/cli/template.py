"""``optimiser template DIR``: blank, correctly headed tables for an LA to fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import console, fail
from optimiser.dataset.template import TEMPLATE_WORKBOOK, write_template


def template_cmd(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder to create (must not exist, or be empty).", show_default=False),
    ],
) -> None:
    """Write blank dataset tables (CSV and one XLSX, columns described) and a README."""
    try:
        paths = write_template(folder)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(
        f"Wrote {len(paths) - 2} empty tables, {TEMPLATE_WORKBOOK} and README.md to {folder}. "
        f"Fill them in, then: optimiser validate {folder}"
    )
