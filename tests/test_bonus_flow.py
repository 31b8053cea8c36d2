"""The moderate bonus solved beside its proof (optimiser/_solver/bonus_flow.py) is exact.

:func:`solve_max_flow_with_bonus` solves a max flow at least cost whose costs carry a
dominating bonus −W with a moderate W' in this process while a forked process counts D*,
the most bonus flow of any maximum flow; it returns the moderate flow only when that
count proves it optimal for W, else it solves with W. Checked against the direct solve
(:func:`solve_min_cost_flow`, ``max_flow=True``) on random allocation-shaped networks,
with W' far too small on purpose (so the proof fails and the fallback runs), when the
counter dies, and through :func:`optimiser.allocate` on the default data with the size
threshold lowered so the side-by-side path runs there.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

import optimiser
from optimiser._errors import DataValidationError
from optimiser._solver import bonus_flow, resources
from optimiser._solver.bonus_flow import solve_max_flow_with_bonus
from optimiser._solver.flow import solve_min_cost_flow
from optimiser._solver.resources import available_memory_bytes

REAL_OTHER_THREADS = bonus_flow._other_threads
TWO_CORES = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


def _network(rng: np.random.Generator, n_kids: int = 12) -> dict:
    """Children → (setting, package) pairs → settings → sink, duties competing for places.

    Bonus arcs (a child preferring mainstream, a mainstream pair) cost other − W with
    W = Σ_i M_i + 1, the allocation's rule (optimiser/allocation/arcs.py).
    """
    n_set = int(rng.integers(2, 6))
    set_of_pair = np.repeat(np.arange(n_set), rng.integers(1, 3, n_set))
    n_pair = len(set_of_pair)
    mainstream = rng.random(n_set) < 0.5
    wants = rng.random(n_kids) < 0.6
    pick = rng.random((n_kids, n_pair)) < 0.5
    mainstream[0] = wants[0] = pick[0, 0] = True  # at least one bonus arc (child 0, pair 0)
    tail, q = np.nonzero(pick)
    head = n_kids + q
    other = rng.integers(0, 1000, len(tail))
    duty = wants[tail] & mainstream[set_of_pair[q]]
    largest = np.zeros(n_kids, np.int64)
    np.maximum.at(largest, tail, other)
    weight = int(largest.sum()) + 1
    s0, sink = n_kids + n_pair, n_kids + n_pair + n_set
    supply = np.zeros(sink + 1, np.int64)
    supply[:n_kids], supply[sink] = 1, -n_kids
    return dict(
        tail=np.r_[tail, n_kids + np.arange(n_pair), s0 + np.arange(n_set)],
        head=np.r_[head, s0 + set_of_pair, np.full(n_set, sink)],
        capacity=np.r_[
            np.ones(len(tail), int), rng.integers(0, 4, n_pair), rng.integers(0, 5, n_set)
        ],
        unit_cost=np.r_[other - weight * duty, np.zeros(n_pair + n_set, int)],
        supply=supply,
        bonus_arcs=np.r_[duty, np.zeros(n_pair + n_set, bool)],
        bonus=weight,
        other_max=int(other.max(initial=0)),
    )


def _direct(net: dict):  # type: ignore[no-untyped-def]
    return solve_min_cost_flow(
        net["tail"], net["head"], net["capacity"], net["unit_cost"], net["supply"], max_flow=True
    )


def _bonus(net: dict, moderate: int, **kw):  # type: ignore[no-untyped-def]
    return solve_max_flow_with_bonus(
        net["tail"],
        net["head"],
        net["capacity"],
        net["unit_cost"],
        net["supply"],
        bonus_arcs=net["bonus_arcs"],
        bonus=net["bonus"],
        moderate_bonus=moderate,
        **kw,
    )


@pytest.fixture
def side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every network counts as large, so the forked counter runs on these small ones."""
    if not TWO_CORES:
        pytest.skip("the side-by-side path needs two cores")
    monkeypatch.setattr(bonus_flow, "PARALLEL_MIN_ARCS", 0)
    # threads other tests leave behind (an app test's) would keep it in one process
    monkeypatch.setattr(bonus_flow, "_other_threads", lambda: False)


@pytest.mark.usefixtures("side_by_side")
def test_same_optimum_as_the_full_weight_and_both_outcomes_occur() -> None:
    rng = np.random.default_rng(18)
    methods: dict[str, int] = {}
    for k in range(60):
        net = _network(rng)
        # W' above every other cost, then W' = 1 (too small: the count must catch it)
        moderate = 2 * net["other_max"] + 1 if k % 2 else 1
        got, want = _bonus(net, moderate, workers=2), _direct(net)
        assert got.objective == want.objective, k
        assert got.flow.sum() == want.flow.sum()
        assert got.bonus_flow == int(want.flow[net["bonus_arcs"]].sum())
        methods[got.method] = methods.get(got.method, 0) + 1
        if got.method == "moderate":
            assert got.bonus_bound == got.bonus_flow
        else:
            assert got.method == "fallback" and got.bonus_bound is not None
            assert got.bonus_flow == got.bonus_bound > 0  # the full solve reaches D*
    assert methods.get("moderate", 0) > 10 and methods.get("fallback", 0) > 0, methods


