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
from optimiser.datamodel import Dataset, load_dataset
from optimiser.datasets import default_path
from optimiser.validate import DataWarning, validate

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan places for children with Specialist Provision Packages (SEND).")
# Wide enough for the tables when output goes to a file or pipe (rich assumes 80 there).
console = Console(highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 150)))
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DirArg = Annotated[Path | None, typer.Argument(
    help="Dataset folder (CSV files) or .xlsx workbook; default: the embedded Trafford data.",
    show_default=False)]


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
    console.print(f"OK: {ds.name} is valid — {len(ds.children)} children, {len(ds.settings)} "
                  f"settings, {len(ds.places)} place rows, {len(ds.packages)} packages, "
                  f"{len(soft)} warning(s).")
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
    out: Annotated[Path | None, typer.Option(
        help="Write the placements to this CSV (working data: contains child ids).")] = None,
    unplaced_out: Annotated[Path | None, typer.Option(
        "--unplaced-out", help="Write the unplaced children and reasons to this CSV.")] = None,
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
    scenarios: Annotated[list[Path], typer.Argument(
        help="[DIR] then one or more scenario YAML files; DIR is optional.")],
    moves_out: Annotated[Path | None, typer.Option(
        "--moves-out", help="Write who moves (counts by package and setting type) to CSV.")] = None,
) -> None:
    """Solve the baseline and each scenario; print KPIs side by side, deltas and who moves."""
    from optimiser.comparison import compare_scenarios
    from optimiser.scenarios import load_scenario

    path = scenarios[0] if scenarios and scenarios[0].suffix.lower() not in (".yaml", ".yml") \
        else None
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
        for col in ("scenario", "package_id", "from_type", "to_type", "children",
                    "total_change_gbp"):
            moves.add_column(col.replace("_", " "))
        for r in cmp.moves.itertuples():
            moves.add_row(r.scenario, r.package_id, r.from_type, r.to_type, str(r.children),
                          format_value("total_change_gbp", r.total_change_gbp))
        console.print(moves)


@app.command("horizon")
def horizon_cmd(
    path: DirArg = None,
    years: Annotated[int, typer.Option(help="Years to roll forward.", min=0, max=30)] = 5,
    growth: Annotated[float | None, typer.Option(
        help="Annual growth of children with an SPP (default: national EHCP trend).")] = None,
    scenario: Annotated[Path | None, typer.Option(
        help="Scenario YAML; changes apply from their from_year.")] = None,
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
    cols = ["year", "demand_children", "places", "placed_children", "unplaced_children",
            "new_ehcp_children", "leavers_children", "inmss_children", "inmss_share",
            "total_cost_gbp"]
    for col in cols:
        table.add_column(col.replace("_children", "").replace("_gbp", " £").replace("_", " "),
                         justify="right")
    for row in hz.years[cols].itertuples(index=False):
        table.add_row(*[format_value(c, v) for c, v in zip(cols, row, strict=True)])
    console.print(table)


@app.command("report")
def report_cmd(
    path: DirArg = None,
    xlsx: Annotated[Path, typer.Option(help="Workbook to write (.xlsx); never overwritten.")] = Path(
        "optimiser-report.xlsx"),
    scenario: Annotated[list[Path] | None, typer.Option(
        help="Scenario YAML to compare (repeat for several).")] = None,
    years: Annotated[int, typer.Option(help="Horizon years (0 = none).", min=0, max=30)] = 5,
    publish: Annotated[bool, typer.Option(
        "--publish", help="Disclosure-controlled: no child rows; small counts suppressed.")] = False,
) -> None:
    """Write the planner's XLSX workbook: KPIs, comparison, sufficiency, INMSS, transport, horizon."""
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
    if target.exists():
        _fail(FileExistsError(f"{target} already exists; choose another name so nothing is "
                              "overwritten"))
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
    cols = ["package_id", "phase", "demand", "places", "placed", "placed_inmss", "unplaced",
            "shortfall"]
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
    console.print(f"[bold]{ds.name}[/bold]: {len(kids)} children with an SPP "
                  f"({continuing} continuing placements, {len(kids) - continuing} to place), "
                  f"{len(ds.settings)} settings "
                  f"({int(ds.settings['in_area'].sum())} in area).")
    table = RichTable(title="Demand and places by package")
    for col in ("package", "name", "children", "to place", "places"):
        table.add_column(col, justify="left" if col in ("package", "name") else "right")
    places = ds.places.groupby("package_id")["places"].sum()
    for _, pkg in ds.packages.iterrows():
        pid = pkg["package_id"]
        mine = kids["package_id"] == pid
        table.add_row(pid, str(pkg["name"]), str(int(mine.sum())),
                      str(int((mine & (kids["current_setting_id"] == "")).sum())),
                      str(int(places.get(pid, 0))))
    console.print(table)


def main() -> None:
    """Entry point of the ``optimiser`` script."""
    app()


if __name__ == "__main__":
    main()
