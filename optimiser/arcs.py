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
* the preference penalty (0 for a continuing placement) is
  ``preference_penalty_gbp[rank-1]`` for a ranked setting (the last value for
  ranks beyond the list) and ``unranked_penalty_gbp`` for any other setting
  when the parent ranked some; 0 when they ranked none;
* the mainstream duty (``duty_term_gbp``): when the parent prefers mainstream,
  each mainstream or inclusion-base arc of that child gets a bonus −W, with
  W = max(policy ``mainstream_duty_gbp``, Σ_i M_i + 1), M_i being child i's
  largest other-terms cost over its arcs, summed over the children being placed.
  The other terms of any allocation lie in [0, Σ_i M_i], so an allocation that
  honours h mainstream preferences costs at most Σ_i M_i − W·h, and one that
  honours fewer costs at least −W·(h − 1) > Σ_i M_i − W·h. Honouring more
  mainstream preferences (placing such children in mainstream, rather than
  elsewhere or not at all) therefore always wins, whoever else is placed: the
  duty dominates every cost and preference trade-off (lexicographic separation).
  Arc costs of those arcs are negative for that reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.datamodel import Dataset
from optimiser.schema import MAINSTREAM_TYPES
from optimiser.transport import child_needs, transport_cost_gbp
from optimiser.travel import max_straight_km, pairs_within, road_km_and_min

ARC_COLUMNS = [
    "child_id",
    "setting_id",
    "package_id",
    "place_cost_gbp",
    "transport_cost_gbp",
    "distance_km",
    "travel_min",
    "preference_rank",
    "arc_cost",
]


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
    return pd.DataFrame(
        {
            "child_id": kids["child_id"].astype(str),
            "package_id": kids["package_id"],
            "age": ages,
            "phase": phase,
            "cap_min": caps.astype(float),
            "fixed": fixed.to_numpy(),
            "current": current,
            "prefers_mainstream": kids["prefers_mainstream"].to_numpy(),
            "solo": kids["solo_transport"].to_numpy(),
            "prefs": kids["preferences"],
            "x": kids["easting"].astype(float),
            "y": kids["northing"].astype(float),
        }
    )


def _candidate_pairs(
    kids: pd.DataFrame, settings: pd.DataFrame, places: pd.DataFrame, ds: Dataset
) -> pd.DataFrame:
    """(child pos c, setting pos s, places row p, rank) of every pair worth checking.

    Pairs are: settings offering the child's package within the cap radius (one
    KD-tree per package), settings the parent ranked, and continuing placements
    (p = -1 when the setting lists no places for the child's package).
    """
    sid_pos = pd.Series(np.arange(len(settings)), index=settings["setting_id"])
    is_free = ~kids["fixed"].to_numpy(bool)
    radius = max_straight_km(kids["cap_min"].to_numpy(), policy=ds.policy, graph=ds.roads)
    xy, sxy = kids[["x", "y"]].to_numpy(float), settings[["easting", "northing"]].to_numpy(float)
    place_s = sid_pos.reindex(places["setting_id"]).to_numpy()
    parts = []
    for pkg, rows in places.groupby("package_id", sort=True).indices.items():
        rows = rows[~np.isnan(place_s[rows])]
        who = np.flatnonzero(is_free & (kids["package_id"].to_numpy() == pkg))
        if len(who) == 0 or len(rows) == 0:
            continue
        c, k = pairs_within(xy[who], sxy[place_s[rows].astype(np.int64)], radius[who])
        parts.append(
            pd.DataFrame({"c": who[c], "s": place_s[rows[k]].astype(np.int64), "p": rows[k]})
        )
    near = pd.concat(parts) if parts else pd.DataFrame({"c": [], "s": [], "p": []}, dtype=np.int64)
    prefs = kids["prefs"][is_free].explode().dropna()
    ranked = pd.DataFrame(
        {
            "c": prefs.index.to_numpy(np.int64),
            "s": sid_pos.reindex(prefs.to_numpy()).to_numpy(),
            "rank": (prefs.groupby(level=0).cumcount() + 1.0).to_numpy(float),
        }
    )
    ranked = ranked.dropna().astype({"s": np.int64})
    fixed = np.flatnonzero(~is_free)
    cont = (
        pd.DataFrame(
            {"c": fixed, "s": sid_pos.reindex(kids["current"].to_numpy()[fixed]).to_numpy()}
        )
        .dropna()
        .astype(np.int64)
    )
    extra = pd.concat([ranked[["c", "s"]], cont])
    key = (
        pd.Series(
            np.arange(len(places)),
            index=pd.MultiIndex.from_arrays([places["setting_id"], places["package_id"]]),
        )
        .groupby(level=[0, 1])
        .first()
    )
    extra["p"] = (
        key.reindex(
            pd.MultiIndex.from_arrays(
                [
                    settings["setting_id"].to_numpy()[extra["s"]],
                    kids["package_id"].to_numpy()[extra["c"]],
                ]
            )
        )
        .fillna(-1)
        .to_numpy(np.int64)
    )
    pairs = pd.concat([near, extra]).drop_duplicates(["c", "s"])
    pairs = pairs.merge(ranked, on=["c", "s"], how="left")
    pairs["fixed"] = ~is_free[pairs["c"].to_numpy()]
    return pairs[(pairs["p"] >= 0) | pairs["fixed"]].reset_index(drop=True)


