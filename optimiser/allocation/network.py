"""Allocation: place each child needing a Specialist Provision Package, exactly.

Formulation (min-cost flow, solved by OR-Tools ``SimpleMinCostFlow``)
-------------------------------------------------------------------
Sets: children I; (setting, package) pairs Q; settings S; arcs A ⊆ I × Q from
:mod:`optimiser.allocation.arcs` (eligibility and costs are documented there).

Continuing children (policy ``keep``) are placed first at their current
setting; their places come off the capacities below, and the network holds only
the children being placed.

Network: source supply 1 at each child i; arcs i → q for (i, q) ∈ A with
capacity 1 and cost c_iq (arc_cost, whole £/yr); q = (s, p) → s with capacity
u_q (places for package p at s); s → sink with capacity U_s (total places at s),
or s → G → sink for INMSS settings when the policy caps INMSS places (G has
capacity ``inmss_max_places``: a network-shaped group limit).

Objective, lexicographic: (1) maximise the number of children placed, then
(2) minimise Σ c_iq over the placements. OR-Tools' ``SolveMaxFlowWithMinCost``
solves exactly this, so *placing a child always beats leaving one unplaced*
whatever the costs, and the model is never infeasible: a child with no flow is
reported unplaced with a reason. Within (2) the mainstream duty dominates
preferences and cost by the weight argument in :mod:`optimiser.allocation.arcs`.

Constraints, one function per family (``_add_*`` below): (1) choice arcs x_iq ≤ 1;
(2) Σ_i x_iq ≤ u_q; (3) Σ_q∈s x ≤ U_s; (4) Σ over INMSS ≤ cap; (5) each child placed
at most once (supply 1). Capacities are never below the
number of continuing children already there (they keep their place).

The reported objective is Σ arc_cost over placements + P × children unplaced,
where P = max(policy ``unplaced_penalty_gbp``, largest arc cost + 1), so the
reported objective also ranks placing a child above any placement cost. Every
result is re-checked by :mod:`optimiser.allocation.check` before it is returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimiser._solver.chunked_flow import CHUNK_ARCS, ArcChunk
from optimiser.dataset.ids import first_rows, positions
from optimiser.dataset.model import Dataset
from optimiser.schema.tables import INMSS_TYPES


@dataclass(frozen=True)
class FlowNetwork:
    """Plain arrays of the flow network; arc k < n_choice is the k-th choice arc."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: np.ndarray
    n_choice: int


def residual_capacities(ds: Dataset, kids: pd.DataFrame) -> tuple[pd.Series, pd.Series, int | None]:
    """Places left for children to place, per (setting, package), per setting and INMSS cap.

    Continuing children keep their places first; what is left (never below 0)
    is open to the children being placed. The places are indexed by (setting_id,
    package_id) as ``ds.places`` rows, the totals by setting_id as ``ds.settings`` rows
    (NaN where the table has none).
    """
    places, total, cap = residual_arrays(ds, kids)
    index = pd.MultiIndex.from_arrays(
        [ds.places["setting_id"], ds.places["package_id"]], names=["setting_id", "package_id"]
    )
    return (
        pd.Series(places, index=index, name="places"),
        pd.Series(total, index=pd.Index(ds.settings["setting_id"]), name="total_places"),
        cap,
    )


