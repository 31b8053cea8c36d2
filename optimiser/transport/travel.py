"""Distances and journey times between homes and settings.

Default model: straight-line distance in British National Grid metres × the
policy's detour factor = road distance [km]; journey time [min] = road distance
÷ average speed. When a road graph is supplied (networkx, nodes with ``x``/``y``
in EPSG:27700 metres, edges with ``length`` [m] and optionally ``speed_kph``),
road distances and times come from shortest paths instead (Dijkstra from each
setting, cut off at the longest journey cap), plus the straight-line access legs
from each point to its nearest graph node.

Candidate pairs are pruned with a KD-tree: only settings within the straight-line
radius that the longest journey cap allows are paired with a child.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from optimiser.policy import JOURNEY_CAP_TOL_MIN, Policy

KM_PER_MILE = 1.609344


def straight_km(xy_from: np.ndarray, xy_to: np.ndarray) -> np.ndarray:
    """Row-wise straight-line distance [km] between two (k, 2) arrays of BNG metres."""
    return np.hypot(*(np.asarray(xy_from, float) - np.asarray(xy_to, float)).T) / 1000.0


def pairs_within(
    home_xy: np.ndarray, setting_xy: np.ndarray, radius_km: np.ndarray, *, sort: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(child positions, setting positions) with straight-line distance ≤ each child's radius.

    Sorted by child then setting unless ``sort`` is False (the order is then
    still deterministic, for callers that sort anyway).
    """
    radius_m = np.asarray(radius_km, float) * 1000.0
    if len(home_xy) == 0 or len(setting_xy) == 0 or not (radius_m >= 0).any():
        empty = np.zeros(0, np.int64)
        return empty, empty
    home, sett = np.asarray(home_xy, float), np.asarray(setting_xy, float)
    # One dual-tree pass at the largest radius (in C, no per-child Python lists).
    reach = float(np.nanmax(radius_m)) * (1 + 1e-9) + 1e-6
    found = cKDTree(home).sparse_distance_matrix(cKDTree(sett), reach, output_type="ndarray")
    child, setting, d = found["i"].astype(np.int64), found["j"].astype(np.int64), found["v"]
    r = radius_m[child]
    keep = d <= r * (1 - 1e-12) - 1e-9  # clearly inside
    edge = np.flatnonzero(~keep & (d <= r * (1 + 1e-12) + 1e-9))
    if len(edge):  # borderline: decide with the same hypot as straight_km
        c, k = child[edge], setting[edge]
        keep[edge] = np.hypot(home[c, 0] - sett[k, 0], home[c, 1] - sett[k, 1]) <= r[edge]
    child, setting = child[keep], setting[keep]
    if not sort:
        return child, setting
    order = np.argsort(child * len(sett) + setting)
    return child[order], setting[order]


def road_km_and_min(
    home_xy: np.ndarray, setting_xy: np.ndarray, *, policy: Policy, graph: nx.Graph | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Road distance [km] and journey time [min] for aligned (k, 2) arrays of points."""
    if graph is None:
        km = straight_km(home_xy, setting_xy) * policy.detour_factor
        return km, km / policy.speed_kmh * 60.0
    return _graph_km_and_min(home_xy, setting_xy, graph=graph, policy=policy)


def _graph_km_and_min(
    home_xy: np.ndarray, setting_xy: np.ndarray, *, graph: nx.Graph, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    nodes = list(graph.nodes)
    node_xy = np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in nodes], float)
    tree = cKDTree(node_xy)
    d_home, i_home = tree.query(np.asarray(home_xy, float))
    d_set, i_set = tree.query(np.asarray(setting_xy, float))
    speed_m_per_min = policy.speed_kmh * 1000.0 / 60.0

    def minutes(u: object, v: object, data: dict) -> float:
        kph = float(data.get("speed_kph", policy.speed_kmh))
        return float(data["length"]) / (kph * 1000.0 / 60.0)

    km = np.full(len(home_xy), np.inf)
    mins = np.full(len(home_xy), np.inf)
    for target in np.unique(i_set):
        times, paths = nx.single_source_dijkstra(graph, nodes[target], weight=minutes)
        rows = np.flatnonzero(i_set == target)
        for r in rows:
            v = nodes[i_home[r]]
            if v in times:
                length_m = sum(_edge_length(graph, a, b) for a, b in itertools.pairwise(paths[v]))
                access_m = d_home[r] + d_set[r]
                km[r] = (length_m + access_m) / 1000.0
                mins[r] = times[v] + access_m / speed_m_per_min
    return km, mins


def _edge_length(graph: nx.Graph, a: object, b: object) -> float:
    data = graph.get_edge_data(a, b)
    if graph.is_multigraph():
        return min(float(d["length"]) for d in data.values())
    return float(data["length"])


def max_straight_km(
    cap_min: np.ndarray, *, policy: Policy, graph: nx.Graph | None = None
) -> np.ndarray:
    """Largest straight-line distance [km] that can be within a journey cap [min] (pruning radius).

    With a road graph the fastest edge speed bounds it (a road is never shorter
    than the straight line).
    """
    # keep every pair the cap rule keeps (its tolerance), and those one ulp over the radius
    cap_h = (np.asarray(cap_min, float) + JOURNEY_CAP_TOL_MIN) / 60.0 * (1 + 1e-9)
    if graph is None:
        return cap_h * policy.speed_kmh / policy.detour_factor
    speeds = [float(d.get("speed_kph", policy.speed_kmh)) for _, _, d in graph.edges(data=True)]
    return cap_h * max([policy.speed_kmh, *speeds])
