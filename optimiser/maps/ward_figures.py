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

import re
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.disclosure import (
    SUPPRESSED,
    check_publishable,
    publish_change,
    publish_count,
    publish_derived,
    publish_share,
)
from optimiser.geography import BNG, WGS84
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
_CLONE_SUFFIX = re.compile(r"-g\d+\.\d+$")  # children added by a demand_growth change


def child_wards(ds: Dataset, child_ids: pd.Series | list[str]) -> pd.Series:
    """Ward code of each child ("" when outside every ward), indexed by child_id.

    Uses ``children.ward_code``; where it is blank or absent, the ward whose
    boundary holds the child's home. Children a scenario's ``demand_growth``
    added (ids ``<id>-g<k>.<i>``) take the ward of the child they copy.
    """
    kids = ds.children
    codes = (
        kids["ward_code"].fillna("").astype(str)
        if "ward_code" in kids
        else pd.Series("", index=kids.index)
    )
    blank = (codes == "").to_numpy()
    if blank.any() and ds.wards is not None and len(ds.wards):
        codes = codes.copy()
        codes[blank] = _ward_by_point(
            ds.wards,
            kids.loc[blank, "easting"].to_numpy(float),
            kids.loc[blank, "northing"].to_numpy(float),
        )
    lookup = pd.Series(codes.to_numpy(), index=kids["child_id"].astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    ids = pd.Index(pd.Series(list(child_ids), dtype=object).astype(str))
    out = lookup.reindex(ids)
    missing = out.isna().to_numpy()
    if missing.any():
        base = ids[missing].str.replace(_CLONE_SUFFIX, "", regex=True)
        out.iloc[np.flatnonzero(missing)] = lookup.reindex(base).to_numpy()
    return out.fillna("").rename("ward_code")


def _ward_by_point(
    wards: gpd.GeoDataFrame, easting: np.ndarray, northing: np.ndarray
) -> np.ndarray:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(easting, northing), crs=BNG)
    hit = gpd.sjoin(
        points, wards.to_crs(BNG)[["ward_code", "geometry"]], how="left", predicate="intersects"
    )
    hit = hit[~hit.index.duplicated()]  # a home on a boundary goes to the first ward
    return hit["ward_code"].fillna("").astype(str).to_numpy()


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


def ward_figures(ds: Dataset, res: AllocationResult, *, publish: bool) -> pd.DataFrame:
    """Ward figures as a map or pack shows them: ward_code, ward_name, counts, derived.

    Working: exact counts; derived figures rounded for display (share in %
    to 0.1, £ to 1, minutes to 0.1). Publish: counts disclosure-controlled;
    a share withheld when its numerator, denominator or complement is 1-7,
    £ per child and mean minutes when the placed count is 1-7; shares to
    whole %, £ to the nearest 10, minutes to whole minutes.
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
    for col in WARD_COUNTS:
        out[col] = [publish_count(v) for v in exact[col]]
    out["inmss_share_pct"] = [
        _rounded(publish_share(n, d), 100, 1)
        for n, d in zip(exact["inmss_children"], exact["placed_children"], strict=True)
    ]
    for col, step in (("transport_gbp_per_child", 10), ("mean_travel_min", 1)):
        out[col] = [
            _rounded(publish_derived(v, b), 1, step)
            for v, b in zip(exact[col], exact["placed_children"], strict=True)
        ]
    check_publishable(out)
    return out


def _rounded(value: float | str, scale: float, step: float) -> float | int | str:
    if value == SUPPRESSED:
        return SUPPRESSED
    return int(round(float(value) * scale / step) * step)


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
    (a line is drawn only for 8 or more children).
    """
    pts = ward_points(ds).set_index("ward_code")
    st = setting_figures(ds, res, publish=False).set_index("setting_id")
    pl = res.placements.assign(ward_code=child_wards(ds, res.placements["child_id"]).to_numpy())
    pl = pl[pl["ward_code"].isin(pts.index) & pl["setting_id"].isin(st.index)]
    flows = pl.groupby(["ward_code", "setting_id"]).size().rename("n").reset_index()
    if publish:
        flows["travelling_children"] = [publish_count(v) for v in flows["n"]]
        flows = flows[flows["travelling_children"] != SUPPRESSED]
    else:
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
    if publish:
        check_publishable(out)
    return out.reset_index(drop=True)


def la_figures(res: AllocationResult, *, publish: bool) -> list[tuple[str, str]]:
    """Headline figures for the whole LA as (label, text).

    Publish mode applies the count rule at LA level too (stricter than the
    minimum) and rounds £ totals to the nearest £1,000.
    """
    k = res.kpis
    placed, inmss = k["placed_children"], k["inmss_children"]
    count = publish_count if publish else (lambda v: int(v))
    share = publish_share(inmss, placed) if publish else (inmss / placed if placed else np.nan)
    mean_min = publish_derived(k["mean_travel_min"], placed) if publish else k["mean_travel_min"]
    per_child = k["transport_cost_gbp"] / placed if placed else np.nan
    shown_per_child = publish_derived(per_child, placed) if publish else per_child
    step = 1000 if publish else 1
    return [
        (
            "Children with a Specialist Provision Package",
            _fmt(count(placed + k["unplaced_children"])),
        ),
        ("Placed", _fmt(count(placed))),
        ("Placed in INMSS (independent / non-maintained special)", _fmt(count(inmss))),
        ("INMSS share of placed children", _fmt(share, pct=True)),
        ("Not placed (no suitable place)", _fmt(count(k["unplaced_children"]))),
        ("Total cost of places and transport", _fmt(_step(k["total_cost_gbp"], step), gbp=True)),
        ("Transport cost", _fmt(_step(k["transport_cost_gbp"], step), gbp=True)),
        ("Transport cost per placed child", _fmt(_step(shown_per_child, 10), gbp=True)),
        ("Mean journey time (minutes)", _fmt(_step(mean_min, 1 if publish else 0.1))),
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
