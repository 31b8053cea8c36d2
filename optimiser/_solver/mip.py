"""Mixed-integer programs as sparse arrays, solved with HiGHS (two builds), SCIP or CP-SAT."""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

import highspy
import highspy._core
import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder
from ortools.math_opt import model_pb2, result_pb2, solution_pb2
from ortools.math_opt.core.python import solver as mathopt_core
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
    model: MipModel,
    *,
    engine: str = "highs",
    time_limit_s: float = 60.0,
    num_workers: int = 1,
    hint: np.ndarray | None = None,
    work_limit: float | None = None,
) -> MipSolution:
    """Minimise a :class:`MipModel` deterministically.

    Parameters
    ----------
    model : MipModel
        The program to solve.
    engine : {"highs", "scip", "cp_sat"}, default "highs"
        ``"highs"``: the HiGHS built into OR-Tools, through MathOpt, any MIP (relative
        gap 1e-9). ``"highspy"``: the HiGHS of the highspy package (a newer release,
        one thread), any MIP; the two releases search differently (see
        :mod:`optimiser.siting.cflp.solve` for where each is faster).
        ``"scip"``: SCIP through OR-Tools' model builder, any MIP.
        ``"cp_sat"``: CP-SAT; every variable must be integer and every
        constraint coefficient integral (the objective may be fractional).
    time_limit_s : float, default 60.0
        Wall-clock cap [s].
    num_workers : int, default 1
        CP-SAT search workers; above 1, ``interleave_search`` keeps the run
        deterministic. Ignored by HiGHS and SCIP (serial search).
    hint : numpy.ndarray, optional
        A feasible (or nearly feasible) point, shape (n_vars,), given to HiGHS as its
        first incumbent (``"highspy"``) and to CP-SAT as a solution hint; ignored by
        MathOpt's HiGHS and SCIP.
    work_limit : float, optional
        A cap on work that does not depend on the machine, so that a run stopped by it
        ends the same way on any machine: for CP-SAT its deterministic time (its own
        measure of work, about a second each on an idle core); for ``"highspy"`` the
        branch-and-bound nodes (``mip_max_nodes``). Ignored by the other engines. It only
        speeds the search: the answer is optimal either way.

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
    if hint is not None and np.shape(hint) != model.objective.shape:
        msg = (
            f"hint has shape {np.shape(hint)}; expected {model.objective.shape}, one per variable."
        )
        raise DataValidationError(msg)
    if engine == "highs":
        return _solve_highs(model, time_limit_s, hint)
    if engine == "highspy":
        return _solve_highspy(model, time_limit_s, hint, work_limit)
    if engine == "scip":
        return _solve_scip(model, time_limit_s)
    return _solve_cp_sat(model, time_limit_s, num_workers, hint, work_limit)


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


def _solve_highs_proto(
    proto: model_pb2.ModelProto, params: mathopt.SolveParameters
) -> result_pb2.SolveResultProto:
    """MathOpt's solve on the proto itself: no Python model is built or parsed back."""
    return mathopt_core.solve(
        proto,
        mathopt.SolverType.HIGHS.value,
        mathopt.StreamableSolverInitArguments().to_proto(),
        params.to_proto(),
        mathopt.ModelSolveParameters().to_proto(),
        None,
        mathopt.CallbackRegistration().to_proto(),
        None,
        None,
    )


_TERMINATION = {
    result_pb2.TERMINATION_REASON_OPTIMAL: "OPTIMAL",
    result_pb2.TERMINATION_REASON_FEASIBLE: "FEASIBLE",
    result_pb2.TERMINATION_REASON_INFEASIBLE: "INFEASIBLE",
    result_pb2.TERMINATION_REASON_NO_SOLUTION_FOUND: "NO_SOLUTION_FOUND",
    result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED: "INFEASIBLE_OR_UNBOUNDED",
}


def _solve_highs(model: MipModel, time_limit_s: float, hint: np.ndarray | None) -> MipSolution:
    del hint  # MathOpt's HiGHS takes no solution hint
    start = time.perf_counter()
    params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=time_limit_s),
        random_seed=0,
        relative_gap_tolerance=1e-9,
        absolute_gap_tolerance=1e-6,
    )
    try:
        res = _solve_highs_proto(_to_mathopt_proto(model), params)
    except Exception as exc:  # the MathOpt boundary: anything raised here is a solver failure
        msg = f"HiGHS (MathOpt) failed before returning a result: {exc}. Check the model data."
        raise SolverError(msg) from exc
    reason = _TERMINATION.get(res.termination.reason, str(res.termination.reason))
    status = _MATHOPT_STATUS.get(reason)
    bounded = np.isfinite(model.var_lower).all() and np.isfinite(model.var_upper).all()
    if reason == "INFEASIBLE_OR_UNBOUNDED" and bounded:
        status = INFEASIBLE  # every variable is bounded, so the model cannot be unbounded
    if status is None:
        msg = (
            f"HiGHS returned termination {reason} ({res.termination.detail}); "
            "check for huge or tiny coefficients and inconsistent bounds."
        )
        raise SolverError(msg)
    values, objective, bound = None, math.nan, -math.inf
    primal = next(
        (
            sol.primal_solution
            for sol in res.solutions
            if sol.HasField("primal_solution")
            and sol.primal_solution.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE
        ),
        None,
    )
    if status in (OPTIMAL, FEASIBLE) and primal is not None:
        values = np.zeros(model.objective.size)
        found = primal.variable_values
        values[np.asarray(found.ids, dtype=np.int64)] = np.asarray(found.values, float)
        objective = float(primal.objective_value)
        bound = min(float(res.termination.objective_bounds.dual_bound), objective)
    elif status in (OPTIMAL, FEASIBLE):
        status = UNKNOWN
    return MipSolution(values, objective, bound, status, time.perf_counter() - start, "highs")


