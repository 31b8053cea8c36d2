"""Home-to-school transport: eligibility, mode and annual cost of each child's journey.

Rules (policy ``transport`` and ``walking_distance_miles``; domain-facts §2.3)
-----------------------------------------------------------------------------
1. **Eligibility.** A child is eligible when they cannot walk because of their
   SEND (``children.cannot_walk``, or their package is in
   ``transport.cannot_walk_packages``; blank = every package), or when the
   route distance to the setting is *beyond* the statutory walking distance:
   2 miles under age 8, 3 miles from age 8 (s444(5) Education Act 1996 [S7];
   a journey of exactly 2 or 3 miles is within walking distance). The route
   distance is the road distance of :mod:`optimiser.transport.travel`. Post-16 (age ≥
   ``phase_age.post16_from``) transport is discretionary [S5]: eligible only
   when ``transport.post16_eligible``. Not eligible → cost 0, mode "".
2. **Mode.** ``children.travel_mode`` when given (e.g. an agreed personal
   travel budget); else ``solo_transport`` → ``solo_taxi``; else the cheapest
   *suitable* shared mode (``minibus`` or ``shared_taxi``; a wheelchair user
   needs a mode with wheelchair spaces), falling back to ``solo_taxi`` when no
   shared mode suits. A personal travel budget is never imposed: it is the
   family's choice, recorded in ``travel_mode``.
3. **Annual cost** [GBP/yr] = ``school_days_per_year`` × (fixed [GBP/day] +
   per mile [GBP/mile] × 2 × road miles): one journey each way a day.

The reports after an allocation are in :mod:`optimiser.transport.tables`.
The per-child cost feeds the allocation's arc cost; the shared-route estimate
(:mod:`optimiser.transport.routes`) is a report on a finished allocation (docs/transport.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.dataset.ids import as_text, object_frame, positions
from optimiser.dataset.model import Dataset
from optimiser.policy import Policy, over_journey_cap
from optimiser.schema.tables import TRAVEL_MODES
from optimiser.transport.travel import KM_PER_MILE

MODES = TRAVEL_MODES


SHARED_MODES = ("minibus", "shared_taxi")


NOT_TRANSPORTED = ""


_TOL_MILES = 1e-9


def walking_limit_miles(age: np.ndarray, *, policy: Policy) -> np.ndarray:
    """Statutory walking distance [miles] for each age [years]: under 8 / from 8."""
    walk = policy.walking_distance_miles
    return np.where(np.asarray(age, float) < 8, walk.under_8, walk.from_8)


def is_eligible(
    road_km: np.ndarray, *, age: np.ndarray, cannot_walk: np.ndarray, policy: Policy
) -> np.ndarray:
    """Whether each child is eligible for transport (rule 1 of the module docstring)."""
    age = np.asarray(age, float)
    miles = np.asarray(road_km, float) / KM_PER_MILE
    beyond = miles > walking_limit_miles(age, policy=policy) + _TOL_MILES
    ok = np.asarray(cannot_walk, bool) | beyond
    if not policy.transport.post16_eligible:
        ok &= age < policy.phase_age.post16_from
    return ok


def _daily_gbp(road_km: np.ndarray, policy: Policy) -> np.ndarray:
    """Cost [GBP/day] of each journey by each mode (columns in ``MODES`` order), rule 3.

    fixed [GBP/day] + per mile [GBP/mile] × 2 × road miles: one journey each way.
    """
    rates = [getattr(policy.transport, m) for m in MODES]
    fixed = np.array([r.fixed_gbp_per_day for r in rates])
    per_mile = np.array([r.gbp_per_mile for r in rates])
    return fixed + per_mile * 2.0 * (np.asarray(road_km, float) / KM_PER_MILE)[:, None]


_SOLO = MODES.index("solo_taxi")


_SHARED = np.array([MODES.index(m) for m in SHARED_MODES])


_MODE_NAMES = np.array([*MODES, NOT_TRANSPORTED], object)  # code -1 → ""


def mode_codes(mode: object) -> np.ndarray:
    """Position of each agreed mode in ``MODES`` (−1 when blank or unknown: by the rules)."""
    return positions(MODES, np.asarray(mode, object))


def _by_code(day: np.ndarray, code: np.ndarray, policy: Policy) -> np.ndarray:
    """Annual cost [GBP/yr] of each journey by its mode code (−1 → 0)."""
    return np.where(code >= 0, day[np.arange(len(code)), code], 0.0) * policy.school_days_per_year


def mode_cost_gbp(road_km: np.ndarray, mode: np.ndarray, *, policy: Policy) -> np.ndarray:
    """Annual cost [GBP/yr] of each journey by the given mode ("" → 0), rule 3."""
    return _by_code(_daily_gbp(road_km, policy), mode_codes(mode), policy)


def assess_codes(
    road_km: np.ndarray,
    *,
    solo: np.ndarray,
    eligible: np.ndarray,
    wheelchair: np.ndarray,
    agreed: np.ndarray,
    policy: Policy,
) -> tuple[np.ndarray, np.ndarray]:
    """(mode code, annual cost [GBP/yr]) of each journey, on plain arrays (rules 2-3).

    ``agreed`` holds :func:`mode_codes`; the returned code is −1 when not
    eligible (not transported, cost 0).

    Mode by mode on one-dimensional arrays: each mode's cost is the one column of
    :func:`_daily_gbp` it would be (the same operations, so the same bits), and the
    cheapest shared mode is ``argmin``'s choice (the first lowest; the first NaN, should
    a cost be NaN), without the journeys × modes table (3.3 ms against ~0.6 ms for
    37,000 journeys).
    """
    km = np.asarray(road_km, float)
    miles = km / KM_PER_MILE
    t = policy.transport
    rates = [getattr(t, m) for m in MODES]
    fixed = np.array([r.fixed_gbp_per_day for r in rates])
    per_mile = np.array([r.gbp_per_mile for r in rates]) * 2.0

    def day(m: int) -> np.ndarray:
        return fixed[m] + per_mile[m] * miles  # column m of _daily_gbp [GBP/day]

    chair = np.asarray(wheelchair, bool)
    best = np.full(km.shape, _SOLO, np.int64)
    low = np.full(km.shape, np.nan)  # the lowest shared cost so far
    first_nan = np.zeros(km.shape, bool)
    finite = np.zeros(km.shape, bool)
    for j, m in enumerate(_SHARED.tolist()):
        cost = day(m)
        if getattr(t, MODES[m]).wheelchair_spaces == 0:
            cost = np.where(chair, np.inf, cost)
        finite |= np.isfinite(cost)
        is_nan = np.isnan(cost)
        take = np.ones(km.shape, bool) if j == 0 else ~first_nan & (is_nan | (cost < low))
        best = np.where(take, m, best)
        low = np.where(take, cost, low)
        first_nan |= is_nan
    best = np.where(finite, best, _SOLO)
    code = np.where(np.asarray(solo, bool), _SOLO, best)
    code = np.where(agreed >= 0, agreed, code)
    code = np.where(np.asarray(eligible, bool), code, -1)
    daily = np.zeros(km.shape)
    used = np.bincount(code + 1, minlength=len(MODES) + 1)[1:]  # journeys by mode
    for m in np.flatnonzero(used).tolist():
        daily = np.where(code == m, day(m), daily)
    return code, np.where(code >= 0, daily, 0.0) * policy.school_days_per_year


def assess(
    road_km: np.ndarray,
    solo: np.ndarray,
    *,
    policy: Policy,
    age: np.ndarray | None = None,
    cannot_walk: np.ndarray | None = None,
    wheelchair: np.ndarray | None = None,
    mode: np.ndarray | None = None,
) -> pd.DataFrame:
    """Eligibility, mode and annual cost of each journey (the rules of the module docstring).

    Parameters
    ----------
    road_km : road distance of each journey [km].
    solo : the child must travel alone (``solo_transport``).
    policy : the LA's policy.
    age : age [years]; None = every child treated as unable to walk (always eligible).
    cannot_walk : effective "cannot walk" flag (column or package); None = False.
    wheelchair : travels in a wheelchair; None = False.
    mode : agreed mode per child ("" = by the rules); None = all by the rules.

    Returns
    -------
    DataFrame with columns eligible (bool), mode (str, "" when not eligible),
    transport_cost_gbp [GBP/yr].
    """
    km = np.asarray(road_km, float)
    n = km.size

    def flags(values: np.ndarray | None) -> np.ndarray:
        return np.zeros(n, bool) if values is None else np.asarray(values).astype(bool)

    if age is None:
        eligible = np.ones(n, bool)
    else:
        eligible = is_eligible(km, age=age, cannot_walk=flags(cannot_walk), policy=policy)
    code, cost = assess_codes(
        km,
        solo=flags(solo),
        eligible=eligible,
        wheelchair=flags(wheelchair),
        agreed=np.full(n, -1) if mode is None else mode_codes(mode),
        policy=policy,
    )
    return pd.DataFrame(
        {"eligible": eligible, "mode": _MODE_NAMES[code], "transport_cost_gbp": cost}
    )


def transport_cost_gbp(
    road_km: np.ndarray,
    solo: np.ndarray,
    *,
    policy: Policy,
    age: np.ndarray | None = None,
    cannot_walk: np.ndarray | None = None,
    wheelchair: np.ndarray | None = None,
    mode: np.ndarray | None = None,
) -> np.ndarray:
    """Annual transport cost [GBP/yr] of each journey; see :func:`assess` for the arguments."""
    return assess(
        road_km,
        solo,
        policy=policy,
        age=age,
        cannot_walk=cannot_walk,
        wheelchair=wheelchair,
        mode=mode,
    )["transport_cost_gbp"].to_numpy()


def child_needs(ds: Dataset) -> pd.DataFrame:
    """Per child (in ``ds.children`` order): what the transport rules need.

    Columns: child_id, package_id, age, solo, cannot_walk (the column or the
    package rule), wheelchair, travel_mode, ward_code, x, y [m].
    """
    return object_frame(child_need_columns(ds))


def _ages(age: pd.Series) -> np.ndarray:
    """``age.fillna(0).astype(int).to_numpy()`` [years]; for pandas' Int64 in one step."""
    if isinstance(age.dtype, pd.Int64Dtype):
        return age.to_numpy(np.int64, na_value=0)
    return age.fillna(0).astype(int).to_numpy()


