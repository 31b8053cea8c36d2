"""Solve the allocation: arcs → flow network → OR-Tools min-cost flow → placements, checked.

The formulation is in :mod:`optimiser.allocation.network`; the result is re-checked by
:mod:`optimiser.allocation.check` before it is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimiser._errors import SolverError
from optimiser._solver.bonus_flow import solve_network_with_bonus
from optimiser._solver.chunked_flow import solve_max_flow
from optimiser.allocation.arcs import (
    ARC_COLUMNS,
    _take_text,
    add_id_columns,
    build_arcs,
    child_frame,
    options_frame,
)
from optimiser.allocation.check import check_allocation, over_places_warning
from optimiser.allocation.compact import compacted
from optimiser.allocation.kpis import allocation_kpis, sufficiency_table
from optimiser.allocation.network import NETWORK_COLUMNS, NetworkChunks, flow_network_chunks
from optimiser.allocation.unplaced import unplaced_reasons
from optimiser.allocation.unplaced_cost import RATE_COLUMNS, unplaced_child_costs, unplaced_rates
from optimiser.dataset.ids import code_groups, object_index
from optimiser.dataset.model import Dataset
from optimiser.schema.tables import INMSS_TYPES

if TYPE_CHECKING:  # scenarios sit above allocation: a reference for the types only
    from optimiser.scenarios.scenario import Scenario

# DESIGN §4: the placements carry every options column but arc_cost (appended after).
PLACEMENT_COLUMNS = [c for c in ARC_COLUMNS if c != "arc_cost"]


@dataclass(frozen=True)
class AllocationResult:
    """The allocation and its key figures.

    Attributes
    ----------
    placements : DataFrame, one row per placed child (DESIGN §4 columns, then
        arc_cost, setting_type, phase, continuing).
    unplaced : DataFrame, child_id, package_id, reason (with the numbers),
        unplaced_cost_gbp (what the child costs the LA all the same, [GBP/yr]; see
        :mod:`optimiser.allocation.unplaced_cost`).
    objective : float, Σ arc_cost over placements + penalties for the unplaced [GBP/yr].
    kpis : dict of headline figures (see :func:`optimiser.allocation.kpis.allocation_kpis`).
    sufficiency : DataFrame, demand, places, placed and shortfall by package × phase.
    options : DataFrame, every arc the model could use.
    duty_weight_gbp : the mainstream-duty weight W used [GBP/yr].
    unplaced_penalty_gbp : the penalty P per unplaced child in the objective [GBP/yr].
    timings_s : wall time of each stage [s].
    warnings : soft problems, one sentence each naming the setting (and package), never a
        child: continuing placements kept over a setting × package's places, a setting's
        total places or the INMSS cap (the children stay where they are).
    unplaced_rates : DataFrame, the cost of an unplaced child by package × phase
        (:func:`optimiser.allocation.unplaced_cost.unplaced_rates`).
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
    warnings: tuple[str, ...] = ()
    unplaced_rates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=RATE_COLUMNS), compare=False
    )


def _resolve(ds: Dataset, scenario: Scenario | None) -> Dataset:
    if scenario is None:
        return ds
    apply = getattr(scenario, "apply", None)
    if apply is None:
        msg = f"scenario must be a Scenario (from optimiser.load_scenario), not {type(scenario)}"
        raise TypeError(msg)
    return apply(ds)


def options(ds: Dataset, scenario: Scenario | None = None) -> pd.DataFrame:
    """Every eligible (child, setting, package) arc with its cost terms.

    Columns: child_id, setting_id, package_id, place_cost_gbp [GBP/yr],
    transport_cost_gbp [GBP/yr], distance_km [km], travel_min [min],
    preference_rank (NaN when not ranked), arc_cost (the model's objective
    coefficient [GBP/yr]).
    """
    return options_frame(build_arcs(_resolve(ds, scenario)))


