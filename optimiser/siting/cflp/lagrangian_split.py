"""A Lagrangian branch and bound over the facilities for split-demand facility location.

Formulation
-----------
The split-demand model of :mod:`optimiser.siting.cflp.solve` (binary y_i, continuous
x_ij ∈ [0, 1]) with the assignment rows (1) Σ_i x_ij = 1 moved into the objective with
multipliers λ_j (free in sign):

    L(λ) = Σ_j λ_j + min_y Σ_i v_i(λ) y_i   over binary y with Σ_i u_i y_i ≥ D,
    v_i(λ) = f_i − K_i(λ),
    K_i(λ) = max Σ_j (λ_j − c_ij) x_ij  s.t.  Σ_j d_j x_ij ≤ u_i,  0 ≤ x_ij ≤ 1 on allowed pairs,

D = Σ_j d_j. Capacity (2) and the linking rows (3) stay in each facility's subproblem, a
*continuous* knapsack (items: customers, profit λ_j − c_ij, weight d_j, capacity u_i), solved
exactly by taking the items of positive profit in decreasing profit per unit of demand until
the capacity is full (the last one in part), for every facility at once in numpy. The y
problem is the aggregate capacity cut (4) as a covering knapsack on y, solved exactly by
:func:`optimiser.siting.cflp.lagrangian.cover_knapsack` (a DP over capacity) after dividing every
capacity, and the demand, by the capacities' greatest common divisor g (Σ u_i y_i ≥ D holds
exactly when Σ (u_i/g) y_i ≥ ⌈D/g⌉: capa/b/c have g = 8000 and 5000, so the DP has a few
entries). The cover's integrality is what makes the bound strong: on capa@8000 the LP
relaxation of the strong formulation is 2.1% below the optimum, L(λ) 0.25% after 300
subgradient steps (measured in this module's development, benchmarks/results/siting.md).

Why every bound is valid: for any λ and any feasible (y, x) the penalty Σ_j λ_j (1 − Σ_i
x_ij) is zero, so the Lagrangian objective equals the true cost; the inner minimum runs over
a superset of the feasible set (rows 1 dropped, nothing else relaxed), so L(λ) ≤ the optimum.
With facilities fixed open (set O) or closed (set C) the same argument bounds every plan that
opens all of O and none of C: the covering knapsack then runs over the free facilities with
the capacity of O already counted (``SplitNode.bound``).

The search (``solve_split``): subgradient steps t = μ (UB − L) / ||g||², g_j = 1 − Σ_i y_i x_ij,
from λ_j = the second-cheapest c_ij (μ halves after ``STALL`` steps without a better bound);
at each relaxed y a heuristic: the facilities it opens, then the exact best split assignment
to them, a transportation LP (HiGHS through :func:`optimiser._solver.solve_mip`), and at the
root moves that close one open facility while that lowers the cost. Then a depth-first branch
and bound over y: each node is (O, C); its bound is L_(O,C)(λ) after ``NODE_STEPS`` subgradient
steps warm-started from its parent's λ; a free facility i is fixed closed when the bound with
i forced open reaches the incumbent, and fixed open when the bound with i forced closed does
(reduced-cost fixing, exact: the forced bounds are L with the cover solved with y_i = 1 or
y_i = 0); a node whose bound reaches the incumbent is pruned; a node with no free facility is
solved exactly by the transportation LP; otherwise it branches on a free facility (the one the
relaxed y opens with the largest v_i, else the free one of least v_i), the side the relaxed
y takes first.

Tolerance: a node (or a fixing) is cut when L_F ≥ UB − τ, τ = ``GAP`` · max(|UB|, 1) with
``GAP`` = 1e-9, the relative gap the core's MIP engines stop at. Every plan cut off costs at
least UB − τ, so the incumbent returned is within τ of the optimum: relative gap ≤ 1e-9, the
core's stated tolerance (the costs are not whole numbers, so no rounding of bounds is used).
Float rounding in L is kept below that: L is a sum of n + m terms of magnitude at most
Σ_j |λ_j| + Σ_i |v_i| (the scale S), so its error is below (n + m) · 2.2e-16 · S; each
comparison subtracts ``ROUNDING`` · S (1e-11 · S, larger than that error for n + m up to
4.5e4) from L before comparing. The transportation LP at a leaf is solved by HiGHS to its
optimality tolerances (primal and dual 1e-7); the plan returned is re-costed and re-checked by
the caller. When the search completes, every plan it cut off costs at least UB − τ, so the
bound reported is max(UB − τ, the root's L); when it stops at its time limit, the MIP reduced
by the root's fixing goes to HiGHS with the time left (exact as well: every plan the fixing
excludes costs at least the least forced bound used, itself at least UB − τ), and the bound is
max(root L, min(reduced bound, that least forced bound)).

The run is deterministic (fixed step rules, stable sorts, HiGHS with seed 0 and one thread)
unless its time limit is hit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimiser._solver.mip import MipModel, MipSolution, solve_mip
from optimiser._solver.status import FEASIBLE, INFEASIBLE, OPTIMAL
from optimiser.siting.cflp.instance import FacilityInstance
from optimiser.siting.cflp.lagrangian import HEURISTIC_EVERY, restrict_model
from optimiser.siting.cflp.split_bound import (
    GAP,
    ROUNDING,
    SplitData,
    SplitNode,
    SplitRelaxed,
    transportation_lp,
)

__all__ = ["solve_split"]

#: Subgradient steps at the root, and at every other node (warm-started).
ROOT_STEPS = 400
NODE_STEPS = 30
#: The subgradient step factor μ at the start of every node below the root.
NODE_MU = 1.0
#: At the root the heuristic runs at each new best bound of the first steps, then of every
#: ``HEURISTIC_EVERY``-th step.
HEURISTIC_FIRST = 10
#: Below the root, the transportation-LP heuristic runs at every this many nodes.
NODE_HEURISTIC_EVERY = 10
#: Subgradient steps without a better bound before the step size halves.
STALL = 20
#: Share of the time the branch and bound may use before the reduced MIP takes over.
SEARCH_SHARE = 0.8


class _Search:
    """The incumbent, the transportation LPs already solved, and the clock."""

    def __init__(self, data: SplitData, deadline: float) -> None:
        self.data = data
        self.deadline = deadline
        self.ub = math.inf
        self.best: tuple[np.ndarray, np.ndarray] | None = None  # open, x (m, n)
        self.cache: dict[bytes, float] = {}
        self.nodes = 0

    def tol(self) -> float:
        return GAP * max(abs(self.ub), 1.0)

    def cut(self, bound: float, scale: float) -> bool:
        """True when a bound (less its rounding margin) reaches the incumbent."""
        return bool(bound - ROUNDING * scale >= self.ub - self.tol())

    def cut_all(self, bounds: np.ndarray, scale: float) -> np.ndarray:
        """:meth:`cut` of every bound in an array."""
        return bounds - ROUNDING * scale >= self.ub - self.tol()

    def transport(self, open_: np.ndarray) -> float:
        """Fixed cost of ``open_`` plus its best split assignment (inf if none); keeps the best."""
        key = open_.tobytes()
        if key in self.cache:
            return self.cache[key]
        data = self.data
        cost = math.inf
        if data.u[open_].sum() >= data.d.sum() and np.isfinite(data.c[open_]).any(axis=0).all():
            cost = self._transport_lp(open_)
        self.cache[key] = cost
        return cost

    def _transport_lp(self, open_: np.ndarray) -> float:
        data = self.data
        idx = np.flatnonzero(open_)
        sub = data.c[idx]
        pi, pj = np.nonzero(np.isfinite(sub))
        n, k = data.d.size, idx.size
        matrix = sp.csc_matrix(
            (
                np.r_[np.ones(pi.size), data.d[pj]],
                (np.r_[pj, n + pi], np.tile(np.arange(pi.size), 2)),
            ),
            shape=(n + k, pi.size),
        )
        left = max(self.deadline - time.perf_counter(), 1.0)
        values = transportation_lp(sub[pi, pj], matrix, n, data.u[idx], left)
        if values is None:
            return math.inf
        x = np.zeros(data.c.shape)
        x[idx[pi], pj] = np.clip(values, 0.0, 1.0)
        cost = float(data.f[open_].sum() + (sub[pi, pj] * values).sum())
        if cost < self.ub:
            self.ub, self.best = cost, (open_.copy(), x)
        return cost


# ------------------------------------------------------------------ the search


def _ascend(
    search: _Search, node: SplitNode, lam: np.ndarray, steps: int, mu: float, *, every: bool
) -> tuple[SplitRelaxed, np.ndarray]:
    """Subgradient steps on L_(O,C) from ``lam``: the best relaxed solution and its λ.

    The transportation-LP heuristic runs on the relaxed y at every new best bound.
    """
    data = search.data
    best: SplitRelaxed | None = None
    best_lam, stall = lam, 0
    for step in range(steps):
        rel = node.bound(data, lam)
        if not math.isfinite(rel.bound):
            return rel, lam  # the capacity left cannot cover the demand: no plan here
        if best is None or rel.bound > best.bound:
            best, best_lam, stall = rel, lam.copy(), 0
            if every and (step < HEURISTIC_FIRST or step % HEURISTIC_EVERY == 0):
                search.transport(rel.y)
        else:
            stall += 1
            if stall >= STALL:
                mu, stall = mu / 2, 0
        if search.cut(best.bound, best.scale) or time.perf_counter() > search.deadline:
            break
        g = 1.0 - (rel.x * rel.y[:, None]).sum(axis=0)
        norm = float(g @ g)
        if norm < 1e-12 or mu < 1e-6:
            break  # the relaxed plan is feasible (so optimal here), or the steps vanished
        target = search.ub if math.isfinite(search.ub) else rel.bound + 0.01 * abs(rel.bound)
        lam = lam + mu * max(target - rel.bound, 1e-9 * abs(rel.bound)) / norm * g
    assert best is not None
    search.nodes += 1
    late = search.nodes % NODE_HEURISTIC_EVERY == 0
    if not every and late and not search.cut(best.bound, best.scale):
        search.transport(best.y)
    return best, best_lam


def _close_moves(search: _Search) -> None:
    """Close one open facility of the incumbent at a time while that lowers its cost."""
    while search.best is not None:
        open_ = search.best[0].copy()
        before = search.ub
        for i in np.flatnonzero(open_):
            trial = open_.copy()
            trial[i] = False
            search.transport(trial)
        if search.ub >= before or time.perf_counter() > search.deadline:
            return


def _fix(
    search: _Search, node: SplitNode, lam: np.ndarray, rel: SplitRelaxed
) -> tuple[SplitNode, float] | None:
    """The node with every free facility the forced bounds decide fixed (None: node cut).

    Returns the node and the least forced bound used (inf when none), less its margin.
    """
    free = np.flatnonzero(node.free())
    if free.size == 0:
        return node, math.inf
    if_open, if_closed = node.forced(search.data, lam, rel)
    shut = search.cut_all(if_open, rel.scale)
    opened = search.cut_all(if_closed, rel.scale)
    margin = ROUNDING * rel.scale
    used = np.r_[if_open[shut], if_closed[opened]] - margin
    floor = float(used.min()) if used.size else math.inf
    if (shut & opened).any():
        return None  # both ways at least the incumbent: nothing better here
    new_open, new_closed = node.opened.copy(), node.closed.copy()
    new_open[free[opened]] = True
    new_closed[free[shut]] = True
    return SplitNode(new_open, new_closed), floor


def _branch(node: SplitNode, rel: SplitRelaxed) -> list[SplitNode]:
    """The two children, the one to explore first last (a stack)."""
    free = node.free()
    on = free & rel.y
    if on.any():
        i = int(np.flatnonzero(on)[np.argmax(rel.v[on])])
        first_open = True
    else:
        i = int(np.flatnonzero(free)[np.argmin(rel.v[free])])
        first_open = False
    with_open, with_closed = node.opened.copy(), node.closed.copy()
    with_open[i] = True
    with_closed[i] = True
    a, b = SplitNode(with_open, node.closed), SplitNode(node.opened, with_closed)
    return [b, a] if first_open else [a, b]


@dataclass
class _Outcome:
    """What the branch and bound proved: complete or not, the root's bound and fixing."""

    complete: bool
    root_bound: float
    root: SplitNode
    root_floor: float


