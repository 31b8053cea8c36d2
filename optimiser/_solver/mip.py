"""Mixed-integer programs as sparse arrays, solved with HiGHS (MathOpt), SCIP or CP-SAT."""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver.status import (
    _CP_SAT_MAX_COEFF,
    _SCIP_PARAMETERS,
    ENGINES,
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    UNKNOWN,
)

# ------------------------------------------------------------------------ MIP


@dataclass(frozen=True)
class MipModel:
    """A mixed-integer linear program: minimise ``c @ v`` subject to bounds.

    ``row_lower <= A @ v <= row_upper`` and ``var_lower <= v <= var_upper``,
    with ``v[k]`` integer where ``is_integer[k]``. Infinite bounds mean "none".

    Attributes
    ----------
    objective : numpy.ndarray
        Objective coefficients ``c``, shape (n_vars,).
    matrix : scipy.sparse.csr_matrix
        Constraint matrix ``A``, shape (n_rows, n_vars).
    row_lower, row_upper : numpy.ndarray
        Row bounds, shape (n_rows,).
    var_lower, var_upper : numpy.ndarray
        Variable bounds, shape (n_vars,).
    is_integer : numpy.ndarray
        Boolean integrality mask, shape (n_vars,).
    """

    objective: np.ndarray
    matrix: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    var_lower: np.ndarray
    var_upper: np.ndarray
    is_integer: np.ndarray

    def __post_init__(self) -> None:
        n_rows, n_vars = self.matrix.shape
        for name, size in (
            ("objective", n_vars),
            ("row_lower", n_rows),
            ("row_upper", n_rows),
            ("var_lower", n_vars),
            ("var_upper", n_vars),
            ("is_integer", n_vars),
        ):
            if np.shape(getattr(self, name)) != (size,):
                msg = (
                    f"MipModel.{name} has shape {np.shape(getattr(self, name))}; "
                    f"expected ({size},) to match the {n_rows}x{n_vars} matrix."
                )
                raise DataValidationError(msg)


@dataclass(frozen=True)
class MipSolution:
    """Result of :func:`solve_mip`.

    Attributes
    ----------
    values : numpy.ndarray or None
        Variable values of the best solution found (None when there is none).
    objective : float
        Solver-reported objective of ``values`` (NaN when there is none).
    bound : float
        Best proven lower bound on the optimum (-inf when unknown).
    status : str
        ``"optimal"``, ``"feasible"``, ``"infeasible"`` or ``"unknown"``.
    solve_time_s : float
        Wall-clock time of the solve call [s].
    engine : str
        The engine used (``"scip"`` or ``"cp_sat"``).
    """

    values: np.ndarray | None
    objective: float
    bound: float
    status: str
    solve_time_s: float
    engine: str


def solve_mip(
    model: MipModel, *, engine: str = "highs", time_limit_s: float = 60.0, num_workers: int = 1
) -> MipSolution:
    """Minimise a :class:`MipModel` deterministically.

    Parameters
    ----------
    model : MipModel
        The program to solve.
    engine : {"highs", "scip", "cp_sat"}, default "highs"
        ``"highs"``: HiGHS through MathOpt, any MIP (relative gap 1e-9).
        ``"scip"``: SCIP through OR-Tools' model builder, any MIP.
        ``"cp_sat"``: CP-SAT; every variable must be integer and every
        constraint coefficient integral (the objective may be fractional).
    time_limit_s : float, default 60.0
        Wall-clock cap [s].
    num_workers : int, default 1
        CP-SAT search workers; above 1, ``interleave_search`` keeps the run
        deterministic. Ignored by HiGHS and SCIP (serial search).

    Returns
    -------
    MipSolution

    Raises
    ------
    DataValidationError
        If the engine is unknown or the model does not suit it.
    SolverError
        If the solver reports an invalid model or an internal failure.
    """
    if engine not in ENGINES:
        msg = f"engine must be one of {ENGINES}; found {engine!r}."
        raise DataValidationError(msg)
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        msg = f"time_limit_s must be a positive finite number of seconds; found {time_limit_s}."
        raise DataValidationError(msg)
    if engine == "highs":
        return _solve_highs(model, time_limit_s)
    if engine == "scip":
        return _solve_scip(model, time_limit_s)
    return _solve_cp_sat(model, time_limit_s, num_workers)


