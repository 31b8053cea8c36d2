"""Shared-route estimate: group each setting's transported children into vehicle routes.

A report on a finished allocation, not part of the allocation model (docs/transport.md
explains the split). For each setting, the children whose mode is a shared one
(:mod:`optimiser.transport`: minibus or shared taxi) are grouped into vehicle
routes by a capacitated vehicle routing model, solved with OR-Tools routing
(:func:`optimiser._solver.solve_vrp`):

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

OR-Tools' local search does not prove optimality: each setting's status is
"optimal" only when trivially so (one child), else "feasible" (a local optimum)
or "time limit"; a simple lower bound (each child's share of the cheapest
vehicle, or their solo taxi) gives the gap that remains.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimiser._solver import solve_vrp
from optimiser.datamodel import Dataset
from optimiser.policy import Policy
from optimiser.transport import SHARED_MODES, mode_cost_gbp, placement_transport
from optimiser.travel import KM_PER_MILE, road_km_and_min

VEHICLES = SHARED_MODES
METHODS = ("ortools", "nearest_neighbour")
_PENCE = 100.0


@dataclass(frozen=True)
class RoutePlan:
    """Estimated vehicle routes for the transported children of an allocation.

    Attributes
    ----------
    routes : one row per route: route_id, setting_id, vehicle, riders, wheelchair_riders,
        miles_per_day, cost_gbp [GBP/yr], cost_per_child_gbp, solo_cost_gbp (the riders'
        solo-taxi cost), max_ride_min, children (';'-separated child ids: working data).
    riders : one row per transported child: child_id, setting_id, route_id ('' for a
        personal budget), vehicle, stop (1 = first dropped), ride_min, direct_min, cap_min,
        over_cap, cost_gbp (route cost shared in proportion to solo cost), solo_cost_gbp.
    settings : one row per setting: children, routed (shared-mode children), routes,
        vehicles by type, cost_gbp, solo_cost_gbp, saving_gbp, lower_bound_gbp,
        riders_over_cap, status ("optimal", "feasible", "time limit", "no plan",
        "heuristic"), solve_s.
    summary : headline figures (see :func:`estimate_routes`).
    status : "optimal" when every setting's plan is proven optimal, else "not proven".
    not_proven : setting ids whose plans are not proven optimal.
    method : "ortools" or "nearest_neighbour".
    """

    routes: pd.DataFrame
    riders: pd.DataFrame
    settings: pd.DataFrame
    summary: dict[str, float]
    status: str
    not_proven: tuple[str, ...]
    method: str
    timings_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Site:
    """One setting's routing instance: node 0 is the school, nodes 1..n its children."""

    km: np.ndarray  # (m, m) road km
    minutes: np.ndarray  # (m, m) travel min
    wheel: np.ndarray  # (m,) bool, wheelchair user
    limit_min: np.ndarray  # (m,) latest arrival [min]
    solo_gbp: np.ndarray  # (m,) solo-taxi cost per year (0 at the school)


def _site(policy: Policy, graph: object, school_xy: np.ndarray, kids: pd.DataFrame) -> _Site:
    xy = np.vstack([school_xy[None, :], kids[["x", "y"]].to_numpy(float)])
    m = len(xy)
    a, b = np.repeat(np.arange(m), m), np.tile(np.arange(m), m)
    km, mins = road_km_and_min(xy[a], xy[b], policy=policy, graph=graph)
    km, mins = km.reshape(m, m), mins.reshape(m, m)
    limit = np.r_[0.0, np.maximum(kids["cap_min"].to_numpy(float), mins[0, 1:])]
    solo = np.r_[0.0, mode_cost_gbp(km[0, 1:], np.full(m - 1, "solo_taxi"), policy=policy)]
    return _Site(km, mins, np.r_[False, kids["wheelchair"].to_numpy(bool)], limit, solo)


def _capacity(policy: Policy) -> np.ndarray:
    t = policy.transport
    return np.array([[getattr(t, v).seats, getattr(t, v).wheelchair_spaces] for v in VEHICLES])


