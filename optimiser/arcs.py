"""Eligible placements (arcs) of the allocation model, with their costs.

An arc (child, setting, package) exists only when all hold:

1. the setting has a places row for the child's package and is not closed;
2. the child's age is within the setting's age range;
3. the journey is within the policy cap for the child's phase, unless the
   parent ranked the setting (parents may choose a setting beyond the cap).

A continuing placement (``current_setting_id``, policy ``continuity: keep``)
is that child's only arc, whatever rules 2-3 say: the child stays.

Arc cost [GBP/yr, whole pounds] = place cost + transport cost + preference
penalty + mainstream-duty penalty, where

* place cost is ``places.annual_cost_gbp`` (own fee, else the costing framework);
* transport cost is :func:`optimiser.transport.transport_cost_gbp`;
* the preference penalty (0 for a continuing placement) is ``preference_penalty_gbp[rank-1]`` for a ranked
  setting (the last value for ranks beyond the list) and ``unranked_penalty_gbp``
  for any other setting when the parent ranked some; 0 when they ranked none;
* the mainstream duty: when the parent prefers mainstream and at least one
  mainstream or inclusion-base arc exists for the child, every other arc of that
  child costs an extra W = max(policy ``mainstream_duty_gbp``, Σ_i Δ_i + 1), where
  Δ_i is the spread (max − min) of child i's other terms over its arcs, summed
  over the children being placed. Any two allocations placing the same number of
  children differ in those other terms by at most Σ_i Δ_i < W, so an allocation
  that honours more mainstream preferences always costs less: the duty dominates
  every cost and preference trade-off (lexicographic separation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.datamodel import Dataset
from optimiser.schema import MAINSTREAM_TYPES
from optimiser.transport import transport_cost_gbp
from optimiser.travel import max_straight_km, pairs_within, road_km_and_min

ARC_COLUMNS = ["child_id", "setting_id", "package_id", "place_cost_gbp", "transport_cost_gbp",
               "distance_km", "travel_min", "preference_rank", "arc_cost"]


def child_frame(ds: Dataset) -> pd.DataFrame:
    """Children with phase, journey cap [min] and whether their placement is fixed."""
    pol = ds.policy
    kids = ds.children.reset_index(drop=True)
    ages = kids["age"].fillna(0).astype(int)
    phase = ages.map(pol.phase_of_age)
    caps = phase.map(pol.max_travel_min.model_dump())
    closed = set(ds.settings.loc[ds.settings["closed"], "setting_id"])
    current = kids["current_setting_id"].astype(str)
    fixed = (pol.continuity == "keep") & (current != "") & ~current.isin(closed)
    return pd.DataFrame({"child_id": kids["child_id"].astype(str), "package_id": kids["package_id"],
                         "age": ages, "phase": phase, "cap_min": caps.astype(float),
                         "fixed": fixed.to_numpy(), "current": current,
                         "prefers_mainstream": kids["prefers_mainstream"].to_numpy(),
                         "solo": kids["solo_transport"].to_numpy(), "prefs": kids["preferences"],
                         "x": kids["easting"].astype(float), "y": kids["northing"].astype(float)})


def _candidate_pairs(kids: pd.DataFrame, settings: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """(child pos, setting pos, ranked) pairs: within the cap radius, ranked, or continuing."""
    sid_pos = pd.Series(np.arange(len(settings)), index=settings["setting_id"])
    free = np.flatnonzero(~kids["fixed"].to_numpy())
    radius = max_straight_km(kids["cap_min"].to_numpy()[free], policy=ds.policy, graph=ds.roads)
    c, s = pairs_within(kids[["x", "y"]].to_numpy()[free], settings[["easting", "northing"]]
                        .to_numpy(float), radius)
    near = pd.DataFrame({"c": free[c], "s": s})
    prefs = kids["prefs"].iloc[free].explode().dropna()
    rank = prefs.groupby(level=0).cumcount() + 1.0
    ranked_df = pd.DataFrame({"c": prefs.index.to_numpy(np.int64),
                              "s": sid_pos.reindex(prefs.to_numpy()).to_numpy(),
                              "rank": rank.to_numpy(float)}).dropna().astype({"s": np.int64})
    fixed = np.flatnonzero(kids["fixed"].to_numpy())
    cont = pd.DataFrame({"c": fixed, "s": sid_pos.reindex(kids["current"].to_numpy()[fixed])
                         .to_numpy()}).dropna().astype(np.int64)
    pairs = pd.concat([near, ranked_df[["c", "s"]], cont]).drop_duplicates()
    pairs = pairs.merge(ranked_df, on=["c", "s"], how="left")
    pairs["fixed"] = kids["fixed"].to_numpy()[pairs["c"].to_numpy()]
    return pairs


def build_arcs(ds: Dataset) -> pd.DataFrame:
    """All eligible arcs with cost terms; extra columns used by the model and the checker."""
    kids = child_frame(ds)
    settings = ds.settings.reset_index(drop=True)
    pairs = _candidate_pairs(kids, settings, ds)
    pairs["child_id"] = kids["child_id"].to_numpy()[pairs["c"]]
    pairs["package_id"] = kids["package_id"].to_numpy()[pairs["c"]]
    pairs["setting_id"] = settings["setting_id"].to_numpy()[pairs["s"]]
    places = ds.places[["setting_id", "package_id", "annual_cost_gbp"]]
    arcs = pairs.merge(places, on=["setting_id", "package_id"], how="left")
    fallback = ds.places.groupby("setting_id")["annual_cost_gbp"].mean()
    orphan = arcs["annual_cost_gbp"].isna() & arcs["fixed"]
    arcs.loc[orphan, "annual_cost_gbp"] = arcs.loc[orphan, "setting_id"].map(fallback).fillna(0.0)
    arcs = arcs[arcs["annual_cost_gbp"].notna()].reset_index(drop=True)
    arcs = _apply_eligibility(arcs, kids, settings, ds)
    return _add_costs(arcs, kids, settings, ds)


def _apply_eligibility(arcs: pd.DataFrame, kids: pd.DataFrame, settings: pd.DataFrame,
                       ds: Dataset) -> pd.DataFrame:
    c, s = arcs["c"].to_numpy(), arcs["s"].to_numpy()
    age = kids["age"].to_numpy()[c]
    fits = (settings["age_min"].to_numpy(float)[s] <= age) & (age <= settings["age_max"]
                                                             .to_numpy(float)[s])
    open_ = ~settings["closed"].to_numpy(bool)[s]
    km, mins = road_km_and_min(kids[["x", "y"]].to_numpy()[c],
                               settings[["easting", "northing"]].to_numpy(float)[s],
                               policy=ds.policy, graph=ds.roads)
    within = mins <= kids["cap_min"].to_numpy()[c] + 1e-9
    ranked = arcs["rank"].notna().to_numpy()
    fixed = arcs["fixed"].to_numpy(bool)
    keep = fixed | (fits & open_ & (within | ranked))
    arcs = arcs.assign(distance_km=km, travel_min=mins)[keep]
    return arcs.reset_index(drop=True)


def _add_costs(arcs: pd.DataFrame, kids: pd.DataFrame, settings: pd.DataFrame,
               ds: Dataset) -> pd.DataFrame:
    pol = ds.policy
    c = arcs["c"].to_numpy()
    transport = transport_cost_gbp(arcs["distance_km"].to_numpy(), kids["solo"].to_numpy()[c],
                                   policy=pol)
    pens = np.asarray(pol.preference_penalty_gbp or (0.0,), float)
    rank = arcs["rank"].to_numpy(float)
    has_prefs = kids["prefs"].map(len).to_numpy()[c] > 0
    ranked_pen = pens[np.clip(np.nan_to_num(rank, nan=1).astype(int), 1, len(pens)) - 1]
    pref_pen = np.where(np.isnan(rank), np.where(has_prefs, pol.unranked_penalty_gbp, 0.0),
                        ranked_pen)
    pref_pen = np.where(arcs["fixed"].to_numpy(bool), 0.0, pref_pen)  # continuing: no choice
    arcs = arcs.assign(place_cost_gbp=arcs["annual_cost_gbp"].to_numpy(float),
                       transport_cost_gbp=np.round(transport, 2), preference_rank=rank,
                       preference_penalty_gbp=pref_pen)
    arcs["mainstream"] = np.isin(settings["setting_type"].to_numpy()[arcs["s"]], MAINSTREAM_TYPES)
    base = arcs["place_cost_gbp"] + arcs["transport_cost_gbp"] + arcs["preference_penalty_gbp"]
    arcs["duty_penalty_gbp"] = duty_penalties(arcs, base, kids, pol.mainstream_duty_gbp)
    arcs["arc_cost"] = np.rint(base + arcs["duty_penalty_gbp"]).astype(np.int64)
    return arcs.sort_values(["c", "s"], kind="stable").reset_index(drop=True)


def duty_penalties(arcs: pd.DataFrame, base: pd.Series, kids: pd.DataFrame,
                   floor_gbp: float) -> np.ndarray:
    """Mainstream-duty penalty per arc: W on non-mainstream arcs of children it applies to."""
    free = ~arcs["fixed"].to_numpy(bool)
    spread = base[free].groupby(arcs["c"][free]).agg(lambda v: v.max() - v.min())
    weight = max(float(floor_gbp), float(np.ceil(spread.sum())) + 1.0)
    wants = kids["prefers_mainstream"].to_numpy(bool)[arcs["c"].to_numpy()] & free
    has_main = arcs.loc[wants, "mainstream"].groupby(arcs.loc[wants, "c"]).any()
    applies = arcs["c"].map(has_main).fillna(False).to_numpy(bool) & wants
    return np.where(applies & ~arcs["mainstream"].to_numpy(bool), weight, 0.0)


def options_frame(arcs: pd.DataFrame) -> pd.DataFrame:
    """The public view of the arcs (DESIGN §4 ``options`` columns)."""
    return arcs[ARC_COLUMNS].reset_index(drop=True)
