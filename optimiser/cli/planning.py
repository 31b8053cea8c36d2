"""Planning commands: compare options, roll the cohort forward, site new inclusion bases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from optimiser._errors import OptimiserError
from optimiser.cli.common import (
    DirArg,
    console,
    fail,
    frame_table,
    load_or_exit,
    refuse_existing_or_exit,
    write_csv,
)

if TYPE_CHECKING:
    import pandas as pd


def compare_cmd(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="[DIR] then one or more scenario YAML files; DIR is optional."),
    ],
    moves_out: Annotated[
        Path | None,
        typer.Option(
            "--moves-out", help="Write who moves (counts by package and setting type) to CSV."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the KPI table (baseline, options, changes) to this .csv or .xlsx; "
            "never overwritten."
        ),
    ] = None,
) -> None:
    """Solve the baseline and each scenario; print KPIs side by side, deltas and who moves."""
    from optimiser.scenarios.compare import compare_scenarios
    from optimiser.scenarios.scenario import load_scenario

    path = (
        scenarios[0] if scenarios and scenarios[0].suffix.lower() not in (".yaml", ".yml") else None
    )
    files = scenarios[1:] if path is not None else scenarios
    if not files:
        fail(ValueError("give at least one scenario file (.yaml)"))
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        fail(ValueError(f"--out {out}: give a .csv or .xlsx file"))
    refuse_existing_or_exit(moves_out, out)
    ds = load_or_exit(path)
    try:
        options_ = [load_scenario(f) for f in files]
        with console.status(f"Solving the baseline and {len(options_)} option(s)…"):
            cmp = compare_scenarios(ds, options_)
    except OptimiserError as exc:
        fail(exc)
    _print_comparison(cmp)
    if moves_out is not None:
        write_csv(cmp.moves, moves_out)
    if out is not None:
        from optimiser.reports.workbook import write_comparison

        try:
            written = write_comparison(cmp, out, title=f"{ds.name}: options compared")
        except (OptimiserError, OSError) as exc:
            fail(exc)
        console.print(f"wrote {written} ({len(cmp.kpis)} measures)")


#: Width the measure column keeps at least (it wraps below its longest label).
_MEASURE_MIN = 24


def _print_comparison(cmp) -> None:
    """The KPI table; when the options do not fit the terminal, one table per option.

    Figures keep their full width (never cut): with many options on a narrow
    terminal each option gets its own table of baseline, option and change.
    """
    from optimiser.allocation.unplaced_cost import unplaced_cost_note
    from optimiser.reports.labels import format_value, kpi_label

    names = list(cmp.kpis.columns)
    keys = [k for k in cmp.kpis.index if not ("_SPP" in k and not cmp.kpis.loc[k].any())]
    cells = {n: [format_value(k, cmp.kpis.at[k, n]) for k in keys] for n in names} | {
        f"Δ {n}": [format_value(k, cmp.deltas.at[k, n], delta=True) for k in keys]
        for n in names[1:]
    }
    widths = {c: max(len(c), *map(len, v)) + 3 for c, v in cells.items()}
    groups = [list(cells)]
    if _MEASURE_MIN + sum(widths.values()) > console.width and len(names) > 2:
        groups = [[names[0], n, f"Δ {n}"] for n in names[1:]]
    for columns in groups:
        title = "Options compared (Δ = change against the baseline)"
        if len(groups) > 1:
            title = f"{columns[1]} against the baseline (Δ = change)"
        table = RichTable(title=title)
        table.add_column("measure", overflow="fold", min_width=_MEASURE_MIN // 2)
        for col in columns:
            width = max(map(len, cells[col]), default=1)
            table.add_column(col, justify="right", overflow="fold", min_width=width)
        for i, key in enumerate(keys):
            table.add_row(kpi_label(key), *[cells[c][i] for c in columns])
        console.print(table)
    for name, res in cmp.results.items():
        line = unplaced_cost_note(res.unplaced, res.unplaced_rates)
        console.print(f"{name}: {line}", markup=False)
    if len(cmp.moves):
        cols = ["scenario", "package_id", "from_type", "to_type", "children", "total_change_gbp"]
        moves = frame_table(
            "Who moves (children changing setting; negative £ = saving)",
            cmp.moves,
            cols,
            heading=lambda col: col.replace("_gbp", " £").replace("_", " "),
            cell=lambda col, v: format_value(col, v) if col.endswith("_gbp") else str(v),
            left=cols[:4],
        )
        console.print(moves)


def horizon_cmd(
    path: DirArg = None,
    years: Annotated[int, typer.Option(help="Years to roll forward.", min=0, max=30)] = 5,
    growth: Annotated[
        float | None,
        typer.Option(help="Annual growth of children with an SPP (default: national EHCP trend)."),
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario YAML; changes apply from their from_year.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for drawing new EHCPs.")] = 0,
) -> None:
    """Roll the cohort forward year by year: demand, places, shortfall, INMSS reliance, cost."""
    from optimiser.reports.labels import format_value
    from optimiser.scenarios.horizon import roll_forward
    from optimiser.scenarios.scenario import load_scenario

    ds = load_or_exit(path)
    try:
        sc = load_scenario(scenario) if scenario else None
        with console.status(f"Allocating {years + 1} years…"):
            hz = roll_forward(ds, years=years, growth=growth, scenario=sc, seed=seed)
    except OptimiserError as exc:
        fail(exc)
    cols = [
        "year",
        "demand_children",
        "places",
        "placed_children",
        "unplaced_children",
        "new_ehcp_children",
        "leavers_children",
        "inmss_children",
        "inmss_share",
        "unplaced_cost_gbp",
        "total_cost_gbp",
    ]
    table = frame_table(
        f"Horizon: {years} years at {hz.growth:+.1%} a year",
        hz.years,
        cols,
        heading=lambda col: col.replace("_children", "").replace("_gbp", " £").replace("_", " "),
        cell=format_value,
    )
    console.print(table)
    console.print(
        "total cost = place + transport + unplaced: each unplaced child costed at policy "
        "unplaced_cost_gbp (blank: mean INMSS fee of the package + mean INMSS transport)",
        markup=False,
    )


def _excluded_line(excluded: pd.DataFrame) -> str:
    """How many (candidate, package) options the policy's host rules kept out, by rule."""
    rules = excluded["rule"].str.split("; ").explode().value_counts().sort_index()
    by_rule = ", ".join(f"{rule} {n}" for rule, n in rules.items())
    sites = excluded["site_id"].nunique()
    return (
        f"host rules (policy host_exclusions) kept out {len(excluded)} (candidate, package) "
        f"options at {sites} site{'' if sites == 1 else 's'}: {by_rule}."
    )


