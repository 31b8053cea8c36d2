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
  for each option against the baseline; when ``compare`` is a
  :class:`~optimiser.scenarios.compare.Comparison` (which holds each option's
  scenario), also the settings each option adds, expands or closes, marked and
  labelled ("+16 SPP3 places (new base)", "SPP4 57 → 81", "closed";
  :mod:`optimiser.maps.proposals`), the option's settings as layers of their own
  ("Option: <name> — Settings: …", with the option's counts) and a control to show
  the baseline's or an option's settings (before / after), and the option's
  headline (capital, revenue change, INMSS placements avoided, children newly placed)
  in the about box;
* ward and LA boundaries as context, a scale bar, full screen, a banner saying
  which mode the map is in.

**Offline.** Leaflet and the full-screen plugin are vendored, pinned, under
the repository's ``maps/vendor/`` (installed as ``optimiser/_maps``) and their
text is inlined into the page; folium's CDN lists are emptied. Base tiles are
off unless ``tiles=True``; the map reads on ward boundaries alone.

**Publish mode** (``publish=True``): no child-level data at all; every count is
disclosure-controlled (:mod:`optimiser.disclosure`) and named ``*_children``;
only the columns a layer shows reach folium (folium embeds every GeoJSON
property in the page). Figures come from :mod:`optimiser.maps.ward_figures`.

The parts: :mod:`optimiser.maps.layers` (the layers),
:mod:`optimiser.maps.furniture` (banner, about box, legends) and
:mod:`optimiser.maps.page` (offline assets, stable HTML, the file); this module
puts them together.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import folium
from folium.plugins import Fullscreen

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.maps.furniture import add_furniture, add_view_switch
from optimiser.maps.geometry import bounds
from optimiser.maps.layers import (
    add_change_layers,
    add_context,
    add_flows,
    add_proposals,
    add_setting_layers,
    add_sites,
    add_ward_layers,
)
from optimiser.maps.page import (
    inline_assets,
)
from optimiser.maps.proposals import option_headline, proposal_figures
from optimiser.maps.ward_figures import ward_figures
from optimiser.reports.published import release_for
from optimiser.reports.release import Release
from optimiser.scenarios.compare import Comparison
from optimiser.scenarios.scenario import Scenario
from optimiser.siting.plan import SitingResult

__all__ = ["PANES", "map_allocation"]

PANES = (
    ("context", 405, False),
    ("wards", 410, True),
    ("flows", 420, True),
    ("sites", 430, True),
    ("settings", 440, True),
)


def map_allocation(
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool = False,
    tiles: bool = False,
    siting: SitingResult | None = None,
    compare: Comparison | Mapping[str, AllocationResult] | None = None,
    release: Release | None = None,
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
    compare : a :class:`~optimiser.scenarios.compare.Comparison` (its options other
        than "baseline") or a mapping name → AllocationResult: adds, for each,
        the change by ward against ``res``.
    release : publish mode: the disclosure release of ``res`` and the options
        (:func:`optimiser.reports.published.release_for`); built when not given.
    """
    m = folium.Map(location=None, tiles=None, control_scale=True, zoom_start=11)
    fullscreen = Fullscreen(position="topleft")
    inline_assets(m, [fullscreen])
    fullscreen.add_to(m)
    for name, z, events in PANES:
        folium.map.CustomPane(name, z_index=z, pointer_events=events).add_to(m)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Base map (online)", control=False).add_to(m)
    with warnings.catch_warnings():
        # mapclassify's notice that it runs without numba; every other warning (the
        # package's own DataWarning included) still reaches the user
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        options = _options(compare, res) if compare is not None else {}
        if publish and release is None:
            release = release_for(ds, res, options)
        if ds.wards is not None and len(ds.wards):
            table = ward_figures(ds, res, publish=publish, release=release)
            add_ward_layers(m, ds, table, publish=publish)
            if options:
                add_change_layers(m, ds, table, options, publish=publish, release=release)
            add_context(m, ds)
            if not publish:  # ward → setting flows are working detail (see flow_figures)
                add_flows(m, ds, res, publish=publish)
    if siting is not None:
        add_sites(m, ds, siting)
    views = {"Baseline": add_setting_layers(m, ds, res, publish=publish, release=release)}
    headlines = {}
    for name, sc in _scenarios(compare, options).items():
        option_ds, other = sc.apply(ds), options[name]
        prefix = f"Option: {name} — "
        views[f"Option: {name}"] = add_setting_layers(
            m, option_ds, other, publish=publish, release=release, prefix=prefix, show=False
        )
        proposals = proposal_figures(ds, option_ds, sc, None if publish else other)
        (_, west), (_, east) = bounds(ds)
        add_proposals(m, name, proposals, publish=publish, centre_lon=(west + east) / 2)
        places = int((proposals["places_after"] - proposals["places_before"]).sum())
        headlines[name] = option_headline(
            name,
            res,
            other,
            capital_gbp=sc.capital_cost_gbp,
            places_added=places,
            publish=publish,
            release=release,
        )
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_view_switch(m, views)
    add_furniture(m, ds, res, publish=publish, release=release, headlines=headlines)
    # with an option, keep the LA clear of the (long) layer control, so labels show
    m.fit_bounds(bounds(ds), padding_bottom_right=(420, 0) if headlines else None)
    return m


def _scenarios(
    compare: Comparison | Mapping[str, AllocationResult] | None,
    options: Mapping[str, AllocationResult],
) -> dict[str, Scenario]:
    """The scenario of each compared option, when ``compare`` is a Comparison holding them."""
    held = getattr(compare, "scenarios", None) or {}
    return {name: sc for name, sc in held.items() if name in options}


def _options(
    compare: Comparison | Mapping[str, AllocationResult], res: AllocationResult
) -> dict[str, AllocationResult]:
    results = getattr(compare, "results", compare)
    if not isinstance(results, Mapping):
        msg = (
            "compare must be a Comparison (optimiser.compare_scenarios) or a mapping of "
            f"name → AllocationResult, not {type(compare).__name__}"
        )
        raise TypeError(msg)
    return {str(k): v for k, v in results.items() if k != "baseline" and v is not res}
