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
the LP's assignment duals ±λ and the cheapest cost per customer; a heuristic at each new
best bound (the relaxed y's options, each customer at the cheapest open option whose
knapsack took it, the rest by regret, then shift and swap moves; options left unused
close). Then a best-first branch and bound over the options: a node fixes some options
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
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optimiser._solver.mip import MipModel, MipSolution, solve_mip
from optimiser._solver.status import FEASIBLE, INFEASIBLE, OPTIMAL
from optimiser.siting.cflp.instance import FacilityInstance
from optimiser.siting.cflp.lagrangian import (
    MAX_CAPACITY,
    _improve,
    _lp_duals,
    _place,
    restrict_model,
)
from optimiser.siting.cflp.lagrangian_split import GAP, ROUNDING
from optimiser.siting.cflp.model import assignment_from_values

__all__ = ["BudgetData", "budget_data", "budget_units", "solve_budget"]

#: Budget units of the DP at most (the weights' common step, else budget / this).
MAX_UNITS = 4_000
#: Largest denominator tried when looking for the weights' common step.
MAX_DENOMINATOR = 1_000
#: Allowed subsets of one component at most (more: the instance goes to the MIP engine).
MAX_SUBSETS = 512
#: Subgradient steps at the root, and at every other node (warm-started from the parent).
ROOT_STEPS = 300
NODE_STEPS = 15
#: Subgradient steps without a better bound before the step size halves.
STALL = 10
#: At the root the repair heuristic runs at each new best bound of the first steps, then of
#: every ``HEURISTIC_EVERY``-th step.
HEURISTIC_FIRST = 10
HEURISTIC_EVERY = 10
#: A node with at most this many free options goes to HiGHS whole (0: only leaves).
SUBTREE_FREE = 0
#: Time cap of one restricted MIP run as a heuristic [s] (the options of a relaxed y).
RESTRICTED_S = 2.0
#: Below the root, the restricted MIP runs on the relaxed y of every this many nodes.
RESTRICTED_EVERY = 10
#: HiGHS on the model with the root's fixing, for a better incumbent: its node cap, and its
#: share of the time.
POLISH_NODES = 200
POLISH_SHARE = 0.2
#: Share of the time the branch and bound may use before the reduced MIP takes over.
SEARCH_SHARE = 0.8


@dataclass(frozen=True)
class _Shift:
    """One component's distinct subset weights W, for the DP's min-plus steps.

    ``starts``: where each weight's subsets start (within the component); ``take`` (D, B + 1):
    entry b − W_d of the table before (clipped at 0) and ``over`` 0 where b ≥ W_d, inf
    elsewhere; ``rest``/``rest_over``: the same for U − W_d − b (the units the other
    components may use, by b the units of the earlier ones).
    """

    starts: np.ndarray
    counts: np.ndarray
    take: np.ndarray
    over: np.ndarray
    rest: np.ndarray
    rest_over: np.ndarray


def _shifts(sub_w: np.ndarray, bounds: np.ndarray, units: int) -> list[_Shift]:
    """The :class:`_Shift` of every component (its subsets sorted by weight)."""
    axis = np.arange(units + 1)
    out = []
    for k in range(bounds.size - 1):
        w = sub_w[bounds[k] : bounds[k + 1]]
        distinct, starts, counts = np.unique(w, return_index=True, return_counts=True)
        src = axis[None, :] - distinct[:, None]
        other = (units - distinct)[:, None] - axis[None, :]
        out.append(
            _Shift(
                starts,
                counts,
                np.maximum(src, 0),
                np.where(src >= 0, 0.0, np.inf),
                np.maximum(other, 0),
                np.where(other >= 0, 0.0, np.inf),
            )
        )
    return out


