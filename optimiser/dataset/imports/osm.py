"""Read the drivable roads of an OpenStreetMap extract (``.osm.pbf``), offline, with pyrosm.

pyrosm reads the PBF into GeoDataFrames with every way already split into
node-to-node segments (``u``, ``v``), its ``highway`` class and ``oneway`` tag —
what a road graph needs — in a few lines and in C (Cython) speed; pyosmium would
need our own way splitting and handling of nodes an extract cut off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyrosm
import shapely
from pyproj import Transformer
from pyrosm.exceptions import InvalidOSMFileError

from optimiser.dataset.imports.links import RoadLinks, import_problem

#: ``oneway`` values that mean "only in the way's direction" / "only against it" (OSM wiki).
_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}
#: Classes that are one-way unless tagged otherwise (OSM wiki, Key:oneway).
_IMPLIED_ONEWAY = {"motorway"}


def read_osm(
    path: str | Path,
    *,
    crs: str = "EPSG:27700",
    box_lonlat: tuple[float, float, float, float] | None = None,
) -> RoadLinks:
    """The drivable road segments of an OSM extract, projected to ``crs``.

    Parameters
    ----------
    path : an ``.osm.pbf`` file (e.g. a county extract).
    crs : projected CRS of the node x, y and the lengths [m]; EPSG:27700 for England.
    box_lonlat : (west, south, east, north) [degrees] to read, or None for the whole file.

    Returns
    -------
    RoadLinks : one link per OSM segment; ``length_m`` is the length of its geometry in
        ``crs``; ``oneway`` links run u → v only (a ``oneway=-1`` way is turned round).

    Raises
    ------
    DataValidationError : the file is missing, not an OSM PBF, or holds no drivable road.
    """
    path = Path(path)
    if not path.is_file():
        import_problem(
            path,
            "nothing at this path",
            "an OpenStreetMap .osm.pbf extract",
            "check the path, or download the county extract again",
        )
    try:
        osm = pyrosm.OSM(str(path), bounding_box=list(box_lonlat) if box_lonlat else None)
        found = osm.get_network(network_type="driving", nodes=True)
    except (InvalidOSMFileError, OSError, ValueError, RuntimeError) as exc:
        import_problem(
            path,
            f"a file pyrosm cannot read as OpenStreetMap PBF ({_first_line(exc)})",
            "an OpenStreetMap .osm.pbf extract",
            "download the extract again as .osm.pbf (not .osm, .osm.bz2 or a web page)",
        )
    if found is None or found[1] is None or len(found[1]) == 0:
        import_problem(
            path,
            "no drivable road" + (" in the dataset's box" if box_lonlat else ""),
            "an extract that covers the LA",
            "use the extract of the county or region the LA is in",
        )
    nodes, edges = found
    return _links(nodes, edges, crs=crs, source=path.name)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _links(nodes: pd.DataFrame, edges: pd.DataFrame, *, crs: str, source: str) -> RoadLinks:
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_xy.transform(nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float))
    node_frame = pd.DataFrame(
        {"x": np.asarray(x, float), "y": np.asarray(y, float)},
        index=pd.Index(nodes["id"].astype("int64").astype(str), name="node"),
    )
    node_frame = node_frame[~node_frame.index.duplicated()]
    geometry = shapely.transform(
        np.asarray(edges.geometry), lambda c: np.column_stack(to_xy.transform(c[:, 0], c[:, 1]))
    )
    oneway = edges.get("oneway", pd.Series(index=edges.index, dtype=object))
    tag = oneway.astype("string").str.strip().str.lower().fillna("")
    highway = edges["highway"].astype("string").fillna("road").str.split(";").str[0]
    junction = edges.get("junction", pd.Series(index=edges.index, dtype=object))
    roundabout = (
        junction.astype("string").str.lower().isin(["roundabout", "circular"]).fillna(False)
    )
    backward = tag.isin(_BACKWARD).to_numpy(bool)
    forward = (
        tag.isin(_FORWARD) | ((tag == "") & (highway.isin(_IMPLIED_ONEWAY) | roundabout))
    ).to_numpy(bool)
    u = edges["u"].astype("int64").astype(str).to_numpy()
    v = edges["v"].astype("int64").astype(str).to_numpy()
    links = pd.DataFrame(
        {
            "u": np.where(backward, v, u),
            "v": np.where(backward, u, v),
            "length_m": shapely.length(geometry),
            "road_class": highway.to_numpy(str),
            "oneway": forward | backward,
        }
    )
    known = links["u"].isin(node_frame.index) & links["v"].isin(node_frame.index)
    return RoadLinks(nodes=node_frame, links=links[known].reset_index(drop=True), source=source)
