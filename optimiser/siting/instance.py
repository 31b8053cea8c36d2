"""The siting instance of a Dataset: demand zones, candidate options and their costs.

:func:`build_site_instance` checks the inputs, grows demand to the horizon, runs the
baseline allocation, picks the demand children (see "Who is demand" in
:mod:`optimiser.siting.plan`), aggregates them into zones and costs every zone at
every candidate base exactly as the allocation would; the result, a
:class:`SiteInstance`, is solved once per budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from optimiser._errors import DataValidationError
from optimiser.allocation.arcs import child_frame
from optimiser.allocation.solve import AllocationResult, allocate, options
from optimiser.allocation.unplaced_cost import unplaced_child_costs
from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap
from optimiser.scenarios.changes import DemandGrowth
from optimiser.scenarios.horizon import national_growth_rate
from optimiser.scenarios.scenario import Scenario
from optimiser.schema.tables import INMSS_TYPES
from optimiser.siting.candidates import (
    EXCLUDED_COLUMNS,
    bases_scenario,
    excluded_bases,
    probe_bases,
    size_options,
)

__all__ = [
    "DEFAULT_SIZES",
    "DISCOUNT_RATE",
    "LIFE_YEARS",
    "SiteInstance",
    "annuity_factor",
    "build_site_instance",
    "check_budget",
]

DEFAULT_SIZES = (8, 12, 16, 20)
LIFE_YEARS = 25  # appraisal life of a base [years] (assumption)
DISCOUNT_RATE = 0.035  # HM Treasury Green Book social time preference rate


def annuity_factor(life_years: float, discount_rate: float) -> float:
    """Present value of £1 a year for ``life_years`` at ``discount_rate`` (life_years if 0)."""
    if discount_rate == 0:
        return float(life_years)
    return (1.0 - (1.0 + discount_rate) ** -life_years) / discount_rate


@dataclass(frozen=True)
class SiteInstance:
    """Everything a budget's solve needs: zones, facilities (options), costs, baseline."""

    ds: Dataset
    baseline: AllocationResult
    zones: pd.DataFrame  # one row per zone
    options: pd.DataFrame  # one row per facility (excluding the status quo)
    assign_cost: np.ndarray  # (m + 1, n), status quo last
    groups: list[list[int]]
    annuity: float
    parameters: dict
    proxy_gbp: pd.Series  # status-quo proxy of each baseline-unplaced child, by child_id
    #: (candidate, package) bases the policy's host_exclusions kept out (excluded_bases)
    excluded_hosts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(EXCLUDED_COLUMNS))
    )


# ----------------------------------------------------------------------- inputs


def check_budget(budget_gbp: object) -> float:
    """The budget as a float; DataValidationError unless a finite number >= 0 [GBP]."""
    if (
        isinstance(budget_gbp, bool)
        or not isinstance(budget_gbp, int | float | np.number)
        or not math.isfinite(budget_gbp)
        or budget_gbp < 0
    ):
        msg = f"budget_gbp must be a finite number of pounds >= 0; found {budget_gbp!r}."
        raise DataValidationError(msg)
    return float(budget_gbp)


def _check_inputs(ds: Dataset, sizes: tuple, life_years: float, discount_rate: float) -> None:
    if not sizes or any(
        isinstance(q, bool) or not isinstance(q, int | np.integer) or q <= 0 for q in sizes
    ):
        msg = f"sizes must be positive whole numbers of places, e.g. (8, 12); found {sizes!r}."
        raise DataValidationError(msg)
    if not (0 < life_years < math.inf and 0 <= discount_rate < 1):
        msg = (
            f"life_years must be > 0 and discount_rate in [0, 1); found {life_years!r}, "
            f"{discount_rate!r}."
        )
        raise DataValidationError(msg)
    if ds.candidates is None or len(ds.candidates) == 0:
        msg = (
            f"dataset {ds.name!r} has no candidate sites: add candidates.csv (site_id, name, "
            "urn, easting, northing, age_min, age_max, packages, max_places, "
            "capital_cost_gbp_per_place; see docs/data-format.md) to the dataset folder."
        )
        raise DataValidationError(msg)


def _filter(values: object, known: set[str], what: str) -> set[str]:
    if values is None:
        return set(known)
    chosen = {values} if isinstance(values, str) else set(cast("Iterable[str]", values))
    unknown = sorted(chosen - known)
    if unknown:
        msg = f"{what} {unknown} not known; expected some of {sorted(known)}."
        raise DataValidationError(msg)
    return chosen


def _grown(ds: Dataset, horizon_years: int | None, growth: float | None, seed: int) -> Dataset:
    """Children still to place scaled by (1 + growth)^horizon_years (national EHCP trend)."""
    if not horizon_years:
        return ds
    if horizon_years < 0:
        msg = f"horizon_years must be 0 or more (or None); found {horizon_years!r}."
        raise DataValidationError(msg)
    rate = national_growth_rate() if growth is None else float(growth)
    factors = dict.fromkeys(ds.packages["package_id"], (1.0 + rate) ** horizon_years)
    change = DemandGrowth(factors=factors)
    return Scenario(name=f"demand in {horizon_years} years", changes=(change,), seed=seed).apply(ds)


