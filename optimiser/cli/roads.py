"""``optimiser roads``: road journey times from an OpenStreetMap extract or OS Open Roads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from optimiser._errors import OptimiserError
from optimiser.cli.common import console, fail, load_or_exit, refuse_existing_or_exit
from optimiser.dataset.imports.roads import ROADS_FILE, import_roads, write_text
from optimiser.transport.road_compare import compare_road_times

REPORT_FILE = "roads_report.md"


def roads_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="OpenStreetMap extract (.osm.pbf) or OS Open Roads GeoPackage (.gpkg).",
            show_default=False,
        ),
    ],
    into: Annotated[
        Path,
        typer.Option("--into", help="Dataset folder to add roads.graphml to.", show_default=False),
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace an existing roads.graphml and roads_report.md."),
    ] = False,
) -> None:
    """Build DIR/roads.graphml and compare its journey times with straight line × detour."""
    start = time.perf_counter()
    report = into / REPORT_FILE
    if not replace:
        refuse_existing_or_exit(into / ROADS_FILE, report)
    try:
        with console.status(f"Reading roads from {file.name}…"):
            built = import_roads(file, into, replace=replace)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(
        f"Wrote {built.path}: {built.nodes} nodes, {built.edges} directed edges "
        f"({time.perf_counter() - start:.1f} s)"
    )
    ds = load_or_exit(into)
    assert ds.roads is not None  # just written
    with console.status("Comparing road times with straight line × detour…"):
        comparison = compare_road_times(ds, ds.roads)
    notice = f"\n{ds.data_notice}\n" if ds.data_notice else ""
    text = comparison.markdown(title=ds.area_name) + notice + "\n" + built.markdown()
    console.print(text, markup=False)
    try:
        write_text(text, report, replace=replace)
    except (OptimiserError, OSError) as exc:
        fail(exc)
    console.print(f"wrote {report} ({time.perf_counter() - start:.1f} s in all)")
