"""The settings' route searches side by side in forked processes: the same plan as in one.

Each setting's default search is work-capped and seeded, so where it runs cannot change
its routes; ``estimate_routes(workers=...)`` only changes the wall time
(benchmarks/routes_workers.py measures it). Geometry and rates as tests/test_routes.py.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import pandas as pd
import pytest
from test_routes import E0, N0, make_case
from test_routes_pyvrp import _spread

import optimiser.transport.routes.estimate as estimate
from optimiser.transport.routes.estimate import _worker_count, estimate_routes

SCHOOLS = {"S": (E0, N0), "T": (E0 + 4000.0, N0 - 3000.0), "U": (E0 - 5000.0, N0 + 2000.0)}


def _three_schools():
    """27 spread children at three schools (9, 11 and 7 of them)."""
    kids = _spread(27, seed=21)
    for i, c in enumerate(kids):
        c["setting_id"] = "S" if i < 9 else ("T" if i < 20 else "U")
    return make_case(kids, schools=SCHOOLS)


def _assert_same_plan(a, b):
    for name in ("routes", "riders"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    cols = ["setting_id", "status", "routes", "cost_gbp", "lower_bound_gbp"]
    pd.testing.assert_frame_equal(a.settings[cols], b.settings[cols])
    assert a.summary["cost_gbp"] == b.summary["cost_gbp"]


@pytest.mark.parametrize("method", ["pyvrp", "ortools"])
def test_parallel_search_gives_the_one_process_plan(method, monkeypatch):
    ds, placed = _three_schools()
    monkeypatch.setattr(estimate, "PARALLEL_MIN_CHILDREN", 0)  # fork even for 27 children
    calls = []
    real = estimate._route_in_parallel
    monkeypatch.setattr(estimate, "_route_in_parallel", lambda *a: calls.append(a[2]) or real(*a))
    one = estimate_routes(ds, placed, method=method, workers=1)
    assert calls == []
    two = estimate_routes(ds, placed, method=method, workers=2)
    assert calls == [2]  # it did search in two processes
    _assert_same_plan(one, two)
    assert set(two.routes["setting_id"]) == set(SCHOOLS)
    assert sorted(two.riders["child_id"]) == sorted(placed["child_id"])
    assert (two.settings["status"] != "time limit").all()


def test_workers_is_validated():
    ds, placed = _three_schools()
    with pytest.raises(ValueError, match="workers must be at least 1; found 0"):
        estimate_routes(ds, placed, workers=0)


def _groups(sizes):
    return [(f"S{i}", pd.DataFrame({"x": range(n)})) for i, n in enumerate(sizes)]


def test_one_process_where_parallel_cannot_help_or_cannot_run():
    big = _groups([150, 120, 90])
    assert _worker_count(4, "pyvrp", False, big) == 3  # no more processes than settings
    assert _worker_count(2, "ortools", False, big) == 2
    cores = len(os.sched_getaffinity(0))  # None: one process per core, at most per setting
    assert _worker_count(None, "pyvrp", False, big) == (min(cores, 3) if cores > 1 else 1)
    assert _worker_count(2, "pyvrp", True, big) == 1  # guided shares one budget in turn
    assert _worker_count(2, "nearest_neighbour", False, big) == 1
    assert _worker_count(2, "pyvrp", False, _groups([400])) == 1  # one setting
    assert _worker_count(2, "pyvrp", False, _groups([100, 99])) == 1  # < 200 children


def _count_in_daemon(_):
    return _worker_count(2, "pyvrp", False, _groups([150, 120, 90]))


def test_no_processes_forked_inside_a_daemon_process():
    # a multiprocessing pool's (or a Dask nanny's) worker is a daemon: no children of its own
    with mp.get_context("fork").Pool(1) as pool:
        assert pool.map(_count_in_daemon, [0]) == [1]
