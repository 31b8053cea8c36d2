"""The duty-weight experiment of issue 18: a moderate bonus W', proven exact or refused.

This variant, with the cheap certificate U, is not used by ``optimiser.allocate`` (measured
not to pay: benchmarks/results/allocation.md, "allocate overhead and the duty weight");
kept here, with its proof and tests (``benchmarks/test_duty_weight.py``), for
``benchmarks/duty_weight_flows.py``. What ``allocate`` does on national-size networks is
the next attempt this experiment pointed to: the W' solve and the sharp certificate D*
side by side on two cores (``optimiser/_solver/bonus_flow.py``,
``benchmarks/allocation_workers.py``).

:func:`solve_max_flow_min_cost_bonus` solves a max-flow-min-cost network whose costs carry
one large bonus −W on some arcs (the allocation's mainstream duty) exactly, but first with
a moderate bonus W' < W, which OR-Tools' cost scaling solves in fewer phases; the argument
that this is exact, and when it falls back to W itself, is in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow as ortools_max_flow

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver.flow import _as_int64, _check_flow_inputs, solve_min_cost_flow
from optimiser._solver.status import OPTIMAL
from optimiser.allocation.arcs import build_arcs, child_frame
from optimiser.allocation.network import FlowNetwork, build_flow_network
from optimiser.dataset.model import Dataset

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


def duty_network(ds: Dataset) -> tuple[FlowNetwork, np.ndarray, np.ndarray, int]:
    """The allocation network of ``ds`` as ``allocate`` builds it, with its duty arcs.

    Returns the network, the duty arcs (choice arcs with a mainstream-duty term), their
    rivals (the other choice arcs) as masks over all arcs, and W (0 when no arc has a duty).
    """
    kids = child_frame(ds)
    arcs = build_arcs(ds, kids)
    net = build_flow_network(ds, arcs, kids)
    term = arcs["duty_term_gbp"].to_numpy(float)[~arcs["fixed"].to_numpy(bool)]
    n = len(net.tail)
    duty, rival = np.zeros(n, bool), np.zeros(n, bool)
    duty[: net.n_choice], rival[: net.n_choice] = term < 0, term >= 0
    return net, duty, rival, round(float(-term.min())) if duty.any() else 0
