"""Read OS Open Roads (the GeoPackage Ordnance Survey publishes, ``oproad_gb.gpkg``).

Layer ``road_link``: one row per link between two junctions, with
``road_classification`` (Motorway, A Road, B Road, Classified Unnumbered,
Unclassified, Not Classified, Unknown), ``length`` [m], ``start_node``,
``end_node`` and a LineString in EPSG:27700. The older layout's names (``class``,
``startNode``, ``endNode``) are read too. OS Open Roads carries no one-way
information, so every link is driven both ways.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from optimiser.dataset.imports.links import RoadLinks, import_problem

LAYER = "road_link"
#: Each column the reader needs, and the names it goes by in OS Open Roads' layouts.
COLUMNS: dict[str, tuple[str, ...]] = {
    "road_class": ("road_classification", "class", "roadClassification"),
    "start_node": ("start_node", "startNode"),
    "end_node": ("end_node", "endNode"),
}
_GET = "download OS Open Roads again in GeoPackage format (oproad_gb.gpkg)"


def read_open_roads(
    path: str | Path,
    *,
    crs: str = "EPSG:27700",
    box: tuple[float, float, float, float] | None = None,
) -> RoadLinks:
    """The road links of an OS Open Roads GeoPackage, in ``crs``.

    Parameters
    ----------
    path : the GeoPackage.
    crs : CRS of the node x, y [m]; EPSG:27700 (the layer's own) for England.
    box : (minx, miny, maxx, maxy) in ``crs`` [m]: only links meeting it are read.

    Raises
    ------
    DataValidationError : the file is missing, not a GeoPackage, has no ``road_link``
        layer, or the layer lacks a column (each named with the fix).
    """
    path = Path(path)
    if not path.is_file():
        import_problem(path, "nothing at this path", "an OS Open Roads GeoPackage", _GET)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and others for a non-GeoPackage
        import_problem(
            path, f"a file GDAL cannot open ({exc})", "an OS Open Roads GeoPackage", _GET
        )
    if LAYER not in layers:
        import_problem(
            path,
            f"layers {', '.join(layers) or 'none'}",
            f"a layer {LAYER!r} (OS Open Roads' road links)",
            _GET + f"; a layer of another name can be renamed to {LAYER}",
        )
    info = pyogrio.read_info(path, layer=LAYER)
    names = [str(c) for c in info["fields"]]
    picked = {}
    for want, aliases in COLUMNS.items():
        found = next((a for a in aliases if a in names), None)
        if found is None:
            import_problem(
                path,
                f"layer {LAYER} without a column {aliases[0]!r} (columns: {', '.join(names)})",
                f"OS Open Roads' {aliases[0]} on every road link",
                _GET,
                column=aliases[0],
            )
        picked[want] = found
    columns = [*picked.values(), *(["length"] if "length" in names else [])]
    layer_crs = info.get("crs") or "EPSG:27700"
    read_box = _box_in(box, crs, layer_crs)
    try:
        frame = pyogrio.read_dataframe(path, layer=LAYER, columns=columns, bbox=read_box)
    except Exception as exc:
        import_problem(path, f"an unreadable layer {LAYER} ({exc})", "readable road links", _GET)
    if frame.crs is None:
        frame = frame.set_crs(layer_crs)
    frame = frame.to_crs(crs)
    return _links(frame, picked, source=path.name)


def _box_in(
    box: tuple[float, float, float, float] | None, crs: str, layer_crs: str
) -> tuple[float, float, float, float] | None:
    if box is None:
        return None
    west, south, east, north = Transformer.from_crs(
        crs, layer_crs, always_xy=True
    ).transform_bounds(*box)
    return float(west), float(south), float(east), float(north)


def _links(frame: pd.DataFrame, picked: dict[str, str], *, source: str) -> RoadLinks:
    geometry = np.asarray(frame.geometry)
    ok = ~shapely.is_missing(geometry) & ~shapely.is_empty(geometry)
    start = frame[picked["start_node"]].astype("string")
    end = frame[picked["end_node"]].astype("string")
    ok &= start.notna().to_numpy(bool) & end.notna().to_numpy(bool)
    frame, geometry, start, end = frame[ok], geometry[ok], start[ok], end[ok]
    coords, which = shapely.get_coordinates(geometry, return_index=True)
    first = np.searchsorted(which, np.arange(len(geometry)), side="left")
    last = np.searchsorted(which, np.arange(len(geometry)), side="right") - 1
    measured = shapely.length(geometry)
    given = (
        pd.to_numeric(frame["length"], errors="coerce").to_numpy(float)
        if "length" in frame.columns
        else np.full(len(frame), np.nan)
    )
    length = np.where(np.isfinite(given) & (given > 0), given, measured)
    nodes = pd.DataFrame(
        {
            "x": np.concatenate([coords[first, 0], coords[last, 0]]),
            "y": np.concatenate([coords[first, 1], coords[last, 1]]),
        },
        index=pd.Index(np.concatenate([start.to_numpy(str), end.to_numpy(str)]), name="node"),
    )
    nodes = nodes[~nodes.index.duplicated()]
    road_class = frame[picked["road_class"]].astype("string").fillna("Unknown").str.strip()
    links = pd.DataFrame(
        {
            "u": start.to_numpy(str),
            "v": end.to_numpy(str),
            "length_m": length,
            "road_class": road_class.replace("", "Unknown").to_numpy(str),
            "oneway": np.zeros(len(frame), bool),
        }
    )
    return RoadLinks(nodes=nodes, links=links, source=source)