@dataclass(frozen=True)
class BudgetData:
    """An instance as the search reads it (see :func:`budget_data`)."""

    f: np.ndarray  # fixed cost (m,)
    u: np.ndarray  # capacity (m,), whole
    d: np.ndarray  # demand (n,), whole
    c: np.ndarray  # cost (m, n), inf where forbidden
    w: np.ndarray  # budget weight (m,) [units]
    units: int  # the budget [units]
    exact: bool  # the weights are exact multiples: the DP's y keeps the budget
    budget: float
    member: np.ndarray  # (S, m) bool: the options of each allowed subset
    member_sum: sp.csr_matrix  # the same, sparse, for sums over each subset's options
    comp: np.ndarray  # (S,) component of each subset, nondecreasing
    bounds: np.ndarray  # (C + 1,): component k's subsets are bounds[k]:bounds[k + 1]
    option_comp: np.ndarray  # (m,) component of each option
    sub_w: np.ndarray  # (S,) budget weight of each subset [units], nondecreasing per component
    shifts: list[_Shift]  # per component, for the DP steps (see _shifts)
    roomy: np.ndarray  # (m,) bool: the capacity holds every customer it may serve
    loose: np.ndarray  # (m,) bool: free to open and excluding nothing (e.g. the status quo)
    tight: np.ndarray  # the other options' indices
    first: np.ndarray  # each tight family's first option
    rep: np.ndarray  # (tight,): the family of each tight option among the tight families
    items: np.ndarray  # (families, L): each tight family's allowed customers, padded with 0
    item_ok: np.ndarray  # (families, L) bool: a real item (not padding)
    item_w: np.ndarray  # (families, L) int64: its demand
    src: tuple[np.ndarray, np.ndarray]  # _item_sources of item_w and the families' capacities


def budget_units(fixed: np.ndarray, budget: float) -> tuple[np.ndarray, int, bool]:
    """Whole budget weights, the budget in those units, and whether they are exact.

    Exact: each weight is its fixed cost over the common step of the fixed costs (found as
    fractions of the least one, denominators up to ``MAX_DENOMINATOR``), when the budget is at
    most ``MAX_UNITS`` such steps. Otherwise the step is budget / ``MAX_UNITS`` and weights
    round down (a relaxation of the budget row: every plan within budget keeps it).

    Parameters
    ----------
    fixed : numpy.ndarray
        Fixed cost of each option, the budget row's coefficients, shape (m,) (>= 0).
    budget : float
        The budget (>= 0), in the units of ``fixed``.

    Returns
    -------
    tuple of (numpy.ndarray, int, bool)
        Weights (m,) int64, the budget in weight units, exact or not.
    """
    fixed = np.asarray(fixed, float)
    pos = fixed[fixed > 0]
    if pos.size == 0:
        return np.zeros(fixed.size, np.int64), 0, True
    base = float(pos.min())
    steps = [Fraction(float(v / base)).limit_denominator(MAX_DENOMINATOR) for v in np.unique(pos)]
    scale = math.lcm(*[s.denominator for s in steps]) / base
    weight = np.round(fixed * scale)
    if budget * scale <= MAX_UNITS and np.allclose(fixed * scale, weight, rtol=0, atol=1e-6):
        return weight.astype(np.int64), math.floor(budget * scale + 1e-6), True
    if budget <= 0:
        return np.where(fixed > 0, 1, 0).astype(np.int64), 0, True
    scale = MAX_UNITS / budget
    return np.floor(fixed * scale - 1e-9).clip(0).astype(np.int64), MAX_UNITS, False


def _subsets(options: list[int], conflict: set[tuple[int, int]]) -> list[tuple[int, ...]] | None:
    """Every subset of ``options`` without a conflicting pair (None above ``MAX_SUBSETS``)."""
    out: list[tuple[int, ...]] = [()]
    for i in options:
        out += [(*s, i) for s in out if not any((k, i) in conflict for k in s)]
        if len(out) > MAX_SUBSETS:
            return None
    return out


