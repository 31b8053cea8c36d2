"""Capacitated facility location on plain arrays: the exact core of siting.

Formulation
-----------
Sets: facilities (candidate sites) I = {0..m-1}; customers (demand zones) J =
{0..n-1}; allowed pairs P ⊆ I × J, the pairs with a finite ``assign_cost``
(in the single-source case also ``demand_j <= capacity_i``).

Data: fixed cost f_i, capacity u_i, demand d_j, and c_ij = the cost of serving
*all* of customer j's demand from facility i (a fraction x_ij of it costs
c_ij x_ij).

Variables: y_i ∈ {0, 1}, facility i is open; x_ij ∈ [0, 1] for (i, j) ∈ P,
the fraction of j's demand served by i (x_ij ∈ {0, 1} when single-sourced).

Objective: minimise Σ_i f_i y_i + Σ_(i,j)∈P c_ij x_ij.

Constraints:

1. Σ_i x_ij = 1 for every customer j (all demand is served);
2. Σ_j d_j x_ij <= u_i y_i for every facility i (capacity, only when open);
3. x_ij <= y_i for every (i, j) ∈ P (strong linking; redundant with 2 for
   integers, it makes the LP relaxation much tighter);
4. Σ_i u_i y_i >= Σ_j d_j (aggregate capacity cut, valid and tightening);
5. Σ_i f_i y_i <= budget (only when ``budget`` is given);
6. Σ_i y_i <= k (only when ``k`` is given);
7. Σ_(i∈G) y_i <= 1 for every group G in ``groups`` (mutually exclusive facilities;
   only when ``groups`` is given).

Families (optional ``families``: a family id per facility) are alternative
capacities of one site, e.g. the sizes of a base: at most one member opens
(a row of 7), and the members share the assignment variables x_gj, so 2 and 3
read Σ_j d_j x_gj <= Σ_(i∈g) u_i y_i and x_gj <= Σ_(i∈g) y_i (members must have
equal ``assign_cost`` rows). Each facility alone is its own family by default,
which is the model above; shared x make a model with s sizes up to s times
smaller, and HiGHS proves LA-scale siting 3-7x faster (benchmarks/bench_site.py).

Solvers (chosen by measurement, see benchmarks/bench_siting_core.py): split demand is a MIP
with continuous x and goes to HiGHS (MathOpt); single sourcing with whole-number
demands and capacities goes to CP-SAT with one worker (linearization level 2),
which proves the Holmberg instances 1.3-4x faster than HiGHS; otherwise HiGHS. Both runs are
deterministic unless the time limit is hit.

The returned objective is recomputed in numpy from ``open`` and ``assignment``
and the solution is re-checked by :func:`check_facility_location` before it is
returned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimiser._errors import DataValidationError, InfeasibleError, SolverError
from optimiser._solver import (
    INFEASIBLE,
    OPTIMAL,
    MipModel,
    cp_sat_accepts,
    solve_mip,
)

__all__ = ["FacilityLocationSolution", "check_facility_location", "solve_facility_location"]

_CLEAN_TOL = 1e-7  # assignment fractions below this are solver noise
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
        Solver used: ``"highs"`` or ``"cp_sat"``.
    """

    open: np.ndarray
    assignment: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    solve_time_s: float
    engine: str


@dataclass(frozen=True)
class _Instance:
    fixed_cost: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    assign_cost: np.ndarray
    family: np.ndarray  # family of each facility, 0..F-1 (default: the facility itself)
    pair_i: np.ndarray  # allowed (family, customer) pairs, row-major order
    pair_j: np.ndarray


# ------------------------------------------------------------------ validation