def _solve_site(
    site: _Site, policy: Policy, time_limit_s: float, guided: bool
) -> tuple[list[list[int]], str]:
    """Routes (lists of nodes in drop order) by OR-Tools, and the status."""
    t = policy.transport
    m = len(site.km)
    rates = [getattr(t, v) for v in VEHICLES]
    miles = site.km / KM_PER_MILE
    cost = np.stack([np.rint(_PENCE * r.vehicle_gbp_per_mile * 2 * miles) for r in rates])
    fixed = np.array([round(_PENCE * r.vehicle_gbp_per_day) for r in rates])
    cap = _capacity(policy)
    n_wheel, n = int(site.wheel.sum()), m - 1
    count = [
        min(n, math.ceil(2 * n / max(c.sum(), 1)) + math.ceil(n_wheel / max(c[1], 1)) + 1)
        if c[0] + c[1] > 0
        else 0
        for c in cap
    ]
    demand = np.c_[~site.wheel, site.wheel].astype(np.int64)
    demand[0] = 0
    # Times rounded up and limits down, so a plan the solver accepts keeps every cap.
    travel = np.ceil(site.minutes * 60 - 1e-9).astype(np.int64)
    latest = np.maximum(np.floor(site.limit_min * 60 + 1e-9).astype(np.int64), travel[0])
    service = np.r_[0, np.full(n, math.ceil(t.stop_min * 60 - 1e-9))]
    penalty = np.rint(_PENCE * site.solo_gbp / policy.school_days_per_year)
    # Two constructions: savings favours big vehicles, insertion small ones; keep the cheaper.
    sol = min(
        (
            solve_vrp(
                travel,
                cost,
                fixed_cost=fixed,
                n_vehicles=count,
                demand=demand,
                capacity=cap,
                max_arrival_s=latest,
                service_s=service,
                drop_penalty=penalty,
                time_limit_s=time_limit_s / 2,
                guided=guided,
                first_solution=first,
            )
            for first in ("savings", "parallel_cheapest_insertion")
        ),
        key=lambda sol: (sol.status == "unknown", sol.objective),
    )
    routes = []
    for v in np.unique(sol.vehicle[sol.vehicle >= 0]):
        nodes = np.flatnonzero(sol.vehicle == v)
        routes.append(nodes[np.argsort(sol.stop[nodes])].tolist())
    status = {"optimal": "optimal", "feasible": "feasible", "unknown": "no plan"}[sol.status]
    if sol.hit_time_limit and status != "no plan":
        status = "time limit"
    return routes, ("optimal" if n <= 1 and status != "no plan" else status)


def _nearest_neighbour(site: _Site, policy: Policy) -> list[list[int]]:
    """Baseline: fill the largest vehicle from the school, nearest feasible child next."""
    cap = _capacity(policy)
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


def _cost_route(
    route: list[int], site: _Site, policy: Policy
) -> tuple[str, float, float, np.ndarray]:
    """(vehicle, annual cost, miles a day, ride minutes) with the cheapest type that fits."""
    path = np.array([0, *route])
    miles = float(site.km[path[:-1], path[1:]].sum()) / KM_PER_MILE
    legs = site.minutes[path[:-1], path[1:]]
    ride = np.cumsum(legs) + policy.transport.stop_min * np.arange(len(route))
    need = np.array([sum(not site.wheel[j] for j in route), sum(site.wheel[j] for j in route)])
    best = ("", math.inf)
    for v, cap in zip(VEHICLES, _capacity(policy), strict=True):
        if (need <= cap).all():
            rate = getattr(policy.transport, v)
            day = rate.vehicle_gbp_per_day + rate.vehicle_gbp_per_mile * 2 * miles
            best = min(best, (v, day * policy.school_days_per_year), key=lambda b: b[1])
    return best[0], best[1], 2 * miles, ride


