"""Map geometry in EPSG:4326 (lon/lat), coordinates rounded to about 1 m.

Computation stays in EPSG:27700 until the map (see :mod:`optimiser.geography`):
ward polygons with only their code and name, the LA outline, a point inside
each ward, points from lon / lat columns, and the LA's bounds.
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimiser.dataset.model import Dataset
from optimiser.geography import BNG, WGS84, lonlat_from_bng

COORD_DECIMALS = 5  # about 1 m: enough for boundaries drawn at ward scale


def rounded_lonlat(easting: pd.Series, northing: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Lon / lat [degrees] of BNG easting / northing [m], rounded to ``COORD_DECIMALS``."""
    lon, lat = lonlat_from_bng(easting.to_numpy(float), northing.to_numpy(float))
    return np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)


def _wards(ds: Dataset) -> gpd.GeoDataFrame:
    """``ds.wards``, which is a GeoDataFrame (the Dataset types it as a plain DataFrame)."""
    return cast(gpd.GeoDataFrame, ds.wards)


def ward_shapes(ds: Dataset) -> gpd.GeoDataFrame:
    """Ward polygons in EPSG:4326 with only ward_code and ward_name, coordinates to ~1 m."""
    wards = _wards(ds)[["ward_code", "ward_name", "geometry"]].copy()
    wards[["ward_code", "ward_name"]] = wards[["ward_code", "ward_name"]].astype(str)
    wards = wards.to_crs(WGS84).reset_index(drop=True)
    wards["geometry"] = shapely.set_precision(wards.geometry.to_numpy(), 10.0**-COORD_DECIMALS)
    return wards


def la_outline(ds: Dataset) -> gpd.GeoDataFrame:
    """The LA boundary (union of the wards) in EPSG:4326, no properties but a name."""
    union = shapely.union_all(_wards(ds).to_crs(BNG).geometry.buffer(0.5).to_numpy()).buffer(-0.5)
    outline = gpd.GeoDataFrame({"name": [ds.name]}, geometry=[union], crs=BNG).to_crs(WGS84)
    outline["geometry"] = shapely.set_precision(outline.geometry.to_numpy(), 10.0**-COORD_DECIMALS)
    return outline


def ward_points(ds: Dataset) -> pd.DataFrame:
    """A point inside each ward (label and flow origin): ward_code, ward_name, lon, lat."""
    wards = _wards(ds)
    pts = wards.to_crs(BNG).geometry.representative_point()
    lon, lat = rounded_lonlat(pts.x, pts.y)
    return pd.DataFrame(
        {
            "ward_code": wards["ward_code"].astype(str).to_numpy(),
            "ward_name": wards["ward_name"].astype(str).to_numpy(),
            "lon": lon,
            "lat": lat,
        }
    )


def points_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of points from a frame's lon / lat columns (dropped)."""
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geometry, crs=WGS84)


def bounds(ds: Dataset) -> list[list[float]]:
    """[[south, west], [north, east]] of the LA: its wards, else its in-area settings."""
    if ds.wards is not None and len(ds.wards):
        w, s, e, n = _wards(ds).to_crs(WGS84).total_bounds
        return [[float(s), float(w)], [float(n), float(e)]]
    st = ds.settings[ds.settings["in_area"]] if ds.settings["in_area"].any() else ds.settings
    lon, lat = rounded_lonlat(st["easting"], st["northing"])
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
