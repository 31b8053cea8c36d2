"""A max flow at least cost whose arcs reach OR-Tools chunk by chunk, never as whole arrays.

OR-Tools' ``SimpleMinCostFlow`` copies every arc it is given, so a network held as whole
arrays while it solves is held twice. Nationally (3.85 M arcs) tail, head, capacity and
cost are 123 MB of int64, with the int32 arc ids ``add_arcs_with_capacity_and_unit_cost``
returns (15 MB) and each cost variant the duty's solves need (31 MB each,
:mod:`optimiser._solver.bonus_flow`) on top. A :class:`ChunkedNetwork` instead makes its
arcs :data:`CHUNK_ARCS` at a time, in arc order, from whatever it is built on (the
allocation's arcs frame, :func:`optimiser.allocation.network.flow_network_chunks`); each
solve asks for the chunks again, with its own cost per chunk, so only one chunk's arrays
exist beside OR-Tools' own copy. The flows come back as one int64 array in arc order,
read chunk by chunk.

The network is checked chunk by chunk as :func:`optimiser._solver.flow.solve_min_cost_flow`
checks whole arrays: one value per arc, node ids within the supply's nodes, capacities
never negative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
from ortools.graph.python import min_cost_flow

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver.flow import status_error

#: Arcs per chunk: 2**18 (each chunk's arrays about 9 MB), few enough chunks nationally
#: (15) that the Python loop costs nothing beside the solve, small enough to matter.
CHUNK_ARCS = 1 << 18

#: OR-Tools numbers nodes and arcs with int32.
_INT32_MAX = np.iinfo(np.int32).max


class ArcChunk(NamedTuple):
    """Consecutive arcs of a network: their tails, heads, capacities, costs and bonus flags."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    bonus: np.ndarray


class ChunkedNetwork(Protocol):
    """A flow network that makes its arcs chunk by chunk (:class:`ArcChunk`, in arc order).

    ``n_arcs`` arcs in all, ``n_bonus`` of them flagged ``bonus``; ``supply`` per node.
    Every call of ``chunks`` yields the same arcs in the same order.
    """

    @property
    def n_arcs(self) -> int: ...

    @property
    def n_bonus(self) -> int: ...

    @property
    def supply(self) -> np.ndarray: ...

    def chunks(self) -> Iterator[ArcChunk]: ...


@dataclass(frozen=True)
class ArrayNetwork:
    """A :class:`ChunkedNetwork` over whole int64 arrays (its chunks are views of them)."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    bonus: np.ndarray
    supply: np.ndarray

    @property
    def n_arcs(self) -> int:
        return int(self.tail.size)

    @property
    def n_bonus(self) -> int:
        return int(np.count_nonzero(self.bonus))

    def chunks(self) -> Iterator[ArcChunk]:
        for a in range(0, self.n_arcs, CHUNK_ARCS):
            b = a + CHUNK_ARCS
            yield ArcChunk(
                self.tail[a:b], self.head[a:b], self.capacity[a:b], self.cost[a:b], self.bonus[a:b]
            )


#: A chunk's cost for one solve: its full costs, the moderate bonus's, the count's.
CostOf = Callable[[ArcChunk], np.ndarray]


def full_cost(chunk: ArcChunk) -> np.ndarray:
    """The chunk's costs as given."""
    return chunk.cost


def load(net: ChunkedNetwork, cost_of: CostOf = full_cost) -> min_cost_flow.SimpleMinCostFlow:
    """An OR-Tools network of ``net``'s arcs, chunk by chunk, at cost ``cost_of(chunk)``."""
    n_nodes = int(net.supply.size)
    if n_nodes > _INT32_MAX or net.n_arcs > _INT32_MAX:
        msg = f"the network has {n_nodes} nodes and {net.n_arcs} arcs; OR-Tools takes < 2**31."
        raise DataValidationError(msg)
    smcf = min_cost_flow.SimpleMinCostFlow()
    seen = 0
    for chunk in net.chunks():
        cost = np.asarray(cost_of(chunk), np.int64)
        _check_chunk(chunk, cost, n_nodes)
        smcf.add_arcs_with_capacity_and_unit_cost(
            chunk.tail.astype(np.int32),
            chunk.head.astype(np.int32),
            chunk.capacity.astype(np.int64, copy=False),
            cost,
        )
        seen += chunk.tail.size
    if seen != net.n_arcs:
        msg = f"the network made {seen} arcs but says it has {net.n_arcs}."
        raise SolverError(msg)
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), net.supply.astype(np.int64))
    return smcf


def _check_chunk(chunk: ArcChunk, cost: np.ndarray, n_nodes: int) -> None:
    """The checks of ``solve_min_cost_flow`` on one chunk (its messages, its fixes)."""
    n = chunk.tail.size
    for name, arr in (
        ("head", chunk.head),
        ("capacity", chunk.capacity),
        ("unit_cost", cost),
        ("bonus_arcs", chunk.bonus),
    ):
        if arr.size != n:
            msg = f"{name} has {arr.size} entries but tail has {n}; give one value per arc."
            raise DataValidationError(msg)
    if not n:
        return
    for name, arr in (("tail", chunk.tail), ("head", chunk.head)):
        if arr.min() < 0 or arr.max() >= n_nodes:
            msg = (
                f"{name} must hold node indices in [0, {n_nodes}) (len(supply) nodes); "
                f"found values in [{arr.min()}, {arr.max()}]. Extend supply or fix the ids."
            )
            raise DataValidationError(msg)
    if chunk.capacity.min() < 0:
        msg = f"capacity must be >= 0; found {chunk.capacity.min()}. Remove or fix that arc."
        raise DataValidationError(msg)


def solve_max_flow(net: ChunkedNetwork, cost_of: CostOf = full_cost) -> np.ndarray:
    """The max flow at least cost ``cost_of`` (``SolveMaxFlowWithMinCost``), flow per arc.

    Raises
    ------
    DataValidationError
        As :func:`load`.
    SolverError
        On any status but OPTIMAL (costs or capacities too large).
    """
    smcf = load(net, cost_of)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise status_error(status)
    return read_flows(smcf, net.n_arcs)


def max_flow_cost(net: ChunkedNetwork, cost_of: CostOf) -> int | None:
    """The least cost of a max flow at cost ``cost_of``, or None when not solved to optimality."""
    smcf = load(net, cost_of)
    if smcf.solve_max_flow_with_min_cost() != smcf.OPTIMAL:
        return None
    return int(smcf.optimal_cost())


def read_flows(smcf: min_cost_flow.SimpleMinCostFlow, n_arcs: int) -> np.ndarray:
    """The flow on arcs 0 .. n_arcs − 1 (OR-Tools numbers arcs as they were added), int64."""
    flow = np.empty(n_arcs, np.int64)
    for a in range(0, n_arcs, CHUNK_ARCS):
        b = min(a + CHUNK_ARCS, n_arcs)
        flow[a:b] = smcf.flows(np.arange(a, b, dtype=np.int32))
    return flow
