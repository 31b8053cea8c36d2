"""The allocation's fast paths give the answers of the plainer code they stand in for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.allocation import arcs as arcs_mod
from optimiser.allocation import unplaced as unplaced_mod
from optimiser.allocation import unplaced_cost as unplaced_cost_mod
from optimiser.allocation.arcs import _take_text, _within_direct, build_arcs, child_frame
from optimiser.allocation.solve import _first_phase
from optimiser.allocation.unplaced_cost import _mean, _repeated
from optimiser.dataset.ids import code_groups
from optimiser.transport import rules
from optimiser.transport.rules import child_needs


def test_direct_pairs_are_the_hypot_test_at_the_border() -> None:
    rng = np.random.default_rng(7)
    home = rng.uniform(0, 20_000, (60, 2))
    site = rng.uniform(0, 20_000, (40, 2))
    radius = rng.uniform(0, 9_000, 60)
    radius[:3] = [-1.0, np.nan, np.inf]  # no pair, no pair, every pair
    # pairs within a few ulps of the radius, either side: the squared test cannot tell
    for i, k in zip(range(3, 40), rng.integers(0, 40, 37), strict=True):
        r = np.hypot(*(home[i] - site[k]))
        radius[i] = np.nextafter(r, np.inf if i % 2 else -np.inf)
    among = rng.random((60, 40)) < 0.9
    c, j = _within_direct(home, site, radius, among)
    expected = among & (
        np.hypot(home[:, :1] - site[:, 0], home[:, 1:] - site[:, 1]) <= radius[:, None]
    )
    got = np.zeros_like(expected)
    got[c, j] = True
    np.testing.assert_array_equal(got, expected)
    assert expected[3:40].sum() > 0 and not expected[:2].any() and expected[2].sum() > 0


@pytest.mark.parametrize(
    ("direct", "cores"),
    [(0, 1), (10**9, 1), (0, 2), (0, 3), (5_000, 2)],
    ids=["kd-tree", "direct", "kd-tree-2-threads", "kd-tree-3-threads", "mixed-2-threads"],
)
def test_near_pairs_every_way_give_the_same_arcs(direct, cores, monkeypatch) -> None:
    """KD-tree or direct, whole or each package's children split over threads: same arcs."""
    ds = optimiser.load_default()
    kids = child_frame(ds)
    calls: list[int] = []
    real = arcs_mod.pairs_within
    monkeypatch.setattr(
        arcs_mod, "pairs_within", lambda h, *a, **k: calls.append(len(h)) or real(h, *a, **k)
    )
    monkeypatch.setattr(arcs_mod, "DIRECT_PAIRS", direct)
    expected = build_arcs(ds, kids)
    whole = len(calls)
    monkeypatch.setattr(arcs_mod, "THREAD_PAIRS", 0 if cores > 1 else 10**18)
    monkeypatch.setattr(arcs_mod, "available_cores", lambda: cores)
    pd.testing.assert_frame_equal(build_arcs(ds, kids), expected, check_exact=True)
    if direct == 0 and cores > 1:  # the KD-tree passes went in parts
        assert len(calls) - whole > whole
    pd.testing.assert_frame_equal(expected, _plain_arcs(ds, kids), check_exact=True)


