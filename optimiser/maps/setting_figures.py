"""Map figures of settings and inclusion-base sites: public details, places, children placed.

One row per open setting (grouped into the map's setting layers), per
candidate site and per chosen site; never a child-level row. With
``publish=True`` counts of children pass through :mod:`optimiser.disclosure`
and the table is checked with :func:`~optimiser.disclosure.check_publishable`.
Locations come back as lon / lat (EPSG:4326) for the map.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.disclosure import SUPPRESSED, check_publishable
from optimiser.maps.geometry import rounded_lonlat
from optimiser.reports.published import release_for
from optimiser.reports.release import BASELINE, Release
from optimiser.schema.tables import INMSS_TYPES

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


def setting_group(setting_type: str, in_area: bool) -> str:
    """The map layer a setting belongs to (a key of :data:`SETTING_GROUPS`)."""
    if setting_type in INMSS_TYPES:
        return "inmss"
    if not in_area:
        return "out_of_area"
    if setting_type in ("maintained_special", "academy_special"):
        return "special"
    return "inclusion_base" if setting_type == "inclusion_base" else "post16"


def setting_figures(
    ds: Dataset, res: AllocationResult, *, publish: bool, release: Release | None = None
) -> pd.DataFrame:
    """One row per open setting: public details, places, children placed there, utilisation.

    Columns: setting_id, name, group, type_label, urn, packages, places (open to
    the LA's packages: Σ places per package, at most the capacity), capacity (all
    pupils), cost_per_place, filled_children, utilisation_pct (of places), lon, lat
    (+ placement_cost_gbp in working mode). In publish mode filled_children is
    the count of the ``release`` (built from ``res`` when not given) and
    utilisation is computed from the published count ("c" where that is "c").
    """
    st = ds.settings[~ds.settings["closed"]].reset_index(drop=True)
    filled = res.placements.groupby("setting_id").size()
    cost = res.placements.groupby("setting_id")["place_cost_gbp"].sum()
    places = ds.places[ds.places["places"] > 0]
    pkgs = places.groupby("setting_id")["package_id"].agg(lambda s: ", ".join(sorted(s)))
    fee = places.groupby("setting_id")["annual_cost_gbp"].agg(["min", "max"])
    lon, lat = rounded_lonlat(st["easting"], st["northing"])
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
        release = release if release is not None else release_for(ds, res)
        shown = release.table(BASELINE, "setting")["placed"]
        out["filled_children"] = shown.reindex(out["setting_id"]).to_numpy()
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
    if setting_id not in fee.index or pd.isna(cast(float, fee.at[setting_id, "min"])):
        return ""
    lo, hi = cast(float, fee.at[setting_id, "min"]), cast(float, fee.at[setting_id, "max"])
    return f"£{lo:,.0f}" if lo == hi else f"£{lo:,.0f}–£{hi:,.0f}"


def candidate_figures(ds: Dataset) -> pd.DataFrame:
    """Candidate inclusion-base sites (public school data): site_id, name, packages, max_places."""
    cand = cast(pd.DataFrame, ds.candidates)  # callers check the dataset has candidates
    lon, lat = rounded_lonlat(cand["easting"], cand["northing"])
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

    Sites with no places are left out. Columns named ``*_children`` are kept
    in working mode only (a site's children come from another allocation than
    the release's, so publish mode shows places and £ only); any other column
    is dropped.
    """
    need = {"site_id", "name", "easting", "northing", "places"}
    if missing := need - set(sites.columns):
        msg = f"siting.sites lacks column(s) {sorted(missing)}; expected {sorted(need)}"
        raise ValueError(msg)
    sites = sites[pd.to_numeric(sites["places"], errors="coerce").fillna(0) > 0]
    lon, lat = rounded_lonlat(sites["easting"], sites["northing"])
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
        elif str(col).endswith("_children") and not publish:
            out[col] = sites[col].to_numpy()
    out["lon"], out["lat"] = lon, lat
    return out
