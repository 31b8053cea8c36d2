"""Key figures of an allocation: headline KPIs and sufficiency by package × phase."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimiser.dataset.ids import first_rows, object_index, positions
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
    *,
    inmss: np.ndarray | None = None,
    mainstream: np.ndarray | None = None,
    mode_code: np.ndarray | None = None,
) -> dict[str, float]:
    """Headline figures (DESIGN §4 names first); costs [GBP/yr], times [min].

    ``total_cost_gbp`` = place + transport + unplaced cost: ``unplaced_cost_gbp`` is
    the sum of ``unplaced["unplaced_cost_gbp"]`` (each unplaced child at its rate).

    ``placed_c`` is each placement's child position in ``kids`` (row order of
    ``placements``). ``inmss`` and ``mainstream``: whether each placement's
    ``setting_type`` is INMSS / mainstream, and ``mode_code`` its transport mode code
    (:func:`optimiser.transport.tables.transport_kpis`), when the caller has them.
    """
    inmss = _type_is(placements, INMSS_TYPES) if inmss is None else inmss
    mainstream = _type_is(placements, MAINSTREAM_TYPES) if mainstream is None else mainstream
    free = ~kids["fixed"].to_numpy(bool)
    ranked = free & (kids["n_prefs"].to_numpy() > 0)
    first = ranked[placed_c] & (placements["preference_rank"].to_numpy() == 1)
    travel = placements["travel_min"].to_numpy(float)
    over = over_journey_cap(travel, kids["cap_min"].to_numpy()[placed_c])
    wants = free & kids["prefers_mainstream"].to_numpy(bool)
    met = wants[placed_c] & mainstream
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
        **transport_kpis(ds, placements, child_pos=placed_c, needs=kids, mode_code=mode_code),
    }


def _type_is(placements: pd.DataFrame, types: tuple[str, ...]) -> np.ndarray:
    """Whether each placement's ``setting_type`` is one of ``types``."""
    return placements["setting_type"].isin(types).to_numpy(bool)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` whole places split in proportion to ``weights`` (Hamilton's rule).

    Each part gets the floor of its quota, then the parts with the largest remainders
    one more each until the total is reached; ties go to the earlier part (the
    younger phase). All weights 0: everything to the first part.
    """
    out = np.zeros(len(weights), np.int64)
    if total <= 0:
        return out
    w = np.asarray(weights, float)
    if w.sum() <= 0:
        out[0] = total
        return out
    quota = total * w / w.sum()
    out[:] = np.floor(quota + 1e-9)
    left = total - int(out.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - out)))
    out[order[:left]] += 1
    return out


def phase_places(
    ds: Dataset,
    packages: pd.Index,
    placements: pd.DataFrame | None = None,
    *,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
    setting_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Whole places per package × phase (rows: ``packages``; columns: PHASES).

    Each open setting's places for a package (N, a whole number) go to phases in whole
    places, where its children are first:

    1. each phase gets the c_ph children placed there (this setting × package, this
       allocation), so the placed never exceed the places of their own row;
    2. the spare N − Σ c_ph go to the phases by the overlap of the setting's age range
       with each phase's ages (ages 4-19), by largest remainder.

    When continuing placements keep Σ c_ph > N (the allocation warns), the N places are
    split over the phases by largest remainder on c_ph. Either way Σ_ph = N exactly.
    Without ``placements`` (publish mode: public information only) every c_ph is 0, so
    the split is by age overlap alone. ``codes``: each placement's position in
    ``packages`` and in PHASES when the caller has them (else looked up);
    ``setting_rows``: each placement's row in ``ds.settings``, when the caller has it
    (used when setting ids are unique: the rows are then what the lookup would find).
    """
    rows = ds.derived(f"kpis.phase_rows {tuple(packages)!r}", lambda: _phase_rows(ds, packages))
    placed = _placed_by_row(rows, packages, placements, codes, setting_rows)
    n_whole, overlap = rows["n_whole"], rows["overlap"]
    c_sum = placed.sum(axis=1)
    has_share = overlap.sum(axis=1) > 0
    over = _largest_remainder_rows(n_whole, placed.astype(float))
    spare = placed + _largest_remainder_rows(
        n_whole - c_sum, np.where(has_share[:, None], overlap, placed)
    )
    split = np.where(
        (c_sum > n_whole)[:, None],
        over,
        np.where((has_share | (c_sum > 0))[:, None], spare, 0),  # no phase overlaps 4-19: none
    )
    out = np.zeros((len(packages), len(PHASES)))
    np.add.at(out, rows["package"], split)
    return out


def _phase_rows(ds: Dataset, packages: pd.Index) -> dict[str, Any]:
    """The open places rows of :func:`phase_places` (one per setting × package listed).

    package: each row's position in ``packages``; n_whole: its whole places; overlap:
    its ages' overlap with each phase [years]; row_of: (setting, package) → row (−1 when
    none); setting_index: the settings' ids. From the dataset alone: built once per
    Dataset and ``packages``.
    """
    pol = ds.policy.phase_age
    bounds = [(4, pol.secondary_from - 1), (pol.secondary_from, pol.post16_from - 1)]
    bounds.append((pol.post16_from, 19))
    settings = first_rows(ds.settings, ["setting_id"])
    rows = first_rows(ds.places, ["setting_id", "package_id"])
    setting_index = object_index(settings["setting_id"])
    si = positions(setting_index, rows["setting_id"])
    k = positions(packages, rows["package_id"])
    ok = (si >= 0) & (k >= 0)
    ok[ok] = ~settings["closed"].to_numpy(bool)[si[ok]]
    lo = settings["age_min"].to_numpy(float, na_value=np.nan)[si[ok]]
    hi = settings["age_max"].to_numpy(float, na_value=np.nan)[si[ok]]
    n_places = np.nan_to_num(rows["places"].to_numpy(float, na_value=np.nan)[ok])
    overlap = np.column_stack(
        [np.maximum(np.minimum(hi, b) - np.maximum(lo, a) + 1, 0) for a, b in bounds]
    )
    row_of = np.full((len(settings), len(packages)), -1, np.int64)
    row_of[si[ok], k[ok]] = np.arange(int(ok.sum()))
    return {
        "settings_unique": settings is ds.settings,  # setting_index positions = rows
        "package": k[ok],
        "n_whole": np.floor(n_places + 1e-9).astype(np.int64),
        "overlap": np.nan_to_num(overlap),
        "row_of": row_of,
        "setting_index": setting_index,
    }


def _placed_by_row(
    rows: dict,
    packages: pd.Index,
    placements: pd.DataFrame | None,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
    setting_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Children placed per open places row (:func:`_phase_rows`) × phase (0 without placements)."""
    placed = np.zeros((len(rows["n_whole"]), len(PHASES)), np.int64)
    if placements is None or not len(placements):
        return placed
    if setting_rows is not None and rows["settings_unique"]:
        si = np.asarray(setting_rows, np.int64)
    else:
        si = positions(rows["setting_index"], placements["setting_id"])
    if codes is None:
        k = positions(packages, placements["package_id"])
        ph = positions(PHASES, placements["phase"])
    else:
        k, ph = codes
    hit = (si >= 0) & (k >= 0) & (ph >= 0)
    r = np.full(len(si), -1, np.int64)
    r[hit] = rows["row_of"][si[hit], k[hit]]
    hit &= r >= 0
    np.add.at(placed, (r[hit], ph[hit]), 1)
    return placed


def _largest_remainder_rows(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`_largest_remainder` of each row: ``total[r]`` split by ``weights[r]``."""
    total = np.asarray(total, np.int64)
    w = np.asarray(weights, float)
    out = np.zeros(w.shape, np.int64)
    w_sum = w.sum(axis=1)
    live = total > 0
    even = live & (w_sum > 0)
    out[live & ~even, 0] = total[live & ~even]
    if even.any():
        t, we = total[even], w[even]
        quota = t[:, None] * we / w_sum[even][:, None]
        part = np.floor(quota + 1e-9)
        left = t - part.sum(axis=1).astype(np.int64)
        idx = np.broadcast_to(np.arange(w.shape[1]), we.shape)
        order = np.lexsort((idx, -(quota - part)), axis=1)
        extra = np.zeros(we.shape, np.int64)
        np.put_along_axis(extra, order, idx < left[:, None], axis=1)
        out[even] = part.astype(np.int64) + extra
    return out


def sufficiency_table(
    ds: Dataset,
    placements: pd.DataFrame,
    unplaced: pd.DataFrame,
    kids: pd.DataFrame,
    placed_c: np.ndarray,
    *,
    inmss: np.ndarray | None = None,
    setting_rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Demand, places, placed (in INMSS), unplaced and shortfall by package × phase.

    Whole numbers throughout (docs/measures.md defines each): ``places`` splits each
    setting's places over phases in whole places, its placed children first
    (:func:`phase_places`); ``spare_places`` = places − placed; ``shortfall`` =
    max(demand − places, 0). With demand = placed + unplaced and placed ≤ places
    (every row, unless continuing placements are kept over places), it follows that
    shortfall = max(unplaced − spare_places, 0) ≤ unplaced: the unplaced beyond the
    shortfall are children who cannot use the row's spare places (journey cap, the
    setting's ages or total places, the INMSS cap).
    ``placed_c`` is each placement's child position in ``kids``; ``inmss`` whether
    each placement's setting is INMSS and ``setting_rows`` its row in ``ds.settings``,
    when the caller has them.
    """
    packages = object_index(ds.packages["package_id"])
    k = positions(packages, kids["package_id"])
    phase = positions(PHASES, kids["phase"])
    cell = np.where((k >= 0) & (phase >= 0), k * len(PHASES) + phase, -1)
    size = len(packages) * len(PHASES)

    def count(pos: np.ndarray) -> np.ndarray:
        cells = cell[pos]
        return np.bincount(cells[cells >= 0], minlength=size)

    placed = np.zeros(len(kids), bool)
    placed[placed_c] = True
    inmss = _type_is(placements, INMSS_TYPES) if inmss is None else inmss
    demand = count(np.arange(len(kids)))
    places = (
        phase_places(
            ds,
            packages,
            placements,
            codes=(k[placed_c], phase[placed_c]),
            setting_rows=setting_rows,
        )
        .ravel()
        .astype(np.int64)
    )
    placed_n = count(placed_c)
    return pd.DataFrame(
        {
            "package_id": np.repeat(packages.to_numpy(), len(PHASES)),
            "phase": np.tile(np.array(PHASES, object), len(packages)),
            "demand": demand,
            "places": places,
            "placed": placed_n,
            "placed_inmss": count(placed_c[inmss]),
            "unplaced": count(np.flatnonzero(~placed)),
            "shortfall": np.maximum(demand - places, 0),  # on arrays: a Series clip is ~0.5 ms
            "spare_places": np.maximum(places - placed_n, 0),
        }
    )
