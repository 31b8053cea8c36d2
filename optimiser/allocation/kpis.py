"""Key figures of an allocation: headline KPIs and sufficiency by package × phase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap
from optimiser.schema.tables import INMSS_TYPES, MAINSTREAM_TYPES
from optimiser.transport.tables import transport_kpis

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

    ``total_cost_gbp`` = place + transport + unplaced cost: ``unplaced_cost_gbp`` is
    the sum of ``unplaced["unplaced_cost_gbp"]`` (each unplaced child at its rate).

    ``placed_c`` is each placement's child position in ``kids`` (row order of
    ``placements``).
    """
    inmss = placements["setting_type"].isin(INMSS_TYPES).to_numpy()
    free = ~kids["fixed"].to_numpy(bool)
    ranked = free & (kids["n_prefs"].to_numpy() > 0)
    first = ranked[placed_c] & (placements["preference_rank"].to_numpy() == 1)
    travel = placements["travel_min"].to_numpy(float)
    over = over_journey_cap(travel, kids["cap_min"].to_numpy()[placed_c])
    wants = free & kids["prefers_mainstream"].to_numpy(bool)
    met = wants[placed_c] & placements["setting_type"].isin(MAINSTREAM_TYPES).to_numpy()
    place = placements["place_cost_gbp"].to_numpy(float)
    transport = placements["transport_cost_gbp"].to_numpy(float)
    continuing = placements["continuing"].to_numpy(bool)
    # no free unplaced children (DESIGN §8): each costs its rate (allocation.unplaced_cost)
    unplaced_gbp = (
        float(unplaced["unplaced_cost_gbp"].astype(float).sum())
        if "unplaced_cost_gbp" in unplaced
        else 0.0
    )
    return {
        "total_cost_gbp": float(place.sum()) + float(transport.sum()) + unplaced_gbp,
        "place_cost_gbp": float(place.sum()),
        "transport_cost_gbp": float(transport.sum()),
        "unplaced_cost_gbp": unplaced_gbp,
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
    k = packages.get_indexer(pd.Index(ds.places["package_id"]))
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
    k = packages.get_indexer(pd.Index(kids["package_id"]))
    phase = pd.Index(PHASES).get_indexer(pd.Index(kids["phase"]))
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
