"""Min-cost flow with OR-Tools ``SimpleMinCostFlow`` (exact, integer data)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from optimiser._errors import DataValidationError, InfeasibleError, SolverError
from optimiser._solver.status import OPTIMAL

# ------------------------------------------------------------------- min-cost flow


@dataclass(frozen=True)
class MinCostFlowSolution:
    """Result of :func:`solve_min_cost_flow`.

    Attributes
    ----------
    flow : numpy.ndarray
        Flow on each arc, int64, in the order the arcs were given.
    objective : int
        Total cost, sum of ``unit_cost * flow``.
    status : str
        Always ``"optimal"`` (every other outcome raises).
    """

    flow: np.ndarray
    objective: int
    status: str


def _as_int64(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a 1-D int64 array, or raise DataValidationError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        msg = f"{name} must be 1-D; found shape {arr.shape}. Pass one value per arc/node."
        raise DataValidationError(msg)
    if arr.dtype.kind in "iu" or arr.size == 0:
        return arr.astype(np.int64, copy=False)  # int64 already: no copy (OR-Tools copies)
    if arr.dtype.kind == "b" or arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if finite.all() and np.array_equal(arr, np.round(arr)):
            return arr.astype(np.int64)
    msg = (
        f"{name} must hold whole numbers (int64); found dtype {arr.dtype} with "
        "non-integral, NaN or infinite values. Round or scale the data to integers."
    )
    raise DataValidationError(msg)


def _check_flow_inputs(
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    unit_cost: np.ndarray,
    supply: np.ndarray,
    max_flow: bool,
) -> None:
    n_arcs, n_nodes = tail.size, supply.size
    for name, arr in (("head", head), ("capacity", capacity), ("unit_cost", unit_cost)):
        if arr.size != n_arcs:
            msg = f"{name} has {arr.size} entries but tail has {n_arcs}; give one value per arc."
            raise DataValidationError(msg)
    for name, arr in (("tail", tail), ("head", head)):
        if n_arcs and (arr.min() < 0 or arr.max() >= n_nodes):
            msg = (
                f"{name} must hold node indices in [0, {n_nodes}) (len(supply) nodes); "
                f"found values in [{arr.min()}, {arr.max()}]. Extend supply or fix the ids."
            )
            raise DataValidationError(msg)
    if n_arcs and capacity.min() < 0:
        msg = f"capacity must be >= 0; found {capacity.min()}. Remove or fix that arc."
        raise DataValidationError(msg)
    if not max_flow and supply.sum() != 0:
        msg = (
            f"supply must sum to 0 (sources positive, sinks negative); found "
            f"{supply.sum()}. Balance it, or pass max_flow=True."
        )
        raise DataValidationError(msg)


def solve_min_cost_flow(
    tail: object,
    head: object,
    capacity: object,
    unit_cost: object,
    supply: object,
    *,
    max_flow: bool = False,
) -> MinCostFlowSolution:
    """Solve a min-cost flow problem exactly (OR-Tools ``SimpleMinCostFlow``).

    Parameters
    ----------
    tail, head : array_like of int
        Start and end node of each arc; nodes are ``0 .. len(supply) - 1``.
    capacity : array_like of int
        Arc capacities (>= 0).
    unit_cost : array_like of int
        Cost per unit of flow on each arc (may be negative).
    supply : array_like of int
        Supply at each node (positive: source, negative: sink). Must sum to
        zero unless ``max_flow`` is True.
    max_flow : bool, default False
        If True, send as much of the supply as the capacities allow, at least
        cost among maximum flows (``SolveMaxFlowWithMinCost``); supplies then
        need not be met or balanced.

    Returns
    -------
    MinCostFlowSolution

    Raises
    ------
    DataValidationError
        If the arrays have the wrong shape, are not integral, or are inconsistent.
    InfeasibleError
        If the supplies cannot all be routed (only when ``max_flow`` is False).
    SolverError
        On any other non-optimal status (e.g. costs or capacities too large).
    """
    tail_a, head_a = _as_int64("tail", tail), _as_int64("head", head)
    cap_a, cost_a = _as_int64("capacity", capacity), _as_int64("unit_cost", unit_cost)
    supply_a = _as_int64("supply", supply)
    _check_flow_inputs(tail_a, head_a, cap_a, cost_a, supply_a, max_flow)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail_a, head_a, cap_a, cost_a)
    smcf.set_nodes_supplies(np.arange(supply_a.size, dtype=np.int64), supply_a)
    status = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    if status == smcf.OPTIMAL:
        flow = np.asarray(smcf.flows(arcs), dtype=np.int64) if tail_a.size else tail_a.copy()
        return MinCostFlowSolution(flow=flow, objective=int(smcf.optimal_cost()), status=OPTIMAL)
    raise status_error(status)


def status_error(status: object) -> Exception:
    """The error for an OR-Tools min-cost-flow status other than OPTIMAL, with a hint."""
    name = getattr(status, "name", str(status))
    if name == "INFEASIBLE":
        msg = (
            "min-cost flow is infeasible: the supplies cannot be routed to the sinks "
            "within the arc capacities. Check capacities on the paths from each source, "
            "or use max_flow=True to route as much as possible."
        )
        return InfeasibleError(msg)
    hints = {
        "UNBALANCED": "check that supply sums to zero",
        "BAD_COST_RANGE": "unit costs are too large for exact integer arithmetic; scale them down",
        "BAD_CAPACITY_RANGE": "capacities/supplies are too large; scale them down",
    }
    msg = (
        f"min-cost flow solver returned status {name}: "
        f"{hints.get(name, 'check the network data (arcs, capacities, supplies)')}."
    )
    return SolverError(msg)
