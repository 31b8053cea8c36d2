"""Shared-route estimate: group each setting's transported children into vehicle routes.

A report on a finished allocation, not part of the allocation model (docs/transport.md
explains the split). For each setting, the children whose mode is a shared one
(:mod:`optimiser.transport.rules`: minibus or shared taxi) are grouped into vehicle
routes by a capacitated vehicle routing model, solved with PyVRP's iterated local
search (:func:`optimiser._solver.pyvrp_engine.solve_vrp_pyvrp`, the default) or
OR-Tools routing (:func:`optimiser._solver.solve_vrp`), on the same arrays:

Sets: the setting's shared-mode children I; vehicle types K (minibus, shared taxi;
rates, seats and wheelchair spaces from policy ``transport``), each with |I|-bounded
numbers of vehicles. A route is the afternoon run: it leaves the school (the
depot) and drops its children in turn; the morning run is the same route
reversed. Objective: minimise Σ over used vehicles of (``vehicle_gbp_per_day`` +
``vehicle_gbp_per_mile`` × 2 × the run's road miles) + Σ over children left off
every route of their solo-taxi cost per day. Constraints: (1) each child on at
most one route (a child left off travels by solo taxi); (2) seated children ≤
seats and wheelchair users ≤ wheelchair spaces of the vehicle; (3) each child's
ride (travel plus ``stop_min`` at each earlier stop) ≤ their phase's journey
cap, or their direct journey time when that alone exceeds the cap.

Then, per route: the cheapest vehicle type that fits it is used, and a route
that costs more than solo taxis for its riders is split into solo taxis, so a
plan never costs more than the solo-taxi baseline. Children travelling alone
(``solo_taxi``) have a route of their own; personal travel budgets are costed
at their mileage and not routed. Costs are per vehicle-day × school days.

Both engines keep every constraint exactly (PyVRP's time windows are the ride-time
caps, its two load dimensions the seats and wheelchair spaces, its vehicle types'
fixed and per-arc costs the rates; PyVRP's plan is re-checked on the arrays before
use, and :func:`~optimiser.transport.routes.costing.cost_route` recomputes every
route's vehicle, cost and ride times from the instance). Neither proves optimality:
each setting's status is "optimal" only when trivially so (one child), else
"feasible" or "time limit"; a simple lower bound (each child's share of the cheapest
vehicle, or their solo taxi) gives the gap that remains.

Engines, measured in one run (benchmarks/results/routes.md): the default (OR-Tools'
greedy plan improved by PyVRP, beside a search from PyVRP's own start, the cheaper plan
kept) cost less than OR-Tools' greedy descent, than its guided local search at 10 s
and than PyVRP on its own at 10 s, on the default data and on the 5k area, in total and
setting by setting against the benchmark's PyVRP run; on CVRPLIB set X PyVRP came far
closer to best-known than OR-Tools' guided local search. Each PyVRP search stops after a
fixed number of seeded iterations, so plans repeat byte for byte.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from optimiser._solver.resources import available_cores
from optimiser.dataset.model import Dataset
from optimiser.transport.routes.costing import add_unrouted_rows, plan_rows
from optimiser.transport.routes.instance import VEHICLES, build_routing_instance, lower_bound_gbp
from optimiser.transport.routes.plan import RoutePlan, assemble_plan
from optimiser.transport.routes.search import (
    nearest_neighbour_routes,
    solve_routes,
    solve_routes_pyvrp,
)
from optimiser.transport.rules import mode_cost_gbp, placement_transport

if TYPE_CHECKING:  # allocation sits above transport: a reference for the types only
    import pandas as pd

    from optimiser.allocation.solve import AllocationResult
    from optimiser.policy import Policy

__all__ = ["METHODS", "VEHICLES", "RoutePlan", "estimate_routes"]

METHODS = ("pyvrp", "ortools", "nearest_neighbour")


#: Least safety cap [s] on one setting's greedy descent (its work cap binds long before).
GREEDY_SAFETY_S = 5.0
#: Least safety cap [s] on each of one setting's searches with "pyvrp" (greedy descent,
#: PyVRP from its plan, PyVRP from its own starts): their work caps bind long before on a
#: machine not overloaded.
PYVRP_SAFETY_S = 30.0
#: PyVRP's work cap on one setting: iterations of its iterated local search per routed
#: child, plus a floor, at most a ceiling (benchmarks/results/routes.md for the choice).
PYVRP_ITERATIONS_PER_CHILD, PYVRP_MIN_ITERATIONS, PYVRP_MAX_ITERATIONS = 5, 100, 1_000
#: Beside the search from the greedy plan, PYVRP_COLD_STARTS searches from PyVRP's own
#: start (seeds ``seed``, ``seed + 1``, ...) of PYVRP_COLD_ITERATIONS iterations each; the
#: cheapest plan is kept. The greedy plan is a deep local optimum that traps PyVRP's
#: late-acceptance search (it seldom leaves the greedy fleet mix), while PyVRP's own start
#: is very seed-dependent, so the starts complement each other. PyVRP on its own at 10 s
#: runs a median of 1,412 iterations per setting on the default data and 490 at 5k
#: (measured 4 December), yet the default's plan costs no more than its seed-0 plan on any
#: default-data setting and on 195 of 196 at 5k. 1,000 cold iterations won that one setting
#: for 21-38% more time, a second start of its own (seed + 1) 2 of 196 for 48% more:
#: neither adopted (benchmarks/results/routes.md, benchmarks/routes_patience.py).
PYVRP_COLD_STARTS, PYVRP_COLD_ITERATIONS = 1, 500


def estimate_routes(
    ds: Dataset,
    placements: AllocationResult | pd.DataFrame,
    *,
    time_limit_s: float = 10.0,
    method: str = "pyvrp",
    guided: bool = False,
    seed: int = 0,
    warm_start: bool = True,
    workers: int | None = None,
) -> RoutePlan:
    """Estimate shared vehicle routes, setting by setting (see the module docstring).

    Parameters
    ----------
    ds : the dataset the allocation was made on.
    placements : an AllocationResult or its placements DataFrame.
    time_limit_s : total time budget [s] (model building counts). By default each
        setting's search stops by itself: PyVRP after a fixed number of iterations
        (from the greedy plan PYVRP_ITERATIONS_PER_CHILD per child, between
        PYVRP_MIN_ITERATIONS and PYVRP_MAX_ITERATIONS; from each of PYVRP_COLD_STARTS
        starts of its own PYVRP_COLD_ITERATIONS), OR-Tools' greedy descent at its local
        optimum or after a fixed number of improving moves, so the plan is the same on
        every run; the budget left is only a safety cap on each setting's searches (at
        least PYVRP_SAFETY_S for "pyvrp", GREEDY_SAFETY_S for "ortools", so the budget can
        be overrun on a heavily loaded machine rather than give a different plan), and a
        setting it stops is marked "time limit" (such a plan may differ between runs).
        With ``guided`` each setting instead searches for the budget left in proportion
        to its share of the children left (at least 0.02 s).
    method : "pyvrp" (the routing model solved by PyVRP), "ortools" (the same model
        solved by OR-Tools routing) or "nearest_neighbour" (a baseline heuristic).
    guided : search to each setting's time limit (PyVRP with no iteration cap; OR-Tools
        with guided local search instead of greedy descent): better plans, not
        reproducible across runs or machines.
    seed : PyVRP's random seed (ignored by the other methods); the starts of PyVRP's own
        use ``seed``, ``seed + 1``, ...
    warm_start : "pyvrp" only: search from OR-Tools' greedy descent plan and from
        PYVRP_COLD_STARTS starts of PyVRP's own, keeping the cheapest plan (the default:
        never costlier than "ortools"); False runs PyVRP on its own from one start, with
        ``seed`` (the peer figure of the benchmarks). ``guided`` searches from the greedy
        plan only.
    workers : processes that search the settings side by side (None: one per core this
        process may use). The plan is the same for any count: each setting's search is
        work-capped and seeded. One process (this one) is used for ``guided`` searches,
        "nearest_neighbour", fewer than PARALLEL_MIN_CHILDREN routed children or where
        processes cannot be forked (see :func:`_worker_count`).

    Returns
    -------
    RoutePlan; its ``summary`` holds transported_children, routed_children, routes,
    vehicles, minibus / shared_taxi / solo_taxi / personal_budget counts, cost_gbp
    [GBP/yr], cost_per_child_gbp, solo_baseline_gbp, saving_gbp, saving_share,
    lower_bound_gbp, gap_share (of cost over the bound), riders_over_cap,
    settings_not_proven_optimal, per_child_estimate_gbp (the allocation's own
    transport cost of these children) and time_s.
    """
    if method not in METHODS:
        msg = f"method must be one of {METHODS}; found {method!r}"
        raise ValueError(msg)
    start = time.perf_counter()
    pol = ds.policy
    frame = cast("pd.DataFrame", getattr(placements, "placements", placements))  # result or frame
    view = placement_transport(ds, frame)
    moved = view[view["eligible"]].reset_index(drop=True)
    xy = ds.children.set_index(ds.children["child_id"].astype(str))[["easting", "northing"]]
    moved["x"] = moved["child_id"].map(xy["easting"]).to_numpy(float)
    moved["y"] = moved["child_id"].map(xy["northing"]).to_numpy(float)
    moved["solo_cost_gbp"] = mode_cost_gbp(
        moved["distance_km"].to_numpy(), np.full(len(moved), "solo_taxi"), policy=pol
    )
    school = ds.settings.set_index("setting_id")[["easting", "northing"]].astype(float)
    pooled = moved["mode"].isin(VEHICLES)
    groups = [(str(sid), kids) for sid, kids in moved[pooled].groupby("setting_id", sort=True)]
    job = _Job(pol, ds.roads, school, method, guided, seed, warm_start, time_limit_s, start)
    n_workers = _worker_count(workers, method, guided, groups)
    if n_workers > 1:
        done = _route_in_parallel(job, groups, n_workers)
    else:
        left = int(pooled.sum())
        done = []
        for sid, kids in groups:
            done.append(job.route(sid, kids, left))
            left -= len(kids)
    route_rows: list[dict] = []
    rider_rows: list[dict] = []
    status: dict[str, tuple[str, float, float]] = {}
    for (sid, _), (rows, riders, state) in zip(groups, done, strict=True):
        route_rows += rows
        rider_rows += riders
        status[sid] = state
    route_rows, rider_rows = add_unrouted_rows(moved, route_rows, rider_rows)
    return assemble_plan(moved, route_rows, rider_rows, status, method, start)


@dataclass(frozen=True)
class _Job:
    """What every setting's search shares: the policy, roads, schools and the options."""

    pol: Policy
    roads: object
    school: pd.DataFrame
    method: str
    guided: bool
    seed: int
    warm_start: bool
    time_limit_s: float
    start: float

    def route(self, sid: str, kids: pd.DataFrame, left: int) -> _Done:
        """One setting's routes as plan rows, rider rows and (status, seconds, bound).

        ``left``: the routed children not yet searched when this one starts (its share of
        the budget left when ``guided``).
        """
        t0 = time.perf_counter()
        pol, method = self.pol, self.method
        site = build_routing_instance(pol, self.roads, self.school.loc[sid].to_numpy(), kids)
        if method in ("pyvrp", "ortools"):
            spare = self.time_limit_s - (t0 - self.start)
            # guided search runs to its limit: the budget left, shared by the children left;
            # otherwise the search stops by itself (a work cap), the budget left is only a
            # safety cap (never below its floor, so a loaded machine does not cut a
            # search short and make the plan differ between runs: the work cap bounds it)
            floor = GREEDY_SAFETY_S if method == "ortools" else PYVRP_SAFETY_S
            share = spare * len(kids) / left if self.guided else max(spare / 2, floor)
            share = max(0.02, share)
            if method == "ortools":
                routes, state = solve_routes(site, pol, share, self.guided)
            else:
                routes, state = solve_routes_pyvrp(
                    site,
                    pol,
                    iterations=None if self.guided else pyvrp_iterations(len(kids)),
                    time_limit_s=share,
                    seed=self.seed,
                    warm_start=self.warm_start,
                    cold_starts=0 if self.guided or not self.warm_start else PYVRP_COLD_STARTS,
                    cold_iterations=PYVRP_COLD_ITERATIONS,
                )
        else:
            routes, state = nearest_neighbour_routes(site, pol), "heuristic"
        rows, riders = plan_rows(sid, kids, site, routes, pol)
        return rows, riders, (state, time.perf_counter() - t0, lower_bound_gbp(site, pol))


