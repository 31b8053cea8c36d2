"""Thin, deterministic wrappers around OR-Tools: the only module that imports ortools.

Everything here takes and returns plain numpy / scipy.sparse data, so OR-Tools
types never leak into the rest of the package.

- :func:`solve_min_cost_flow`: network flow with ``SimpleMinCostFlow`` (exact,
  integer data).
- :func:`solve_mip`: a mixed-integer linear program given as sparse arrays
  (:class:`MipModel`), solved with HiGHS (through MathOpt), SCIP (through the
  model builder) or CP-SAT (pure-integer models with integer constraint data).
- :func:`solve_vrp`: capacitated open vehicle routing with a heterogeneous fleet
  (OR-Tools routing; greedy descent, or guided local search to a time limit).

Determinism: HiGHS's branch and bound is serial and runs with
``random_seed=0``; SCIP runs single-threaded with its seed shift fixed at 0;
CP-SAT runs with ``random_seed=0`` and one worker (``interleave_search`` when
more workers are asked for). Runs that finish before the time limit are
therefore reproducible; a run that stops *at* the time limit depends on the
machine's speed, and its status says so ("feasible" with a gap, or "unknown").

Solver statuses are mapped to four strings: ``"optimal"`` (proven),
``"feasible"`` (a solution, optimality not proven), ``"infeasible"``
(proven to have no solution) and ``"unknown"`` (no solution found within the
limits). Anything else (invalid model, bad parameters, numerical trouble)
raises :class:`~optimiser._errors.SolverError`.
"""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.graph.python import min_cost_flow
from ortools.linear_solver.python import model_builder
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from optimiser._errors import DataValidationError, InfeasibleError, SolverError

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
UNKNOWN = "unknown"

ENGINES = ("highs", "scip", "cp_sat")

# Largest magnitude CP-SAT accepts safely for integer data (its own limit is 2**62,
# and sums of many terms must not overflow).
_CP_SAT_MAX_COEFF = 2**40

_SCIP_PARAMETERS = "limits/gap = 0\nlimits/absgap = 0\nrandomization/randomseedshift = 0"


# ------------------------------------------------------------------- min-cost flow


@dataclass(frozen=True)
class MinCostFlowSolution:
    """Result of :func:`solve_min_cost_flow`.

    Attributes
    ----------
    flow : numpy.ndarray
        Flow on each arc, int64, in the order the arcs were given.
    objective : int
        Total cost, sum of ``unit_cost * flow``.
    status : str
        Always ``"optimal"`` (every other outcome raises).
    """

    flow: np.ndarray
    objective: int
    status: str


