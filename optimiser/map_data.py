"""Aggregated figures for maps and members' packs: by ward, by setting, ward → setting flows.

Nothing here returns a child-level row. Children are attributed to wards by
their ``ward_code`` (point-in-polygon on the ward boundaries when it is blank),
then counted. With ``publish=True`` every count passes through
:mod:`optimiser.disclosure` (1-7 → "c", others rounded to 5), derived figures
on small bases are withheld, and only public columns are returned; every count
of children is named ``*_children``.

Geometry comes back in EPSG:4326 (lon/lat) for the map; computation stays in
EPSG:27700 until then (see :mod:`optimiser.geography`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimiser.allocation import AllocationResult
from optimiser.datamodel import Dataset
from optimiser.disclosure import (
    SUPPRESSED,
    check_publishable,
    publish_change,
    publish_count,
    publish_derived,
    publish_share,
)
from optimiser.geography import BNG, WGS84
from optimiser.schema import INMSS_TYPES

#: Setting groups shown as map layers: key → (label, outline colour).
SETTING_GROUPS = {
    "special": ("Special schools (maintained / academy)", "#1b4f72"),
    "inclusion_base": ("Inclusion bases", "#117a65"),
    "inmss": ("INMSS (independent / non-maintained special)", "#7d3c98"),
    "post16": ("Post-16 specialist and other in-area settings", "#5d6d7e"),
    "out_of_area": ("Out-of-area maintained / academy settings", "#a04000"),
}
TYPE_LABELS = {
    "maintained_special": "maintained special school",
    "academy_special": "academy special school",
    "inclusion_base": "inclusion base (resourced provision)",
    "mainstream": "mainstream",
    "nmss": "non-maintained special school",
    "independent_special": "independent special school",
    "post16_specialist": "specialist post-16 institution",
}
#: Ward figures a map or pack may show (both modes); counts end in ``_children``.
WARD_COUNTS = ("spp_children", "placed_children", "inmss_children", "unplaced_children")
COORD_DECIMALS = 5  # about 1 m: enough for boundaries drawn at ward scale
_CLONE_SUFFIX = re.compile(r"-g\d+\.\d+$")  # children added by a demand_growth change


def setting_group(setting_type: str, in_area: bool) -> str:
    """The map layer a setting belongs to (a key of :data:`SETTING_GROUPS`)."""
    if setting_type in INMSS_TYPES:
        return "inmss"
    if not in_area:
        return "out_of_area"
    if setting_type in ("maintained_special", "academy_special"):
        return "special"
    return "inclusion_base" if setting_type == "inclusion_base" else "post16"


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
    wards = ds.wards[["ward_code", "ward_name"]].astype(str).reset_index(drop=True)
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


def _change(after: object, before: object) -> object:
    if _missing(after) or _missing(before):
        return SUPPRESSED
    value = publish_change(after, before)
    if value == SUPPRESSED:
        return value
    value = round(float(value), 1)
    return int(value) if value == int(value) else value


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def setting_figures(ds: Dataset, res: AllocationResult, *, publish: bool) -> pd.DataFrame:
    """One row per open setting: public details, places, children placed there, utilisation.

    Columns: setting_id, name, group, type_label, urn, packages, places (open to
    the LA's packages: Σ places per package, at most the capacity), capacity (all
    pupils), cost_per_place, filled_children, utilisation_pct (of places), lon, lat
    (+ placement_cost_gbp in working mode). In publish mode filled_children is
    disclosure-controlled and utilisation is computed from the published count
    ("c" where that is "c").
    """
    st = ds.settings[~ds.settings["closed"]].reset_index(drop=True)
    filled = res.placements.groupby("setting_id").size()
    cost = res.placements.groupby("setting_id")["place_cost_gbp"].sum()
    places = ds.places[ds.places["places"] > 0]
    pkgs = places.groupby("setting_id")["package_id"].agg(lambda s: ", ".join(sorted(s)))
    fee = places.groupby("setting_id")["annual_cost_gbp"].agg(["min", "max"])
    lon, lat = _lonlat(st["easting"], st["northing"])
    out = pd.DataFrame(
        {
            "setting_id": st["setting_id"].astype(str),
            "name": st["name"].astype(str),
            "group": [
                setting_group(t, bool(a))
                for t, a in zip(st["setting_type"], st["in_area"], strict=True)
            ],
            "type_label": st["setting_type"].map(TYPE_LABELS).fillna(st["setting_type"]),
            "urn": st["urn"].astype("string").fillna(""),
            "packages": st["setting_id"].map(pkgs).fillna(""),
            "places": np.minimum(
                st["setting_id"].map(places.groupby("setting_id")["places"].sum()).fillna(0),
                st["total_places"].fillna(0),
            ).astype(int),
            "capacity": st["total_places"].fillna(0).astype(int),
            "cost_per_place": [_fee_text(fee, s) for s in st["setting_id"]],
            "lon": lon,
            "lat": lat,
        }
    )
    n = st["setting_id"].map(filled).fillna(0).astype(int)
    if publish:
        out["filled_children"] = [publish_count(v) for v in n]
    else:
        out["filled_children"] = n
        out["placement_cost_gbp"] = st["setting_id"].map(cost).fillna(0.0).round(0)
    out["utilisation_pct"] = [
        SUPPRESSED if f == SUPPRESSED else (round(100 * f / p) if p else 0)
        for f, p in zip(out["filled_children"], out["places"], strict=True)
    ]
    if publish:
        check_publishable(out)
    return out


def _fee_text(fee: pd.DataFrame, setting_id: str) -> str:
    if setting_id not in fee.index or pd.isna(fee.at[setting_id, "min"]):
        return ""
    lo, hi = fee.at[setting_id, "min"], fee.at[setting_id, "max"]
    return f"£{lo:,.0f}" if lo == hi else f"£{lo:,.0f}–£{hi:,.0f}"


def _lonlat(easting: pd.Series, northing: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from optimiser.geography import lonlat_from_bng

    lon, lat = lonlat_from_bng(easting.to_numpy(float), northing.to_numpy(float))
    return np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)


def ward_shapes(ds: Dataset) -> gpd.GeoDataFrame:
    """Ward polygons in EPSG:4326 with only ward_code and ward_name, coordinates to ~1 m."""
    wards = ds.wards[["ward_code", "ward_name", "geometry"]].copy()
    wards[["ward_code", "ward_name"]] = wards[["ward_code", "ward_name"]].astype(str)
    wards = wards.to_crs(WGS84).reset_index(drop=True)
    wards["geometry"] = shapely.set_precision(wards.geometry.to_numpy(), 10.0**-COORD_DECIMALS)
    return wards


def la_outline(ds: Dataset) -> gpd.GeoDataFrame:
    """The LA boundary (union of the wards) in EPSG:4326, no properties but a name."""
    union = shapely.union_all(ds.wards.to_crs(BNG).geometry.buffer(0.5).to_numpy()).buffer(-0.5)
    outline = gpd.GeoDataFrame({"name": [ds.name]}, geometry=[union], crs=BNG).to_crs(WGS84)
    outline["geometry"] = shapely.set_precision(outline.geometry.to_numpy(), 10.0**-COORD_DECIMALS)
    return outline


def ward_points(ds: Dataset) -> pd.DataFrame:
    """A point inside each ward (label and flow origin): ward_code, ward_name, lon, lat."""
    pts = ds.wards.to_crs(BNG).geometry.representative_point()
    lon, lat = _lonlat(pts.x, pts.y)
    return pd.DataFrame(
        {
            "ward_code": ds.wards["ward_code"].astype(str).to_numpy(),
            "ward_name": ds.wards["ward_name"].astype(str).to_numpy(),
            "lon": lon,
            "lat": lat,
        }
    )


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
    per_child = publish_derived(per_child, placed) if publish else per_child
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
        ("Transport cost per placed child", _fmt(_step(per_child, 10), gbp=True)),
        ("Mean journey time (minutes)", _fmt(_step(mean_min, 1 if publish else 0.1))),
    ]


def _step(value: object, step: float) -> object:
    if value == SUPPRESSED or _missing(value):
        return value
    return round(float(value) / step) * step


def _fmt(value: object, *, pct: bool = False, gbp: bool = False) -> str:
    if value == SUPPRESSED:
        return SUPPRESSED
    if _missing(value):
        return "–"
    if pct:
        return f"{100 * float(value):.0f}%"
    if gbp:
        return f"£{float(value):,.0f}"
    v = float(value)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"


@dataclass(frozen=True)
class Classes:
    """Colour classes of a map variable.

    codes : class of each row (-1: "c", suppressed; -2: no figure).
    colours, labels : one per class, lightest / lowest first.
    """

    codes: np.ndarray
    colours: list[str]
    labels: list[str]


SUPPRESSED_COLOUR = "#bdbdbd"
NO_DATA_COLOUR = "#ffffff"


def palette(name: str, k: int) -> list[str]:
    """``k`` hex colours of a ColorBrewer scheme from :mod:`branca.colormap` (e.g. "YlOrRd")."""
    from branca.colormap import linear

    if k <= 0:
        return []
    scheme = getattr(linear, f"{name}_{max(k, 3):02d}")
    picks = {1: [1], 2: [0, 2]}.get(k, list(range(k)))
    return [scheme.rgb_hex_str(scheme.index[i]) for i in picks]


def sequential_classes(
    values: pd.Series, *, k: int = 5, scheme: str = "YlOrRd", fmt: Callable[[float], str] = str
) -> Classes:
    """Classes of the figures *as shown*: Fisher-Jenks (mapclassify), or one per distinct value.

    Classes are built from the shown figures only, so in publish mode no class
    edge can reveal an unrounded count. Labels give the lowest and highest
    figure in each class.
    """
    import mapclassify

    nums, codes = _numeric(values)
    ok = codes == 0
    uniq = np.unique(nums[ok])
    if len(uniq) == 0:
        return Classes(codes, [], [])
    if len(uniq) <= k:
        cls = np.searchsorted(uniq, nums[ok])
    else:
        cls = np.asarray(mapclassify.FisherJenks(nums[ok], k=k).yb)
    used = np.unique(cls)
    cls = np.searchsorted(used, cls)
    codes[ok] = cls
    labels = []
    for c in range(len(used)):
        lo, hi = nums[ok][cls == c].min(), nums[ok][cls == c].max()
        labels.append(fmt(lo) if lo == hi else f"{fmt(lo)} – {fmt(hi)}")
    return Classes(codes, palette(scheme, len(used)), labels)


def change_classes(values: pd.Series, *, fmt: Callable[[float], str] = str) -> Classes:
    """Up to five diverging classes around no change: big fall, fall, none, rise, big rise.

    "Big" is at least the median size of the non-zero changes. Falls are blue
    (good news for INMSS reliance and cost), rises red. Only classes that occur
    are returned; labels give the range of changes in each.
    """
    nums, codes = _numeric(values)
    ok = codes == 0
    v = nums[ok]
    size = np.abs(v[v != 0])
    step = float(np.median(size)) if len(size) else 0.0
    raw = np.select([v <= -step, v < 0, v == 0, v < step], [0, 1, 2, 3], 4)
    raw[v == 0] = 2
    used = np.unique(raw)
    codes[ok] = np.searchsorted(used, raw)
    colours = palette("RdBu", 5)[::-1]
    labels = []
    for c in used:
        lo, hi = v[raw == c].min(), v[raw == c].max()
        word = "no change" if c == 2 else ("fall" if c < 2 else "rise")
        span = fmt(lo) if lo == hi else f"{fmt(lo)} to {fmt(hi)}"
        labels.append(word if c == 2 else f"{word}: {span}")
    return Classes(codes, [colours[c] for c in used], labels)


def _numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (NaN where none) and codes: 0 = a number, -1 = "c", -2 = no figure."""
    vals = list(values)
    codes = np.array(
        [-1 if v == SUPPRESSED else (-2 if _missing(v) or isinstance(v, str) else 0) for v in vals],
        dtype=int,
    )
    nums = np.array([float(v) if c == 0 else np.nan for v, c in zip(vals, codes, strict=True)])
    return nums, codes


