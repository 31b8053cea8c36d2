"""The route plan: routes, riders, per-setting and headline tables of a route estimate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from optimiser.policy import over_journey_cap
from optimiser.transport.routes.instance import VEHICLES


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
    summary : headline figures (see :func:`optimiser.transport.routes.estimate_routes`).
    status : "optimal" when every setting's plan is proven optimal, else "not proven".
    not_proven : setting ids whose plans are not proven optimal.
    method : "pyvrp", "ortools" or "nearest_neighbour".
    """

    routes: pd.DataFrame
    riders: pd.DataFrame
    settings: pd.DataFrame
    summary: dict[str, float]
    status: str
    not_proven: tuple[str, ...]
    method: str
    timings_s: dict[str, float] = field(default_factory=dict)


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


def assemble_plan(
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
    riders["over_cap"] = over_journey_cap(riders["ride_min"], riders["cap_min"])
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
