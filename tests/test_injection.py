"""Inert text (DESIGN §8): user-supplied names are escaped in HTML and never become formulas.

A setting, ward, candidate site, package, scenario, dataset name and attribution carrying
script are written to the working map, the publish map and the members' pack; opened in
headless Chromium, with every tooltip and popup of a hostile feature opened, no script runs
and the hostile text reads as text. Workbooks keep ``=...``/``@...`` names as strings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import CHROMIUM, FakeSiting
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.dataset.save import save_dataset
from optimiser.maps.build import map_allocation
from optimiser.maps.pack import summary_html, write_pack
from optimiser.maps.page import render_html, save_map
from optimiser.reports.workbook import write_workbook
from optimiser.scenarios.scenario import scenario_from_mapping

# an attribute breakout, an image whose error handler runs, a script element; plus the
# characters an ordinary name has, which must read back exactly (never double-escaped)
HOSTILE = (
    '"><img src=x onerror="window.__pwned=1">'
    "<script>window.__pwned=1</script> St Mary's & St John's"
)
SETTING = f"Setting {HOSTILE}"
WARD = f"Ward {HOSTILE}"
SITE = f"Site {HOSTILE}"
PACKAGE = f"PKG{HOSTILE}"
DATASET = f"Data {HOSTILE}"
CREDIT = f"Credit {HOSTILE}"
OPTION = f"Option {HOSTILE}"
FORMULAS = ['=HYPERLINK("http://x","click")', "@SUM(A1)", "+1", "-1", "=1+1"]


def _rename_package(ds: optimiser.Dataset, old: str, new: str) -> optimiser.Dataset:
    def swap(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or "package_id" not in frame:
            return frame
        return frame.assign(package_id=frame["package_id"].replace({old: new}))

    cand = ds.candidates.copy()
    cand["packages"] = [tuple(new if p == old else p for p in ps) for ps in cand["packages"]]
    return ds.replace(
        packages=swap(ds.packages),
        places=swap(ds.places),
        children=swap(ds.children),
        costing=swap(ds.costing),
        candidates=cand,
    )


def hostile(ds: optimiser.Dataset, busy_setting: str = "S013") -> optimiser.Dataset:
    """The default data with script in a setting, ward, candidate, package and its own names."""
    settings = ds.settings.copy()
    settings.loc[settings["setting_id"] == busy_setting, "name"] = SETTING
    wards = ds.wards.copy()
    wards.loc[wards.index[0], "ward_name"] = WARD
    cand = ds.candidates.copy()
    cand.loc[cand.index[0], "name"] = SITE
    packages = ds.packages.copy()
    packages["name"] = packages["name"].astype(str) + HOSTILE
    packages["description"] = HOSTILE
    out = ds.replace(
        settings=settings,
        wards=wards,
        candidates=cand,
        packages=packages,
        name=DATASET,
        attribution=CREDIT,
        # outputs name the area by policy area_name (the folder's name when blank)
        policy=ds.policy.model_copy(update={"area_name": DATASET}),
    )
    return _rename_package(out, "SPP4", PACKAGE)


def option(name: str = OPTION):
    return scenario_from_mapping(
        {
            "name": name,
            "changes": [
                {"cap_fees": {"setting_type": "independent_special", "max_annual_cost_gbp": 55000}}
            ],
        },
        source="x.yaml",
    )


@pytest.fixture(scope="module")
def bad_ds(default_ds):
    return hostile(default_ds)


@pytest.fixture(scope="module")
def compared(bad_ds):
    return optimiser.compare_scenarios(bad_ds, [option()])


def test_hostile_dataset_still_solves_and_the_package_reaches_the_map(bad_ds, compared):
    res = compared.results["baseline"]
    assert (res.placements["package_id"] == PACKAGE).any()
    page = render_html(map_allocation(bad_ds, res, siting=FakeSiting(bad_ds), compare=compared))
    for raw in ("<img src=x", "<script>window", "onerror=\\u0022window"):
        assert raw not in page, raw
    assert "window.__pwned" in page  # the text is there, escaped


def test_pack_summary_escapes_names(bad_ds, compared):
    page = summary_html(bad_ds, compared.results["baseline"])
    assert "<img src=x" not in page and "<script>window" not in page
    assert "Ward &quot;&gt;&lt;img" in page and "Data &quot;&gt;&lt;img" in page


# --- browser ----------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None,
    reason="headless Chromium (/usr/bin/chromium) not installed",
)


@pytest.fixture(scope="module")
def pages(bad_ds, compared, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    res = compared.results["baseline"]
    siting = FakeSiting(bad_ds)
    working = map_allocation(bad_ds, res, siting=siting, compare=compared)
    publish = map_allocation(bad_ds, res, publish=True, siting=siting, compare=compared)
    pack = write_pack(bad_ds, res, out / "pack", siting=siting, compare=compared)
    return {
        "working": save_map(working, out / "working.html"),
        "publish": save_map(publish, out / "publish.html"),
        "pack": pack[0],
        "summary": pack[1],
    }


# Turn every overlay on (a real click on each box), then, for every feature whose
# properties carry the payload, open its tooltip (mouseover) and its popup (click) the
# way Leaflet does on a pointer event, and read back what they show.
OPEN_ALL = """
() => {
  const m = window[Object.keys(window).find(k => /^map_[0-9a-f]{32}$/.test(k))];
  const shown = [];
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p || !JSON.stringify(p).includes('__pwned')) return;
    const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
    l.fire('mouseover', {latlng: at}, true);
    document.querySelectorAll('.leaflet-tooltip').forEach(t => shown.push(['tip', t.innerText]));
    l.fire('mouseout', {latlng: at}, true);
    l.fire('click', {latlng: at}, true);
    document.querySelectorAll('.leaflet-popup-content')
      .forEach(t => shown.push(['popup', t.innerText]));
    m.closePopup();
  });
  m.eachLayer(l => l.closeTooltip && l.closeTooltip());
  return shown;
}
"""


def _open(browser, path: Path):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(200)
    return page, errors


def _pwned(page) -> bool:
    page.wait_for_timeout(300)  # an <img onerror> fires once its (failed) load settles
    return page.evaluate("typeof window.__pwned !== 'undefined'")


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("which", ["working", "publish", "pack"])
def test_hostile_names_run_no_script_and_read_as_text(browser, pages, which):
    page, errors = _open(browser, pages[which])
    assert not _pwned(page), "a name ran as script when the map opened"
    assert not errors, errors
    assert page.title().startswith(DATASET)
    assert DATASET in page.locator(".optimiser-about").inner_text()
    assert CREDIT in page.locator(".leaflet-control-attribution").inner_text()
    assert WARD in page.locator(".ward-label").all_inner_texts()
    boxes = page.locator(".leaflet-control-layers-overlays input[type=checkbox]")
    for i in range(boxes.count()):
        if not boxes.nth(i).is_checked():
            boxes.nth(i).click()
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert f"{OPTION}: change in INMSS children" in overlays
    legends = " ".join(page.locator(".optimiser-legend").all_inner_texts())
    assert f"{OPTION}: change in INMSS children (option − baseline)" in legends
    shown = page.evaluate(OPEN_ALL)
    assert not _pwned(page), "a tooltip or popup ran a name as script"
    assert not errors, errors
    text = "\n".join(t for _, t in shown)
    assert {kind for kind, _ in shown} == {"tip", "popup"}
    for name in (SETTING, WARD, SITE, PACKAGE):
        assert name in text, name
    assert "&amp;" not in text and "&#x27;" not in text and "&lt;" not in text  # not twice
    # a real pointer on the hostile setting shows its tooltip as text too
    xy = page.evaluate(
        """() => {
      const m = window[Object.keys(window).find(k => /^map_[0-9a-f]{32}$/.test(k))];
      let at = null;
      m.eachLayer(l => { if (l.getLatLng && l.feature && l.feature.properties.filled_children
          !== undefined && l.feature.properties.name.includes('__pwned')) at = l.getLatLng(); });
      m.setView(at, 15, {animate: false});
      const p = m.latLngToContainerPoint(at), r = m.getContainer().getBoundingClientRect();
      return [r.left + p.x, r.top + p.y];
    }"""
    )
    page.mouse.move(xy[0] - 40, xy[1] - 40)
    page.mouse.move(xy[0], xy[1], steps=4)
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).outerHTML.slice(0, 200)", xy)
    assert "leaflet-interactive" in hit, hit
    tip = page.locator(".leaflet-tooltip").last
    tip.wait_for(timeout=5000)
    assert SETTING in tip.inner_text()
    page.mouse.click(xy[0], xy[1])
    page.wait_for_selector(".leaflet-popup-content")
    assert SETTING in page.locator(".leaflet-popup-content").inner_text()
    assert not _pwned(page)
    assert not errors, errors
    page.context.close()


@pytest.mark.browser
@needs_chromium
def test_pack_summary_runs_no_script(browser, pages):
    page = browser.new_context().new_page()
    page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
    )
    page.goto(pages["summary"].as_uri())
    assert not _pwned(page)
    assert page.title().startswith(DATASET)
    body = page.locator("body").inner_text()
    for name in (DATASET, WARD, CREDIT):
        assert name in body, name
    page.context.close()


# --- workbook ---------------------------------------------------------------------------------


def _formula_ds(ds: optimiser.Dataset) -> optimiser.Dataset:
    """Settings (INMSS ones: they are listed by name) and wards named like formulas."""
    settings = ds.settings.copy()
    inmss = settings.index[settings["setting_type"].isin(["independent_special", "nmss"])]
    for i, text in zip(inmss, FORMULAS, strict=False):
        settings.loc[i, "name"] = text
    wards = ds.wards.copy()
    for i, text in zip(wards.index, FORMULAS, strict=False):
        wards.loc[i, "ward_name"] = text
    return ds.replace(
        settings=settings,
        wards=wards,
        name="=1+2",
        attribution="@SUM(B1:B9)",
        # the title is the name, the note the credit alone (as it was before area_name)
        policy=ds.policy.model_copy(update={"area_name": None, "data_notice": None}),
    )


def _strings(path: Path) -> dict[str, list[tuple[object, str]]]:
    """Every cell of the workbook: sheet → [(value, data_type)] (formulas read as text)."""
    book = openpyxl.load_workbook(path)
    return {
        ws.title: [(c.value, c.data_type) for row in ws.iter_rows() for c in row]
        for ws in book.worksheets
    }


def _assert_text(cells: dict[str, list[tuple[object, str]]], texts: list[str]) -> None:
    every = [cell for sheet in cells.values() for cell in sheet]
    assert not [c for c in every if c[1] == "f"], "a cell became a formula"
    values = {v for v, _ in every}
    for text in texts:
        assert text in values, text
        assert {t for v, t in every if v == text} == {"s"}, text
    numbers = [v for v, t in every if t == "n" and v is not None]
    assert numbers and all(isinstance(v, int | float) for v in numbers)  # numbers stay numbers


@pytest.mark.parametrize("publish", [False, True])
def test_workbook_keeps_formula_like_names_as_text(default_ds, tmp_path, publish):
    ds = _formula_ds(default_ds)
    path = write_workbook(
        ds, tmp_path / "book.xlsx", scenarios=[option("=HYPERLINK(1)")], years=1, publish=publish
    )
    cells = _strings(path)
    assert cells["Summary"][0] == ("=1+2: key figures", "s")
    assert ("@SUM(B1:B9)", "s") in cells["Summary"]
    assert any(v == "=HYPERLINK(1)" for v, _ in cells["Comparison"])
    _assert_text(cells, ["=HYPERLINK(1)", *FORMULAS[:2]])


def test_cli_report_keeps_formula_like_names_as_text(default_ds, tmp_path):
    folder = save_dataset(_formula_ds(default_ds), tmp_path / "=SUM(1,2)")
    sc = tmp_path / "option.yaml"
    sc.write_text(
        "name: '@SUM(A1)'\nchanges:\n  - cap_fees: {setting_type: independent_special, "
        "max_annual_cost_gbp: 55000}\n"
    )
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(
        app, ["report", str(folder), "--xlsx", str(out), "--scenario", str(sc), "--years", "0"]
    )
    assert result.exit_code == 0, result.output
    cells = _strings(out)
    assert cells["Summary"][0] == ("=SUM(1,2): key figures", "s")
    _assert_text(cells, FORMULAS)


def test_saved_dataset_workbook_keeps_formula_like_names_as_text(tiny, tmp_path):
    import openpyxl

    name = '=HYPERLINK("http://x","click")'
    settings = tiny.settings.copy()
    settings.loc[0, "name"] = name
    path = optimiser.save_dataset(tiny.replace(settings=settings), tmp_path / "ds.xlsx")
    cell = openpyxl.load_workbook(path)["settings"].cell(row=2, column=2)
    assert cell.value == name and cell.data_type == "s"
    assert optimiser.load_dataset(path).settings.loc[0, "name"] == name
