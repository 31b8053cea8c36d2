"""Aggregated figures for maps and members' packs: by ward, ward → setting flows, whole LA.

Nothing here returns a child-level row. Children are attributed to wards by
their ``ward_code`` (point-in-polygon on the ward boundaries when it is blank),
then counted. With ``publish=True`` every count passes through
:mod:`optimiser.disclosure` (1-7 → "c", others rounded to 5), derived figures
on small bases are withheld, and only public columns are returned; every count
of children is named ``*_children``.

Geometry comes back in EPSG:4326 (lon/lat) for the map; computation stays in
EPSG:27700 until then (see :mod:`optimiser.geography`).

This module is also the one place the map and the pack take their figures
from: it re-exports the setting and site figures (:mod:`optimiser.maps.setting_figures`),
the map geometry (:mod:`optimiser.maps.geometry`) and the colour classes
(:mod:`optimiser.maps.classes`).
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.dataset.wards import child_wards
from optimiser.disclosure import (
    SUPPRESSED,
    check_publishable,
    publish_change,
)
from optimiser.geography import WGS84
from optimiser.maps.classes import (
    NO_DATA_COLOUR,
    SUPPRESSED_COLOUR,
    Classes,
    change_classes,
    is_missing,
    palette,
    sequential_classes,
)
from optimiser.maps.geometry import (
    COORD_DECIMALS,
    bounds,
    la_outline,
    points_frame,
    ward_points,
    ward_shapes,
)
from optimiser.maps.setting_figures import (
    SETTING_GROUPS,
    TYPE_LABELS,
    candidate_figures,
    chosen_site_figures,
    setting_figures,
    setting_group,
)
from optimiser.reports.published import release_for
from optimiser.reports.release import BASELINE, Release
from optimiser.schema.tables import INMSS_TYPES

__all__ = [
    "COORD_DECIMALS",
    "NO_DATA_COLOUR",
    "SETTING_GROUPS",
    "SUPPRESSED",
    "SUPPRESSED_COLOUR",
    "TYPE_LABELS",
    "WARD_COUNTS",
    "Classes",
    "bounds",
    "candidate_figures",
    "change_classes",
    "change_figures",
    "child_wards",
    "chosen_site_figures",
    "flow_figures",
    "la_figures",
    "la_outline",
    "palette",
    "points_frame",
    "sequential_classes",
    "setting_figures",
    "setting_group",
    "ward_counts",
    "ward_figures",
    "ward_points",
    "ward_shapes",
]

#: Ward figures a map or pack may show (both modes); counts end in ``_children``.
WARD_COUNTS = ("spp_children", "placed_children", "inmss_children", "unplaced_children")


def ward_counts(ds: Dataset, res: AllocationResult) -> pd.DataFrame:
    """Exact figures by ward (working data): counts, transport total and derived figures.

    One row per ward of ``ds.wards`` (zeros where no child lives), columns
    ward_code, ward_name, spp_children, placed_children, inmss_children,
    unplaced_children, transport_cost_gbp [GBP/yr], inmss_share (0-1),
    transport_gbp_per_child [GBP/yr], mean_travel_min [min].
    """
    wards = (
        cast(pd.DataFrame, ds.wards)[["ward_code", "ward_name"]].astype(str).reset_index(drop=True)
    )
    pl = res.placements.assign(
        ward_code=child_wards(ds, res.placements["child_id"]).to_numpy(),
        inmss=res.placements["setting_type"].isin(INMSS_TYPES),
    )
    un_wards = child_wards(ds, res.unplaced["child_id"]).to_numpy()
    g = pl.groupby("ward_code")
    out = wards.set_index("ward_code")
    out["placed_children"] = g.size().reindex(out.index, fill_value=0).astype(int)
    out["inmss_children"] = g["inmss"].sum().reindex(out.index, fill_value=0).astype(int)
    out["unplaced_children"] = (
        pd.Series(un_wards).value_counts().reindex(out.index, fill_value=0).astype(int)
    )
    out["spp_children"] = out["placed_children"] + out["unplaced_children"]
    out["transport_cost_gbp"] = g["transport_cost_gbp"].sum().reindex(out.index, fill_value=0.0)
    placed = out["placed_children"].replace(0, np.nan)
    out["inmss_share"] = out["inmss_children"] / placed
    out["transport_gbp_per_child"] = out["transport_cost_gbp"] / placed
    out["mean_travel_min"] = g["travel_min"].mean().reindex(out.index)
    return out.reset_index()


def ward_figures(
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool,
    release: Release | None = None,
    scenario: str = BASELINE,
) -> pd.DataFrame:
    """Ward figures as a map or pack shows them: ward_code, ward_name, counts, derived.

    Working: exact counts; derived figures rounded for display (share in %
    to 0.1, £ to 1, minutes to 0.1). Publish: the counts of ``scenario`` in
    ``release`` (built from ``res`` alone when not given): 1-7 and the cells
    protecting them "c", others rounded to 5; the INMSS share (whole %) and £
    per placed child (£10) from the published figures; the mean journey
    (whole minutes) only beside a published placed count.
    """
    exact = ward_counts(ds, res)
    out = exact[["ward_code", "ward_name"]].copy()
    if not publish:
        for col in WARD_COUNTS:
            out[col] = exact[col]
        out["inmss_share_pct"] = (100 * exact["inmss_share"]).round(1)
        out["transport_gbp_per_child"] = exact["transport_gbp_per_child"].round(0)
        out["mean_travel_min"] = exact["mean_travel_min"].round(1)
        return out
    release = release if release is not None else release_for(ds, res)
    counts = release.table(scenario, "ward").reindex(exact["ward_code"])
    names = {"spp_children": "demand", "placed_children": "placed"}
    names |= {"inmss_children": "inmss", "unplaced_children": "unplaced"}
    for col, measure in names.items():
        out[col] = counts[measure].to_numpy()
    out["inmss_share_pct"] = [
        s if s == SUPPRESSED else round(100 * float(s))
        for s in map(Release.share, out["inmss_children"], out["placed_children"])
    ]
    out["transport_gbp_per_child"] = [
        Release.per_child(float(c), n)
        for c, n in zip(exact["transport_cost_gbp"], out["placed_children"], strict=True)
    ]
    out["mean_travel_min"] = [
        Release.gated(float(v), n, 1)
        for v, n in zip(exact["mean_travel_min"], out["placed_children"], strict=True)
    ]
    check_publishable(out)
    return out


def change_figures(base: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Change by ward between two :func:`ward_figures` tables (other - base).

    Computed from the figures as shown, so in publish mode a change is "c"
    whenever either side is: it never reveals more than the two published maps.
    Columns: ward_code, ward_name, inmss_children_change, inmss_share_change_pct,
    transport_gbp_per_child_change, and the values shown before (``base_*``) and
    after (``option_*``). A change is not a count, so it is not named ``*_children``.
    """
    b = base.set_index("ward_code")
    o = other.set_index("ward_code").reindex(b.index)
    out = b[["ward_name"]].copy()
    pairs = {
        "inmss_children_change": "inmss_children",
        "inmss_share_change_pct": "inmss_share_pct",
        "transport_gbp_per_child_change": "transport_gbp_per_child",
    }
    for new, col in pairs.items():
        out[new] = [_change(a, z) for a, z in zip(o[col], b[col], strict=True)]
    for col in ("inmss_children", "inmss_share_pct", "transport_gbp_per_child"):
        out[f"base_{col}"] = b[col]
        out[f"option_{col}"] = o[col]
    return out.reset_index()


