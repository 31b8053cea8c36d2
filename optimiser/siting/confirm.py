"""Confirm a siting plan by re-allocation, and rank each base by what it adds.

:func:`confirm_plan` re-allocates with a plan's bases and :func:`marginal_table` ranks each
base by the confirmed saving lost without it.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.siting.candidates import bases_scenario
from optimiser.siting.instance import SiteInstance

SITE_COLUMNS = [
    "rank",
    "setting_id",
    "site_id",
    "name",
    "urn",
    "package_id",
    "places",
    "capital_cost_gbp",
    "annualised_capital_gbp",
    "easting",
    "northing",
    "age_min",
    "age_max",
    "modelled_children",
    "annual_saving_gbp",
    "children_served",
    "marginal_saving_gbp",
]


def confirm_plan(prep: SiteInstance, sites: pd.DataFrame) -> AllocationResult:
    """Re-allocate with these bases added (the baseline when there are none)."""
    return allocate(prep.ds, bases_scenario(sites, "plan")) if len(sites) else prep.baseline


def marginal_table(
    prep: SiteInstance,
    sites: pd.DataFrame,
    planned: AllocationResult,
    *,
    deadline: float | None = None,
    run_s: float = 0.0,
) -> pd.DataFrame:
    """Each base's marginal saving: confirmed cost without it minus with every base [GBP/yr].

    With a ``deadline`` (a ``time.perf_counter()`` value) a re-allocation starts only
    when one more (taking about ``run_s`` seconds) ends before it; the bases left
    without one have NaN marginal figures.
    """
    rows: list[dict[str, float]] = []
    total = planned.kpis["total_cost_gbp"]
    for i in range(len(sites)):
        if deadline is not None and time.perf_counter() + run_s > deadline:
            rows += [dict.fromkeys(("marginal_saving_gbp", "marginal_inmss_avoided"), np.nan)] * (
                len(sites) - i
            )
            break
        without = confirm_plan(prep, sites.drop(index=sites.index[i]))
        rows.append(
            {
                "marginal_saving_gbp": without.kpis["total_cost_gbp"] - total,
                "marginal_inmss_avoided": without.kpis["inmss_children"]
                - planned.kpis["inmss_children"],
            }
        )
    out = pd.concat(
        [
            sites[
                [
                    "setting_id",
                    "site_id",
                    "name",
                    "package_id",
                    "places",
                    "capital_cost_gbp",
                    "children_served",
                ]
            ].reset_index(drop=True),
            pd.DataFrame(rows, columns=["marginal_saving_gbp", "marginal_inmss_avoided"]),
        ],
        axis=1,
    )
    out["saving_per_capital_gbp"] = out["marginal_saving_gbp"] / out["capital_cost_gbp"].where(
        out["capital_cost_gbp"] > 0
    )
    out["payback_years"] = out["capital_cost_gbp"] / out["marginal_saving_gbp"].where(
        out["marginal_saving_gbp"] > 0
    )
    return out
