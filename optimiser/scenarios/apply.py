"""Apply one scenario change to a Dataset, returning a new Dataset (the base is never mutated).

One function per change type (:mod:`optimiser.scenarios.changes`): add_setting,
set_places, close_setting, cap_fees, policy / transport (merged over the base
policy) and demand_growth (seeded sampling of the children still to place).
:meth:`optimiser.scenarios.Scenario.apply` checks the changes first
(:mod:`optimiser.scenarios.checks`) and then applies them in order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset, derive_place_costs
from optimiser.policy import policy_from_mapping
from optimiser.scenarios.changes import (
    AddSetting,
    CapFees,
    Change,
    CloseSetting,
    DemandGrowth,
    PolicyChange,
    SetPlaces,
)


def apply_change(ds: Dataset, change: Change, *, seed: int) -> Dataset:
    """A new Dataset with ``change`` applied; ``seed`` seeds demand-growth sampling."""
    return _APPLY[type(change)](ds, change, seed=seed)


def merge_overrides(base: dict, over: dict) -> dict:
    """``base`` with ``over`` merged in, nested mappings key by key (neither is mutated)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            merge_overrides(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _add_setting(ds: Dataset, ch: AddSetting, *, seed: int) -> Dataset:
    row: dict[str, object] = dict.fromkeys(ds.settings.columns)
    row.update(
        setting_id=ch.setting_id,
        name=ch.name,
        setting_type=ch.setting_type,
        urn=ch.urn,
        la_code=ch.la_code,
        easting=ch.easting,
        northing=ch.northing,
        age_min=ch.age_min,
        age_max=ch.age_max,
        total_places=ch.total_places or sum(ch.places.values()),
        in_area=ch.in_area,
        ward_code=ch.ward_code,
        closed=False,
        assumption="added by scenario",
    )
    settings = pd.concat(
        [ds.settings, pd.DataFrame([row]).astype(ds.settings.dtypes.to_dict())], ignore_index=True
    )
    new = pd.DataFrame(
        {
            "setting_id": ch.setting_id,
            "package_id": list(ch.places),
            "places": list(ch.places.values()),
            "annual_cost_gbp": [ch.annual_cost_gbp.get(p, np.nan) for p in ch.places],
        }
    )
    places = pd.concat(
        [ds.places.drop(columns="cost_source", errors="ignore"), new.astype({"places": "Int64"})],
        ignore_index=True,
    )
    return ds.replace(settings=settings, places=places)


def _set_places(ds: Dataset, ch: SetPlaces, *, seed: int) -> Dataset:
    places = ds.places.copy()
    hit = (places["setting_id"] == ch.setting_id) & (places["package_id"] == ch.package_id)
    old = int(places.loc[hit, "places"].sum())
    if hit.any():
        places.loc[hit, "places"] = ch.places
        if ch.annual_cost_gbp is not None:
            places.loc[hit, "annual_cost_gbp"] = ch.annual_cost_gbp
    else:
        extra = pd.DataFrame(
            {
                "setting_id": [ch.setting_id],
                "package_id": [ch.package_id],
                "places": [ch.places],
                "annual_cost_gbp": [ch.annual_cost_gbp],
            }
        )
        places = pd.concat(
            [places, extra.astype({"places": "Int64", "annual_cost_gbp": float})], ignore_index=True
        )
    settings = ds.settings.copy()
    at = settings["setting_id"] == ch.setting_id
    settings.loc[at, "total_places"] = (settings.loc[at, "total_places"] + ch.places - old).clip(
        lower=0
    )
    return ds.replace(places=places.drop(columns="cost_source", errors="ignore"), settings=settings)


def _close_setting(ds: Dataset, ch: CloseSetting, *, seed: int) -> Dataset:
    settings = ds.settings.copy()
    settings.loc[settings["setting_id"] == ch.setting_id, "closed"] = True
    return ds.replace(settings=settings)


def _cap_fees(ds: Dataset, ch: CapFees, *, seed: int) -> Dataset:
    places = derive_place_costs(ds)
    types = places["setting_id"].map(ds.setting_types)
    hit = types.isin(ch.setting_types) if ch.setting_types else pd.Series(True, places.index)
    if ch.package_id:
        hit &= places["package_id"] == ch.package_id
    capped = places["annual_cost_gbp"].clip(upper=ch.max_annual_cost_gbp)
    places["annual_cost_gbp"] = np.where(hit, capped, places["annual_cost_gbp"])
    places.loc[hit & (places["cost_source"] == "framework"), "cost_source"] = "setting"
    own = places["cost_source"] == "setting"
    places.loc[~own, "annual_cost_gbp"] = np.nan
    return ds.replace(places=places.drop(columns="cost_source"))


def _policy(ds: Dataset, ch: PolicyChange, *, seed: int) -> Dataset:
    merged = merge_overrides(ds.policy.model_dump(), ch.overrides)
    return ds.replace(policy=policy_from_mapping(merged))


def _demand_growth(ds: Dataset, ch: DemandGrowth, *, seed: int) -> Dataset:
    """Scale the children still to place in each group by its factor (seeded sample)."""
    rng = np.random.default_rng(seed)
    kids = ds.children
    phase = pd.Series(ds.policy.phases_of_ages(kids["age"].fillna(0)), index=kids.index)
    to_place = kids["current_setting_id"] == ""
    keep = pd.Series(True, index=kids.index)
    added = []
    for k, (key, factor) in enumerate(ch.factors.items(), 1):
        group = to_place & (
            (kids["package_id"] == key) | (phase == key) | (kids["ward_code"] == key)
        )
        idx = np.flatnonzero(group.to_numpy())
        if factor < 1:
            drop = rng.choice(idx, size=round(len(idx) * (1 - factor)), replace=False)
            keep.iloc[drop] = False
        elif len(idx):
            picks = rng.choice(idx, size=round(len(idx) * (factor - 1)), replace=True)
            clones = kids.iloc[np.sort(picks)].copy()
            clones["child_id"] = [f"{c}-g{k}.{i}" for i, c in enumerate(clones["child_id"], 1)]
            clones["preferences"] = [()] * len(clones)
            added.append(clones)
    children = pd.concat([kids[keep], *added], ignore_index=True)
    return ds.replace(children=children)


_APPLY: dict[type, Callable[..., Dataset]] = {  # change type -> its (ds, change, *, seed)
    AddSetting: _add_setting,
    SetPlaces: _set_places,
    CloseSetting: _close_setting,
    CapFees: _cap_fees,
    PolicyChange: _policy,
    DemandGrowth: _demand_growth,
}
