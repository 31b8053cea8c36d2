"""``optimiser init``: a dataset folder for any English LA from national open data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import console, fail
from optimiser.dataset.init.build import DEFAULT_SEED, init_la


def init_cmd(
    la: Annotated[
        str,
        typer.Option(
            "--la",
            help="DfE 3-digit code (356), ONS code (E08000007) or name (Stockport).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to create (must not exist).", show_default=False),
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", help="SEN2 year to reproduce, e.g. 202425 (default: latest)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic cohort.")] = (
        DEFAULT_SEED
    ),
) -> None:
    """Build a dataset folder for an English LA, calibrated to its SEN2 return."""
    start = time.perf_counter()
    try:
        with console.status(f"Building {la} from national open data…"):
            path = init_la(la, out, year=year, seed=seed)
    except (OptimiserError, FileExistsError, OSError) as exc:
        fail(exc)
    console.print(
        f"Wrote {path} in {time.perf_counter() - start:.1f} s: synthetic children and "
        f"assumed places calibrated to SEN2; {path / 'README.md'} lists every assumption. "
        f"Next: optimiser validate {path}"
    )
