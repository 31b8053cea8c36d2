"""Slow check of the futures benchmark: reused arcs within 2× of the flow, Dask = serial.

Run with ``pytest -m slow benchmarks/test_bench_futures.py``. One small run of
``bench_futures.measure`` (4 warm-up futures, 8 timed, 8 on the cluster). The Dask speed-up
target (≥ 1.7× on 2 workers) is held only on an idle machine (1-minute load < 1.5): on a
shared one two workers do not get two cores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_futures as bench  # noqa: E402

pytestmark = pytest.mark.slow


def test_futures_benchmark_targets():
    idle = os.getloadavg()[0] < 1.5
    r = bench.measure(8, warm=4, same=8)
    assert r["identical"], "the cluster's tables differ from the serial loop's"
    assert r["per_alloc_year_ms"] <= 2.0 * r["per_flow_ms"], r
    if idle:
        assert r["speedup"] >= 1.7, r
