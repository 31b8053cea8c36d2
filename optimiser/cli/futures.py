"""``optimiser futures``: many seeded demand futures, the baseline and each option through them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table as RichTable

from optimiser._errors import OptimiserError
from optimiser.cli.common import (
    DirArg,
    console,
    fail,
    load_or_exit,
    quiet_dask_logs,
    refuse_existing_or_exit,
    write_csv,
)


def futures_cmd(
    path: DirArg = None,
    futures: Annotated[
        int, typer.Option("--futures", help="Number of futures to sample.", min=1)
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the run (future i: seed and i).", min=0)] = 1,
    years: Annotated[int, typer.Option(help="Years to roll forward.", min=0, max=30)] = 5,
    scenario: Annotated[
        list[Path] | None,
        typer.Option(help="An option's scenario YAML (repeat for more); changes from from_year."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the bands (option × year × package × measure) to this .csv."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="'serial', 'local' (2 worker processes) or a Dask scheduler address "
            "(tcp://host:port); default: local from 64 futures, else serial."
        ),
    ] = None,
) -> None:
    """Sample demand futures; P10/P50/P90 by year, expected cost and regret of each option."""
    from optimiser.scenarios.futures.api import futures as run_futures
    from optimiser.scenarios.futures.engine import resolve_scheduler
    from optimiser.scenarios.scenario import load_scenario

    if out is not None and out.suffix.lower() != ".csv":
        fail(ValueError(f"--out {out}: give a .csv file"))
    try:
        resolve_scheduler(scheduler, futures)
    except ValueError as exc:
        fail(ValueError(f"--scheduler: {exc}"))
    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    quiet_dask_logs()
    try:
        options = [load_scenario(f) for f in scenario or []]
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(
                f"Rolling {futures} futures × {len(options) + 1} options", total=futures
            )
            res = run_futures(
                ds,
                options,
                n=futures,
                seed=seed,
                years=years,
                scheduler=scheduler,
                progress=lambda k: bar.advance(task, k),
            )
    except (OptimiserError, ConnectionError, ValueError) as exc:
        fail(exc)
    _print_summary(res)
    if out is not None:
        write_csv(res.bands, out)


def _print_summary(res) -> None:
    """Expected cost, P10-P90, regret and P(beats baseline) of each option; demand bands."""
    from optimiser.reports.labels import format_value

    s = res.settings
    console.print(
        f"{s['n']} futures, seed {s['seed']}, {s['years']} years ({s['scheduler']}); growth "
        f"centre {s['growth_mean']:+.1%} a year: {s['growth_source']}",
        markup=False,
    )
    table = RichTable(title="Options across the futures (cost summed over the years, £)")
    for col in ("option", "expected", "P10", "P90", "P(beats baseline)", "expected regret"):
        table.add_column(col, justify="left" if col == "option" else "right", overflow="fold")
    for r in res.decisions.to_dict("records"):
        table.add_row(
            str(r["option"]),
            format_value("total_cost_gbp", r["expected_cost_gbp"]),
            format_value("total_cost_gbp", r["cost_p10_gbp"]),
            format_value("total_cost_gbp", r["cost_p90_gbp"]),
            f"{r['p_beats_baseline']:.0%}",
            format_value("total_cost_gbp", r["expected_regret_gbp"]),
        )
    console.print(table)
    bands = res.bands[(res.bands["package_id"] == "all") & (res.bands["option"] == "baseline")]
    demand = RichTable(title="Baseline by year, all packages: P50 (P10-P90)")
    measures = ["demand_children", "places", "unplaced_children", "total_cost_gbp"]
    demand.add_column("year", justify="right")
    for m in measures:
        demand.add_column(m.replace("_gbp", " £").replace("_", " "), justify="right")
    for year, rows in bands.groupby("year"):
        by = rows.set_index("measure")
        cells = [
            f"{format_value(m, by.at[m, 'p50'])} ({format_value(m, by.at[m, 'p10'])}-"
            f"{format_value(m, by.at[m, 'p90'])})"
            for m in measures
        ]
        demand.add_row(str(year), *cells)
    console.print(demand)
