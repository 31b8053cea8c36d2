"""KPI tables of an allocation: headline figures, sufficiency, and why children are unplaced."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.datamodel import Dataset
from optimiser.schema import INMSS_TYPES
from optimiser.travel import road_km_and_min

PHASES = ("primary", "secondary", "post16")


def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def allocation_kpis(ds: Dataset, placements: pd.DataFrame, unplaced: pd.DataFrame,
                    kids: pd.DataFrame) -> dict[str, float]:
    """Headline figures (DESIGN §4 names first); costs [GBP/yr], times [min]."""
    inmss = placements["setting_type"].isin(INMSS_TYPES)
    free = kids[~kids["fixed"]]
    ranked = set(free.loc[free["prefs"].map(len) > 0, "child_id"])
    first = placements["child_id"].isin(ranked) & (placements["preference_rank"] == 1)
    caps = kids.set_index("child_id")["cap_min"]
    over = placements["travel_min"] > placements["child_id"].map(caps) + 1e-9
    place, transport = placements["place_cost_gbp"].sum(), placements["transport_cost_gbp"].sum()
    return {
        "total_cost_gbp": float(place + transport),
        "place_cost_gbp": float(place),
        "transport_cost_gbp": float(transport),
        "inmss_children": float(inmss.sum()),
        "inmss_share": _share(inmss.sum(), len(placements)),
        "inmss_cost_gbp": float(placements.loc[inmss, "place_cost_gbp"].sum()),
        "unplaced_children": float(len(unplaced)),
        "first_preference_share": _share(first.sum(), len(ranked)),
        "mean_travel_min": float(placements["travel_min"].mean()) if len(placements) else 0.0,
        "max_travel_min": float(placements["travel_min"].max()) if len(placements) else 0.0,
        "placed_children": float(len(placements)),
        "continuing_children": float(placements["continuing"].sum()),
        "new_placements": float((~placements["continuing"]).sum()),
        "children_over_journey_cap": float(over.sum()),
        "mainstream_preference_met_share": _mainstream_met(placements, free),
    }


def _mainstream_met(placements: pd.DataFrame, free: pd.DataFrame) -> float:
    wants = set(free.loc[free["prefers_mainstream"], "child_id"])
    mine = placements[placements["child_id"].isin(wants)]
    met = mine["setting_type"].isin(("mainstream", "inclusion_base")).sum()
    return _share(met, len(wants))


def _phase_places(ds: Dataset) -> pd.DataFrame:
    """Places per package × phase; a setting's places split by its age overlap with each phase."""
    pol = ds.policy.phase_age
    bounds = {"primary": (4, pol.secondary_from - 1),
              "secondary": (pol.secondary_from, pol.post16_from - 1),
              "post16": (pol.post16_from, 19)}
    merged = ds.places.merge(ds.settings[["setting_id", "age_min", "age_max", "closed"]],
                             on="setting_id")
    merged = merged[~merged["closed"]]
    lo, hi = merged["age_min"].astype(float), merged["age_max"].astype(float)
    span = (np.minimum(hi, 19) - np.maximum(lo, 4) + 1).clip(lower=1)
    rows = []
    for phase, (a, b) in bounds.items():
        overlap = (np.minimum(hi, b) - np.maximum(lo, a) + 1).clip(lower=0)
        share = merged["places"].astype(float) * overlap / span
        rows.append(share.groupby(merged["package_id"]).sum().rename(phase))
    return pd.concat(rows, axis=1).fillna(0.0)


def sufficiency_table(ds: Dataset, placements: pd.DataFrame, unplaced: pd.DataFrame,
                      kids: pd.DataFrame) -> pd.DataFrame:
    """Demand, places, placed (in INMSS) and shortfall by package × phase.

    ``places`` splits each setting's places across phases by the overlap of its
    age range with the phase's ages (ages 4-19). ``shortfall`` = max(demand −
    places, 0); ``unplaced`` counts children the model could not place.
    """
    demand = kids.groupby(["package_id", "phase"]).size()
    placed = placements.groupby(["package_id", "phase"]).size()
    inmss = placements[placements["setting_type"].isin(INMSS_TYPES)].groupby(
        ["package_id", "phase"]).size()
    phase_of = kids.set_index("child_id")["phase"]
    unpl = unplaced.assign(phase=unplaced["child_id"].map(phase_of)).groupby(
        ["package_id", "phase"]).size()
    places = _phase_places(ds).stack()
    index = pd.MultiIndex.from_product([ds.packages["package_id"], PHASES],
                                       names=["package_id", "phase"])
    table = pd.DataFrame({
        "demand": demand.reindex(index, fill_value=0),
        "places": places.reindex(index, fill_value=0.0).round(1),
        "placed": placed.reindex(index, fill_value=0),
        "placed_inmss": inmss.reindex(index, fill_value=0),
        "unplaced": unpl.reindex(index, fill_value=0),
    })
    table["shortfall"] = (table["demand"] - table["places"]).clip(lower=0).round(1)
    return table.reset_index()


