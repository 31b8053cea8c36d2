"""Command line: ``optimiser ...`` — a thin layer over the public API.

User mistakes (bad data, bad paths) print a clear message and exit 1, never a
traceback. DIR defaults to the embedded Trafford data.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from optimiser._errors import OptimiserError
from optimiser._outputs import refuse_existing
from optimiser.datamodel import Dataset, load_dataset
from optimiser.datasets import default_path
from optimiser.validate import DataWarning, validate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan places for children with Specialist Provision Packages (SEND).",
)
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


def _load(path: Path | None) -> Dataset:
    """Load a dataset; on a user mistake print the problems and exit 1."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            return load_dataset(path or default_path())
    except (OptimiserError, FileNotFoundError) as exc:
        err_console.print(f"[red]Cannot use {path or 'the embedded data'}[/red]")
        err_console.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def _refuse_existing(*paths: Path) -> None:
    """Exit 1 with a clear message when an output file already exists."""
    try:
        refuse_existing(*paths)
    except FileExistsError as exc:
        _fail(exc)


def _fail(exc: Exception) -> None:
    err_console.print(str(exc), markup=False)
    raise typer.Exit(1) from None


@app.command("validate")
def validate_cmd(path: DirArg = None) -> None:
    """Check a dataset: exit 0 with a one-line summary, or 1 with every problem listed."""
    ds = _load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        soft = validate(ds)
    console.print(
        f"OK: {ds.name} is valid — {len(ds.children)} children, {len(ds.settings)} "
        f"settings, {len(ds.places)} place rows, {len(ds.packages)} packages, "
        f"{len(soft)} warning(s)."
    )
    for p in soft:
        console.print(f"  warning: {p}", markup=False)


@app.command("demo")
def demo_cmd() -> None:
    """Run on the embedded Trafford data and print a short summary."""
    ds = _load(None)
    _print_dataset_summary(ds)
    res = _allocate(ds)
    _print_allocation(res)


@app.command("allocate")
def allocate_cmd(
    path: DirArg = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the placements to this CSV (working data: contains child ids)."),
    ] = None,
    unplaced_out: Annotated[
        Path | None,
        typer.Option("--unplaced-out", help="Write the unplaced children and reasons to this CSV."),
    ] = None,
) -> None:
    """Place every child it can at least cost; print KPIs and the sufficiency table."""
    ds = _load(path)
    res = _allocate(ds)
    _print_allocation(res)
    for target, frame in ((out, res.placements), (unplaced_out, res.unplaced)):
        if target is not None:
            _write_csv(frame, target)


@app.command("compare")
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
    from optimiser.comparison import compare_scenarios
    from optimiser.scenarios import load_scenario

    path = (
        scenarios[0] if scenarios and scenarios[0].suffix.lower() not in (".yaml", ".yml") else None
    )
    files = scenarios[1:] if path is not None else scenarios
    if not files:
        _fail(ValueError("give at least one scenario file (.yaml)"))
    ds = _load(path)
    try:
        options_ = [load_scenario(f) for f in files]
        with console.status(f"Solving the baseline and {len(options_)} option(s)…"):
            cmp = compare_scenarios(ds, options_)
    except OptimiserError as exc:
        _fail(exc)
    _print_comparison(cmp)
    if moves_out is not None:
        _write_csv(cmp.moves, moves_out)


def _print_comparison(cmp) -> None:
    from optimiser.reports import format_value

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


@app.command("horizon")
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
    from optimiser.horizon import roll_forward
    from optimiser.reports import format_value
    from optimiser.scenarios import load_scenario

    ds = _load(path)
    try:
        sc = load_scenario(scenario) if scenario else None
        with console.status(f"Allocating {years + 1} years…"):
            hz = roll_forward(ds, years=years, growth=growth, scenario=sc, seed=seed)
    except OptimiserError as exc:
        _fail(exc)
    table = RichTable(title=f"Horizon: {years} years at {hz.growth:+.1%} a year")
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
        "total_cost_gbp",
    ]
    for col in cols:
        table.add_column(
            col.replace("_children", "").replace("_gbp", " £").replace("_", " "), justify="right"
        )
    for row in hz.years[cols].itertuples(index=False):
        table.add_row(*[format_value(c, v) for c, v in zip(cols, row, strict=True)])
    console.print(table)


