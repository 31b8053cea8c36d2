"""A network handed to OR-Tools chunk by chunk (optimiser/_solver/chunked_flow.py) solves as whole.

The chunked solve must give the very flow of :func:`solve_min_cost_flow` on the same arcs
(same order, so the same optimum among ties), whatever the chunk size; the allocation's
:func:`flow_network_chunks` must make exactly :func:`build_flow_network`'s arcs; bad
arrays get the whole-array solve's errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from optimiser._errors import DataValidationError
from optimiser._solver import chunked_flow
from optimiser._solver.bonus_flow import solve_max_flow_with_bonus
from optimiser._solver.chunked_flow import ArrayNetwork, max_flow_cost, solve_max_flow
from optimiser._solver.flow import solve_min_cost_flow
from optimiser.allocation import network
from optimiser.allocation.arcs import build_arcs, child_frame
from optimiser.allocation.network import build_flow_network, flow_network_chunks


def _random(rng: np.random.Generator, n_src: int = 30, n_dst: int = 8) -> ArrayNetwork:
    """Sources → destinations → sink, capacities short so ties and unplaced flow occur."""
    tail, dst = np.nonzero(rng.random((n_src, n_dst)) < 0.4)
    sink = n_src + n_dst
    supply = np.zeros(sink + 1, np.int64)
    supply[:n_src], supply[sink] = 1, -n_src
    tail = np.r_[tail, n_src + np.arange(n_dst)].astype(np.int64)
    head = np.r_[n_src + dst, np.full(n_dst, sink)].astype(np.int64)
    capacity = np.r_[np.ones(len(dst)), rng.integers(0, 4, n_dst)].astype(np.int64)
    cost = np.r_[rng.integers(-50, 100, len(dst)), np.zeros(n_dst)].astype(np.int64)
    bonus = np.r_[rng.random(len(dst)) < 0.3, np.zeros(n_dst, bool)]
    return ArrayNetwork(tail, head, capacity, cost, bonus, supply)


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 18])
@pytest.mark.parametrize("seed", range(6))
def test_chunked_solve_is_the_whole_solve(
    seed: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunked_flow, "CHUNK_ARCS", chunk)
    net = _random(np.random.default_rng(seed))
    want = solve_min_cost_flow(
        net.tail, net.head, net.capacity, net.cost, net.supply, max_flow=True
    )
    got = solve_max_flow(net)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want.flow)
    assert max_flow_cost(net, chunked_flow.full_cost) == want.objective
    # the cost of a solve is its own: −1 on the bonus arcs counts the most bonus flow,
    # as the whole-array solve at those costs counts it
    count = -max_flow_cost(net, lambda c: -c.bonus.astype(np.int64))
    whole = solve_min_cost_flow(
        net.tail, net.head, net.capacity, -net.bonus.astype(np.int64), net.supply, max_flow=True
    )
    assert count == -whole.objective
    assert 0 <= count <= int(net.bonus.sum())


def test_flow_network_chunks_make_build_flow_network(
    default_ds: optimiser.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    kids = child_frame(default_ds)
    arcs = build_arcs(default_ds, kids, ids=False)
    whole = build_flow_network(default_ds, arcs, kids)  # in chunks of 2**18: one here
    monkeypatch.setattr(network, "CHUNK_ARCS", 97)  # many chunks, some rows fixed
    chunks = flow_network_chunks(default_ds, arcs, kids)
    parts = list(chunks.chunks())
    assert len(parts) > 10
    for got, want in zip(
        (np.concatenate(col) for col in zip(*parts, strict=True)),
        (whole.tail, whole.head, whole.capacity, whole.cost),
        strict=False,
    ):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    bonus = np.concatenate([p.bonus for p in parts])
    free = ~arcs["fixed"].to_numpy(bool)
    duty = arcs["duty_term_gbp"].to_numpy(float)[free] < 0
    np.testing.assert_array_equal(bonus[: whole.n_choice], duty)
    assert not bonus[whole.n_choice :].any()
    assert (chunks.n_arcs, chunks.n_choice, chunks.n_bonus) == (
        len(whole.tail),
        whole.n_choice,
        int(duty.sum()),
    )
    np.testing.assert_array_equal(chunks.supply, whole.supply)
    # build_flow_network is those chunks joined, so check its choice arcs against the arcs
    # frame itself: each free row's child, its places row's pair node, capacity 1, arc_cost
    nodes = network._number_nodes(default_ds, arcs, kids)
    n = whole.n_choice
    np.testing.assert_array_equal(whole.tail[:n], arcs["c"].to_numpy()[free])
    np.testing.assert_array_equal(
        whole.head[:n], nodes.q0 + nodes.q_of_row[arcs["p"].to_numpy()[free]]
    )
    assert (whole.capacity[:n] == 1).all()
    np.testing.assert_array_equal(whole.cost[:n], arcs["arc_cost"].to_numpy()[free])
    # and the allocation over many chunks is the allocation over one
    monkeypatch.setattr(chunked_flow, "CHUNK_ARCS", 97)
    many = optimiser.allocate(default_ds)
    monkeypatch.undo()
    one = optimiser.allocate(default_ds)
    assert many.objective == one.objective
    assert many.placements["setting_id"].tolist() == one.placements["setting_id"].tolist()


def test_network_reading_narrow_columns_makes_the_same_arcs(
    default_ds: optimiser.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``reading`` the same values in narrower integers makes the very same chunks."""
    kids = child_frame(default_ds)
    arcs = build_arcs(default_ds, kids, ids=False)
    monkeypatch.setattr(network, "CHUNK_ARCS", 97)
    net = flow_network_chunks(default_ds, arcs, kids)
    narrow = {
        "c": arcs["c"].to_numpy().astype(np.int32),
        "p": arcs["p"].to_numpy().astype(np.int16),
        "arc_cost": arcs["arc_cost"].to_numpy().copy(),
    }
    other = net.reading(narrow)
    assert other._child is narrow["c"] and net._child is not narrow["c"]
    for got, want in zip(other.chunks(), net.chunks(), strict=True):
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="cannot stand for"):
        net.reading({**narrow, "p": narrow["p"][:-1]})
    with pytest.raises(ValueError, match="cannot stand for"):
        net.reading({**narrow, "c": narrow["c"].astype(float)})


def test_bad_arrays_get_the_whole_solves_errors() -> None:
    net = _random(np.random.default_rng(0))
    bad_head = ArrayNetwork(net.tail, net.head + 100, net.capacity, net.cost, net.bonus, net.supply)
    with pytest.raises(DataValidationError, match=r"head must hold node indices in \[0, "):
        solve_max_flow(bad_head)
    bad_cap = ArrayNetwork(net.tail, net.head, -net.capacity, net.cost, net.bonus, net.supply)
    with pytest.raises(DataValidationError, match="capacity must be >= 0"):
        solve_max_flow(bad_cap)
    with pytest.raises(DataValidationError, match="head has 2 entries but tail has 3"):
        solve_max_flow_with_bonus(
            [0, 0, 1],
            [1, 2],
            [1, 1, 1],
            [0, 0, 0],
            [1, 0, -1],
            bonus_arcs=[True, False, False],
            bonus=10,
            moderate_bonus=2,
        )
    with pytest.raises(DataValidationError, match="bonus_arcs has shape"):
        solve_max_flow_with_bonus(
            [0, 0],
            [1, 2],
            [1, 1],
            [0, 0],
            [1, 0, -1],
            bonus_arcs=[True],
            bonus=10,
            moderate_bonus=2,
        )
