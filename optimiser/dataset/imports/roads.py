"""``optimiser roads``: a dataset's ``roads.graphml`` from an OSM extract or OS Open Roads.

The graph is what the travel model reads (:func:`optimiser.dataset.load.load_dataset`,
:mod:`optimiser.transport.travel`): a directed graph whose nodes have ``x``, ``y``
[EPSG:27700 m] and whose edges have ``length`` [m], ``speed_kph`` (the class's speed
in policy ``roads.speeds_kmh`` ÷ ``roads.peak_factor``, so minutes = length ÷ speed ×
peak factor) and ``road_class``. Steps:

1. clip to the box of the dataset's settings and children plus ``roads.margin_km``;
2. drive a one-way street one way only (OSM ``oneway``; OS Open Roads has none);
3. keep the largest *strongly* connected component: every node kept can reach every
   other and be reached from it, so no home is cut off from a setting by a one-way
   street or a cut at the box's edge (a weakly connected graph would leave such pairs
   with no route, i.e. infinite journeys);
4. merge chains of degree-2 nodes (a node that only joins two roads) into one edge of
   the summed length and minutes: journey times between the nodes kept are unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer

from optimiser._outputs import atomic_output, output_error, refuse_existing
from optimiser.dataset.imports.links import RoadLinks, import_problem
from optimiser.dataset.imports.os_open_roads import read_open_roads
from optimiser.dataset.imports.osm import read_osm
from optimiser.dataset.load import load_dataset
from optimiser.dataset.model import Dataset
from optimiser.policy import RoadsPolicy

ROADS_FILE = "roads.graphml"
BNG = "EPSG:27700"
#: The clipping box's corners are whole multiples of this [m] (5 km).
BOX_GRID_M = 5000.0
_KINDS = "an OpenStreetMap extract (.osm.pbf) or an OS Open Roads GeoPackage (.gpkg)"


@dataclass(frozen=True)
class RoadImport:
    """What :func:`import_roads` did.

    Attributes
    ----------
    path : the ``roads.graphml`` written
    source : the file read
    box : (minx, miny, maxx, maxy) of the roads kept [EPSG:27700 m]
    links_read : road links (segments) read inside the box
    nodes, edges : of the graph written (edges are directed: a two-way road counts twice)
    component_share : share of the box's nodes in the largest strongly connected component
    merged_nodes : degree-2 nodes merged away
    outside : settings outside the box (out-of-area ones far away)
    km_by_class : road length [km] by road class (each road once, not per direction)
    """

    path: Path
    source: str
    box: tuple[float, float, float, float]
    links_read: int
    nodes: int
    edges: int
    component_share: float
    merged_nodes: int
    outside: int
    km_by_class: dict[str, float]

    def markdown(self) -> str:
        """What was built, as a Markdown section."""
        lines = [
            f"## Road graph from {self.source}",
            "",
            f"{self.links_read} road links read in the box {_box_text(self.box)}; "
            f"{self.component_share:.1%} of their nodes are in the largest strongly connected "
            f"component (kept); {self.merged_nodes} nodes that only joined two roads merged; "
            f"{self.nodes} nodes and {self.edges} directed edges written to {self.path.name}. "
            f"{self.outside} settings lie outside the box: a journey to one leaves the roads "
            "at the node nearest to it and goes on in a straight line at the door-to-door "
            "speed.",
            "",
            "| road class | km |",
            "|---|---:|",
        ]
        lines += [f"| {_cell(name)} | {km:,.1f} |" for name, km in self.km_by_class.items()]
        return "\n".join([*lines, ""])


def dataset_box(ds: Dataset, margin_km: float) -> tuple[float, float, float, float]:
    """Box of the LA [EPSG:27700 m]: its children, in-area settings and candidates + margin.

    Its corners are snapped outward to whole 5 km (:data:`BOX_GRID_M`).

    Out-of-area settings (``in_area`` false: often INMSS schools far away) do not widen
    it; a journey to one outside the box leaves the roads at the node nearest to it.
    All settings count when none is marked in the area.
    """
    settings = ds.settings
    if "in_area" in settings.columns and settings["in_area"].fillna(False).astype(bool).any():
        settings = settings[settings["in_area"].fillna(False).astype(bool)]
    xy = [
        frame[["easting", "northing"]].to_numpy(float)
        for frame in (settings, ds.children, ds.candidates)
        if frame is not None and len(frame)
    ]
    pts = np.concatenate(xy) if xy else np.zeros((0, 2))
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        import_problem(
            Path(ds.name),
            "no setting or child with coordinates",
            "settings.csv and children.csv with easting, northing",
            "fill the dataset first (optimiser init, or the import commands)",
        )
    m = margin_km * 1000.0
    # snapped outward to whole 5 km: the box (shown in the report) never gives away the
    # easting or northing of the child who lives furthest out
    lo = np.floor((pts.min(axis=0) - m) / BOX_GRID_M) * BOX_GRID_M
    hi = np.ceil((pts.max(axis=0) + m) / BOX_GRID_M) * BOX_GRID_M
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def settings_outside(ds: Dataset, box: tuple[float, float, float, float]) -> int:
    """How many settings lie outside ``box`` (reached by a straight leg from its roads)."""
    x, y = ds.settings["easting"].to_numpy(float), ds.settings["northing"].to_numpy(float)
    inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
    return int((~inside).sum())


def read_road_links(
    path: str | Path, *, box: tuple[float, float, float, float] | None = None, crs: str = BNG
) -> RoadLinks:
    """Road links of ``path`` (OSM ``.osm.pbf`` or OS Open Roads ``.gpkg``) in ``crs``.

    ``box`` (minx, miny, maxx, maxy) in ``crs`` [m] limits what is read (None: all).
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        box_lonlat = None
        if box is not None:
            to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            box_lonlat = tuple(float(v) for v in to_lonlat.transform_bounds(*box))
        return read_osm(path, crs=crs, box_lonlat=box_lonlat)  # type: ignore[arg-type]
    if name.endswith(".gpkg"):
        return read_open_roads(path, crs=crs, box=box)
    import_problem(
        path,
        f"a file of type {path.suffix or '(none)'}",
        _KINDS,
        "give the .osm.pbf or .gpkg file as downloaded (docs/imports_roads.md)",
    )


