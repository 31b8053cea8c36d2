"""A Lagrangian branch and bound for single-source siting under a capital budget.

Why: on LA-scale siting (options of several sizes per site, capital varying by site, a
capital budget; ``benchmarks/bench_site.generate_la``) the LP bound of the MIP is 0.6% below
the optimum, because the LP spends the budget to the last pound where whole bases of 8-20
places cannot; HiGHS then finds the optimum in seconds and needs minutes to prove it
(618 s for seed 1, benchmarks/results/siting.md). The bound here keeps the budget whole.

Formulation
-----------
The single-source model of :mod:`optimiser.siting.cflp.solve` with a budget (row 5), groups
(row 7) and families, each option (facility) i with fixed cost f_i, capacity u_i and a budget
weight w_i. The assignment rows (1) go into the objective with multipliers λ_j:

    L(λ) = Σ_j λ_j + min over y in Y of Σ_i v_i(λ) y_i,   v_i(λ) = f_i − K_i(λ),

K_i(λ) the exact 0-1 knapsack of option i (items: customers, profit λ_j − c_ij, weight d_j,
capacity u_i; :func:`optimiser.siting.cflp.lagrangian._knapsacks`), and Y every y that keeps
the budget row and the at-most-one rows of the groups and families, y whole. Y is a product
of *components* (the connected parts of the graph whose edges join options that exclude each
other: a site's packages and sizes), each with its list of allowed subsets (every set of
options of the component no two of which exclude each other, the empty set included), under
one budget: min over Y is a dynamic programme over the components in whole budget units
(each weight over the common step of the weights, at most ``MAX_UNITS`` units; without a
common step within that, w_i = ⌊f_i / s⌋ with s = budget / ``MAX_UNITS`` and the budget
⌊budget / s⌋, a relaxation of the budget row: a plan within the budget keeps it). For any λ,
L(λ) is a lower bound on the optimum (the penalty term is zero on every plan, and nothing
else is relaxed), and it is exact in y, which the LP is not.

Search: subgradient steps t = μ (UB − L) / ||g||², g_j = 1 − Σ_i y_i x_ij, from the better of
the LP's assignment duals ±λ and the cheapest cost per customer; at the root a repair
heuristic at new best bounds (the relaxed y's options, each customer at the cheapest open
option whose knapsack took it, the rest by regret, then shift and swap moves; options left
unused close), and the MIP restricted to the relaxed y's options (HiGHS, at most
``RESTRICTED_S``; again every ``RESTRICTED_EVERY`` nodes). When the root's bound is still more
than ``POLISH_GAP`` below the incumbent, HiGHS on the model with the root's fixing, capped at
``POLISH_NODES`` of its nodes, polishes the incumbent (and settles the search if it proves
that model). Then a best-first branch and bound over the options: a node fixes some options
open and some closed; its bound is L with the DP restricted to the subsets that agree,
after ``NODE_STEPS`` steps warm-started from its parent's λ. With prefix and suffix DP
tables the bound with option i forced open, and forced closed, is exact for every free i
at once; an option whose forced bound reaches the incumbent is fixed the other way
(reduced-cost fixing), and the branch is on the free option whose weaker forced bound is
the largest (its children start from those bounds). A node with every option fixed is
solved exactly (its assignment, a MIP, to HiGHS).

Tolerance: as :mod:`optimiser.siting.cflp.lagrangian_split` (costs are not whole numbers): a
node or fixing is cut when L_F − ``ROUNDING`` · S ≥ UB − ``GAP`` · max(|UB|, 1), S = Σ|λ| +
Σ|v|; every plan cut off costs at least UB − τ, so the plan returned is within a relative
1e-9 of the optimum. When the search stops at its share of the time, the MIP with the
root's fixing goes to HiGHS with the incumbent as a hint and the time left; the bound is
the larger of the open nodes' least bound and the reduced MIP's (exact as in the split
module).

The run is deterministic (fixed step rules, stable sorts, HiGHS with seed 0 and one thread)
unless its time limit is hit.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from optimiser._solver.mip import MipModel, MipSolution, solve_mip
from optimiser._solver.status import FEASIBLE, INFEASIBLE, OPTIMAL
from optimiser.siting.cflp.budget_bound import (
    BudgetData,
    Node,
    Relaxed,
    budget_data,
    budget_units,
    forced_bounds,
    knapsack_values,
)
from optimiser.siting.cflp.instance import FacilityInstance
from optimiser.siting.cflp.lagrangian import (
    improve_assignment,
    lp_duals,
    place_customers,
    restrict_model,
    values_of,
)
from optimiser.siting.cflp.model import assignment_from_values
from optimiser.siting.cflp.split_bound import GAP, ROUNDING

__all__ = ["BudgetData", "budget_data", "budget_units", "solve_budget"]

#: Subgradient steps at the root, and at every other node (warm-started from the parent).
ROOT_STEPS = 300
NODE_STEPS = 15
#: Subgradient steps without a better bound before the step size halves.
STALL = 10
#: At the root the repair heuristic runs at each new best bound of the first steps, then of
#: every ``HEURISTIC_EVERY``-th step.
HEURISTIC_FIRST = 10
HEURISTIC_EVERY = 10
#: Time cap of one restricted MIP run as a heuristic [s] (the options of a relaxed y).
RESTRICTED_S = 2.0
#: Below the root, the restricted MIP runs on the relaxed y of every this many nodes.
RESTRICTED_EVERY = 25
#: HiGHS on the model with the root's fixing, for a better incumbent: its node cap, and its
#: share of the time.
POLISH_NODES = 60
POLISH_SHARE = 0.2
#: ... run only when the root's bound is further than this below the incumbent (relative).
POLISH_GAP = 1e-3
#: Share of the time the branch and bound may use before the reduced MIP takes over.
SEARCH_SHARE = 0.8

# ------------------------------------------------------------------ the search


class _Search:
    """The data, the model, the incumbent and the clock."""

    def __init__(
        self, data: BudgetData, inst: FacilityInstance, model: MipModel, deadline: float
    ) -> None:
        self.data, self.inst, self.model, self.deadline = data, inst, model, deadline
        self.ub = math.inf
        self.best: tuple[np.ndarray, np.ndarray] | None = None  # open (m,), assign (n,)
        self.tried: set[bytes] = set()
        self.nodes = 0
        self.polish_s = math.inf  # the polish's time cap [s] (solve_budget sets it)

    def tol(self) -> float:
        return GAP * max(abs(self.ub), 1.0)

    def cut(self, bound: float, scale: float) -> bool:
        """True when a bound (less its rounding margin) reaches the incumbent."""
        return bool(bound - ROUNDING * scale >= self.ub - self.tol())

    def offer(self, open_: np.ndarray, assign: np.ndarray) -> None:
        """Keep a plan (options open, option of each customer) if it is the best so far."""
        data = self.data
        used = np.zeros(data.f.size, bool)
        used[assign] = True
        if data.f[used].sum() > data.budget or not (used <= open_).all():
            return
        cost = float(data.f[used].sum() + data.c[assign, np.arange(assign.size)].sum())
        if cost < self.ub:
            self.ub, self.best = cost, (used, assign.copy())

    def adopt(self, res: MipSolution) -> None:
        """Offer a MIP answer's plan (its open options and each customer's option)."""
        if res.values is not None:
            assign = assignment_from_values(self.inst, res.values, True).argmax(axis=0)
            self.offer(res.values[: self.data.f.size] > 0.5, assign)

    def heuristic(self, y: np.ndarray, take: np.ndarray) -> None:
        """A plan on the options of ``y`` (module docstring), once per y."""
        key = y.tobytes()
        if key in self.tried:
            return
        self.tried.add(key)
        data, n = self.data, self.data.d.size
        y = y | data.loose
        took = take & y[:, None]
        start = np.where(took.any(axis=0), np.argmin(np.where(took, data.c, np.inf), axis=0), -1)
        assign = place_customers(data.c, data.d, data.u, y, start)
        if assign is None:
            assign = place_customers(data.c, data.d, data.u, y, np.full(n, -1))
        if assign is not None:
            self.offer(y, improve_assignment(data.c, data.d, data.u, y, assign))

    def polish(self, node: Node, time_limit_s: float) -> bool:
        """HiGHS on the model with the node's fixings, briefly, for a better incumbent.

        Capped at ``POLISH_NODES`` of its branch-and-bound nodes (so it ends the same way on
        any machine) and ``time_limit_s``. True when it proved the node's optimum: then the
        incumbent is optimal for the node.
        """
        reduced = restrict_model(self.model, self.inst, None, node.opened, node.closed, False)
        hint = values_of(self.inst, self.best[1], self.best[0]) if self.best is not None else None
        left = max(min(self.deadline - time.perf_counter(), time_limit_s), 0.05)
        res = solve_mip(
            reduced, engine="highspy", time_limit_s=left, hint=hint, work_limit=POLISH_NODES
        )
        self.adopt(res)
        return res.status in (OPTIMAL, INFEASIBLE)

    def restricted(self, allowed: np.ndarray) -> None:
        """A plan using only the ``allowed`` options (and loose ones): HiGHS, briefly.

        A heuristic within ``RESTRICTED_S`` seconds, whatever it finds.
        """
        m = self.data.f.size
        allowed = allowed | self.data.loose
        reduced = restrict_model(self.model, self.inst, None, np.zeros(m, bool), ~allowed, False)
        left = max(self.deadline - time.perf_counter(), 0.05)
        self.adopt(solve_mip(reduced, engine="highspy", time_limit_s=min(left, RESTRICTED_S)))

    def leaf(self, node: Node) -> None:
        """A node with every option fixed, exactly: its assignment (a MIP) to HiGHS.

        Raises TimeoutError when HiGHS does not settle it before the deadline.
        """
        reduced = restrict_model(self.model, self.inst, None, node.opened, node.closed, False)
        left = max(self.deadline - time.perf_counter(), 0.05)
        res = solve_mip(reduced, engine="highspy", time_limit_s=left)
        self.adopt(res)
        if res.status not in (OPTIMAL, INFEASIBLE):
            raise TimeoutError  # the node is not settled: the search cannot complete


def _ascend(search: _Search, node: Node, lam: np.ndarray, steps: int) -> tuple[Relaxed, np.ndarray]:
    """Subgradient steps on the node's L from ``lam``: the best relaxed solution and its λ."""
    data = search.data
    best: Relaxed | None = None
    best_lam, mu, stall = lam, 1.0, 0
    for step in range(steps):
        rel = node.bound(data, lam, *knapsack_values(data, lam))
        if not math.isfinite(rel.bound):
            return rel, lam  # no subset of the node keeps the budget
        if best is None or rel.bound > best.bound:
            best, best_lam, stall = rel, lam.copy(), 0
            if search.nodes == 0 and (step < HEURISTIC_FIRST or step % HEURISTIC_EVERY == 0):
                search.heuristic(rel.y, rel.x)
        else:
            stall += 1
            if stall >= STALL:
                mu, stall = mu / 2, 0
        if search.cut(best.bound, best.scale) or time.perf_counter() > search.deadline:
            break
        g = 1.0 - (rel.x & rel.y[:, None]).sum(axis=0)
        norm = float(g @ g)
        if norm == 0 and data.exact:
            # the relaxed plan serves every customer once within capacity and budget: a
            # plan of cost L, so optimal at the node
            search.offer(rel.y, np.argmax(rel.x & rel.y[:, None], axis=0))
            break
        if norm == 0 or mu < 1e-6:
            break
        target = search.ub if math.isfinite(search.ub) else rel.bound + 0.01 * abs(rel.bound)
        lam = lam + mu * max(target - rel.bound, 1e-9 * abs(rel.bound)) / norm * g
    assert best is not None
    search.nodes += 1
    key = b"r" + best.y.tobytes()
    due = search.nodes == 1 or search.nodes % RESTRICTED_EVERY == 0
    if due and key not in search.tried and not search.cut(best.bound, best.scale):
        search.tried.add(key)
        search.restricted(best.y)
    return best, best_lam


