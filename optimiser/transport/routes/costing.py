"""Cost one setting's routes: cheapest vehicle per route, costly routes and the unrouted solo.

Turns routes (lists of instance nodes, :mod:`optimiser.transport.routes.search`) into route
rows and rider rows: each route gets the cheapest vehicle type that fits it; a
route costing more than solo taxis for its riders, and every child on no route,
gets a solo taxi of their own; a route's cost is shared among its riders in
proportion to their solo-taxi cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Protocol, cast

import numpy as np
import pandas as pd

from optimiser.policy import Policy
from optimiser.transport.routes.instance import VEHICLES, RoutingInstance, vehicle_capacity
from optimiser.transport.travel import KM_PER_MILE


def cost_route(
    route: list[int], site: RoutingInstance, policy: Policy
) -> tuple[str, float, float, np.ndarray]:
    """(vehicle, annual cost, miles a day, ride minutes) with the cheapest type that fits."""
    path = np.array([0, *route])
    miles = float(site.km[path[:-1], path[1:]].sum()) / KM_PER_MILE
    legs = site.minutes[path[:-1], path[1:]]
    ride = np.cumsum(legs) + policy.transport.stop_min * np.arange(len(route))
    need = np.array([sum(not site.wheel[j] for j in route), sum(site.wheel[j] for j in route)])
    best = ("", math.inf)
    for v, cap in zip(VEHICLES, vehicle_capacity(policy), strict=True):
        if (need <= cap).all():
            rate = getattr(policy.transport, v)
            day = rate.vehicle_gbp_per_day + rate.vehicle_gbp_per_mile * 2 * miles
            best = min(best, (v, day * policy.school_days_per_year), key=lambda b: b[1])
    return best[0], best[1], 2 * miles, ride


def plan_rows(
    sid: str, kids: pd.DataFrame, site: RoutingInstance, routes: list[list[int]], policy: Policy
) -> tuple[list[dict], list[dict]]:
    """Route and rider rows of one setting; costly routes and the unrouted go solo."""
    route_rows: list[dict] = []
    rider_rows: list[dict] = []
    served: set[int] = set()
    ids = kids["child_id"].to_numpy()
    for route in routes:
        vehicle, cost, miles, ride = cost_route(route, site, policy)
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
        route_rows, rider_rows = add_solo_route(
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


def add_solo_route(
    sid: str,
    cid: str,
    cost: float,
    ride_min: float,
    miles: float,
    wheel: bool,
    route_rows: list[dict],
    rider_rows: list[dict],
) -> tuple[list[dict], list[dict]]:
    """Add a solo-taxi route of its own for child ``cid`` of setting ``sid``."""
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


class _MovedRow(Protocol):
    """The fields of a moved-child row read here (pandas-stubs types them broadly)."""

    setting_id: str
    child_id: str
    solo_cost_gbp: float
    travel_min: float
    distance_km: float
    wheelchair: bool
    transport_cost_gbp: float


def add_unrouted_rows(
    moved: pd.DataFrame, route_rows: list[dict], rider_rows: list[dict]
) -> tuple[list[dict], list[dict]]:
    """Rows of the children not routed: a solo taxi each, or their personal budget."""
    for row in cast(Iterator[_MovedRow], moved[moved["mode"] == "solo_taxi"].itertuples()):
        route_rows, rider_rows = add_solo_route(
            row.setting_id,
            row.child_id,
            row.solo_cost_gbp,
            row.travel_min,
            2 * row.distance_km / KM_PER_MILE,
            bool(row.wheelchair),
            route_rows,
            rider_rows,
        )
    for row in cast(Iterator[_MovedRow], moved[moved["mode"] == "personal_budget"].itertuples()):
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
    return route_rows, rider_rows