def points_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of points from a frame's lon / lat columns (dropped)."""
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geometry, crs=WGS84)


def candidate_figures(ds: Dataset) -> pd.DataFrame:
    """Candidate inclusion-base sites (public school data): site_id, name, packages, max_places."""
    cand = ds.candidates
    lon, lat = _lonlat(cand["easting"], cand["northing"])
    return pd.DataFrame(
        {
            "site_id": cand["site_id"].astype(str),
            "name": cand["name"].astype(str),
            "packages": [
                ", ".join(p) if isinstance(p, list | tuple) else str(p).replace(";", ", ")
                for p in cand["packages"]
            ],
            "max_places": cand["max_places"].fillna(0).astype(int),
            "lon": lon,
            "lat": lat,
        }
    )


def chosen_site_figures(sites: pd.DataFrame, *, publish: bool = True) -> pd.DataFrame:
    """Chosen sites of a siting result: site_id, name, places, any *_gbp figures, lon, lat.

    Sites with no places are left out. Columns named ``*_children`` are
    disclosure-controlled when ``publish``; any other column is dropped.
    """
    need = {"site_id", "name", "easting", "northing", "places"}
    if missing := need - set(sites.columns):
        msg = f"siting.sites lacks column(s) {sorted(missing)}; expected {sorted(need)}"
        raise ValueError(msg)
    sites = sites[pd.to_numeric(sites["places"], errors="coerce").fillna(0) > 0]
    lon, lat = _lonlat(sites["easting"], sites["northing"])
    out = pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "name": sites["name"].astype(str).to_numpy(),
            "places": sites["places"].astype(int).to_numpy(),
        }
    )
    for col in sites.columns:
        if str(col).endswith("_gbp"):
            out[col] = pd.to_numeric(sites[col], errors="coerce").round(0).to_numpy()
        elif str(col).endswith("_children"):
            out[col] = [publish_count(v) for v in sites[col]] if publish else sites[col].to_numpy()
    out["lon"], out["lat"] = lon, lat
    return out


def bounds(ds: Dataset) -> list[list[float]]:
    """[[south, west], [north, east]] of the LA: its wards, else its in-area settings."""
    if ds.wards is not None and len(ds.wards):
        w, s, e, n = ds.wards.to_crs(WGS84).total_bounds
        return [[float(s), float(w)], [float(n), float(e)]]
    st = ds.settings[ds.settings["in_area"]] if ds.settings["in_area"].any() else ds.settings
    lon, lat = _lonlat(st["easting"], st["northing"])
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
