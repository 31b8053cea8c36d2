"""Interchangeable sources merged (optimiser/_solver/merge_sources.py) keep the count exact.

:func:`merge_identical_sources` merges sources (supply 1, no arc in, capacity-1 arcs out)
with the same (head, cost) arcs into one node, for a solve that wants only the least cost of
a maximum flow (the bonus count D*). Checked against the unmerged network on random
allocation-shaped networks where many children repeat, in any arc order, with nodes that
must not merge (supply 2, an arc in, a capacity-2 arc), and with every hash colliding.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimiser._solver import merge_sources
from optimiser._solver.chunked_flow import ArrayNetwork, full_cost, load, max_flow_cost
from optimiser._solver.merge_sources import merge_identical_sources


def _network(rng: np.random.Generator, *, shuffle: bool) -> ArrayNetwork:
    """Children → pairs → sink; children drawn from a few arc patterns, so many repeat.

    Costs are −1 on bonus arcs, 0 elsewhere (the count's). Child 0 has supply 2, child 1
    has an arc into it from child 2, child 3 a capacity-2 arc: none of them is a source.
    """
    n_kids, n_pair = int(rng.integers(8, 40)), int(rng.integers(2, 7))
    patterns = [
        rng.choice(n_pair, int(rng.integers(1, n_pair + 1)), replace=False) for _ in range(4)
    ]
    pattern_bonus = [rng.random(len(p)) < 0.5 for p in patterns]
    arcs: list[tuple[int, int, int, bool]] = []  # (tail, head, capacity, bonus)
    for c in range(n_kids):
        k = int(rng.integers(0, len(patterns)))
        for q, b in zip(patterns[k], pattern_bonus[k], strict=True):
            arcs.append((c, n_kids + int(q), 1, bool(b)))
    arcs += [(2, 1, 1, False), (3, n_kids, 2, True)]
    sink = n_kids + n_pair
    arcs += [(n_kids + q, sink, int(rng.integers(0, 5)), False) for q in range(n_pair)]
    tail, head, cap, bonus = zip(*arcs, strict=True)
    supply = np.r_[np.ones(n_kids, np.int64), np.zeros(n_pair, np.int64), [-n_kids - 1]]
    supply[0] = 2
    order = rng.permutation(len(tail)) if shuffle else np.arange(len(tail))
    t, h, u, b = (np.asarray(x)[order] for x in (tail, head, cap, bonus))
    return ArrayNetwork(t, h, u.astype(np.int64), -b.astype(np.int64), b.astype(bool), supply)


def _max_flow(net: ArrayNetwork | merge_sources.MergedSources) -> tuple[int, int]:
    """(value, least cost) of a max flow at least cost of ``net`` at its chunks' costs."""
    smcf = load(net)
    assert smcf.solve_max_flow_with_min_cost() == smcf.OPTIMAL
    return int(smcf.maximum_flow()), int(smcf.optimal_cost())


@pytest.mark.parametrize("shuffle", [False, True])
def test_merged_network_has_the_same_max_flow_and_cost(shuffle: bool) -> None:
    rng = np.random.default_rng(7 + shuffle)
    merged_any = 0
    for _ in range(60):
        net = _network(rng, shuffle=shuffle)
        merged = merge_identical_sources(net, full_cost)
        assert _max_flow(merged) == _max_flow(net)
        assert max_flow_cost(merged, full_cost) == max_flow_cost(net, full_cost)
        assert merged.n_arcs == sum(c.tail.size for c in merged.chunks())
        assert merged.n_bonus == sum(int(c.bonus.sum()) for c in merged.chunks())
        # every unit of supply at a node with an arc is still there, in its node or its group's
        with_arc = np.isin(np.arange(net.supply.size), np.r_[net.tail, net.head])
        units = net.supply[with_arc & (net.supply > 0)].sum()
        assert merged.supply[merged.supply > 0].sum() == units
        # the nodes that are not sources are never merged away
        assert (merged.node[[0, 1, 2, 3]] >= 0).all()
        assert (merged.size[[0, 1, 2, 3]] == 1).all()
        merged_any += merged.n_arcs < net.n_arcs
    assert merged_any >= 50  # the test networks do merge, nearly always


def test_a_group_is_one_node_with_its_size_as_supply_and_capacity() -> None:
    # children 0, 1, 3 have arcs {4, 5 (bonus)}; child 2 has {4}: 0 absorbs 1 and 3
    tail = np.array([0, 0, 1, 1, 2, 3, 3, 4, 5])
    head = np.array([4, 5, 4, 5, 4, 4, 5, 6, 6])
    cap = np.array([1, 1, 1, 1, 1, 1, 1, 2, 1])
    bonus = np.array([0, 1, 0, 1, 0, 0, 1, 0, 0], bool)
    supply = np.array([1, 1, 1, 1, 0, 0, -4])
    net = ArrayNetwork(tail, head, cap, -bonus.astype(np.int64), bonus, supply)
    merged = merge_identical_sources(net, full_cost)
    assert merged.node.tolist() == [0, -1, 1, -1, 2, 3, 4]
    assert merged.supply.tolist() == [3, 1, 0, 0, -4]
    assert merged.n_arcs == 5 and merged.n_bonus == 1 and merged.n_groups == 2
    (chunk,) = list(merged.chunks())
    assert chunk.tail.tolist() == [0, 0, 1, 2, 3]
    assert chunk.head.tolist() == [2, 3, 2, 4, 4]
    assert chunk.capacity.tolist() == [3, 3, 1, 2, 1]
    assert _max_flow(merged) == _max_flow(net) == (3, -1)


def test_hash_collisions_are_caught_arc_by_arc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every arc hashed alike: sources with as many arcs collide; only identical ones merge."""
    monkeypatch.setattr(merge_sources, "_mixed", lambda key, mul: np.zeros(key.size, np.uint64))
    rng = np.random.default_rng(3)
    for _ in range(40):
        net = _network(rng, shuffle=True)
        merged = merge_identical_sources(net, full_cost)
        assert _max_flow(merged) == _max_flow(net)
    # children 0 {4, 5} and 1 {4, 6}: as many arcs, the same (zero) hashes, not the same arcs
    tail, head = np.array([0, 0, 1, 1, 2, 2, 4, 5, 6]), np.array([4, 5, 4, 6, 4, 5, 7, 7, 7])
    cap = np.ones(9, np.int64)
    supply = np.array([1, 1, 1, 0, 0, 0, 0, -3])
    net = ArrayNetwork(tail, head, cap, np.zeros(9, np.int64), np.zeros(9, bool), supply)
    merged = merge_identical_sources(net, full_cost)
    # node 3 has no arc: left out as well
    assert merged.node.tolist() == [0, 1, -1, -1, 2, 3, 4, 5]
    assert merged.supply.tolist() == [2, 1, 0, 0, 0, -3]


def test_a_network_with_no_sources_is_left_as_it_is() -> None:
    net = ArrayNetwork(
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([2, 2]),
        np.zeros(2, np.int64),
        np.zeros(2, bool),
        np.array([2, 0, -2]),
    )
    merged = merge_identical_sources(net, full_cost)
    assert merged.n_arcs == 2 and merged.node.tolist() == [0, 1, 2]
    assert merged.supply.tolist() == [2, 0, -2]
    assert _max_flow(merged) == _max_flow(net) == (2, 0)


def test_a_network_with_no_arcs_merges_nothing() -> None:
    none = np.empty(0, np.int64)
    net = ArrayNetwork(none, none, none, none, none.astype(bool), np.array([1, 1, -2]))
    merged = merge_identical_sources(net, full_cost)
    assert merged.n_arcs == merged.n_bonus == merged.n_groups == 0
    assert merged.node.tolist() == [-1, -1, -1] and merged.supply.size == 0
    assert list(merged.chunks()) == []