def _vector(name: str, values: object, what: str, length: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"{name} must be numeric, one value per {what}; found {values!r}."
        raise DataValidationError(msg) from exc
    if arr.ndim != 1 or arr.size == 0 or (length is not None and arr.size != length):
        expected = f"length {length}" if length is not None else "a non-empty 1-D array"
        msg = (
            f"{name} must be a 1-D array with one value per {what} ({expected}); "
            f"found shape {arr.shape}."
        )
        raise DataValidationError(msg)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        msg = (
            f"{name} must be finite and >= 0; found {arr[first]} at index {first} "
            f"({int(bad.sum())} bad value(s)). Fix or drop that {what}."
        )
        raise DataValidationError(msg)
    return arr


def _cost_matrix(values: object, m: int, n: int) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"assign_cost must be a numeric (m, n) = ({m}, {n}) array; found {values!r}."
        raise DataValidationError(msg) from exc
    if arr.shape != (m, n):
        msg = (
            f"assign_cost must have shape (m, n) = ({m}, {n}) (facilities x customers, "
            f"from fixed_cost and demand); found {arr.shape}. Transpose it if needed."
        )
        raise DataValidationError(msg)
    bad = np.isnan(arr) | (arr < 0)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        msg = (
            f"assign_cost must be >= 0, or np.inf for a forbidden pair; found {arr[i, j]} "
            f"at [{i}, {j}] ({int(bad.sum())} bad value(s)). Use np.inf, not NaN."
        )
        raise DataValidationError(msg)
    return arr


def _groups(groups: object, m: int) -> tuple[np.ndarray, ...] | None:
    if groups is None:
        return None
    try:
        raw = [np.asarray(g).reshape(-1) for g in groups]  # type: ignore[attr-defined]
        out = tuple(g.astype(np.int64) for g in raw if g.size)
        if any(not np.array_equal(g, g.astype(np.int64)) for g in raw if g.size):
            raise ValueError
    except (TypeError, ValueError) as exc:
        msg = f"groups must be a list of lists of facility indices; found {groups!r}."
        raise DataValidationError(msg) from exc
    for g in out:
        if g.min() < 0 or g.max() >= m or np.unique(g).size != g.size:
            msg = (
                f"each group must list distinct facility indices in 0..{m - 1}; "
                f"found {g.tolist()}. Fix the index or drop the duplicate."
            )
            raise DataValidationError(msg)
    return out


def _check_options(budget: float | None, k: int | None, time_limit_s: float) -> None:
    if budget is not None and not (
        isinstance(budget, int | float | np.number) and math.isfinite(budget) and budget >= 0
    ):
        msg = f"budget must be a finite number >= 0 (or None for no cap); found {budget!r}."
        raise DataValidationError(msg)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0):
        msg = f"k must be a whole number >= 0 (or None for no cap); found {k!r}."
        raise DataValidationError(msg)
    if not (
        isinstance(time_limit_s, int | float | np.number)
        and math.isfinite(time_limit_s)
        and time_limit_s > 0
    ):
        msg = f"time_limit_s must be a positive number of seconds; found {time_limit_s!r}."
        raise DataValidationError(msg)


def _families(families: object, cost: np.ndarray) -> np.ndarray:
    m = cost.shape[0]
    if families is None:
        return np.arange(m)
    ids = np.asarray(families).reshape(-1)
    if ids.size != m:
        msg = f"families must give one family id per facility ({m}); found {ids.size}."
        raise DataValidationError(msg)
    family = np.unique(ids, return_inverse=True)[1].reshape(-1)
    first = np.unique(family, return_index=True)[1][family]
    same = np.where(np.isfinite(cost), cost, -1.0) == np.where(
        np.isfinite(cost[first]), cost[first], -1.0
    )
    if not same.all():
        i = int(np.flatnonzero(~same.all(axis=1))[0])
        msg = (
            f"facilities {int(first[i])} and {i} share family {ids[i]!r} but their "
            "assign_cost rows differ; members of a family must cost the same."
        )
        raise DataValidationError(msg)
    return family


def _instance(
    fixed_cost: object,
    capacity: object,
    demand: object,
    assign_cost: object,
    single_source: bool,
    families: object = None,
) -> _Instance:
    fixed = _vector("fixed_cost", fixed_cost, "facility")
    m = fixed.size
    cap = _vector("capacity", capacity, "facility", m)
    dem = _vector("demand", demand, "customer")
    cost = _cost_matrix(assign_cost, m, dem.size)
    family = _families(families, cost)
    rep = np.unique(family, return_index=True)[1]  # first member of each family
    allowed = np.isfinite(cost[rep])
    if single_source:
        big = np.zeros(rep.size)
        np.maximum.at(big, family, cap)
        allowed &= dem[None, :] <= big[:, None]
    pair_i, pair_j = np.nonzero(allowed)
    return _Instance(fixed, cap, dem, cost, family, pair_i, pair_j)


def _family_capacity(inst: _Instance) -> np.ndarray:
    big = np.zeros(int(inst.family.max()) + 1)
    np.maximum.at(big, inst.family, inst.capacity)
    return big


