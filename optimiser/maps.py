"""Folium maps of an allocation: offline, in working or publish mode.

``map_allocation(ds, res)`` draws, each as a layer in a layer control and with
a legend that shows while its layer is on:

* settings by group (special, inclusion base, INMSS, post-16, out of area),
  sized by places and coloured by utilisation, with popups;
* ward choropleths (mapclassify classes): INMSS reliance (children and share),
  transport cost per child, unplaced children, mean journey time;
* flows from wards to settings (one line per ward × setting, width by children);
* candidate and chosen inclusion-base sites when a siting result is given;
* with ``compare``, the change by ward in INMSS reliance and transport cost
  for each option against the baseline;
* ward and LA boundaries as context, a scale bar, full screen, a banner saying
  which mode the map is in.

**Offline.** Leaflet and the full-screen plugin are vendored, pinned, under
the repository's ``maps/vendor/`` (installed as ``optimiser/_maps``) and their
text is inlined into the page; folium's CDN lists are emptied. Base tiles are
off unless ``tiles=True``; the map reads on ward boundaries alone.

**Publish mode** (``publish=True``): no child-level data at all; every count is
disclosure-controlled (:mod:`optimiser.disclosure`) and named ``*_children``;
only the columns a layer shows reach folium (folium embeds every GeoJSON
property in the page). Figures come from :mod:`optimiser.map_data`.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import folium
import jinja2
import pandas as pd
from branca.element import Element, MacroElement
from folium.plugins import Fullscreen
from folium.template import Template

from optimiser import map_data as md
from optimiser._outputs import refuse_existing
from optimiser.allocation import AllocationResult
from optimiser.datamodel import Dataset

VENDOR_JS = ("leaflet-1.9.4/leaflet.js", "leaflet.fullscreen-3.0.0/Control.FullScreen.js")
VENDOR_CSS = ("leaflet-1.9.4/leaflet.css", "leaflet.fullscreen-3.0.0/Control.FullScreen.css")
OWN_CSS = "optimiser-map.css"  # banner, legends, about box, ward labels
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence "
    "v3.0. Contains National Statistics and OS data © Crown copyright and database "
    "right [2023-2025]."
)
BANNERS = {
    "working": ("WORKING — contains unpublished figures (OFFICIAL-SENSITIVE, not for publication)"),
    "publish": (
        "PUBLISH — disclosure-controlled: counts of 1-7 children shown as c, other "
        "counts rounded to the nearest 5, figures based on 1-7 children withheld"
    ),
}
PANES = (
    ("context", 405, False),
    ("wards", 410, True),
    ("flows", 420, True),
    ("sites", 430, True),
    ("settings", 440, True),
)
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


# ---------------------------------------------------------------- offline assets


def assets_dir() -> Path:
    """The map assets folder: the repository's ``maps/``, or ``optimiser/_maps`` when installed."""
    checkout = Path(__file__).resolve().parent.parent / "maps"
    if (checkout / "vendor" / VENDOR_JS[0]).exists():
        return checkout
    installed = Path(str(resources.files("optimiser") / "_maps"))
    if (installed / "vendor" / VENDOR_JS[0]).exists():
        return installed
    msg = (
        "the vendored map assets (maps/vendor/) were not found; reinstall optimiser from a "
        "full clone so maps/ is packaged as optimiser/_maps"
    )
    raise FileNotFoundError(msg)


class _Inline(Element):
    """A ``<script>`` or ``<style>`` holding an asset's text (never a link to it)."""

    _template = jinja2.Template("<{{ this.tag }}>{{ this.text }}</{{ this.tag }}>")

    def __init__(self, tag: str, text: str):
        super().__init__()
        self.tag = tag
        self.text = text.replace(f"</{tag}", f"<\\/{tag}")


