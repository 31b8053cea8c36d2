"""Maps in headless Chromium with every network request blocked: Leaflet loads, no console
errors, the layer control lists the layers, legends follow their layers; a screenshot is kept.

Needs Debian's ``chromium`` (/usr/bin/chromium, installed by ``.ci/run``) and the ``playwright``
package; skipped cleanly where either is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import CHROMIUM

import optimiser
from optimiser.maps.build import map_allocation
from optimiser.maps.pack import write_pack
from optimiser.maps.page import save_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and shutil.which("chromium") is None,
        reason="headless Chromium (/usr/bin/chromium) not installed",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")


@pytest.fixture(scope="module")
def maps(default_ds, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    res = optimiser.allocate(default_ds)
    return {
        mode: save_map(
            map_allocation(default_ds, res, publish=mode == "publish"), out / f"{mode}.html"
        )
        for mode in ("working", "publish")
    }


def open_offline(browser, path: Path):
    """Open ``path`` with every non-file request aborted; return (page, errors, blocked)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    return page, errors, blocked


@pytest.mark.parametrize("mode", ["working", "publish"])
def test_map_opens_offline_with_layers_and_no_errors(browser, maps, mode, tmp_path):
    page, errors, blocked = open_offline(browser, maps[mode])
    assert page.evaluate("typeof window.L === 'object' && window.L.version") == "1.9.4"
    assert not errors, errors
    assert not blocked, f"the page tried the network: {blocked[:3]}"
    labels = [
        t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]
    for name in (
        "INMSS reliance: children placed in INMSS",
        "Transport cost per placed child",
        "Unplaced children",
        "Mean journey time",
        "Ward and LA boundaries",
    ):
        assert any(lbl.startswith(name) for lbl in labels), (name, labels)
    # ward → setting journeys are working detail: the publish map has no such layer
    has_flows = any(lbl.startswith("Journeys: ward → setting") for lbl in labels)
    assert has_flows == (mode == "working")
    assert sum(lbl.startswith("Settings: ") for lbl in labels) >= 4
    assert page.locator("path.leaflet-interactive").count() > 50  # wards and settings drawn
    banner = page.locator(".optimiser-banner").inner_text()
    assert banner.startswith("PUBLISH" if mode == "publish" else "WORKING")
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen, .fullscreen-icon").count() >= 1
    shot = tmp_path / f"{mode}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    page.context.close()


def test_legend_follows_its_layer(browser, maps):
    page, errors, _ = open_offline(browser, maps["working"])
    legends = page.locator(".optimiser-legend")
    before = legends.count()
    assert legends.filter(has_text="INMSS reliance: children placed in INMSS").count() == 1
    page.get_by_text("Mean journey time (min)", exact=False).first.click()
    assert legends.filter(has_text="Mean journey time (min)").count() == 1
    assert legends.count() == before + 1
    page.get_by_text("INMSS reliance: children placed in INMSS", exact=False).first.click()
    assert legends.filter(has_text="INMSS reliance: children placed in INMSS").count() == 0
    page.locator("path.leaflet-interactive").first.hover(force=True)
    assert not errors, errors
    page.context.close()


def test_members_pack_opens_offline(browser, default_ds, tmp_path):
    files = write_pack(default_ds, optimiser.allocate(default_ds), tmp_path / "pack")
    page, errors, blocked = open_offline(browser, files[0])
    assert not errors and not blocked
    page.context.close()
    context = browser.new_context()
    summary = context.new_page()
    summary.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
    )
    summary.goto(files[1].as_uri())
    assert summary.locator("table tr").count() > 20
    summary.screenshot(path=str(tmp_path / "summary.png"), full_page=True)
    context.close()


def test_scenario_map_shows_the_new_base_and_swaps_baseline_and_option(
    browser, default_ds, tmp_path
):
    sc = optimiser.load_scenario(
        Path(__file__).resolve().parents[1] / "examples" / "autism_base_stretford_high.yaml"
    )
    cmp = optimiser.compare_scenarios(default_ds, [sc])
    path = save_map(
        map_allocation(default_ds, cmp.results["baseline"], compare=cmp), tmp_path / "option.html"
    )
    page, errors, blocked = open_offline(browser, path)
    assert not errors and not blocked, (errors, blocked)
    label = page.locator(".optimiser-proposal .lbl")
    assert label.all_inner_texts() == [
        "Stretford High School autism base: +16 SPP3 places (new base)"
    ]
    assert label.is_visible()
    notice = page.locator(".optimiser-notice").inner_text()
    assert notice == default_ds.data_notice
    assert page.locator(".optimiser-title b").inner_text() == "Trafford: placements map (working)"

    def checked(name: str) -> bool:
        row = page.locator(".leaflet-control-layers-overlays label", has_text=name)
        return row.locator("input").is_checked()

    base, option = "Settings: Inclusion bases (10)", "Settings: Inclusion bases (11)"
    assert checked(base) and not checked(option)
    page.locator(".optimiser-views input").nth(1).check()
    assert not checked(base) and checked(option)
    legends = page.locator(".optimiser-legend").all_inner_texts()
    assert any(
        "Option: Autism base at Stretford High — Settings: places used" in t for t in legends
    )
    page.locator(".optimiser-proposal .sym").click()
    assert "Capital" in page.locator(".leaflet-popup-content").inner_text()
    page.screenshot(path=str(tmp_path / "option.png"))
    assert not errors, errors
    page.context.close()