def road_graph(
    links: RoadLinks,
    roads: RoadsPolicy,
    *,
    box: tuple[float, float, float, float] | None = None,
    simplify: bool = True,
) -> nx.DiGraph:
    """The road graph of ``links``: clipped to ``box``, largest strong component, simplified.

    Edges carry ``length`` [m], ``speed_kph`` (class speed ÷ peak factor) and ``road_class``;
    nodes ``x``, ``y`` in the links' CRS [m]. Deterministic: nodes in id order.
    """
    return _build(links, roads, box, simplify=simplify)[0]


def _build(
    links: RoadLinks,
    roads: RoadsPolicy,
    box: tuple[float, float, float, float] | None,
    *,
    simplify: bool = True,
) -> tuple[nx.DiGraph, dict[str, int]]:
    """The graph and its counts: links and nodes in the box, nodes in the strong component."""
    graph, n_links = _directed(links, roads, box)
    counts = {"links": n_links, "box_nodes": graph.number_of_nodes()}
    graph = largest_strong_component(graph)
    counts["strong_nodes"] = graph.number_of_nodes()
    if simplify:
        graph = simplify_chains(graph)
    for _, _, data in graph.edges(data=True):
        data["speed_kph"] = data["length"] * 0.06 / data.pop("minutes")  # m/min → km/h
    return graph, counts


