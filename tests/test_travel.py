"""Travel distances and times: straight line × detour, KD-tree pruning, and a road graph.

Hand values use 1 mile = 1.609344 km and the default policy (detour 1.3, 24 km/h, so one road
km takes 2.5 min) with flat transport where costs are asserted (``FLAT_TRANSPORT``: everyone
eligible, £2.60 shared / £3.50 solo per pupil-mile, 190 days, 2 journeys a day).
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import FLAT_TRANSPORT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimiser
from optimiser.transport.rules import transport_cost_gbp
from optimiser.transport.travel import max_straight_km, pairs_within, road_km_and_min, straight_km

settings.register_profile(
    "travel-properties",
    deadline=None,
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("travel-properties")

POLICY = optimiser.Policy()
E0, N0 = 380000.0, 395000.0


# --------------------------------------------------------------------------- straight line


def test_straight_line_times_detour_by_hand():
    home = np.array([[E0, N0], [E0, N0]])
    school = np.array([[E0 + 3000, N0 + 4000], [E0, N0]])  # a 3-4-5 triangle; the same point
    np.testing.assert_allclose(straight_km(home, school), [5.0, 0.0])
    km, mins = road_km_and_min(home, school, policy=POLICY)
    # 5 km × 1.3 = 6.5 road km; 6.5 km ÷ 24 km/h = 0.2708 h = 16.25 min
    np.testing.assert_allclose(km, [6.5, 0.0])
    np.testing.assert_allclose(mins, [16.25, 0.0])
    km, mins = road_km_and_min(
        home, school, policy=optimiser.Policy(detour_factor=1.5, speed_kmh=30.0)
    )
    # 5 × 1.5 = 7.5 km at 30 km/h = 15 min
    np.testing.assert_allclose(km, [7.5, 0.0])
    np.testing.assert_allclose(mins, [15.0, 0.0])


# flat per-pupil-mile transport (helpers.FLAT_TRANSPORT): £2.60 shared, £3.50 solo
FLAT = optimiser.Policy(transport=FLAT_TRANSPORT)


def test_transport_cost_by_hand():
    km, solo = np.array([6.5, 6.5, 0.0]), np.array([False, True, True])
    # 6.5 road km = 4.03891 miles; × 2 journeys × 190 days = 1534.79 pupil-miles a year
    # flat: shared × £2.60 = £3990.45; solo × £3.50 = £5371.75; 0 km costs nothing
    np.testing.assert_allclose(
        transport_cost_gbp(km, solo, policy=FLAT), [3990.4458, 5371.7540, 0.0], atol=1e-3
    )
    # default rates: a day = fixed + per mile × 2 × miles, × 190 days; shared = the cheaper of
    # minibus and shared taxi; solo = solo taxi (its fixed charge applies even at 0 km)
    t, miles = POLICY.transport, 6.5 / 1.609344
    day = lambda r, m: r.fixed_gbp_per_day + r.gbp_per_mile * 2 * m  # noqa: E731
    expected = [
        190 * min(day(t.minibus, miles), day(t.shared_taxi, miles)),
        190 * day(t.solo_taxi, miles),
        190 * day(t.solo_taxi, 0.0),
    ]
    np.testing.assert_allclose(transport_cost_gbp(km, solo, policy=POLICY), expected)


def test_pruning_radius_by_hand():
    # straight line: cap [h] × speed ÷ detour — 45 min: 0.75 × 24 ÷ 1.3 = 13.846 km;
    # 75 min: 1.25 × 24 ÷ 1.3 = 23.077 km
    np.testing.assert_allclose(
        max_straight_km(np.array([45.0, 75.0]), policy=POLICY), [18 / 1.3, 30 / 1.3]
    )
    # with a road graph the fastest speed bounds it: max(24, 30, 60) = 60 km/h → 45 km in 45 min
    g = _road_graph()
    np.testing.assert_allclose(max_straight_km(np.array([45.0]), policy=POLICY, graph=g), [45.0])


# --------------------------------------------------------------------------- KD-tree pruning

points = st.lists(st.tuples(st.integers(0, 30000), st.integers(0, 30000)), min_size=0, max_size=25)


@settings(PROFILE)
@given(points, points, st.data())
def test_pairs_within_equals_brute_force(homes, schools, data):
    radius = np.array(
        data.draw(st.lists(st.floats(0.0, 25.0), min_size=len(homes), max_size=len(homes))), float
    )
    h = np.array(homes, float).reshape(-1, 2)
    s = np.array(schools, float).reshape(-1, 2)
    c, k = pairs_within(h, s, radius)
    brute = [
        (i, j)
        for i in range(len(h))
        for j in range(len(s))
        if math.hypot(*(h[i] - s[j])) <= radius[i] * 1000.0
    ]
    # the same pairs, in child then setting order
    assert list(zip(c.tolist(), k.tolist(), strict=True)) == brute


@settings(PROFILE)
@given(
    st.lists(
        st.tuples(st.floats(300000, 420000), st.floats(350000, 450000)), min_size=1, max_size=15
    ),
    st.lists(
        st.tuples(st.floats(300000, 420000), st.floats(350000, 450000)), min_size=1, max_size=15
    ),
    st.floats(1.0, 3.0),
    st.floats(5.0, 100.0),
    st.floats(10.0, 120.0),
)
def test_pruning_never_drops_a_pair_within_the_cap(homes, schools, detour, speed, cap):
    pol = optimiser.Policy(detour_factor=detour, speed_kmh=speed)
    h, s = np.array(homes), np.array(schools)
    c, k = pairs_within(h, s, max_straight_km(np.full(len(h), cap), policy=pol))
    kept = set(zip(c.tolist(), k.tolist(), strict=True))
    ii, jj = np.meshgrid(np.arange(len(h)), np.arange(len(s)), indexing="ij")
    _, mins = road_km_and_min(h[ii.ravel()], s[jj.ravel()], policy=pol)
    within = {
        (int(i), int(j)) for i, j, m in zip(ii.ravel(), jj.ravel(), mins, strict=True) if m <= cap
    }
    assert within <= kept


@st.composite
def road_graphs(draw):
    n = draw(st.integers(2, 7))
    xy = draw(
        st.lists(
            st.tuples(st.integers(370000, 390000), st.integers(385000, 405000)),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    g = nx.Graph()
    for v, (x, y) in enumerate(xy):
        g.add_node(v, x=float(x), y=float(y))
    for a in range(n):
        for b in range(a + 1, n):
            if draw(st.booleans()):
                # a road is never shorter than the straight line between its ends
                straight = math.dist(xy[a], xy[b])
                g.add_edge(
                    a,
                    b,
                    length=straight * draw(st.floats(1.0, 2.0)),
                    speed_kph=draw(st.floats(10.0, 110.0)),
                )
    return g


@settings(PROFILE)
@given(
    road_graphs(),
    st.lists(
        st.tuples(st.integers(368000, 392000), st.integers(383000, 407000)), min_size=1, max_size=6
    ),
    st.lists(
        st.tuples(st.integers(368000, 392000), st.integers(383000, 407000)), min_size=1, max_size=6
    ),
    st.floats(5.0, 90.0),
)
def test_pruning_never_drops_a_road_pair_within_the_cap(g, homes, schools, cap):
    h, s = np.array(homes, float), np.array(schools, float)
    c, k = pairs_within(h, s, max_straight_km(np.full(len(h), cap), policy=POLICY, graph=g))
    kept = set(zip(c.tolist(), k.tolist(), strict=True))
    ii, jj = np.meshgrid(np.arange(len(h)), np.arange(len(s)), indexing="ij")
    _, mins = road_km_and_min(h[ii.ravel()], s[jj.ravel()], policy=POLICY, graph=g)
    within = {
        (int(i), int(j)) for i, j, m in zip(ii.ravel(), jj.ravel(), mins, strict=True) if m <= cap
    }
    assert within <= kept


def test_pruning_keeps_a_pair_exactly_at_the_cap():
    home = np.array([[E0, N0]])
    school = np.array([[393845.98076959135, 395069.2304807696]])  # 13846.153846153848 m away
    _, mins = road_km_and_min(home, school, policy=POLICY)
    assert mins[0] == 45.0  # exactly the primary cap
    c, _ = pairs_within(home, school, max_straight_km(np.array([45.0]), policy=POLICY))
    assert c.tolist() == [0]


# --------------------------------------------------------------------------- road graph


def _road_graph() -> nx.Graph:
    # a (380000, 395000) — b (385000, 395000): 6000 m at 30 km/h = 12 min
    # b — c (385000, 398000): 4000 m at 60 km/h = 4 min
    # a — c: 9000 m, no speed (policy 24 km/h) = 22.5 min
    g = nx.Graph()
    g.add_node("a", x=E0, y=N0)
    g.add_node("b", x=E0 + 5000, y=N0)
    g.add_node("c", x=E0 + 5000, y=N0 + 3000)
    g.add_edge("a", "b", length=6000.0, speed_kph=30.0)
    g.add_edge("b", "c", length=4000.0, speed_kph=60.0)
    g.add_edge("a", "c", length=9000.0)
    return g


def _write_case(
    folder: Path, *, settings_rows: list[dict], children: list[dict], graph: nx.Graph | None
) -> Path:
    folder.mkdir(parents=True)
    pd.DataFrame([{"package_id": "P1", "name": "P1"}]).to_csv(folder / "packages.csv", index=False)
    pd.DataFrame(
        [
            {
                "setting_type": "maintained_special",
                "age_min": 4,
                "age_max": 19,
                "total_places": 9,
                "name": "s",
                **s,
            }
            for s in settings_rows
        ]
    ).to_csv(folder / "settings.csv", index=False)
    pd.DataFrame(
        [
            {
                "setting_id": s["setting_id"],
                "package_id": "P1",
                "places": 9,
                "annual_cost_gbp": 20000,
            }
            for s in settings_rows
        ]
    ).to_csv(folder / "places.csv", index=False)
    pd.DataFrame([{"package_id": "P1", "age": 8, "preferences": "", **c} for c in children]).to_csv(
        folder / "children.csv", index=False
    )
    if graph is not None:
        nx.write_graphml(graph, folder / "roads.graphml")
    (folder / "policy.yaml").write_text(yaml.safe_dump({"transport": FLAT_TRANSPORT}))
    return folder


def test_graph_times_by_hand():
    g = _road_graph()
    home = np.array([[E0, N0], [E0, N0 - 300]])  # at node a; 300 m south of a
    school = np.array([[E0 + 5000, N0 + 3000]] * 2)  # at node c
    km, mins = road_km_and_min(home, school, policy=POLICY, graph=g)
    # fastest route a-b-c: 12 + 4 = 16 min over 6 + 4 = 10 km (a-c is shorter, 9 km, but
    # slower, 22.5 min); the second home adds a 300 m access leg at 24 km/h = 0.75 min
    np.testing.assert_allclose(km, [10.0, 10.3])
    np.testing.assert_allclose(mins, [16.0, 16.75])
    g.remove_edge("a", "b")  # only a-c is left: 9 km at the policy speed = 22.5 min
    km, mins = road_km_and_min(home[:1], school[:1], policy=POLICY, graph=g)
    np.testing.assert_allclose(km, [9.0])
    np.testing.assert_allclose(mins, [22.5])


def test_roads_graphml_in_dataset_changes_distances(tmp_path):
    kids = [
        dict(child_id="K1", easting=E0, northing=N0),
        dict(child_id="K2", easting=E0, northing=N0 - 300),
    ]
    setting = [dict(setting_id="S", easting=E0 + 5000, northing=N0 + 3000)]
    plain = optimiser.load_dataset(
        _write_case(tmp_path / "plain", settings_rows=setting, children=kids, graph=None)
    )
    roads = optimiser.load_dataset(
        _write_case(tmp_path / "roads", settings_rows=setting, children=kids, graph=_road_graph())
    )
    assert plain.roads is None and roads.roads is not None
    # without roads: K1 straight √(5000² + 3000²) = 5830.95 m → 7.580 km, 18.95 min
    p = optimiser.options(plain).set_index("child_id")
    assert p.loc["K1", "distance_km"] == pytest.approx(math.hypot(5, 3) * 1.3)
    assert p.loc["K1", "travel_min"] == pytest.approx(math.hypot(5, 3) * 1.3 * 2.5)
    # with roads (see test_graph_times_by_hand): K1 10 km / 16 min, K2 10.3 km / 16.75 min;
    # transport 2 × 10 / 1.609344 × 190 × 2.6 = 6139.15 and (10.3 km) 6323.32
    r = optimiser.options(roads).set_index("child_id")
    np.testing.assert_allclose(r["distance_km"], [10.0, 10.3])
    np.testing.assert_allclose(r["travel_min"], [16.0, 16.75])
    np.testing.assert_allclose(r["transport_cost_gbp"], [6139.15, 6323.32])
    assert r["arc_cost"].tolist() == [26139, 26323]
    res = optimiser.allocate(roads)
    assert res.objective == 26139.0 + 26323.0
    np.testing.assert_allclose(res.placements["travel_min"], [16.0, 16.75])


def _fast_road_case(tmp_path: Path, *, prefs: str = "") -> optimiser.Dataset:
    # A 20 km road at 100 km/h from the child's home (node a) to S1 (node b): 12 min.
    # Straight × detour would be 26 km = 65 min, over the 45-minute primary cap.
    # S2 sits on a separate road (nodes c-d) that does not connect to a-b.
    g = nx.Graph()
    g.add_node("a", x=E0, y=N0)
    g.add_node("b", x=E0 + 20000, y=N0)
    g.add_node("c", x=E0 + 3000, y=N0 + 3000)
    g.add_node("d", x=E0 + 3001, y=N0 + 3000)
    g.add_edge("a", "b", length=20000.0, speed_kph=100.0)
    g.add_edge("c", "d", length=1.0)
    return optimiser.load_dataset(
        _write_case(
            tmp_path / "fast",
            graph=g,
            settings_rows=[
                dict(setting_id="S1", easting=E0 + 20000, northing=N0),
                dict(setting_id="S2", easting=E0 + 3000, northing=N0 + 3000),
            ],
            children=[dict(child_id="K", easting=E0, northing=N0, preferences=prefs)],
        )
    )


def test_fast_road_brings_a_far_setting_within_the_cap(tmp_path):
    ds = _fast_road_case(tmp_path)
    opts = optimiser.options(ds).set_index("setting_id")
    # S1: 20 km in 12 min (eligible); S2 is unreachable by road, so not eligible
    assert list(opts.index) == ["S1"]
    assert opts.loc["S1", "travel_min"] == pytest.approx(12.0)
    assert opts.loc["S1", "distance_km"] == pytest.approx(20.0)
    assert opts.loc["S1", "arc_cost"] == 32278  # 20000 + 2 × 20/1.609344 × 190 × 2.6 = 12278.29


def test_allocate_with_fast_road_passes_the_check(tmp_path):
    res = optimiser.allocate(_fast_road_case(tmp_path))
    placed = res.placements
    assert dict(zip(placed["child_id"], placed["setting_id"], strict=True)) == {"K": "S1"}


def test_ranked_setting_unreachable_by_road(tmp_path):
    # K ranks S2, which no road reaches: no usable journey, so no arc (or at least a finite one)
    ds = _fast_road_case(tmp_path, prefs="S2")
    opts = optimiser.options(ds)
    assert np.isfinite(opts[["distance_km", "travel_min"]].to_numpy()).all()
    assert list(opts["setting_id"]) == ["S1"]