def allocate(
    ds: Dataset,
    scenario: Scenario | None = None,
    *,
    check: bool = True,
    workers: int | None = None,
) -> AllocationResult:
    """Place every child it can at least total cost (see the module docstring).

    Parameters
    ----------
    ds : the dataset.
    scenario : a Scenario to apply to ``ds`` first (``ds`` itself is untouched).
    check : re-check the result with :func:`optimiser.allocation.check.check_allocation`
        and raise :class:`SolverError` on any violation (default True).
    workers : processes for the flow of a national-size network with mainstream duties
        (:func:`optimiser._solver.bonus_flow.solve_max_flow_with_bonus`): default, the
        cores this process may use; 1 solves in one process, with the least memory. An
        LA's network is always solved in one process.
    """
    if workers is not None and workers < 1:
        msg = f"workers must be at least 1; found {workers}."
        raise ValueError(msg)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ds = _resolve(ds, scenario)
    kids = child_frame(ds)
    # the text ids are put in after the solve: nationally 160 MB less at its peak
    arcs = build_arcs(ds, kids, ids=False)
    timings["arcs"] = time.perf_counter() - t
    t = time.perf_counter()
    flow, n_choice = _solve_network(ds, arcs, kids, workers)
    used = flow[:n_choice] > 0
    del flow  # the flows (4 M arcs nationally) are not needed again
    timings["solve"] = time.perf_counter() - t
    t = time.perf_counter()
    add_id_columns(arcs, ds, kids)
    timings["arcs"] += time.perf_counter() - t
    fixed = arcs["fixed"].to_numpy(bool)
    free = np.flatnonzero(~fixed)
    # arcs are sorted by (child, setting), so position order is that order too
    pick = np.sort(np.r_[np.flatnonzero(fixed), free[used]])
    placements = _placements(arcs, pick, kids, ds)
    placed_c = arcs["c"].to_numpy()[pick]
    # each placement's setting type as an INMSS / mainstream flag, by its settings row
    # (the placements' setting_type is that row's): once, not per figure
    stype = ds.settings["setting_type"]
    inmss_s = stype.isin(INMSS_TYPES).to_numpy(bool)
    placed_s = arcs["s"].to_numpy()[pick]
    inmss = inmss_s[placed_s]
    unplaced = unplaced_reasons(ds, kids, arcs, placed_c)
    rates = unplaced_rates(ds, placements, inmss=inmss)
    phase = pd.Series(_first_phase(kids)[_unplaced_positions(len(kids), placed_c)], dtype=object)
    unplaced["unplaced_cost_gbp"] = unplaced_child_costs(rates, unplaced["package_id"], phase)
    penalty = max(
        ds.policy.unplaced_penalty_gbp, float(arcs["arc_cost"].max()) + 1.0 if len(arcs) else 0.0
    )
    objective = float(placements["arc_cost"].sum() + len(unplaced) * penalty)
    weight = float(-arcs["duty_term_gbp"].min()) if len(arcs) else 0.0
    res = AllocationResult(
        placements=placements,
        unplaced=unplaced,
        objective=objective,
        kpis=allocation_kpis(
            ds,
            placements,
            unplaced,
            kids,
            placed_c,
            inmss=inmss,
            mainstream=arcs["mainstream"].to_numpy(bool)[pick],  # the arcs' own flag
            mode_code=arcs["mode_code"].to_numpy()[pick],
        ),
        sufficiency=sufficiency_table(
            ds, placements, unplaced, kids, placed_c, inmss=inmss, setting_rows=placed_s
        ),
        options=options_frame(arcs),
        duty_weight_gbp=weight,
        unplaced_penalty_gbp=penalty,
        timings_s=timings,
        warnings=_continuing_over_places(ds, arcs, pick, kids, inmss_s),
        unplaced_rates=rates,
    )
    if check:
        t = time.perf_counter()
        problems = check_allocation(ds, res)
        timings["check"] = time.perf_counter() - t
        if problems:
            msg = "the allocation failed the independent check: " + "; ".join(problems[:10])
            raise SolverError(msg)
    return res


def _solve_network(
    ds: Dataset, arcs: pd.DataFrame, kids: pd.DataFrame, workers: int | None
) -> tuple[np.ndarray, int]:
    """The network's max flow at least cost (``SolveMaxFlowWithMinCost``): flow per arc,
    and the number of choice arcs (the first arcs).

    With mainstream duties, by :func:`optimiser._solver.bonus_flow.solve_network_with_bonus`:
    on a large network (nationally) the duty's weight W is solved as a moderate W' (twice
    the largest other cost of a choice arc, + 1) beside a count that proves it exact, on
    two cores; otherwise, and on every network below its size, the full costs directly.
    The arcs reach OR-Tools chunk by chunk (:mod:`optimiser._solver.chunked_flow`), made
    from the arcs frame's ``c``, ``p`` and ``arc_cost`` in their narrowest integers, while
    the frame's other columns wait in fewer bytes (:mod:`optimiser.allocation.compact`;
    nationally 347 → 168 MiB beside the two OR-Tools networks). ``arcs`` has every column
    back, bit for bit, on return.
    """
    net = flow_network_chunks(ds, arcs, kids)  # its arcs made chunk by chunk as OR-Tools reads
    bonus = _duty_bonus(net, arcs)
    with compacted(arcs) as held:
        # the held narrow copies: the frame's int64 columns are no longer held by anyone
        net = net.reading({name: held.ints(name) for name in NETWORK_COLUMNS})
        if bonus is None:
            return solve_max_flow(net), net.n_choice
        weight, moderate = bonus
        sol = solve_network_with_bonus(net, bonus=weight, moderate_bonus=moderate, workers=workers)
        return sol.flow, net.n_choice