def _directed(
    links: RoadLinks, roads: RoadsPolicy, box: tuple[float, float, float, float] | None
) -> tuple[nx.DiGraph, int]:
    """Every link inside ``box`` as one edge per direction driven; and how many links."""
    nodes, lk = links.nodes, links.links
    if box is not None:
        x, y = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
        nodes = nodes[(x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])]
    length = lk["length_m"].to_numpy(float)
    keep = lk["u"].isin(nodes.index) & lk["v"].isin(nodes.index) & (lk["u"] != lk["v"])
    keep &= np.isfinite(length) & (length > 0)
    lk = lk[keep.to_numpy(bool)]
    road_class = lk["road_class"].astype(str)
    kmh = road_class.map(lambda c: roads.peak_speed_kmh(c)).to_numpy(float)
    minutes = lk["length_m"].to_numpy(float) / (kmh * 1000.0 / 60.0)
    both = ~lk["oneway"].to_numpy(bool)
    edges = pd.DataFrame(
        {
            "tail": np.concatenate([lk["u"].to_numpy(str), lk["v"].to_numpy(str)[both]]),
            "head": np.concatenate([lk["v"].to_numpy(str), lk["u"].to_numpy(str)[both]]),
            "length": np.concatenate([lk["length_m"].to_numpy(float), lk["length_m"][both]]),
            "minutes": np.concatenate([minutes, minutes[both]]),
            "road_class": np.concatenate([road_class.to_numpy(str), road_class[both]]),
        }
    )
    # of parallel links the fastest (then shortest) is the one a journey takes
    edges = edges.sort_values(["tail", "head", "minutes", "length"], kind="stable")
    edges = edges.drop_duplicates(["tail", "head"])
    graph = nx.DiGraph()
    used = nodes.loc[sorted(set(edges["tail"]) | set(edges["head"]))]
    graph.add_nodes_from(
        (str(n), {"x": float(x), "y": float(y)})
        for n, x, y in zip(used.index, used["x"], used["y"], strict=True)
    )
    graph.add_edges_from(
        (t, h, {"length": float(length), "minutes": float(m), "road_class": str(c)})
        for t, h, length, m, c in edges.itertuples(index=False)
    )
    return graph, len(lk)


def largest_strong_component(graph: nx.DiGraph) -> nx.DiGraph:
    """The largest strongly connected component (ties: the one holding the least node id)."""
    if graph.number_of_nodes() == 0:
        return graph
    best = min(nx.strongly_connected_components(graph), key=lambda c: (-len(c), min(c)))
    order = [n for n in graph.nodes if n in best]
    return nx.DiGraph(graph.subgraph(order))


def simplify_chains(graph: nx.DiGraph) -> nx.DiGraph:
    """Merge each node that only joins two roads into one edge; journey times kept.

    A node is merged when its only neighbours are a and b and it is passed through
    both ways (a ⇄ v ⇄ b) or one way (a → v → b, nothing else). The merged edge has
    the summed length and minutes and the class of its longer part; where an edge
    a → b already exists the faster one is kept (a fastest path never took the other).
    """
    g = graph.copy()
    pending = list(g.nodes)
    while pending:  # a merge that keeps a faster a → b leaves a or b with fewer roads: again
        again: dict[str, None] = {}
        for v in pending:
            if v not in g:
                continue
            preds, succs = set(g.pred[v]), set(g.succ[v])
            if len(preds) == 2 and preds == succs:
                a, b = sorted(preds)
                _join(g, a, v, b)
                _join(g, b, v, a)
            elif len(preds) == 1 and len(succs) == 1 and preds != succs:
                a, b = next(iter(preds)), next(iter(succs))
                _join(g, a, v, b)
            else:
                continue
            g.remove_node(v)
            again.update({a: None, b: None})
        pending = [v for v in again if v in g]
    return g


