"""Routes for one setting's children: PyVRP or OR-Tools routing, or a nearest-neighbour baseline.

All return routes as lists of instance nodes (:mod:`optimiser.transport.routes.instance`) in
drop order; a child on no route travels by solo taxi. The routing model (the
formulation is in :mod:`optimiser.transport.routes.estimate`) is built once in integer pence
and seconds (:func:`routing_arrays`) and solved by :func:`optimiser._solver.solve_vrp`
(OR-Tools routing) or :func:`optimiser._solver.pyvrp_engine.solve_vrp_pyvrp` (PyVRP; by
default from OR-Tools' plan and from starts of its own, the cheapest plan kept).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from optimiser._solver.pyvrp_engine import solve_vrp_pyvrp
from optimiser._solver.vrp import VrpSolution, solve_vrp
from optimiser.policy import Policy
from optimiser.transport.routes.instance import VEHICLES, RoutingInstance, vehicle_capacity
from optimiser.transport.travel import KM_PER_MILE

_PENCE = 100.0
#: Work cap of each greedy descent: solutions (the first plus each improving move) per
#: routed child, plus a floor. Greedy descent on the default data reaches its local optimum
#: within 100 solutions even at its largest setting (123 children), so the cap rarely binds;
#: when it does the plan is still the same on every run and machine, unlike a time limit.
SOLUTIONS_PER_CHILD, MIN_SOLUTIONS = 20, 200


def routing_arrays(site: RoutingInstance, policy: Policy) -> dict[str, object]:
    """The solver-core arrays of a site (both engines): pence, seconds, (seat, wheelchair).

    Travel times are rounded up and limits down, so a plan either engine accepts keeps
    every ride-time cap; vehicle counts are generous upper bounds (never binding).
    """
    t = policy.transport
    m = len(site.km)
    rates = [getattr(t, v) for v in VEHICLES]
    miles = site.km / KM_PER_MILE
    cost = np.stack([np.rint(_PENCE * r.vehicle_gbp_per_mile * 2 * miles) for r in rates])
    fixed = np.array([round(_PENCE * r.vehicle_gbp_per_day) for r in rates])
    cap = vehicle_capacity(policy)
    n_wheel, n = int(site.wheel.sum()), m - 1
    count = [
        min(n, math.ceil(2 * n / max(c.sum(), 1)) + math.ceil(n_wheel / max(c[1], 1)) + 1)
        if c[0] + c[1] > 0
        else 0
        for c in cap
    ]
    demand = np.c_[~site.wheel, site.wheel].astype(np.int64)
    demand[0] = 0
    travel = np.ceil(site.minutes * 60 - 1e-9).astype(np.int64)
    latest = np.maximum(np.floor(site.limit_min * 60 + 1e-9).astype(np.int64), travel[0])
    service = np.r_[0, np.full(n, math.ceil(t.stop_min * 60 - 1e-9))]
    penalty = np.rint(_PENCE * site.solo_gbp / policy.school_days_per_year)
    return dict(
        travel_s=travel,
        arc_cost=cost,
        fixed_cost=fixed,
        n_vehicles=count,
        demand=demand,
        capacity=cap,
        max_arrival_s=latest,
        service_s=service,
        drop_penalty=penalty,
    )


def solve_routes(
    site: RoutingInstance, policy: Policy, time_limit_s: float, guided: bool
) -> tuple[list[list[int]], str]:
    """Routes (lists of nodes in drop order) by OR-Tools, and the status.

    Greedy descent (``guided`` False) stops at its local optimum or at a fixed number of
    solutions, so the routes repeat byte for byte; ``time_limit_s`` is only a safety cap
    on each of the two constructions' searches (status "time limit" when it binds: such a
    plan may differ between runs). Guided local search runs to the time limit.
    """
    n = len(site.km) - 1
    return _routes_of(_best_greedy(routing_arrays(site, policy), n, time_limit_s, guided), n)


def _best_greedy(
    arrays: dict[str, object], n: int, time_limit_s: float, guided: bool = False
) -> VrpSolution:
    """The cheaper of OR-Tools' two constructions, each improved by its local search."""
    # Two constructions: savings favours big vehicles, insertion small ones; keep the cheaper.
    return min(
        (
            solve_vrp(
                **arrays,  # type: ignore[arg-type]
                time_limit_s=time_limit_s / 2 if guided else time_limit_s,
                guided=guided,
                first_solution=first,
                solution_limit=None if guided else MIN_SOLUTIONS + SOLUTIONS_PER_CHILD * n,
            )
            for first in ("savings", "parallel_cheapest_insertion")
        ),
        key=lambda sol: (sol.status == "unknown", sol.objective),
    )