def child_need_columns(ds: Dataset) -> dict[str, np.ndarray]:
    """:func:`child_needs` as one array per column, in its order (text as Python objects).

    For a caller that adds columns of its own and builds one frame of them all
    (:func:`optimiser.dataset.ids.object_frame`), rather than this one and a second.
    """
    kids = ds.children
    n = len(kids)

    def col(name: str, fill: str | float) -> np.ndarray:
        if name not in kids.columns:
            return np.full(n, fill, dtype=object if isinstance(fill, str) else type(fill))
        values = kids[name]
        if values.dtype == bool:  # nothing missing to fill
            return values.to_numpy()
        return values.fillna(fill).to_numpy()

    def text(name: str) -> np.ndarray:
        if name not in kids.columns:
            return np.full(n, "", dtype=object)
        values = kids[name]
        raw = values.to_numpy(object)
        if pd.api.types.infer_dtype(raw, skipna=False) in ("string", "empty"):
            return raw  # all text: nothing to fill (a test 4 times faster than hasnans)
        return as_text(values.fillna(""))

    packages = ds.policy.transport.cannot_walk_packages
    by_package = (
        np.ones(n, bool) if packages is None else kids["package_id"].isin(packages).to_numpy()
    )
    # text stays Python objects (not pandas text): callers read these columns as arrays,
    # and a text column costs a conversion each way (5 ms per 7,000 children)
    return {
        "child_id": as_text(kids["child_id"]),
        "package_id": kids["package_id"].to_numpy(object),
        "age": _ages(kids["age"]),
        "solo": col("solo_transport", False).astype(bool),
        "cannot_walk": col("cannot_walk", False).astype(bool) | by_package,
        "wheelchair": col("wheelchair", False).astype(bool),
        "travel_mode": text("travel_mode"),
        "ward_code": text("ward_code"),
        "x": kids["easting"].astype(float).to_numpy(),
        "y": kids["northing"].astype(float).to_numpy(),
    }