def _demand(
    ds: Dataset, base: AllocationResult, packages: set[str], phases: set[str]
) -> tuple[pd.DataFrame, pd.Series]:
    """Demand children with zone and status-quo cost [GBP/yr]; the proxy of the unplaced."""
    kids = child_frame(ds)
    kids["zone_code"] = ds.children["lsoa_code"].fillna("").astype(str).to_numpy()
    ward = ds.children["ward_code"].fillna("").astype(str).to_numpy()
    kids["zone_code"] = np.where(kids["zone_code"] == "", ward, kids["zone_code"])
    kids["zone_code"] = np.where(
        kids["zone_code"] == "", "pt" + kids.index.astype(str), kids["zone_code"]
    )
    placed = base.placements.set_index("child_id")
    at = kids["child_id"].map(placed["setting_type"])
    mins = kids["child_id"].map(placed["travel_min"])
    cost = kids["child_id"].map(placed["place_cost_gbp"] + placed["transport_cost_gbp"])
    unplaced = kids["child_id"].isin(base.unplaced["child_id"])
    want = unplaced | at.isin(INMSS_TYPES) | over_journey_cap(mins, kids["cap_min"])
    want &= ~kids["fixed"] & kids["package_id"].isin(packages) & kids["phase"].isin(phases)
    kids["proxy_gbp"] = _proxy(ds, base, kids)
    kids["status_quo_cost_gbp"] = cost.where(~unplaced, kids["proxy_gbp"])
    proxy = kids.loc[unplaced].set_index("child_id")["proxy_gbp"]
    return kids[want].reset_index(drop=True), proxy


def _proxy(ds: Dataset, base: AllocationResult, kids: pd.DataFrame) -> pd.Series:
    """Status-quo cost of an unplaced child: the baseline's unplaced_cost_gbp rate.

    The one rule of :mod:`optimiser.allocation.unplaced_cost` (policy ``unplaced_cost_gbp``,
    else mean INMSS fee of the package + mean INMSS transport), so the model's status quo
    and the confirmed ``total_cost_gbp`` cost an unplaced child alike.
    """
    costs = unplaced_child_costs(base.unplaced_rates, kids["package_id"], kids["phase"])
    return pd.Series(costs, kids.index)


def build_site_instance(
    ds: Dataset,
    *,
    packages: object = None,
    phases: object = None,
    horizon_years: int | None = None,
    sizes: tuple = DEFAULT_SIZES,
    life_years: float = LIFE_YEARS,
    discount_rate: float = DISCOUNT_RATE,
    growth: float | None = None,
    seed: int = 0,
) -> SiteInstance:
    """Check the inputs and build the siting instance of ``ds`` (arguments as in optimiser.site)."""
    params = {
        "packages": packages,
        "phases": phases,
        "horizon_years": horizon_years,
        "sizes": tuple(sizes),
        "life_years": life_years,
        "discount_rate": discount_rate,
        "growth": growth,
        "seed": seed,
    }
    _check_inputs(ds, tuple(sizes), life_years, discount_rate)
    pkgs = _filter(packages, set(ds.packages["package_id"]), "packages")
    phs = _filter(phases, {"primary", "secondary", "post16"}, "phases")
    ds = _grown(ds, horizon_years, growth, seed)
    base = allocate(ds)
    kids, proxy = _demand(ds, base, pkgs, phs)
    probe = probe_bases(ds, pkgs)
    zones = kids.groupby(["zone_code", "package_id", "phase"], sort=True).agg(
        children=("child_id", "size"), status_quo_cost_gbp=("status_quo_cost_gbp", "sum")
    )
    zones = zones.reset_index()
    kids = kids.merge(
        zones[["zone_code", "package_id", "phase"]].reset_index(names="j"),
        on=["zone_code", "package_id", "phase"],
    )
    cost_sp = _base_costs(ds, probe, zones, kids)
    opts, groups = size_options(probe, cost_sp, tuple(sizes))
    cost = np.vstack([cost_sp[opts["k"].to_numpy()], zones["status_quo_cost_gbp"].to_numpy()])
    return SiteInstance(
        ds,
        base,
        zones,
        opts,
        cost,
        groups,
        annuity_factor(life_years, discount_rate),
        params,
        proxy,
        excluded_bases(ds, pkgs),
    )


def _base_costs(
    ds: Dataset, probe: pd.DataFrame, zones: pd.DataFrame, kids: pd.DataFrame
) -> np.ndarray:
    """(probe base, zone) cost [GBP/yr]: Σ place + transport of the zone's children, costed
    as the allocation costs them on a probe scenario holding every base; inf unless every
    child of the zone may use the base."""
    cost_sp = np.full((len(probe), len(zones)), np.inf)
    if len(probe) and len(kids):
        sc = bases_scenario(
            probe.assign(places=probe["max_places"].astype(int), capital_cost_gbp=0.0),
            "probe: every candidate base",
        )
        arcs = options(ds, sc).merge(kids[["child_id", "j"]], on="child_id")
        arcs = arcs.merge(probe[["setting_id"]].reset_index(names="k"), on="setting_id")
        arcs["cost"] = arcs["place_cost_gbp"] + arcs["transport_cost_gbp"]
        per = arcs.groupby(["k", "j"]).agg(cost=("cost", "sum"), kids=("child_id", "nunique"))
        full = (
            per["kids"].to_numpy() == zones["children"].to_numpy()[per.index.get_level_values("j")]
        )
        per = per[full]
        cost_sp[per.index.get_level_values("k"), per.index.get_level_values("j")] = per["cost"]
    return cost_sp