def site_cmd(
    path: DirArg = None,
    budget: Annotated[float, typer.Option(help="Capital budget [GBP].", min=0)] = 1_500_000.0,
    package: Annotated[
        list[str] | None, typer.Option(help="Only this package (repeat for several); default all.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the plan as a scenario YAML (for compare and map); never overwritten."
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            min=0.1,
            help="Wall-clock budget of the whole run, in seconds: instance, solve and confirmation "
            "(the confirming re-allocation always runs; per-base marginal savings stop "
            "when the budget is spent, with a note).",
        ),
    ] = 60.0,
) -> None:
    """Where to open inclusion bases within a capital budget: ranked sites, saving, bound/gap."""
    from optimiser.siting.plan import site

    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    try:
        with console.status("Siting bases and confirming by re-allocation…"):
            res = site(ds, budget_gbp=budget, packages=package or None, time_limit_s=time_limit)
    except OptimiserError as exc:
        fail(exc)
    cols = [
        "rank",
        "setting_id",
        "name",
        "package_id",
        "places",
        "capital_cost_gbp",
        "children_served",
        "annual_saving_gbp",
        "marginal_saving_gbp",
    ]
    table = frame_table(
        f"New inclusion bases within £{budget:,.0f} (best first)",
        res.sites,
        cols,
        heading=lambda col: (
            col.replace("annual_saving", "modelled_saving").replace("_gbp", " £").replace("_", " ")
        ),
        cell=lambda _, v: f"{v:,.0f}" if isinstance(v, float) else str(v),
        left=cols[1:4],
    )
    console.print(table)
    console.print(
        f"capital £{res.capital_cost_gbp:,.0f} of £{budget:,.0f} "
        f"(£{res.annualised_capital_gbp:,.0f} a year annualised); confirmed saving "
        f"£{res.annual_saving_gbp:,.0f} a year by re-allocation (total cost counting each "
        f"unplaced child at policy unplaced_cost_gbp; modelled "
        f"£{res.modelled_saving_gbp:,.0f}); children in new bases "
        f"{res.children_served}, newly placed {res.newly_placed_children}, INMSS places avoided "
        f"{res.inmss_places_avoided}, journey minutes saved {res.journey_min_saved:,.0f}; "
        f"model {res.status}: objective £{res.objective:,.0f} a year (annualised capital + "
        f"cost of the demand), bound £{res.bound:,.0f}, gap {res.gap:.2e}, "
        f"{res.solve_time_s:.1f} s.",
        markup=False,
    )
    for note in res.notes:
        console.print(f"note: {note}", markup=False)
    if len(res.excluded_hosts):
        console.print(_excluded_line(res.excluded_hosts), markup=False)
    if out is not None:
        try:
            console.print(f"wrote {res.save_scenario(out)}")
        except (OSError, OptimiserError) as exc:
            fail(exc)