def _search(search: _Search, lam: np.ndarray) -> _Outcome:
    """Depth-first branch and bound over the facilities (module docstring)."""
    m = search.data.f.size
    root = SplitNode(np.zeros(m, bool), np.zeros(m, bool))
    rel, lam = _ascend(search, root, lam, ROOT_STEPS, 1.0, every=True)
    root_bound = rel.bound - ROUNDING * rel.scale
    _close_moves(search)
    fixed = _fix(search, root, lam, rel) if math.isfinite(rel.bound) else None
    if fixed is None or search.cut(rel.bound, rel.scale):
        return _Outcome(True, root_bound, root, math.inf)
    root, root_floor = fixed
    stack: list[tuple[SplitNode, np.ndarray]] = [(root, lam)]
    while stack:
        if time.perf_counter() > search.deadline:
            return _Outcome(False, root_bound, root, root_floor)
        node, lam = stack.pop()
        rel, lam = _ascend(search, node, lam, NODE_STEPS, NODE_MU, every=False)
        while True:
            if not math.isfinite(rel.bound) or search.cut(rel.bound, rel.scale):
                break
            fixed = _fix(search, node, lam, rel)
            if fixed is None:
                break
            if np.array_equal(fixed[0].opened, node.opened) and np.array_equal(
                fixed[0].closed, node.closed
            ):
                if node.free().any():
                    stack += [(child, lam) for child in _branch(node, rel)]
                else:
                    search.transport(node.opened)  # a leaf: its exact optimum
                break
            node = fixed[0]
            rel = node.bound(search.data, lam)
    return _Outcome(True, root_bound, root, root_floor)


