"""Map layers: ward choropleths, change by ward, context, settings, journeys, sites.

Each layer is a GeoJson of *exactly* the columns it shows (folium embeds every
property in the page), styled per feature, with a legend shown while it is on.
Figures come from :mod:`optimiser.maps.ward_figures`, disclosure-controlled in publish
mode; classes are built from the figures as shown.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from typing import Protocol, cast

import folium
import geopandas as gpd
import pandas as pd

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.disclosure import SUPPRESSED
from optimiser.maps.classes import (
    NO_DATA_COLOUR,
    SUPPRESSED_COLOUR,
    Classes,
    change_classes,
    palette,
    sequential_classes,
)
from optimiser.maps.furniture import Script, add_legend, js_text
from optimiser.maps.geometry import la_outline, points_frame, ward_points, ward_shapes
from optimiser.maps.proposals import PROPOSAL_KINDS
from optimiser.maps.setting_figures import (
    SETTING_GROUPS,
    candidate_figures,
    chosen_site_figures,
    setting_figures,
)
from optimiser.maps.ward_figures import change_figures, flow_figures, ward_figures
from optimiser.reports.release import Release
from optimiser.siting.plan import SitingResult

# (column, layer title, number format, colour scheme); the first is shown on opening
WARD_LAYERS = (
    ("inmss_children", "INMSS reliance: children placed in INMSS", "count", "YlOrRd"),
    ("inmss_share_pct", "INMSS reliance: % of placed children", "pct", "YlOrRd"),
    ("transport_gbp_per_child", "Transport cost per placed child (£/yr)", "gbp", "PuBu"),
    ("unplaced_children", "Unplaced children (no suitable place)", "count", "Purples"),
    ("mean_travel_min", "Mean journey time (min)", "min", "YlGnBu"),
)
CHANGE_LAYERS = (  # (column, what, format, the figure it is the change of)
    ("inmss_children_change", "change in INMSS children", "count", "inmss_children"),
    ("inmss_share_change_pct", "change in INMSS share (% points)", "pct", "inmss_share_pct"),
    (
        "transport_gbp_per_child_change",
        "change in transport £ per child",
        "gbp",
        "transport_gbp_per_child",
    ),
)
UTILISATION = ((50, "under 50%"), (80, "50-79%"), (95, "80-94%"), (float("inf"), "95% or more"))
ALIASES = {
    "ward_name": "Ward",
    "spp_children": "Children with an SPP",
    "placed_children": "Placed",
    "inmss_children": "Placed in INMSS",
    "unplaced_children": "Unplaced",
    "inmss_share_pct": "INMSS share (%)",
    "transport_gbp_per_child": "Transport £ per child",
    "mean_travel_min": "Mean journey (min)",
    "name": "Name",
    "type_label": "Type",
    "urn": "URN",
    "packages": "Packages",
    "places": "Places for these packages",
    "capacity": "Capacity (all pupils)",
    "cost_per_place": "Cost per place (£/yr)",
    "filled_children": "Children placed here",
    "utilisation_pct": "Places used (%)",
    "placement_cost_gbp": "Cost of placements (£/yr)",
    "setting_name": "Setting",
    "travelling_children": "Children",
    "site_id": "Site",
    "max_places": "Up to places",
    "inmss_children_change": "Change in INMSS children",
    "inmss_share_change_pct": "Change in INMSS share (% points)",
    "transport_gbp_per_child_change": "Change in transport £ per child",
    "base_inmss_children": "INMSS children, baseline",
    "option_inmss_children": "… option",
    "base_inmss_share_pct": "INMSS share %, baseline",
    "option_inmss_share_pct": "… option",
    "base_transport_gbp_per_child": "Transport £/child, baseline",
    "option_transport_gbp_per_child": "… option",
}


def _fmt(kind: str, *, signed: bool = False):
    sign = "+" if signed else ""
    return {
        "count": lambda v: f"{v:{sign},.0f}",
        "pct": lambda v: f"{v:{sign}g}%",
        "gbp": lambda v: f"{'-' if v < 0 else sign}£{abs(v):,.0f}",
        "min": lambda v: f"{v:{sign}g}",
    }[kind]


def _class_style(classes: Classes, base: dict) -> list[dict]:
    colours = {-1: SUPPRESSED_COLOUR, -2: NO_DATA_COLOUR}
    return [{**base, "fillColor": colours.get(c) or classes.colours[c]} for c in classes.codes]


def _geojson(
    frame: gpd.GeoDataFrame,
    styles: list[dict],
    *,
    name: str,
    show: bool,
    pane: str,
    tooltip: list[str] | None = None,
    popup: list[str] | None = None,
    marker: bool = False,
) -> folium.GeoJson:
    """A GeoJson layer of *exactly* the columns given (plus geometry) and per-row styles."""
    keep = list(dict.fromkeys([*(tooltip or []), *(popup or [])]))
    data = frame[[*keep, "geometry"]].reset_index(drop=True).copy()
    for col in keep:  # Leaflet puts tooltip and popup values in the page as HTML
        data[col] = _inert(data[col])
    data.insert(0, "fid", [f"f{i}" for i in range(len(data))])
    if marker:  # folium drops `pane` from CircleMarker options; the style carries it
        styles = [{**style, "pane": pane} for style in styles]
    by_id = dict(zip(data["fid"], styles, strict=True))
    tip = (
        folium.GeoJsonTooltip(tooltip, aliases=_aliases(tooltip), localize=True, sticky=True)
        if tooltip
        else None
    )
    pop = folium.GeoJsonPopup(popup, aliases=_aliases(popup), localize=True) if popup else None
    return folium.GeoJson(
        json.loads(data.to_json(drop_id=True)),
        name=html.escape(name),  # the layer control shows names as HTML
        show=show,
        pane=pane,
        style_function=lambda f: by_id[f["properties"]["fid"]],
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=tip,
        popup=pop,
        marker=folium.CircleMarker() if marker else None,
    )


def _inert(values: pd.Series) -> pd.Series:
    """``values`` with every text value HTML-escaped (numbers and blanks as they are)."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    return values.map(lambda v: html.escape(v) if isinstance(v, str) else v)


