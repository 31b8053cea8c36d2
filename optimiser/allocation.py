"""Allocation: place each child needing a Specialist Provision Package, exactly.

Formulation (min-cost flow, solved by OR-Tools ``SimpleMinCostFlow``)
-------------------------------------------------------------------
Sets: children I; (setting, package) pairs Q; settings S; arcs A ⊆ I × Q from
:mod:`optimiser.arcs` (eligibility and costs are documented there).

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
preferences and cost by the weight argument in :mod:`optimiser.arcs`.

Constraints: (1) each child placed at most once (supply 1); (2) Σ_i x_iq ≤ u_q;
(3) Σ_q∈s x ≤ U_s; (4) Σ over INMSS ≤ cap. Capacities are never below the
number of continuing children already there (they keep their place).

The reported objective is Σ arc_cost over placements + P × children unplaced,
where P = max(policy ``unplaced_penalty_gbp``, largest arc cost + 1), so the
reported objective also ranks placing a child above any placement cost. Every
result is re-checked by :mod:`optimiser.check` before it is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimiser._errors import SolverError
from optimiser._solver import solve_min_cost_flow
from optimiser.arcs import ARC_COLUMNS, build_arcs, child_frame, options_frame
from optimiser.datamodel import Dataset
from optimiser.schema import INMSS_TYPES

# DESIGN §4: the placements carry every options column but arc_cost (appended after).
PLACEMENT_COLUMNS = [c for c in ARC_COLUMNS if c != "arc_cost"]


@dataclass(frozen=True)
class AllocationResult:
    """The allocation and its key figures.

    Attributes
    ----------
    placements : DataFrame, one row per placed child (DESIGN §4 columns, then
        arc_cost, setting_type, phase, continuing).
    unplaced : DataFrame, child_id, package_id, reason (with the numbers).
    objective : float, Σ arc_cost over placements + penalties for the unplaced [GBP/yr].
    kpis : dict of headline figures (see :func:`optimiser.reports.allocation_kpis`).
    sufficiency : DataFrame, demand, places, placed and shortfall by package × phase.
    options : DataFrame, every arc the model could use.
    duty_weight_gbp : the mainstream-duty weight W used [GBP/yr].
    unplaced_penalty_gbp : the penalty P per unplaced child in the objective [GBP/yr].
    timings_s : wall time of each stage [s].
    """

    placements: pd.DataFrame
    unplaced: pd.DataFrame
    objective: float
    kpis: dict[str, float]
    sufficiency: pd.DataFrame
    options: pd.DataFrame
    duty_weight_gbp: float
    unplaced_penalty_gbp: float = 0.0
    timings_s: dict[str, float] = field(default_factory=dict)


def _resolve(ds: Dataset, scenario: object | None) -> Dataset:
    if scenario is None:
        return ds
    apply = getattr(scenario, "apply", None)
    if apply is None:
        msg = f"scenario must be a Scenario (from optimiser.load_scenario), not {type(scenario)}"
        raise TypeError(msg)
    return apply(ds)


def options(ds: Dataset, scenario: object | None = None) -> pd.DataFrame:
    """Every eligible (child, setting, package) arc with its cost terms.

    Columns: child_id, setting_id, package_id, place_cost_gbp [GBP/yr],
    transport_cost_gbp [GBP/yr], distance_km [km], travel_min [min],
    preference_rank (NaN when not ranked), arc_cost (the model's objective
    coefficient [GBP/yr]).
    """
    return options_frame(build_arcs(_resolve(ds, scenario)))


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


def allocate(
    ds: Dataset, scenario: object | None = None, *, check: bool = True
) -> AllocationResult:
    """Place every child it can at least total cost (see the module docstring).

    Parameters
    ----------
    ds : the dataset.
    scenario : a Scenario to apply to ``ds`` first (``ds`` itself is untouched).
    check : re-check the result with :func:`optimiser.check.check_allocation`
        and raise :class:`SolverError` on any violation (default True).
    """
    from optimiser.check import check_allocation
    from optimiser.reports import allocation_kpis, sufficiency_table, unplaced_reasons

    timings: dict[str, float] = {}
    t = time.perf_counter()
    ds = _resolve(ds, scenario)
    kids = child_frame(ds)
    arcs = build_arcs(ds, kids)
    timings["arcs"] = time.perf_counter() - t
    t = time.perf_counter()
    net = build_flow_network(ds, arcs, kids)
    flow = solve_min_cost_flow(
        net.tail, net.head, net.capacity, net.cost, net.supply, max_flow=True
    ).flow
    timings["solve"] = time.perf_counter() - t
    fixed = arcs["fixed"].to_numpy(bool)
    free = np.flatnonzero(~fixed)
    # arcs are sorted by (child, setting), so position order is that order too
    chosen = arcs.iloc[np.sort(np.r_[np.flatnonzero(fixed), free[flow[: net.n_choice] > 0]])]
    placements = _placements(chosen, kids, ds)
    placed_c = chosen["c"].to_numpy()
    unplaced = unplaced_reasons(ds, kids, arcs, placed_c)
    penalty = max(
        ds.policy.unplaced_penalty_gbp, float(arcs["arc_cost"].max()) + 1.0 if len(arcs) else 0.0
    )
    objective = float(placements["arc_cost"].sum() + len(unplaced) * penalty)
    weight = float(-arcs["duty_term_gbp"].min()) if len(arcs) else 0.0
    res = AllocationResult(
        placements=placements,
        unplaced=unplaced,
        objective=objective,
        kpis=allocation_kpis(ds, placements, unplaced, kids, placed_c),
        sufficiency=sufficiency_table(ds, placements, unplaced, kids, placed_c),
        options=options_frame(arcs),
        duty_weight_gbp=weight,
        unplaced_penalty_gbp=penalty,
        timings_s=timings,
    )
    if check:
        t = time.perf_counter()
        problems = check_allocation(ds, res)
        timings["check"] = time.perf_counter() - t
        if problems:
            msg = "the allocation failed the independent check: " + "; ".join(problems[:10])
            raise SolverError(msg)
    return res


def _placements(chosen: pd.DataFrame, kids: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    types = ds.setting_types
    out = chosen[[*PLACEMENT_COLUMNS, "arc_cost"]].copy()
    out["setting_type"] = out["setting_id"].map(types)
    out["phase"] = kids["phase"].to_numpy()[chosen["c"].to_numpy()]
    out["continuing"] = kids["fixed"].to_numpy()[chosen["c"].to_numpy()]
    return out.reset_index(drop=True)
