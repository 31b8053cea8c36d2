"""The result of a siting run: the plan, checked by re-allocation, and its report.

:class:`SitingResult` is what :func:`optimiser.site` returns; :func:`confirm_plan`
re-allocates with a plan's bases and :func:`marginal_table` ranks each base by the
confirmed saving lost without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from optimiser._outputs import refuse_existing
from optimiser.allocation import AllocationResult, allocate
from optimiser.datamodel import Dataset
from optimiser.scenarios import Scenario
from optimiser.site_instance import SiteInstance
from optimiser.site_options import bases_scenario

__all__ = ["SITE_COLUMNS", "SitingResult", "confirm_plan", "marginal_table"]

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


@dataclass(frozen=True)
class SitingResult:
    """A siting plan, checked by re-allocation.

    Attributes
    ----------
    sites : one row per new base, best marginal saving first: rank, setting_id,
        site_id, name, urn, package_id, places, capital_cost_gbp [GBP],
        annualised_capital_gbp [GBP/yr], easting, northing, age_min, age_max,
        modelled_children, annual_saving_gbp (modelled revenue saving [GBP/yr]),
        children_served (placed there by the re-allocation), marginal_saving_gbp.
    capital_cost_gbp : capital of the plan [GBP] (≤ the budget).
    annual_saving_gbp : confirmed revenue saving [GBP/yr] (see :mod:`optimiser.site_planning`).
    modelled_saving_gbp : the model's revenue saving [GBP/yr] (capital excluded).
    annualised_capital_gbp : capital_cost_gbp / annuity factor [GBP/yr].
    children_served : children the re-allocation places in the new bases.
    newly_placed_children : baseline unplaced minus unplaced after re-allocation.
    saving_with_proxy_gbp : annual_saving_gbp plus the status-quo proxy of every
        child unplaced before and placed after (a newly placed child adds cost to
        total_cost_gbp; the proxy is what their place would otherwise cost) [GBP/yr].
    inmss_places_avoided : baseline INMSS children minus INMSS children after.
    journey_min_saved : Σ one-way journey [min] of children placed in both runs,
        baseline minus after.
    objective, bound, gap, status : the facility-location solve (annualised
        capital + revenue cost of the demand [GBP/yr]); status "optimal" when proven.
    baseline_total_cost_gbp, planned_total_cost_gbp : total_cost_gbp of both runs.
    demand : the zones: zone_code, package_id, phase, children, status_quo_cost_gbp,
        modelled_served.
    marginal : ranked table: each base's contribution, the confirmed saving with
        every base minus the saving without it [GBP/yr], and saving per £ capital.
    budget_gbp, solve_time_s, parameters : inputs and timing.
    dataset : the dataset sited on (with horizon growth, when asked).
    """

    sites: pd.DataFrame
    capital_cost_gbp: float
    annual_saving_gbp: float
    modelled_saving_gbp: float
    annualised_capital_gbp: float
    children_served: int
    newly_placed_children: int
    saving_with_proxy_gbp: float
    inmss_places_avoided: int
    journey_min_saved: float
    objective: float
    bound: float
    gap: float
    status: str
    baseline_total_cost_gbp: float
    planned_total_cost_gbp: float
    demand: pd.DataFrame
    marginal: pd.DataFrame
    budget_gbp: float
    solve_time_s: float
    parameters: dict = field(default_factory=dict)
    dataset: Dataset | None = field(default=None, repr=False, compare=False)

    def to_scenario(self, name: str | None = None) -> Scenario:
        """The plan as a Scenario of ``add_setting`` changes (for compare and the maps)."""
        return bases_scenario(self.sites, name or f"Inclusion bases within £{self.budget_gbp:,.0f}")

    def save_scenario(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write :meth:`to_scenario` as YAML (for :func:`optimiser.load_scenario`); no overwrite."""
        path = Path(path)
        refuse_existing(path)
        sc = self.to_scenario(name)
        data = {
            "name": sc.name,
            "description": (
                f"optimiser site: capital £{self.capital_cost_gbp:,.0f} "
                f"of £{self.budget_gbp:,.0f}; "
                f"confirmed saving £{self.annual_saving_gbp:,.0f}/yr; status {self.status}"
            ),
            "changes": [
                {c.kind: c.model_dump(mode="json", exclude_defaults=True)} for c in sc.changes
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def budget_curve(self, budgets: list[float]) -> pd.DataFrame:
        """:func:`optimiser.site_planning.budget_curve` on this plan's dataset and parameters."""
        from optimiser.site_planning import budget_curve  # site_planning imports this module

        return budget_curve(self.dataset, budgets, **self.parameters)


def confirm_plan(prep: SiteInstance, sites: pd.DataFrame) -> AllocationResult:
    """Re-allocate with these bases added (the baseline when there are none)."""
    return allocate(prep.ds, bases_scenario(sites, "plan")) if len(sites) else prep.baseline


def marginal_table(
    prep: SiteInstance, sites: pd.DataFrame, planned: AllocationResult
) -> pd.DataFrame:
    """Each base's marginal saving: confirmed cost without it minus with every base [GBP/yr]."""
    rows = []
    total = planned.kpis["total_cost_gbp"]
    for i in range(len(sites)):
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