def _aliases(fields: list[str]) -> list[str]:
    """The headings of ``fields`` in a tooltip or popup, HTML-escaped (shown as HTML)."""
    return [html.escape(ALIASES.get(f, f)) for f in fields]


def add_ward_layers(m: folium.Map, ds: Dataset, table: pd.DataFrame, *, publish: bool) -> None:
    """One choropleth per :data:`WARD_LAYERS` entry, of the ward figures ``table``."""
    shapes = ward_shapes(ds).merge(table, on=["ward_code", "ward_name"], how="left")
    for i, (col, title, kind, scheme) in enumerate(WARD_LAYERS):
        classes = sequential_classes(shapes[col], scheme=scheme, fmt=_fmt(kind))
        base = (
            "placed_children"
            if col not in ("spp_children", "unplaced_children")
            else "spp_children"
        )
        layer = _geojson(
            shapes,
            _class_style(classes, {"color": "#555", "weight": 1, "fillOpacity": 0.75}),
            name=title,
            show=i == 0,
            pane="wards",
            tooltip=list(dict.fromkeys(["ward_name", col, base])),
        )
        layer.add_to(m)
        add_legend(m, layer, title, _class_rows(classes, publish))


def _class_rows(classes: Classes, publish: bool, cls: str = "") -> list[tuple[str, str, str]]:
    rows = [(c, label, cls) for c, label in zip(classes.colours, classes.labels, strict=True)]
    if (classes.codes == -1).any() or publish:
        rows.append(
            (SUPPRESSED_COLOUR, "c: 1-7 children, or withheld to protect such a count", cls)
        )
    if (classes.codes == -2).any():
        rows.append((NO_DATA_COLOUR, "no figure (no children)", cls))
    return rows