def _join(g: nx.DiGraph, a: str, v: str, b: str) -> None:
    first, second = g.edges[a, v], g.edges[v, b]
    merged = {
        "length": first["length"] + second["length"],
        "minutes": first["minutes"] + second["minutes"],
        "road_class": max(first, second, key=lambda d: d["length"])["road_class"],
    }
    if g.has_edge(a, b) and g.edges[a, b]["minutes"] <= merged["minutes"]:
        return
    g.add_edge(a, b, **merged)


def import_roads(file: str | Path, into: str | Path, *, replace: bool = False) -> RoadImport:
    """Build ``into/roads.graphml`` from an OSM extract or OS Open Roads GeoPackage.

    Parameters
    ----------
    file : ``.osm.pbf`` (OpenStreetMap) or ``.gpkg`` (OS Open Roads).
    into : the dataset folder; its settings and children set the box, its policy the
        speeds (``roads:`` in policy.yaml).
    replace : replace an existing roads.graphml (otherwise it is refused, never overwritten).

    Raises
    ------
    DataValidationError : the road file or the dataset is unusable (file, fix named).
    OutputExistsError : roads.graphml exists and ``replace`` is False.
    """
    into = Path(into)
    target = into / ROADS_FILE
    if not replace:
        refuse_existing(target)
    ds = load_dataset(into, validate=False)
    roads = ds.policy.roads
    box = dataset_box(ds, roads.margin_km)
    links = read_road_links(file, box=box)
    graph, counts = _build(links, roads, box)
    if graph.number_of_nodes() < 2:
        import_problem(
            Path(file),
            "no connected roads in the dataset's box",
            f"roads around the dataset's settings and children (box {_box_text(box)})",
            "use the extract of the county or region the LA is in",
        )
    graph.graph.update(
        crs=BNG,
        source=Path(file).name,
        peak_factor=roads.peak_factor,
        note="built by optimiser roads: speed_kph = class speed / peak_factor",
    )
    write_graph(graph, target, replace=replace)
    return RoadImport(
        path=target,
        source=Path(file).name,
        box=box,
        links_read=counts["links"],
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        component_share=counts["strong_nodes"] / max(counts["box_nodes"], 1),
        merged_nodes=counts["strong_nodes"] - graph.number_of_nodes(),
        outside=settings_outside(ds, box),
        km_by_class=km_by_class(graph),
    )


def km_by_class(graph: nx.DiGraph) -> dict[str, float]:
    """Road length [km] by class, each road once (a two-way road's two edges count once)."""
    total: dict[str, float] = {}
    for a, b, data in graph.edges(data=True):
        share = 0.5 if graph.has_edge(b, a) else 1.0
        total[data["road_class"]] = total.get(data["road_class"], 0.0) + share * data["length"]
    return {k: round(v / 1000.0, 3) for k, v in sorted(total.items(), key=lambda kv: -kv[1])}


def _box_text(box: tuple[float, float, float, float]) -> str:
    return ", ".join(f"{v:.0f}" for v in box) + " m, EPSG:27700"


def write_graph(graph: nx.DiGraph, target: Path, *, replace: bool = False) -> None:
    """Write ``graph`` as GraphML atomically (a temporary file, then a rename)."""
    _publish(target, lambda tmp: nx.write_graphml(graph, tmp), replace=replace)


def write_text(text: str, target: Path, *, replace: bool = False) -> None:
    """Write ``text`` (UTF-8) atomically; an existing file only when ``replace``."""
    _publish(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), replace=replace)


def _publish(target: Path, write: Callable[[Path], object], *, replace: bool) -> None:
    if not replace:
        with atomic_output(target) as tmp:
            write(tmp)
        return
    staging = target.with_name(f".{target.name}.new")
    staging.unlink(missing_ok=True)
    with atomic_output(staging) as tmp:
        write(tmp)
    try:
        os.replace(staging, target)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise output_error(target, exc) from exc


def _cell(text: str) -> str:
    """``text`` safe in a Markdown table cell (a class name comes from the road file)."""
    return " ".join(str(text).split()).replace("|", "\\|")
