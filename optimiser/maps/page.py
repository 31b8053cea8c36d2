"""The map's HTML page: vendored assets inlined (offline), stable element ids, the file.

Leaflet and the full-screen plugin are vendored, pinned, under the
repository's ``maps/vendor/`` (installed as ``optimiser/_maps``) and their
text is inlined into the page, with each relative ``url(...)`` in their CSS
turned into a data: URL; folium's CDN lists are emptied. The page is rendered
with folium's random element ids replaced by stable ones, so the same map
gives the same bytes.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from importlib import resources
from pathlib import Path
from typing import cast

import folium
import jinja2
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

from optimiser._outputs import check_outputs, write_text_output

VENDOR_JS = ("leaflet-1.9.4/leaflet.js", "leaflet.fullscreen-3.0.0/Control.FullScreen.js")
VENDOR_CSS = ("leaflet-1.9.4/leaflet.css", "leaflet.fullscreen-3.0.0/Control.FullScreen.css")
OWN_CSS = "optimiser-map.css"  # banner, legends, about box, ward labels


def assets_dir() -> Path:
    """The map assets folder: the repository's ``maps/``, or ``optimiser/_maps`` when installed."""
    checkout = Path(__file__).resolve().parents[2] / "maps"
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


def inline_assets(m: folium.Map, plugins: list[JSCSSMixin]) -> None:
    """Put the vendored Leaflet and plugin text, and the own CSS, in the page; no CDN links."""
    for element in (m, *plugins):
        element.default_js, element.default_css = [], []  # no CDN links
    root, assets = cast(Figure, m.get_root()), assets_dir()  # a Map's root is its Figure
    for rel in VENDOR_CSS:
        root.header.add_child(_Inline("style", _css_with_data_urls(assets / "vendor" / rel)))
    root.header.add_child(_Inline("style", (assets / OWN_CSS).read_text(encoding="utf-8")))
    for rel in VENDOR_JS:
        root.header.add_child(
            _Inline("script", (assets / "vendor" / rel).read_text(encoding="utf-8"))
        )


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
    """Write the map to ``path`` (UTF-8 HTML) atomically; refuses to overwrite an existing file."""
    path = Path(path)
    check_outputs(path)
    return write_text_output(path, render_html(m))