def _plan_rows(
    sid: str, kids: pd.DataFrame, site: _Site, routes: list[list[int]], policy: Policy
) -> tuple[list[dict], list[dict]]:
    """Route and rider rows of one setting; costly routes and the unrouted go solo."""
    route_rows, rider_rows = [], []
    served: set[int] = set()
    ids = kids["child_id"].to_numpy()
    for route in routes:
        vehicle, cost, miles, ride = _cost_route(route, site, policy)
        solo = float(site.solo_gbp[route].sum())
        if cost > solo + 1e-6 or not vehicle:
            continue
        served.update(route)
        rid = f"{sid}-R{len(route_rows) + 1:03d}"
        route_rows.append(
            dict(
                route_id=rid,
                setting_id=sid,
                vehicle=vehicle,
                riders=len(route),
                wheelchair_riders=int(site.wheel[route].sum()),
                miles_per_day=miles,
                cost_gbp=cost,
                solo_cost_gbp=solo,
                max_ride_min=float(ride.max()),
                children=";".join(ids[np.array(route) - 1]),
            )
        )
        share = site.solo_gbp[route] / solo if solo > 0 else np.full(len(route), 1 / len(route))
        rider_rows += [
            dict(
                child_id=ids[j - 1],
                route_id=rid,
                vehicle=vehicle,
                stop=k + 1,
                ride_min=float(ride[k]),
                cost_gbp=cost * share[k],
            )
            for k, j in enumerate(route)
        ]
    for j in sorted(set(range(1, len(site.km))) - served):
        route_rows, rider_rows = _add_solo(
            sid,
            ids[j - 1],
            site.solo_gbp[j],
            site.minutes[0, j],
            2 * site.km[0, j] / KM_PER_MILE,
            bool(site.wheel[j]),
            route_rows,
            rider_rows,
        )
    return route_rows, rider_rows


def _add_solo(
    sid: str,
    cid: str,
    cost: float,
    ride_min: float,
    miles: float,
    wheel: bool,
    route_rows: list[dict],
    rider_rows: list[dict],
) -> tuple[list[dict], list[dict]]:
    rid = f"{sid}-S{sum(r['vehicle'] == 'solo_taxi' for r in route_rows) + 1:03d}"
    route_rows.append(
        dict(
            route_id=rid,
            setting_id=sid,
            vehicle="solo_taxi",
            riders=1,
            wheelchair_riders=int(wheel),
            miles_per_day=miles,
            cost_gbp=cost,
            solo_cost_gbp=cost,
            max_ride_min=ride_min,
            children=cid,
        )
    )
    rider_rows.append(
        dict(
            child_id=cid,
            route_id=rid,
            vehicle="solo_taxi",
            stop=1,
            ride_min=ride_min,
            cost_gbp=cost,
        )
    )
    return route_rows, rider_rows


def _lower_bound(site: _Site, policy: Policy) -> float:
    """A lower bound [GBP/yr] on the cost of any plan for the site's children.

    Any route R (a shared vehicle of type k, or a solo taxi: k with one place)
    costs at least fixed_k + per-mile_k × 2 × the direct miles d of its farthest
    rider (routes are no shorter than the straight road to any stop). So the plan
    costs at least the larger of: (a) Σ_i min over k of (fixed_k + per-mile_k ×
    2 × d_i) ÷ places_k; (b) n × min_k fixed_k / places_k + min_k per-mile_k × 2
    × Σ of every P-th largest d (P = the most places of any vehicle: the greedy
    grouping minimises the sum of group maxima). Exact for straight-line × detour
    distances; with a road graph (fastest paths) it is an approximation.
    """
    t = policy.transport
    miles = site.km[0, 1:] / KM_PER_MILE
    kinds = [
        (getattr(t, v).vehicle_gbp_per_day, getattr(t, v).vehicle_gbp_per_mile, c.sum())
        for v, c in zip(VEHICLES, _capacity(policy), strict=True)
        if c.sum() > 0
    ]
    kinds.append((t.solo_taxi.fixed_gbp_per_day, t.solo_taxi.gbp_per_mile, 1))
    per_child = np.min([(f + r * 2 * miles) / c for f, r, c in kinds], axis=0)
    places = max(c for _, _, c in kinds)
    chunked = (
        len(miles) * min(f / c for f, _, c in kinds)
        + min(r for _, r, _ in kinds) * 2 * np.sort(miles)[::-1][::places].sum()
    )
    return float(max(per_child.sum(), chunked) * policy.school_days_per_year)