def build_arcs(ds: Dataset, kids: pd.DataFrame | None = None) -> pd.DataFrame:
    """All eligible arcs with cost terms; extra columns used by the model and the checker.

    ``kids`` is :func:`child_frame` of ``ds`` when the caller already has it.
    """
    kids = child_frame(ds) if kids is None else kids
    settings = ds.settings.reset_index(drop=True)
    places = ds.places.reset_index(drop=True)
    arcs = _candidate_pairs(kids, settings, places, ds)
    arcs["child_id"] = kids["child_id"].to_numpy()[arcs["c"]]
    arcs["package_id"] = kids["package_id"].to_numpy()[arcs["c"]]
    arcs["setting_id"] = settings["setting_id"].to_numpy()[arcs["s"]]
    p = arcs["p"].to_numpy()
    cost = places["annual_cost_gbp"].to_numpy(float)[np.maximum(p, 0)]
    fallback = places.groupby("setting_id")["annual_cost_gbp"].mean()  # continuing, no places row
    orphan = p < 0
    cost[orphan] = arcs.loc[orphan, "setting_id"].map(fallback).fillna(0.0).to_numpy()
    arcs["annual_cost_gbp"] = cost
    arcs = arcs[arcs["annual_cost_gbp"].notna()].reset_index(drop=True)
    arcs = _apply_eligibility(arcs, kids, settings, ds)
    return _add_costs(arcs, kids, settings, ds)


def _apply_eligibility(
    arcs: pd.DataFrame, kids: pd.DataFrame, settings: pd.DataFrame, ds: Dataset
) -> pd.DataFrame:
    c, s = arcs["c"].to_numpy(), arcs["s"].to_numpy()
    age = kids["age"].to_numpy()[c]
    fits = (settings["age_min"].to_numpy(float)[s] <= age) & (
        age <= settings["age_max"].to_numpy(float)[s]
    )
    open_ = ~settings["closed"].to_numpy(bool)[s]
    km, mins = road_km_and_min(
        kids[["x", "y"]].to_numpy()[c],
        settings[["easting", "northing"]].to_numpy(float)[s],
        policy=ds.policy,
        graph=ds.roads,
    )
    within = mins <= kids["cap_min"].to_numpy()[c] + 1e-9
    ranked = arcs["rank"].notna().to_numpy()
    fixed = arcs["fixed"].to_numpy(bool)
    reachable = np.isfinite(mins) & np.isfinite(km)
    keep = fixed | (fits & open_ & reachable & (within | ranked))
    arcs = arcs.assign(distance_km=km, travel_min=mins)[keep]
    return arcs.reset_index(drop=True)


def _add_costs(
    arcs: pd.DataFrame, kids: pd.DataFrame, settings: pd.DataFrame, ds: Dataset
) -> pd.DataFrame:
    pol = ds.policy
    c = arcs["c"].to_numpy()
    needs = child_needs(ds)  # eligibility and mode inputs, in kids' row order
    transport = transport_cost_gbp(
        arcs["distance_km"].to_numpy(),
        kids["solo"].to_numpy()[c],
        policy=pol,
        age=kids["age"].to_numpy()[c],
        cannot_walk=needs["cannot_walk"].to_numpy()[c],
        wheelchair=needs["wheelchair"].to_numpy()[c],
        mode=needs["travel_mode"].to_numpy()[c],
    )
    pens = np.asarray(pol.preference_penalty_gbp or (0.0,), float)
    rank = arcs["rank"].to_numpy(float)
    has_prefs = kids["prefs"].map(len).to_numpy()[c] > 0
    ranked_pen = pens[np.clip(np.nan_to_num(rank, nan=1).astype(int), 1, len(pens)) - 1]
    pref_pen = np.where(
        np.isnan(rank), np.where(has_prefs, pol.unranked_penalty_gbp, 0.0), ranked_pen
    )
    pref_pen = np.where(arcs["fixed"].to_numpy(bool), 0.0, pref_pen)  # continuing: no choice
    arcs = arcs.assign(
        place_cost_gbp=arcs["annual_cost_gbp"].to_numpy(float),
        transport_cost_gbp=np.round(transport, 2),
        preference_rank=rank,
        preference_penalty_gbp=pref_pen,
    )
    arcs["mainstream"] = np.isin(settings["setting_type"].to_numpy()[arcs["s"]], MAINSTREAM_TYPES)
    base = arcs["place_cost_gbp"] + arcs["transport_cost_gbp"] + arcs["preference_penalty_gbp"]
    arcs["duty_term_gbp"] = duty_terms(arcs, base, kids, pol.mainstream_duty_gbp)
    arcs["arc_cost"] = np.rint(base + arcs["duty_term_gbp"]).astype(np.int64)
    return arcs.sort_values(["c", "s"], kind="stable").reset_index(drop=True)


def duty_terms(
    arcs: pd.DataFrame, base: pd.Series, kids: pd.DataFrame, floor_gbp: float
) -> np.ndarray:
    """Mainstream-duty term per arc: −W on mainstream arcs of children preferring mainstream."""
    free = ~arcs["fixed"].to_numpy(bool)
    largest = base[free].groupby(arcs["c"][free]).max()
    weight = max(float(floor_gbp), float(np.ceil(largest.clip(lower=0).sum())) + 1.0)
    wants = kids["prefers_mainstream"].to_numpy(bool)[arcs["c"].to_numpy()] & free
    return np.where(wants & arcs["mainstream"].to_numpy(bool), -weight, 0.0)


def options_frame(arcs: pd.DataFrame) -> pd.DataFrame:
    """The public view of the arcs (DESIGN §4 ``options`` columns)."""
    return arcs[ARC_COLUMNS].reset_index(drop=True)
