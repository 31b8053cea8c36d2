"""Map page furniture: the mode banner, the about box, attribution, title, and legends.

The banner says which mode the map is in (working or publish); the about box
gives the whole-LA headline figures (:func:`optimiser.maps.ward_figures.la_figures`,
disclosure-controlled in publish mode). Each legend is a Leaflet control shown
while its layer is on.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.maps.ward_figures import la_figures
from optimiser.reports.release import Release

BANNERS = {
    "working": ("WORKING — contains unpublished figures (OFFICIAL-SENSITIVE, not for publication)"),
    "publish": (
        "PUBLISH — disclosure-controlled: counts of 1-7 children, and counts from which "
        "one could be worked out, shown as c; other counts rounded to the nearest 5"
    ),
}


class Script(MacroElement):
    """JavaScript run after the map exists; ``{map}`` in the code is the map variable."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str, m: folium.Map):
        super().__init__()
        self.code = code.replace("{map}", m.get_name())


def js_text(text: str) -> str:
    """``text`` as a JavaScript string literal safe inside ``<script>`` (no ``<``, ``>``, ``&``,
    nor ``{``, which :class:`Script` would read as its ``{map}`` placeholder)."""
    literal = json.dumps(text, ensure_ascii=False)
    for char in "<>&{":
        literal = literal.replace(char, f"\\u{ord(char):04x}")
    return literal


def add_legend(
    m: folium.Map, layer: folium.map.Layer, title: str, rows: list[tuple[str, str, str]]
) -> None:
    """A legend control shown while ``layer`` is on; rows are (colour, label, swatch css class)."""
    items = "".join(
        f'<i class="{cls}" style="background:{c};{_swatch(cls, c)}"></i>{html.escape(label)}<br>'
        for c, label, cls in rows
    )
    body = json.dumps(f"<b>{html.escape(title)}</b>{items}", ensure_ascii=False)
    name, lyr = f"legend_{layer.get_name()}", layer.get_name()
    Script(
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


def add_furniture(
    m: folium.Map,
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool,
    release: Release | None = None,
    headlines: Mapping[str, list[tuple[str, str]]] | None = None,
) -> None:
    """The mode banner, the map's title and data notice, attribution, the about box of
    whole-LA figures (and each option's headline) and the page title."""
    mode = "publish" if publish else "working"
    figures = "".join(
        f"{html.escape(k)}: <b>{html.escape(v)}</b><br>"
        for k, v in la_figures(res, publish=publish, release=release)
    )
    for name, rows in (headlines or {}).items():
        figures += f"<b>Option: {html.escape(name)} (against the baseline)</b><br>" + "".join(
            f"{html.escape(k)}: <b>{html.escape(v)}</b><br>" for k, v in rows
        )
    about = json.dumps(
        f"<b>{html.escape(ds.area_name)} — whole LA, baseline</b><br>{figures}"
        + (
            "<i>c = 1-7 children, or withheld so that such a count cannot be worked out; "
            "counts rounded to the nearest 5.</i><br>"
            if publish
            else ""
        )
        + "No base map: ward and LA boundaries give the context.",
        ensure_ascii=False,
    )
    title = f"{ds.area_name}: placements map ({mode})"
    Script(
        f"""
    var banner = L.DomUtil.create('div', 'optimiser-banner {mode}', {{map}}.getContainer());
    banner.textContent = {json.dumps(BANNERS[mode], ensure_ascii=False)};
    L.DomEvent.disableClickPropagation(banner);
    var heading = L.control({{position: 'topleft'}});
    heading.onAdd = function () {{
        var div = L.DomUtil.create('div', 'optimiser-title');
        var h = L.DomUtil.create('b', '', div); h.textContent = {js_text(title)};
        var notice = {js_text(ds.data_notice)};
        if (notice) {{
            var p = L.DomUtil.create('div', 'optimiser-notice', div); p.textContent = notice;
        }}
        L.DomEvent.disableClickPropagation(div);
        return div;
    }};
    heading.addTo({{map}});
    {{map}}.attributionControl.setPrefix('Leaflet');
    {{map}}.attributionControl.addAttribution({
            json.dumps(html.escape(ds.credit), ensure_ascii=False)
        });
    var about = L.control({{position: 'bottomleft'}});
    about.onAdd = function () {{
        var div = L.DomUtil.create('div', 'optimiser-about'); div.innerHTML = {about}; return div;
    }};
    about.addTo({{map}});
    """,
        m,
    ).add_to(m)
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium Map always sits in a Figure
    root.header.add_child(Element(f"<title>{html.escape(title)}</title>"))


def add_view_switch(m: folium.Map, views: Mapping[str, Sequence[folium.map.Layer]]) -> None:
    """A control of radio buttons, one per view ("Baseline", "Option: …"): choosing one shows
    its layers and hides the other views' (before / after at one click). The layer control
    still switches each layer on its own. Names are set as text, never as HTML."""
    if len(views) < 2:
        return
    js_views = (
        "["
        + ",".join(
            f"[{js_text(label)}, [{','.join(v.get_name() for v in layers)}]]"
            for label, layers in views.items()
        )
        + "]"
    )
    Script(
        f"""
    var views = {js_views};
    var viewSwitch = L.control({{position: 'topright'}});
    viewSwitch.onAdd = function () {{
        var div = L.DomUtil.create('div', 'optimiser-views');
        var head = L.DomUtil.create('b', '', div); head.textContent = 'Settings shown';
        views.forEach(function (view, i) {{
            var row = L.DomUtil.create('label', '', div);
            var input = L.DomUtil.create('input', '', row);
            input.type = 'radio'; input.name = 'optimiser-view'; input.checked = i === 0;
            input.value = String(i);
            row.appendChild(document.createTextNode(' ' + view[0]));
            L.DomEvent.on(input, 'change', function () {{
                views.forEach(function (other, j) {{
                    other[1].forEach(function (layer) {{
                        if (j === i) {{ layer.addTo({{map}}); }}
                        else {{ {{map}}.removeLayer(layer); }}
                    }});
                }});
            }});
        }});
        L.DomEvent.disableClickPropagation(div);
        return div;
    }};
    viewSwitch.addTo({{map}});
    """,
        m,
    ).add_to(m)
