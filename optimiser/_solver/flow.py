"""Min-cost flow with OR-Tools ``SimpleMinCostFlow`` (exact, integer data).

:func:`solve_min_cost_flow` solves one network as given.
:func:`solve_max_flow_min_cost_bonus` solves a max-flow-min-cost network whose costs carry
one large bonus −W on some arcs (the allocation's mainstream duty) exactly, but first with
a moderate bonus W' < W, which OR-Tools' cost scaling solves in fewer phases; the argument
that this is exact, when it falls back to W itself, and when it pays, is in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow as ortools_max_flow
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
    if status == smcf.INFEASIBLE:
        msg = (
            "min-cost flow is infeasible: the supplies cannot be routed to the sinks "
            "within the arc capacities. Check capacities on the paths from each source, "
            "or use max_flow=True to route as much as possible."
        )
        raise InfeasibleError(msg)
    hints = {
        "UNBALANCED": "check that supply sums to zero",
        "BAD_COST_RANGE": "unit costs are too large for exact integer arithmetic; scale them down",
        "BAD_CAPACITY_RANGE": "capacities/supplies are too large; scale them down",
    }
    name = getattr(status, "name", str(status))
    msg = (
        f"min-cost flow solver returned status {name}: "
        f"{hints.get(name, 'check the network data (arcs, capacities, supplies)')}."
    )
    raise SolverError(msg)


# ------------------------------------------------------- max flow with a dominating bonus


@dataclass(frozen=True)
class BonusFlowSolution:
    """Result of :func:`solve_max_flow_min_cost_bonus`.

    Attributes
    ----------
    flow : numpy.ndarray
        Flow on each arc, int64, in the order the arcs were given: an optimum of
        ``SolveMaxFlowWithMinCost`` with the full costs ``unit_cost``.
    objective : int
        Σ unit_cost · flow with the full costs (the bonus at its full W).
    status : str
        Always ``"optimal"`` (every other outcome raises).
    bonus_flow : int
        Flow on the bonus arcs, D_f.
    bound : int
        U, the most flow any flow of the network can carry on the bonus arcs.
    bonuses_tried : tuple of int
        The bonuses solved with, in order: (W',) when the moderate bonus was proven
        exact, (W', W) when it fell back to the full bonus, (W,) when W' ≥ W.
    """

    flow: np.ndarray
    objective: int
    status: str
    bonus_flow: int
    bound: int
    bonuses_tried: tuple[int, ...]


def max_flow_value(tail: object, head: object, capacity: object, supply: object) -> int:
    """Largest total flow from the supply nodes to the demand nodes (OR-Tools ``SimpleMaxFlow``).

    Supplies bound what each node sends (positive) or takes (negative); the value
    is the most flow the capacities let through, supplies need not balance.

    Parameters
    ----------
    tail, head, capacity : array_like of int
        The arcs, as for :func:`solve_min_cost_flow`.
    supply : array_like of int
        Supply at each node (positive: source, negative: sink).

    Returns
    -------
    int
        The maximum flow value.
    """
    tail_a, head_a = _as_int64("tail", tail), _as_int64("head", head)
    cap_a, supply_a = _as_int64("capacity", capacity), _as_int64("supply", supply)
    _check_flow_inputs(tail_a, head_a, cap_a, np.zeros_like(cap_a), supply_a, True)
    n = supply_a.size
    src, dst = np.flatnonzero(supply_a > 0), np.flatnonzero(supply_a < 0)
    mf = ortools_max_flow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(
        np.r_[tail_a, np.full(src.size, n), dst],
        np.r_[head_a, src, np.full(dst.size, n + 1)],
        np.r_[cap_a, supply_a[src], -supply_a[dst]],
    )
    status = mf.solve(n, n + 1)
    if status != mf.OPTIMAL:
        name = getattr(status, "name", str(status))
        msg = f"max flow solver returned status {name}: check capacities and supplies."
        raise SolverError(msg)
    return int(mf.optimal_flow())


def solve_max_flow_min_cost_bonus(
    tail: object,
    head: object,
    capacity: object,
    unit_cost: object,
    supply: object,
    *,
    bonus_arcs: np.ndarray,
    bonus: int,
    rival_arcs: np.ndarray,
    moderate_bonus: int,
) -> BonusFlowSolution:
    """``solve_min_cost_flow(..., max_flow=True)`` of a network with a large bonus, W' first.

    The costs ``unit_cost`` carry a bonus −W (``bonus``) on the arcs ``bonus_arcs``.
    Cost scaling needs about log(n · max|cost|) phases, so a huge W (the allocation's
    mainstream duty, ~8e9 nationally) makes the solve slower than the same network with
    a moderate bonus W' (``moderate_bonus``): on the national network 25 s against 11 s
    at load ~1. This function solves with W' first and proves the answer optimal for W,
    or solves again with W.

    Hypothesis (the caller's to guarantee): (H) the network is acyclic, every path from a
    supply node to a demand node crosses at most one arc of ``bonus_arcs`` ∪
    ``rival_arcs``, and no arc is both. The allocation network
    (:mod:`optimiser.allocation.network`) meets it with the duty arcs as bonus arcs and
    the other choice arcs as rivals: its arcs run child → pair → setting → group → sink,
    and only choice arcs leave a child.

    Method. Let c be the full costs, d the bonus indicator, D_g = Σ_a d_a g_a the bonus
    flow of a flow g, and δ = W − W' > 0. (1) Solve max-flow-min-cost with the moderate
    costs c' = c + δ·d (the bonus W' instead of W), giving a flow f. (2) U = the maximum
    flow of the network without the rival arcs (:func:`max_flow_value`). (3) If D_f = U,
    return f; otherwise solve with c and return that.

    Proof that the f returned in (3) is optimal for c. Both problems choose among the
    same set F of maximum flows (the capacities are the same), f minimising c' over F;
    let g be an optimum for c, i.e. g minimises c over F (what a direct solve returns).
    *U bounds every flow's bonus flow*: decompose any flow h of the acyclic network into
    supply-to-demand paths; by (H) a path through a bonus arc uses no rival arc, so
    those paths form a flow of the network without the rival arcs, of value D_h; hence
    D_h ≤ U. *More bonus never loses duties*: c'(f) ≤ c'(g) and c(g) ≤ c(f) add up to
    δ·D_f ≤ δ·D_g, so D_g ≥ D_f = U ≥ D_g: D_g = U. *f costs no more than g*:
    c(f) + δ·U = c'(f) ≤ c'(g) = c(g) + δ·U, so c(f) ≤ c(g) and f is an optimum for c
    as well, whatever W' was. When D_f < U nothing is claimed and (3) solves with c
    itself, so the result is always an exact optimum with the full costs. Among tied
    optima f may differ from the flow a direct solve with c returns; its cost never does.
    No dominance of W is assumed here.

    When it pays. The certificate D_f = U needs D* = U: the most bonus flow of any flow
    must be reached by a *maximum* flow. On the allocation benchmark areas it is not
    (U > D*: la 236 > 214, 20k 482 > 459, national 3,863 > 3,713; maximising placements
    first sends some children who could have a mainstream place elsewhere), so there the
    certificate fails and this costs a W' solve more than a direct solve; ``allocate``
    therefore solves directly. The exact D* (max flow with cost −1 on the bonus arcs)
    would be a sharp certificate, but it costs about as much as the W' solve (nationally
    13.4 s CPU, W' 11.9 s, full W 26.2 s, one process: ``benchmarks/duty_weight_flows.py``;
    figures in ``benchmarks/results/allocation.md``), so W' + D* saves next to nothing.

    Parameters
    ----------
    tail, head, capacity, unit_cost, supply : array_like of int
        The network, as for :func:`solve_min_cost_flow` with ``max_flow=True``;
        ``unit_cost`` holds the full costs (bonus arcs at their cost − W).
    bonus_arcs, rival_arcs : numpy.ndarray of bool, one per arc
        The arcs carrying the bonus, and the arcs in competition with them (H).
    bonus : int
        W, the bonus in ``unit_cost`` [cost units]: ``unit_cost + W`` is a bonus arc's
        cost without it.
    moderate_bonus : int
        W' > 0, the bonus of the first solve [cost units]; W' ≥ W solves with W at once.

    Returns
    -------
    BonusFlowSolution

    Raises
    ------
    DataValidationError
        If the arrays have the wrong shape or are not integral, or the masks do not fit.
    SolverError
        On any non-optimal status.
    """
    cost = _as_int64("unit_cost", unit_cost)
    is_bonus = np.asarray(bonus_arcs, bool)
    is_rival = np.asarray(rival_arcs, bool)
    for name, mask in (("bonus_arcs", is_bonus), ("rival_arcs", is_rival)):
        if mask.shape != cost.shape:
            msg = f"{name} has shape {mask.shape} but there are {cost.size} arcs; one per arc."
            raise DataValidationError(msg)
    if (is_bonus & is_rival).any():
        msg = "an arc is both a bonus arc and a rival arc; the rivals are the other choices."
        raise DataValidationError(msg)
    keep = ~is_rival
    tail_a, head_a = _as_int64("tail", tail), _as_int64("head", head)
    cap_a = _as_int64("capacity", capacity)
    bound = max_flow_value(tail_a[keep], head_a[keep], cap_a[keep], supply)
    tried: list[int] = []
    delta = int(bonus) - int(moderate_bonus)
    if delta > 0:
        tried.append(int(moderate_bonus))
        moderate = cost + np.where(is_bonus, delta, 0)
        flow = solve_min_cost_flow(tail_a, head_a, cap_a, moderate, supply, max_flow=True).flow
        del moderate
        if int(flow[is_bonus].sum()) == bound:
            return _bonus_solution(flow, cost, is_bonus, bound, tried)
    tried.append(int(bonus))
    flow = solve_min_cost_flow(tail_a, head_a, cap_a, cost, supply, max_flow=True).flow
    return _bonus_solution(flow, cost, is_bonus, bound, tried)


def _bonus_solution(
    flow: np.ndarray, cost: np.ndarray, is_bonus: np.ndarray, bound: int, tried: list[int]
) -> BonusFlowSolution:
    return BonusFlowSolution(
        flow=flow,
        objective=int(np.dot(cost, flow)),
        status=OPTIMAL,
        bonus_flow=int(flow[is_bonus].sum()),
        bound=bound,
        bonuses_tried=tuple(tried),
    )
