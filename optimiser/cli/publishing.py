"""Publishing commands: the XLSX workbook, the HTML map and the members' pack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import (
    DirArg,
    allocate_or_exit,
    console,
    fail,
    frame_table,
    load_or_exit,
    refuse_existing_or_exit,
    write_csv,
)

if TYPE_CHECKING:  # imported when a command runs (the CLI starts fast)
    from optimiser.allocation.solve import AllocationResult
    from optimiser.dataset.model import Dataset
    from optimiser.scenarios.compare import Comparison


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
    first_year: Annotated[
        int | None,
        typer.Option(
            "--first-year",
            min=2000,
            max=2100,
            help="Year in which the horizon's year 0 starts (2026 = 2026/27); "
            "default: the current academic year.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the planner's XLSX workbook: KPIs, options, sufficiency, INMSS, transport, horizon."""
    from optimiser.reports.workbook import write_workbook
    from optimiser.scenarios.scenario import load_scenario

    refuse_existing_or_exit(xlsx)
    ds = load_or_exit(path)
    try:
        options_ = [load_scenario(f) for f in scenario or []]
        with console.status("Solving and writing the workbook…"):
            out = write_workbook(
                ds, xlsx, scenarios=options_, years=years, publish=publish, first_year=first_year
            )
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(f"wrote {out} ({'publish' if publish else 'working'} mode)")


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
        typer.Option(
            help="Scenario YAML: the settings it adds, expands or closes (labelled), its "
            "settings beside the baseline's, and layers of the change by ward."
        ),
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
    from optimiser.maps.build import map_allocation
    from optimiser.maps.page import save_map

    if out is None:
        out = Path("optimiser-map-publish.html" if publish else "optimiser-map.html")
    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    try:
        res, compare = _baseline_and_option(ds, scenario)
        written = save_map(
            map_allocation(ds, res, publish=publish, tiles=tiles, compare=compare), out
        )
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(
        f"wrote {written} ({'publish' if publish else 'working'} mode, "
        f"{written.stat().st_size / 1e6:.1f} MB)"
    )


def _baseline_and_option(
    ds: Dataset, scenario: Path | None
) -> tuple[AllocationResult, Comparison | None]:
    """The baseline's allocation, and the Comparison with ``scenario`` (None without one)."""
    if scenario is None:
        return allocate_or_exit(ds), None
    from optimiser.scenarios.compare import compare_scenarios
    from optimiser.scenarios.scenario import load_scenario

    with console.status("Solving the baseline and the scenario…"):
        compare = compare_scenarios(ds, [load_scenario(scenario)])
    return compare.results["baseline"], compare


def pack_cmd(
    path: DirArg = None,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for map.html and summary.html; files there are never overwritten."
        ),
    ] = Path("members-pack"),
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="Scenario YAML: the option's headline (capital, revenue change, INMSS "
            "placements avoided, children newly placed) and its settings on the map."
        ),
    ] = None,
) -> None:
    """Write the members' pack: publish-mode map and a one-page summary by ward."""
    from optimiser.maps.pack import MAP_FILE, SUMMARY_FILE, write_pack

    refuse_existing_or_exit(out / MAP_FILE, out / SUMMARY_FILE)
    ds = load_or_exit(path)
    try:
        res, compare = _baseline_and_option(ds, scenario)
        files = write_pack(ds, res, out, compare=compare)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(f"wrote {', '.join(str(f) for f in files)} (publish mode)")


def calibrate_cmd(
    path: DirArg = None,
    la: Annotated[
        str | None,
        typer.Option(help="LA to compare with (DfE code, ONS code or name); default: policy's."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Also write the table as CSV; never overwritten.")
    ] = None,
) -> None:
    """The baseline beside the LA's SEN2 return: placements by group, INMSS use, growth, need."""
    from optimiser.reports.calibration import calibration

    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    res = allocate_or_exit(ds)
    try:
        table = calibration(ds, res, la=la)
    except (OptimiserError, ValueError) as exc:
        fail(exc)
    shown = table.assign(
        **{
            col: [
                _calibration_cell(v, share=sec != "placements", change=col == "difference")
                for v, sec in zip(table[col], table["section"], strict=True)
            ]
            for col in ("sen2", "model", "difference")
        }
    )
    console.print(
        frame_table(
            f"{ds.name}: baseline beside SEN2 (flag: off past ±5% or ±5 points)",
            shown,
            ["measure", "sen2", "model", "difference", "flag"],
            heading=lambda c: {"sen2": "SEN2"}.get(c, c),
            cell=lambda _c, v: str(v),
            left=("measure", "flag"),
        )
    )
    off = int((table["flag"] == "off").sum())
    console.print(f"{off} of {int((table['flag'] != '').sum())} measures differ materially")
    if out is not None:
        try:
            write_csv(table, out)
        except (OptimiserError, OSError) as exc:
            fail(exc)
        console.print(f"wrote {out}")


def _calibration_cell(value: float, *, share: bool, change: bool) -> str:
    if value != value:
        return "–"
    if share:
        return f"{100 * value:+.1f} pts" if change else f"{100 * value:.1f}%"
    return f"{value:+,.0f}" if change else f"{value:,.0f}"