def placement_transport(
    ds: Dataset,
    placements: pd.DataFrame,
    *,
    child_pos: np.ndarray | None = None,
    needs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Placements with the transport view of each journey.

    Adds: age, package_id (the child's), ward_code, solo, wheelchair, eligible,
    mode, cap_min [min], over_cap, alone (solo taxi), setting_type, in_area.
    ``transport_cost_gbp`` is the placement's own (as the allocation costed it).
    ``child_pos`` is each placement's row in ``ds.children`` when the caller
    knows it (else found by child_id); ``needs`` is :func:`child_needs` of
    ``ds`` when the caller has it already.
    """
    needs = child_needs(ds) if needs is None else needs
    if child_pos is None:
        child_pos = positions(needs["child_id"], placements["child_id"].astype(str))
    if (np.asarray(child_pos) < 0).any():  # a child not in the dataset: blank needs
        need = needs.set_index("child_id").reindex(placements["child_id"].astype(str))
    else:
        need = needs.iloc[child_pos]
    km = placements["distance_km"].to_numpy(float)
    view = assess(
        km,
        need["solo"].to_numpy(bool),
        policy=ds.policy,
        age=need["age"].to_numpy(),
        cannot_walk=need["cannot_walk"].to_numpy(bool),
        wheelchair=need["wheelchair"].to_numpy(bool),
        mode=need["travel_mode"].to_numpy(),
    )
    settings = ds.settings.drop_duplicates("setting_id")
    si = positions(settings["setting_id"], placements["setting_id"])
    out = placements.reset_index(drop=True).copy()
    for name in ("package_id", "age", "ward_code", "solo", "wheelchair"):
        out[name] = need[name].to_numpy()
    out["eligible"] = view["eligible"].to_numpy()
    out["mode"] = view["mode"].to_numpy()
    out["cap_min"] = ds.policy.travel_caps_min(out["age"].to_numpy())
    out["over_cap"] = over_journey_cap(out["travel_min"].to_numpy(float), out["cap_min"].to_numpy())
    out["alone"] = out["mode"] == "solo_taxi"
    found = si >= 0
    stype = np.full(len(out), np.nan, object)
    stype[found] = settings["setting_type"].to_numpy()[si[found]]
    out["setting_type"] = stype
    in_area = np.ones(len(out), bool)
    in_area[found] = settings["in_area"].fillna(True).to_numpy(bool)[si[found]]
    out["in_area"] = in_area
    return out
