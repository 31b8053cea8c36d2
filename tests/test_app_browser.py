"""The running app in headless Chromium, every non-local request blocked.

Starts ``optimiser app --no-browser`` on a free port and drives it as a planner would:
the baseline KPIs and map, a base added by clicking a candidate site on the Options map,
the option on Compare with its delta, then publish mode with suppressed figures.
Screenshots of each step are kept in the test's folder (``APP_SHOTS`` to keep them
elsewhere). Needs Debian's ``chromium`` and the ``playwright`` package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import CHROMIUM

import optimiser
from optimiser.reports.labels import format_value

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and shutil.which("chromium") is None,
        reason="headless Chromium (/usr/bin/chromium) not installed",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost")
START_S = 180  # a loaded CI machine takes a while to import and start the server
STEP_MS = 120_000
TOTAL = "total cost a year (place + transport + unplaced)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimiser", "app", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + START_S
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                proc.kill()
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"optimiser app did not start: {out[-2000:]}")
            time.sleep(0.5)
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


def test_planner_flow_offline(server, browser, tmp_path):
    shots = Path(os.environ.get("APP_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    ds = optimiser.load_default()
    base = optimiser.allocate(ds)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(LOCAL) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server)
    page.get_by_text("Every file passes validation").wait_for(timeout=STEP_MS)
    side = page.locator("section[data-testid='stSidebar']")

    # Baseline: the KPIs are the allocation's, the map is the product map (Leaflet, layers)
    side.get_by_text("Baseline", exact=True).click()
    total = format_value("total_cost_gbp", base.kpis["total_cost_gbp"])
    page.get_by_text(total).first.wait_for(timeout=STEP_MS)
    map_frame = page.frame_locator("iframe").first
    map_frame.locator(".leaflet-control-layers").first.wait_for(timeout=STEP_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "1-baseline.png"), full_page=True)

    # Options: name an option, click a candidate site on the map, add the base
    side.get_by_text("Options", exact=True).click()
    page.get_by_label("New option's name").fill("Base from the map")
    page.get_by_role("button", name="Create").click()
    picker = page.frame_locator("iframe[title*='optimiser_picker']")
    picker.locator("path.pick-candidate").first.wait_for(timeout=STEP_MS)
    picker.locator("path.pick-candidate").nth(5).click(force=True)
    page.get_by_text("Host school").wait_for(timeout=STEP_MS)
    page.wait_for_timeout(2000)  # the click's rerun selects the host
    page.get_by_role("button", name="Add the base").click()
    page.get_by_text("The option against the baseline").wait_for(timeout=STEP_MS)
    picker.locator("path.pick-new").first.wait_for(timeout=STEP_MS)  # drawn as added
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "2-options.png"), full_page=True)

    # Compare: the option beside the baseline with its delta, as compare_scenarios gives it
    side.get_by_text("Compare", exact=True).click()
    page.get_by_text("against the baseline").first.wait_for(timeout=STEP_MS)
    delta = page.locator("[data-testid='stMetricDelta']").first.inner_text()
    assert delta.strip().startswith(("-£", "+£", "£")), delta
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "3-compare.png"), full_page=True)

    # Publish mode: suppressed figures, no child-level tables
    side.get_by_text("Publish mode").click()
    page.get_by_text("disclosure-controlled figures only").wait_for(timeout=STEP_MS)
    page.get_by_text("c (withheld)").first.wait_for(timeout=STEP_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "4-publish.png"), full_page=True)
    assert "Working mode" not in page.inner_text("body")
    assert not blocked, blocked
    assert not errors, errors
