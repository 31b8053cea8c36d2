"""The facility-location MIP: one function per constraint family, and its answer read back.

:func:`build_facility_model` writes the formulation of :mod:`optimiser.siting.cflp.solve` as a
:class:`~optimiser._solver.MipModel` (variables y_0..y_{m-1}, then x over the allowed
(family, customer) pairs), calling one ``_add_*`` function per numbered constraint family in
the order of the formulation; each appends its rows to a shared :class:`_RowBuilder`.
:func:`assignment_from_values` maps solver values back to an (m, n) assignment matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimiser._errors import SolverError
from optimiser._solver.mip import MipModel
from optimiser.siting.cflp.instance import FacilityInstance

__all__ = ["assignment_from_values", "build_facility_model"]

_CLEAN_TOL = 1e-7  # assignment fractions below this are solver noise


@dataclass(frozen=True)
class _Columns:
    """Column of each variable, and the facilities of each family.

    ``y[i]`` is the column of y_i (= i); ``x[p]`` that of the x of allowed pair p (= m + p);
    ``order`` lists the facilities family by family (stable), ``start[g]`` and ``size[g]``
    locate family g's members in it.
    """

    y: np.ndarray
    x: np.ndarray
    order: np.ndarray
    start: np.ndarray
    size: np.ndarray

    @classmethod
    def of(cls, inst: FacilityInstance) -> _Columns:
        m, npair = inst.fixed_cost.size, inst.pair_i.size
        size = np.bincount(inst.family, minlength=int(inst.family.max()) + 1)
        order = np.argsort(inst.family, kind="stable")
        return cls(np.arange(m), m + np.arange(npair), order, np.cumsum(size) - size, size)


@dataclass
class _RowBuilder:
    """Rows of the constraint matrix as coordinates and bounds, appended family by family."""

    n_rows: int = 0
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)

    def new_rows(self, count: int, lower: float, upper: float) -> int:
        """Append ``count`` rows ``lower ≤ · ≤ upper``; return the index of the first."""
        first = self.n_rows
        self.lower.append(np.full(count, lower, dtype=float))
        self.upper.append(np.full(count, upper, dtype=float))
        self.n_rows += count
        return first

    def add_terms(self, rows: npt.ArrayLike, cols: npt.ArrayLike, vals: npt.ArrayLike) -> None:
        """Add coefficients ``vals`` at (``rows``, ``cols``) of rows already appended."""
        self.rows.append(np.asarray(rows))
        self.cols.append(np.asarray(cols))
        self.vals.append(np.asarray(vals, dtype=float))

    def matrix(self, n_vars: int) -> sp.csr_matrix:
        """The rows as a sparse matrix (explicit zeros dropped)."""
        coords = (np.concatenate(self.rows), np.concatenate(self.cols))
        matrix = sp.csr_matrix((np.concatenate(self.vals), coords), shape=(self.n_rows, n_vars))
        matrix.eliminate_zeros()
        return matrix


def _add_demand_served(rows: _RowBuilder, inst: FacilityInstance, col: _Columns) -> None:
    """(1) Σ_g x_gj = 1 for every customer j (one row per customer)."""
    first = rows.new_rows(inst.demand.size, 1.0, 1.0)
    rows.add_terms(first + inst.pair_j, col.x, np.ones(col.x.size))


def _add_capacity(rows: _RowBuilder, inst: FacilityInstance, col: _Columns) -> None:
    """(2) Σ_j d_j x_gj ≤ Σ_(i∈g) u_i y_i for every family g (one row per family)."""
    first = rows.new_rows(col.size.size, -np.inf, 0.0)
    rows.add_terms(first + inst.pair_i, col.x, inst.demand[inst.pair_j])
    rows.add_terms(first + inst.family, col.y, -inst.capacity)


def _add_linking(rows: _RowBuilder, inst: FacilityInstance, col: _Columns) -> None:
    """(3) x_gj ≤ Σ_(i∈g) y_i for every allowed pair (g, j) (one row per pair)."""
    npair = col.x.size
    first = rows.new_rows(npair, -np.inf, 0.0)
    rep = col.size[inst.pair_i]  # members linked to each pair's x
    offset = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
    members = col.order[np.repeat(col.start[inst.pair_i], rep) + offset]
    rows.add_terms(first + np.arange(npair), col.x, np.ones(npair))
    rows.add_terms(first + np.repeat(np.arange(npair), rep), members, -np.ones(rep.sum()))


def _add_aggregate_capacity(rows: _RowBuilder, inst: FacilityInstance, col: _Columns) -> None:
    """(4) Σ_i u_i y_i ≥ Σ_j d_j (one row; the sum of (2) under (1), a cut for the solver)."""
    first = rows.new_rows(1, float(inst.demand.sum()), np.inf)
    rows.add_terms(np.full(col.y.size, first), col.y, inst.capacity)


def _add_budget(
    rows: _RowBuilder, inst: FacilityInstance, col: _Columns, budget: float | None
) -> None:
    """(5) Σ_i f_i y_i ≤ budget (one row when ``budget`` is given, else none)."""
    if budget is not None:
        first = rows.new_rows(1, -np.inf, float(budget))
        rows.add_terms(np.full(col.y.size, first), col.y, inst.fixed_cost)


def _add_open_limit(
    rows: _RowBuilder,
    inst: FacilityInstance,
    col: _Columns,
    k: int | None,
    exact: bool = False,
) -> None:
    """(6) Σ_i y_i ≤ k (one row when ``k`` is given, else none); = k when ``exact``.

    ``exact`` is valid when opening a facility costs nothing and nothing forbids it (every
    fixed cost 0, no groups, no shared families, k ≤ m): an optimum with fewer open can
    open more unused ones at no cost. It is the p-median's cardinality row.
    """
    if k is not None:
        first = rows.new_rows(1, float(k) if exact else -np.inf, float(k))
        rows.add_terms(np.full(col.y.size, first), col.y, np.ones(col.y.size))


def _add_exclusive_groups(
    rows: _RowBuilder,
    inst: FacilityInstance,
    col: _Columns,
    groups: tuple[np.ndarray, ...] | None,
) -> None:
    """(7) Σ_(i∈G) y_i ≤ 1 for every G in ``groups``, then every family of 2+ members."""
    shared = [col.order[a : a + s] for a, s in zip(col.start, col.size, strict=True) if s > 1]
    for g in [*(groups or ()), *shared]:
        first = rows.new_rows(1, -np.inf, 1.0)
        rows.add_terms(np.full(g.size, first), g, np.ones(g.size))


def build_facility_model(
    inst: FacilityInstance,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: tuple[np.ndarray, ...] | None = None,
) -> MipModel:
    """Build constraints 1-7 of :mod:`optimiser.siting.cflp.solve` as a sparse :class:`MipModel`.

    Variables are ordered y_0..y_{m-1}, then x over the allowed (family, customer) pairs in
    row-major order; with singleton families (the default) a family is its facility. Rows
    come family by family, in the order of the numbered constraints.
    """
    col = _Columns.of(inst)
    rows = _RowBuilder()
    _add_demand_served(rows, inst, col)
    _add_capacity(rows, inst, col)
    _add_linking(rows, inst, col)
    _add_aggregate_capacity(rows, inst, col)
    _add_budget(rows, inst, col, budget)
    exact = (
        k is not None
        and k <= col.y.size
        and not inst.fixed_cost.any()
        and not groups
        and bool((col.size == 1).all())
    )
    _add_open_limit(rows, inst, col, k, exact)
    _add_exclusive_groups(rows, inst, col, groups)
    n_vars = col.y.size + col.x.size
    first = col.order[col.start]  # a member of each family, for its costs
    objective = np.concatenate([inst.fixed_cost, inst.assign_cost[first[inst.pair_i], inst.pair_j]])
    is_integer = np.concatenate(
        [np.ones(col.y.size, bool), np.full(col.x.size, bool(single_source))]
    )
    return MipModel(
        objective,
        rows.matrix(n_vars),
        np.concatenate(rows.lower),
        np.concatenate(rows.upper),
        np.zeros(n_vars),
        np.ones(n_vars),
        is_integer,
    )


def assignment_from_values(
    inst: FacilityInstance, values: np.ndarray, single_source: bool
) -> np.ndarray:
    """Assignment fractions (columns sum to 1), each family's x on its open member."""
    m, n = inst.fixed_cost.size, inst.demand.size
    x = np.clip(values[m:], 0.0, 1.0)
    x = np.round(x) if single_source else np.where(x < _CLEAN_TOL, 0.0, x)
    # each family's x goes to its open member (the one with the largest y)
    y = values[:m]
    best = np.full(int(inst.family.max()) + 1, -1)
    for i in np.argsort(y, kind="stable"):
        best[inst.family[i]] = i
    assignment = np.zeros((m, n))
    assignment[best[inst.pair_i], inst.pair_j] = x
    totals = assignment.sum(axis=0)
    if (totals <= 0).any():
        msg = "the solver returned a customer with no assignment; report this as a bug."
        raise SolverError(msg)
    return assignment / totals