# --------------------------------------------------------------- infeasibility


def _fixed_cost_lower_bound(inst: _Instance) -> float:
    """Least fixed cost of enough capacity for all demand (fractional knapsack)."""
    need = inst.demand.sum()
    order = np.lexsort(
        (np.arange(inst.capacity.size), inst.fixed_cost / np.maximum(inst.capacity, 1e-300))
    )
    cost, got = 0.0, 0.0
    for i in order:
        if got >= need or inst.capacity[i] <= 0:
            continue
        take = min(1.0, (need - got) / inst.capacity[i])
        cost += take * inst.fixed_cost[i]
        got += take * inst.capacity[i]
    return cost


def _infeasibility_causes(
    inst: _Instance, single_source: bool, budget: float | None, k: int | None, groups: object = None
) -> list[str]:
    """Return reasons, each provable without solving, why no solution exists."""
    causes = []
    served = np.zeros(inst.demand.size, bool)
    served[inst.pair_j] = True
    if not served.all():
        lonely = np.flatnonzero(~served)
        rule = "a finite assign_cost" + (" and capacity >= its demand" if single_source else "")
        causes.append(
            f"customer(s) {lonely[:10].tolist()} have no facility with {rule}; "
            "allow at least one facility for each customer"
        )
    total_cap, total_dem = _family_capacity(inst).sum(), inst.demand.sum()
    if total_cap < total_dem:
        causes.append(
            f"total capacity {total_cap:g} < total demand {total_dem:g}; "
            "add capacity or reduce demand"
        )
    if k is not None:
        top = np.sort(_family_capacity(inst))[::-1][:k].sum()
        if k == 0 or top < total_dem:
            causes.append(
                f"k={k} facilities offer at most {top:g} capacity for total demand "
                f"{total_dem:g} (and at least one must open); raise k"
            )
    if budget is not None:
        need = max(_fixed_cost_lower_bound(inst), inst.fixed_cost.min())
        if need > budget * (1 + 1e-12):
            causes.append(
                f"budget={budget:g} is below {need:g}, the least fixed cost of "
                f"facilities able to cover total demand {total_dem:g}; raise budget"
            )
    return causes


def _raise_infeasible(
    causes: list[str],
    *,
    proven_by_solver: bool,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: object = None,
) -> None:
    if not causes and proven_by_solver:
        causes = [
            f"no set of open facilities meets capacity, budget={budget}, k={k}"
            f"{', the groups' if groups else ''}"
            f"{' and single sourcing' if single_source else ''} together; relax the "
            "budget or k, add capacity" + (", or allow split demand" if single_source else "")
        ]
    if causes:
        msg = "facility location is infeasible: " + "; ".join(causes) + "."
        raise InfeasibleError(msg)


# ----------------------------------------------------------------------- model


