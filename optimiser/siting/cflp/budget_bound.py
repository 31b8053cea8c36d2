"""The bound of the budget branch and bound (:mod:`optimiser.siting.cflp.lagrangian_budget`).

L(λ) = Σ_j λ_j + min over y in Y of Σ_i v_i(λ) y_i, with v_i(λ) = f_i − K_i(λ), K_i the
exact 0-1 knapsack of option i and Y the plans of y alone that keep the budget and the
at-most-one rows of groups and families (see the search module's docstring for why it is a
bound). Here: the instance as the bound reads it (:class:`BudgetData`: the components of
options that exclude each other and their allowed subsets, the budget in whole units), the
knapsacks (one DP per family, position by position over its customers), the min-plus DP over
the components, a node's bound with its relaxed y and x (:class:`Node`), and every option's
bound forced open and forced closed at once (:func:`forced_bounds`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optimiser.siting.cflp.instance import FacilityInstance
from optimiser.siting.cflp.lagrangian import MAX_CAPACITY

__all__ = [
    "BudgetData",
    "Node",
    "Relaxed",
    "budget_data",
    "budget_units",
    "forced_bounds",
    "knapsack_values",
]

#: Budget units of the DP at most (the weights' common step, else budget / this).
MAX_UNITS = 4_000
#: Largest denominator tried when looking for the weights' common step.
MAX_DENOMINATOR = 1_000
#: Allowed subsets of one component at most (more: the instance goes to the MIP engine).
MAX_SUBSETS = 512


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
class Relaxed:
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


def knapsack_values(data: BudgetData, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    width = profit.shape[1]
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


def _step(data: BudgetData, k: int, table: np.ndarray, val: np.ndarray) -> np.ndarray:
    """One min-plus step of the DP: ``table`` then component ``k``'s allowed subsets.

    Per distinct subset weight W_d only its best subset counts; entry b takes
    ``table[b − W_d]`` plus that subset's value, least over d.
    """
    sh = data.shifts[k]
    best = np.minimum.reduceat(val[data.bounds[k] : data.bounds[k + 1]], sh.starts)
    return (table.take(sh.take) + (best[:, None] + sh.over)).min(axis=0)


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


class Node:
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
    ) -> Relaxed:
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
        return Relaxed(total, scale, v, y, take, val, tables, active, single)


def forced_bounds(data: BudgetData, lam: np.ndarray, rel: Relaxed) -> tuple[np.ndarray, np.ndarray]:
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
