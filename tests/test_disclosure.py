"""Disclosure control: 1-7 → "c", other counts rounded to 5, derived figures withheld."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.disclosure import (
    SUPPRESSED,
    check_publishable,
    is_publishable_count,
    publish_change,
    publish_count,
    publish_derived,
    publish_share,
    publish_table,
)

counts = st.integers(min_value=0, max_value=100_000)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, 0),
        (1, "c"),
        (3, "c"),
        (7, "c"),
        (8, 10),
        (10, 10),
        (12, 10),
        (13, 15),
        (17, 15),
        (18, 20),
        (22, 20),
        (23, 25),
        (1002, 1000),
        (1003, 1005),
        (np.int64(9), 10),
        (float("nan"), "c"),
        (None, "c"),
    ],
)
def test_publish_count_examples(n, shown):
    assert publish_count(n) == shown


def test_publish_count_rejects_negative():
    with pytest.raises(ValueError, match="cannot be negative"):
        publish_count(-1)


@given(counts)
def test_published_count_never_1_to_7_and_always_a_multiple_of_5(n):
    shown = publish_count(n)
    if shown == SUPPRESSED:
        assert 1 <= n <= 7
    else:
        assert shown % 5 == 0
        assert not 1 <= shown <= 7
        assert abs(shown - n) <= 2
        assert (shown == 0) == (n == 0)  # zeros kept, and nothing else becomes 0
    assert is_publishable_count(shown)


@given(counts)
def test_publish_count_is_monotone(n):
    a, b = publish_count(n), publish_count(n + 1)
    if SUPPRESSED not in (a, b):
        assert a <= b


@given(st.lists(counts, min_size=1, max_size=60))
@settings(max_examples=200)
def test_published_column_is_consistent_with_the_true_total(values):
    frame = pd.DataFrame({"area": [f"W{i}" for i in range(len(values))], "n_children": values})
    out = publish_table(frame, counts=["n_children"], keep=["area"])
    shown = list(out["n_children"])
    assert all(is_publishable_count(v) for v in shown)
    check_publishable(out)
    numeric = [v for v in shown if v != SUPPRESSED]
    k_num, k_c = len(numeric), len(shown) - len(numeric)
    total = sum(values)
    # every shown count is within 2 of the truth; every "c" hides 1-7
    assert sum(numeric) + k_c - 2 * k_num <= total <= sum(numeric) + 7 * k_c + 2 * k_num
    # the LA total published separately agrees within the same bounds
    la = publish_count(total)
    if la != SUPPRESSED:
        assert abs(la - total) <= 2


@given(counts, counts)
def test_publish_share_withheld_on_any_small_part(num, extra):
    den = num + extra
    shown = publish_share(num, den)
    small = any(1 <= x <= 7 for x in (num, den, den - num)) or den == 0
    if small:
        assert shown == SUPPRESSED
    else:
        assert shown == pytest.approx(num / den)  # from the unrounded figures


def test_publish_derived_single_and_several_bases():
    assert publish_derived(1234.5, 20) == 1234.5
    assert publish_derived(1234.5, 5) == SUPPRESSED
    assert publish_derived(0.25, (20, 5)) == SUPPRESSED
    assert publish_derived(0.25, (20, 0)) == 0.25
    assert publish_derived(float("nan"), 20) == SUPPRESSED


def test_publish_change_uses_published_figures():
    assert publish_change(15, 10) == 5
    assert publish_change(SUPPRESSED, 10) == SUPPRESSED
    assert publish_change(10, SUPPRESSED) == SUPPRESSED


def test_publish_table_drops_unnamed_columns_and_keeps_input():
    frame = pd.DataFrame(
        {
            "ward_code": ["A", "B", "C"],
            "child_id": ["C1", "C2", "C3"],
            "placed_children": [3, 12, 0],
            "mean_travel_min": [20.0, 31.5, math.nan],
            "inmss_children": [0, 9, 0],
            "inmss_share": [0.0, 0.75, math.nan],
        }
    )
    before = frame.copy()
    out = publish_table(
        frame,
        counts=["placed_children", "inmss_children"],
        derived={
            "mean_travel_min": "placed_children",
            "inmss_share": ("inmss_children", "placed_children"),
        },
        keep=["ward_code"],
    )
    pd.testing.assert_frame_equal(frame, before)
    assert "child_id" not in out.columns
    assert list(out["placed_children"]) == ["c", 10, 0]
    assert list(out["inmss_children"]) == [0, 10, 0]
    assert list(out["mean_travel_min"]) == ["c", 31.5, "c"]
    assert list(out["inmss_share"]) == ["c", 0.75, "c"]


@pytest.mark.parametrize("bad", [3, 12, 1.5, "x", True])
def test_check_publishable_rejects_raw_counts(bad):
    frame = pd.DataFrame({"placed_children": [10, bad]})
    with pytest.raises(ValueError, match="placed_children"):
        check_publishable(frame)


def test_check_publishable_accepts_published_and_ignores_other_columns():
    check_publishable(pd.DataFrame({"placed_children": ["c", 0, 10, 1005], "places": [3, 1, 2, 4]}))