def _build_model(
    inst: _Instance,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: tuple[np.ndarray, ...] | None = None,
) -> MipModel:
    """Build constraints 1-7 of the module docstring as a sparse :class:`MipModel`.

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


# -------------------------------------------------------------------- solution


def _assignment(inst: _Instance, values: np.ndarray, single_source: bool) -> np.ndarray:
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


def _total_cost(
    fixed_cost: np.ndarray, assign_cost: np.ndarray, open_: np.ndarray, assignment: np.ndarray
) -> float:
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
        The instance, as passed to :func:`solve_facility_location`.
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
    for g in [*(_groups(groups, y.size) or ()), *shared]:
        if y[g].sum() > 1:
            problems.append(f"(7) facilities {g[y[g]].tolist()} of one group are all open")
    recomputed = _total_cost(f, c, y, a)
    if not math.isclose(recomputed, solution.objective, rel_tol=1e-9, abs_tol=1e-9):
        problems.append(f"objective {solution.objective} != recomputed {recomputed}")
    return problems


def _gap(objective: float, bound: float) -> float:
    if objective - bound <= 0:
        return 0.0
    return (objective - bound) / max(abs(objective), 1e-12)


# --------------------------------------------------------------------- solving


def solve_facility_location(
    fixed_cost: object,
    capacity: object,
    demand: object,
    assign_cost: object,
    *,
    single_source: bool = False,
    budget: float | None = None,
    k: int | None = None,
    time_limit_s: float = 60.0,
    groups: object = None,
    families: object = None,
    engine: str | None = None,
) -> FacilityLocationSolution:
    """Solve capacitated facility location exactly (see the module docstring).

    Parameters
    ----------
    fixed_cost : array_like, shape (m,)
        Cost of opening each facility (>= 0) [GBP, or any currency unit].
    capacity : array_like, shape (m,)
        Capacity of each facility (>= 0), in the units of ``demand`` [places].
    demand : array_like, shape (n,)
        Demand of each customer (>= 0) [places].
    assign_cost : array_like, shape (m, n)
        Cost of serving *all* of customer j's demand from facility i (>= 0);
        a fraction pays pro rata. ``np.inf`` forbids the pair.
    single_source : bool, default False
        Serve each customer wholly from one facility.
    budget : float, optional
        Cap on the summed fixed cost of open facilities.
    k : int, optional
        Cap on the number of open facilities.
    time_limit_s : float, default 60.0
        Wall-clock cap on the solver [s]. A run stopped by it returns status
        ``"feasible"`` with its gap (and is no longer reproducible).
    groups : list of lists of int, optional
        Sets of facility indices of which at most one may open (constraint 7).
        A facility may be in several.
    families : array_like, shape (m,), optional
        A family id per facility: alternative capacities of one site (e.g. its
        sizes), of which at most one opens, sharing assignment variables; members
        need equal ``assign_cost`` rows. Default: each facility its own family.
    engine : {"highs", "cp_sat"}, optional
        Force a solver; default: the choice of the module docstring. CP-SAT
        needs whole-number demands, capacities and budget-row coefficients.

    Returns
    -------
    FacilityLocationSolution

    Raises
    ------
    DataValidationError
        If an argument has the wrong shape, a NaN, or a negative value.
    InfeasibleError
        If no plan exists; the message names the cause (a customer no facility
        may serve, total capacity below total demand, k or budget too small,
        or their combination with single sourcing).
    SolverError
        If no feasible plan is found within ``time_limit_s``, or the solver
        fails, or its answer fails the independent check.
    """
    start = time.perf_counter()
    _check_options(budget, k, time_limit_s)
    inst = _instance(fixed_cost, capacity, demand, assign_cost, bool(single_source), families)
    opts = {
        "single_source": bool(single_source),
        "budget": budget,
        "k": k,
        "groups": _groups(groups, inst.fixed_cost.size),
    }
    _raise_infeasible(_infeasibility_causes(inst, **opts), proven_by_solver=False, **opts)
    model = _build_model(inst, **opts)
    if engine not in (None, "highs", "cp_sat") or (
        engine == "cp_sat" and not (single_source and cp_sat_accepts(model))
    ):
        msg = (
            f"engine must be None, 'highs', or 'cp_sat' (single source with whole-number "
            f"demands, capacities and fixed costs when budget is set); found {engine!r}."
        )
        raise DataValidationError(msg)
    if engine is None:
        engine = "cp_sat" if single_source and cp_sat_accepts(model) else "highs"
    result = solve_mip(model, engine=engine, time_limit_s=float(time_limit_s))
    if result.status == INFEASIBLE:
        _raise_infeasible([], proven_by_solver=True, **opts)
    if result.values is None:
        msg = (
            f"{engine} found no feasible plan within time_limit_s={time_limit_s} "
            f"(status {result.status}); raise time_limit_s or relax budget/k."
        )
        raise SolverError(msg)
    assignment = _assignment(inst, result.values, bool(single_source))
    open_ = assignment.sum(axis=1) > 0
    objective = _total_cost(inst.fixed_cost, inst.assign_cost, open_, assignment)
    bound = min(result.bound, objective)
    gap = _gap(objective, bound)
    status = OPTIMAL if result.status == OPTIMAL and gap <= 1e-6 else "feasible"
    for arr in (open_, assignment):
        arr.setflags(write=False)
    solution = FacilityLocationSolution(
        open_, assignment, objective, bound, gap, status, time.perf_counter() - start, engine
    )
    problems = check_facility_location(
        inst.fixed_cost,
        inst.capacity,
        inst.demand,
        inst.assign_cost,
        solution,
        families=inst.family,
        **opts,
    )
    if problems:
        msg = "the facility-location solution failed the independent check: " + "; ".join(problems)
        raise SolverError(msg)
    return solution