def add_change_layers(
    m: folium.Map,
    ds: Dataset,
    table: pd.DataFrame,
    compare: Mapping[str, AllocationResult],
    *,
    publish: bool,
    release: Release | None = None,
) -> None:
    """For each option in ``compare``, the change by ward against ``table`` (the baseline).

    Publish mode: each option's figures are its own in ``release`` (which must hold it).
    """
    shapes = ward_shapes(ds)
    for name, other in compare.items():
        figures = ward_figures(ds, other, publish=publish, release=release, scenario=name)
        change = change_figures(table, figures)
        data = shapes.merge(change, on=["ward_code", "ward_name"], how="left")
        for col, what, kind, of in CHANGE_LAYERS:
            classes = change_classes(data[col], fmt=_fmt(kind, signed=True))
            title = f"{name}: {what}"
            layer = _geojson(
                data,
                _class_style(classes, {"color": "#555", "weight": 1, "fillOpacity": 0.8}),
                name=title,
                show=False,
                pane="wards",
                tooltip=["ward_name", col, f"base_{of}", f"option_{of}"],
            )
            layer.add_to(m)
            add_legend(m, layer, f"{title} (option − baseline)", _class_rows(classes, publish))


class _WardPoint(Protocol):
    """A row of :func:`ward_points` (pandas-stubs types itertuples fields broadly)."""

    ward_name: str
    lon: float
    lat: float


def add_context(m: folium.Map, ds: Dataset) -> None:
    """Ward and LA boundaries and ward names, as context (not interactive)."""
    group = folium.FeatureGroup(name="Ward and LA boundaries", show=True)
    wards = ward_shapes(ds)[["ward_name", "geometry"]]
    _boundary(wards, {"color": "#7f8c8d", "weight": 1, "fill": False}).add_to(group)
    outline = la_outline(ds)[["geometry"]]
    _boundary(outline, {"color": "#17202a", "weight": 3, "fill": False}).add_to(group)
    group.add_to(m)
    labels = folium.FeatureGroup(name="Ward names", show=True)
    for row in cast(Iterator[_WardPoint], ward_points(ds).itertuples()):
        folium.Marker(
            [row.lat, row.lon],
            interactive=False,
            icon=folium.DivIcon(
                html=f"<div>{html.escape(row.ward_name)}</div>",
                class_name="ward-label",
                icon_size=(120, 14),
                icon_anchor=(60, 7),
            ),
        ).add_to(labels)
    labels.add_to(m)


def _boundary(frame: gpd.GeoDataFrame, style: dict) -> folium.GeoJson:
    """Lines of boundaries, for context only (not interactive)."""
    return folium.GeoJson(
        json.loads(frame.to_json(drop_id=True)),
        pane="context",
        interactive=False,
        style_function=lambda f: style,
    )


def _utilisation_class(v: float | str) -> int:
    if v == SUPPRESSED:
        return -1
    return next(i for i, (upper, _) in enumerate(UTILISATION) if float(v) < upper)


