"""KPI tables of an allocation: headline figures, sufficiency, and why children are unplaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimiser.datamodel import Dataset
from optimiser.schema import INMSS_TYPES, MAINSTREAM_TYPES
from optimiser.transport import transport_kpis
from optimiser.travel import road_km_and_min

PHASES = ("primary", "secondary", "post16")


def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def allocation_kpis(
    ds: Dataset,
    placements: pd.DataFrame,
    unplaced: pd.DataFrame,
    kids: pd.DataFrame,
    placed_c: np.ndarray,
) -> dict[str, float]:
    """Headline figures (DESIGN §4 names first); costs [GBP/yr], times [min].

    ``placed_c`` is each placement's child position in ``kids`` (row order of
    ``placements``).
    """
    inmss = placements["setting_type"].isin(INMSS_TYPES).to_numpy()
    free = ~kids["fixed"].to_numpy(bool)
    ranked = free & (kids["n_prefs"].to_numpy() > 0)
    first = ranked[placed_c] & (placements["preference_rank"].to_numpy() == 1)
    travel = placements["travel_min"].to_numpy(float)
    over = travel > kids["cap_min"].to_numpy()[placed_c] + 1e-9
    wants = free & kids["prefers_mainstream"].to_numpy(bool)
    met = wants[placed_c] & placements["setting_type"].isin(MAINSTREAM_TYPES).to_numpy()
    place = placements["place_cost_gbp"].to_numpy(float)
    transport = placements["transport_cost_gbp"].to_numpy(float)
    continuing = placements["continuing"].to_numpy(bool)
    return {
        "total_cost_gbp": float(place.sum() + transport.sum()),
        "place_cost_gbp": float(place.sum()),
        "transport_cost_gbp": float(transport.sum()),
        "inmss_children": float(inmss.sum()),
        "inmss_share": _share(inmss.sum(), len(placements)),
        "inmss_cost_gbp": float(place[inmss].sum()),
        "unplaced_children": float(len(unplaced)),
        "first_preference_share": _share(first.sum(), ranked.sum()),
        "mean_travel_min": float(travel.mean()) if len(placements) else 0.0,
        "max_travel_min": float(travel.max()) if len(placements) else 0.0,
        "placed_children": float(len(placements)),
        "continuing_children": float(continuing.sum()),
        "new_placements": float((~continuing).sum()),
        "children_over_journey_cap": float(over.sum()),
        "mainstream_preference_met_share": _share(met.sum(), wants.sum()),
        **transport_kpis(ds, placements, child_pos=placed_c, needs=kids),
    }


def _phase_places(ds: Dataset, packages: pd.Index) -> np.ndarray:
    """Places per package × phase (rows: ``packages``; columns: PHASES).

    A setting's places are split across phases by the overlap of its age range
    with each phase's ages (ages 4-19).
    """
    pol = ds.policy.phase_age
    bounds = [(4, pol.secondary_from - 1), (pol.secondary_from, pol.post16_from - 1)]
    bounds.append((pol.post16_from, 19))
    settings = ds.settings.drop_duplicates("setting_id")
    si = pd.Index(settings["setting_id"]).get_indexer(ds.places["setting_id"])
    k = packages.get_indexer(ds.places["package_id"])
    ok = (si >= 0) & (k >= 0)
    ok[ok] = ~settings["closed"].to_numpy(bool)[si[ok]]
    lo = settings["age_min"].to_numpy(float, na_value=np.nan)[si[ok]]
    hi = settings["age_max"].to_numpy(float, na_value=np.nan)[si[ok]]
    n_places = ds.places["places"].to_numpy(float, na_value=np.nan)[ok]
    span = np.maximum(np.minimum(hi, 19) - np.maximum(lo, 4) + 1, 1)
    out = np.zeros((len(packages), len(PHASES)))
    for j, (a, b) in enumerate(bounds):
        overlap = np.maximum(np.minimum(hi, b) - np.maximum(lo, a) + 1, 0)
        share = np.nan_to_num(n_places * overlap / span)
        out[:, j] = np.bincount(k[ok], weights=share, minlength=len(packages))
    return out


def sufficiency_table(
    ds: Dataset,
    placements: pd.DataFrame,
    unplaced: pd.DataFrame,
    kids: pd.DataFrame,
    placed_c: np.ndarray,
) -> pd.DataFrame:
    """Demand, places, placed (in INMSS) and shortfall by package × phase.

    ``places`` splits each setting's places across phases by the overlap of its
    age range with the phase's ages (ages 4-19). ``shortfall`` = max(demand −
    places, 0); ``unplaced`` counts children the model could not place.
    ``placed_c`` is each placement's child position in ``kids``.
    """
    packages = pd.Index(ds.packages["package_id"])
    k = packages.get_indexer(kids["package_id"])
    phase = pd.Index(PHASES).get_indexer(kids["phase"])
    cell = np.where((k >= 0) & (phase >= 0), k * len(PHASES) + phase, -1)
    size = len(packages) * len(PHASES)

    def count(pos: np.ndarray) -> np.ndarray:
        cells = cell[pos]
        return np.bincount(cells[cells >= 0], minlength=size)

    placed = np.zeros(len(kids), bool)
    placed[placed_c] = True
    inmss = placements["setting_type"].isin(INMSS_TYPES).to_numpy()
    table = pd.DataFrame(
        {
            "package_id": np.repeat(packages.to_numpy(), len(PHASES)),
            "phase": np.tile(np.array(PHASES, object), len(packages)),
            "demand": count(np.arange(len(kids))),
            "places": _phase_places(ds, packages).ravel().round(1),
            "placed": count(placed_c),
            "placed_inmss": count(placed_c[inmss]),
            "unplaced": count(np.flatnonzero(~placed)),
        }
    )
    table["shortfall"] = (table["demand"] - table["places"]).clip(lower=0).round(1)
    return table


def unplaced_reasons(
    ds: Dataset, kids: pd.DataFrame, arcs: pd.DataFrame, placed_c: np.ndarray
) -> pd.DataFrame:
    """One row per unplaced child: child_id, package_id, reason (with the numbers).

    Reasons, first that applies: no open setting lists the package at the
    child's age; none within the journey cap (with the nearest journey time);
    or every eligible setting is full (how many, how many places).
    ``placed_c`` holds the positions in ``kids`` of the children placed.
    """
    placed = np.zeros(len(kids), bool)
    placed[placed_c] = True
    miss = np.flatnonzero(~placed)
    if len(miss) == 0:
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
    none = (np.zeros(0), np.zeros(0), np.zeros((0, 2)))
    package = kids["package_id"].to_numpy()[miss]
    age = kids["age"].to_numpy()[miss]
    groups = pd.DataFrame({"p": package, "a": age}).groupby(["p", "a"]).indices
    n_offer = np.zeros(len(miss), np.int64)
    for (pkg, a), idx in groups.items():
        lo, hi, _ = by_pkg.get(pkg, none)
        n_offer[idx] = ((lo <= a) & (a <= hi)).sum()
    # eligible arcs (with a places row) of the children left unplaced
    c, p = arcs["c"].to_numpy(), arcs["p"].to_numpy()
    mine = ~placed[c] & (p >= 0)
    n_elig = np.bincount(c[mine], minlength=len(kids))[miss]
    seats = ds.places["places"].to_numpy(float, na_value=0.0)[p[mine]]
    n_places = np.bincount(c[mine], weights=seats, minlength=len(kids))[miss]
    # nearest journey, only for those with offers but none within the cap
    nearest = np.full(len(miss), np.inf)
    xy = kids[["x", "y"]].to_numpy(float)[miss]
    for (pkg, a), idx in groups.items():
        idx = idx[(n_offer[idx] > 0) & (n_elig[idx] == 0)]
        if len(idx):
            lo, hi, sxy = by_pkg[pkg]
            nearest[idx] = _nearest_minutes(xy[idx], sxy[(lo <= a) & (a <= hi)], ds)
    caps = kids["cap_min"].to_numpy()[miss]
    reasons = []
    for i, (pkg, a) in enumerate(zip(package.tolist(), age.tolist(), strict=True)):
        if n_offer[i] == 0:
            reasons.append(f"no setting delivers package {pkg} for age {a}")
        elif n_elig[i] == 0:
            reasons.append(
                f"no eligible setting within the {caps[i]:.0f}-minute journey cap "
                f"(nearest of {n_offer[i]} settings delivering {pkg}: {nearest[i]:.0f} min)"
            )
        else:
            n, seats = int(n_elig[i]), float(n_places[i])
            reasons.append(
                f"eligible settings full ({n} eligible setting{'s' if n != 1 else ''} "
                f"with {int(seats) if seats.is_integer() else seats} {pkg} places, all taken)"
            )
    return pd.DataFrame(
        {
            "child_id": kids["child_id"].iloc[miss].to_numpy(),
            "package_id": pd.Series(kids["package_id"].to_numpy()[miss], dtype=object),
            "reason": reasons,
        }
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