@dataclass
class _Outcome:
    """What the search proved: complete or not, its bound, and the root's fixing."""

    complete: bool
    bound: float
    root: Node


def _search(search: _Search, lam: np.ndarray) -> _Outcome:
    """Best-first branch and bound over the options (module docstring)."""
    m = search.data.f.size
    root = Node(np.zeros(m, bool), np.zeros(m, bool))
    heap: list[tuple[float, int, Node, np.ndarray, int]] = [(-math.inf, 0, root, lam, ROOT_STEPS)]
    count = itertools.count(1)
    floor = -math.inf
    try:
        while heap:
            if time.perf_counter() > search.deadline:
                return _Outcome(False, min(heap[0][0], search.ub - search.tol()), root)
            floor, _, node, lam, steps = heapq.heappop(heap)
            if floor >= search.ub - search.tol():
                continue
            rel, lam = _ascend(search, node, lam, steps)
            settled = _settle(search, node, lam, rel)
            if node is root and settled:
                root = settled[0][1]  # the fixing at the root, for the fallback
                gap = (search.ub - rel.bound) / max(abs(search.ub), 1.0)
                if gap > POLISH_GAP and search.polish(root, search.polish_s):
                    return _Outcome(True, search.ub - search.tol(), root)
            for bound, child in settled[1:]:
                heapq.heappush(heap, (bound, next(count), child, lam, NODE_STEPS))
    except TimeoutError:
        bound = min([h[0] for h in heap] + [floor, search.ub - search.tol()])
        return _Outcome(False, bound, root)
    return _Outcome(True, search.ub - search.tol(), root)