def _css_with_data_urls(path: Path) -> str:
    """CSS text with each relative ``url(...)`` replaced by a data: URL of that file."""

    def embed(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = path.parent / ref
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return f'url("data:{kind};base64,{base64.b64encode(target.read_bytes()).decode()}")'

    return re.sub(r"url\(([^)]*)\)", embed, path.read_text(encoding="utf-8"))


def _inline_assets(m: folium.Map, plugins: list[MacroElement]) -> None:
    for element in (m, *plugins):
        element.default_js, element.default_css = [], []  # no CDN links
    root, assets = m.get_root(), assets_dir()
    for rel in VENDOR_CSS:
        root.header.add_child(_Inline("style", _css_with_data_urls(assets / "vendor" / rel)))
    root.header.add_child(_Inline("style", (assets / OWN_CSS).read_text(encoding="utf-8")))
    for rel in VENDOR_JS:
        root.header.add_child(
            _Inline("script", (assets / "vendor" / rel).read_text(encoding="utf-8"))
        )


# ---------------------------------------------------------------- page furniture


class _Script(MacroElement):
    """JavaScript run after the map exists; ``{map}`` in the code is the map variable."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str, m: folium.Map):
        super().__init__()
        self.code = code.replace("{map}", m.get_name())


def _legend(
    m: folium.Map, layer: folium.map.Layer, title: str, rows: list[tuple[str, str, str]]
) -> None:
    """A legend control shown while ``layer`` is on; rows are (colour, label, swatch css class)."""
    items = "".join(
        f'<i class="{cls}" style="background:{c};{_swatch(cls, c)}"></i>{html.escape(label)}<br>'
        for c, label, cls in rows
    )
    body = json.dumps(f"<b>{html.escape(title)}</b>{items}", ensure_ascii=False)
    name, lyr = f"legend_{layer.get_name()}", layer.get_name()
    _Script(
        f"""
    var {name} = L.control({{position: 'bottomright'}});
    {name}.onAdd = function () {{
        var div = L.DomUtil.create('div', 'optimiser-legend'); div.innerHTML = {body}; return div;
    }};
    {{map}}.on('overlayadd', function (e) {{ if (e.layer === {lyr}) {name}.addTo({{map}}); }});
    {{map}}.on('overlayremove', function (e) {{ if (e.layer === {lyr}) {name}.remove(); }});
    if ({{map}}.hasLayer({lyr})) {{ {name}.addTo({{map}}); }}
    """,
        m,
    ).add_to(m)


def _swatch(cls: str, colour: str) -> str:
    return f"border-top-color:{colour}" if cls == "line" else ""


def _furniture(m: folium.Map, ds: Dataset, res: AllocationResult, *, publish: bool) -> None:
    mode = "publish" if publish else "working"
    figures = "".join(
        f"{html.escape(k)}: <b>{html.escape(v)}</b><br>"
        for k, v in md.la_figures(res, publish=publish)
    )
    about = json.dumps(
        f"<b>{html.escape(ds.name)} — whole LA</b><br>{figures}"
        + (
            "<i>c = 1-7 children (suppressed); counts rounded to the nearest 5.</i><br>"
            if publish
            else ""
        )
        + "No base map: ward and LA boundaries give the context.",
        ensure_ascii=False,
    )
    _Script(
        f"""
    var banner = L.DomUtil.create('div', 'optimiser-banner {mode}', {{map}}.getContainer());
    banner.textContent = {json.dumps(BANNERS[mode], ensure_ascii=False)};
    L.DomEvent.disableClickPropagation(banner);
    {{map}}.attributionControl.setPrefix('Leaflet');
    {{map}}.attributionControl.addAttribution({
            json.dumps(html.escape(ATTRIBUTION), ensure_ascii=False)
        });
    var about = L.control({{position: 'bottomleft'}});
    about.onAdd = function () {{
        var div = L.DomUtil.create('div', 'optimiser-about'); div.innerHTML = {about}; return div;
    }};
    about.addTo({{map}});
    """,
        m,
    ).add_to(m)
    title = f"{ds.name}: placements map ({mode})"
    m.get_root().header.add_child(Element(f"<title>{html.escape(title)}</title>"))


# ---------------------------------------------------------------- layers


def _fmt(kind: str, *, signed: bool = False):
    sign = "+" if signed else ""
    return {
        "count": lambda v: f"{v:{sign},.0f}",
        "pct": lambda v: f"{v:{sign}g}%",
        "gbp": lambda v: f"{'-' if v < 0 else sign}£{abs(v):,.0f}",
        "min": lambda v: f"{v:{sign}g}",
    }[kind]


def _class_style(classes: md.Classes, base: dict) -> list[dict]:
    colours = {-1: md.SUPPRESSED_COLOUR, -2: md.NO_DATA_COLOUR}
    return [{**base, "fillColor": colours.get(c) or classes.colours[c]} for c in classes.codes]


def _geojson(
    frame: pd.DataFrame,
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
    data.insert(0, "fid", [f"f{i}" for i in range(len(data))])
    if marker:  # folium drops `pane` from CircleMarker options; the style carries it
        styles = [{**style, "pane": pane} for style in styles]
    by_id = dict(zip(data["fid"], styles, strict=True))
    tip = (
        folium.GeoJsonTooltip(
            tooltip, aliases=[ALIASES.get(f, f) for f in tooltip], localize=True, sticky=True
        )
        if tooltip
        else None
    )
    pop = (
        folium.GeoJsonPopup(popup, aliases=[ALIASES.get(f, f) for f in popup], localize=True)
        if popup
        else None
    )
    return folium.GeoJson(
        json.loads(data.to_json(drop_id=True)),
        name=name,
        show=show,
        pane=pane,
        style_function=lambda f: by_id[f["properties"]["fid"]],
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=tip,
        popup=pop,
        marker=folium.CircleMarker() if marker else None,
    )


def _ward_layers(m: folium.Map, ds: Dataset, table: pd.DataFrame, *, publish: bool) -> None:
    shapes = md.ward_shapes(ds).merge(table, on=["ward_code", "ward_name"], how="left")
    for i, (col, title, kind, scheme) in enumerate(WARD_LAYERS):
        classes = md.sequential_classes(shapes[col], scheme=scheme, fmt=_fmt(kind))
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
        _legend(m, layer, title, _class_rows(classes, publish))


def _class_rows(classes: md.Classes, publish: bool, cls: str = "") -> list[tuple[str, str, str]]:
    rows = [(c, label, cls) for c, label in zip(classes.colours, classes.labels, strict=True)]
    if (classes.codes == -1).any() or publish:
        rows.append((md.SUPPRESSED_COLOUR, "c: based on 1-7 children (withheld)", cls))
    if (classes.codes == -2).any():
        rows.append((md.NO_DATA_COLOUR, "no figure (no children)", cls))
    return rows


def _change_layers(
    m: folium.Map,
    ds: Dataset,
    table: pd.DataFrame,
    compare: Mapping[str, AllocationResult],
    *,
    publish: bool,
) -> None:
    shapes = md.ward_shapes(ds)
    for name, other in compare.items():
        change = md.change_figures(table, md.ward_figures(ds, other, publish=publish))
        data = shapes.merge(change, on=["ward_code", "ward_name"], how="left")
        for col, what, kind, of in CHANGE_LAYERS:
            classes = md.change_classes(data[col], fmt=_fmt(kind, signed=True))
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
            _legend(m, layer, f"{title} (option − baseline)", _class_rows(classes, publish))


def _context(m: folium.Map, ds: Dataset) -> None:
    group = folium.FeatureGroup(name="Ward and LA boundaries", show=True)
    wards = md.ward_shapes(ds)[["ward_name", "geometry"]]
    folium.GeoJson(
        json.loads(wards.to_json(drop_id=True)),
        pane="context",
        interactive=False,
        style_function=lambda f: {"color": "#7f8c8d", "weight": 1, "fill": False},
    ).add_to(group)
    outline = md.la_outline(ds)[["geometry"]]
    folium.GeoJson(
        json.loads(outline.to_json(drop_id=True)),
        pane="context",
        interactive=False,
        style_function=lambda f: {"color": "#17202a", "weight": 3, "fill": False},
    ).add_to(group)
    group.add_to(m)
    labels = folium.FeatureGroup(name="Ward names", show=True)
    for row in md.ward_points(ds).itertuples():
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


def _utilisation_class(v: object) -> int:
    if v == md.SUPPRESSED:
        return -1
    return next(i for i, (upper, _) in enumerate(UTILISATION) if float(v) < upper)


def _settings(m: folium.Map, ds: Dataset, res: AllocationResult, *, publish: bool) -> None:
    st = md.setting_figures(ds, res, publish=publish)
    st = md.points_frame(st)
    colours = md.palette("RdPu", len(UTILISATION))  # apart from the ward palettes
    fields = [
        "name",
        "type_label",
        "urn",
        "packages",
        "places",
        "capacity",
        "cost_per_place",
        "filled_children",
        "utilisation_pct",
    ] + ([] if publish else ["placement_cost_gbp"])
    first = None
    for key, (label, outline) in md.SETTING_GROUPS.items():
        mine = st[st["group"] == key]
        if mine.empty:
            continue
        styles = [
            {
                "radius": round(3 + 1.6 * float(p) ** 0.5, 1),
                "color": outline,
                "weight": 2,
                "fill": True,
                "fillOpacity": 0.9,
                "fillColor": md.SUPPRESSED_COLOUR
                if (c := _utilisation_class(u)) < 0
                else colours[c],
            }
            for p, u in zip(mine["places"], mine["utilisation_pct"], strict=True)
        ]
        layer = _geojson(
            mine,
            styles,
            name=f"Settings: {label} ({len(mine)})",
            show=True,
            pane="settings",
            tooltip=["name", "filled_children", "places"],
            popup=fields,
            marker=True,
        )
        layer.add_to(m)
        first = first or layer
    if first is not None:
        rows = [(c, label, "dot") for c, (_, label) in zip(colours, UTILISATION, strict=True)]
        rows.append(
            (md.SUPPRESSED_COLOUR, "c: 1-7 children placed", "dot")
            if publish
            else ("#ffffff", "size: places; outline: setting group", "dot")
        )
        title = "Settings: places used" + (" (from the rounded count)" if publish else "")
        _legend(m, first, title, rows)


def _flows(m: folium.Map, ds: Dataset, res: AllocationResult, *, publish: bool) -> None:
    flows = md.flow_figures(ds, res, publish=publish)
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
    _legend(m, layer, f"Journeys ward → setting ({note})", rows)


def _sites(m: folium.Map, ds: Dataset, siting: object) -> None:
    sites = getattr(siting, "sites", None)
    if not isinstance(sites, pd.DataFrame):
        msg = "siting must have a `sites` DataFrame (site_id, name, easting, northing, places)"
        raise TypeError(msg)
    if ds.candidates is not None and len(ds.candidates):
        cand = md.points_frame(md.candidate_figures(ds))
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
        _legend(m, layer, "Candidate sites", [("#ffffff", "possible inclusion base", "dot")])
    chosen = md.points_frame(md.chosen_site_figures(sites))
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
        _legend(m, layer, "Chosen sites", [("#2ecc71", "new inclusion base (size: places)", "dot")])


# ---------------------------------------------------------------- public API


def map_allocation(
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool = False,
    tiles: bool = False,
    siting: object | None = None,
    compare: object | None = None,
) -> folium.Map:
    """A self-contained folium map of an allocation (see the module docstring).

    Parameters
    ----------
    ds : the dataset ``res`` was solved on (the baseline when comparing).
    res : the allocation.
    publish : disclosure-controlled figures only, for members and committee packs.
    tiles : add an online base map (OpenStreetMap); off by default so the
        page works with no network.
    siting : an object with a ``sites`` DataFrame (site_id, name, easting,
        northing, places): chosen sites, shown with ``ds.candidates``.
    compare : a :class:`~optimiser.comparison.Comparison` (its options other
        than "baseline") or a mapping name → AllocationResult: adds, for each,
        the change by ward against ``res``.
    """
    m = folium.Map(location=None, tiles=None, control_scale=True, zoom_start=11)
    fullscreen = Fullscreen(position="topleft")
    _inline_assets(m, [fullscreen])
    fullscreen.add_to(m)
    for name, z, events in PANES:
        folium.map.CustomPane(name, z_index=z, pointer_events=events).add_to(m)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Base map (online)", control=False).add_to(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # mapclassify: "Numba not installed"
        if ds.wards is not None and len(ds.wards):
            table = md.ward_figures(ds, res, publish=publish)
            _ward_layers(m, ds, table, publish=publish)
            if compare is not None:
                _change_layers(m, ds, table, _options(compare, res), publish=publish)
            _context(m, ds)
            _flows(m, ds, res, publish=publish)
    if siting is not None:
        _sites(m, ds, siting)
    _settings(m, ds, res, publish=publish)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _furniture(m, ds, res, publish=publish)
    m.fit_bounds(md.bounds(ds))
    return m


def _options(compare: object, res: AllocationResult) -> dict[str, AllocationResult]:
    results = getattr(compare, "results", compare)
    if not isinstance(results, Mapping):
        msg = (
            "compare must be a Comparison (optimiser.compare_scenarios) or a mapping of "
            f"name → AllocationResult, not {type(compare).__name__}"
        )
        raise TypeError(msg)
    return {str(k): v for k, v in results.items() if k != "baseline" and v is not res}


def render_html(m: folium.Map) -> str:
    """The page as text, with folium's random element ids replaced by stable ones.

    Same inputs, same bytes (folium names each element with a random hex id).
    """
    text = m.get_root().render()
    ids: dict[str, str] = {}
    return re.sub(
        r"(?<=_)[0-9a-f]{32}(?![0-9a-f])",
        lambda mt: ids.setdefault(mt.group(0), f"{len(ids):032x}"),
        text,
    )


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map to ``path`` (UTF-8 HTML); refuses to overwrite an existing file."""
    path = Path(path)
    refuse_existing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(m), encoding="utf-8")
    return path
