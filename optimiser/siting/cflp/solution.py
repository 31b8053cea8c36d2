"""A facility-location solution and its independent check.

:class:`FacilityLocationSolution` is what :func:`optimiser.siting.solve_facility_location`
returns; :func:`check_facility_location` re-checks one against constraints 1-7 of
:mod:`optimiser.siting.cflp.solve` and recomputes its objective with :func:`total_cost`, outside the
solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimiser.siting.cflp.instance import parse_groups

__all__ = ["FacilityLocationSolution", "check_facility_location", "relative_gap", "total_cost"]

_CHECK_TOL = 1e-6  # relative tolerance of the independent check


@dataclass(frozen=True)
class FacilityLocationSolution:
    """An optimal (or best found) facility-location plan.

    Attributes
    ----------
    open : numpy.ndarray
        Boolean, shape (m,): facility i is open. Only facilities serving some
        demand are reported open.
    assignment : numpy.ndarray
        Float, shape (m, n): fraction of customer j's demand served by
        facility i; each column sums to 1 (0/1 entries when single-sourced).
    objective : float
        Fixed plus assignment cost, recomputed from ``open`` and ``assignment``.
    bound : float
        Best proven lower bound on the optimum (<= ``objective``).
    gap : float
        Relative gap ``(objective - bound) / |objective|`` (0 when both are 0).
    status : str
        ``"optimal"`` when the solver proved optimality (and the recomputed
        gap is <= 1e-6), else ``"feasible"``.
    solve_time_s : float
        Wall-clock time of the whole call [s].
    engine : str
        Solver used: ``"highs"``, ``"highspy"`` or ``"cp_sat"`` (after a race, the
        winner); ``"lagrangian"`` when the Lagrangian bound proved the incumbent, else
        ``"lagrangian+"`` and the engine of the reduced model.
    """

    open: np.ndarray
    assignment: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    solve_time_s: float
    engine: str


def total_cost(
    fixed_cost: np.ndarray, assign_cost: np.ndarray, open_: np.ndarray, assignment: np.ndarray
) -> float:
    """Fixed cost of the open facilities plus the assignment cost (split demand pro rata)."""
    used = assignment > 0
    return float(fixed_cost[open_].sum() + (assign_cost[used] * assignment[used]).sum())


def check_facility_location(
    fixed_cost: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    assign_cost: np.ndarray,
    solution: FacilityLocationSolution,
    *,
    single_source: bool = False,
    budget: float | None = None,
    k: int | None = None,
    groups: object = None,
    families: object = None,
) -> list[str]:
    """Independently check a solution against constraints 1-7 and its objective.

    Parameters
    ----------
    fixed_cost, capacity, demand, assign_cost : numpy.ndarray
        The instance, as passed to :func:`optimiser.siting.solve_facility_location`.
    solution : FacilityLocationSolution
        The solution to check.
    single_source : bool, default False
        Also require 0/1 assignments.
    budget : float, optional
        Cap on the fixed cost of open facilities.
    k : int, optional
        Cap on the number of open facilities.
    groups : list of lists of int, optional
        Sets of facilities of which at most one may be open.
    families : array_like, optional
        A family id per facility; at most one member of a family may be open.

    Returns
    -------
    list of str
        One message per violated rule; empty when the solution is valid.
    """
    f, u, d = (np.asarray(a, float) for a in (fixed_cost, capacity, demand))
    c, a, y = np.asarray(assign_cost, float), solution.assignment, solution.open
    tol = _CHECK_TOL
    problems = []
    if not np.allclose(a.sum(axis=0), 1.0, atol=tol) or (a < 0).any():
        problems.append("(1) some customer's assignment fractions do not sum to 1")
    over = np.flatnonzero(a @ d > u * y + tol * np.maximum(u, 1.0))
    if over.size:
        problems.append(f"(2) capacity exceeded at facilities {over[:10].tolist()}")
    if ((a > 0) & ~y[:, None]).any() or ((a > 0) & ~np.isfinite(c)).any():
        problems.append("(3) demand assigned to a closed facility or a forbidden pair")
    if single_source and not np.isin(a, (0.0, 1.0)).all():
        problems.append("single source: an assignment is not 0 or 1")
    if budget is not None and f[y].sum() > budget * (1 + tol) + tol:
        problems.append(f"(5) fixed cost {f[y].sum():g} exceeds budget {budget:g}")
    if k is not None and y.sum() > k:
        problems.append(f"(6) {int(y.sum())} facilities open, more than k={k}")
    family = np.arange(y.size) if families is None else np.asarray(families).reshape(-1)
    shared = [np.flatnonzero(family == f) for f in np.unique(family[y])]
    for g in [*(parse_groups(groups, y.size) or ()), *shared]:
        if y[g].sum() > 1:
            problems.append(f"(7) facilities {g[y[g]].tolist()} of one group are all open")
    recomputed = total_cost(f, c, y, a)
    if not math.isclose(recomputed, solution.objective, rel_tol=1e-9, abs_tol=1e-9):
        problems.append(f"objective {solution.objective} != recomputed {recomputed}")
    return problems


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / |objective|``; 0 when the bound meets the objective."""
    if objective - bound <= 0:
        return 0.0
    return (objective - bound) / max(abs(objective), 1e-12)
