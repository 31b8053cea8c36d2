"""Map page furniture: the mode banner, the about box, attribution, title, and legends.

The banner says which mode the map is in (working or publish); the about box
gives the whole-LA headline figures (:func:`optimiser.maps.ward_figures.la_figures`,
disclosure-controlled in publish mode). Each legend is a Leaflet control shown
while its layer is on.
"""

from __future__ import annotations

import html
import json

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


class _Script(MacroElement):
    """JavaScript run after the map exists; ``{map}`` in the code is the map variable."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str, m: folium.Map):
        super().__init__()
        self.code = code.replace("{map}", m.get_name())


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


def add_furniture(
    m: folium.Map,
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool,
    release: Release | None = None,
) -> None:
    """The mode banner, attribution, the about box of whole-LA figures and the page title."""
    mode = "publish" if publish else "working"
    figures = "".join(
        f"{html.escape(k)}: <b>{html.escape(v)}</b><br>"
        for k, v in la_figures(res, publish=publish, release=release)
    )
    about = json.dumps(
        f"<b>{html.escape(ds.name)} — whole LA</b><br>{figures}"
        + (
            "<i>c = 1-7 children, or withheld so that such a count cannot be worked out; "
            "counts rounded to the nearest 5.</i><br>"
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
    title = f"{ds.name}: placements map ({mode})"
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium Map always sits in a Figure
    root.header.add_child(Element(f"<title>{html.escape(title)}</title>"))