def _duty_bonus(net: NetworkChunks, arcs: pd.DataFrame) -> tuple[int, int] | None:
    """The duty's weight W and the moderate W' (see :func:`_solve_network`); None: no duty."""
    if not net.n_choice or not net.n_bonus:
        return None
    free = ~arcs["fixed"].to_numpy(bool)
    term = arcs["duty_term_gbp"].to_numpy(float)
    weight = round(float(-np.min(term, where=free, initial=0.0)))
    cost = arcs["arc_cost"].to_numpy()
    on, off = free & (term < 0), free & (term >= 0)
    largest = max(  # |cost without the duty term| over the choice arcs, with no copies
        abs(int(np.max(cost, where=off, initial=0))),
        abs(int(np.min(cost, where=off, initial=0))),
        abs(int(np.max(cost, where=on, initial=-weight)) + weight),
        abs(int(np.min(cost, where=on, initial=-weight)) + weight),
    )
    return weight, 2 * largest + 1


def _unplaced_positions(n_kids: int, placed_c: np.ndarray) -> np.ndarray:
    """Positions in ``kids`` of the children not placed, in order (as unplaced_reasons)."""
    placed = np.zeros(n_kids, bool)
    placed[placed_c] = True
    return np.flatnonzero(~placed)


def _first_phase(kids: pd.DataFrame) -> np.ndarray:
    """Each child's phase as its child_id's first row has it (a repeated id: the first)."""
    phase = kids["phase"].to_numpy(object)
    if object_index(kids["child_id"]).is_unique and not kids["child_id"].hasnans:
        return phase  # every child its own first row (factorize: one code per row)
    code = pd.factorize(kids["child_id"])[0]
    first = np.zeros(code.max(initial=-1) + 1, np.int64)
    first[code[::-1]] = np.arange(len(code))[::-1]
    return phase[first[code]]


def _continuing_over_places(
    ds: Dataset, arcs: pd.DataFrame, pick: np.ndarray, kids: pd.DataFrame, inmss: np.ndarray
) -> tuple[str, ...]:
    """Warnings for continuing children kept beyond places (model side; the checker recomputes).

    ``pick``: the chosen arcs' positions in ``arcs``; ``inmss``: whether each settings row
    is INMSS. By setting × the child's package (the places of the arcs' places row, none:
    0), then by setting (its total places), each sorted by id; then the INMSS cap.
    """
    kept = pick[arcs["fixed"].to_numpy(bool)[pick]]
    s = arcs["s"].to_numpy()[kept]  # setting rows (ids unique, or there are no arcs)
    p = arcs["p"].to_numpy()[kept]
    pkg = kids["package_id"].to_numpy(object)[arcs["c"].to_numpy()[kept]]
    k = pd.factorize(pkg)[0]
    sid = ds.settings["setting_id"].to_numpy(object)
    offered = ds.places["places"].to_numpy(float, na_value=0.0)
    first, n = code_groups(s * (k.max(initial=0) + 2) + (k + 1))
    places = np.where(p[first] >= 0, offered[np.maximum(p[first], 0)], 0.0)
    over = n > places
    flagged = sorted(
        (sid[s[i]], pkg[i], int(m), float(u))
        for i, m, u in zip(first[over], n[over], places[over], strict=True)
    )
    out = [over_places_warning(f"{a} × {b}", m, u) for a, b, m, u in flagged]
    total = ds.settings["total_places"].to_numpy(float, na_value=np.nan)
    first, n = code_groups(s)
    cap = total[s[first]]
    over = ~np.isnan(cap) & (n > cap)
    for a, m, u in sorted(
        (sid[s[i]], int(m), float(u))
        for i, m, u in zip(first[over], n[over], cap[over], strict=True)
    ):
        out.append(over_places_warning(str(a), m, u, "total places"))
    inmss_cap = ds.policy.inmss_max_places
    n_inmss = int(inmss[s].sum())
    if inmss_cap is not None and n_inmss > inmss_cap:
        out.append(
            over_places_warning("INMSS", n_inmss, float(inmss_cap), "places under the INMSS cap")
        )
    return tuple(out)


def _placements(
    arcs: pd.DataFrame, pick: np.ndarray, kids: pd.DataFrame, ds: Dataset
) -> pd.DataFrame:
    """The chosen arcs (positions ``pick``) as placements, column by column.

    Each column is taken straight from the arcs' own (a text column stays pandas text),
    not through ``arcs.iloc`` and a copy of the whole selection.
    """
    c = arcs["c"].to_numpy()[pick]
    out = {name: _take_column(arcs[name], pick) for name in [*PLACEMENT_COLUMNS, "arc_cost"]}
    # arcs' s is the setting's row (setting ids are unique, or there are no arcs)
    stype = ds.settings["setting_type"]
    out["setting_type"] = _take_text(stype, arcs["s"].to_numpy()[pick], few=True)
    out["phase"] = _take_text(kids["phase"], c, few=True)
    out["continuing"] = kids["fixed"].to_numpy()[c]
    return pd.DataFrame(out)


def _take_column(
    values: pd.Series, pos: np.ndarray
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``values.iloc[pos]``'s values: the same dtype (pandas text stays text)."""
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy()[pos]
    return values.array.take(pos)