def test_one_worker_small_networks_and_no_bonus_are_the_direct_solve() -> None:
    rng = np.random.default_rng(5)
    net = _network(rng)
    want = _direct(net)
    for kw in ({"workers": 1}, {}):  # default: below PARALLEL_MIN_ARCS
        got = _bonus(net, 2 * net["other_max"] + 1, **kw)
        assert got.method == "direct" and got.bonus_bound is None
        np.testing.assert_array_equal(got.flow, want.flow)  # the same call, the same flow
    got = _bonus(net, net["bonus"] + 5)  # W' ≥ W: nothing to gain
    assert got.method == "direct"


@pytest.mark.usefixtures("side_by_side")
def test_a_counter_that_dies_means_the_full_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bonus_flow, "_count_bonus", lambda *a: os._exit(3))
    net = _network(np.random.default_rng(7))
    got = _bonus(net, 2 * net["other_max"] + 1)
    assert got.method == "fallback" and got.bonus_bound is None
    assert got.objective == _direct(net).objective


@pytest.mark.usefixtures("side_by_side")
def test_a_counter_that_never_answers_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bonus_flow, "_count_bonus", lambda *a: time.sleep(60))
    monkeypatch.setattr(bonus_flow, "COUNTER_MIN_WAIT_S", 0.5)
    net = _network(np.random.default_rng(8))
    start = time.perf_counter()
    got = _bonus(net, 2 * net["other_max"] + 1)
    assert time.perf_counter() - start < 20  # not the counter's 60 s
    assert got.method == "fallback" and got.bonus_bound is None
    assert got.objective == _direct(net).objective


@pytest.mark.usefixtures("side_by_side")
def test_another_thread_keeps_it_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _network(np.random.default_rng(10))
    monkeypatch.setattr(bonus_flow, "_other_threads", REAL_OTHER_THREADS)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert REAL_OTHER_THREADS()
        assert _bonus(net, 2 * net["other_max"] + 1).method == "direct"
    finally:
        stop.set()
        other.join()


@pytest.mark.usefixtures("side_by_side")
def test_too_little_memory_or_a_pool_worker_solves_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = _network(np.random.default_rng(9))
    monkeypatch.setattr(bonus_flow, "available_memory_bytes", lambda: 1000)
    assert _bonus(net, 2 * net["other_max"] + 1).method == "direct"
    monkeypatch.setattr(bonus_flow, "available_memory_bytes", lambda: None)  # unknown: try
    assert _bonus(net, 2 * net["other_max"] + 1).method != "direct"
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_report_method, args=(send, net))
    proc.start()
    send.close()
    assert recv.recv() == "direct"  # inside a process multiprocessing started
    proc.join()


def _report_method(send, net: dict) -> None:  # type: ignore[no-untyped-def]
    send.send(_bonus(net, 2 * net["other_max"] + 1).method)


def test_bad_arguments_are_refused() -> None:
    net = _network(np.random.default_rng(1))
    with pytest.raises(DataValidationError, match="bonus_arcs has shape"):
        solve_max_flow_with_bonus(
            net["tail"],
            net["head"],
            net["capacity"],
            net["unit_cost"],
            net["supply"],
            bonus_arcs=net["bonus_arcs"][:-1],
            bonus=net["bonus"],
            moderate_bonus=3,
        )
    with pytest.raises(DataValidationError, match="moderate_bonus must be at least 1"):
        _bonus(net, 0)
    with pytest.raises(DataValidationError, match="workers must be at least 1"):
        _bonus(net, 3, workers=0)


@pytest.mark.usefixtures("side_by_side")
def test_allocate_side_by_side_matches_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = optimiser.load_dataset("data/trafford")
    seen: list[str] = []
    real = bonus_flow.solve_network_with_bonus

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        sol = real(*a, **kw)
        seen.append(sol.method)
        return sol

    monkeypatch.setattr("optimiser.allocation.solve.solve_network_with_bonus", spy)
    one = optimiser.allocate(ds, workers=1)
    two = optimiser.allocate(ds)  # checked by check_allocation as ever
    assert seen == ["direct", "moderate"]
    assert two.objective == one.objective
    assert len(two.placements) == len(one.placements)
    share = "mainstream_preference_met_share"
    assert two.kpis[share] == one.kpis[share]
    with pytest.raises(ValueError, match="workers must be at least 1"):
        optimiser.allocate(ds, workers=0)


def test_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    free = available_memory_bytes()
    if os.path.exists("/proc/meminfo"):  # Linux: read from MemAvailable, in bytes
        assert isinstance(free, int) and free > 2**20

    def no_proc(*a, **kw):  # type: ignore[no-untyped-def]
        raise OSError("no /proc here")

    monkeypatch.setattr(resources, "open", no_proc, raising=False)
    assert available_memory_bytes() is None  # unknown: the caller decides
