"""The Options page's clickable map: settings and candidate sites; a click picks one.

A small Streamlit component (the v1 iframe protocol, written by hand in
``assets/picker.html``) with the repository's vendored Leaflet inlined, so it needs no
network. :func:`picker_points` builds what it draws; :func:`pick` mounts it and returns
``{"id": ..., "kind": "candidate" | "setting" | "new"}`` after a click (else None).
Settings are sized by the children the option places there; nothing child-level is drawn.
"""

from __future__ import annotations

import hashlib
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit.components.v1 as components

from optimiser import __version__
from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.geography import lonlat_from_bng
from optimiser.maps.page import assets_dir
from optimiser.schema.tables import INMSS_TYPES

ASSETS = Path(__file__).resolve().parent / "assets"
COLOURS = {
    "candidate": "#9ecae1",
    "state": "#2b8cbe",
    "base": "#31a354",
    "inmss": "#de2d26",
    "new": "#ffd92f",
    "closed": "#bdbdbd",
}
LEGEND = [
    {"color": COLOURS["state"], "label": "state special / post-16"},
    {"color": COLOURS["base"], "label": "inclusion base"},
    {"color": COLOURS["inmss"], "label": "independent / non-maintained"},
    {"color": COLOURS["new"], "label": "added by this option"},
    {"color": COLOURS["closed"], "label": "closed by this option"},
    {"color": COLOURS["candidate"], "label": "candidate site for a base (click)"},
]


@cache
def _component_dir() -> Path:
    """A folder holding the component page with Leaflet inlined (built once per version)."""
    vendor = assets_dir() / "vendor" / "leaflet-1.9.4"
    page = (ASSETS / "picker.html").read_text(encoding="utf-8")
    page = page.replace("/*LEAFLET_CSS*/", _css(vendor / "leaflet.css"))
    page = page.replace("/*LEAFLET_JS*/", (vendor / "leaflet.js").read_text(encoding="utf-8"))
    digest = hashlib.sha256(page.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"optimiser-app-{__version__}-{digest}"
    folder.mkdir(exist_ok=True)
    target = folder / "index.html"
    if not target.exists():
        tmp = folder / f".index.{digest}.tmp"
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    return folder


def _css(path: Path) -> str:
    # the marker images are not used (circle markers only): drop their url(...) references
    text = path.read_text(encoding="utf-8")
    return text.replace("url(images/", "url(data:,").replace("</style", "<\\/style")


@cache
def _component() -> Any:
    return components.declare_component("optimiser_picker", path=str(_component_dir()))


def _packages(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(p) for p in value)
    return str(value).replace(";", ", ")


def _kind(setting_type: str) -> str:
    if setting_type in INMSS_TYPES:
        return "inmss"
    return "base" if setting_type == "inclusion_base" else "state"


def picker_points(
    ds: Dataset,
    res: AllocationResult | None,
    *,
    base: Dataset | None = None,
    selected: str | None = None,
    publish: bool = False,
) -> list[dict[str, Any]]:
    """The markers: the option's settings (sized by children placed) and candidate sites.

    ``ds`` is the option's data (the scenario applied), ``base`` the baseline's: a setting
    in ``ds`` but not ``base`` is drawn as added, one in ``base`` but not ``ds`` (or with
    no places left) as closed. In publish mode the tooltips give no counts.
    """
    placed = (
        res.placements["setting_id"].value_counts() if res is not None else pd.Series(dtype="int64")
    )
    base_ids = (
        set(base.settings["setting_id"]) if base is not None else set(ds.settings["setting_id"])
    )
    offered = ds.places.groupby("setting_id")["places"].sum()
    settings = ds.settings.drop_duplicates("setting_id")
    lon, lat = lonlat_from_bng(
        settings["easting"].to_numpy(float), settings["northing"].to_numpy(float)
    )
    out: list[dict[str, Any]] = []
    for (_, row), x, y in zip(settings.iterrows(), lon, lat, strict=True):
        sid = str(row["setting_id"])
        n = int(placed.get(sid, 0))
        closed = float(offered.get(sid, 0.0)) <= 0 and n == 0
        kind = (
            "new" if sid not in base_ids else ("closed" if closed else _kind(row["setting_type"]))
        )
        label = f"{row['name']} ({row['setting_type'].replace('_', ' ')})"
        tip = label if publish else f"{label}: {n} children placed"
        out.append(
            {
                "id": sid,
                "kind": "new" if kind == "new" else "setting",
                "lat": round(float(y), 5),
                "lon": round(float(x), 5),
                "r": 5 + 2.2 * float(np.sqrt(n)) if not publish else 7,
                "color": COLOURS[kind],
                "tip": tip,
                "selected": sid == selected,
                "fit": bool(row.get("in_area", True)),
            }
        )
    cand = ds.candidates
    if cand is not None and len(cand):
        lon, lat = lonlat_from_bng(
            cand["easting"].to_numpy(float), cand["northing"].to_numpy(float)
        )
        for (_, row), x, y in zip(cand.iterrows(), lon, lat, strict=True):
            out.append(
                {
                    "id": str(row["site_id"]),
                    "kind": "candidate",
                    "lat": round(float(y), 5),
                    "lon": round(float(x), 5),
                    "r": 4,
                    "color": COLOURS["candidate"],
                    "stroke": "#08519c",
                    "tip": f"{row['name']}: candidate site (packages {_packages(row['packages'])})",
                    "selected": str(row["site_id"]) == selected,
                    "fit": True,
                }
            )
    return out


def pick(points: list[dict[str, Any]], *, key: str, height: int = 520) -> dict[str, Any] | None:
    """Mount the map; the last click's ``{"id", "kind"}``, or None before any click."""
    value = _component()(points=points, legend=LEGEND, height=height, key=key, default=None)
    return value if isinstance(value, dict) else None
