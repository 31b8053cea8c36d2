"""The bound of the split-demand branch and bound (:mod:`optimiser.siting.cflp.lagrangian_split`).

L(λ) = Σ_j λ_j + min_y Σ_i v_i(λ) y_i over binary y with Σ_i u_i y_i ≥ D, v_i(λ) = f_i − K_i(λ),
K_i the continuous knapsack of facility i (see the search module's docstring for the
formulation and why it is a bound). Here: which instances the search takes
(:func:`split_accepts`), the knapsacks of every facility at once
(:func:`continuous_knapsacks`), the instance as the bound reads it (:class:`SplitData`), a
node's bound and its forced bounds (:class:`SplitNode`), L(λ) itself (:func:`split_bound`),
the transportation LP of a leaf (:func:`transportation_lp`), and the tolerances both
Lagrangian searches cut with (``GAP``, ``ROUNDING``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import highspy._core
import numpy as np
import scipy.sparse as sp

from optimiser.siting.cflp.instance import FacilityInstance
from optimiser.siting.cflp.lagrangian import YRows, cover_knapsack, forced_values

__all__ = [
    "GAP",
    "ROUNDING",
    "SplitData",
    "SplitNode",
    "SplitRelaxed",
    "continuous_knapsacks",
    "split_accepts",
    "split_bound",
    "transportation_lp",
]

#: Relative gap within which a bound meets the incumbent (the MIP engines' own tolerance).
GAP = 1e-9
#: Share of the scale S = Σ|λ| + Σ|v| subtracted from every bound against float rounding.
ROUNDING = 1e-11
#: Largest covering-knapsack DP (capacity units after dividing by the gcd) accepted.
MAX_COVER = 200_000


def split_accepts(
    inst: FacilityInstance,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: tuple[np.ndarray, ...] | None,
) -> bool:
    """True when :func:`solve_split` handles the instance exactly.

    It needs split demand, whole-number capacities with a covering DP of at most
    ``MAX_COVER`` entries after dividing by their gcd, every family a single facility,
    and no budget, k or groups row (those would couple the facilities' subproblems).
    """
    m = inst.fixed_cost.size
    u = inst.capacity
    if single_source or budget is not None or k is not None or groups:
        return False
    if not np.array_equal(inst.family, np.arange(m)) or inst.pair_i.size == 0:
        return False
    if not np.array_equal(u, np.round(u)) or u.max(initial=0.0) > 2**53:
        return False
    g = _gcd(u)
    return g > 0 and math.ceil(float(inst.demand.sum()) / g) <= MAX_COVER


def _gcd(u: np.ndarray) -> int:
    """Greatest common divisor of the positive whole capacities (0 when none is positive)."""
    pos = u[u > 0].astype(np.int64)
    return int(np.gcd.reduce(pos)) if pos.size else 0


def continuous_knapsacks(
    profit: np.ndarray, weight: np.ndarray, cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact continuous knapsack of every facility at once.

    Parameters
    ----------
    profit : numpy.ndarray
        Shape (m, n): profit of taking all of item j in knapsack i (-inf: forbidden)
        [cost units].
    weight : numpy.ndarray
        Shape (n,): weight of each item (>= 0) [demand units].
    cap : numpy.ndarray
        Shape (m,): capacity of each knapsack (>= 0) [demand units].

    Returns
    -------
    value : numpy.ndarray
        Shape (m,): max Σ_j profit_ij x_j s.t. Σ_j weight_j x_j ≤ cap_i, 0 ≤ x ≤ 1.
    take : numpy.ndarray
        Shape (m, n): the fractions x attaining it (items of positive profit by decreasing
        profit per unit weight, the last in part; weightless items of positive profit whole).
    """
    m = profit.shape[0]
    pi, pj = np.nonzero(profit > 0)  # only items of positive profit are ever taken
    p, w = profit[pi, pj], weight[pj]
    with np.errstate(divide="ignore"):
        ratio = np.where(w > 0, p / np.where(w > 0, w, 1.0), np.inf)
    order = np.lexsort((-ratio, pi))  # by knapsack, then decreasing profit per unit weight
    pi, pj, p, w = pi[order], pj[order], p[order], w[order]
    run = np.cumsum(w)
    first = np.searchsorted(pi, np.arange(m))  # where each knapsack's items start
    offset = np.r_[0.0, run][first]  # weight of the knapsacks before
    before = run - w - offset[pi]
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.clip((cap[pi] - before) / w, 0.0, 1.0)
    frac = np.where(w > 0, part, 1.0)
    take = np.zeros(profit.shape)
    take[pi, pj] = frac
    value = np.bincount(pi, weights=p * frac, minlength=m)
    return value, take


@dataclass(frozen=True)
class SplitData:
    """The instance as the search uses it: costs with inf on forbidden pairs, scaled capacities."""

    f: np.ndarray
    u: np.ndarray
    d: np.ndarray
    c: np.ndarray
    units: np.ndarray  # capacities divided by their gcd
    need: int  # ⌈D / gcd⌉

    @classmethod
    def of(cls, inst: FacilityInstance) -> SplitData:
        allowed = np.zeros(inst.assign_cost.shape, bool)
        allowed[inst.pair_i, inst.pair_j] = True
        g = max(_gcd(inst.capacity), 1)
        need = math.ceil(float(inst.demand.sum()) / g - 1e-12)
        c = np.where(allowed, inst.assign_cost, np.inf)
        return cls(inst.fixed_cost, inst.capacity, inst.demand, c, inst.capacity // g, need)


@dataclass
class SplitRelaxed:
    """L_(O,C)(λ) at one λ: the bound, the reduced values v, the relaxed y and x."""

    bound: float
    scale: float
    v: np.ndarray
    y: np.ndarray
    x: np.ndarray


@dataclass(frozen=True)
class SplitNode:
    """Facilities fixed open and fixed closed."""

    opened: np.ndarray
    closed: np.ndarray

    def free(self) -> np.ndarray:
        return ~(self.opened | self.closed)

    def bound(self, data: SplitData, lam: np.ndarray) -> SplitRelaxed:
        """L_(O,C)(λ) of the module docstring, and the relaxed solution attaining it."""
        m, n = data.c.shape
        v = np.full(m, np.inf)
        x = np.zeros((m, n))
        live = ~self.closed
        value, take = continuous_knapsacks(lam[None, :] - data.c[live], data.d, data.u[live])
        v[live] = data.f[live] - value
        x[live] = take
        free = self.free()
        rest = data.need - int(data.units[self.opened].sum())
        inner, cover = cover_knapsack(v[free], data.units[free], rest, want=True)
        y = self.opened.copy()
        if cover is not None:
            y[np.flatnonzero(free)[cover]] = True
        total = float(lam.sum()) + float(v[self.opened].sum()) + inner
        scale = float(np.abs(lam).sum() + np.abs(v[live]).sum())
        return SplitRelaxed(total, scale, v, y, x)

    def forced(
        self, data: SplitData, lam: np.ndarray, rel: SplitRelaxed
    ) -> tuple[np.ndarray, np.ndarray]:
        """(bound with free i forced open, with free i forced closed), shape (free count,)."""
        free = self.free()
        rest = data.need - int(data.units[self.opened].sum())
        rows = YRows(None, False, data.units[free], rest)
        others, closed = forced_values(rel.v[free], rows)
        base = float(lam.sum()) + float(rel.v[self.opened].sum())
        return base + rel.v[free] + others, base + closed


def split_bound(inst: FacilityInstance, multipliers: np.ndarray) -> float:
    """L(λ) of the module docstring: a lower bound on the split-demand optimum for any λ.

    Parameters
    ----------
    inst : FacilityInstance
        A split-demand instance accepted by :func:`split_accepts`.
    multipliers : numpy.ndarray
        λ, one per customer, shape (n,) (any real values) [cost units].

    Returns
    -------
    float
        The bound (inf when the capacity cannot cover the demand).
    """
    m = inst.fixed_cost.size
    node = SplitNode(np.zeros(m, bool), np.zeros(m, bool))
    return node.bound(SplitData.of(inst), np.asarray(multipliers, float)).bound


def transportation_lp(
    cost: np.ndarray, matrix: sp.csc_matrix, n: int, capacity: np.ndarray, time_limit_s: float
) -> np.ndarray | None:
    """The transportation LP: min cost @ x, x in [0, 1] [cost units].

    The first n rows of ``matrix`` @ x equal 1 (every customer served), the others are at
    most ``capacity`` [demand units]. Solved by HiGHS (highspy, one thread, seed 0) as an
    LP; None unless proven optimal.
    """
    inf = highspy.kHighsInf
    h = highspy._core._Highs()  # the core class: highspy.Highs prints a banner when built
    for name, value in (
        ("output_flag", False),
        ("time_limit", float(time_limit_s)),
        ("random_seed", 0),
        ("threads", 1),
    ):
        h.setOptionValue(name, value)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cost.size, matrix.shape[0]
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.zeros(cost.size)
    lp.col_upper_ = np.ones(cost.size)
    lp.row_lower_ = np.r_[np.ones(n), np.full(capacity.size, -inf)]
    lp.row_upper_ = np.r_[np.ones(n), np.asarray(capacity, float)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    h.passModel(lp)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return np.asarray(h.getSolution().col_value, float)