def _plain_arcs(ds, kids):  # type: ignore[no-untyped-def]
    """build_arcs with the default switches (direct below DIRECT_PAIRS, one thread)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(arcs_mod, "DIRECT_PAIRS", 2_000_000)
        mp.setattr(arcs_mod, "THREAD_PAIRS", 10**18)
        return build_arcs(ds, kids)


@pytest.mark.parametrize(
    "values",
    [
        ["SPP1", "SPP2", "SPP1", "SPP3"],
        ["SPP1", np.nan, "SPP1"],
        ["SPP1", None, "SPP2"],
        ["SPP1", 3, "SPP1"],
        [np.nan, np.nan],
    ],
    ids=["text", "nan", "none", "mixed", "all-missing"],
)
@pytest.mark.parametrize("few", [False, True])
def test_take_text_is_the_column_pandas_makes(values, few) -> None:
    series = pd.Series(values, dtype=object)
    pos = np.array([1, 0, 0, len(values) - 1])
    got = pd.Series(_take_text(series, pos, few=few))
    expected = pd.Series(series.to_numpy()[pos])
    assert got.dtype == expected.dtype
    pd.testing.assert_series_equal(got, expected, check_exact=True)


@pytest.mark.parametrize(
    "values",
    [np.array([1.5, 2.25, 1e6 / 3]), np.array([np.nan, 2.0, 7.0]), np.array([np.nan, np.nan])],
    ids=["plain", "nan", "all-nan"],
)
def test_mean_is_pandas_mean(values) -> None:
    got, expected = _mean(values), pd.Series(values).mean()
    assert got == expected or (np.isnan(got) and np.isnan(expected))


def test_repeated_is_frame_duplicated() -> None:
    s = np.array(["S1", "S1", "S2", np.nan, np.nan, "S1"], dtype=object)
    p = np.array(["a", "a", "a", "b", "b", None], dtype=object)
    expected = pd.DataFrame({"s": s, "p": p}).duplicated().to_numpy()
    np.testing.assert_array_equal(_repeated(s, p), expected)
    assert expected.sum() == 2


def test_first_phase_takes_a_repeated_id_from_its_first_row() -> None:
    kids = pd.DataFrame(
        {
            "child_id": pd.Series(["C1", "C2", "C1", "C3"], dtype=object),
            "phase": pd.Series(["primary", "secondary", "post16", "post16"], dtype=object),
        }
    )
    assert list(_first_phase(kids)) == ["primary", "secondary", "primary", "post16"]
    unique = kids.assign(child_id=["C1", "C2", "C4", "C3"])
    assert list(_first_phase(unique)) == list(unique["phase"])


def test_no_candidate_pair_at_all_leaves_every_child_unplaced() -> None:
    # the age filter in the near pairs can leave no pair: arcs empty, not an IndexError
    ds = optimiser.load_default()
    pol = ds.policy.model_copy(update={"continuity": "free"})
    kids = ds.children.assign(preferences=[()] * len(ds.children))
    ds = ds.replace(settings=ds.settings.assign(age_min=90, age_max=99), children=kids, policy=pol)
    assert len(build_arcs(ds)) == 0
    res = optimiser.allocate(ds)
    assert len(res.placements) == 0 and len(res.unplaced) == len(ds.children)


def _needs_the_plain_way(ds: optimiser.Dataset) -> pd.DataFrame:
    """child_needs as it was written before its fast paths (fillna on every column)."""
    kids = ds.children.reset_index(drop=True)
    by_package = (
        np.ones(len(kids), bool)
        if ds.policy.transport.cannot_walk_packages is None
        else kids["package_id"].isin(ds.policy.transport.cannot_walk_packages).to_numpy()
    )
    return pd.DataFrame(
        {
            "child_id": pd.Series(kids["child_id"].astype(str).to_numpy(object), dtype=object),
            "package_id": pd.Series(kids["package_id"].to_numpy(object), dtype=object),
            "age": kids["age"].fillna(0).astype(int).to_numpy(),
            "solo": kids["solo_transport"].fillna(False).to_numpy().astype(bool),
            "cannot_walk": kids["cannot_walk"].fillna(False).to_numpy().astype(bool) | by_package,
            "wheelchair": kids["wheelchair"].fillna(False).to_numpy().astype(bool),
            "travel_mode": pd.Series(
                kids["travel_mode"].fillna("").astype(str).to_numpy(object), dtype=object
            ),
            "ward_code": pd.Series(
                kids["ward_code"].fillna("").astype(str).to_numpy(object), dtype=object
            ),
            "x": kids["easting"].astype(float).to_numpy(),
            "y": kids["northing"].astype(float).to_numpy(),
        }
    )


@pytest.mark.parametrize(
    "change",
    ["as-is", "missing-text", "int-ward", "float-age", "missing-age", "object-flags"],
)
def test_child_needs_are_the_plain_columns(change) -> None:
    ds = optimiser.load_default()
    kids = ds.children.copy()
    n = len(kids)
    if change == "missing-text":  # None and NaN among text: filled with ""
        kids["travel_mode"] = pd.Series([None, np.nan, *kids["travel_mode"][2:]], dtype=object)
        kids["ward_code"] = pd.Series([np.nan, *kids["ward_code"][1:]], dtype=object)
    elif change == "int-ward":  # not text: made text
        kids["ward_code"] = pd.Series(range(n), dtype=object)
    elif change == "float-age":
        kids["age"] = kids["age"].astype(float) + 0.5
    elif change == "missing-age":
        kids["age"] = pd.array([None, *kids["age"][1:]], dtype="Int64")
    elif change == "object-flags":  # flags as objects with a gap
        kids["solo_transport"] = pd.Series([None, *kids["solo_transport"][1:]], dtype=object)
    ds = ds.replace(children=kids)
    got = child_needs(ds)
    expected = _needs_the_plain_way(ds)
    assert got.columns.dtype == expected.columns.dtype
    assert list(got.dtypes) == list(expected.dtypes)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_phases_by_age_table_are_the_policy_phases() -> None:
    pol = optimiser.Policy()
    for age in (np.array([4, 19, 11, 16, 0, 25, 11]), np.array([3, 5000]), np.zeros(0, int)):
        got = arcs_mod._phases(pol, age)
        expected = pol.phases_of_ages(age)
        assert got.dtype == expected.dtype == object
        assert list(got) == list(expected)


def _assess_codes_by_table(road_km, *, solo, eligible, wheelchair, agreed, policy):
    """assess_codes as first written: the journeys × modes table of _daily_gbp, argmin."""
    day = rules._daily_gbp(road_km, policy)
    t = policy.transport
    no_chair = np.array([getattr(t, rules.MODES[m]).wheelchair_spaces == 0 for m in rules._SHARED])
    shared = np.where(
        np.asarray(wheelchair, bool)[:, None] & no_chair, np.inf, day[:, rules._SHARED]
    )
    best = np.where(
        np.isfinite(shared).any(axis=1), rules._SHARED[np.argmin(shared, axis=1)], rules._SOLO
    )
    code = np.where(np.asarray(solo, bool), rules._SOLO, best)
    code = np.where(agreed >= 0, agreed, code)
    code = np.where(np.asarray(eligible, bool), code, -1)
    return code, rules._by_code(day, code, policy)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # 0 £/mile × inf miles
@pytest.mark.parametrize("seed", range(12))
def test_assess_codes_are_the_table_argmin(seed) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    km = rng.uniform(0, 60, n)
    km[rng.random(n) < 0.05] = np.nan
    km[rng.random(n) < 0.05] = np.inf
    km[rng.random(n) < 0.05] = 0.0
    km[:200] = km[200:400]  # exact ties between modes are likelier on equal distances
    base = optimiser.Policy().transport
    rates = {
        m: getattr(base, m).model_copy(
            update={
                "fixed_gbp_per_day": float(rng.choice([0.0, 10.0, 25.5])),
                "gbp_per_mile": float(rng.choice([0.0, 1.2, 2.5])),
                "wheelchair_spaces": int(rng.choice([0, 1])),
            }
        )
        for m in rules.MODES
    }
    pol = optimiser.Policy().model_copy(update={"transport": base.model_copy(update=rates)})
    agreed = np.where(rng.random(n) < 0.2, rng.integers(0, len(rules.MODES), n), -1)
    kw = {
        "solo": rng.random(n) < 0.2,
        "eligible": rng.random(n) < 0.8,
        "wheelchair": rng.random(n) < 0.3,
        "agreed": agreed,
        "policy": pol,
    }
    code, cost = rules.assess_codes(km, **kw)
    want_code, want_cost = _assess_codes_by_table(km, **kw)
    assert code.dtype == want_code.dtype and cost.dtype == want_cost.dtype
    np.testing.assert_array_equal(code, want_code)
    np.testing.assert_array_equal(cost, want_cost)  # NaN where NaN, bit for bit elsewhere


@pytest.mark.parametrize("block", [unplaced_mod.NEAREST_BLOCK, 7], ids=["one-block", "blocks"])
def test_nearest_straight_is_the_kd_tree_nearest(block, monkeypatch) -> None:
    ds = optimiser.load_default()
    rng = np.random.default_rng(11)
    xy = rng.uniform(380_000, 400_000, (50, 2))
    sxy = rng.uniform(380_000, 400_000, (30, 2))
    among = rng.random((50, 30)) < 0.3
    among[np.arange(50), rng.integers(0, 30, 50)] = True  # each home has a setting
    monkeypatch.setattr(unplaced_mod, "NEAREST_BLOCK", block)
    got = unplaced_mod._nearest_straight(xy, sxy, among, ds)
    expected = [
        unplaced_mod._nearest_minutes(xy[i : i + 1], sxy[among[i]], ds)[0] for i in range(50)
    ]
    np.testing.assert_array_equal(got, expected)


def test_groups_by_count_are_the_sorted_groups() -> None:
    groups = code_groups  # solve's and check's groups of continuing placements
    rng = np.random.default_rng(5)
    for codes in (rng.integers(0, 40, 500), np.array([3, 3, 0, 9, 0]), np.zeros(0, np.int64)):
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0]) if len(codes) else order
        first, size = groups(codes)
        np.testing.assert_array_equal(first, order[starts])
        np.testing.assert_array_equal(size, np.diff(np.r_[starts, len(codes)]))


@pytest.mark.parametrize(
    "ids",
    [["S1", "S2"], ["S1", "S1"], ["S1", None, np.nan], ["S1", None, None], [1, "1"], []],
    ids=["unique", "repeated", "two-missing-kinds", "two-none", "mixed", "empty"],
)
def test_unique_is_pandas_index_is_unique(ids) -> None:
    values = np.array(ids, dtype=object)
    assert unplaced_cost_mod._unique(values) == pd.Index(values).is_unique


@pytest.mark.parametrize("case", ["text", "objects"])
def test_ids_put_in_after_the_solve_are_the_arcs_build_arcs_makes(case, default_ds) -> None:
    """allocate builds the arcs without their text ids and adds them after the solve
    (nationally 160 MB less at its peak): the frame is then build_arcs' own, column for
    column, dtype for dtype, also for ids held as Python objects (the other _take_text path)."""
    from optimiser.allocation.arcs import add_id_columns

    ds = default_ds
    if case == "objects":
        ds = ds.replace(children=ds.children.astype({"child_id": object}))
        assert ds.children["child_id"].dtype == object
    kids = child_frame(ds)
    later = build_arcs(ds, kids, ids=False)
    assert not {"child_id", "package_id", "setting_id"} & set(later.columns)
    add_id_columns(later, ds, kids)
    pd.testing.assert_frame_equal(later, build_arcs(ds, kids), check_exact=True)
