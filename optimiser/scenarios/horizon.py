"""Multi-year horizon: roll the cohort forward and allocate each year.

Each year ``y = 1 … years``:

1. every child is a year older; children older than ``leave_age`` leave;
2. a placed child whose setting no longer takes their age must be placed
   again: with ``age_max`` the oldest age a setting takes at the start of the
   school year, a primary setting (4-10) hands its 11-year-olds on, a 11-15
   secondary its 16-year-olds (the phase transfers at 11 and 16), while an
   all-through setting (e.g. a 2-18 special school) keeps them; every other
   placed child keeps their place (continuing placement);
3. new EHCPs join so that the number of children with an SPP grows by
   ``growth`` a year: ``round(last year's demand × (1 + growth)) − (those still
   here)`` new children, drawn (seeded) from the base year's children still to
   place (so the package and age mix of new EHCPs follows theirs); ``growth``
   defaults to the policy's ``demand_growth_per_year`` (the LA's own SEN2 specialist
   trend, which ``optimiser init`` writes), else the national trend in EHC plans over
   the last three years of the DfE SEN2 series (``data/sources``), about +10.5% a year;
4. the year's data (with the scenario's setting, place and policy changes whose
   ``from_year`` ≤ y, and its ``demand_growth`` changes whose ``from_year`` = y:
   growth adds or removes children once, and those children stay) is allocated;
   placed children become continuing placements for the next year, unplaced
   children wait to be placed again. Before a change's ``from_year`` the settings,
   places and policy are the baseline's.

Year 0 is the base data as it stands. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.model import Dataset
from optimiser.dataset.paths import data_dir
from optimiser.problems import Problem, raise_problems
from optimiser.scenarios.scenario import Scenario
from optimiser.schema.tables import INMSS_TYPES

#: Bounds of an annual growth rate: beyond them it is a typo (5 for 5%), not a forecast.
MIN_GROWTH, MAX_GROWTH = -0.5, 1.0


@dataclass(frozen=True)
class HorizonResult:
    """Per-year figures and each year's allocation.

    Attributes
    ----------
    years : one row per year: year, demand_children, places, placed_children,
        unplaced_children, shortfall_children, new_ehcp_children, leavers_children,
        transfer_children, inmss_children, inmss_share, total_cost_gbp (place + transport +
        unplaced: each year's unplaced children at their rate, so a year does not look
        cheaper for leaving more children unplaced), place_cost_gbp, transport_cost_gbp,
        unplaced_cost_gbp.
    by_package : demand, places, placed, unplaced per year × package.
    results : the AllocationResult of each year.
    growth : the annual growth rate of new EHCPs used.
    """

    years: pd.DataFrame
    by_package: pd.DataFrame
    results: dict[int, AllocationResult]
    growth: float


def national_growth_rate(*, last_years: int = 3) -> float:
    """Average annual growth of EHC plans in England over the last ``last_years`` years."""
    path = data_dir() / "sources" / "ehcp_placements_by_la_jan2019-jan2025.csv"
    table = pd.read_csv(path, usecols=["time_period", "geographic_level", "ehcplans"])
    series = table[table["geographic_level"] == "National"].sort_values("time_period")["ehcplans"]
    first, last = float(series.iloc[-1 - last_years]), float(series.iloc[-1])
    return (last / first) ** (1.0 / last_years) - 1.0


def roll_forward(
    ds: Dataset,
    *,
    years: int = 5,
    growth: float | None = None,
    scenario: Scenario | None = None,
    leave_age: int = 19,
    seed: int = 0,
) -> HorizonResult:
    """Allocate year by year over ``years`` years (see the module docstring)."""
    if years < 0:
        msg = f"years must be 0 or more; found {years}"
        raise ValueError(msg)
    if growth is None:  # the LA's own trend where its policy gives one (optimiser init does)
        own = ds.policy.demand_growth_per_year
        growth = national_growth_rate() if own is None else float(own)
    growth = float(growth)
    if not (math.isfinite(growth) and MIN_GROWTH <= growth <= MAX_GROWTH):
        raise_problems(
            [
                Problem(
                    "--growth",
                    None,
                    "",
                    f"{growth!r}",
                    f"an annual growth rate from {MIN_GROWTH:g} to {MAX_GROWTH:g} "
                    "(0.05 = 5% a year)",
                    "give a finite rate such as 0.05; nan and inf are not rates",
                )
            ]
        )
    rng = np.random.default_rng(seed)
    joiners = ds.children[ds.children["current_setting_id"] == ""]
    base_ds = scenario.apply(ds, year=0) if scenario else ds
    results = {0: allocate(base_ds)}
    rows = [_year_row(0, base_ds, results[0], new=0, leavers=0, transfers=0)]
    # the year's children as allocated (with any a demand_growth change added) go on
    kids, last_ds = base_ds.children, base_ds
    for year in range(1, years + 1):
        before = len(kids)
        kids, leavers, transfers = _age_one_year(
            kids, results[year - 1], last_ds, leave_age=leave_age
        )
        new = _new_children(joiners, new_ehcp_count(before, growth, len(kids)), year, rng)
        kids = pd.concat([kids, new], ignore_index=True)
        year_ds = ds.replace(children=kids)
        year_ds = scenario.apply(year_ds, year=year) if scenario else year_ds
        results[year] = allocate(year_ds)
        kids, last_ds = year_ds.children, year_ds
        rows.append(
            _year_row(
                year, year_ds, results[year], new=len(new), leavers=leavers, transfers=transfers
            )
        )
    by_package = pd.concat(
        [
            r.sufficiency.groupby("package_id")[["demand", "places", "placed", "unplaced"]]
            .sum()
            .assign(year=y)
            .reset_index()
            for y, r in results.items()
        ],
        ignore_index=True,
    )
    return HorizonResult(
        years=pd.DataFrame(rows), by_package=by_package, results=results, growth=growth
    )


def new_ehcp_count(before: int, growth: float, staying: int) -> int:
    """New EHCPs in a year: ``round(before × (1 + growth)) − staying``, never below 0.

    ``before`` is last year's demand [children], ``staying`` those still here a year on
    (leavers gone), ``growth`` the year's growth rate (0.05 = 5%).
    """
    return max(0, round(before * (1 + growth)) - staying)


def draw_joiners(n_pool: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions (sorted, with repeats) of ``n`` new EHCPs drawn from a pool of ``n_pool``.

    Draws nothing (and leaves ``rng`` untouched) when ``n`` is 0 or the pool is empty.
    """
    if n == 0 or n_pool == 0:
        return np.zeros(0, np.int64)
    return np.sort(rng.choice(n_pool, size=n, replace=True))


