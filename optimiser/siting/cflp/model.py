"""The facility-location MIP: constraints 1-7 as sparse arrays, and its answer read back.

:func:`build_facility_model` writes the formulation of :mod:`optimiser.siting.cflp.solve` as a
:class:`~optimiser._solver.MipModel` (variables y_0..y_{m-1}, then x over the allowed
(family, customer) pairs); :func:`assignment_from_values` maps solver values back to an
(m, n) assignment matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optimiser._errors import SolverError
from optimiser._solver.mip import MipModel
from optimiser.siting.cflp.instance import FacilityInstance

__all__ = ["assignment_from_values", "build_facility_model"]

_CLEAN_TOL = 1e-7  # assignment fractions below this are solver noise


def build_facility_model(
    inst: FacilityInstance,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: tuple[np.ndarray, ...] | None = None,
) -> MipModel:
    """Build constraints 1-7 of the :mod:`optimiser.siting.cflp.solve` docstring as a sparse :class:`MipModel`.

    Variables are ordered y_0..y_{m-1}, then x over the allowed (family, customer) pairs in
    row-major order; with singleton families (the default) a family is its facility.
    """
    m, n, npair = inst.fixed_cost.size, inst.demand.size, inst.pair_i.size
    n_fam = int(inst.family.max()) + 1
    xcol = m + np.arange(npair)
    d = inst.demand[inst.pair_j]
    order = np.argsort(inst.family, kind="stable")  # members of each family, family by family
    size = np.bincount(inst.family, minlength=n_fam)
    rep = size[inst.pair_i]  # members linked to each pair's x
    offset = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
    members = order[np.repeat(np.cumsum(size)[inst.pair_i] - rep, rep) + offset]
    rows = [
        inst.pair_j,  # (1) assignment
        n + inst.pair_i,
        n + inst.family,  # (2) capacity
        n + n_fam + np.arange(npair),
        n + n_fam + np.repeat(np.arange(npair), rep),  # (3)
        np.full(m, n + n_fam + npair),
    ]  # (4) aggregate cut
    cols = [xcol, xcol, np.arange(m), xcol, members, np.arange(m)]
    vals = [np.ones(npair), d, -inst.capacity, np.ones(npair), -np.ones(rep.sum()), inst.capacity]
    lower = [np.ones(n), np.full(n_fam, -np.inf), np.full(npair, -np.inf), [inst.demand.sum()]]
    upper = [np.ones(n), np.zeros(n_fam), np.zeros(npair), [np.inf]]
    n_rows = n + n_fam + npair + 1
    shared = [
        order[a:b]
        for a, b in zip(np.cumsum(size) - size, np.cumsum(size), strict=True)
        if b - a > 1
    ]
    for coeff, cap in ((inst.fixed_cost, budget), (np.ones(m), k)):  # (5) budget, (6) k
        if cap is not None:
            rows.append(np.full(m, n_rows))
            cols.append(np.arange(m))
            vals.append(coeff)
            lower.append([-np.inf])
            upper.append([float(cap)])
            n_rows += 1
    for g in [*(groups or ()), *shared]:  # (7) mutual exclusion
        rows.append(np.full(g.size, n_rows))
        cols.append(g)
        vals.append(np.ones(g.size))
        lower.append([-np.inf])
        upper.append([1.0])
        n_rows += 1
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, m + npair),
    )
    matrix.eliminate_zeros()
    first = order[np.cumsum(size) - size]  # a member of each family, for its costs
    objective = np.concatenate([inst.fixed_cost, inst.assign_cost[first[inst.pair_i], inst.pair_j]])
    is_integer = np.concatenate([np.ones(m, bool), np.full(npair, bool(single_source))])
    return MipModel(
        objective,
        matrix,
        np.concatenate(lower).astype(float),
        np.concatenate(upper).astype(float),
        np.zeros(m + npair),
        np.ones(m + npair),
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
