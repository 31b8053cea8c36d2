"""Compare commissioning options: the baseline and each scenario, solved side by side."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from optimiser._errors import DataValidationError
from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.model import Dataset
from optimiser.scenarios.scenario import Scenario

BASELINE = "baseline"
_PARALLEL_MIN_CHILDREN = 5000


@dataclass(frozen=True)
class Comparison:
    """Side-by-side results.

    Attributes
    ----------
    kpis : one row per KPI, one column per option (baseline first).
    deltas : each scenario minus the baseline, same rows.
    moves : who changes setting in each scenario: scenario, package_id, from_type,
        to_type, children, and the change in place, transport, unplaced and total cost
        [GBP/yr].
    results : the AllocationResult of each option, by name.
    scenarios : the Scenario of each option other than the baseline, by name (maps draw
        its added, expanded and closed settings; the pack states its capital).
    """

    kpis: pd.DataFrame
    deltas: pd.DataFrame
    moves: pd.DataFrame
    results: dict[str, AllocationResult]
    scenarios: dict[str, Scenario] = field(default_factory=dict)


def _solve(ds: Dataset) -> AllocationResult:
    return allocate(ds)


def _workers(ds: Dataset, n_jobs: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    if len(ds.children) < _PARALLEL_MIN_CHILDREN:
        return 1  # start-up of a process costs more than a small solve
    return max(1, min(n_jobs, os.cpu_count() or 1))


def compare_scenarios(
    ds: Dataset,
    scenarios: list[Scenario],
    *,
    workers: int | None = None,
    solved: Mapping[str, AllocationResult] | None = None,
) -> Comparison:
    """Solve the baseline and every scenario; KPIs, deltas and who moves.

    Scenarios are validated against ``ds`` before any solve; ``ds`` is never
    changed. With ``workers`` > 1 (default: automatic for large areas) the
    options solve in a process pool. ``solved``: allocations already made, by name
    ("baseline" for ``ds`` itself, else a scenario's name), each of exactly that data
    (``optimiser.allocate(ds, scenario)``); they are used instead of solving again
    (the app keeps every solve it has made).
    """
    names = [s.name for s in scenarios]
    _check_names(names)
    known = dict(solved or {})
    # applied once, before any solve: raises DataValidationError naming the file and change
    # (an option already solved was applied then)
    todo = [(BASELINE, ds)] if BASELINE not in known else []
    todo += [(sc.name, sc.apply(ds)) for sc in scenarios if sc.name not in known]
    n = _workers(ds, len(todo), workers)
    if n > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            fresh = list(pool.map(_solve, [job for _, job in todo]))
    else:
        fresh = [_solve(job) for _, job in todo]
    known.update(zip([k for k, _ in todo], fresh, strict=True))
    results = {k: known[k] for k in [BASELINE, *names]}
    solved_list = list(results.values())
    table = pd.DataFrame(
        {
            name: kpi_column(res, sc)
            for (name, res), sc in zip(results.items(), [None, *scenarios], strict=True)
        }
    )
    deltas = table[names].sub(table[BASELINE], axis=0) if names else table.iloc[:, :0]
    moves = (
        pd.concat(
            [who_moves(results[BASELINE], results[n], scenario=n) for n in names], ignore_index=True
        )
        if names
        else who_moves(solved_list[0], solved_list[0], scenario="")
    )
    return Comparison(
        kpis=table,
        deltas=deltas,
        moves=moves,
        results=results,
        scenarios=dict(zip(names, scenarios, strict=True)),
    )


def _check_names(names: list[str]) -> None:
    """Options are told apart by name: each must be unique and none may be the baseline."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice or BASELINE in names:
        clash = ", ".join(repr(n) for n in twice) or repr(BASELINE)
        msg = (
            f"scenario names must be unique and not {BASELINE!r}; found {clash} "
            f"{'more than once' if twice else '(reserved for the baseline)'} among {names}; "
            "give each scenario file its own `name:` (a scenario cannot be compared with itself)"
        )
        raise DataValidationError(msg)


def compare(ds: Dataset, scenarios: list[Scenario], *, workers: int | None = None) -> pd.DataFrame:
    """KPI table: one row per KPI, one column per option (baseline, then each scenario)."""
    return compare_scenarios(ds, scenarios, workers=workers).kpis


def kpi_column(res: AllocationResult, scenario: Scenario | None) -> pd.Series:
    """Headline KPIs, capital needed, and placed / unplaced by package × phase."""
    values = dict(res.kpis)
    values["capital_cost_gbp"] = scenario.capital_cost_gbp if scenario else 0.0
    for row in res.sufficiency.itertuples():
        values[f"placed_children_{row.package_id}_{row.phase}"] = float(cast(float, row.placed))
        values[f"unplaced_children_{row.package_id}_{row.phase}"] = float(cast(float, row.unplaced))
    return pd.Series(values, dtype=float)


def _unplaced_costs(res: AllocationResult) -> pd.Series:
    """Each unplaced child's cost by child_id [GBP/yr] (0 for a result without the column)."""
    un = res.unplaced
    if "unplaced_cost_gbp" not in un:
        return pd.Series(0.0, index=pd.Index(un["child_id"]))
    return un.set_index("child_id")["unplaced_cost_gbp"].astype(float)


def who_moves(base: AllocationResult, other: AllocationResult, *, scenario: str) -> pd.DataFrame:
    """Children whose setting differs between two results, counted by package and type change.

    Children only in one of the two (demand growth) are left out. ``total_change_gbp``
    is the change in place + transport + unplaced cost (a child left unplaced costs their
    ``unplaced_cost_gbp``): negative values are savings.
    """
    cols = ["setting_id", "setting_type", "place_cost_gbp", "transport_cost_gbp"]
    a = base.placements.set_index("child_id")[cols]
    b = other.placements.set_index("child_id")[cols]
    pkg = (
        pd.concat([base.placements, base.unplaced, other.placements, other.unplaced])
        .drop_duplicates("child_id")
        .set_index("child_id")["package_id"]
    )
    ids = pkg.index[
        pkg.index.isin(set(base.placements["child_id"]) | set(base.unplaced["child_id"]))
        & pkg.index.isin(set(other.placements["child_id"]) | set(other.unplaced["child_id"]))
    ]
    a, b = a.reindex(ids), b.reindex(ids)
    moved = a["setting_id"].fillna("") != b["setting_id"].fillna("")
    frame = pd.DataFrame(
        {
            "scenario": scenario,
            "package_id": pkg.reindex(ids)[moved],
            "from_type": a.loc[moved, "setting_type"].fillna("unplaced"),
            "to_type": b.loc[moved, "setting_type"].fillna("unplaced"),
            "place_change_gbp": b.loc[moved, "place_cost_gbp"].fillna(0)
            - a.loc[moved, "place_cost_gbp"].fillna(0),
            "transport_change_gbp": b.loc[moved, "transport_cost_gbp"].fillna(0)
            - a.loc[moved, "transport_cost_gbp"].fillna(0),
        }
    )
    # an unplaced child costs its rate in either result (allocation.unplaced_cost)
    cost_a = _unplaced_costs(base).reindex(ids)[moved].fillna(0)
    cost_b = _unplaced_costs(other).reindex(ids)[moved].fillna(0)
    frame["unplaced_change_gbp"] = (cost_b - cost_a).to_numpy()
    frame["total_change_gbp"] = (
        frame["place_change_gbp"] + frame["transport_change_gbp"] + frame["unplaced_change_gbp"]
    )
    keys = ["scenario", "package_id", "from_type", "to_type"]
    out = frame.groupby(keys, as_index=False).agg(
        children=("package_id", "size"),
        place_change_gbp=("place_change_gbp", "sum"),
        transport_change_gbp=("transport_change_gbp", "sum"),
        unplaced_change_gbp=("unplaced_change_gbp", "sum"),
        total_change_gbp=("total_change_gbp", "sum"),
    )
    return out.sort_values(["scenario", "total_change_gbp"], kind="stable").reset_index(drop=True)