def solve_routes_pyvrp(
    site: RoutingInstance,
    policy: Policy,
    *,
    iterations: int | None,
    time_limit_s: float,
    seed: int = 0,
    warm_start: bool = True,
    cold_starts: int = 0,
    cold_iterations: int = 0,
) -> tuple[list[list[int]], str]:
    """Routes (lists of nodes in drop order) by PyVRP, and the status.

    The same model and arrays as :func:`solve_routes` (:func:`routing_arrays`), solved by
    :func:`optimiser._solver.pyvrp_engine.solve_vrp_pyvrp`: ``iterations`` of its
    iterated local search with ``seed``, so the same plan on every run and machine
    (None: search to ``time_limit_s``). With ``warm_start`` the search starts from
    OR-Tools' greedy descent plan (:func:`solve_routes`), so the plan never costs more
    than OR-Tools'. A greedy local optimum can trap PyVRP's search (it then rarely leaves
    the greedy plan's fleet mix), so ``cold_starts`` further searches of
    ``cold_iterations`` each start from PyVRP's own start, with seeds ``seed``,
    ``seed + 1``, ...; the cheapest plan of all (by the model's objective; the first on a
    tie) is kept, so the result still never costs more than the greedy start.
    ``time_limit_s`` caps each of the searches (status "time limit" when it stops one
    first: such a plan may differ between runs).
    """
    n = len(site.km) - 1
    arrays = routing_arrays(site, policy)
    initial = _best_greedy(arrays, n, time_limit_s) if warm_start else None
    sol = solve_vrp_pyvrp(
        **arrays,  # type: ignore[arg-type]
        max_iterations=iterations,
        time_limit_s=time_limit_s,
        seed=seed,
        initial=initial,
    )
    hit = sol.hit_time_limit or (initial is not None and initial.hit_time_limit)
    for j in range(cold_starts if n > 1 else 0):
        other = solve_vrp_pyvrp(
            **arrays,  # type: ignore[arg-type]
            max_iterations=cold_iterations,
            time_limit_s=time_limit_s,
            seed=seed + j,
        )
        hit = hit or other.hit_time_limit
        cheaper = sol.status == "unknown" or other.objective < sol.objective
        if other.status != "unknown" and cheaper:
            sol = other
    return _routes_of(replace(sol, hit_time_limit=hit), n)


def _routes_of(sol: VrpSolution, n: int) -> tuple[list[list[int]], str]:
    """Routes (nodes in drop order, by vehicle number) and the status of a solution."""
    routes = []
    for v in np.unique(sol.vehicle[sol.vehicle >= 0]):
        nodes = np.flatnonzero(sol.vehicle == v)
        routes.append(nodes[np.argsort(sol.stop[nodes])].tolist())
    status = {"optimal": "optimal", "feasible": "feasible", "unknown": "no plan"}[sol.status]
    if sol.hit_time_limit and status != "no plan":
        status = "time limit"
    return routes, ("optimal" if n <= 1 and status != "no plan" else status)


def nearest_neighbour_routes(site: RoutingInstance, policy: Policy) -> list[list[int]]:
    """Baseline: fill the largest vehicle from the school, nearest feasible child next."""
    cap = vehicle_capacity(policy)
    big = cap[np.argmax(cap.sum(axis=1))]
    stop = policy.transport.stop_min
    left = list(range(1, len(site.km)))
    need = np.c_[~site.wheel, site.wheel].astype(int)  # (seat, wheelchair space) per node
    routes = []
    while left:
        here, clock, load, route = 0, 0.0, np.zeros(2, int), []
        while True:
            fits = [
                j
                for j in left
                if (load + need[j] <= big).all()
                and clock + (stop if here else 0.0) + site.minutes[here, j]
                <= site.limit_min[j] + 1e-9
            ]
            if not fits:
                break
            j = min(fits, key=lambda j: (site.km[here, j], j))
            clock += (stop if here else 0.0) + site.minutes[here, j]
            load += need[j]
            route.append(j)
            left.remove(j)
            here = j
        if not route:  # no vehicle carries this child: a solo taxi
            left.pop(0)
            continue
        routes.append(route)
    return routes