#: One setting's plan rows, rider rows and (status, seconds, lower bound [GBP/yr]).
_Done = tuple[list[dict], list[dict], tuple[str, float, float]]

#: Fewest routed children for which the settings are searched in parallel: below it the
#: worker processes' start-up outweighs the search they share.
PARALLEL_MIN_CHILDREN = 200

#: The search's inputs, inherited by forked worker processes (not pickled) while a
#: parallel estimate runs.
_SHARED: tuple[_Job, list[tuple[str, pd.DataFrame]]] | None = None


def _worker_count(
    workers: int | None, method: str, guided: bool, groups: list[tuple[str, pd.DataFrame]]
) -> int:
    """How many processes search the settings: 1 (here) unless the search can use more.

    Parallel only for the work-capped searches (a guided search shares the time budget
    across the settings in turn), with "fork" processes (none elsewhere, nor inside a
    daemon process such as a multiprocessing pool's worker), more than one setting and at
    least PARALLEL_MIN_CHILDREN routed children. Each setting's search is the same
    wherever it runs, so the plan does not depend on the count.
    """
    if workers is None:
        workers = available_cores()
    if workers < 1:
        msg = f"workers must be at least 1; found {workers}"
        raise ValueError(msg)
    if (
        workers == 1
        or guided
        or method == "nearest_neighbour"
        or "fork" not in mp.get_all_start_methods()
        or mp.current_process().daemon
        or sum(len(k) for _, k in groups) < PARALLEL_MIN_CHILDREN
    ):
        return 1
    return min(workers, len(groups))


def _route_in_parallel(
    job: _Job, groups: list[tuple[str, pd.DataFrame]], n_workers: int
) -> list[_Done]:
    """Every setting's :meth:`_Job.route` on ``n_workers`` forked processes, largest first."""
    global _SHARED
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i][1]), i))
    _SHARED = (job, groups)
    try:
        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("fork")) as pool:
            found = dict(zip(order, pool.map(_route_shared, order), strict=True))
    finally:
        _SHARED = None
    return [found[i] for i in range(len(groups))]


def _route_shared(i: int) -> _Done:
    """The ``i``-th setting of the estimate in progress (a worker process's task)."""
    assert _SHARED is not None, "a worker is forked while an estimate runs"
    job, groups = _SHARED
    sid, kids = groups[i]
    return job.route(sid, kids, len(kids))


def pyvrp_iterations(n_children: int) -> int:
    """PyVRP's iteration cap for a setting with ``n_children`` routed children."""
    return int(
        min(
            PYVRP_MAX_ITERATIONS,
            max(PYVRP_MIN_ITERATIONS, PYVRP_ITERATIONS_PER_CHILD * n_children),
        )
    )