def _change(after: float | str, before: float | str) -> float | str:
    if is_missing(after) or is_missing(before):
        return SUPPRESSED
    value = publish_change(after, before)
    if value == SUPPRESSED:
        return value
    value = round(float(value), 1)
    return int(value) if value == int(value) else value


def flow_figures(ds: Dataset, res: AllocationResult, *, publish: bool) -> gpd.GeoDataFrame:
    """Children travelling from each ward to each setting, as lines (EPSG:4326).

    Columns: ward_name, setting_name, travelling_children, geometry. In publish
    mode counts are disclosure-controlled and flows shown as "c" are dropped
    Publish mode returns no flows: at ward × setting level most flows are 1-7
    children, and the rest would let suppressed ward and setting counts be
    worked out; the publish map shows no journeys layer.
    """
    pts = ward_points(ds).set_index("ward_code")
    if publish:
        empty: dict[str, list[object]] = {"ward_name": [], "setting_name": []}
        empty["travelling_children"] = []
        return gpd.GeoDataFrame(empty, geometry=[], crs=WGS84)
    st = setting_figures(ds, res, publish=False).set_index("setting_id")
    pl = res.placements.assign(ward_code=child_wards(ds, res.placements["child_id"]).to_numpy())
    pl = pl[pl["ward_code"].isin(pts.index) & pl["setting_id"].isin(st.index)]
    flows = pl.groupby(["ward_code", "setting_id"]).size().rename("n").reset_index()
    flows["travelling_children"] = flows["n"]
    flows = flows.sort_values(
        ["n", "ward_code", "setting_id"], ascending=[False, True, True], kind="stable"
    )
    a, b = pts.loc[flows["ward_code"]], st.loc[flows["setting_id"]]
    lines = shapely.linestrings(
        np.stack(
            [np.column_stack([a["lon"], a["lat"]]), np.column_stack([b["lon"], b["lat"]])], axis=1
        )
    )
    out = gpd.GeoDataFrame(
        {
            "ward_name": a["ward_name"].to_numpy(),
            "setting_name": b["name"].to_numpy(),
            "travelling_children": flows["travelling_children"].to_numpy(),
        },
        geometry=lines,
        crs=WGS84,
    )
    return out.reset_index(drop=True)


