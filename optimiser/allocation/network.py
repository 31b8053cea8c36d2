"""Allocation: place each child needing a Specialist Provision Package, exactly.

Formulation (min-cost flow, solved by OR-Tools ``SimpleMinCostFlow``)
-------------------------------------------------------------------
Sets: children I; (setting, package) pairs Q; settings S; arcs A ⊆ I × Q from
:mod:`optimiser.allocation.arcs` (eligibility and costs are documented there).

Continuing children (policy ``keep``) are placed first at their current
setting; their places come off the capacities below, and the network holds only
the children being placed.

Network: source supply 1 at each child i; arcs i → q for (i, q) ∈ A with
capacity 1 and cost c_iq (arc_cost, whole £/yr); q = (s, p) → s with capacity
u_q (places for package p at s); s → sink with capacity U_s (total places at s),
or s → G → sink for INMSS settings when the policy caps INMSS places (G has
capacity ``inmss_max_places``: a network-shaped group limit).

Objective, lexicographic: (1) maximise the number of children placed, then
(2) minimise Σ c_iq over the placements. OR-Tools' ``SolveMaxFlowWithMinCost``
solves exactly this, so *placing a child always beats leaving one unplaced*
whatever the costs, and the model is never infeasible: a child with no flow is
reported unplaced with a reason. Within (2) the mainstream duty dominates
preferences and cost by the weight argument in :mod:`optimiser.allocation.arcs`.

Constraints: (1) each child placed at most once (supply 1); (2) Σ_i x_iq ≤ u_q;
(3) Σ_q∈s x ≤ U_s; (4) Σ over INMSS ≤ cap. Capacities are never below the
number of continuing children already there (they keep their place).

The reported objective is Σ arc_cost over placements + P × children unplaced,
where P = max(policy ``unplaced_penalty_gbp``, largest arc cost + 1), so the
reported objective also ranks placing a child above any placement cost. Every
result is re-checked by :mod:`optimiser.allocation.check` before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.schema.tables import INMSS_TYPES


@dataclass(frozen=True)
class FlowNetwork:
    """Plain arrays of the flow network; arc k < n_choice is the k-th choice arc."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: np.ndarray
    n_choice: int


def residual_capacities(ds: Dataset, kids: pd.DataFrame) -> tuple[pd.Series, pd.Series, int | None]:
    """Places left for children to place, per (setting, package), per setting and INMSS cap.

    Continuing children keep their places first; what is left (never below 0)
    is open to the children being placed.
    """
    fixed = kids[kids["fixed"]]
    per_sp = (
        fixed.groupby(["current", "package_id"]).size().rename_axis(["setting_id", "package_id"])
    )
    places = ds.places.set_index(["setting_id", "package_id"])["places"].astype(float)
    places = (places - per_sp.reindex(places.index, fill_value=0)).clip(lower=0)
    total = ds.settings.set_index("setting_id")["total_places"].astype(float)
    total = (total - fixed.groupby("current").size().reindex(total.index, fill_value=0)).clip(
        lower=0
    )
    cap = ds.policy.inmss_max_places
    if cap is not None:
        inmss = set(ds.settings.loc[ds.settings["setting_type"].isin(INMSS_TYPES), "setting_id"])
        cap = max(cap - int(fixed["current"].isin(inmss).sum()), 0)
    return places, total, cap


def build_flow_network(ds: Dataset, arcs: pd.DataFrame, kids: pd.DataFrame) -> FlowNetwork:
    """Node and arc arrays of the model above for the children being placed (deterministic order).

    Nodes: children (in ``kids`` order); the (setting, package) pairs the arcs
    use, sorted by setting id then package id; their settings, sorted by id;
    the INMSS group node; the sink. Continuing children are not in the
    network: they keep their setting and their places come off the capacities.
    """
    n = len(kids)
    free = ~arcs["fixed"].to_numpy(bool)
    row = arcs["p"].to_numpy()[free]  # the places row of each arc = its (setting, package) pair
    places = ds.places.reset_index(drop=True)
    used = np.unique(row)
    sid = places["setting_id"].to_numpy()[used]
    pid = places["package_id"].to_numpy()[used]
    sets = np.sort(pd.unique(sid))
    used = used[np.lexsort((np.unique(pid, return_inverse=True)[1], np.searchsorted(sets, sid)))]
    q_of_row = np.full(len(places), -1, np.int64)
    q_of_row[used] = np.arange(len(used))
    free_places, total, cap = residual_capacities(ds, kids)
    q0, s0 = n, n + len(used)
    group, sink = s0 + len(sets), s0 + len(sets) + 1
    inmss = ds.setting_types.reindex(sets).isin(INMSS_TYPES).to_numpy()
    to_group = inmss if cap is not None else np.zeros(len(sets), bool)
    tail = np.concatenate(
        [arcs["c"].to_numpy()[free], q0 + np.arange(len(used)), s0 + np.arange(len(sets)), [group]]
    )
    head = np.concatenate(
        [
            q0 + q_of_row[row],
            s0 + np.searchsorted(sets, places["setting_id"].to_numpy()[used]),
            np.where(to_group, group, sink),
            [sink],
        ]
    )
    capacity = np.concatenate(
        [
            np.ones(len(row)),
            np.nan_to_num(free_places.to_numpy()[used]),
            total.reindex(sets).fillna(0).to_numpy(),
            [cap or 0],
        ]
    )
    cost = np.zeros(len(tail), np.int64)
    cost[: len(row)] = arcs["arc_cost"].to_numpy()[free]
    supply = np.zeros(sink + 1, np.int64)
    supply[:n] = ~kids["fixed"].to_numpy(bool)
    supply[sink] = -supply[:n].sum()
    return FlowNetwork(
        tail.astype(np.int64),
        head.astype(np.int64),
        capacity.astype(np.int64),
        cost,
        supply,
        len(row),
    )