@app.command("report")
def report_cmd(
    path: DirArg = None,
    xlsx: Annotated[
        Path, typer.Option(help="Workbook to write (.xlsx); never overwritten.")
    ] = Path("optimiser-report.xlsx"),
    scenario: Annotated[
        list[Path] | None, typer.Option(help="Scenario YAML to compare (repeat for several).")
    ] = None,
    years: Annotated[int, typer.Option(help="Horizon years (0 = none).", min=0, max=30)] = 5,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Disclosure-controlled: no child rows; small counts suppressed."
        ),
    ] = False,
) -> None:
    """Write the planner's XLSX workbook: KPIs, options, sufficiency, INMSS, transport, horizon."""
    from optimiser.scenarios import load_scenario
    from optimiser.workbook import write_workbook

    ds = _load(path)
    try:
        options_ = [load_scenario(f) for f in scenario or []]
        with console.status("Solving and writing the workbook…"):
            out = write_workbook(ds, xlsx, scenarios=options_, years=years, publish=publish)
    except (OptimiserError, FileExistsError) as exc:
        _fail(exc)
    console.print(f"wrote {out} ({'publish' if publish else 'working'} mode)")


def _write_csv(frame, target: Path) -> None:
    _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False, lineterminator="\n")
    console.print(f"wrote {target} ({len(frame)} rows)")


def _allocate(ds: Dataset):
    from optimiser.allocation import allocate

    with console.status(f"Allocating {len(ds.children)} children…"):
        try:
            return allocate(ds)
        except OptimiserError as exc:
            _fail(exc)


def _print_allocation(res) -> None:
    from optimiser.reports import format_kpis

    table = RichTable(title="Allocation: key figures")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in format_kpis(res.kpis):
        table.add_row(label, value)
    console.print(table)
    suff = RichTable(title="Sufficiency by package × phase")
    cols = [
        "package_id",
        "phase",
        "demand",
        "places",
        "placed",
        "placed_inmss",
        "unplaced",
        "shortfall",
    ]
    for col in cols:
        suff.add_column(col.replace("_", " "), justify="left" if col in cols[:2] else "right")
    for row in res.sufficiency[cols].itertuples(index=False):
        suff.add_row(*[f"{v:g}" if isinstance(v, float) else str(v) for v in row])
    console.print(suff)
    if len(res.unplaced):
        console.print(f"{len(res.unplaced)} children could not be placed; reasons:")
        for reason, n in res.unplaced["reason"].value_counts().head(8).items():
            console.print(f"  {n} × {reason}", markup=False)


def _print_dataset_summary(ds: Dataset) -> None:
    kids = ds.children
    continuing = int((kids["current_setting_id"] != "").sum())
    console.print(
        f"[bold]{ds.name}[/bold]: {len(kids)} children with an SPP "
        f"({continuing} continuing placements, {len(kids) - continuing} to place), "
        f"{len(ds.settings)} settings "
        f"({int(ds.settings['in_area'].sum())} in area)."
    )
    table = RichTable(title="Demand and places by package")
    for col in ("package", "name", "children", "to place", "places"):
        table.add_column(col, justify="left" if col in ("package", "name") else "right")
    places = ds.places.groupby("package_id")["places"].sum()
    for _, pkg in ds.packages.iterrows():
        pid = pkg["package_id"]
        mine = kids["package_id"] == pid
        table.add_row(
            pid,
            str(pkg["name"]),
            str(int(mine.sum())),
            str(int((mine & (kids["current_setting_id"] == "")).sum())),
            str(int(places.get(pid, 0))),
        )
    console.print(table)


