"""Road journeys on a graph: fastest paths between aligned points, cached per dataset.

:func:`graph_km_and_min` is the road-graph half of
:func:`optimiser.transport.travel.road_km_and_min`: each point is joined to its
nearest graph node by a straight access leg at the policy's door-to-door speed,
and the journey from home to setting follows the fastest path (Dijkstra in
``scipy.sparse.csgraph``, one pass per setting node on the reversed graph, so a
one-way street is driven the way the morning journey goes). Distance is the
length of that fastest path.

Results are cached when the graph says where (``graph.graph["cache_dir"]``, set
by the dataset loader to ``DIR/.cache``): one ``journeys-<key>.npz`` per set of
points, the key a SHA-256 of the graph's content (nodes, x, y, edges, length,
speed_kph), the points and the policy speed. Changing the graph, a point or the
speed changes the key; an unreadable or mismatched cache file is ignored and
written again. Only the newest :data:`CACHE_FILES` files are kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from optimiser.policy import Policy

if TYPE_CHECKING:  # a road graph is made by its loader: networkx loads there
    import networkx as nx

#: Newest cache files kept in a dataset's cache folder (older ones are removed).
CACHE_FILES = 16
#: Version of the cache layout: bump it when what a file holds changes.
_CACHE_VERSION = b"journeys-v1"
#: Setting nodes per Dijkstra batch (bounds memory: batch × nodes × 8 bytes, twice).
_BATCH = 32


@dataclass(frozen=True)
class RoadArrays:
    """A road graph as arrays: node positions and one directed edge per (tail, head).

    Attributes
    ----------
    xy : (n, 2) float, node x, y [EPSG:27700 m]
    tail, head : (m,) int, node positions of each directed edge
    length_m : (m,) float, edge length [m]
    minutes : (m,) float, time to drive the edge [min]
    """

    xy: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    minutes: np.ndarray

    def digest(self) -> bytes:
        """SHA-256 of the content (what the journeys depend on)."""
        h = hashlib.sha256(_CACHE_VERSION)
        for a in (self.xy, self.tail, self.head, self.length_m, self.minutes):
            h.update(np.ascontiguousarray(a).tobytes())
            h.update(str(a.shape).encode())
        return h.digest()


def road_arrays(graph: nx.Graph, *, policy: Policy) -> RoadArrays:
    """Arrays of ``graph``: nodes in graph order; an undirected edge both ways.

    An edge without ``speed_kph`` is driven at ``policy.speed_kmh``; of parallel edges
    (a multigraph, or both directions of a two-way street) the fastest is kept.
    """
    nodes = list(graph.nodes)
    pos = {v: i for i, v in enumerate(nodes)}
    xy = np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in nodes], float).reshape(-1, 2)
    rows = graph.edges(data=True)
    n_e = graph.number_of_edges()
    tail = np.fromiter((pos[u] for u, _, _ in rows), np.int64, n_e)
    head = np.fromiter((pos[v] for _, v, _ in rows), np.int64, n_e)
    length = np.fromiter((float(d["length"]) for _, _, d in rows), float, n_e)
    kph = np.fromiter((float(d.get("speed_kph", policy.speed_kmh)) for _, _, d in rows), float, n_e)
    minutes = length / (kph * 1000.0 / 60.0)
    if not graph.is_directed():
        tail, head = np.concatenate([tail, head]), np.concatenate([head, tail])
        length, minutes = np.tile(length, 2), np.tile(minutes, 2)
    keep = tail != head  # a loop is never on a fastest path
    tail, head, length, minutes = tail[keep], head[keep], length[keep], minutes[keep]
    # one edge per (tail, head): the fastest, then the shortest (deterministic)
    order = np.lexsort((length, minutes, head, tail))
    tail, head, length, minutes = tail[order], head[order], length[order], minutes[order]
    first = np.ones(len(tail), bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    return RoadArrays(xy, tail[first], head[first], length[first], minutes[first])


def shortest_to(arrays: RoadArrays, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fastest time [min] and its length [m] from every node to each target node.

    Returns two (len(targets), n) arrays; ``inf`` where a node cannot reach the target.
    """
    n = len(arrays.xy)
    # reversed graph: a path from the target in it is a path to the target on the roads
    # (a tiny floor keeps zero-minute edges, which csgraph would read as "no edge")
    weights = np.maximum(arrays.minutes, 1e-12)
    rev = sparse.csr_matrix((weights, (arrays.head, arrays.tail)), shape=(n, n))
    times = np.empty((len(targets), n))
    lengths = np.empty((len(targets), n))
    for lo in range(0, len(targets), _BATCH):
        idx = np.asarray(targets[lo : lo + _BATCH], np.int64)
        dist, pred = csgraph.dijkstra(rev, directed=True, indices=idx, return_predecessors=True)
        times[lo : lo + len(idx)] = dist
        lengths[lo : lo + len(idx)] = _path_lengths(pred, arrays, idx)
    return times, lengths