def _as_int64(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a 1-D int64 array, or raise DataValidationError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        msg = f"{name} must be 1-D; found shape {arr.shape}. Pass one value per arc/node."
        raise DataValidationError(msg)
    if arr.dtype.kind in "iu" or arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "b" or arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if finite.all() and np.array_equal(arr, np.round(arr)):
            return arr.astype(np.int64)
    msg = (
        f"{name} must hold whole numbers (int64); found dtype {arr.dtype} with "
        "non-integral, NaN or infinite values. Round or scale the data to integers."
    )
    raise DataValidationError(msg)


def _check_flow_inputs(
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    unit_cost: np.ndarray,
    supply: np.ndarray,
    max_flow: bool,
) -> None:
    n_arcs, n_nodes = tail.size, supply.size
    for name, arr in (("head", head), ("capacity", capacity), ("unit_cost", unit_cost)):
        if arr.size != n_arcs:
            msg = f"{name} has {arr.size} entries but tail has {n_arcs}; give one value per arc."
            raise DataValidationError(msg)
    for name, arr in (("tail", tail), ("head", head)):
        if n_arcs and (arr.min() < 0 or arr.max() >= n_nodes):
            msg = (
                f"{name} must hold node indices in [0, {n_nodes}) (len(supply) nodes); "
                f"found values in [{arr.min()}, {arr.max()}]. Extend supply or fix the ids."
            )
            raise DataValidationError(msg)
    if n_arcs and capacity.min() < 0:
        msg = f"capacity must be >= 0; found {capacity.min()}. Remove or fix that arc."
        raise DataValidationError(msg)
    if not max_flow and supply.sum() != 0:
        msg = (
            f"supply must sum to 0 (sources positive, sinks negative); found "
            f"{supply.sum()}. Balance it, or pass max_flow=True."
        )
        raise DataValidationError(msg)


def solve_min_cost_flow(
    tail: object,
    head: object,
    capacity: object,
    unit_cost: object,
    supply: object,
    *,
    max_flow: bool = False,
) -> MinCostFlowSolution:
    """Solve a min-cost flow problem exactly (OR-Tools ``SimpleMinCostFlow``).

    Parameters
    ----------
    tail, head : array_like of int
        Start and end node of each arc; nodes are ``0 .. len(supply) - 1``.
    capacity : array_like of int
        Arc capacities (>= 0).
    unit_cost : array_like of int
        Cost per unit of flow on each arc (may be negative).
    supply : array_like of int
        Supply at each node (positive: source, negative: sink). Must sum to
        zero unless ``max_flow`` is True.
    max_flow : bool, default False
        If True, send as much of the supply as the capacities allow, at least
        cost among maximum flows (``SolveMaxFlowWithMinCost``); supplies then
        need not be met or balanced.

    Returns
    -------
    MinCostFlowSolution

    Raises
    ------
    DataValidationError
        If the arrays have the wrong shape, are not integral, or are inconsistent.
    InfeasibleError
        If the supplies cannot all be routed (only when ``max_flow`` is False).
    SolverError
        On any other non-optimal status (e.g. costs or capacities too large).
    """
    tail_a, head_a = _as_int64("tail", tail), _as_int64("head", head)
    cap_a, cost_a = _as_int64("capacity", capacity), _as_int64("unit_cost", unit_cost)
    supply_a = _as_int64("supply", supply)
    _check_flow_inputs(tail_a, head_a, cap_a, cost_a, supply_a, max_flow)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail_a, head_a, cap_a, cost_a)
    smcf.set_nodes_supplies(np.arange(supply_a.size, dtype=np.int64), supply_a)
    status = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    if status == smcf.OPTIMAL:
        flow = np.asarray(smcf.flows(arcs), dtype=np.int64) if tail_a.size else tail_a.copy()
        return MinCostFlowSolution(flow=flow, objective=int(smcf.optimal_cost()), status=OPTIMAL)
    if status == smcf.INFEASIBLE:
        msg = (
            "min-cost flow is infeasible: the supplies cannot be routed to the sinks "
            "within the arc capacities. Check capacities on the paths from each source, "
            "or use max_flow=True to route as much as possible."
        )
        raise InfeasibleError(msg)
    hints = {
        "UNBALANCED": "check that supply sums to zero",
        "BAD_COST_RANGE": "unit costs are too large for exact integer arithmetic; scale them down",
        "BAD_CAPACITY_RANGE": "capacities/supplies are too large; scale them down",
    }
    name = getattr(status, "name", str(status))
    msg = (
        f"min-cost flow solver returned status {name}: "
        f"{hints.get(name, 'check the network data (arcs, capacities, supplies)')}."
    )
    raise SolverError(msg)


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
    mb.helper.fill_model_from_sparse_data(
        np.asarray(model.var_lower, float),
        np.asarray(model.var_upper, float),
        np.asarray(model.objective, float),
        np.asarray(model.row_lower, float),
        np.asarray(model.row_upper, float),
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


# ------------------------------------------------------------------- vehicle routing


@dataclass(frozen=True)
class VrpSolution:
    """Result of :func:`solve_vrp` (node 0 is the depot; customers are nodes 1..m-1).

    Attributes
    ----------
    vehicle : numpy.ndarray
        Vehicle serving each node (int, -1 for the depot and dropped customers).
    stop : numpy.ndarray
        Position of each node on its vehicle's route (0 = first after the depot; -1 if none).
    arrival_s : numpy.ndarray
        Time-dimension value at each served node (time since leaving the depot), -1 if none.
    vehicle_type : numpy.ndarray
        Type index of each vehicle.
    objective : int
        Solver objective: arc costs + fixed costs of used vehicles + drop penalties.
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (a plan, optimality not proven) or
        ``"unknown"`` (no plan within the limits).
    hit_time_limit : bool
        True when the search stopped at the time limit.
    solve_time_s : float
        Wall-clock time [s].
    """

    vehicle: np.ndarray
    stop: np.ndarray
    arrival_s: np.ndarray
    vehicle_type: np.ndarray
    objective: int
    status: str
    hit_time_limit: bool
    solve_time_s: float


_ROUTING_STATUS = {
    "ROUTING_OPTIMAL": OPTIMAL,
    "ROUTING_SUCCESS": FEASIBLE,
    "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED": FEASIBLE,
    "ROUTING_NOT_SOLVED": UNKNOWN,
    "ROUTING_FAIL": UNKNOWN,
    "ROUTING_FAIL_TIMEOUT": UNKNOWN,
    "ROUTING_INFEASIBLE": UNKNOWN,
}


def _vrp_arrays(
    travel_s: object,
    arc_cost: object,
    fixed_cost: object,
    n_vehicles: object,
    demand: object,
    capacity: object,
    max_arrival_s: object,
) -> tuple:
    t = np.asarray(travel_s, dtype=np.int64)
    m = t.shape[0]
    cost = np.asarray(arc_cost, dtype=np.int64)
    k = cost.shape[0]
    dem = np.asarray(demand, dtype=np.int64).reshape(m, -1)
    cap = np.asarray(capacity, dtype=np.int64).reshape(k, -1)
    fixed, count = _as_int64("fixed_cost", fixed_cost), _as_int64("n_vehicles", n_vehicles)
    bound = _as_int64("max_arrival_s", max_arrival_s)
    shapes = {
        "travel_s": (t.shape, (m, m)),
        "arc_cost": (cost.shape, (k, m, m)),
        "fixed_cost": (fixed.shape, (k,)),
        "n_vehicles": (count.shape, (k,)),
        "capacity": (cap.shape, (k, dem.shape[1])),
        "max_arrival_s": (bound.shape, (m,)),
    }
    for name, (found, want) in shapes.items():
        if found != want:
            msg = f"{name} has shape {found}; expected {want} (m nodes, k vehicle types)."
            raise DataValidationError(msg)
    if min(t.min(), cost.min(), dem.min(), cap.min(), fixed.min(), count.min()) < 0:
        msg = "travel times, costs, demands, capacities and vehicle counts must be >= 0."
        raise DataValidationError(msg)
    return t, cost, fixed, count, dem, cap, bound


def _open(matrix: np.ndarray) -> list[list[int]]:
    """Append the zero-cost end node: routes are open (they finish at the last customer)."""
    m = matrix.shape[0]
    out = np.zeros((m + 1, m + 1), dtype=np.int64)
    out[:m, :m] = matrix
    return out.tolist()


def solve_vrp(
    travel_s: object,
    arc_cost: object,
    *,
    fixed_cost: object,
    n_vehicles: object,
    demand: object,
    capacity: object,
    max_arrival_s: object,
    service_s: object | None = None,
    drop_penalty: object | None = None,
    time_limit_s: float = 1.0,
    guided: bool = False,
    first_solution: str = "savings",
) -> VrpSolution:
    """Capacitated open vehicle routing from one depot, heterogeneous fleet (OR-Tools routing).

    Formulation: vehicles of type k (``n_vehicles[k]`` of them) leave the depot
    (node 0) at time 0, visit customers and stop at their last customer (open
    routes). Minimise Σ arc costs of the vehicle's type + ``fixed_cost[k]`` per
    vehicle used + ``drop_penalty[i]`` per customer not served. Constraints:
    (1) each customer served at most once (exactly once when ``drop_penalty`` is
    None); (2) Σ demand[i, d] on a vehicle ≤ capacity[k, d] for each dimension d;
    (3) arrival time at customer i (travel times plus ``service_s`` of the nodes
    before it) ≤ ``max_arrival_s[i]``.

    Parameters
    ----------
    travel_s : (m, m) int travel times [s] between nodes.
    arc_cost : (k, m, m) int arc costs by vehicle type.
    fixed_cost, n_vehicles : (k,) int cost of using a vehicle of each type; how many.
    demand : (m, d) int; capacity : (k, d) int.
    max_arrival_s : (m,) int latest arrival at each customer [s] (the depot's is ignored).
    service_s : (m,) int time spent at each node before leaving it [s] (default 0).
    drop_penalty : (m,) int cost of not serving each customer; None = all must be served.
    time_limit_s : wall-clock cap [s].
    guided : False: greedy descent to a local optimum (deterministic unless the limit
        stops it); True: guided local search until the time limit.
    first_solution : construction heuristic, "savings" (Clarke-Wright) or
        "parallel_cheapest_insertion".

    Returns
    -------
    VrpSolution (status "unknown" and no routes when no plan was found).

    Raises
    ------
    DataValidationError
        If the arrays have inconsistent shapes or negative entries.
    SolverError
        If OR-Tools reports an invalid model.
    """
    if first_solution not in ("savings", "parallel_cheapest_insertion"):
        msg = (
            f"first_solution must be 'savings' or 'parallel_cheapest_insertion'; "
            f"found {first_solution!r}."
        )
        raise DataValidationError(msg)
    t, cost, fixed, count, dem, cap, bound = _vrp_arrays(
        travel_s, arc_cost, fixed_cost, n_vehicles, demand, capacity, max_arrival_s
    )
    m = t.shape[0]
    serve = np.zeros(m, np.int64) if service_s is None else _as_int64("service_s", service_s)
    vtype = np.repeat(np.arange(cost.shape[0]), count)
    n_veh = int(vtype.size)
    start = time.perf_counter()
    if m <= 1 or n_veh == 0:
        status = OPTIMAL if m <= 1 else UNKNOWN
        none = np.full(m, -1, np.int64)
        return VrpSolution(none, none.copy(), none.copy(), vtype, 0, status, False, 0.0)
    manager = pywrapcp.RoutingIndexManager(m + 1, n_veh, [0] * n_veh, [m] * n_veh)
    routing = pywrapcp.RoutingModel(manager)
    for k in range(cost.shape[0]):
        evaluator = routing.RegisterTransitMatrix(_open(cost[k]))
        for v in np.flatnonzero(vtype == k):
            routing.SetArcCostEvaluatorOfVehicle(evaluator, int(v))
            routing.SetFixedCostOfVehicle(int(fixed[k]), int(v))
    horizon = int(max(bound.max(), 0) + t.max() + serve.max() + 1)
    timed = t + serve[:, None]
    routing.AddDimension(routing.RegisterTransitMatrix(_open(timed)), 0, horizon, True, "time")
    clock = routing.GetDimensionOrDie("time")
    for i in range(1, m):
        clock.CumulVar(manager.NodeToIndex(i)).SetMax(int(bound[i]))
    for d in range(dem.shape[1]):
        load = routing.RegisterUnaryTransitVector([*dem[:, d].tolist(), 0])
        routing.AddDimensionWithVehicleCapacity(load, 0, cap[vtype, d].tolist(), True, f"load{d}")
    if drop_penalty is not None:
        pen = _as_int64("drop_penalty", drop_penalty)
        for i in range(1, m):
            routing.AddDisjunction([manager.NodeToIndex(i)], int(pen[i]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution.upper()
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        if guided
        else routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - start
    raw = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if raw == "ROUTING_INVALID":
        msg = "OR-Tools routing rejected the model as invalid; check the input arrays."
        raise SolverError(msg)
    status = _ROUTING_STATUS.get(raw, UNKNOWN)
    hit = guided or elapsed >= 0.98 * time_limit_s or raw.endswith("NOT_REACHED")
    vehicle, stop, arrival = (np.full(m, -1, np.int64) for _ in range(3))
    if solution is None:
        return VrpSolution(vehicle, stop, arrival, vtype, 0, UNKNOWN, hit, elapsed)
    for v in range(n_veh):
        index, pos = solution.Value(routing.NextVar(routing.Start(v))), 0
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            vehicle[node], stop[node] = v, pos
            arrival[node] = solution.Value(clock.CumulVar(index))
            index, pos = solution.Value(routing.NextVar(index)), pos + 1
    status = FEASIBLE if status == OPTIMAL and hit else status
    return VrpSolution(
        vehicle, stop, arrival, vtype, int(solution.ObjectiveValue()), status, hit, elapsed
    )