def outgrown_mask(age: np.ndarray, age_max: np.ndarray) -> np.ndarray:
    """Children older than their setting takes (``age_max`` NaN: no setting, never outgrown)."""
    return np.asarray(age, float) > np.nan_to_num(np.asarray(age_max, float), nan=99.0)


def _age_one_year(
    kids: pd.DataFrame, last: AllocationResult, ds: Dataset, *, leave_age: int
) -> tuple[pd.DataFrame, int, int]:
    """Children a year on: leavers out, placements carried, phase transfers to place."""
    placed = last.placements.set_index("child_id")["setting_id"]
    kids = kids.copy()
    kids["age"] = kids["age"] + 1
    leaving = kids["age"] > leave_age
    kids = kids[~leaving].reset_index(drop=True)
    current = kids["child_id"].map(placed).fillna("")
    hi = current.map(ds.settings.set_index("setting_id")["age_max"]).astype(float)
    outgrown = (current != "") & outgrown_mask(kids["age"].to_numpy(float), hi.to_numpy())
    kids["current_setting_id"] = current.where(~outgrown, "")
    kids.loc[outgrown, "preferences"] = pd.Series(
        [()] * int(outgrown.sum()), index=kids.index[outgrown], dtype=object
    )
    return kids, int(leaving.sum()), int(outgrown.sum())


def _new_children(
    joiners: pd.DataFrame, n: int, year: int, rng: np.random.Generator
) -> pd.DataFrame:
    """``n`` new EHCP children drawn from the base year's joiners, with fresh ids."""
    picks = draw_joiners(len(joiners), n, rng)
    if not len(picks):
        return joiners.iloc[:0]
    new = joiners.iloc[picks].copy()
    new["child_id"] = [f"Y{year}-{i:05d}" for i in range(1, n + 1)]
    new["current_setting_id"] = ""
    return new.reset_index(drop=True)


def _year_row(
    year: int, ds: Dataset, res: AllocationResult, *, new: int, leavers: int, transfers: int
) -> dict[str, float]:
    k = res.kpis
    open_places = ds.places.merge(ds.settings[["setting_id", "closed"]], on="setting_id")
    places = float(open_places.loc[~open_places["closed"], "places"].sum())
    inmss = res.placements["setting_type"].isin(INMSS_TYPES).sum()
    return {
        "year": year,
        "demand_children": float(len(ds.children)),
        "places": places,
        "placed_children": k["placed_children"],
        "unplaced_children": k["unplaced_children"],
        "shortfall_children": float(res.sufficiency["shortfall"].sum()),
        "new_ehcp_children": float(new),
        "leavers_children": float(leavers),
        "transfer_children": float(transfers),
        "inmss_children": float(inmss),
        "inmss_share": k["inmss_share"],
        "total_cost_gbp": k["total_cost_gbp"],
        "place_cost_gbp": k["place_cost_gbp"],
        "transport_cost_gbp": k["transport_cost_gbp"],
        "unplaced_cost_gbp": k["unplaced_cost_gbp"],
    }