def _to_mathopt_proto(model: MipModel) -> model_pb2.ModelProto:
    proto = model_pb2.ModelProto()
    n_vars = model.objective.size
    proto.variables.ids.extend(range(n_vars))
    proto.variables.lower_bounds.extend(np.asarray(model.var_lower, float).tolist())
    proto.variables.upper_bounds.extend(np.asarray(model.var_upper, float).tolist())
    proto.variables.integers.extend(np.asarray(model.is_integer, bool).tolist())
    obj = np.asarray(model.objective, float)
    nz = np.flatnonzero(obj)
    proto.objective.linear_coefficients.ids.extend(nz.tolist())
    proto.objective.linear_coefficients.values.extend(obj[nz].tolist())
    proto.linear_constraints.ids.extend(range(model.matrix.shape[0]))
    proto.linear_constraints.lower_bounds.extend(np.asarray(model.row_lower, float).tolist())
    proto.linear_constraints.upper_bounds.extend(np.asarray(model.row_upper, float).tolist())
    coo = sp.coo_matrix(model.matrix)
    coo.sum_duplicates()
    order = np.lexsort((coo.col, coo.row))  # MathOpt wants row-major, sorted entries
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(coo.row[order].tolist())
    mat.column_ids.extend(coo.col[order].tolist())
    mat.coefficients.extend(coo.data[order].astype(float).tolist())
    return proto


_MATHOPT_STATUS = {
    "OPTIMAL": OPTIMAL,
    "FEASIBLE": FEASIBLE,
    "INFEASIBLE": INFEASIBLE,
    "NO_SOLUTION_FOUND": UNKNOWN,
}


def _solve_highs(model: MipModel, time_limit_s: float) -> MipSolution:
    start = time.perf_counter()
    mo = mathopt.Model.from_model_proto(_to_mathopt_proto(model))
    params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=time_limit_s),
        random_seed=0,
        relative_gap_tolerance=1e-9,
        absolute_gap_tolerance=1e-6,
    )
    try:
        result = mathopt.solve(mo, mathopt.SolverType.HIGHS, params=params)
    except Exception as exc:  # the MathOpt boundary: anything raised here is a solver failure
        msg = f"HiGHS (MathOpt) failed before returning a result: {exc}. Check the model data."
        raise SolverError(msg) from exc
    reason = result.termination.reason.name
    status = _MATHOPT_STATUS.get(reason)
    bounded = np.isfinite(model.var_lower).all() and np.isfinite(model.var_upper).all()
    if reason == "INFEASIBLE_OR_UNBOUNDED" and bounded:
        status = INFEASIBLE  # every variable is bounded, so the model cannot be unbounded
    if status is None:
        msg = (
            f"HiGHS returned termination {reason} ({result.termination.detail}); "
            "check for huge or tiny coefficients and inconsistent bounds."
        )
        raise SolverError(msg)
    values, objective, bound = None, math.nan, -math.inf
    if status in (OPTIMAL, FEASIBLE) and result.has_primal_feasible_solution():
        found = result.variable_values()
        values = np.fromiter((found[v] for v in mo.variables()), float, model.objective.size)
        objective = float(result.objective_value())
        bound = min(float(result.termination.objective_bounds.dual_bound), objective)
    elif status in (OPTIMAL, FEASIBLE):
        status = UNKNOWN
    return MipSolution(values, objective, bound, status, time.perf_counter() - start, "highs")


_MB_STATUS = {
    "OPTIMAL": OPTIMAL,
    "FEASIBLE": FEASIBLE,
    "INFEASIBLE": INFEASIBLE,
    "NOT_SOLVED": UNKNOWN,
    "UNKNOWN_STATUS": UNKNOWN,
}


def _solve_scip(model: MipModel, time_limit_s: float) -> MipSolution:
    start = time.perf_counter()
    mb = model_builder.Model()
    n_vars = model.objective.size
    # ortools' stub types each array as ndarray[float64[m, 1]] (a pybind11 shape): wrong
    mb.helper.fill_model_from_sparse_data(
        np.asarray(model.var_lower, float),  # type: ignore[arg-type]  # ortools stub bug
        np.asarray(model.var_upper, float),  # type: ignore[arg-type]  # ortools stub bug
        np.asarray(model.objective, float),  # type: ignore[arg-type]  # ortools stub bug
        np.asarray(model.row_lower, float),  # type: ignore[arg-type]  # ortools stub bug
        np.asarray(model.row_upper, float),  # type: ignore[arg-type]  # ortools stub bug
        sp.csr_matrix(model.matrix, dtype=np.float64),
    )
    for k in np.flatnonzero(model.is_integer):
        mb.helper.set_var_integrality(int(k), True)
    solver = model_builder.Solver("scip")
    if not solver.solver_is_supported():
        msg = "this OR-Tools build has no SCIP; reinstall ortools from PyPI."
        raise SolverError(msg)
    solver.set_time_limit_in_seconds(time_limit_s)
    solver.set_solver_specific_parameters(_SCIP_PARAMETERS)
    raw = solver.solve(mb)
    status = _MB_STATUS.get(raw.name)
    if status is None:
        msg = (
            f"SCIP returned status {raw.name}; the model is invalid or the solver failed. "
            "Check for NaN/huge coefficients and inconsistent bounds."
        )
        raise SolverError(msg)
    values, objective = None, math.nan
    if status in (OPTIMAL, FEASIBLE):
        variables = [mb.var_from_index(k) for k in range(n_vars)]
        values = np.array([solver.value(v) for v in variables], dtype=float)
        objective = float(solver.objective_value)
    bound = float(solver.best_objective_bound) if values is not None else -math.inf
    if status == OPTIMAL:
        bound = min(bound, objective)
    return MipSolution(values, objective, bound, status, time.perf_counter() - start, "scip")