@app.command("map")
def map_cmd(
    path: DirArg = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="HTML file to write; never overwritten. Default: optimiser-map.html "
            "(optimiser-map-publish.html with --publish) in the current folder.",
            show_default=False,
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario YAML: add layers of the change by ward against the baseline."),
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="Disclosure-controlled, for members: no child data, small counts suppressed.",
        ),
    ] = False,
    tiles: Annotated[
        bool,
        typer.Option("--tiles", help="Add an online base map (the map works offline without it)."),
    ] = False,
) -> None:
    """Write a self-contained HTML map of the allocation (opens with no internet)."""
    from optimiser.maps import map_allocation, save_map

    if out is None:
        out = Path("optimiser-map-publish.html" if publish else "optimiser-map.html")
    _refuse_existing(out)
    ds = _load(path)
    compare = None
    try:
        if scenario is None:
            res = _allocate(ds)
        else:
            from optimiser.comparison import compare_scenarios
            from optimiser.scenarios import load_scenario

            with console.status("Solving the baseline and the scenario…"):
                compare = compare_scenarios(ds, [load_scenario(scenario)])
            res = compare.results["baseline"]
        written = save_map(
            map_allocation(ds, res, publish=publish, tiles=tiles, compare=compare), out
        )
    except (OptimiserError, FileExistsError) as exc:
        _fail(exc)
    console.print(
        f"wrote {written} ({'publish' if publish else 'working'} mode, "
        f"{written.stat().st_size / 1e6:.1f} MB)"
    )


@app.command("pack")
def pack_cmd(
    path: DirArg = None,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for map.html and summary.html; files there are never overwritten."
        ),
    ] = Path("members-pack"),
) -> None:
    """Write the members' pack: publish-mode map and a one-page summary by ward."""
    from optimiser.pack import MAP_FILE, SUMMARY_FILE, write_pack

    _refuse_existing(out / MAP_FILE, out / SUMMARY_FILE)
    ds = _load(path)
    res = _allocate(ds)
    try:
        files = write_pack(ds, res, out)
    except (OptimiserError, FileExistsError) as exc:
        _fail(exc)
    console.print(f"wrote {', '.join(str(f) for f in files)} (publish mode)")


@app.command("transport")
def transport_cmd(
    path: DirArg = None,
    routes: Annotated[
        bool,
        typer.Option(
            "--routes/--no-routes", help="Estimate shared vehicle routes (OR-Tools routing)."
        ),
    ] = True,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="Time budget of the route estimate [s].")
    ] = 10.0,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the route plan's riders to this CSV (working data: contains child ids)."
        ),
    ] = None,
) -> None:
    """Transport after allocation: costs by mode, setting type, area, package, ward, setting."""
    from optimiser.reports import format_kpis
    from optimiser.routes import estimate_routes
    from optimiser.transport import transport_tables

    ds = _load(path)
    res = _allocate(ds)
    keys = (
        "transport_cost_gbp",
        "transported_children",
        "transport_cost_per_transported_child_gbp",
        "travelling_alone_share",
        "personal_budget_children",
        "transported_over_journey_cap",
        "mean_travel_min",
        "max_travel_min",
        "children_over_journey_cap",
    )
    for label, value in format_kpis({k: res.kpis[k] for k in keys if k in res.kpis}):
        console.print(f"{label.strip()}: {value}", markup=False)
    tables = transport_tables(ds, res)
    for name, key in (
        ("mode", "mode"),
        ("setting_type", "setting_type"),
        ("area", "area"),
        ("package", "package_id"),
        ("ward", "ward_code"),
    ):
        _print_transport_table(f"Transport by {name.replace('_', ' ')}", tables[name], key)
    top = tables["setting"].nlargest(10, "transport_cost_gbp")
    _print_transport_table(
        f"Top {len(top)} of {len(tables['setting'])} settings by transport cost", top, "setting_id"
    )
    if not routes:
        return
    with console.status("Estimating shared routes…"):
        plan = estimate_routes(ds, res, time_limit_s=time_limit)
    m = plan.summary
    console.print(
        f"Shared-route estimate: {m['routes']:,.0f} routes ({m['minibus']:,.0f} minibus, "
        f"{m['shared_taxi']:,.0f} shared taxi, {m['solo_taxi']:,.0f} solo taxi) for "
        f"{m['transported_children']:,.0f} children; £{m['cost_gbp']:,.0f} a year "
        f"(£{m['cost_per_child_gbp']:,.0f} a child) vs £{m['solo_baseline_gbp']:,.0f} as solo "
        f"taxis: saving {m['saving_share']:.1%}; riders over the ride-time cap "
        f"{m['riders_over_cap']:,.0f} ({m['riders_over_cap_by_sharing']:,.0f} because of "
        f"sharing, the rest have a longer direct journey); {m['time_s']:.1f} s.",
        markup=False,
    )
    if plan.not_proven:
        console.print(
            f"Not proven optimal: {len(plan.not_proven)} of {m['settings']:.0f} "
            "settings' plans (local search); the optimum lies between the lower "
            f"bound £{m['lower_bound_gbp']:,.0f} and this plan.",
            markup=False,
        )
    if out is not None:
        _write_csv(plan.riders, out)


