"""Transport reports after an allocation: KPIs and the breakdowns by mode, type, area, ward."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap
from optimiser.schema.tables import INMSS_TYPES
from optimiser.transport.rules import (
    MODES,
    assess_codes,
    child_needs,
    is_eligible,
    mode_codes,
    placement_transport,
)

if TYPE_CHECKING:  # allocation sits above transport: a reference for the types only
    from optimiser.allocation.solve import AllocationResult


def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def transport_kpis(
    ds: Dataset,
    placements: pd.DataFrame,
    *,
    child_pos: np.ndarray | None = None,
    needs: pd.DataFrame | None = None,
    mode_code: np.ndarray | None = None,
) -> dict[str, float]:
    """Headline transport figures of an allocation (added to ``allocate().kpis``).

    transported_children; transport_cost_per_transported_child_gbp [GBP/yr];
    travelling_alone_share (solo taxis among the transported);
    personal_budget_children; transported_over_journey_cap. ``child_pos`` and
    ``needs``: as in :func:`placement_transport`, whose view these figures sum
    (worked out here on the arrays alone, without building that view).
    ``mode_code``: each placement's mode code as :func:`assess_codes` gave it for the
    placement's own distance and child (−1 not transported), when the caller has it
    (``allocate`` has it from the arcs); with ``child_pos``, the rules are not run again.
    """
    needs = child_needs(ds) if needs is None else needs
    if child_pos is None:
        child_pos = pd.Index(needs["child_id"]).get_indexer(placements["child_id"].astype(str))
    child_pos = np.asarray(child_pos)
    if (child_pos < 0).any():  # a child not in the dataset: the view's blank needs
        view = placement_transport(ds, placements, child_pos=child_pos, needs=needs)
        moved = view[view["eligible"]]
        cost = moved["transport_cost_gbp"].to_numpy(float)
        alone = moved["alone"].to_numpy(bool)
        budget = (moved["mode"] == "personal_budget").to_numpy(bool)
        over = moved["over_cap"].to_numpy(bool)
    else:
        if mode_code is None:
            code, eligible, over_all = _codes(ds, placements, needs, child_pos)
        else:  # eligible exactly when assess_codes gave a mode
            code, eligible = np.asarray(mode_code), np.asarray(mode_code) >= 0
            over_all = _over_cap(ds, placements, needs["age"].to_numpy()[child_pos])
        cost = placements["transport_cost_gbp"].to_numpy(float)[eligible]
        alone = code[eligible] == MODES.index("solo_taxi")
        budget = code[eligible] == MODES.index("personal_budget")
        over = over_all[eligible]
    n = len(cost)
    return {
        "transported_children": float(n),
        # pandas' sum: a missing cost counts 0
        "transport_cost_per_transported_child_gbp": _share(
            np.where(np.isnan(cost), 0.0, cost).sum(), n
        ),
        "travelling_alone_share": _share(alone.sum(), n),
        "personal_budget_children": float(budget.sum()),
        "transported_over_journey_cap": float(over.sum()),
    }


def _codes(
    ds: Dataset, placements: pd.DataFrame, needs: pd.DataFrame, child_pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mode code, eligible, over the journey cap) of each placement, as :func:`assess` has them."""
    km = placements["distance_km"].to_numpy(float)
    age = needs["age"].to_numpy()[child_pos]
    eligible = is_eligible(
        km,
        age=age,
        cannot_walk=needs["cannot_walk"].to_numpy()[child_pos].astype(bool),
        policy=ds.policy,
    )
    code, _ = assess_codes(
        km,
        solo=needs["solo"].to_numpy()[child_pos].astype(bool),
        eligible=eligible,
        wheelchair=needs["wheelchair"].to_numpy()[child_pos].astype(bool),
        agreed=mode_codes(needs["travel_mode"].to_numpy()[child_pos]),
        policy=ds.policy,
    )
    return code, np.asarray(eligible, bool), _over_cap(ds, placements, age)


def _over_cap(ds: Dataset, placements: pd.DataFrame, age: np.ndarray) -> np.ndarray:
    """Whether each placement's journey is over the cap of its child's age [years]."""
    return over_journey_cap(
        placements["travel_min"].to_numpy(float), ds.policy.travel_caps_min(age)
    )


_BREAKDOWNS = {
    "setting": "setting_id",
    "setting_type": "setting_type",
    "package": "package_id",
    "ward": "ward_code",
    "area": "area",
    "mode": "mode",
}


def _summarise(view: pd.DataFrame, key: str) -> pd.DataFrame:
    moved = view["eligible"]
    grouped = view.assign(
        transported=moved,
        cost=view["transport_cost_gbp"].where(moved, 0.0),
        over=view["over_cap"],
        alone_=view["alone"] & moved,
        moved_min=view["travel_min"].where(moved),
    ).groupby(key, sort=True)
    table = pd.DataFrame(
        {
            "children": grouped.size(),
            "transported": grouped["transported"].sum(),
            "transport_cost_gbp": grouped["cost"].sum().round(2),
            "mean_travel_min": grouped["travel_min"].mean().round(1),
            "max_travel_min": grouped["travel_min"].max().round(1),
            "over_journey_cap": grouped["over"].sum(),
            "travelling_alone": grouped["alone_"].sum(),
        }
    )
    per = table["transport_cost_gbp"] / table["transported"].where(table["transported"] > 0)
    table.insert(3, "cost_per_transported_child_gbp", per.round(0))
    table["travelling_alone_share"] = (
        table["travelling_alone"] / table["transported"].where(table["transported"] > 0)
    ).round(3)
    return table.reset_index()


def transport_tables(ds: Dataset, res: AllocationResult | pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Transport breakdowns of an allocation: one table per grouping.

    Parameters
    ----------
    ds : the dataset the allocation was made on.
    res : an AllocationResult (or a placements DataFrame).

    Returns
    -------
    dict with DataFrames keyed ``setting``, ``setting_type``, ``package``,
    ``ward`` (the child's home ward; name added when wards are loaded),
    ``area`` (in / out of area, INMSS marked), ``mode`` and ``total``; each row
    has children, transported, transport_cost_gbp [GBP/yr],
    cost_per_transported_child_gbp, mean / max travel_min [min],
    over_journey_cap, travelling_alone and its share of the transported.
    Working data (small numbers are not suppressed here).
    """
    placements = cast(pd.DataFrame, getattr(res, "placements", res))  # a result or its frame
    view = placement_transport(ds, placements)
    inmss = view["setting_type"].isin(INMSS_TYPES)
    view["area"] = np.where(view["in_area"], "in area", "out of area")
    view["area"] = np.where(inmss, view["area"] + " (INMSS)", view["area"])
    view["mode"] = view["mode"].replace("", "not transported")
    view["ward_code"] = view["ward_code"].replace("", "(unknown)")
    out = {name: _summarise(view, key) for name, key in _BREAKDOWNS.items()}
    names = ds.settings.set_index("setting_id")["name"]
    out["setting"].insert(1, "name", out["setting"]["setting_id"].map(names))
    if ds.wards is not None and "ward_name" in ds.wards.columns:
        wnames = pd.Series(ds.wards["ward_name"].to_numpy(), index=ds.wards["ward_code"])
        out["ward"].insert(1, "ward_name", out["ward"]["ward_code"].map(wnames).fillna(""))
    out["total"] = _summarise(view.assign(all="all"), "all").drop(columns="all")
    return out
