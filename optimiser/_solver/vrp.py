"""Capacitated open vehicle routing with OR-Tools routing."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver.flow import _as_int64
from optimiser._solver.status import FEASIBLE, OPTIMAL, UNKNOWN

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


def _open(matrix: np.ndarray, open_routes: bool = True) -> list[list[int]]:
    """Append the end node: zero-cost for open routes, else a copy of the depot (closed)."""
    m = matrix.shape[0]
    out = np.zeros((m + 1, m + 1), dtype=np.int64)
    out[:m, :m] = matrix
    if not open_routes:
        out[:m, m] = matrix[:, 0]
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
    solution_limit: int | None = None,
    open_routes: bool = True,
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
    time_limit_s : wall-clock cap [s]. A search it stops depends on the machine's speed
        and load, so it may differ from run to run.
    guided : False: greedy descent to a local optimum (deterministic unless the time
        limit stops it); True: guided local search until a limit.
    solution_limit : stop after this many solutions (the first plus each accepted
        improving move): a cap on the work done, the same on every machine, so a search
        it stops is reproducible. None: no cap.
    first_solution : construction heuristic, "savings" (Clarke-Wright) or
        "parallel_cheapest_insertion".
    open_routes : True: routes end at their last customer (a zero-cost end node);
        False: they return to the depot (the classical CVRP; arc costs and times of the
        return leg count).

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
        evaluator = routing.RegisterTransitMatrix(_open(cost[k], open_routes))
        for veh in np.flatnonzero(vtype == k):
            routing.SetArcCostEvaluatorOfVehicle(evaluator, int(veh))
            routing.SetFixedCostOfVehicle(int(fixed[k]), int(veh))
    horizon = int(max(bound.max(), 0) + t.max() + serve.max() + 1)
    timed = t + serve[:, None]
    timing = routing.RegisterTransitMatrix(_open(timed, open_routes))
    routing.AddDimension(timing, 0, horizon, True, "time")
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
    if solution_limit is not None:
        params.solution_limit = max(1, int(solution_limit))
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