def add_setting_layers(
    m: folium.Map,
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool,
    release: Release | None = None,
    prefix: str = "",
    show: bool = True,
) -> list[folium.GeoJson]:
    """Settings by group, sized by places and coloured by the share of places used.

    With a ``prefix`` ("Option: …") these are an option's settings (``ds`` the option's
    dataset, ``res`` its allocation): in publish mode they show places only, since the
    release publishes the baseline's settings alone. Returns the layers drawn.
    """
    counts = not (publish and prefix)
    if counts:
        st = setting_figures(ds, res, publish=publish, release=release)
    else:  # an option's settings in publish mode: public details and places, no children
        st = setting_figures(ds, res, publish=False).drop(
            columns=["filled_children", "utilisation_pct", "placement_cost_gbp"]
        )
    st = points_frame(st)
    colours = palette("RdPu", len(UTILISATION))  # apart from the ward palettes
    fields = [
        "name",
        "type_label",
        "urn",
        "packages",
        "places",
        "capacity",
        "cost_per_place",
        *(["filled_children", "utilisation_pct"] if counts else []),
        *([] if publish else ["placement_cost_gbp"]),
    ]
    layers = []
    for key, (label, outline) in SETTING_GROUPS.items():
        mine = st[st["group"] == key]
        if mine.empty:
            continue
        fills = (
            [
                SUPPRESSED_COLOUR if (c := _utilisation_class(u)) < 0 else colours[c]
                for u in mine["utilisation_pct"]
            ]
            if counts
            else ["#ffffff"] * len(mine)
        )
        styles = [
            {
                "radius": round(3 + 1.6 * float(p) ** 0.5, 1),
                "color": outline,
                "weight": 2,
                "fill": True,
                "fillOpacity": 0.9,
                "fillColor": fill,
            }
            for p, fill in zip(mine["places"], fills, strict=True)
        ]
        layer = _geojson(
            mine,
            styles,
            name=f"{prefix}Settings: {label} ({len(mine)})",
            show=show,
            pane="settings",
            tooltip=["name", "filled_children", "places"] if counts else ["name", "places"],
            popup=fields,
            marker=True,
        )
        layer.add_to(m)
        layers.append(layer)
    if layers:
        rows = [(c, label, "dot") for c, (_, label) in zip(colours, UTILISATION, strict=True)]
        rows.append(
            (SUPPRESSED_COLOUR, "c: 1-7 children placed, or withheld to protect one", "dot")
            if publish
            else ("#ffffff", "size: places; outline: setting group", "dot")
        )
        title = f"{prefix}Settings: places used" + (" (from the rounded count)" if publish else "")
        if not counts:
            rows = [("#ffffff", "size: places; outline: setting group", "dot")]
            title = f"{prefix}Settings: places (children placed are not published by setting)"
        add_legend(m, layers[0], title, rows)
    return layers


def add_proposals(
    m: folium.Map,
    name: str,
    proposals: pd.DataFrame,
    *,
    publish: bool,
    centre_lon: float | None = None,
) -> folium.FeatureGroup | None:
    """The settings an option adds, expands, reduces or closes, each marked and labelled.

    ``proposals`` is :func:`optimiser.maps.proposals.proposal_figures`. Shown on
    opening, above every other layer; each marker carries its label ("Stretford High
    School autism base: +16 SPP3 places (new base)") and a popup of the change.
    Children placed at a setting are shown in working mode only. A label east of
    ``centre_lon`` (the LA's middle) reads to the left of its marker, clear of the
    layer control.
    """
    if proposals.empty:
        return None
    kinds = proposals["kind"].value_counts()
    what = ", ".join(f"{int(kinds[k])} {k}" for k in PROPOSAL_KINDS if k in kinds)
    group = folium.FeatureGroup(
        name=html.escape(f"Option: {name}: proposed changes ({len(proposals)}: {what})"),
        show=True,
    )
    scripts: list[str] = []
    for row in proposals.to_dict("records"):
        symbol, colour, _ = PROPOSAL_KINDS[str(row["kind"])]
        label = f"{row['name']}: {row['change']}"
        side = " left" if centre_lon is not None and float(row["lon"]) > centre_lon else ""
        details = [
            ("Option", name),
            ("Setting", str(row["name"])),
            ("Change", str(row["change"])),
            ("Places before", f"{int(row['places_before']):,}"),
            ("Places after", f"{int(row['places_after']):,}"),
        ]
        if row["capital_cost_gbp"]:
            details.append(("Capital", f"£{float(row['capital_cost_gbp']):,.0f}"))
        if not publish and "option_children" in row:
            details.append(("Children placed here (option)", f"{int(row['option_children']):,}"))
        popup = "<table>" + "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in details
        )
        marker = folium.Marker(
            [row["lat"], row["lon"]],
            icon=folium.DivIcon(
                html=(
                    f'<div class="optimiser-proposal {html.escape(str(row["kind"]))}">'
                    f'<span class="sym" style="background:{colour}">{symbol}</span>'
                    f'<span class="lbl{side}">{html.escape(label)}</span></div>'
                ),
                class_name="optimiser-proposal-icon",
                icon_size=(22, 22),
                icon_anchor=(11, 11),
            ),
        )
        marker.add_to(group)
        # bound here, not with folium's Popup / Tooltip: those put the text in a JS template
        # literal (and the popup needs jQuery); this is a plain string of escaped HTML
        scripts.append(
            f"{marker.get_name()}.bindPopup({js_text(popup + '</table>')}, {{maxWidth: 320}});"
            f"{marker.get_name()}.bindTooltip({js_text(html.escape(label))});"
        )
    group.add_to(m)
    Script("\n".join(scripts), m).add_to(m)
    rows = [
        (colour, f"{symbol} {text}", "dot")
        for kind, (symbol, colour, text) in PROPOSAL_KINDS.items()
        if kind in kinds
    ]
    add_legend(m, cast(folium.map.Layer, group), f"Option: {name}: proposed changes", rows)
    return group


