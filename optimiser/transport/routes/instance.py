"""One setting's routing instance: its school and shared-mode children as nodes.

Node 0 is the school (the depot), nodes 1..n the children, with road km and
travel minutes between every pair, wheelchair users, each child's latest arrival
and solo-taxi cost; the vehicle types' seats and wheelchair spaces; and a lower
bound on the cost of any plan for the instance. Used by the route search
(:mod:`optimiser.transport.routes.search`) and the costing of routes
(:mod:`optimiser.transport.routes.costing`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.policy import Policy
from optimiser.transport.rules import SHARED_MODES, mode_cost_gbp
from optimiser.transport.travel import KM_PER_MILE, road_km_and_min

VEHICLES = SHARED_MODES


@dataclass(frozen=True)
class RoutingInstance:
    """One setting's routing instance: node 0 is the school, nodes 1..n its children."""

    km: np.ndarray  # (m, m) road km
    minutes: np.ndarray  # (m, m) travel min
    wheel: np.ndarray  # (m,) bool, wheelchair user
    limit_min: np.ndarray  # (m,) latest arrival [min]
    solo_gbp: np.ndarray  # (m,) solo-taxi cost per year (0 at the school)


def build_routing_instance(
    policy: Policy, graph: object, school_xy: np.ndarray, kids: pd.DataFrame
) -> RoutingInstance:
    """The instance of one setting (school at ``school_xy``) and its shared-mode ``kids``."""
    xy = np.vstack([school_xy[None, :], kids[["x", "y"]].to_numpy(float)])
    m = len(xy)
    a, b = np.repeat(np.arange(m), m), np.tile(np.arange(m), m)
    km, mins = road_km_and_min(xy[a], xy[b], policy=policy, graph=graph)
    km, mins = km.reshape(m, m), mins.reshape(m, m)
    limit = np.r_[0.0, np.maximum(kids["cap_min"].to_numpy(float), mins[0, 1:])]
    solo = np.r_[0.0, mode_cost_gbp(km[0, 1:], np.full(m - 1, "solo_taxi"), policy=policy)]
    return RoutingInstance(km, mins, np.r_[False, kids["wheelchair"].to_numpy(bool)], limit, solo)


def vehicle_capacity(policy: Policy) -> np.ndarray:
    """(seats, wheelchair spaces) of each vehicle type in :data:`VEHICLES`, one row each."""
    t = policy.transport
    return np.array([[getattr(t, v).seats, getattr(t, v).wheelchair_spaces] for v in VEHICLES])


def lower_bound_gbp(site: RoutingInstance, policy: Policy) -> float:
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
        for v, c in zip(VEHICLES, vehicle_capacity(policy), strict=True)
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
