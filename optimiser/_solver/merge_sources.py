"""Interchangeable sources of a network merged into one node each, for a cost-only solve.

A *source* here is a node with supply 1, no arc into it and every arc out of it of
capacity 1: a child of the allocation's network. Two sources whose out-arcs are the same
multiset of (head, cost) are interchangeable. Merging each such group of k sources into
its first node (supply k, each of its arcs capacity k; the other members left out, with
their arcs) keeps the maximum flow and its least cost, so a solve that wants only
that number (the bonus count D* of :mod:`optimiser._solver.bonus_flow`) can solve the
smaller network.

Proof. A flow of the original network sums, group by group, to a flow of the merged one
of the same value and cost (k arcs of capacity 1 onto one of capacity k, k supplies of 1
onto one of k). Conversely, an integral flow of the merged network sends at most k units
out of a group's node, x_a ≤ k on each of its arcs a; hand those units to the group's k
members one each (member j takes the j-th unit, on that unit's arc): each member sends at
most one unit, on one of its own arcs of capacity 1, at the same cost. Both networks
therefore have the same maximum flow and the same least cost of one. Nothing else about
the network is assumed. Nodes with no arc carry no flow and are left out too: the
count's solve time follows its nodes as well as its arcs (nationally 267,158 nodes, most
of them continuing children with no arc, against 70,904 kept).

Nationally the count's 82,728 children with arcs fall into 53,746 groups (3.85 M → 3.30 M
arcs; measured 2026-12-04), since children of one neighbourhood with the same package and
preference have the same eligible places.

Sources are grouped exactly: by their number of arcs and two 64-bit hashes of their arcs,
then every member's sorted arcs are compared with its group's first member's, and a member
that differs (a hash collision) stays a node of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optimiser._solver.chunked_flow import ArcChunk, ChunkedNetwork, CostOf

#: Multipliers of the two arc hashes (odd 64-bit constants: splitmix64's and a golden ratio).
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9))


@dataclass(frozen=True)
class MergedSources:
    """``net`` with its interchangeable sources merged (a :class:`ChunkedNetwork`).

    Its chunks are ``net``'s, made again on each call, with each chunk's cost already
    ``cost_of(chunk)``: solve it with the chunks' own costs
    (:func:`optimiser._solver.chunked_flow.full_cost`). Its nodes are ``net``'s that keep an
    arc, numbered again in their order (``node``); a merged group is its first member.
    """

    net: ChunkedNetwork
    cost_of: CostOf
    node: np.ndarray  # per node of net: its number here, or -1 (merged into another, or no arc)
    size: np.ndarray  # per node of net: its group's size (1 for every node not merged)
    supply: np.ndarray  # per node here: k at a group of k, net's supply otherwise
    n_arcs: int
    n_bonus: int
    n_groups: int  # sources left, each a group (a source merged with none: a group of 1)

    def chunks(self) -> Iterator[ArcChunk]:
        for chunk in self.net.chunks():
            keep = self.node[chunk.tail] >= 0
            tail = chunk.tail[keep]
            yield ArcChunk(
                self.node[tail],
                self.node[chunk.head[keep]],
                np.where(self.size[tail] > 1, self.size[tail], chunk.capacity[keep]),
                np.asarray(self.cost_of(chunk), np.int64)[keep],
                chunk.bonus[keep],
            )


def merge_identical_sources(net: ChunkedNetwork, cost_of: CostOf) -> MergedSources:
    """``net`` at costs ``cost_of(chunk)`` with its interchangeable sources merged.

    See the module docstring: a max flow at least cost of the result has the same value
    and cost as one of ``net``; its flows are not ``net``'s (a group's flow is not split).
    """
    n = int(net.supply.size)
    supply = np.asarray(net.supply)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    not_source = supply != 1
    has_arc = np.zeros(n, bool)
    for chunk in net.chunks():
        not_source[chunk.head] = True  # an arc into it
        not_source[chunk.tail[chunk.capacity != 1]] = True
        has_arc[chunk.tail] = has_arc[chunk.head] = True
        parts.append(
            (
                chunk.tail.astype(np.int32),
                chunk.head.astype(np.int32),
                np.asarray(cost_of(chunk), np.int64),
                chunk.bonus,
            )
        )
    n_arcs, n_bonus = net.n_arcs, sum(int(np.count_nonzero(p[3])) for p in parts)
    for j, part in enumerate(parts):  # the sources' arcs, one chunk at a time (memory)
        keep = ~not_source[part[0]]
        parts[j] = (part[0][keep], part[1][keep], part[2][keep], part[3][keep])
    tail, head, cost, bonus = (
        np.concatenate([p[i] for p in parts]) if parts else np.empty(0, np.int32) for i in range(4)
    )
    del parts
    size = np.ones(n, np.int64)
    dropped = np.zeros(n, bool)
    if tail.size:
        if not _sorted(tail, head, cost):
            order = np.lexsort((cost, head, tail))
            tail, head, cost, bonus = tail[order], head[order], cost[order], bonus[order]
        node, rep = _groups(tail, head, cost)
        dropped[node[rep != node]] = True
        size += np.bincount(rep[rep != node], minlength=n)
        gone = dropped[tail]
        n_arcs -= int(np.count_nonzero(gone))
        n_bonus -= int(np.count_nonzero(bonus[gone]))
    # a node with no arc carries no flow: it is left out, as are the merged members
    kept = has_arc & ~dropped
    number = np.where(kept, np.cumsum(kept) - 1, -1)
    merged_supply = np.where(size > 1, size, supply)[kept]
    n_sources = int(np.count_nonzero(~not_source & kept))
    return MergedSources(net, cost_of, number, size, merged_supply, n_arcs, n_bonus, n_sources)


def _sorted(tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> bool:
    """Whether the arcs are sorted by (tail, head, cost) (the allocation's are)."""
    if tail.size < 2:
        return True
    t0, t1, h0, h1 = tail[:-1], tail[1:], head[:-1], head[1:]
    return bool(
        np.all((t1 > t0) | ((t1 == t0) & ((h1 > h0) | ((h1 == h0) & (cost[1:] >= cost[:-1])))))
    )


def _groups(tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each source (sorted arcs, by tail) and its group's first source: two arrays by source.

    Candidates share their number of arcs and both hashes; each member is then compared arc
    by arc with its candidate group's first source and, where any arc differs, left alone.
    """
    start = np.flatnonzero(np.r_[True, tail[1:] != tail[:-1]])
    node = tail[start].astype(np.int64)
    count = np.diff(np.r_[start, tail.size])
    key = head.astype(np.uint64) << np.uint64(32) ^ cost.astype(np.uint64)
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(_mixed(key, _MIX[0]), start)
        h2 = np.add.reduceat(_mixed(key, _MIX[1]), start)
    order = np.lexsort((node, h2, h1, count))
    c, a, b = count[order], h1[order], h2[order]
    same = np.r_[False, (c[1:] == c[:-1]) & (a[1:] == a[:-1]) & (b[1:] == b[:-1])]
    lead = order[np.maximum.accumulate(np.where(same, 0, np.arange(order.size)))]
    rep_of = np.empty(order.size, np.int64)
    rep_of[order] = lead  # each source's candidate group's first source (by position)
    # compare every member's arcs with its first source's, arc by arc
    member = np.flatnonzero(rep_of != np.arange(order.size))
    if member.size:
        k = count[member]
        offset = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        mine = np.repeat(start[member], k) + offset
        theirs = np.repeat(start[rep_of[member]], k) + offset
        differs = (head[mine] != head[theirs]) | (cost[mine] != cost[theirs])
        bad = np.unique(np.repeat(np.arange(member.size), k)[differs])
        rep_of[member[bad]] = member[bad]  # a collision: that source stays alone
    return node, node[rep_of]


def _mixed(key: np.ndarray, multiplier: np.uint64) -> np.ndarray:
    """A 64-bit hash of each key (multiply, xor-shift, multiply: splitmix64's finaliser)."""
    with np.errstate(over="ignore"):
        x = key * multiplier
        x ^= x >> np.uint64(31)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(29)
    return x