def la_figures(
    res: AllocationResult, *, publish: bool, release: Release | None = None
) -> list[tuple[str, str]]:
    """Headline figures for the whole LA as (label, text).

    Publish mode (``release`` required): the release's LA counts, the INMSS
    share and £ per placed child from them, £ totals to the nearest £1,000
    and shown only beside a published count, the mean journey in whole minutes.
    """
    k = res.kpis
    if publish:
        if release is None:
            msg = "la_figures(publish=True) needs the release (optimiser.reports.release)"
            raise ValueError(msg)
        la = release.table(BASELINE, "la").iloc[0]
        placed, inmss, unplaced, demand = la["placed"], la["inmss"], la["unplaced"], la["demand"]
        share = Release.share(inmss, placed)
        transport = Release.gated(k["transport_cost_gbp"], la["transported"], 1000)
        total = Release.total_cost(  # the sum of published parts: no unplaced £ by difference
            Release.gated(k["place_cost_gbp"], placed, 1000),
            transport,
            Release.unplaced_cost(k["unplaced_cost_gbp"], k["unplaced_children"], unplaced),
        )
        per_child = Release.per_child(k["transport_cost_gbp"], placed)
        mean_min = Release.gated(k["mean_travel_min"], placed, 1)
    else:
        placed, inmss = k["placed_children"], k["inmss_children"]
        unplaced, demand = k["unplaced_children"], placed + k["unplaced_children"]
        share = inmss / placed if placed else np.nan
        total, transport = k["total_cost_gbp"], k["transport_cost_gbp"]
        per_child = k["transport_cost_gbp"] / placed if placed else np.nan
        mean_min = _step(k["mean_travel_min"], 0.1)
    return [
        ("Children with a Specialist Provision Package", _fmt(demand)),
        ("Placed", _fmt(placed)),
        ("Placed in INMSS (independent / non-maintained special)", _fmt(inmss)),
        ("INMSS share of placed children", _fmt(share, pct=True)),
        ("Not placed (no suitable place)", _fmt(unplaced)),
        ("Total cost (places + transport + unplaced children)", _fmt(total, gbp=True)),
        ("Transport cost", _fmt(transport, gbp=True)),
        ("Transport cost per placed child", _fmt(_step(per_child, 10), gbp=True)),
        ("Mean journey time (minutes)", _fmt(mean_min)),
    ]


def _step(value: float | str, step: float) -> float | str:
    if value == SUPPRESSED or is_missing(value):
        return value
    return round(float(value) / step) * step


def _fmt(value: float | str, *, pct: bool = False, gbp: bool = False) -> str:
    if value == SUPPRESSED:
        return SUPPRESSED
    if is_missing(value):
        return "–"
    if pct:
        return f"{100 * float(value):.0f}%"
    if gbp:
        return f"£{float(value):,.0f}"
    v = float(value)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