def estimate_routes(
    ds: Dataset,
    placements: object,
    *,
    time_limit_s: float = 10.0,
    method: str = "ortools",
    guided: bool = False,
) -> RoutePlan:
    """Estimate shared vehicle routes, setting by setting (see the module docstring).

    Parameters
    ----------
    ds : the dataset the allocation was made on.
    placements : an AllocationResult or its placements DataFrame.
    time_limit_s : total time budget [s]: each setting gets the budget left in proportion
        to its share of the children left (at least 0.02 s; model building counts).
    method : "ortools" (the routing model) or "nearest_neighbour" (a baseline heuristic).
    guided : use guided local search up to each setting's time limit (better plans,
        not reproducible across machines) instead of greedy descent.

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
    view = placement_transport(ds, getattr(placements, "placements", placements))
    moved = view[view["eligible"]].reset_index(drop=True)
    xy = ds.children.set_index(ds.children["child_id"].astype(str))[["easting", "northing"]]
    moved["x"] = moved["child_id"].map(xy["easting"]).to_numpy(float)
    moved["y"] = moved["child_id"].map(xy["northing"]).to_numpy(float)
    moved["solo_cost_gbp"] = mode_cost_gbp(
        moved["distance_km"].to_numpy(), np.full(len(moved), "solo_taxi"), policy=pol
    )
    school = ds.settings.set_index("setting_id")[["easting", "northing"]].astype(float)
    pooled = moved["mode"].isin(VEHICLES)
    route_rows: list[dict] = []
    rider_rows: list[dict] = []
    status: dict[str, tuple[str, float, float]] = {}
    left = int(pooled.sum())
    for sid, kids in moved[pooled].groupby("setting_id", sort=True):
        t0 = time.perf_counter()
        site = _site(pol, ds.roads, school.loc[sid].to_numpy(), kids)
        if method == "ortools":  # the budget left, shared by the children left
            spare = time_limit_s - (t0 - start)
            routes, state = _solve_site(site, pol, max(0.02, spare * len(kids) / left), guided)
            left -= len(kids)
        else:
            routes, state = _nearest_neighbour(site, pol), "heuristic"
        rows, riders = _plan_rows(str(sid), kids, site, routes, pol)
        route_rows += rows
        rider_rows += riders
        status[str(sid)] = (state, time.perf_counter() - t0, _lower_bound(site, pol))
    for row in moved[moved["mode"] == "solo_taxi"].itertuples():
        route_rows, rider_rows = _add_solo(
            row.setting_id,
            row.child_id,
            row.solo_cost_gbp,
            row.travel_min,
            2 * row.distance_km / KM_PER_MILE,
            bool(row.wheelchair),
            route_rows,
            rider_rows,
        )
    for row in moved[moved["mode"] == "personal_budget"].itertuples():
        rider_rows.append(
            dict(
                child_id=row.child_id,
                route_id="",
                vehicle="personal_budget",
                stop=0,
                ride_min=row.travel_min,
                cost_gbp=row.transport_cost_gbp,
            )
        )
    return _assemble(moved, route_rows, rider_rows, status, method, start)


_ROUTE_COLUMNS = [
    "route_id",
    "setting_id",
    "vehicle",
    "riders",
    "wheelchair_riders",
    "miles_per_day",
    "cost_gbp",
    "cost_per_child_gbp",
    "solo_cost_gbp",
    "max_ride_min",
    "children",
]
_RIDER_COLUMNS = [
    "child_id",
    "setting_id",
    "mode",
    "route_id",
    "vehicle",
    "stop",
    "ride_min",
    "direct_min",
    "cap_min",
    "over_cap",
    "cost_gbp",
    "solo_cost_gbp",
]


def _assemble(
    moved: pd.DataFrame,
    route_rows: list[dict],
    rider_rows: list[dict],
    status: dict[str, tuple[str, float, float]],
    method: str,
    start: float,
) -> RoutePlan:
    routes = pd.DataFrame(
        route_rows, columns=[c for c in _ROUTE_COLUMNS if c != "cost_per_child_gbp"]
    )
    routes["cost_per_child_gbp"] = routes["cost_gbp"] / routes["riders"].where(routes["riders"] > 0)
    routes = routes.sort_values("route_id", kind="stable").reset_index(drop=True)[_ROUTE_COLUMNS]
    info = moved.set_index("child_id")
    riders = pd.DataFrame(
        rider_rows, columns=["child_id", "route_id", "vehicle", "stop", "ride_min", "cost_gbp"]
    )
    riders["setting_id"] = riders["child_id"].map(info["setting_id"])
    riders["mode"] = riders["child_id"].map(info["mode"])
    riders["direct_min"] = riders["child_id"].map(info["travel_min"])
    riders["cap_min"] = riders["child_id"].map(info["cap_min"])
    riders["over_cap"] = riders["ride_min"] > riders["cap_min"] + 1e-6
    riders["solo_cost_gbp"] = riders["child_id"].map(info["solo_cost_gbp"])
    riders = riders.sort_values("child_id", kind="stable").reset_index(drop=True)[_RIDER_COLUMNS]
    settings = _settings_table(routes, riders, status)
    not_proven = tuple(settings.loc[settings["status"] != "optimal", "setting_id"])
    summary = _summary(moved, routes, riders, settings, time.perf_counter() - start)
    return RoutePlan(
        routes=routes,
        riders=riders,
        settings=settings,
        summary=summary,
        status="optimal" if not not_proven else "not proven",
        not_proven=not_proven,
        method=method,
        timings_s={"total": summary["time_s"]},
    )


def _settings_table(
    routes: pd.DataFrame, riders: pd.DataFrame, status: dict[str, tuple[str, float, float]]
) -> pd.DataFrame:
    by = riders.groupby("setting_id", sort=True)
    table = pd.DataFrame(
        {
            "children": by.size(),
            "routed": by["mode"].agg(lambda v: int(v.isin(VEHICLES).sum())),
            "routes": routes.groupby("setting_id").size(),
        }
    )
    for vehicle in (*VEHICLES, "solo_taxi"):
        table[vehicle] = routes[routes["vehicle"] == vehicle].groupby("setting_id").size()
    table["personal_budget"] = by["vehicle"].agg(lambda v: int((v == "personal_budget").sum()))
    table = table.fillna(0).astype(int)
    table["cost_gbp"] = by["cost_gbp"].sum()
    table["solo_cost_gbp"] = by["solo_cost_gbp"].sum()
    table["saving_gbp"] = table["solo_cost_gbp"] - table["cost_gbp"]
    table["riders_over_cap"] = by["over_cap"].sum().astype(int)
    solo_only = table.index.map(lambda s: s not in status)
    extra = riders[~riders["mode"].isin(VEHICLES)].groupby("setting_id")["cost_gbp"].sum()
    bound = pd.Series({s: b for s, (_, _, b) in status.items()}, dtype=float)
    table["lower_bound_gbp"] = bound.reindex(table.index).fillna(0) + extra.reindex(
        table.index
    ).fillna(0)
    table["status"] = [status[s][0] if s in status else "optimal" for s in table.index]
    table["solve_s"] = [status[s][1] if s in status else 0.0 for s in table.index]
    table.loc[solo_only, "lower_bound_gbp"] = table.loc[solo_only, "cost_gbp"]
    return table.rename_axis("setting_id").reset_index()


def _summary(
    moved: pd.DataFrame,
    routes: pd.DataFrame,
    riders: pd.DataFrame,
    settings: pd.DataFrame,
    elapsed: float,
) -> dict[str, float]:
    cost, solo = float(riders["cost_gbp"].sum()), float(riders["solo_cost_gbp"].sum())
    bound = float(settings["lower_bound_gbp"].sum())
    n = len(riders)
    counts = routes["vehicle"].value_counts()
    return {
        "transported_children": float(n),
        "routed_children": float(riders["mode"].isin(VEHICLES).sum()),
        "shared_children": float(riders["vehicle"].isin(VEHICLES).sum()),
        "routes": float(len(routes)),
        "vehicles": float(len(routes)),
        "minibus": float(counts.get("minibus", 0)),
        "shared_taxi": float(counts.get("shared_taxi", 0)),
        "solo_taxi": float(counts.get("solo_taxi", 0)),
        "personal_budget": float((riders["vehicle"] == "personal_budget").sum()),
        "cost_gbp": cost,
        "cost_per_child_gbp": cost / n if n else float("nan"),
        "solo_baseline_gbp": solo,
        "saving_gbp": solo - cost,
        "saving_share": (solo - cost) / solo if solo else float("nan"),
        "lower_bound_gbp": bound,
        "gap_share": (cost - bound) / cost if cost else 0.0,
        "riders_over_cap": float(riders["over_cap"].sum()),
        "riders_over_cap_by_sharing": float(
            (riders["over_cap"] & (riders["ride_min"] > riders["direct_min"] + 1e-6)).sum()
        ),
        "settings": float(len(settings)),
        "settings_not_proven_optimal": float((settings["status"] != "optimal").sum()),
        "per_child_estimate_gbp": float(moved["transport_cost_gbp"].sum()),
        "time_s": elapsed,
    }
