"""``optimiser robust-site``: bases and opening years chosen against sampled futures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import (
    DirArg,
    console,
    fail,
    frame_table,
    load_or_exit,
    quiet_dask_logs,
    refuse_existing_or_exit,
)


def robust_site_cmd(
    path: DirArg = None,
    budget_per_year: Annotated[
        float,
        typer.Option(help="Capital that may start building each year [GBP].", min=0),
    ] = 400_000.0,
    years: Annotated[int, typer.Option(help="Horizon, in years.", min=1, max=30)] = 5,
    lead_years: Annotated[
        int,
        typer.Option(
            help="Build time of a base, in years: it opens this long after building starts.", min=0
        ),
    ] = 2,
    train: Annotated[
        int, typer.Option(help="Futures the plan is chosen on (sample average).", min=1)
    ] = 20,
    test: Annotated[
        int, typer.Option(help="Held-out futures (another seed) the plans are compared on.", min=1)
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the training futures.", min=0)] = 1,
    criterion: Annotated[
        str, typer.Option(help="'expected' (expected cost) or 'regret' (expected regret).")
    ] = "expected",
    max_bases: Annotated[int, typer.Option(help="Most bases in the plan.", min=1)] = 6,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the robust plan as scenario YAML (with from_year); no overwrite."),
    ] = None,
    scheduler: Annotated[
        str,
        typer.Option(
            help="'serial', 'local' (2 worker processes for each step of the search) or a "
            "Dask scheduler address (tcp://host:port)."
        ),
    ] = "local",
) -> None:
    """Choose bases and opening years against sampled futures; compare with the single line."""
    from optimiser.scenarios.futures.engine import resolve_scheduler
    from optimiser.siting.robust import robust_site

    if criterion not in ("expected", "regret"):
        fail(ValueError(f"--criterion {criterion!r}: give 'expected' or 'regret'"))
    if lead_years > years:
        fail(
            ValueError(
                f"--lead-years {lead_years} is beyond --years {years}: a base would never open"
            )
        )
    try:
        resolve_scheduler(scheduler, train)
    except ValueError as exc:
        fail(ValueError(f"--scheduler: {exc}"))
    if out is not None and out.suffix.lower() not in (".yaml", ".yml"):
        fail(ValueError(f"--out {out}: give a .yaml file"))
    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    quiet_dask_logs()
    try:
        with console.status(
            f"Siting against {train} futures, then comparing on {test} held-out futures…"
        ):
            res = robust_site(
                ds,
                budget_gbp_per_year=budget_per_year,
                years=years,
                lead_years=lead_years,
                n_train=train,
                n_test=test,
                seed=seed,
                criterion=criterion,
                scheduler=scheduler,
                max_bases=max_bases,
            )
    except (OptimiserError, ConnectionError, ValueError) as exc:
        fail(exc)
    for name, plan in (("Robust plan", res.plan), ("Single-line plan, phased", res.single_line)):
        console.print(_plan_table(f"{name} (£{budget_per_year:,.0f} a year)", plan))
    console.print(_comparison_table(res.comparison, test, years))
    p = res.parameters
    console.print(
        f"chosen on {p['n_train']} futures (seed {p['seed']}) by {p['criterion']} cost; "
        f"compared on {p['n_test']} held-out futures (seed {p['held_out_seed']}); "
        f"single line at {p['growth_single_line']:+.1%} a year. A greedy search over the "
        "single-line model's shortlist, not an exact stochastic programme.",
        markup=False,
    )
    if out is not None:
        try:
            console.print(f"wrote {res.save_scenario(out)}", markup=False)
        except (OSError, OptimiserError) as exc:
            fail(exc)


def _plan_table(title: str, plan):
    cols = ["setting_id", "package_id", "places", "capital_cost_gbp", "build_year", "from_year"]
    if plan.empty:
        return f"{title}: no bases"
    return frame_table(
        title,
        plan,
        cols,
        heading=lambda c: {"from_year": "opens (year)", "build_year": "builds from (year)"}.get(
            c, c.replace("_gbp", " £").replace("_", " ")
        ),
        cell=lambda c, v: f"{v:,.0f}" if c == "capital_cost_gbp" else str(v),
        left=["setting_id", "package_id"],
    )


def _comparison_table(comparison, n_test: int, years: int):
    from optimiser.reports.labels import format_value

    cols = [
        "plan",
        "expected_cost_gbp",
        "cost_p10_gbp",
        "cost_p90_gbp",
        "expected_regret_gbp",
        "p_beats_single_line",
        "expected_unplaced_child_years",
    ]
    names = {
        "expected_cost_gbp": "expected cost £",
        "cost_p10_gbp": "P10 £",
        "cost_p90_gbp": "P90 £",
        "expected_regret_gbp": "expected regret £",
        "p_beats_single_line": "P(beats single line)",
        "expected_unplaced_child_years": "unplaced child-years",
    }

    def cell(col: str, v) -> str:
        if col == "plan":
            return str(v)
        if col == "p_beats_single_line":
            return f"{v:.0%}"
        if col == "expected_unplaced_child_years":
            return f"{v:,.1f}"
        return format_value("total_cost_gbp", v)

    return frame_table(
        f"On {n_test} held-out futures, years 0-{years} summed",
        comparison,
        cols,
        heading=lambda c: names.get(c, c),
        cell=cell,
        left=["plan"],
    )
