"""Distances and journey times between homes and settings.

Default model: straight-line distance in British National Grid metres × the
policy's detour factor = road distance [km]; journey time [min] = road distance
÷ average speed. When a road graph is supplied (networkx, nodes with ``x``/``y``
in EPSG:27700 metres, edges with ``length`` [m] and optionally ``speed_kph``),
road distances and times come from the fastest paths instead (home to setting,
Dijkstra in :mod:`optimiser.transport.journeys`, cached per dataset), plus the
straight-line access legs from each point to its nearest graph node.

Candidate pairs are pruned with a KD-tree: only settings within the straight-line
radius that the longest journey cap allows are paired with a child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from optimiser.policy import JOURNEY_CAP_TOL_MIN, Policy
from optimiser.transport.journeys import graph_km_and_min

if TYPE_CHECKING:  # a road graph is made by its loader: networkx loads there
    import networkx as nx

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
    return graph_km_and_min(home_xy, setting_xy, graph=graph, policy=policy)


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