def _print_transport_table(title: str, frame, key: str) -> None:
    cols = [
        key,
        "children",
        "transported",
        "transport_cost_gbp",
        "cost_per_transported_child_gbp",
        "mean_travel_min",
        "over_journey_cap",
        "travelling_alone_share",
    ]
    table = RichTable(title=title)
    for col in cols:
        table.add_column(
            col.replace("_gbp", " £").replace("_", " "), justify="left" if col == key else "right"
        )
    for row in frame[cols].itertuples(index=False):
        table.add_row(
            *[
                ""
                if v != v
                else f"{v:,.0f}"
                if isinstance(v, float) and abs(v) >= 100
                else f"{v:g}"
                if isinstance(v, float)
                else str(v)
                for v in row
            ]
        )
    console.print(table)


@app.command("site")
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
        float, typer.Option("--time-limit", min=0.1, help="Solver time cap [s].")
    ] = 60.0,
) -> None:
    """Where to open inclusion bases within a capital budget: ranked sites, saving, bound/gap."""
    from optimiser.site_planning import site

    if out is not None:
        _refuse_existing(out)
    ds = _load(path)
    try:
        with console.status("Siting bases and confirming by re-allocation…"):
            res = site(ds, budget_gbp=budget, packages=package or None, time_limit_s=time_limit)
    except OptimiserError as exc:
        _fail(exc)
    table = RichTable(title=f"New inclusion bases within £{budget:,.0f} (best first)")
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
    for col in cols:
        table.add_column(
            col.replace("annual_saving", "modelled_saving").replace("_gbp", " £").replace("_", " "),
            justify="left" if col in cols[1:4] else "right",
        )
    for row in res.sites[cols].itertuples(index=False):
        table.add_row(*[f"{v:,.0f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    console.print(
        f"capital £{res.capital_cost_gbp:,.0f} of £{budget:,.0f} "
        f"(£{res.annualised_capital_gbp:,.0f} a year annualised); confirmed saving "
        f"£{res.annual_saving_gbp:,.0f} a year by re-allocation (£{res.saving_with_proxy_gbp:,.0f} "
        f"counting newly placed children at their INMSS proxy; modelled "
        f"£{res.modelled_saving_gbp:,.0f}); children in new bases "
        f"{res.children_served}, newly placed {res.newly_placed_children}, INMSS places avoided "
        f"{res.inmss_places_avoided}, journey minutes saved {res.journey_min_saved:,.0f}; "
        f"model {res.status}: objective £{res.objective:,.0f} a year (annualised capital + "
        f"cost of the demand), bound £{res.bound:,.0f}, gap {res.gap:.2e}, "
        f"{res.solve_time_s:.1f} s.",
        markup=False,
    )
    if out is not None:
        try:
            console.print(f"wrote {res.save_scenario(out)}")
        except (OSError, OptimiserError) as exc:
            _fail(exc)


def main() -> None:
    """Entry point of the ``optimiser`` script."""
    app()


if __name__ == "__main__":
    main()
