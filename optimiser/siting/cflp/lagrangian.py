"""A Lagrangian bound, heuristic and reduced-cost fixing for single-source facility location.

Formulation
-----------
The single-source model of :mod:`optimiser.siting.cflp.solve` (binary y_i, x_ij) with the
assignment rows (1) Σ_i x_ij = 1 moved into the objective with multipliers λ_j (free in
sign, the rows being equalities):

    L(λ) = Σ_j λ_j + min_y Σ_i v_i(λ) y_i   over y in Y,
    v_i(λ) = f_i − K_i(λ),
    K_i(λ) = max Σ_j (λ_j − c_ij) x_ij  s.t.  Σ_j d_j x_ij ≤ u_i,  x_ij ∈ {0, 1} on allowed pairs,

where Y is what remains of the rows on y alone: exactly k open (the p-median's cardinality
row 6 written as an equality, see :mod:`optimiser.siting.cflp.model`), at most k, or the
aggregate capacity cut (4) Σ_i u_i y_i ≥ Σ_j d_j when there is no k. Capacity (2) and the
linking rows (3) stay in the facility's subproblem: once y_i = 1 the best x of facility i is a
0-1 knapsack (items: customers, profit λ_j − c_ij, weight d_j, capacity u_i), and y_i = 0
forces x_i· = 0 (value 0).

Why the bound is valid: for any λ and any feasible (y, x) of the full model the penalty term
Σ_j λ_j (1 − Σ_i x_ij) is zero, so the Lagrangian objective equals the true cost; the inner
minimum is taken over a superset of the feasible set (rows 1 dropped, nothing else relaxed
except, with k given, the aggregate cut), so L(λ) ≤ the optimum for every λ. Each knapsack is
solved exactly by dynamic programming over whole-number capacities (all facilities at once in
numpy, one pass per customer), and Y's minimum exactly (k smallest v_i; or a covering-
knapsack DP over the capacity still needed after every facility with v_i < 0 opens), so the
computed L(λ) is a true lower bound up to float rounding (the fixing rule keeps a margin).
The multipliers start from the duals of the assignment rows of the LP relaxation (any λ gives
a valid bound, so the sign convention is checked by taking the better of ±dual) and are
improved by subgradient steps t = μ (T − L) / ||g||², g_j = 1 − Σ_i y_i x_ij, with the target
T = min(UB, best bound + 1%) and μ halved after ``STALL`` steps without a better bound:
deterministic, with an iteration cap (300) and a time cap (the caller's share of the limit).

Heuristic (upper bound): the facilities the relaxed y opens, each customer kept at the
cheapest open facility whose knapsack took it, the rest placed by regret (largest difference
between its two cheapest feasible open facilities first), then shift and swap moves while
they lower the cost; unused facilities close when opening costs something.

Reduced-cost fixing (safe): with UB the cost of the incumbent and L_F(λ) the Lagrangian bound
with a restriction F added to the inner problem (a lower bound on every solution satisfying
F, by the argument above), F can be excluded when L_F(λ) ≥ UB: no solution satisfying F is
better than the incumbent, which is kept. With whole-number costs every objective is whole,
so L_F(λ) > UB − 1 (plus a margin of 1e-6 for rounding) suffices. Three restrictions:
facility i open (then fix it closed), facility i closed (then fix it open), and pair (i, j)
assigned (then remove x_ij), whose bound uses the exact knapsack with customer j forced into
facility i: (λ_j − c_ij) + max_w F_j[w] + B_j[u_i − d_j − w], F and B the DP tables over the
customers before and after j. The reduced model (the full model's bounds tightened) goes to a
MIP engine; its proven optimum, or the incumbent if better, is the optimum of the full model,
and max(L, min(bound of the reduced model, UB)) is a lower bound on it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import highspy._core
import numpy as np
import scipy.sparse as sp

from optimiser._solver.mip import MipModel
from optimiser.siting.cflp.instance import FacilityInstance

__all__ = [
    "LagrangianResult",
    "YRows",
    "add_lagrangian_cuts",
    "cover_knapsack",
    "forced_values",
    "hint_of",
    "improve_assignment",
    "lagrangian_accepts",
    "lagrangian_fixing",
    "lagrangian_value",
    "lp_duals",
    "place_customers",
    "restrict_model",
    "values_of",
]

#: Largest knapsack capacity (in demand units) the DP tables are built for.
MAX_CAPACITY = 20_000
#: Largest DP table (facilities x capacity x customers, entries) built for the fixing step.
MAX_TABLE = 20_000_000
#: Margin kept against float rounding in every comparison of a bound with the incumbent.
ROUNDING = 1e-6
#: Relative gap within which a bound meets the incumbent when costs are not whole numbers
#: (the MIP engines' own tolerance).
GAP = 1e-9
#: Subgradient steps without a better bound before the step size halves.
STALL = 20
#: The subgradient's target: the incumbent, or the bound raised by this share if lower.
TARGET_GAP = 0.01
#: The heuristic runs on a new relaxed y at a new best bound, else every this many steps.
HEURISTIC_EVERY = 5


@dataclass(frozen=True)
class LagrangianResult:
    """What the Lagrangian step proved and found.

    Attributes
    ----------
    bound : float
        Best Lagrangian lower bound on the optimum (-inf when none was computed).
    assign : numpy.ndarray or None
        The incumbent: facility of each customer, shape (n,), int (None when none found).
    cost : float
        The incumbent's cost (inf when none).
    multipliers : numpy.ndarray
        The λ of the best bound, shape (n,).
    iterations : int
        Subgradient iterations run.
    whole : bool
        Every cost is a whole number (so is every plan's objective).
    pair_bound : numpy.ndarray or None
        Shape (m, n): the Lagrangian bound with customer j forced to facility i (inf for a
        forbidden pair); None when the fixing step was skipped (too large, or closed).
    open_bound, closed_bound : numpy.ndarray or None
        Shape (m,): the bound with facility i forced open, and forced closed.
    """

    bound: float
    assign: np.ndarray | None
    cost: float
    multipliers: np.ndarray
    iterations: int
    whole: bool
    pair_bound: np.ndarray | None
    open_bound: np.ndarray | None
    closed_bound: np.ndarray | None

    def tolerance(self, ub: float) -> float:
        """How far below ``ub`` a bound may be and still meet it (module docstring)."""
        return 1.0 - ROUNDING if self.whole else GAP * max(abs(ub), 1.0)

    @property
    def closed(self) -> bool:
        """True when the bound meets the incumbent: the incumbent is proven optimal."""
        return self.assign is not None and self.cost - self.bound <= self.tolerance(self.cost)

    def fixing(self, ub: float, m: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(pairs kept or None for all, facilities fixed open, fixed closed) against ``ub``.

        ``m`` is the number of facilities.

        A restriction goes when its bound exceeds ``ub − tolerance``: no plan satisfying
        it is better than a plan of cost ``ub``, which the caller holds.
        """
        if self.pair_bound is None or self.open_bound is None or self.closed_bound is None:
            return None, np.zeros(m, bool), np.zeros(m, bool)
        limit = ub - self.tolerance(ub)
        shut = self.open_bound > limit
        open_fixed = (self.closed_bound > limit) & ~shut
        keep = (self.pair_bound <= limit) & ~shut[:, None]
        return keep, open_fixed, shut


def lagrangian_accepts(
    inst: FacilityInstance,
    *,
    single_source: bool,
    budget: float | None,
    groups: tuple[np.ndarray, ...] | None,
) -> bool:
    """True when the Lagrangian step handles the instance exactly.

    It needs single sourcing, whole-number demands and capacities (the knapsack DP), every
    family a single facility, and no budget or groups row (those would couple the facilities'
    subproblems: the instances with them go straight to the MIP engine).
    """
    m = inst.fixed_cost.size
    d, u = inst.demand, inst.capacity
    return bool(
        single_source
        and budget is None
        and not groups
        and np.array_equal(inst.family, np.arange(m))
        and np.array_equal(d, np.round(d))
        and np.array_equal(u, np.round(u))
        and u.max(initial=0.0) <= MAX_CAPACITY
        and inst.pair_i.size > 0
    )


# --------------------------------------------------------------------- knapsacks


def _knapsacks(
    profit: np.ndarray, weight: np.ndarray, cap: np.ndarray, want_take: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact 0-1 knapsack of every facility at once.

    ``profit`` (m, n) (-inf: forbidden), ``weight`` (n,) whole, ``cap`` (m,) whole. Returns
    the best values (m,) and, if ``want_take``, the chosen items (m, n) bool.
    """
    m, n = profit.shape
    big = int(cap.max())
    dp = np.zeros((m, big + 1))
    takes: list[np.ndarray | None] = []
    for j in range(n):
        p = profit[:, j]
        w = int(weight[j])
        if not (p > 0).any() or w > big:
            takes.append(None)
            continue
        if w == 0:
            t = np.broadcast_to((p > 0)[:, None], dp.shape)
            dp = dp + np.maximum(p, 0.0)[:, None]
        else:
            # only the facilities where j is worth taking can change (p <= 0 never beats
            # leaving j out), so the DP steps on those rows alone: the same values, and far
            # fewer than m rows once the multipliers are near the costs
            rows = np.flatnonzero(p > 0)
            sub = dp[rows]
            cand = sub[:, : big + 1 - w] + p[rows, None]
            better = cand > sub[:, w:]
            sub[:, w:] = np.where(better, cand, sub[:, w:])
            dp[rows] = sub
            t = None
            if want_take:
                t = np.zeros(dp.shape, bool)
                t[rows, w:] = better
        takes.append(t if want_take else None)
    rows = np.arange(m)
    c = cap.astype(np.int64)
    value = dp[rows, c]
    if not want_take:
        return value, None
    chosen = np.zeros((m, n), bool)
    for j in range(n - 1, -1, -1):
        took = takes[j]
        if took is None:
            continue
        hit = took[rows, c]
        chosen[:, j] = hit
        c = c - hit * int(weight[j])
    return value, chosen


def _forced_knapsacks(profit: np.ndarray, weight: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """K_ij: best knapsack value of facility i with customer j forced in (-inf if it cannot fit).

    Exact: profit_ij + max over w of F_j[w] + B_j[r − w], r = u_i − d_j, with F_j the DP over
    customers 0..j-1 and B_j over j+1..n-1 (both "weight at most w", so nondecreasing in w).
    """
    m, n = profit.shape
    big = int(cap.max())
    pos = np.where(profit > 0, profit, -np.inf)

    def layers(order: range) -> list[np.ndarray]:
        dp = np.zeros((m, big + 1))
        out = []
        for j in order:
            out.append(dp)
            p, w = pos[:, j], int(weight[j])
            if w > big or not np.isfinite(p).any():
                continue
            new = dp.copy()
            if w == 0:
                new += np.maximum(profit[:, j], 0.0)[:, None]
            else:
                new[:, w:] = np.maximum(dp[:, w:], dp[:, : big + 1 - w] + p[:, None])
            dp = new
        return out

    before = layers(range(n))
    after = layers(range(n - 1, -1, -1))[::-1]
    cap_i = cap.astype(np.int64)
    w_axis = np.arange(big + 1)
    rows = np.arange(m)[:, None]
    forced = np.full((m, n), -np.inf)
    for j in range(n):
        r = cap_i - int(weight[j])  # capacity left for the others, per facility
        ok = r >= 0
        if not ok.any():
            continue
        idx = r[:, None] - w_axis[None, :]
        valid = idx >= 0
        comb = before[j] + np.where(valid, after[j][rows, np.clip(idx, 0, big)], -np.inf)
        best = comb.max(axis=1)
        forced[:, j] = np.where(ok & np.isfinite(profit[:, j]), profit[:, j] + best, -np.inf)
    return forced


# ------------------------------------------------------------ the y subproblem


@dataclass(frozen=True)
class YRows:
    """The rows on y alone kept in the inner problem."""

    k: int | None
    exact: bool
    capacity: np.ndarray
    total_demand: int


def cover_knapsack(
    v: np.ndarray, u: np.ndarray, need: int, want: bool
) -> tuple[float, np.ndarray | None]:
    """min Σ v_i y_i s.t. Σ u_i y_i ≥ need (y binary), exactly; (value, y or None)."""
    y = v < 0
    base = float(v[y].sum())
    rest = need - int(u[y].sum())
    if rest <= 0:
        return base, (y if want else None)
    items = np.flatnonzero(~y)
    g = np.full(rest + 1, np.inf)
    g[0] = 0.0
    picks = []
    for i in items:
        w = int(u[i])
        shifted = np.concatenate([np.full(min(w, rest + 1), g[0]), g[: max(rest + 1 - w, 0)]])
        cand = shifted + v[i]
        t = cand < g
        g = np.where(t, cand, g)
        picks.append(t)
    if not np.isfinite(g[rest]):
        return math.inf, None
    if want:
        y = y.copy()
        r = rest
        for pos in range(items.size - 1, -1, -1):
            if r > 0 and picks[pos][r]:
                y[items[pos]] = True
                r = max(r - int(u[items[pos]]), 0)
    return base + float(g[rest]), (y if want else None)


def _choose(v: np.ndarray, rows: YRows) -> tuple[float, np.ndarray]:
    """The inner minimum over y, and a y attaining it."""
    if rows.k is not None:
        y = np.zeros(v.size, bool)
        order = np.argsort(v, kind="stable")[: rows.k]
        if not rows.exact:
            order = order[v[order] < 0]
        y[order] = True
        return float(v[y].sum()), y
    value, cover = cover_knapsack(v, rows.capacity, rows.total_demand, want=True)
    if cover is None:  # total capacity below demand: excluded before solving
        return math.inf, np.ones(v.size, bool)
    return value, cover


def forced_values(v: np.ndarray, rows: YRows) -> tuple[np.ndarray, np.ndarray]:
    """(min over y with y_i = 1) − v_i, and min over y with y_i = 0, for every i."""
    m = v.size
    if rows.k is not None:
        k = rows.k
        w = v if rows.exact else np.minimum(v, 0.0)
        order = np.argsort(w, kind="stable")
        rank = np.empty(m, np.int64)
        rank[order] = np.arange(m)
        srt = w[order]
        top = float(srt[:k].sum())
        kth = srt[k - 1] if k >= 1 else math.inf
        nxt = srt[k] if k < m else (math.inf if rows.exact else 0.0)
        inside = rank < k
        others = np.where(inside, top - w, top - kth) if k >= 1 else np.full(m, math.inf)
        closed = np.where(inside, top - w + nxt, top)
        return others, closed
    others, closed = np.empty(m), np.empty(m)
    for i in range(m):
        mask = np.arange(m) != i
        others[i] = cover_knapsack(
            v[mask], rows.capacity[mask], rows.total_demand - int(rows.capacity[i]), False
        )[0]
        closed[i] = cover_knapsack(v[mask], rows.capacity[mask], rows.total_demand, False)[0]
    return others, closed


# ------------------------------------------------------------------ heuristic


def place_customers(
    cost: np.ndarray, demand: np.ndarray, cap: np.ndarray, open_: np.ndarray, start: np.ndarray
) -> np.ndarray | None:
    """A single-source assignment to the open facilities, or None.

    ``start`` (facility or -1 per customer) is kept; the rest go, largest regret first (the
    difference between their two cheapest open facilities) and then largest demand, each to
    its cheapest open facility with room.
    """
    assign = start.copy()
    left = cap - np.bincount(assign[assign >= 0], weights=demand[assign >= 0], minlength=cap.size)
    idx = np.flatnonzero(open_)
    todo = np.flatnonzero(assign < 0)
    if todo.size == 0:
        return assign
    sub = np.sort(cost[np.ix_(idx, todo)], axis=0)
    regret = np.full(todo.size, np.inf)
    if idx.size > 1:
        both = np.isfinite(sub[1])  # one finite option only: the largest regret
        regret[both] = sub[1, both] - sub[0, both]
    for j in todo[np.lexsort((-demand[todo], -regret))]:
        fits = idx[(left[idx] >= demand[j]) & np.isfinite(cost[idx, j])]
        if fits.size == 0:
            return None
        i = int(fits[np.argmin(cost[fits, j])])
        assign[j] = i
        left[i] -= demand[j]
    return assign


def improve_assignment(
    cost: np.ndarray, demand: np.ndarray, cap: np.ndarray, open_: np.ndarray, assign: np.ndarray
) -> np.ndarray:
    """Shift and swap moves while they lower the assignment cost (first improvement)."""
    n = assign.size
    left = cap - np.bincount(assign, weights=demand, minlength=cap.size)
    idx = np.flatnonzero(open_)
    cur = cost[assign, np.arange(n)]
    for _ in range(50):
        moved = False
        for j in range(n):  # shifts
            i = assign[j]
            ok = idx[(left[idx] >= demand[j]) & (cost[idx, j] < cur[j] - 1e-9)]
            if ok.size:
                t = int(ok[np.argmin(cost[ok, j])])
                left[i] += demand[j]
                left[t] -= demand[j]
                assign[j], cur[j] = t, cost[t, j]
                moved = True
        for j in range(n):  # swaps: j to a's facility, a to j's
            i = assign[j]
            other = assign
            gain = cur[j] + cur - cost[other, j] - cost[i, :]
            fit = (left[other] + demand >= demand[j]) & (left[i] + demand[j] >= demand)
            cand = np.flatnonzero((gain > 1e-9) & fit & (other != i))
            if cand.size:
                a = int(cand[np.argmax(gain[cand])])
                t = assign[a]
                left[i] += demand[j] - demand[a]
                left[t] += demand[a] - demand[j]
                assign[j], assign[a] = t, i
                cur[j], cur[a] = cost[t, j], cost[i, a]
                moved = True
        if not moved:
            break
    return assign


def _heuristic(
    inst: FacilityInstance,
    cost: np.ndarray,
    open_: np.ndarray,
    chosen: np.ndarray,
    v: np.ndarray,
    k: int | None,
    exact: bool,
) -> tuple[float, np.ndarray] | None:
    """Repair the relaxed solution into a plan: (cost, facility of each customer) or None.

    When the open facilities cannot hold every customer, the closed one of least reduced
    value v_i opens (while k allows) and the placement is tried again.
    """
    n = cost.shape[1]
    d, u, f = inst.demand, inst.capacity, inst.fixed_cost
    open_ = open_.copy()
    while True:
        took = chosen & open_[:, None]
        masked = np.where(took, cost, np.inf)
        start = np.where(took.any(axis=0), np.argmin(masked, axis=0), -1)
        assign = place_customers(cost, d, u, open_, start)
        if assign is None:
            assign = place_customers(cost, d, u, open_, np.full(n, -1))
        if assign is not None:
            break
        shut = np.flatnonzero(~open_)
        if shut.size == 0 or (k is not None and open_.sum() >= k):
            return None
        open_[shut[np.argmin(v[shut])]] = True
    assign = improve_assignment(cost, d, u, open_, assign)
    used = np.zeros(open_.size, bool)
    used[assign] = True
    if exact:
        used = open_  # the cardinality row is an equality: keep k open (at no cost)
    total = float(f[used].sum() + cost[assign, np.arange(n)].sum())
    return total, assign


# --------------------------------------------------------------------- LP start


def lp_duals(model: MipModel, n: int, time_limit_s: float) -> np.ndarray | None:
    """Duals of the assignment rows (the first n) in the LP relaxation, or None."""
    inf = highspy.kHighsInf
    h = highspy._core._Highs()
    for name, value in (
        ("output_flag", False),
        ("time_limit", float(max(time_limit_s, 0.05))),
        ("random_seed", 0),
        ("threads", 1),
    ):
        h.setOptionValue(name, value)
    lp = highspy.HighsLp()
    csc = sp.csc_matrix(model.matrix, dtype=np.float64)
    csc.sum_duplicates()
    lp.num_col_, lp.num_row_ = model.objective.size, csc.shape[0]
    lp.col_cost_ = np.asarray(model.objective, float)
    lp.col_lower_ = np.asarray(model.var_lower, float)
    lp.col_upper_ = np.asarray(model.var_upper, float)
    lp.row_lower_ = np.clip(np.asarray(model.row_lower, float), -inf, inf)
    lp.row_upper_ = np.clip(np.asarray(model.row_upper, float), -inf, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    h.passModel(lp)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return np.asarray(h.getSolution().row_dual, float)[:n]


# ------------------------------------------------------------------- the step


def _setup(inst: FacilityInstance, k: int | None, exact_k: bool) -> tuple[np.ndarray, YRows]:
    """Costs with forbidden pairs at inf, and the rows on y kept in the inner problem."""
    allowed = np.zeros(inst.assign_cost.shape, bool)
    allowed[inst.pair_i, inst.pair_j] = True
    cost = np.where(allowed, inst.assign_cost, np.inf)
    return cost, YRows(k, exact_k, inst.capacity, int(inst.demand.sum()))


def _evaluate(
    lam: np.ndarray,
    cost: np.ndarray,
    f: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    rows: YRows,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """L(λ), the facilities' reduced values v, the inner y, and every knapsack's items."""
    value, chosen = _knapsacks(lam[None, :] - cost, d, u, True)
    v = f - value
    inner, y = _choose(v, rows)
    assert chosen is not None
    return float(lam.sum()) + inner, v, y, chosen


def lagrangian_value(
    inst: FacilityInstance, multipliers: np.ndarray, *, k: int | None, exact_k: bool
) -> float:
    """L(λ) of the module docstring: a lower bound on the optimum for any λ.

    Parameters
    ----------
    inst : FacilityInstance
        A single-source instance accepted by :func:`lagrangian_accepts`.
    multipliers : numpy.ndarray
        λ, one per customer, shape (n,) (any real values) [cost units].
    k : int, optional
        Cap on the number of open facilities.
    exact_k : bool
        The cardinality row is an equality.

    Returns
    -------
    float
        The bound (inf when the inner problem has no solution).
    """
    cost, rows = _setup(inst, k, exact_k)
    lam = np.asarray(multipliers, float)
    return _evaluate(lam, cost, inst.fixed_cost, inst.capacity, inst.demand, rows)[0]


def lagrangian_fixing(
    inst: FacilityInstance,
    model: MipModel,
    *,
    k: int | None,
    exact_k: bool,
    time_limit_s: float,
    max_iterations: int = 300,
) -> LagrangianResult:
    """Lagrangian bound, heuristic incumbent and reduced-cost fixing (module docstring).

    Parameters
    ----------
    inst : FacilityInstance
        A single-source instance accepted by :func:`lagrangian_accepts`.
    model : MipModel
        Its facility-location model (for the LP start).
    k : int, optional
        Cap on the number of open facilities.
    exact_k : bool
        The cardinality row is an equality (see the model's row 6).
    time_limit_s : float
        Wall-clock cap of the step [s] (the subgradient stops at it; the fixing runs once).
    max_iterations : int, default 300
        Cap on subgradient iterations.

    Returns
    -------
    LagrangianResult
    """
    start = time.perf_counter()
    m, n = inst.fixed_cost.size, inst.demand.size
    f, u, d = inst.fixed_cost, inst.capacity, inst.demand
    cost, rows = _setup(inst, k, exact_k)
    allowed = np.isfinite(cost)
    whole = bool(
        np.array_equal(f, np.round(f)) and np.array_equal(cost[allowed], np.round(cost[allowed]))
    )

    def gap(ub: float) -> float:
        return 1.0 - ROUNDING if whole else GAP * max(abs(ub), 1.0)

    def evaluate(lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        return _evaluate(lam, cost, f, u, d, rows)

    lam = np.min(cost, axis=0)
    lam = np.where(np.isfinite(lam), lam, 0.0)
    candidates = [lam]
    duals = lp_duals(model, n, 0.3 * time_limit_s)
    if duals is not None:
        candidates += [duals, -duals]
    best_l, best_lam = -math.inf, lam
    ub, incumbent = math.inf, None
    tried: set[bytes] = set()
    for cand in candidates:
        lval, v, y, chosen = evaluate(cand)
        if lval > best_l:
            best_l, best_lam = lval, cand.copy()
    lam = best_lam.copy()
    mu, stall, it = 1.0, 0, 0
    while it < max_iterations and time.perf_counter() - start < time_limit_s:
        it += 1
        lval, v, y, chosen = evaluate(lam)
        if lval > best_l + 1e-9:
            best_l, best_lam, stall = lval, lam.copy(), 0
        else:
            stall += 1
            if stall >= STALL:
                mu, stall = mu / 2, 0
        key = y.tobytes()
        if key not in tried and (stall == 0 or it % HEURISTIC_EVERY == 0):
            tried.add(key)
            found = _heuristic(inst, cost, y, chosen, v, k, exact_k)
            if found is not None and found[0] < ub:
                ub, incumbent = found
        if ub - best_l <= gap(ub) or mu < 1e-4:
            break
        g = 1.0 - (chosen & y[:, None]).sum(axis=0)
        norm = float(g @ g)
        if norm == 0:
            break  # the relaxed solution is feasible: it is optimal for L and for the model
        target = min(ub, best_l + TARGET_GAP * max(abs(best_l), 1.0))
        lam = lam + mu * (target - lval) / norm * g
    bounds: tuple[np.ndarray | None, ...] = (None, None, None)
    size = m * n * (u.max(initial=0.0) + 1) * 2
    if incumbent is not None and ub - best_l > gap(ub) and size <= MAX_TABLE:
        bounds = _restricted_bounds(best_lam, cost, f, u, d, rows)
    return LagrangianResult(best_l, incumbent, ub, best_lam, it, whole, *bounds)


def _restricted_bounds(
    lam: np.ndarray,
    cost: np.ndarray,
    f: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    rows: YRows,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L(λ) with pair (i, j) forced, with facility i forced open, and forced closed."""
    profit = lam[None, :] - cost
    value, _ = _knapsacks(profit, d, u, want_take=False)
    v = f - value
    others, closed = forced_values(v, rows)
    base = float(lam.sum())
    forced = _forced_knapsacks(profit, d, u)
    pair_bound = np.where(np.isfinite(cost), base + others[:, None] + f[:, None] - forced, np.inf)
    return pair_bound, base + v + others, base + closed


# ------------------------------------------------------------- the reduced MIP


def restrict_model(
    model: MipModel,
    inst: FacilityInstance,
    keep: np.ndarray | None,
    open_fixed: np.ndarray,
    shut: np.ndarray,
    exact_k: bool,
) -> MipModel:
    """The model with removed pairs and fixed facilities as variable bounds.

    ``keep`` (m, n) bool, None for every pair. A facility left with no pair is closed too
    unless the cardinality row is an equality (then it may have to open, unused, at no cost).
    """
    m = inst.fixed_cost.size
    upper = np.asarray(model.var_upper, float).copy()
    lower = np.asarray(model.var_lower, float).copy()
    if keep is not None:
        upper[m:] = np.where(keep[inst.pair_i, inst.pair_j], upper[m:], 0.0)
        shut = shut | (~keep.any(axis=1) & (not exact_k))
    upper[:m] = np.where(shut, 0.0, upper[:m])
    lower[:m] = np.where(open_fixed & ~shut, 1.0, lower[:m])
    return MipModel(
        model.objective,
        model.matrix,
        model.row_lower,
        model.row_upper,
        lower,
        upper,
        model.is_integer,
    )


def add_lagrangian_cuts(
    model: MipModel, inst: FacilityInstance, multipliers: np.ndarray, integral: bool
) -> MipModel:
    """The model with one Lagrangian knapsack cut per facility appended.

    Σ_j (λ_j − c_ij) x_ij ≤ K_i(λ) y_i is valid for every feasible plan and any λ (an open
    facility's customers are a feasible knapsack of value at most K_i; a closed one has
    none), and with them the LP bound is at least L(λ) when the cardinality row is an
    equality (the module docstring). ``integral``: λ rounded to whole numbers, so that
    with whole costs every coefficient is whole (for CP-SAT) and K_i exact; otherwise
    K_i is relaxed by 1e-7 (1 + |K_i|) against float rounding.
    """
    m, npair = inst.fixed_cost.size, inst.pair_i.size
    lam = np.round(multipliers) if integral else np.asarray(multipliers, float)
    cost, _ = _setup(inst, None, False)
    value, _ = _knapsacks(lam[None, :] - cost, inst.demand, inst.capacity, False)
    if not integral:
        value = value + 1e-7 * (1.0 + np.abs(value))
    coef = lam[inst.pair_j] - inst.assign_cost[inst.pair_i, inst.pair_j]
    rows = np.concatenate([inst.pair_i, np.arange(m)])
    cols = np.concatenate([m + np.arange(npair), np.arange(m)])
    cuts = sp.csr_matrix(
        (np.concatenate([coef, -value]), (rows, cols)), shape=(m, model.objective.size)
    )
    cuts.eliminate_zeros()
    return MipModel(
        model.objective,
        sp.vstack([model.matrix, cuts]).tocsr(),
        np.concatenate([model.row_lower, np.full(m, -np.inf)]),
        np.concatenate([model.row_upper, np.zeros(m)]),
        model.var_lower,
        model.var_upper,
        model.is_integer,
    )


def values_of(inst: FacilityInstance, assign: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """The model's variable values (y, then x over the allowed (family, customer) pairs)."""
    x = (inst.family[assign][inst.pair_j] == inst.pair_i).astype(float)
    return np.concatenate([open_.astype(float), x])


def hint_of(
    inst: FacilityInstance, assign: np.ndarray, reduced: MipModel, k: int | None, exact_k: bool
) -> np.ndarray | None:
    """A plan as values of the reduced model, or None if the reduction cut it off."""
    m, n = inst.fixed_cost.size, inst.demand.size
    open_ = np.zeros(m, bool)
    open_[assign] = True
    open_ |= reduced.var_lower[:m] > 0.5
    if exact_k and k is not None:
        free = np.flatnonzero(~open_ & (reduced.var_upper[:m] > 0.5))
        open_[free[: max(k - int(open_.sum()), 0)]] = True
    values = values_of(inst, assign, open_)
    if (values > reduced.var_upper).any() or (k is not None and open_.sum() > k):
        return None
    del n
    return values
