"""Independent checker of an allocation, written without reusing the model code.

It recomputes, from the raw dataset only: one placement per child and every
child placed or unplaced exactly once; the setting delivers the package and is
open; age within the setting's range; journey within the phase cap unless the
parent ranked the setting; continuing children kept (policy ``keep``);
capacities per (setting, package), per setting and the INMSS cap (never below
the continuing children already there); place and transport costs; each arc
cost; and the objective. It returns a list of violations (empty when valid).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.datamodel import Dataset

_INMSS = ("nmss", "independent_special")
_MAINSTREAM = ("mainstream", "inclusion_base")
_MILE_KM = 1.609344


def check_allocation(ds: Dataset, res) -> list[str]:
    """Violations of the rules above in ``res`` (an AllocationResult); empty when valid."""
    out: list[str] = []
    placed, unplaced = res.placements, res.unplaced
    ids = pd.concat([placed["child_id"], unplaced["child_id"]])
    if ids.duplicated().any() or set(ids) != set(ds.children["child_id"]):
        out.append(f"placed + unplaced ({len(ids)} rows) do not cover the "
                   f"{len(ds.children)} children exactly once")
    rows = _joined(ds, placed)
    out += _check_rules(ds, rows)
    out += _check_capacity(ds, rows)
    out += _check_costs(ds, rows, res)
    return out


def _joined(ds: Dataset, placed: pd.DataFrame) -> pd.DataFrame:
    kids = ds.children.rename(columns={"package_id": "child_package", "easting": "cx",
                                       "northing": "cy"})
    settings = ds.settings.rename(columns={"easting": "sx", "northing": "sy"})
    rows = placed.merge(kids, on="child_id", how="left").merge(
        settings[["setting_id", "sx", "sy", "age_min", "age_max", "closed", "setting_type",
                  "total_places"]].rename(columns={"setting_type": "stype"}),
        on="setting_id", how="left")
    places = ds.places.rename(columns={"annual_cost_gbp": "fee", "places": "n_places"})
    rows = rows.merge(places[["setting_id", "package_id", "fee", "n_places"]],
                      left_on=["setting_id", "child_package"], right_on=["setting_id", "package_id"],
                      how="left", suffixes=("", "_p"))
    closed = set(ds.settings.loc[ds.settings["closed"], "setting_id"])
    current = rows["current_setting_id"].astype(str)
    rows["kept"] = (ds.policy.continuity == "keep") & (current != "") & ~current.isin(closed)
    return rows


def _phase_cap(ds: Dataset, age: pd.Series) -> np.ndarray:
    pa, caps = ds.policy.phase_age, ds.policy.max_travel_min
    return np.where(age >= pa.post16_from, caps.post16,
                    np.where(age >= pa.secondary_from, caps.secondary, caps.primary))


def _say(rows: pd.DataFrame, bad: np.ndarray, text: str) -> list[str]:
    return [f"{cid}: {text}" for cid in rows.loc[np.asarray(bad, bool), "child_id"].head(20)]


def _check_rules(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    kept = rows["kept"].to_numpy(bool)
    out = _say(rows, kept & (rows["setting_id"] != rows["current_setting_id"]).to_numpy(),
               "continuing placement moved")
    new = ~kept
    out += _say(rows, new & (rows["fee"].isna() | rows["closed"].astype(bool)).to_numpy(),
                "setting does not deliver the child's package or is closed")
    age = rows["age"].astype(float)
    out += _say(rows, new & ~((rows["age_min"] <= age) & (age <= rows["age_max"])).to_numpy(),
                "age outside the setting's range")
    km = np.hypot(rows["cx"] - rows["sx"], rows["cy"] - rows["sy"]) / 1000 * ds.policy.detour_factor
    minutes = (km / ds.policy.speed_kmh * 60).to_numpy()
    ranked = np.array([s in p for s, p in zip(rows["setting_id"], rows["preferences"], strict=True)])
    out += _say(rows, new & (minutes > _phase_cap(ds, age) + 1e-6) & ~ranked,
                "journey over the cap and not a parental preference")
    if ds.roads is None:
        out += _say(rows, np.abs(minutes - rows["travel_min"].to_numpy()) > 1e-6,
                    "travel_min differs from the straight-line × detour recomputation")
        out += _say(rows, np.abs(km.to_numpy() - rows["distance_km"].to_numpy()) > 1e-6,
                    "distance_km differs from the recomputation")
    return out


def _check_capacity(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    out = []
    keys = ["setting_id", "child_package"]
    used = rows.groupby(keys).size()
    kept = rows[rows["kept"]].groupby(keys).size().reindex(used.index, fill_value=0)
    limit = rows.groupby(keys)["n_places"].first().fillna(0).combine(kept, max)
    out += [f"{s} × {p}: {used[(s, p)]} placed in {limit[(s, p)]:.0f} places"
            for s, p in used.index[used > limit]]
    used_s = rows.groupby("setting_id").size()
    kept_s = rows[rows["kept"]].groupby("setting_id").size().reindex(used_s.index, fill_value=0)
    limit_s = rows.groupby("setting_id")["total_places"].first().combine(kept_s, max)
    out += [f"{s}: {used_s[s]} placed in {limit_s[s]:.0f} total places"
            for s in used_s.index[used_s > limit_s]]
    cap = ds.policy.inmss_max_places
    inmss = rows["stype"].isin(_INMSS)
    if cap is not None and inmss.sum() > max(cap, int((inmss & rows["kept"]).sum())):
        out.append(f"INMSS: {int(inmss.sum())} placed over the cap of {cap}")
    return out


def _check_costs(ds: Dataset, rows: pd.DataFrame, res) -> list[str]:
    pol = ds.policy
    rate = np.where(rows["solo_transport"].astype(bool), pol.transport_gbp_per_pupil_mile.solo,
                    pol.transport_gbp_per_pupil_mile.shared)
    transport = 2 * rows["distance_km"] / _MILE_KM * pol.school_days_per_year * rate
    out = _say(rows, np.abs(transport - rows["transport_cost_gbp"]).to_numpy() > 0.01,
               "transport cost differs from the recomputation")
    new = ~rows["kept"].to_numpy(bool)
    out += _say(rows, new & (np.abs(rows["fee"] - rows["place_cost_gbp"]) > 0.005).to_numpy(),
                "place cost differs from places.csv / the costing framework")
    pens = list(pol.preference_penalty_gbp) or [0.0]
    pen = np.array([0.0 if k else (pens[min(p.index(s), len(pens) - 1)] if s in p else
                                   (pol.unranked_penalty_gbp if p else 0.0))
                    for s, p, k in zip(rows["setting_id"], rows["preferences"], rows["kept"],
                                       strict=True)])
    extra = rows["arc_cost"] - (rows["place_cost_gbp"] + rows["transport_cost_gbp"] + pen)
    duty = rows["prefers_mainstream"].astype(bool) & ~rows["stype"].isin(_MAINSTREAM) & new
    ok = (extra.abs() <= 0.5) | (duty & ((extra - res.duty_weight_gbp).abs() <= 0.5))
    out += _say(rows, ~ok.to_numpy(), "arc_cost differs from place + transport + preference terms")
    total = rows["arc_cost"].sum() + len(res.unplaced) * pol.unplaced_penalty_gbp
    if abs(total - res.objective) > 0.5:
        out.append(f"objective {res.objective:.0f} ≠ recomputed {total:.0f}")
    return out
