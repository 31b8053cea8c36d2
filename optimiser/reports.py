"""KPI tables of an allocation: headline figures, sufficiency, and why children are unplaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimiser.datamodel import Dataset
from optimiser.schema import INMSS_TYPES
from optimiser.transport import transport_kpis
from optimiser.travel import road_km_and_min

PHASES = ("primary", "secondary", "post16")


def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def allocation_kpis(
    ds: Dataset, placements: pd.DataFrame, unplaced: pd.DataFrame, kids: pd.DataFrame
) -> dict[str, float]:
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
        **transport_kpis(ds, placements),
    }


def _mainstream_met(placements: pd.DataFrame, free: pd.DataFrame) -> float:
    wants = set(free.loc[free["prefers_mainstream"], "child_id"])
    mine = placements[placements["child_id"].isin(wants)]
    met = mine["setting_type"].isin(("mainstream", "inclusion_base")).sum()
    return _share(met, len(wants))


def _phase_places(ds: Dataset) -> pd.DataFrame:
    """Places per package × phase; a setting's places split by its age overlap with each phase."""
    pol = ds.policy.phase_age
    bounds = {
        "primary": (4, pol.secondary_from - 1),
        "secondary": (pol.secondary_from, pol.post16_from - 1),
        "post16": (pol.post16_from, 19),
    }
    merged = ds.places.merge(
        ds.settings[["setting_id", "age_min", "age_max", "closed"]], on="setting_id"
    )
    merged = merged[~merged["closed"]]
    lo, hi = merged["age_min"].astype(float), merged["age_max"].astype(float)
    span = (np.minimum(hi, 19) - np.maximum(lo, 4) + 1).clip(lower=1)
    rows = []
    for phase, (a, b) in bounds.items():
        overlap = (np.minimum(hi, b) - np.maximum(lo, a) + 1).clip(lower=0)
        share = merged["places"].astype(float) * overlap / span
        rows.append(share.groupby(merged["package_id"]).sum().rename(phase))
    return pd.concat(rows, axis=1).fillna(0.0)


def sufficiency_table(
    ds: Dataset, placements: pd.DataFrame, unplaced: pd.DataFrame, kids: pd.DataFrame
) -> pd.DataFrame:
    """Demand, places, placed (in INMSS) and shortfall by package × phase.

    ``places`` splits each setting's places across phases by the overlap of its
    age range with the phase's ages (ages 4-19). ``shortfall`` = max(demand −
    places, 0); ``unplaced`` counts children the model could not place.
    """
    demand = kids.groupby(["package_id", "phase"]).size()
    placed = placements.groupby(["package_id", "phase"]).size()
    inmss = (
        placements[placements["setting_type"].isin(INMSS_TYPES)]
        .groupby(["package_id", "phase"])
        .size()
    )
    phase_of = kids.set_index("child_id")["phase"]
    unpl = (
        unplaced.assign(phase=unplaced["child_id"].map(phase_of))
        .groupby(["package_id", "phase"])
        .size()
    )
    places = _phase_places(ds).stack()
    index = pd.MultiIndex.from_product(
        [ds.packages["package_id"], PHASES], names=["package_id", "phase"]
    )
    table = pd.DataFrame(
        {
            "demand": demand.reindex(index, fill_value=0),
            "places": places.reindex(index, fill_value=0.0).round(1),
            "placed": placed.reindex(index, fill_value=0),
            "placed_inmss": inmss.reindex(index, fill_value=0),
            "unplaced": unpl.reindex(index, fill_value=0),
        }
    )
    table["shortfall"] = (table["demand"] - table["places"]).clip(lower=0).round(1)
    return table.reset_index()