def budget_data(
    inst: FacilityInstance,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: tuple[np.ndarray, ...] | None,
) -> BudgetData | None:
    """The instance for :func:`solve_budget`, or None when the search does not take it.

    It takes single sourcing with a budget and no k, whole-number demands and capacities
    (capacities at most ``lagrangian.MAX_CAPACITY``), and components of at most
    ``MAX_SUBSETS`` allowed subsets.
    """
    d, u = inst.demand, inst.capacity
    m = inst.fixed_cost.size
    if not (
        single_source
        and budget is not None
        and k is None
        and inst.pair_i.size > 0
        and np.array_equal(d, np.round(d))
        and np.array_equal(u, np.round(u))
        and u.max(initial=0.0) <= MAX_CAPACITY
    ):
        return None
    edges = [tuple(g.tolist()) for g in groups or ()]
    edges += [tuple(np.flatnonzero(inst.family == fam)) for fam in np.unique(inst.family)]
    conflict = {(int(a), int(b)) for g in edges for a, b in itertools.permutations(g, 2) if a != b}
    if conflict:
        a, b = np.array(sorted(conflict)).T
    else:
        a = b = np.zeros(0, int)
    graph = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    w, units, exact = budget_units(inst.fixed_cost, float(budget))
    member_rows: list[np.ndarray] = []
    comp, bounds = [], [0]
    for c_id, opts in enumerate(np.split(order, np.cumsum(np.bincount(label))[:-1])):
        subsets = _subsets(sorted(int(i) for i in opts), conflict)
        if subsets is None:
            return None
        rows = np.zeros((len(subsets), m), bool)
        for r, subset in enumerate(subsets):
            rows[r, list(subset)] = True
        # by weight within the component (the empty subset, weight 0, first)
        member_rows.append(rows[np.argsort(rows.astype(np.int64) @ w, kind="stable")])
        comp += [c_id] * len(subsets)
        bounds.append(bounds[-1] + len(subsets))
    member = np.concatenate(member_rows)
    sub_w = member.astype(np.int64) @ w
    allowed = np.zeros((int(inst.family.max()) + 1, d.size), bool)
    allowed[inst.pair_i, inst.pair_j] = True
    allowed = allowed[inst.family]
    c = np.where(allowed, inst.assign_cost, np.inf)
    roomy = u >= allowed.astype(float) @ d
    tight = np.flatnonzero(~roomy)
    # a family's members share their customers and costs: one DP per family, at its
    # largest capacity, read back at each member's own capacity
    families, rep = np.unique(inst.family[tight], return_inverse=True)
    first = tight[np.unique(rep, return_index=True)[1]]
    fam_cap = np.zeros(families.size, np.int64)
    np.maximum.at(fam_cap, rep, u[tight].astype(np.int64))
    width = int(allowed[first].sum(axis=1).max(initial=0))
    order = np.argsort(~allowed[first], axis=1, kind="stable")[:, :width]
    item_ok = np.take_along_axis(allowed[first], order, axis=1)
    item_w = np.where(item_ok, d[order], 0).astype(np.int64)
    return BudgetData(
        f=inst.fixed_cost,
        u=u,
        d=d,
        c=c,
        w=w,
        units=units,
        exact=exact,
        budget=float(budget),
        member=member,
        member_sum=sp.csr_matrix(member, dtype=float),
        comp=np.array(comp),
        bounds=np.array(bounds),
        option_comp=label.astype(np.int64),
        sub_w=sub_w,
        shifts=_shifts(sub_w, np.array(bounds), units),
        roomy=roomy,
        loose=(inst.fixed_cost == 0) & (np.bincount(label)[label] == 1),
        tight=tight,
        first=first,
        rep=rep,
        items=order,
        item_ok=item_ok,
        item_w=item_w,
        src=_item_sources(item_w, fam_cap),
    )


# ------------------------------------------------------------------ the bound


@dataclass
class _Relaxed:
    """L at one λ on one node: the bound, scale, reduced values, relaxed y and x."""

    bound: float
    scale: float
    v: np.ndarray
    y: np.ndarray
    x: np.ndarray
    val: np.ndarray  # (S,) value of each subset (inf: not allowed at the node)
    tables: list[np.ndarray]  # the DP before each active component, and after the last
    active: np.ndarray  # the components with a choice left at the node
    single: np.ndarray  # (S,) bool: the one subset each other component keeps


