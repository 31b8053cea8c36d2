"""Commands on a dataset and its allocation: validate, demo, allocate, transport."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from optimiser.cli.common import (
    DirArg,
    allocate_or_exit,
    console,
    frame_table,
    load_or_exit,
    refuse_existing_or_exit,
    write_csv,
)
from optimiser.dataset.model import Dataset
from optimiser.dataset.validate import DataWarning, validate


def validate_cmd(path: DirArg = None) -> None:
    """Check a dataset: exit 0 with a one-line summary, or 1 with every problem listed."""
    ds = load_or_exit(path)
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


def demo_cmd() -> None:
    """Run on the embedded Trafford data and print a short summary."""
    ds = load_or_exit(None)
    _print_dataset_summary(ds)
    res = allocate_or_exit(ds)
    _print_allocation(res, ds)
    _print_calibration_line(ds, res)


def _print_calibration_line(ds, res) -> None:
    """One line: how far the baseline is from the LA's SEN2 return (optimiser calibrate)."""
    from optimiser.reports.calibration import calibration

    if ds.policy.la_code is None:
        return
    table = calibration(ds, res)
    judged = table[table["flag"] != ""]
    off = judged[judged["flag"] == "off"]
    console.print(
        f"Calibration to SEN2: {len(off)} of {len(judged)} measures differ by more than "
        "5% / 5 points from the LA's own return; `optimiser calibrate` shows them"
    )


def allocate_cmd(
    path: DirArg = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the placements to this CSV (working data: contains child ids)."),
    ] = None,
    unplaced_out: Annotated[
        Path | None,
        typer.Option(
            "--unplaced-out",
            help="Write each unplaced child's reason, with its numbers, to this CSV "
            "(working data: contains child ids).",
        ),
    ] = None,
) -> None:
    """Place every child it can at least cost; print KPIs and the sufficiency table."""
    refuse_existing_or_exit(out, unplaced_out)
    ds = load_or_exit(path)
    print_header(ds)
    res = allocate_or_exit(ds)
    _print_allocation(res, ds, detail_written=unplaced_out is not None)
    for target, frame in ((out, res.placements), (unplaced_out, res.unplaced)):
        if target is not None:
            write_csv(frame, target)


def _print_allocation(res, ds: Dataset, *, detail_written: bool = False) -> None:
    from optimiser.allocation.unplaced_cost import unplaced_cost_note
    from optimiser.reports.labels import format_kpis

    table = RichTable(title="Allocation: key figures")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in format_kpis(res.kpis):
        table.add_row(label, value)
    console.print(table)
    console.print(unplaced_cost_note(res.unplaced, res.unplaced_rates), markup=False)
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
    suff = frame_table(
        "Sufficiency by package × phase",
        res.sufficiency,
        cols,
        heading=lambda col: col.replace("_", " "),
        cell=lambda _, v: f"{v:g}" if isinstance(v, float) else str(v),
        left=cols[:2],
    )
    console.print(suff)
    for warning in res.warnings:
        console.print(f"warning: {warning}", markup=False)
    if len(res.unplaced):
        _print_unplaced(res.unplaced, ds, detail_written=detail_written)


def _print_unplaced(unplaced, ds: Dataset, *, detail_written: bool) -> None:
    """Every unplaced child in one row of reason × package × phase, and the total."""
    from optimiser.allocation.unplaced import reason_summary

    summary = reason_summary(ds, unplaced)
    cols = ["reason_category", "package_id", "phase", "unplaced_children"]
    table = frame_table(
        f"{len(unplaced)} children could not be placed: why, by package and phase",
        summary,
        cols,
        heading=lambda c: {"reason_category": "reason", "unplaced_children": "children"}.get(
            c, c.replace("_id", "")
        ),
        cell=lambda _c, v: str(v),
        left=cols[:3],
        total=["total", "", "", str(int(summary["unplaced_children"].sum()))],
    )
    console.print(table)
    if not detail_written:
        console.print(
            "each child's reason, with the numbers: optimiser allocate --unplaced-out FILE.csv "
            "(working data: child ids)"
        )


def print_header(ds: Dataset) -> None:
    """The area's name and the dataset's notice (e.g. synthetic children), before any figure."""
    where = ds.area_name if ds.area_name == ds.name else f"{ds.area_name} (data: {ds.name})"
    console.print(f"[bold]{escape(where)}[/bold]")
    if ds.data_notice:
        console.print(f"[bold yellow]{escape(ds.data_notice)}[/bold yellow]")


def _print_dataset_summary(ds: Dataset) -> None:
    kids = ds.children
    continuing = int((kids["current_setting_id"] != "").sum())
    print_header(ds)
    console.print(
        f"{len(kids)} children with an SPP "
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


def transport_cmd(
    path: DirArg = None,
    routes: Annotated[
        bool,
        typer.Option(
            "--routes/--no-routes", help="Estimate shared vehicle routes (PyVRP or OR-Tools)."
        ),
    ] = True,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Route engine: pyvrp (default: OR-Tools' greedy plan improved by PyVRP), "
            "ortools (OR-Tools greedy descent) or nearest_neighbour (a baseline).",
        ),
    ] = "pyvrp",
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            min=0.1,
            help="Safety cap on the route estimate, in seconds; the search stops by itself, so "
            "runs repeat exactly unless a setting is marked 'time limit'.",
        ),
    ] = 10.0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes searching the settings' routes side by side (default: one per "
            "core); the plan is the same for any number.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the route plan's riders to this CSV (working data: contains child ids)."
        ),
    ] = None,
) -> None:
    """Transport after allocation: costs by mode, setting type, area, package, ward, setting."""
    from optimiser.reports.labels import format_kpis
    from optimiser.transport.routes.estimate import METHODS, estimate_routes
    from optimiser.transport.tables import transport_tables

    if method not in METHODS:
        msg = f"choose one of {', '.join(METHODS)}; found {method!r}."
        raise typer.BadParameter(msg, param_hint="--method")
    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    res = allocate_or_exit(ds)
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
        plan = estimate_routes(ds, res, time_limit_s=time_limit, method=method, workers=workers)
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
        write_csv(plan.riders, out)


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
    table = frame_table(
        title,
        frame,
        cols,
        heading=lambda col: col.replace("_gbp", " £").replace("_", " "),
        cell=_transport_cell,
        left=(key,),
    )
    console.print(table)


def _transport_cell(_col: str, v: object) -> str:
    if v != v:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"
    return str(v)
