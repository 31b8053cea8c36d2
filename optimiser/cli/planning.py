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
    refuse_existing_or_exit(moves_out)
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


def _print_comparison(cmp) -> None:
    from optimiser.allocation.unplaced_cost import unplaced_cost_note
    from optimiser.reports.labels import format_value

    table = RichTable(title="Options compared (Δ = change against the baseline)")
    table.add_column("measure", no_wrap=True)
    names = list(cmp.kpis.columns)
    for name in names:
        table.add_column(name, justify="right")
    for name in names[1:]:
        table.add_column(f"Δ {name}", justify="right")
    for key in cmp.kpis.index:
        if "_SPP" in key and not cmp.kpis.loc[key].any():
            continue
        row = [format_value(key, cmp.kpis.at[key, n]) for n in names]
        row += [format_value(key, cmp.deltas.at[key, n], delta=True) for n in names[1:]]
        table.add_row(key, *row)
    console.print(table)
    for name, res in cmp.results.items():
        line = unplaced_cost_note(res.unplaced, res.unplaced_rates)
        console.print(f"{name}: {line}", markup=False)
    if len(cmp.moves):
        moves = RichTable(title="Who moves (children changing setting; negative £ = saving)")
        for col in (
            "scenario",
            "package_id",
            "from_type",
            "to_type",
            "children",
            "total_change_gbp",
        ):
            moves.add_column(col.replace("_", " "))
        for r in cmp.moves.itertuples():
            moves.add_row(
                r.scenario,
                r.package_id,
                r.from_type,
                r.to_type,
                str(r.children),
                format_value("total_change_gbp", r.total_change_gbp),
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
            help="Wall-clock budget of the whole run [s]: instance, solve and confirmation "
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