def _knapsack_values(data: BudgetData, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K_i(λ) of every option and its items; roomy options take every profitable customer."""
    profit = lam[None, :] - data.c
    value = np.zeros(data.f.size)
    take = profit > 0
    room = data.roomy
    value[room] = np.where(take[room], profit[room], 0.0).sum(axis=1)
    tight = data.tight
    if tight.size:
        p = np.where(
            data.item_ok, np.take_along_axis(profit[data.first], data.items, axis=1), -np.inf
        )
        cap = data.u[tight].astype(np.int64)
        val, chosen = _item_knapsacks(p, data.item_w, data.rep, cap, data.src)
        value[tight] = val
        take[tight] = False
        rows = np.repeat(tight, chosen.sum(axis=1))
        take[rows, data.items[data.rep][chosen]] = True
    return value, take


def _item_knapsacks(
    profit: np.ndarray,
    weight: np.ndarray,
    row: np.ndarray,
    cap: np.ndarray,
    src: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Exact 0-1 knapsacks over rows of items, each read back at several capacities.

    ``profit`` (r, L) (-inf: no item) and ``weight`` (r, L) whole: row k's items, position by
    position; ``row`` (q,) and ``cap`` (q,) whole: the knapsacks wanted, each a row and a
    capacity; ``src``: :func:`_item_sources` of ``weight`` and each row's largest capacity.
    Returns each knapsack's best value (q,) and items taken (q, L) bool. The DP over
    "weight at most b" runs for every row at once, one item position at a time (L numpy
    steps, the most customers an option may serve, where a DP over the customers costs n),
    and the tables of "taken at b" give the optimum at every capacity b.
    """
    flat, ok = src
    r, width = profit.shape
    dp = np.zeros(ok.shape[1:])
    keep = np.zeros(ok.shape, bool)
    for t in range(width):
        cand = dp.take(flat[t]) + profit[:, t, None]
        better = np.greater(cand, dp, out=keep[t], where=ok[t])
        dp = np.where(better, cand, dp)
    c = cap.copy()
    value = dp[row, c]
    chosen = np.zeros((row.size, width), bool)
    for t in range(width - 1, -1, -1):
        hit = keep[t, row, c]
        chosen[:, t] = hit
        c = c - hit * weight[row, t]
    del r
    return value, chosen


def _item_sources(weight: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item position t, each (row, b)'s source entry row · (B + 1) + b − w, and b ≥ w.

    Shapes (L, r, B + 1), B the largest capacity: flat indices into the (r, B + 1) DP table
    (clipped at the row's start) and where the item fits.
    """
    r = weight.shape[0]
    big = int(cap.max(initial=0))
    src = np.arange(big + 1)[None, None, :] - weight.T[:, :, None]
    flat = (np.arange(r) * (big + 1))[None, :, None] + np.maximum(src, 0)
    return flat, src >= 0


def _candidates(data: BudgetData, k: int, table: np.ndarray, val: np.ndarray) -> np.ndarray:
    """(D, B + 1): ``table`` then component ``k``'s best subset of each distinct weight W_d."""
    sh = data.shifts[k]
    best = np.minimum.reduceat(val[data.bounds[k] : data.bounds[k + 1]], sh.starts)
    return table.take(sh.take) + (best[:, None] + sh.over)


def _step(data: BudgetData, k: int, table: np.ndarray, val: np.ndarray) -> np.ndarray:
    """One min-plus step of the DP: ``table`` then component ``k``'s allowed subsets."""
    return _candidates(data, k, table, val).min(axis=0)


def _dp(
    data: BudgetData, val: np.ndarray, active: np.ndarray, start: np.ndarray
) -> list[np.ndarray]:
    """The min-plus DP over the ``active`` components: the table before each one, and after.

    A table's entry b is the least value of the components so far using exactly b units,
    from ``start`` (the components without a choice); ``val`` is each subset's value (inf:
    not allowed).
    """
    tables = [start]
    for k in active:
        tables.append(_step(data, int(k), tables[-1], val))
    return tables


class _Node:
    """Options fixed open and fixed closed."""

    __slots__ = ("_agree", "_choice", "closed", "opened")

    def __init__(self, opened: np.ndarray, closed: np.ndarray) -> None:
        self.opened, self.closed = opened, closed
        self._agree: np.ndarray | None = None
        self._choice: tuple[np.ndarray, np.ndarray, bool] | None = None

    def free(self) -> np.ndarray:
        return ~(self.opened | self.closed)

    def subsets(self, data: BudgetData) -> np.ndarray:
        """(S,) bool: the subsets that agree with the node's fixings."""
        if self._agree is None:
            member = data.member
            per_comp = np.bincount(data.option_comp[self.opened], minlength=data.bounds.size - 1)
            self._agree = ~member[:, self.closed].any(axis=1) & (
                member[:, self.opened].sum(axis=1) == per_comp[data.comp]
            )
        return self._agree

    def choice(self, data: BudgetData) -> tuple[np.ndarray, np.ndarray, bool]:
        """(components with a choice left, the one subset of each other, no plan here)."""
        if self._choice is None:
            agree = self.subsets(data)
            count = np.add.reduceat(agree.astype(np.int64), data.bounds[:-1])
            single = agree & (count == 1)[data.comp]
            self._choice = (np.flatnonzero(count > 1), single, bool((count == 0).any()))
        return self._choice

    def bound(
        self, data: BudgetData, lam: np.ndarray, value: np.ndarray, take: np.ndarray
    ) -> _Relaxed:
        """L at ``lam`` on the node (the knapsack ``value`` and ``take`` of that λ)."""
        v = data.f - value
        val = np.where(self.subsets(data), data.member_sum @ v, np.inf)
        active, single, dead = self.choice(data)
        start = np.full(data.units + 1, np.inf)
        used = int(data.sub_w[single].sum())
        if not dead and used <= data.units:
            start[used] = float(val[single].sum())
        tables = _dp(data, val, active, start)
        last = tables[-1]
        b = int(np.argmin(last))
        total = float(lam.sum()) + float(last[b])
        y = data.member[single].any(axis=0)
        if math.isfinite(total):
            for pos in range(active.size - 1, -1, -1):
                k = int(active[pos])
                lo, hi = data.bounds[k], data.bounds[k + 1]
                w = data.sub_w[lo:hi]
                back = tables[pos][np.maximum(b - w, 0)] + val[lo:hi]
                s = lo + int(np.argmax((w <= b) & (back == tables[pos + 1][b])))
                y |= data.member[s]
                b -= int(data.sub_w[s])
        scale = float(np.abs(lam).sum() + np.abs(v).sum())
        return _Relaxed(total, scale, v, y, take, val, tables, active, single)


def _forced(data: BudgetData, lam: np.ndarray, rel: _Relaxed) -> tuple[np.ndarray, np.ndarray]:
    """(L with option i forced open, L with i forced closed) for every option, at ``lam``.

    Exact: per component the suffix DP over the later components, then for each allowed
    subset σ of weight w its value plus the best use of the other components within the
    budget left, min over b of P[b] + S[U − w − b] (P, S the prefix and suffix tables made
    nonincreasing in b, "at most b units").
    """
    active = rel.active
    suffix = [np.r_[0.0, np.full(data.units, np.inf)]]
    for k in active[::-1]:
        suffix.append(_step(data, int(k), suffix[-1], rel.val))
    suffix = suffix[::-1]  # suffix[a]: active components a.. ; suffix[-1]: none
    sub_bound = np.full(data.sub_w.size, np.inf)
    base = float(lam.sum())
    for pos, k in enumerate(active):
        pre = np.minimum.accumulate(rel.tables[pos])
        suf = np.minimum.accumulate(suffix[pos + 1])
        lo, hi = data.bounds[k], data.bounds[k + 1]
        sh = data.shifts[k]
        rest = (pre[None, :] + suf.take(sh.rest) + sh.rest_over).min(axis=1)
        sub_bound[lo:hi] = base + rel.val[lo:hi] + np.repeat(rest, sh.counts)
    # a component without a choice: its one subset is the relaxed solution's
    sub_bound[rel.single] = rel.bound
    inside = np.where(data.member, sub_bound[:, None], np.inf)
    if_open = inside.min(axis=0)
    same = data.comp[:, None] == data.option_comp[None, :]
    if_closed = np.where(same & ~data.member, sub_bound[:, None], np.inf).min(axis=0)
    return if_open, if_closed


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
        assign = _place(data.c, data.d, data.u, y, start)
        if assign is None:
            assign = _place(data.c, data.d, data.u, y, np.full(n, -1))
        if assign is not None:
            self.offer(y, _improve(data.c, data.d, data.u, y, assign))

    def polish(self, node: _Node, time_limit_s: float) -> bool:
        """HiGHS on the model with the node's fixings, briefly, for a better incumbent.

        Capped at ``POLISH_NODES`` of its branch-and-bound nodes (so it ends the same way on
        any machine) and ``time_limit_s``. True when it proved the node's optimum: then the
        incumbent is optimal for the node.
        """
        reduced = restrict_model(self.model, self.inst, None, node.opened, node.closed, False)
        hint = _values(self.inst, *self.best) if self.best is not None else None
        left = max(min(self.deadline - time.perf_counter(), time_limit_s), 0.05)
        res = solve_mip(
            reduced, engine="highspy", time_limit_s=left, hint=hint, work_limit=POLISH_NODES
        )
        if res.values is not None:
            assign = assignment_from_values(self.inst, res.values, True).argmax(axis=0)
            self.offer(res.values[: self.data.f.size] > 0.5, assign)
        return res.status in (OPTIMAL, INFEASIBLE)

    def restricted(self, allowed: np.ndarray) -> None:
        """A plan using only the ``allowed`` options (and loose ones): HiGHS, briefly.

        A heuristic within ``RESTRICTED_S`` seconds, whatever it finds.
        """
        m = self.data.f.size
        allowed = allowed | self.data.loose
        reduced = restrict_model(self.model, self.inst, None, np.zeros(m, bool), ~allowed, False)
        left = max(self.deadline - time.perf_counter(), 0.05)
        res = solve_mip(reduced, engine="highspy", time_limit_s=min(left, RESTRICTED_S))
        if res.values is not None:
            assign = assignment_from_values(self.inst, res.values, True).argmax(axis=0)
            self.offer(allowed, assign)

    def subtree(self, node: _Node) -> None:
        """The node's optimum exactly: the model with its fixings, to HiGHS.

        Raises TimeoutError when HiGHS does not settle it before the deadline.
        """
        reduced = restrict_model(self.model, self.inst, None, node.opened, node.closed, False)
        left = max(self.deadline - time.perf_counter(), 0.05)
        res = solve_mip(reduced, engine="highspy", time_limit_s=left)
        if res.values is not None:
            assign = assignment_from_values(self.inst, res.values, True).argmax(axis=0)
            self.offer(res.values[: self.data.f.size] > 0.5, assign)
        if res.status not in (OPTIMAL, INFEASIBLE):
            raise TimeoutError  # the node is not settled: the search cannot complete


def _ascend(
    search: _Search, node: _Node, lam: np.ndarray, steps: int
) -> tuple[_Relaxed, np.ndarray]:
    """Subgradient steps on the node's L from ``lam``: the best relaxed solution and its λ."""
    data = search.data
    best: _Relaxed | None = None
    best_lam, mu, stall = lam, 1.0, 0
    for step in range(steps):
        rel = node.bound(data, lam, *_knapsack_values(data, lam))
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
    root: _Node


def _search(search: _Search, lam: np.ndarray) -> _Outcome:
    """Best-first branch and bound over the options (module docstring)."""
    m = search.data.f.size
    root = _Node(np.zeros(m, bool), np.zeros(m, bool))
    heap: list[tuple[float, int, _Node, np.ndarray, int]] = [(-math.inf, 0, root, lam, ROOT_STEPS)]
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
                if search.polish(root, search.polish_s):
                    return _Outcome(True, search.ub - search.tol(), root)
            for bound, child in settled[1:]:
                heapq.heappush(heap, (bound, next(count), child, lam, NODE_STEPS))
    except TimeoutError:
        bound = min([h[0] for h in heap] + [floor, search.ub - search.tol()])
        return _Outcome(False, bound, root)
    return _Outcome(True, search.ub - search.tol(), root)


def _settle(
    search: _Search, node: _Node, lam: np.ndarray, rel: _Relaxed
) -> list[tuple[float, _Node]]:
    """Fix what the forced bounds decide, then solve a leaf or branch.

    Returns [(bound, the node after fixing), *children (bound, node)]; empty when the node
    is cut (or settled as a leaf).
    """
    data = search.data
    while True:
        if not math.isfinite(rel.bound) or search.cut(rel.bound, rel.scale):
            return []
        free = node.free()
        if free.sum() <= SUBTREE_FREE:
            search.subtree(node)
            return []
        if_open, if_closed = _forced(data, lam, rel)
        margin = ROUNDING * rel.scale
        limit = search.ub - search.tol()
        shut = free & (if_open - margin >= limit)
        opened = free & (if_closed - margin >= limit)
        if (shut & opened).any():
            return []  # both ways at least the incumbent: nothing better here
        if shut.any() or opened.any():
            node = _Node(node.opened | opened, node.closed | shut)
            rel = node.bound(data, lam, *_knapsack_values(data, lam))
            continue
        weaker = np.where(free, np.minimum(if_open, if_closed), -np.inf)
        i = int(np.argmax(weaker))
        with_open, with_closed = node.opened.copy(), node.closed.copy()
        with_open[i], with_closed[i] = True, True
        return [
            (rel.bound - margin, node),
            (max(rel.bound, float(if_open[i])) - margin, _Node(with_open, node.closed)),
            (max(rel.bound, float(if_closed[i])) - margin, _Node(node.opened, with_closed)),
        ]


def _start(search: _Search, n: int, time_limit_s: float) -> np.ndarray:
    """The first λ: the best of the cheapest cost per customer and ± the LP's duals."""
    data = search.data
    root = _Node(np.zeros(data.f.size, bool), np.zeros(data.f.size, bool))
    cheapest = np.min(data.c, axis=0)
    candidates = [np.where(np.isfinite(cheapest), cheapest, 0.0)]
    duals = _lp_duals(search.model, n, time_limit_s)
    if duals is not None:
        candidates += [duals, -duals]
    values = [root.bound(data, lam, *_knapsack_values(data, lam)).bound for lam in candidates]
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
        values = _values(inst, *search.best)
        # every cost is >= 0, so 0 bounds every plan too
        bound = min(search.ub, max(out.bound, search.ub - search.tol(), 0.0))
        return MipSolution(values, search.ub, bound, OPTIMAL, _since(start), "lagrangian")
    reduced = restrict_model(model, inst, None, out.root.opened, out.root.closed, False)
    hint = _values(inst, *search.best) if search.best is not None else None
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
    values = _values(inst, *search.best)
    return MipSolution(
        values, search.ub, min(bound, search.ub), status, _since(start), "lagrangian+highs"
    )


def _values(inst: FacilityInstance, open_: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """The model's variable values (y, then x over the allowed family pairs) of a plan."""
    x = (inst.family[assign][inst.pair_j] == inst.pair_i).astype(float)
    return np.concatenate([open_.astype(float), x])


def _since(start: float) -> float:
    return time.perf_counter() - start
