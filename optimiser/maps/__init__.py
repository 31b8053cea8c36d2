"""Maps and the members' pack: self-contained offline HTML, working or publish mode.

:func:`map_allocation` (:mod:`~optimiser.maps.build`) puts together the layers
(:mod:`~.layers`), the page furniture (:mod:`~.furniture`) and the offline
page (:mod:`~.page`), from figures in :mod:`~.ward_figures` and
:mod:`~.setting_figures`, and an option's new, expanded and closed settings and its
headline from :mod:`~.proposals`; :mod:`~.pack` writes the members' pack.
"""

from __future__ import annotations

from optimiser.maps.build import map_allocation as map_allocation
from optimiser.maps.pack import summary_html as summary_html
from optimiser.maps.pack import write_pack as write_pack
from optimiser.maps.page import assets_dir as assets_dir
from optimiser.maps.page import render_html as render_html
from optimiser.maps.page import save_map as save_map

__all__ = ["assets_dir", "map_allocation", "render_html", "save_map", "summary_html", "write_pack"]
