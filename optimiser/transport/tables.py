"""Transport reports after an allocation: KPIs and the breakdowns by mode, type, area, ward."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.schema.tables import INMSS_TYPES
from optimiser.transport.rules import placement_transport

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
) -> dict[str, float]:
    """Headline transport figures of an allocation (added to ``allocate().kpis``).

    transported_children; transport_cost_per_transported_child_gbp [GBP/yr];
    travelling_alone_share (solo taxis among the transported);
    personal_budget_children; transported_over_journey_cap. ``child_pos`` and
    ``needs``: as in :func:`placement_transport`.
    """
    view = placement_transport(ds, placements, child_pos=child_pos, needs=needs)
    moved = view[view["eligible"]]
    return {
        "transported_children": float(len(moved)),
        "transport_cost_per_transported_child_gbp": _share(
            moved["transport_cost_gbp"].sum(), len(moved)
        ),
        "travelling_alone_share": _share(moved["alone"].sum(), len(moved)),
        "personal_budget_children": float((moved["mode"] == "personal_budget").sum()),
        "transported_over_journey_cap": float(moved["over_cap"].sum()),
    }


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
