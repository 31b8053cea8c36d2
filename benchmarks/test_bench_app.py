"""``pytest -m slow``: the app's speed targets (benchmarks/bench_app.py) on the default data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_app import FIRST_PAGE_S, OPTION_CHANGE_S, measure  # noqa: E402

pytestmark = pytest.mark.slow


def test_first_page_and_option_change_within_targets():
    m = measure(n_changes=5)
    assert m["first_page_s"] < FIRST_PAGE_S, m
    assert m["option_change_median_s"] < OPTION_CHANGE_S, m