def solve_split(model: MipModel, inst: FacilityInstance, time_limit_s: float) -> MipSolution:
    """Solve a split-demand instance exactly by the search of the module docstring.

    Parameters
    ----------
    model : MipModel
        Its facility-location model (:func:`optimiser.siting.cflp.model.build_facility_model`,
        split demand), for the values returned and the fallback.
    inst : FacilityInstance
        An instance accepted by :func:`split_accepts`.
    time_limit_s : float
        Wall-clock cap [s]; the search may use ``SEARCH_SHARE`` of it, then the model with
        the root's facilities fixed goes to HiGHS with the time left.

    Returns
    -------
    MipSolution
        Values of ``model``'s variables (y, then x over the allowed pairs); status
        ``"optimal"`` when the search (or the reduced MIP) completed, its bound the least
        bound of anything cut off. Engine ``"lagrangian"``, or ``"lagrangian+highs"``
        when the reduced MIP ran.
    """
    start = time.perf_counter()
    data = SplitData.of(inst)
    search = _Search(data, start + SEARCH_SHARE * time_limit_s)
    ranked = np.sort(data.c, axis=0)
    lam = ranked[min(1, ranked.shape[0] - 1)]
    lam = np.where(np.isfinite(lam), lam, np.where(np.isfinite(ranked[0]), ranked[0], 0.0))
    out = _search(search, lam)
    if out.complete and search.best is not None:
        values = _values(inst, *search.best)
        bound = min(search.ub, max(out.root_bound, search.ub - search.tol()))
        return MipSolution(values, search.ub, bound, OPTIMAL, _since(start), "lagrangian")
    reduced = restrict_model(model, inst, None, out.root.opened, out.root.closed, False)
    left = max(time_limit_s - _since(start), 0.05)
    res = solve_mip(reduced, engine="highs", time_limit_s=left)
    floor = min(out.root_floor, search.ub - search.tol())
    # the reduced model's own bound (-inf when it proved nothing; inf when it has no plan)
    reduced_bound = math.inf if res.status == INFEASIBLE else res.bound
    bound = max(out.root_bound, min(reduced_bound, floor))
    if res.values is not None and (search.best is None or res.objective < search.ub):
        return MipSolution(
            res.values,
            res.objective,
            min(bound, res.objective),
            res.status,
            _since(start),
            "lagrangian+highs",
        )
    if search.best is None:
        return MipSolution(None, math.nan, bound, res.status, _since(start), "lagrangian+highs")
    status = OPTIMAL if res.status in (OPTIMAL, INFEASIBLE) else FEASIBLE
    values = _values(inst, *search.best)
    return MipSolution(
        values, search.ub, min(bound, search.ub), status, _since(start), "lagrangian+highs"
    )


def _values(inst: FacilityInstance, open_: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The model's variable values (y, then x over the allowed pairs) of a plan."""
    return np.concatenate([open_.astype(float), x[inst.pair_i, inst.pair_j]])


def _since(start: float) -> float:
    return time.perf_counter() - start