def _integral(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(
        np.array_equal(finite, np.round(finite))
        and (finite.size == 0 or np.abs(finite).max() <= _CP_SAT_MAX_COEFF)
    )


def cp_sat_accepts(model: MipModel) -> bool:
    """Return True when ``model`` can be solved exactly by CP-SAT.

    Parameters
    ----------
    model : MipModel

    Returns
    -------
    bool
        True if every variable is integer with finite bounds and the matrix
        coefficients are integral and of moderate size (row bounds are rounded
        inwards, which is exact for integer rows).
    """
    return bool(
        model.is_integer.all()
        and np.isfinite(model.var_lower).all()
        and np.isfinite(model.var_upper).all()
        and _integral(np.asarray(model.matrix.data, float))
        and _integral(np.asarray(model.var_lower, float))
        and _integral(np.asarray(model.var_upper, float))
        and np.abs(model.objective).max(initial=0.0) <= _CP_SAT_MAX_COEFF
    )


_CP_STATUS = {
    "OPTIMAL": OPTIMAL,
    "FEASIBLE": FEASIBLE,
    "INFEASIBLE": INFEASIBLE,
    "UNKNOWN": UNKNOWN,
}


def _build_cp_sat(model: MipModel) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    cp = cp_model.CpModel()
    lo, hi = model.var_lower.astype(np.int64), model.var_upper.astype(np.int64)
    variables = [
        cp.new_int_var(int(a), int(b), f"v{k}") for k, (a, b) in enumerate(zip(lo, hi, strict=True))
    ]
    mat = sp.csr_matrix(model.matrix)
    # Integer rows: round the bounds inwards (exact), infinite bounds become CP-SAT's limits.
    row_lo = [
        math.ceil(b - 1e-9) if math.isfinite(b) else cp_model.INT_MIN for b in model.row_lower
    ]
    row_hi = [
        math.floor(b + 1e-9) if math.isfinite(b) else cp_model.INT_MAX for b in model.row_upper
    ]
    for r in range(mat.shape[0]):
        cols = mat.indices[mat.indptr[r] : mat.indptr[r + 1]]
        coeffs = mat.data[mat.indptr[r] : mat.indptr[r + 1]].astype(np.int64)
        expr = cp_model.LinearExpr.weighted_sum([variables[c] for c in cols], coeffs.tolist())
        cp.add_linear_constraint(expr, row_lo[r], row_hi[r])
    obj = np.asarray(model.objective, float)
    nz = np.flatnonzero(obj)
    coeffs = obj[nz].astype(np.int64).tolist() if _integral(obj) else obj[nz].tolist()
    cp.minimize(cp_model.LinearExpr.weighted_sum([variables[k] for k in nz], coeffs))
    return cp, variables


def _solve_cp_sat(model: MipModel, time_limit_s: float, num_workers: int) -> MipSolution:
    if not cp_sat_accepts(model):
        msg = (
            "engine='cp_sat' needs integer variables with finite bounds and integral "
            "constraint coefficients; use engine='scip' for this model."
        )
        raise DataValidationError(msg)
    start = time.perf_counter()
    cp, variables = _build_cp_sat(model)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(1, int(num_workers))
    params.random_seed = 0
    params.interleave_search = params.num_workers > 1
    params.linearization_level = 2
    params.max_time_in_seconds = float(time_limit_s)
    raw = solver.status_name(solver.solve(cp))
    status = _CP_STATUS.get(raw)
    if status is None:
        msg = f"CP-SAT returned status {raw}: {solver.solution_info()}. Check the model data."
        raise SolverError(msg)
    values, objective, bound = None, math.nan, -math.inf
    if status in (OPTIMAL, FEASIBLE):
        values = np.array([solver.value(v) for v in variables], dtype=float)
        objective = float(solver.objective_value)
        bound = min(float(solver.best_objective_bound), objective)
    return MipSolution(values, objective, bound, status, time.perf_counter() - start, "cp_sat")