def add_flows(m: folium.Map, ds: Dataset, res: AllocationResult, *, publish: bool) -> None:
    """Lines from wards to settings, width by children travelling (hidden on opening)."""
    flows = flow_figures(ds, res, publish=publish)
    if flows.empty:
        return
    n = pd.to_numeric(flows["travelling_children"])
    styles = [
        {
            "color": "#34495e",
            "opacity": round(min(0.25 + 0.06 * float(v), 0.85), 2),
            "weight": round(0.5 + float(v) ** 0.5, 1),
        }
        for v in n
    ]
    layer = _geojson(
        flows,
        styles,
        name="Journeys: ward → setting",
        show=False,
        pane="flows",
        tooltip=["ward_name", "setting_name", "travelling_children"],
    )
    layer.add_to(m)
    note = "lines for 8 or more children only" if publish else "width by children"
    rows = [
        ("#34495e", f"{v:,.0f} {'child' if v == 1 else 'children'}", "line")
        for v in sorted({n.min(), n.max()})
    ]
    add_legend(m, layer, f"Journeys ward → setting ({note})", rows)


def add_sites(m: folium.Map, ds: Dataset, siting: SitingResult) -> None:
    """Candidate sites (``ds.candidates``) and the sites ``siting`` chose."""
    sites = getattr(siting, "sites", None)
    if not isinstance(sites, pd.DataFrame):
        msg = "siting must have a `sites` DataFrame (site_id, name, easting, northing, places)"
        raise TypeError(msg)
    if ds.candidates is not None and len(ds.candidates):
        cand = points_frame(candidate_figures(ds))
        layer = _geojson(
            cand,
            [
                {
                    "radius": 5,
                    "color": "#555",
                    "weight": 1.5,
                    "fill": True,
                    "fillColor": "#fff",
                    "fillOpacity": 0.6,
                }
            ]
            * len(cand),
            name=f"Candidate inclusion-base sites ({len(cand)})",
            show=False,
            pane="sites",
            tooltip=["name", "packages", "max_places"],
            marker=True,
        )
        layer.add_to(m)
        add_legend(m, layer, "Candidate sites", [("#ffffff", "possible inclusion base", "dot")])
    chosen = points_frame(chosen_site_figures(sites))
    if len(chosen):
        fields = [c for c in chosen.columns if c not in ("geometry", "lon", "lat")]
        styles = [
            {
                "radius": round(5 + 1.6 * float(p) ** 0.5, 1),
                "color": "#0b5345",
                "weight": 3,
                "fill": True,
                "fillColor": "#2ecc71",
                "fillOpacity": 0.9,
            }
            for p in chosen["places"]
        ]
        layer = _geojson(
            chosen,
            styles,
            name=f"Chosen inclusion-base sites ({len(chosen)})",
            show=True,
            pane="sites",
            tooltip=["name", "places"],
            popup=fields,
            marker=True,
        )
        layer.add_to(m)
        add_legend(
            m, layer, "Chosen sites", [("#2ecc71", "new inclusion base (size: places)", "dot")]
        )
