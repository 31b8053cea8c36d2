"""Maps: publish mode leaks no child-level data or small counts; working maps have their layers;
every page is offline (no script or stylesheet fetched from the network); the members' pack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import FakeSiting
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.disclosure import is_publishable_count
from optimiser.geography import lonlat_from_bng
from optimiser.maps.build import map_allocation
from optimiser.maps.geometry import ward_points
from optimiser.maps.pack import summary_html, write_pack
from optimiser.maps.page import assets_dir, render_html, save_map
from optimiser.maps.setting_figures import candidate_figures, chosen_site_figures, setting_figures
from optimiser.maps.ward_figures import child_wards, ward_counts, ward_figures

SCENARIO = """name: Sale base and fee cap
changes:
  - add_setting: {setting_id: NEW1, name: Sale High ASD base, setting_type: inclusion_base,
                  easting: 377400, northing: 392000, age_min: 11, age_max: 16,
                  places: {SPP3: 16}, annual_cost_gbp: {SPP3: 15000}}
  - cap_fees: {setting_type: independent_special, max_annual_cost_gbp: 55000}
  - demand_growth: {SPP3: 1.10}
"""
# every property a published map may embed; anything else is a leak
PUBLIC_PROPERTIES = {
    "fid",
    "ward_name",
    "spp_children",
    "placed_children",
    "inmss_children",
    "unplaced_children",
    "inmss_share_pct",
    "transport_gbp_per_child",
    "mean_travel_min",
    "name",
    "type_label",
    "urn",
    "packages",
    "places",
    "capacity",
    "cost_per_place",
    "filled_children",
    "utilisation_pct",
    "setting_name",
    "travelling_children",
    "site_id",
    "max_places",
    "inmss_children_change",
    "inmss_share_change_pct",
    "transport_gbp_per_child_change",
    "base_inmss_children",
    "option_inmss_children",
    "base_inmss_share_pct",
    "option_inmss_share_pct",
    "base_transport_gbp_per_child",
    "option_transport_gbp_per_child",
    "saving_gbp",
}
NOT_COUNTS = {
    "places",
    "capacity",
    "max_places",
    "urn",
    "utilisation_pct",
    "inmss_share_pct",
    "transport_gbp_per_child",
    "mean_travel_min",
    "saving_gbp",
    "base_inmss_share_pct",
    "option_inmss_share_pct",
    "base_transport_gbp_per_child",
    "option_transport_gbp_per_child",
}
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


@pytest.fixture(scope="module")
def res(default_ds):
    return optimiser.allocate(default_ds)


@pytest.fixture(scope="module")
def compared(default_ds, tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "option.yaml"
    path.write_text(SCENARIO)
    return optimiser.compare_scenarios(default_ds, [optimiser.load_scenario(path)])


@pytest.fixture(scope="module")
def publish_html(default_ds, compared):
    m = map_allocation(
        default_ds,
        compared.results["baseline"],
        publish=True,
        siting=FakeSiting(default_ds),
        compare=compared,
    )
    return render_html(m)


@pytest.fixture(scope="module")
def working_html(default_ds, res):
    return render_html(map_allocation(default_ds, res, siting=FakeSiting(default_ds)))


def embedded_geojson(page: str) -> list[dict]:
    """Every GeoJSON object folium embedded (``<name>_add({...});``)."""
    decoder, out = json.JSONDecoder(), []
    for match in re.finditer(r"_add\(\{", page):
        obj, _ = decoder.raw_decode(page, match.end() - 1)
        out.append(obj)
    return out


def properties(page: str) -> list[dict]:
    return [f["properties"] for g in embedded_geojson(page) for f in g["features"]]


def overlay_names(page: str) -> list[str]:
    block = re.search(r"overlays :\s*\{(.*?)\},", page, re.S).group(1)
    return [json.loads(f'"{name}"') for name in re.findall(r'"((?:[^"\\]|\\.)+)"\s*:', block)]


def script_bodies_removed(page: str) -> str:
    """The page without inline <script>/<style> text (the vendored Leaflet code)."""
    return re.sub(r"<(script|style)>.*?</\1>", "", page, flags=re.S)


# ------------------------------------------------------------------ publish mode


def test_publish_map_has_no_child_ids(publish_html, default_ds):
    ids = set(default_ds.children["child_id"])
    found = set(re.findall(r"C\d{5}\b", publish_html))
    assert not found & ids
    assert not re.search(r"C\d{5}-g", publish_html)  # demand-growth copies either


def test_publish_map_has_no_home_coordinates_at_any_rounding(publish_html, default_ds):
    kids = default_ds.children
    lon, lat = lonlat_from_bng(kids["easting"].to_numpy(float), kids["northing"].to_numpy(float))
    pairs = set(re.findall(r"(?=(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+))", publish_html))
    leaks = set()
    for dp in (3, 4, 5, 6):
        for x, y in zip(lon, lat, strict=True):
            for a, b in ((f"{x:.{dp}f}", f"{y:.{dp}f}"), (f"{y:.{dp}f}", f"{x:.{dp}f}")):
                if (a, b) in pairs:
                    leaks.add((a, b))
    public = _public_points(default_ds)
    leaks = {p for p in leaks if (round(float(p[0]), 3), round(float(p[1]), 3)) not in public}
    assert not leaks, f"{len(leaks)} child home coordinates embedded, e.g. {sorted(leaks)[:3]}"


def _public_points(ds) -> set[tuple[float, float]]:
    """Settings, candidate sites and ward label points, both axis orders, to 3 dp."""
    frames = [
        setting_figures(ds, optimiser.allocate(ds), publish=True),
        candidate_figures(ds),
        ward_points(ds),
    ]
    pts = set()
    for f in frames:
        for x, y in zip(f["lon"], f["lat"], strict=True):
            pts |= {(round(x, 3), round(y, 3)), (round(y, 3), round(x, 3))}
    return pts


def test_publish_map_geometry_is_only_public_places(publish_html, default_ds, compared):
    settings = setting_figures(default_ds, optimiser.allocate(default_ds), publish=True)
    # the option's settings (its new base is the scenario's, public) are drawn too
    ((name, sc),) = compared.scenarios.items()
    option = setting_figures(sc.apply(default_ds), compared.results[name], publish=False)
    known = {
        (round(x, 5), round(y, 5))
        for f in (
            settings,
            option,
            candidate_figures(default_ds),
            ward_points(default_ds),
            chosen_site_figures(FakeSiting(default_ds).sites),
        )
        for x, y in zip(f["lon"], f["lat"], strict=True)
    }
    for g in embedded_geojson(publish_html):
        for f in g["features"]:
            geom = f["geometry"]
            if geom["type"] == "Point":
                assert (round(geom["coordinates"][0], 5), round(geom["coordinates"][1], 5)) in known
            elif geom["type"] == "LineString":
                for x, y in geom["coordinates"]:
                    assert (round(x, 5), round(y, 5)) in known
            else:
                assert geom["type"] in ("Polygon", "MultiPolygon")  # ward / LA boundaries


def test_publish_map_has_no_home_postcodes(publish_html, default_ds):
    from optimiser.dataset.postcodes import postcode_lookup

    lookup = postcode_lookup()
    kids = default_ds.children[["easting", "northing"]].round().astype(int)
    lookup = lookup.assign(
        easting=lookup["easting"].round().astype(int),
        northing=lookup["northing"].round().astype(int),
    )
    homes = set(kids.merge(lookup, on=["easting", "northing"])["postcode"].str.replace(" ", ""))
    assert len(homes) > 100  # the check has teeth
    text = script_bodies_removed(publish_html)
    found = {p.replace(" ", "") for p in POSTCODE.findall(text)}
    assert not found & homes
    assert not found, f"postcode-like text in the page: {sorted(found)[:5]}"


def test_publish_map_embeds_only_public_properties_and_no_small_counts(publish_html):
    props = properties(publish_html)
    assert len(props) > 100
    keys = set().union(*props)
    assert keys <= PUBLIC_PROPERTIES, f"non-public properties embedded: {keys - PUBLIC_PROPERTIES}"
    for p in props:
        for key, value in p.items():
            if key.endswith("_children"):
                assert is_publishable_count(value), (key, value)
            elif isinstance(value, int | float) and key not in NOT_COUNTS:
                assert key.endswith(("_change", "_change_pct")), f"count {key!r} not *_children"
    assert any(p.get("inmss_children") == "c" for p in props)  # small counts were there


def test_publish_map_changes_come_from_published_figures(publish_html):
    for p in properties(publish_html):
        if "inmss_children_change" in p:
            change = p["inmss_children_change"]
            if "c" in (p["base_inmss_children"], p["option_inmss_children"]):
                assert change == "c"
            else:
                assert change == p["option_inmss_children"] - p["base_inmss_children"]
                assert change % 5 == 0


def test_publish_map_says_so(publish_html, working_html):
    assert "PUBLISH — disclosure-controlled" in publish_html
    assert "WORKING — contains unpublished figures" not in publish_html
    assert "WORKING — contains unpublished figures" in working_html
    assert "PUBLISH — disclosure-controlled" not in working_html


def test_publish_map_has_no_ward_to_setting_flows(publish_html, working_html):
    """Ward × setting flows are mostly 1-7 children and would give away suppressed cells."""
    assert not [p for p in properties(publish_html) if "travelling_children" in p]
    assert "Journeys: ward → setting" not in overlay_names(publish_html)
    assert [p for p in properties(working_html) if "travelling_children" in p]


# ------------------------------------------------------------------ working mode and layers


def test_working_map_has_its_layers(working_html):
    names = overlay_names(working_html)
    for expected in (
        "INMSS reliance: children placed in INMSS",
        "INMSS reliance: % of placed children",
        "Transport cost per placed child (£/yr)",
        "Unplaced children (no suitable place)",
        "Mean journey time (min)",
        "Ward and LA boundaries",
        "Journeys: ward → setting",
        "Candidate inclusion-base sites (72)",
        "Chosen inclusion-base sites (2)",
    ):
        assert expected in names
    assert sum(n.startswith("Settings: ") for n in names) >= 4
    assert "L.control.scale()" in working_html and "L.control.fullscreen(" in working_html
    assert "fitBounds" in working_html
    assert working_html.count("optimiser-legend") >= 8


def test_working_map_has_exact_figures_but_no_child_points(working_html, default_ds):
    props = properties(working_html)
    assert any(
        isinstance(p.get("inmss_children"), int) and 1 <= p["inmss_children"] <= 7 for p in props
    )
    assert not set(re.findall(r"C\d{5}\b", working_html)) & set(default_ds.children["child_id"])
    assert all(
        f["geometry"]["type"] != "Point"
        or "filled_children" in f["properties"]
        or "max_places" in f["properties"]
        or "site_id" in f["properties"]
        for g in embedded_geojson(working_html)
        for f in g["features"]
    )


def test_scenario_layers(default_ds, compared):
    page = render_html(map_allocation(default_ds, compared.results["baseline"], compare=compared))
    names = overlay_names(page)
    for what in (
        "change in INMSS children",
        "change in INMSS share (% points)",
        "change in transport £ per child",
    ):
        assert f"Sale base and fee cap: {what}" in names


def test_compare_accepts_a_mapping_and_rejects_junk(default_ds, res):
    other = optimiser.allocate(default_ds)
    page = render_html(map_allocation(default_ds, res, compare={"same": res, "copy": other}))
    assert "same: change" not in page  # the baseline itself is not compared with itself
    assert "copy: change in INMSS children" in page
    with pytest.raises(TypeError, match="compare must be"):
        map_allocation(default_ds, res, compare=[res])


def test_siting_must_have_sites(default_ds, res):
    with pytest.raises(TypeError, match="sites"):
        map_allocation(default_ds, res, siting=object())
    bad = FakeSiting(default_ds)
    bad.sites = bad.sites.drop(columns=["places"])
    with pytest.raises(ValueError, match="places"):
        map_allocation(default_ds, res, siting=bad)


def test_map_without_wards(tiny):
    page = render_html(map_allocation(tiny, optimiser.allocate(tiny), publish=True))
    names = overlay_names(page)
    assert names and all(n.startswith("Settings: ") for n in names)
    assert "C1" not in re.findall(r'"(C\d+)"', page)


def test_children_without_ward_code_are_placed_by_point_in_polygon(default_ds):
    kids = default_ds.children.copy()
    kids["ward_code"] = ""
    found = child_wards(default_ds.replace(children=kids), default_ds.children["child_id"])
    truth = default_ds.children.set_index("child_id")["ward_code"]
    assert (found == truth.reindex(found.index)).mean() > 0.97  # generalised boundaries


# ------------------------------------------------------------------ offline, determinism, files


@pytest.mark.parametrize("which", ["publish_html", "working_html"])
def test_map_is_offline(which, request):
    page = request.getfixturevalue(which)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert "@import" not in page
    for ref in re.findall(r"url\(\s*['\"]?([^'\")]*)", page):
        assert ref.startswith(("data:", "#")), ref
    assert not re.search(r"https?://[^\s\"'<>]*\.(js|css)\b", page)
    assert "tile.openstreetmap" not in page
    assert "L.version" in page or "Leaflet" in page  # the library itself is inlined


def test_tiles_add_an_online_base_map(default_ds, res):
    page = render_html(map_allocation(default_ds, res, tiles=True))
    assert "tile.openstreetmap.org" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)


def test_render_is_deterministic_and_save_refuses_to_overwrite(default_ds, res, tmp_path):
    a = render_html(map_allocation(default_ds, res, publish=True))
    b = render_html(map_allocation(default_ds, res, publish=True))
    assert a == b
    path = save_map(map_allocation(default_ds, res, publish=True), tmp_path / "m.html")
    assert path.read_text(encoding="utf-8") == a
    with pytest.raises(FileExistsError, match="already exists"):
        save_map(map_allocation(default_ds, res), path)


def test_vendored_assets_are_pinned_with_licences():
    vendor = assets_dir() / "vendor"
    for pkg in ("leaflet-1.9.4", "leaflet.fullscreen-3.0.0"):
        assert (vendor / pkg / "LICENSE").stat().st_size > 500
    assert "Leaflet 1.9.4" in (vendor / "leaflet-1.9.4" / "leaflet.js").read_text()[:200]


# ------------------------------------------------------------------ members' pack and CLI


def test_pack_writes_map_and_summary_and_refuses_to_overwrite(default_ds, res, tmp_path):
    files = write_pack(default_ds, res, tmp_path / "pack")
    assert [f.name for f in files] == ["map.html", "summary.html"]
    summary = files[1].read_text(encoding="utf-8")
    assert "<script" not in summary and "http" not in summary.replace("Open Government Licence", "")
    assert "PUBLISH" in summary and "Altrincham" in summary
    assert not set(re.findall(r"C\d{5}\b", summary))
    cells = re.findall(r"<td class=n>([^<]*)</td>", summary)
    counts = [c for i, c in enumerate(cells) if i % 7 in (0, 1, 2, 4)]  # the count columns
    assert all(c == "c" or int(c.replace(",", "")) % 5 == 0 for c in counts)
    with pytest.raises(FileExistsError, match="already exist"):
        write_pack(default_ds, res, tmp_path / "pack")


def test_summary_without_wards(tiny):
    page = summary_html(tiny, optimiser.allocate(tiny))
    assert "By ward" not in page and "Whole local authority" in page


runner = CliRunner()


def test_cli_map_publish_and_no_overwrite(tmp_path):
    out = tmp_path / "m.html"
    result = runner.invoke(app, ["map", "--publish", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "publish mode" in result.output and out.exists()
    before = out.read_bytes()
    again = runner.invoke(app, ["map", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert out.read_bytes() == before


def test_cli_map_scenario(tmp_path):
    sc = tmp_path / "option.yaml"
    sc.write_text(SCENARIO)
    out = tmp_path / "s.html"
    result = runner.invoke(app, ["map", "--scenario", str(sc), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Sale base and fee cap: change in INMSS children" in out.read_text(encoding="utf-8")


def test_cli_pack(tmp_path, tiny_path):
    result = runner.invoke(app, ["pack", str(tiny_path), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["map.html", "summary.html"]
    again = runner.invoke(app, ["pack", str(tiny_path), "--out", str(tmp_path / "p")])
    assert again.exit_code == 1 and "already exist" in again.output


def test_ward_figures_totals_agree_with_the_kpis(default_ds, res):
    exact = ward_counts(default_ds, res)
    assert (
        exact["placed_children"].sum()
        + (child_wards(default_ds, res.placements["child_id"]) == "").sum()
        == res.kpis["placed_children"]
    )
    assert exact["inmss_children"].sum() <= res.kpis["inmss_children"]
    shown = ward_figures(default_ds, res, publish=True)
    nums = [v for v in shown["placed_children"] if v != "c"]
    n_c = len(shown) - len(nums)
    assert abs(sum(nums) - exact["placed_children"].sum()) <= 2 * len(nums) + 7 * n_c
    assert np.isfinite(exact["transport_gbp_per_child"].dropna()).all()


def test_map_assets_are_found_in_the_checkout_or_the_package():
    found = assets_dir()
    assert found in (
        Path(__file__).resolve().parents[1] / "maps",
        Path(optimiser.__file__).parent / "_maps",
    )
    assert (found / "optimiser-map.css").exists()


# ------------------------------------------------------------- attribution and warnings


def test_outputs_credit_the_dataset_not_a_fixed_text(default_ds, res, tiny, tmp_path):
    # the embedded data's attribution.txt: OGL, and that its children are synthetic
    page = render_html(map_allocation(default_ds, res, publish=True))
    assert (
        "Open Government Licence" in page and "Children in the default data are synthetic" in page
    )
    # a user's folder without attribution.txt: a neutral line, no licence or "synthetic" claim
    tiny_res = optimiser.allocate(tiny)
    page = render_html(map_allocation(tiny, tiny_res, publish=True))
    assert "Data: the tiny dataset" in page
    assert "synthetic" not in page.lower() and "Open Government Licence" not in page
    pack = summary_html(tiny, tiny_res)
    assert "Data: the tiny dataset" in pack and "synthetic" not in pack.lower()


def test_user_attribution_is_escaped_in_map_and_pack(tiny):
    ds = tiny.replace(attribution='Council data <img src=x onerror="alert(1)">')
    res = optimiser.allocate(ds)
    for page in (render_html(map_allocation(ds, res, publish=True)), summary_html(ds, res)):
        assert "<img src=x" not in page
        assert "Council data &lt;img" in page


def test_map_lets_the_packages_own_warnings_through(default_ds, res, monkeypatch):
    import optimiser.maps.build as build

    real = build.ward_figures

    def noisy(*args, **kwargs):
        import warnings

        warnings.warn("a ward has no code", optimiser.DataWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "ward_figures", noisy)
    with pytest.warns(optimiser.DataWarning, match="a ward has no code"):
        map_allocation(default_ds, res)