def unplaced_reasons(ds: Dataset, kids: pd.DataFrame, arcs: pd.DataFrame,
                     placements: pd.DataFrame) -> pd.DataFrame:
    """One row per unplaced child: child_id, package_id, reason (with the numbers)."""
    missing = kids[~kids["child_id"].isin(placements["child_id"])]
    offers = ds.places[ds.places["places"] > 0].merge(ds.settings, on="setting_id")
    offers = offers[~offers["closed"]]
    reasons = [_reason(row, offers, arcs, ds) for row in missing.itertuples()]
    return pd.DataFrame({"child_id": missing["child_id"].to_numpy(),
                         "package_id": missing["package_id"].to_numpy(),
                         "reason": reasons}, columns=["child_id", "package_id", "reason"])


def _reason(child, offers: pd.DataFrame, arcs: pd.DataFrame, ds: Dataset) -> str:
    mine = offers[(offers["package_id"] == child.package_id) & (offers["age_min"] <= child.age)
                  & (offers["age_max"] >= child.age)]
    if mine.empty:
        return f"no setting delivers package {child.package_id} for age {child.age}"
    eligible = arcs[arcs["child_id"] == child.child_id]
    if eligible.empty:
        xy = np.repeat([[child.x, child.y]], len(mine), axis=0)
        _, mins = road_km_and_min(xy, mine[["easting", "northing"]].to_numpy(float),
                                  policy=ds.policy, graph=ds.roads)
        return (f"no eligible setting within the {child.cap_min:.0f}-minute journey cap "
                f"(nearest of {len(mine)} settings delivering {child.package_id}: "
                f"{mins.min():.0f} min)")
    places = int(mine[mine["setting_id"].isin(eligible["setting_id"])]["places"].sum())
    n = len(eligible)
    return (f"eligible settings full ({n} eligible setting{'s' * (n != 1)} with {places} "
            f"{child.package_id} places, all taken)")


_KPI_LABELS = {
    "placed_children": ("children placed", "{:,.0f}"),
    "continuing_children": ("  of whom continuing placements", "{:,.0f}"),
    "new_placements": ("  of whom newly placed", "{:,.0f}"),
    "unplaced_children": ("children without a suitable place", "{:,.0f}"),
    "total_cost_gbp": ("total cost a year", "£{:,.0f}"),
    "place_cost_gbp": ("  place cost", "£{:,.0f}"),
    "transport_cost_gbp": ("  transport cost", "£{:,.0f}"),
    "inmss_children": ("children in INMSS", "{:,.0f}"),
    "inmss_share": ("INMSS share of placements", "{:.1%}"),
    "inmss_cost_gbp": ("INMSS place cost a year", "£{:,.0f}"),
    "first_preference_share": ("first preference met (of those who ranked)", "{:.1%}"),
    "mainstream_preference_met_share": ("mainstream preference met", "{:.1%}"),
    "mean_travel_min": ("mean journey (min)", "{:.1f}"),
    "max_travel_min": ("longest journey (min)", "{:.1f}"),
    "children_over_journey_cap": ("children over the journey cap", "{:,.0f}"),
}


def format_kpis(kpis: dict[str, float]) -> list[tuple[str, str]]:
    """(label, formatted value) pairs for display, in a reading order; NaN shows as n/a."""
    out = []
    for key, (label, fmt) in _KPI_LABELS.items():
        if key in kpis:
            value = kpis[key]
            out.append((label, "n/a" if value != value else fmt.format(value)))
    return out
