"""The home ward of each child: ``children.ward_code``, else the ward boundary holding the home.

One rule for every output that counts children by ward (the workbook, the maps,
the pack and the publish release), so they never disagree about where a child
lives.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.geography import BNG

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["child_wards"]

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
    import geopandas as gpd  # loads only when wards are joined

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(easting, northing), crs=BNG)
    hit = gpd.sjoin(
        points, wards.to_crs(BNG)[["ward_code", "geometry"]], how="left", predicate="intersects"
    )
    hit = hit[~hit.index.duplicated()]  # a home on a boundary goes to the first ward
    return hit["ward_code"].fillna("").astype(str).to_numpy()
