"""Sufficiency in whole places: each setting's places go to phases where its placed children
are first, the spare by age overlap (largest remainder), so that every row satisfies

    places, placed, unplaced, shortfall, spare_places are whole numbers;
    demand = placed + unplaced;  placed ≤ places;  spare_places = places − placed;
    shortfall = max(demand − places, 0) = max(unplaced − spare_places, 0) ≤ unplaced;

and Σ over a package's phases of places = that package's places at open settings.
Definitions: docs/measures.md.

Tiny (tests/data/tiny): S1 maintained special 4-19 (P1 2, P2 2), S2 inclusion base 4-11
(P1 2), S3 independent 5-19 (P1 5, P2 5). Phases: primary 4-10, secondary 11-15, post16 16-19.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optimiser
from optimiser.allocation.kpis import _largest_remainder, _largest_remainder_rows, phase_places
from optimiser.scenarios.scenario import scenario_from_mapping


def check_rows(ds: optimiser.Dataset, res: optimiser.AllocationResult) -> None:
    """Every identity of the module docstring, on every row."""
    s = res.sufficiency
    for col in ("demand", "places", "placed", "placed_inmss", "unplaced", "shortfall"):
        assert pd.api.types.is_integer_dtype(s[col]), col
    assert (s["demand"] == s["placed"] + s["unplaced"]).all()
    over = s["placed"] > s["places"]
    assert not over.any() or res.warnings, s[over]  # only where continuing are kept over
    ok = ~over
    assert (s.loc[ok, "spare_places"] == s.loc[ok, "places"] - s.loc[ok, "placed"]).all()
    assert (s["shortfall"] == (s["demand"] - s["places"]).clip(lower=0)).all()
    expected = (s["unplaced"] - s["spare_places"]).clip(lower=0)
    assert (s.loc[ok, "shortfall"] == expected[ok]).all()
    assert (s.loc[ok, "shortfall"] <= s.loc[ok, "unplaced"]).all()
    open_ = ds.places.merge(ds.settings[["setting_id", "closed"]], on="setting_id")
    by_pkg = open_[~open_["closed"]].groupby("package_id")["places"].sum()
    got = s.groupby("package_id")["places"].sum()
    assert got.to_dict() == by_pkg.reindex(got.index).fillna(0).astype(int).to_dict()


def test_tiny_by_hand(tiny):
    """S1 P1: C3 secondary, the 1 spare to primary (7 of 16 ages); S1 P2: C5 primary, C4
    secondary; S2 P1: C1, C2 primary; S3 P1: C6 primary + 4 spare by 6:5:4 → 2, 1, 1;
    S3 P2: 5 by 6:5:4 → 2, 2, 1 (quotas 2, 1.67, 1.33)."""
    res = optimiser.allocate(tiny)
    s = res.sufficiency.set_index(["package_id", "phase"])
    assert s.loc["P1", "places"].tolist() == [1 + 2 + 3, 1 + 0 + 1, 0 + 0 + 1]
    assert s.loc["P2", "places"].tolist() == [1 + 2, 1 + 2, 0 + 1]
    assert s.loc["P1", "placed"].tolist() == [3, 1, 0]
    assert s.loc["P1", "spare_places"].tolist() == [3, 1, 1]
    check_rows(tiny, res)


def test_publish_places_use_the_age_split_only(tiny):
    """Without placements (public information): S1 2 → 1, 1, 0; S2 2 → 2, 0, 0; S3 5 → 2, 2, 1."""
    got = phase_places(tiny, pd.Index(tiny.packages["package_id"]))
    assert got.tolist() == [[5, 3, 1], [3, 3, 1]]


@pytest.mark.parametrize(
    "changes",
    [
        [],
        [{"close_setting": {"setting_id": "S017"}}],
        [{"close_setting": {"setting_id": "S006"}}],
        [{"demand_growth": {"SPP3": 1.3, "SPP4": 1.3}}],
    ],
)
def test_every_row_identity_on_the_default_data(default_ds, changes):
    sc = scenario_from_mapping({"name": "x", "changes": changes}) if changes else None
    ds = sc.apply(default_ds) if sc else default_ds
    check_rows(ds, optimiser.allocate(ds))


def test_default_rows_are_whole_and_consistent(default_ds):
    """Before issue 14: SPP1 post16 places 17.5 beside 20 placed; 19 shortfall, 2 unplaced."""
    s = optimiser.allocate(default_ds).sufficiency
    assert (s["placed"] <= s["places"]).all()
    assert s["shortfall"].sum() <= s["unplaced"].sum()


@given(
    total=st.integers(0, 500),
    weights=st.lists(st.integers(0, 30), min_size=1, max_size=3),
)
def test_largest_remainder_is_whole_exact_and_within_one_of_the_quota(total, weights):
    w = np.array(weights, float)
    out = _largest_remainder(total, w)
    assert out.sum() == total and (out >= 0).all()
    if w.sum() > 0:
        quota = total * w / w.sum()
        assert (np.abs(out - quota) < 1).all()


@given(
    rows=st.lists(
        st.tuples(
            st.integers(-3, 60),
            st.lists(
                st.one_of(st.integers(0, 12), st.floats(0, 12, allow_nan=False)),
                min_size=3,
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_largest_remainder_rows_is_the_rule_row_by_row(rows):
    """The vectorised split (phase_places, all rows at once) is _largest_remainder's, exactly."""
    totals = np.array([t for t, _ in rows], np.int64)
    weights = np.array([w for _, w in rows], float)
    want = np.array([_largest_remainder(int(t), w) for t, w in zip(totals, weights, strict=True)])
    assert np.array_equal(_largest_remainder_rows(totals, weights), want)