def _path_lengths(pred: np.ndarray, arrays: RoadArrays, roots: np.ndarray) -> np.ndarray:
    """Length [m] from each node to the root of each predecessor tree (pointer jumping).

    ``pred[r, v]`` is the next node on v's road to ``roots[r]`` (negative at the root and
    where v cannot reach it); the edges of ``arrays`` are sorted by (tail, head).
    """
    k, n = pred.shape
    has = pred >= 0
    parent = np.where(has, pred, np.arange(n)[None, :])
    step = np.zeros((k, n))
    nodes = np.broadcast_to(np.arange(n), (k, n))
    edge_key = arrays.tail * n + arrays.head
    step[has] = arrays.length_m[np.searchsorted(edge_key, nodes[has] * n + parent[has])]
    rows = np.arange(k)[:, None]
    acc, jump = step, parent  # acc[r, v]: length from v to jump[r, v]
    while True:
        nxt = jump[rows, jump]
        if np.array_equal(nxt, jump):
            break
        acc, jump = acc + acc[rows, jump], nxt
    reached = has.copy()
    reached[np.arange(k), roots] = True
    return np.where(reached, acc, np.inf)


def graph_km_and_min(
    home_xy: np.ndarray, setting_xy: np.ndarray, *, graph: nx.Graph, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    """Road distance [km] and journey time [min] from each home to its setting on ``graph``.

    Aligned (k, 2) arrays of EPSG:27700 metres; ``inf`` where the roads do not join them.
    Cached in ``graph.graph["cache_dir"]`` when the graph names one.
    """
    home = np.asarray(home_xy, float).reshape(-1, 2)
    sett = np.asarray(setting_xy, float).reshape(-1, 2)
    arrays = road_arrays(graph, policy=policy)
    folder = graph.graph.get("cache_dir")
    if not folder or len(home) == 0:
        return _compute(home, sett, arrays, policy)
    key = _cache_key(arrays, home, sett, policy)
    path = Path(folder) / f"journeys-{key}.npz"
    cached = _read_cache(path, key, len(home))
    if cached is not None:
        return cached
    km, mins = _compute(home, sett, arrays, policy)
    _write_cache(path, key, km, mins)
    return km, mins


def _compute(
    home: np.ndarray, sett: np.ndarray, arrays: RoadArrays, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    km, mins = np.full(len(home), np.inf), np.full(len(home), np.inf)
    if len(home) == 0 or len(arrays.xy) == 0:
        return km, mins
    tree = cKDTree(arrays.xy)
    d_home, i_home = tree.query(home)
    d_set, i_set = tree.query(sett)
    targets, which = np.unique(i_set, return_inverse=True)
    times, lengths = shortest_to(arrays, targets)
    path_min, path_m = times[which, i_home], lengths[which, i_home]
    access_m = d_home + d_set
    ok = np.isfinite(path_min)
    km[ok] = (path_m[ok] + access_m[ok]) / 1000.0
    mins[ok] = path_min[ok] + access_m[ok] / (policy.speed_kmh * 1000.0 / 60.0)
    return km, mins


def _cache_key(arrays: RoadArrays, home: np.ndarray, sett: np.ndarray, policy: Policy) -> str:
    h = hashlib.sha256(arrays.digest())
    for a in (home, sett):
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(str(a.shape).encode())
    h.update(repr(float(policy.speed_kmh)).encode())
    return h.hexdigest()[:32]


def _read_cache(path: Path, key: str, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached (km, min), or None when absent, unreadable or not for this key."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            km, mins = np.asarray(data["km"], float), np.asarray(data["min"], float)
    except Exception:  # absent, truncated, not a zip (BadZipFile), no such array: rebuild
        return None
    if km.shape != (n,) or mins.shape != (n,):
        return None
    if np.isnan(km).any() or np.isnan(mins).any() or (km < 0).any() or (mins < 0).any():
        return None  # no journey is NaN or negative: a damaged file
    try:
        os.utime(path)  # most recently used: kept when the folder is pruned
    except OSError:
        pass
    return km, mins


def _write_cache(path: Path, key: str, km: np.ndarray, mins: np.ndarray) -> None:
    """Write the cache file atomically (temporary file + rename); a failure only costs time."""
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, key=np.array(key), km=km, min=mins)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        tmp.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("journeys-*.npz"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in files[:-CACHE_FILES]:
        old.unlink(missing_ok=True)