_HIGHS_STATUS = {
    "kOptimal": OPTIMAL,
    "kInfeasible": INFEASIBLE,
    "kTimeLimit": FEASIBLE,
    "kInterrupt": FEASIBLE,
    "kSolutionLimit": FEASIBLE,
    "kIterationLimit": FEASIBLE,
}


def _highs_lp(model: MipModel) -> highspy.HighsLp:
    """The model as a column-wise HighsLp (infinite bounds as HiGHS's infinity)."""
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    csc = sp.csc_matrix(model.matrix, dtype=np.float64)
    csc.sum_duplicates()
    lp.num_col_, lp.num_row_ = model.objective.size, csc.shape[0]
    lp.col_cost_ = np.asarray(model.objective, float)
    lp.col_lower_ = np.clip(np.asarray(model.var_lower, float), -inf, inf)
    lp.col_upper_ = np.clip(np.asarray(model.var_upper, float), -inf, inf)
    lp.row_lower_ = np.clip(np.asarray(model.row_lower, float), -inf, inf)
    lp.row_upper_ = np.clip(np.asarray(model.row_upper, float), -inf, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(b)] for b in np.asarray(model.is_integer, bool)]
    return lp


def _solve_highspy(
    model: MipModel, time_limit_s: float, hint: np.ndarray | None, max_nodes: float | None = None
) -> MipSolution:
    start = time.perf_counter()
    # the core class: highspy.Highs prints a banner to stdout when it is built
    h = highspy._core._Highs()
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", max(int(max_nodes), 1))
    for name, value in (
        ("output_flag", False),
        ("time_limit", float(time_limit_s)),
        ("random_seed", 0),
        ("threads", 1),
        ("mip_rel_gap", 1e-9),
        ("mip_abs_gap", 1e-6),
    ):
        h.setOptionValue(name, value)
    try:
        h.passModel(_highs_lp(model))
        if hint is not None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(hint, float).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
    except Exception as exc:  # the highspy boundary: anything raised here is a solver failure
        msg = f"HiGHS failed before returning a result: {exc}. Check the model data."
        raise SolverError(msg) from exc
    raw = h.getModelStatus().name
    status = _HIGHS_STATUS.get(raw)
    bounded = np.isfinite(model.var_lower).all() and np.isfinite(model.var_upper).all()
    if raw == "kUnboundedOrInfeasible" and bounded:
        status = INFEASIBLE  # every variable is bounded, so the model cannot be unbounded
    if status is None:
        msg = (
            f"HiGHS returned status {h.modelStatusToString(h.getModelStatus())}; "
            "check for huge or tiny coefficients and inconsistent bounds."
        )
        raise SolverError(msg)
    values, objective, bound = None, math.nan, -math.inf
    info = h.getInfo()
    if (
        status in (OPTIMAL, FEASIBLE) and info.primal_solution_status == 2
    ):  # kSolutionStatusFeasible
        values = np.asarray(h.getSolution().col_value, float)
        objective = float(info.objective_function_value)
        bound = min(float(info.mip_dual_bound), objective)
    elif status in (OPTIMAL, FEASIBLE):
        status = UNKNOWN
    return MipSolution(values, objective, bound, status, time.perf_counter() - start, "highspy")


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


def _solve_cp_sat(
    model: MipModel,
    time_limit_s: float,
    num_workers: int,
    hint: np.ndarray | None,
    work_limit: float | None = None,
) -> MipSolution:
    if not cp_sat_accepts(model):
        msg = (
            "engine='cp_sat' needs integer variables with finite bounds and integral "
            "constraint coefficients; use engine='scip' for this model."
        )
        raise DataValidationError(msg)
    start = time.perf_counter()
    cp, variables = _build_cp_sat(model)
    if hint is not None:
        for var, value in zip(variables, np.round(np.asarray(hint, float)), strict=True):
            cp.add_hint(var, int(value))
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(1, int(num_workers))
    params.random_seed = 0
    params.interleave_search = params.num_workers > 1
    params.linearization_level = 2
    params.max_time_in_seconds = float(time_limit_s)
    if work_limit is not None:
        params.max_deterministic_time = float(work_limit)
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