def _settle(search: _Search, node: Node, lam: np.ndarray, rel: Relaxed) -> list[tuple[float, Node]]:
    """Fix what the forced bounds decide, then solve a leaf or branch.

    Returns [(bound, the node after fixing), *children (bound, node)]; empty when the node
    is cut (or settled as a leaf).
    """
    data = search.data
    while True:
        if not math.isfinite(rel.bound) or search.cut(rel.bound, rel.scale):
            return []
        free = node.free()
        if not free.any():
            search.leaf(node)
            return []
        if_open, if_closed = forced_bounds(data, lam, rel)
        margin = ROUNDING * rel.scale
        limit = search.ub - search.tol()
        shut = free & (if_open - margin >= limit)
        opened = free & (if_closed - margin >= limit)
        if (shut & opened).any():
            return []  # both ways at least the incumbent: nothing better here
        if shut.any() or opened.any():
            node = Node(node.opened | opened, node.closed | shut)
            rel = node.bound(data, lam, *knapsack_values(data, lam))
            continue
        weaker = np.where(free, np.minimum(if_open, if_closed), -np.inf)
        i = int(np.argmax(weaker))
        with_open, with_closed = node.opened.copy(), node.closed.copy()
        with_open[i], with_closed[i] = True, True
        return [
            (rel.bound - margin, node),
            (max(rel.bound, float(if_open[i])) - margin, Node(with_open, node.closed)),
            (max(rel.bound, float(if_closed[i])) - margin, Node(node.opened, with_closed)),
        ]