def residual_arrays(ds: Dataset, kids: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int | None]:
    """:func:`residual_capacities` as arrays: by ``ds.places`` row, by ``ds.settings`` row.

    A continuing child takes a place from every places row of its current setting and
    its package (a duplicated row: from each) and from every settings row of its
    setting's id; float, NaN where the table has none.
    """
    fixed = kids["fixed"].to_numpy(bool)
    cur = kids["current"].to_numpy(object)[fixed]
    pkg = kids["package_id"].to_numpy(object)[fixed]
    p_sid = ds.places["setting_id"].to_numpy(object)
    p_pid = ds.places["package_id"].to_numpy(object)
    s_code, _ = pd.factorize(np.r_[p_sid, cur])
    k_code, k_names = pd.factorize(np.r_[p_pid, pkg])
    n_p = len(p_sid)
    key = s_code.astype(np.int64) * (len(k_names) + 1) + k_code
    ok = (s_code[n_p:] >= 0) & (k_code[n_p:] >= 0)  # NaN ids match no row (as groupby drops them)
    taken = np.bincount(key[n_p:][ok], minlength=int(key.max(initial=-1)) + 1)
    places = ds.places["places"].to_numpy(float, na_value=np.nan)
    places = np.maximum(places - np.where(key[:n_p] >= 0, taken[np.maximum(key[:n_p], 0)], 0), 0)
    sid = ds.settings["setting_id"].to_numpy(object)
    code, _ = pd.factorize(np.r_[sid, cur])
    n_s = len(sid)
    held = np.bincount(code[n_s:][code[n_s:] >= 0], minlength=int(code.max(initial=-1)) + 1)
    total = ds.settings["total_places"].to_numpy(float, na_value=np.nan)
    total = np.maximum(total - np.where(code[:n_s] >= 0, held[np.maximum(code[:n_s], 0)], 0), 0)
    cap = ds.policy.inmss_max_places
    if cap is not None:
        inmss = set(sid[ds.settings["setting_type"].isin(INMSS_TYPES).to_numpy()].tolist())
        cap = max(cap - sum(c in inmss for c in cur.tolist()), 0)
    return places, total, cap


@dataclass(frozen=True)
class _Nodes:
    """Node numbering: children 0..n-1, then (setting, package) pairs, settings, G, sink."""

    n_children: int
    pairs: np.ndarray  # places rows of the (setting, package) pairs, in node order
    settings: np.ndarray  # setting ids, sorted, in node order
    q_of_row: np.ndarray  # places row → pair node offset (-1 when no arc uses it)

    @property
    def q0(self) -> int:
        return self.n_children

    @property
    def s0(self) -> int:
        return self.n_children + len(self.pairs)

    @property
    def group(self) -> int:
        return self.s0 + len(self.settings)

    @property
    def sink(self) -> int:
        return self.group + 1