def unplaced_reasons(
    ds: Dataset, kids: pd.DataFrame, arcs: pd.DataFrame, placements: pd.DataFrame
) -> pd.DataFrame:
    """One row per unplaced child: child_id, package_id, reason (with the numbers).

    Reasons, first that applies: no open setting lists the package at the
    child's age; none within the journey cap (with the nearest journey time);
    or every eligible setting is full (how many, how many places).
    """
    missing = kids[~kids["child_id"].isin(placements["child_id"])].reset_index(drop=True)
    if missing.empty:
        return pd.DataFrame(columns=["child_id", "package_id", "reason"])
    offers = ds.places.merge(ds.settings[~ds.settings["closed"]], on="setting_id")
    by_pkg = {
        pkg: (
            rows["age_min"].to_numpy(float),
            rows["age_max"].to_numpy(float),
            rows[["easting", "northing"]].to_numpy(float),
        )
        for pkg, rows in offers.groupby("package_id")
    }
    n_offer = np.zeros(len(missing), np.int64)
    nearest = np.full(len(missing), np.inf)
    xy = missing[["x", "y"]].to_numpy(float)
    for (pkg, age), idx in missing.groupby(["package_id", "age"]).indices.items():
        lo, hi, sxy = by_pkg.get(pkg, (np.zeros(0), np.zeros(0), np.zeros((0, 2))))
        fit = (lo <= age) & (age <= hi)
        n_offer[idx] = fit.sum()
        if fit.any():
            nearest[idx] = _nearest_minutes(xy[idx], sxy[fit], ds)
    mine = arcs[arcs["child_id"].isin(missing["child_id"])]
    elig = mine.merge(
        ds.places[["setting_id", "package_id", "places"]], on=["setting_id", "package_id"]
    )
    n_elig = elig.groupby("child_id")["setting_id"].nunique()
    n_places = elig.groupby("child_id")["places"].sum()
    reasons = []
    for i, row in enumerate(missing.itertuples()):
        if n_offer[i] == 0:
            reasons.append(f"no setting delivers package {row.package_id} for age {row.age}")
        elif row.child_id not in n_elig.index:
            reasons.append(
                f"no eligible setting within the {row.cap_min:.0f}-minute journey cap "
                f"(nearest of {n_offer[i]} settings delivering {row.package_id}: "
                f"{nearest[i]:.0f} min)"
            )
        else:
            n = n_elig[row.child_id]
            reasons.append(
                f"eligible settings full ({n} eligible setting{'s' if n != 1 else ''} "
                f"with {n_places[row.child_id]} {row.package_id} places, all taken)"
            )
    return pd.DataFrame(
        {"child_id": missing["child_id"], "package_id": missing["package_id"], "reason": reasons}
    )


def _nearest_minutes(xy: np.ndarray, sxy: np.ndarray, ds: Dataset) -> np.ndarray:
    """Journey time [min] from each home to the nearest setting point (KD-tree, or the roads)."""
    if ds.roads is None:
        _, k = cKDTree(sxy).query(xy)
        return road_km_and_min(xy, sxy[k], policy=ds.policy)[1]
    rep = np.repeat(xy, len(sxy), axis=0)
    _, mins = road_km_and_min(rep, np.tile(sxy, (len(xy), 1)), policy=ds.policy, graph=ds.roads)
    return mins.reshape(len(xy), len(sxy)).min(axis=1)


_KPI_LABELS = {
    "placed_children": ("children placed", "{:,.0f}"),
    "continuing_children": ("  of whom continuing placements", "{:,.0f}"),
    "new_placements": ("  of whom newly placed", "{:,.0f}"),
    "unplaced_children": ("children without a suitable place", "{:,.0f}"),
    "total_cost_gbp": ("total cost a year", "£{:,.0f}"),
    "place_cost_gbp": ("  place cost", "£{:,.0f}"),
    "transport_cost_gbp": ("  transport cost", "£{:,.0f}"),
    "transported_children": ("children transported", "{:,.0f}"),
    "transport_cost_per_transported_child_gbp": (
        "  transport cost per child transported",
        "£{:,.0f}",
    ),
    "travelling_alone_share": ("  travelling alone (solo taxi)", "{:.1%}"),
    "personal_budget_children": ("  on a personal travel budget", "{:,.0f}"),
    "transported_over_journey_cap": ("  transported over the journey cap", "{:,.0f}"),
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


def format_value(key: str, value: float, *, delta: bool = False) -> str:
    """A KPI value formatted by its unit (from its name): £, %, minutes or a count."""
    if value != value:
        return "n/a"
    sign = "+" if delta and value > 0 else ""
    if key.endswith("_gbp"):
        return f"{sign}£{value:,.0f}" if value >= 0 else f"-£{-value:,.0f}"
    if key.endswith("_share"):
        return f"{sign}{value * 100:.1f}" + (" pts" if delta else "%")
    if key.endswith("_min"):
        return f"{sign}{value:.1f}"
    return f"{sign}{value:,.0f}"