def _start(search: _Search, n: int, time_limit_s: float) -> np.ndarray:
    """The first λ: the best of the cheapest cost per customer and ± the LP's duals."""
    data = search.data
    root = Node(np.zeros(data.f.size, bool), np.zeros(data.f.size, bool))
    cheapest = np.min(data.c, axis=0)
    candidates = [np.where(np.isfinite(cheapest), cheapest, 0.0)]
    duals = lp_duals(search.model, n, time_limit_s)
    if duals is not None:
        candidates += [duals, -duals]
    values = [root.bound(data, lam, *knapsack_values(data, lam)).bound for lam in candidates]
    return candidates[int(np.argmax(values))]


def solve_budget(
    model: MipModel, inst: FacilityInstance, data: BudgetData, time_limit_s: float
) -> MipSolution:
    """Solve a single-source instance with a budget exactly by the search of the module docstring.

    Parameters
    ----------
    model : MipModel
        Its facility-location model (single source, the budget row), for the values
        returned, the LP start, the leaves and the fallback.
    inst : FacilityInstance
        The instance.
    data : BudgetData
        :func:`budget_data` of the instance (not None).
    time_limit_s : float
        Wall-clock cap [s]; the search may use ``SEARCH_SHARE`` of it, then the model with
        the root's fixing goes to HiGHS with the time left.

    Returns
    -------
    MipSolution
        Values of ``model``'s variables; status ``"optimal"`` when the search (or the
        reduced MIP) completed. Engine ``"lagrangian"``, or ``"lagrangian+highs"`` when
        the reduced MIP ran.
    """
    start = time.perf_counter()
    search = _Search(data, inst, model, start + SEARCH_SHARE * time_limit_s)
    search.polish_s = POLISH_SHARE * time_limit_s
    lam = _start(search, inst.demand.size, 0.1 * time_limit_s)
    out = _search(search, lam)
    if out.complete:
        if search.best is None:
            return MipSolution(None, math.nan, math.inf, INFEASIBLE, _since(start), "lagrangian")
        values = values_of(inst, search.best[1], search.best[0])
        # every cost is >= 0, so 0 bounds every plan too
        bound = min(search.ub, max(out.bound, search.ub - search.tol(), 0.0))
        return MipSolution(values, search.ub, bound, OPTIMAL, _since(start), "lagrangian")
    reduced = restrict_model(model, inst, None, out.root.opened, out.root.closed, False)
    hint = values_of(inst, search.best[1], search.best[0]) if search.best is not None else None
    left = max(time_limit_s - _since(start), 0.05)
    res = solve_mip(reduced, engine="highspy", time_limit_s=left, hint=hint)
    reduced_bound = math.inf if res.status == INFEASIBLE else res.bound
    # the root's fixing cut off only plans costing at least UB − τ
    bound = max(out.bound, min(reduced_bound, search.ub - search.tol()))
    status = OPTIMAL if res.status in (OPTIMAL, INFEASIBLE) else FEASIBLE
    if res.values is not None and (search.best is None or res.objective < search.ub):
        return MipSolution(
            res.values,
            res.objective,
            min(bound, res.objective),
            status,
            _since(start),
            "lagrangian+highs",
        )
    if search.best is None:
        return MipSolution(None, math.nan, bound, res.status, _since(start), "lagrangian+highs")
    values = values_of(inst, search.best[1], search.best[0])
    return MipSolution(
        values, search.ub, min(bound, search.ub), status, _since(start), "lagrangian+highs"
    )


def _since(start: float) -> float:
    return time.perf_counter() - start