class _Arcs:
    """Arc arrays built family by family, in the order the families are added."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, tail: np.ndarray, head: np.ndarray, capacity: np.ndarray, cost=None) -> None:
        cost = np.zeros(len(tail), np.int64) if cost is None else cost
        self.parts.append((np.asarray(tail), np.asarray(head), np.asarray(capacity), cost))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        tail, head, capacity, cost = (np.concatenate(col) for col in zip(*self.parts, strict=True))
        return (
            tail.astype(np.int64, copy=False),
            head.astype(np.int64, copy=False),
            capacity.astype(np.int64, copy=False),
            cost,
        )


def _number_nodes(ds: Dataset, arcs: pd.DataFrame, kids: pd.DataFrame) -> _Nodes:
    """Children in ``kids`` order; the pairs the arcs use by setting id then package id."""
    row = arcs["p"].to_numpy()[~arcs["fixed"].to_numpy(bool)]
    places = ds.places.reset_index(drop=True)
    if len(row) and row.min() >= 0:  # places rows: np.unique's answer by counting, no sort
        used = np.flatnonzero(np.bincount(row, minlength=len(places)))
    else:
        used = np.unique(row)
    sid = places["setting_id"].to_numpy()[used]
    pid = places["package_id"].to_numpy()[used]
    sets = np.sort(pd.unique(sid))
    used = used[np.lexsort((np.unique(pid, return_inverse=True)[1], np.searchsorted(sets, sid)))]
    q_of_row = np.full(len(places), -1, np.int64)
    q_of_row[used] = np.arange(len(used))
    return _Nodes(len(kids), used, sets, q_of_row)


def _add_package_capacity(net: _Arcs, nodes: _Nodes, ds: Dataset, places: np.ndarray) -> None:
    """(2) Σ_i x_iq ≤ u_q for every pair q = (s, p): places for package p at s left free."""
    setting_of_pair = ds.places["setting_id"].to_numpy()[nodes.pairs]
    net.add(
        nodes.q0 + np.arange(len(nodes.pairs)),
        nodes.s0 + np.searchsorted(nodes.settings, setting_of_pair),
        np.nan_to_num(places[nodes.pairs]),
    )


def _add_setting_capacity(
    net: _Arcs, nodes: _Nodes, ds: Dataset, total: np.ndarray, cap: int | None
) -> None:
    """(3) Σ_(q∈s) Σ_i x_iq ≤ U_s for every setting s (to G for INMSS when capped, else sink)."""
    first = first_rows(ds.settings, ["setting_id"])  # a duplicated id: its first row
    row = positions(first["setting_id"], nodes.settings)
    types = first["setting_type"].to_numpy(object)
    inmss = (row >= 0) & np.isin(types, INMSS_TYPES)[np.maximum(row, 0)]
    to_group = inmss if cap is not None else np.zeros(len(nodes.settings), bool)
    net.add(
        nodes.s0 + np.arange(len(nodes.settings)),
        np.where(to_group, nodes.group, nodes.sink),
        _setting_totals(ds, total, nodes.settings),
    )


def _setting_totals(ds: Dataset, total: np.ndarray, settings: np.ndarray) -> np.ndarray:
    """The places left at each of ``settings`` (ids; their settings row), 0 where NaN or none."""
    row = positions(ds.settings["setting_id"], settings)
    return np.nan_to_num(np.where(row >= 0, total[np.maximum(row, 0)], 0.0))


def _add_inmss_group(net: _Arcs, nodes: _Nodes, cap: int | None) -> None:
    """(4) Σ_(s∈INMSS) Σ_i x_is ≤ cap, the INMSS places left under ``inmss_max_places``."""
    net.add(np.array([nodes.group]), np.array([nodes.sink]), np.array([cap or 0]))


def _child_supply(nodes: _Nodes, kids: pd.DataFrame) -> np.ndarray:
    """(5) Σ_q x_iq ≤ 1 for every child i: supply 1 at each child being placed, all to the sink."""
    supply = np.zeros(nodes.sink + 1, np.int64)
    supply[: nodes.n_children] = ~kids["fixed"].to_numpy(bool)
    supply[nodes.sink] = -supply[: nodes.n_children].sum()
    return supply


#: The arcs frame's columns a :class:`NetworkChunks` reads while it is solved (views of
#: them, or the same values in narrower arrays: :meth:`NetworkChunks.reading`).
NETWORK_COLUMNS = ("c", "p", "arc_cost")


@dataclass(frozen=True)
class NetworkChunks:
    """The network of :func:`build_flow_network`, its arcs made chunk by chunk.

    A :class:`optimiser._solver.chunked_flow.ChunkedNetwork`: the choice arcs come from
    the arcs frame :data:`~optimiser._solver.chunked_flow.CHUNK_ARCS` rows at a time, then
    the capacity arcs, in :func:`build_flow_network`'s order, so the whole arc arrays
    (123 MB nationally) never exist. A choice arc's bonus flag is the mainstream duty
    (``duty_term_gbp`` < 0); the capacity arcs carry none.
    """

    supply: np.ndarray
    n_choice: int
    n_bonus: int
    rest: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # the capacity arcs, whole
    _child: np.ndarray  # the arcs frame's columns (views) and its free rows
    _row: np.ndarray
    _cost: np.ndarray
    _duty: np.ndarray
    _free: np.ndarray
    _q: np.ndarray  # places row → its pair's node (q0 + offset)

    @property
    def n_arcs(self) -> int:
        return self.n_choice + int(self.rest[0].size)

    def reading(self, columns: dict[str, np.ndarray]) -> NetworkChunks:
        """This network reading the arcs frame's :data:`NETWORK_COLUMNS` from ``columns``.

        Each array holds the column's very values, one per arcs row, in any integer type
        (:mod:`optimiser.allocation.compact` gives narrower copies): the arcs made are the
        same, and the arrays this network read before are no longer held by it.
        """
        c, p, cost = (np.asarray(columns[name]) for name in NETWORK_COLUMNS)
        for name, new, old in (
            ("c", c, self._child),
            ("p", p, self._row),
            ("arc_cost", cost, self._cost),
        ):
            if new.shape != old.shape or new.dtype.kind not in "iu":
                msg = f"{name}: {new.dtype} {new.shape} cannot stand for {old.dtype} {old.shape}."
                raise ValueError(msg)
        return replace(self, _child=c, _row=p, _cost=cost)

    def chunks(self) -> Iterator[ArcChunk]:
        for a in range(0, self._free.size, CHUNK_ARCS):
            free = self._free[a : a + CHUNK_ARCS]
            row = self._row[a : a + CHUNK_ARCS][free]
            yield ArcChunk(
                self._child[a : a + CHUNK_ARCS][free].astype(np.int64, copy=False),
                self._q[row],
                _choice_capacity(row.size),
                self._cost[a : a + CHUNK_ARCS][free].astype(np.int64),
                self._duty[a : a + CHUNK_ARCS][free],
            )
        tail, head, capacity, cost = self.rest
        yield ArcChunk(tail, head, capacity, cost, np.zeros(tail.size, bool))


def _choice_capacity(n: int) -> np.ndarray:
    """(1) x_iq ≤ 1 for every eligible (i, q) ∈ A: capacity 1 on each of n choice arcs."""
    return np.ones(n, np.int64)


def flow_network_chunks(ds: Dataset, arcs: pd.DataFrame, kids: pd.DataFrame) -> NetworkChunks:
    """:func:`build_flow_network`'s network as :class:`NetworkChunks` (the same arcs, in order)."""
    nodes = _number_nodes(ds, arcs, kids)
    places, total, cap = residual_arrays(ds, kids)
    free = ~arcs["fixed"].to_numpy(bool)
    if "duty_term_gbp" in arcs:
        duty = arcs["duty_term_gbp"].to_numpy(float) < 0
    else:
        duty = np.zeros(len(arcs), bool)
    rest = _Arcs()
    _add_package_capacity(rest, nodes, ds, places)
    _add_setting_capacity(rest, nodes, ds, total, cap)
    _add_inmss_group(rest, nodes, cap)
    return NetworkChunks(
        supply=_child_supply(nodes, kids),
        n_choice=int(np.count_nonzero(free)),
        n_bonus=int(np.count_nonzero(duty & free)),
        rest=rest.arrays(),
        _child=arcs["c"].to_numpy(),
        _row=arcs["p"].to_numpy(),
        _cost=arcs["arc_cost"].to_numpy(),
        _duty=duty,
        _free=free,
        _q=nodes.q0 + nodes.q_of_row,
    )


def build_flow_network(ds: Dataset, arcs: pd.DataFrame, kids: pd.DataFrame) -> FlowNetwork:
    """Node and arc arrays of the model above for the children being placed (deterministic order).

    Nodes: children (in ``kids`` order); the (setting, package) pairs the arcs
    use, sorted by setting id then package id; their settings, sorted by id;
    the INMSS group node; the sink. Continuing children are not in the
    network: they keep their setting and their places come off the capacities.
    Arcs, family by family: choice arcs, package capacity, setting capacity,
    the INMSS group (always present; capacity 0 and unused when uncapped).
    """
    net = flow_network_chunks(ds, arcs, kids)
    tail, head, capacity, cost, _ = (np.concatenate(col) for col in zip(*net.chunks(), strict=True))
    return FlowNetwork(tail, head, capacity, cost, net.supply, net.n_choice)
