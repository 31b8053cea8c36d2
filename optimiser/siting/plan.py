"""Siting inclusion bases within a capital budget: the domain model over the siting core.

Who is demand
-------------
Children needing a package who, in the baseline allocation, are unplaced, placed
in INMSS, or placed beyond their phase's journey cap, and whom a re-allocation
may move: with policy ``continuity: keep`` continuing placements stay put (the
allocation never moves them), so only children being placed count; with
``continuity: free`` everyone does. They are aggregated into zones of LSOA
(else ward) × package × phase.

Formulation (capacitated facility location, :func:`optimiser.siting.solve_facility_location`)
-------------------------------------------------------------------------------------------
Facilities: every option (candidate site s, package p in its ``packages``, size
q in ``sizes`` with q ≤ ``max_places``), plus one *status quo* facility of
unlimited capacity and no fixed cost. Customers: the zones, demand d_j = children,
single-sourced (a zone's children all go to one base or all stay: whole children;
it also lets HiGHS prove optimality at the root, where split zones took minutes).

* fixed cost f_i = capital_i / A, annualised capital [GBP/yr]: capital_i = q ×
  ``capital_cost_gbp_per_place`` and A = (1 − (1 + r)^−n) / r is the annuity
  factor (defaults n = 25 years, r = 3.5%, HM Treasury Green Book discount rate;
  keyword args ``life_years`` and ``discount_rate``); capacity u_i = q;
* c_ij = Σ over the zone's children of place cost (the costing framework's
  ``inclusion_base`` cost of the package) + transport cost, both exactly as the
  allocation costs an arc to that base (:func:`optimiser.options` on a probe
  scenario holding every candidate); forbidden unless every child of the zone
  may use the base (age range, journey cap);
* status quo: c_j = Σ of the children's baseline place + transport cost; an
  unplaced child costs its ``unplaced_cost_gbp`` (the unplaced penalty is not money):
  the one rule of :mod:`optimiser.allocation.unplaced_cost` that every
  ``total_cost_gbp`` uses (policy ``unplaced_cost_gbp``, else the mean INMSS fee of
  the package + the mean transport cost of the baseline's INMSS placements).

Constraints: the core's (1)-(4); (5) budget: Σ f_i y_i ≤ budget_gbp / A, i.e.
Σ capital_i y_i ≤ budget_gbp; the sizes of one site × package are a *family*
(at most one opens; they share assignment variables); (7) groups: two bases at
one site only when their places sum to ≤ ``max_places`` (a site offering three or
more packages hosts at most one base).

The model is a screen; the saving reported as ``annual_saving_gbp`` is the one
re-allocation *confirms*: baseline ``total_cost_gbp`` minus ``total_cost_gbp``
of ``allocate(ds, result.to_scenario())``. It can differ from the modelled
saving (re-allocation also moves other children). Both totals count every unplaced
child at its ``unplaced_cost_gbp``, so a newly placed child's saving is its rate less
what its place costs, in the model and in the confirmation alike.

Modules: :mod:`optimiser.siting.instance` (the instance of a Dataset: demand, zones,
costs), :mod:`optimiser.siting.candidates` (candidate bases, their sizes and groups),
:mod:`optimiser.siting.confirm` (:class:`SitingResult`, confirmation by re-allocation,
the marginal table); this module solves, once per budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser._errors import DataValidationError, SolverError, SolverTimeoutError
from optimiser._solver.status import OPTIMAL
from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.scenarios.scenario import Scenario
from optimiser.siting.candidates import EXCLUDED_COLUMNS, bases_scenario
from optimiser.siting.cflp.solution import FacilityLocationSolution, relative_gap
from optimiser.siting.cflp.solve import solve_facility_location
from optimiser.siting.confirm import SITE_COLUMNS, confirm_plan, marginal_table
from optimiser.siting.instance import (
    DEFAULT_SIZES,
    DISCOUNT_RATE,
    LIFE_YEARS,
    SiteInstance,
    annuity_factor,
    build_site_instance,
    check_budget,
)

__all__ = ["SitingResult", "annuity_factor", "budget_curve", "site"]

_EPS_GBP = 1e-6
#: Status of a run whose solve found no plan within the time left (nothing is opened).
NO_PLAN = "no plan (time limit)"
#: The least time the facility-location solve is given when building the instance used up
#: the budget [s] (part of the fixed allowance beyond ``time_limit_s``).
MIN_SOLVE_S = 1.0


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
    annual_saving_gbp : confirmed revenue saving [GBP/yr] (see :mod:`optimiser.siting.plan`).
    modelled_saving_gbp : the model's revenue saving [GBP/yr] (capital excluded).
    annualised_capital_gbp : capital_cost_gbp / annuity factor [GBP/yr].
    children_served : children the re-allocation places in the new bases.
    newly_placed_children : baseline unplaced minus unplaced after re-allocation.
    saving_with_proxy_gbp : equal to annual_saving_gbp [GBP/yr], kept for callers of
        the earlier API: total_cost_gbp now counts every unplaced child at its
        unplaced_cost_gbp (the former proxy), so the confirmed saving already does.
    inmss_places_avoided : baseline INMSS children minus INMSS children after.
    journey_min_saved : Σ one-way journey [min] of children placed in both runs,
        baseline minus after.
    objective, bound, gap, status : the facility-location solve (annualised
        capital + revenue cost of the demand [GBP/yr]); status "optimal" when proven,
        "feasible" when stopped by the time limit, "no plan (time limit)" when it found
        none in the time left (then nothing is opened and ``notes`` says so).
    baseline_total_cost_gbp, planned_total_cost_gbp : total_cost_gbp of both runs.
    demand : the zones: zone_code, package_id, phase, children, status_quo_cost_gbp,
        modelled_served.
    marginal : ranked table: each base's contribution, the confirmed saving with
        every base minus the saving without it [GBP/yr], and saving per £ capital.
    budget_gbp, solve_time_s, parameters : inputs and timing.
    dataset : the dataset sited on (with horizon growth, when asked).
    timings_s : wall time of each stage [s]: instance (baseline allocation, probe
        arcs, zones), solve, confirm (the re-allocation with every base), marginal
        (one re-allocation per base), total.
    notes : what the run left out to keep within its time budget (empty when nothing).
    excluded_hosts : the (candidate, package) bases the policy's ``host_exclusions``
        kept out of the plan: site_id, name, urn, package_id, rule (``selective``,
        ``single_sex``; '; '-joined when both). Empty when the policy sets no rule.
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
    timings_s: dict[str, float] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()
    excluded_hosts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(EXCLUDED_COLUMNS)), compare=False
    )

    def to_scenario(self, name: str | None = None) -> Scenario:
        """The plan as a Scenario of ``add_setting`` changes (for compare and the maps)."""
        return bases_scenario(self.sites, name or f"Inclusion bases within £{self.budget_gbp:,.0f}")

    def save_scenario(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write :meth:`to_scenario` as YAML (for :func:`optimiser.load_scenario`); no overwrite."""
        description = (
            f"optimiser site: capital £{self.capital_cost_gbp:,.0f} of £{self.budget_gbp:,.0f}; "
            f"confirmed saving £{self.annual_saving_gbp:,.0f}/yr; status {self.status}"
        )
        return replace(self.to_scenario(name), description=description).save(path)

    def budget_curve(self, budgets: list[float]) -> pd.DataFrame:
        """:func:`optimiser.siting.plan.budget_curve` on this plan's dataset and parameters."""
        if self.dataset is None:
            msg = (
                "this SitingResult holds no dataset (dataset=None); call "
                "optimiser.siting.plan.budget_curve(ds, budgets, ...) with the dataset instead."
            )
            raise DataValidationError(msg)
        return budget_curve(self.dataset, budgets, **self.parameters)


def _left_s(deadline: float) -> float:
    """Seconds left before ``deadline`` (a ``time.perf_counter()`` value), at least MIN_SOLVE_S."""
    return max(deadline - time.perf_counter(), MIN_SOLVE_S)


def _solve_model(
    prep: SiteInstance, budget_gbp: float, time_limit_s: float
) -> FacilityLocationSolution:
    """Solve the facility-location model; the core's solution over the options only.

    The status-quo facility (the last one) is dropped from ``open`` and ``assignment``;
    ``objective``, ``bound`` and ``gap`` still count the demand it keeps. With no zones
    nothing is solved: no option opens, at objective 0 (``engine`` "none").
    """
    opts, demand = prep.options, prep.zones["children"].to_numpy(float)
    if len(prep.zones) == 0:
        return FacilityLocationSolution(
            np.zeros(len(opts), bool), np.zeros((len(opts), 0)), 0.0, 0.0, 0.0, OPTIMAL, 0.0, "none"
        )
    try:
        sol = _solve_core(prep, budget_gbp, time_limit_s)
    except SolverTimeoutError:
        # opening nothing (every zone at its status quo) is always a plan: report it, noted
        cost = float(prep.zones["status_quo_cost_gbp"].sum())
        return FacilityLocationSolution(
            np.zeros(len(opts), bool),
            np.zeros((len(opts), len(demand))),
            cost,
            0.0,
            relative_gap(cost, 0.0),
            NO_PLAN,
            time_limit_s,
            "highs",
        )
    return replace(sol, open=sol.open[:-1], assignment=sol.assignment[:-1])


def _solve_core(
    prep: SiteInstance, budget_gbp: float, time_limit_s: float
) -> FacilityLocationSolution:
    opts, a, demand = prep.options, prep.annuity, prep.zones["children"].to_numpy(float)
    return solve_facility_location(
        np.append(opts["capital_cost_gbp"].to_numpy(float) / a, 0.0),
        np.append(opts["places"].to_numpy(float), demand.sum()),
        demand,
        prep.assign_cost,
        budget=budget_gbp / a + _EPS_GBP,
        groups=prep.groups,
        families=np.append(opts["k"].to_numpy(), -1),
        single_source=True,
        # the core's choice: LA-scale instances (solve.BUDGET_MIN_PAIRS) go to the budget
        # branch and bound, whose bound keeps the budget whole; small ones to a MIP engine
        engine=None,
        time_limit_s=time_limit_s,
    )


def _read_plan(
    prep: SiteInstance, sol: FacilityLocationSolution, budget_gbp: float
) -> pd.DataFrame:
    """The opened options with their annualised capital and modelled children and saving."""
    chosen = np.flatnonzero(sol.open)
    x = sol.assignment[chosen]
    served = x * prep.zones["children"].to_numpy(float)
    status_quo = prep.zones["status_quo_cost_gbp"].to_numpy(float)
    gain = np.where(x > 0, (status_quo - prep.assign_cost[chosen]), 0.0) * x
    sites = prep.options.iloc[chosen].copy()
    sites["annualised_capital_gbp"] = sites["capital_cost_gbp"] / prep.annuity
    sites["modelled_children"] = served.sum(axis=1).round(6)
    sites["annual_saving_gbp"] = gain.sum(axis=1).round(2)
    capital = float(sites["capital_cost_gbp"].sum())
    if capital > budget_gbp + 0.01:
        msg = f"the plan's capital £{capital:,.0f} exceeds the budget £{budget_gbp:,.0f}; a bug."
        raise SolverError(msg)
    return sites


def _rank_sites(
    prep: SiteInstance,
    sites: pd.DataFrame,
    planned: AllocationResult,
    *,
    marginal: bool,
    deadline: float | None = None,
    run_s: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites with children served, marginal saving and rank (best first), and the marginal table.

    Bases whose marginal re-allocation the ``deadline`` left out (NaN) rank after the
    others, by modelled saving.
    """
    sites = sites.copy()
    at = planned.placements["setting_id"].value_counts()
    sites["children_served"] = sites["setting_id"].map(at).fillna(0).astype(int)
    table = (
        marginal_table(prep, sites, planned, deadline=deadline, run_s=run_s)
        if marginal
        else pd.DataFrame({"setting_id": sites["setting_id"], "marginal_saving_gbp": np.nan})
    )
    sites["marginal_saving_gbp"] = table["marginal_saving_gbp"].to_numpy()
    sites = sites.sort_values(
        ["marginal_saving_gbp", "annual_saving_gbp", "setting_id"],
        ascending=[False, False, True],
        kind="stable",
    )
    sites["rank"] = np.arange(1, len(sites) + 1)
    if not marginal:
        return sites, pd.DataFrame()
    table = table.set_index("setting_id").loc[sites["setting_id"]].reset_index()
    table.insert(0, "rank", sites["rank"].to_numpy())
    return sites, table


def _confirm(
    prep: SiteInstance,
    sol: FacilityLocationSolution,
    sites: pd.DataFrame,
    budget_gbp: float,
    *,
    time_limit_s: float,
    marginal: bool,
    start: float,
    timings: dict[str, float],
) -> SitingResult:
    """Re-allocate with the plan's bases and report the confirmed plan.

    The confirming re-allocation always runs (without it there is no confirmed saving);
    the marginal re-allocations only while each can end within ``time_limit_s`` of
    ``start``, the rest are noted.
    """
    capital, a = float(sites["capital_cost_gbp"].sum()), prep.annuity
    t = time.perf_counter()
    planned = confirm_plan(prep, sites)
    timings["confirm"] = time.perf_counter() - t
    t = time.perf_counter()
    sites, table = _rank_sites(
        prep,
        sites,
        planned,
        marginal=marginal,
        deadline=start + time_limit_s,
        run_s=timings["confirm"],
    )
    timings["marginal"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    notes = []
    if sol.status == NO_PLAN:
        notes.append(
            f"the facility-location solve found no plan in the {timings['solve_budget']:.1f} s "
            f"left of the {time_limit_s:g} s time limit: nothing is opened; raise the limit"
        )
    if timings.get("instance", 0.0) > time_limit_s:
        notes.append(
            f"building the instance took {timings['instance']:.1f} s, over the whole time "
            f"limit of {time_limit_s:g} s: the solve had only its minimum {MIN_SOLVE_S:g} s"
        )
    if sol.status == "feasible" and sol.solve_time_s >= 0.95 * timings.get("solve_budget", np.inf):
        notes.append(
            f"the facility-location solve stopped at the time limit ({time_limit_s:g} s in all) "
            f"at gap {sol.gap:.2e}: the plan is the best found, not proven optimal"
        )
    missing = int(table["marginal_saving_gbp"].isna().sum()) if marginal and len(table) else 0
    if missing:
        notes.append(
            f"time limit {time_limit_s:g} s reached: the marginal savings of {missing} of "
            f"{len(table)} bases were not computed (NaN; they rank last, by modelled saving)"
        )
    base_k, plan_k = prep.baseline.kpis, planned.kpis
    both = prep.baseline.placements.merge(planned.placements, on="child_id")
    saving = base_k["total_cost_gbp"] - plan_k["total_cost_gbp"]
    served = (sol.assignment * prep.zones["children"].to_numpy(float)).sum(axis=0)
    return SitingResult(
        sites=sites[SITE_COLUMNS].reset_index(drop=True),
        capital_cost_gbp=capital,
        annual_saving_gbp=saving,
        modelled_saving_gbp=float(sites["annual_saving_gbp"].sum()),
        annualised_capital_gbp=capital / a,
        children_served=int(sites["children_served"].sum()),
        newly_placed_children=int(base_k["unplaced_children"] - plan_k["unplaced_children"]),
        saving_with_proxy_gbp=saving,
        inmss_places_avoided=int(base_k["inmss_children"] - plan_k["inmss_children"]),
        journey_min_saved=float((both["travel_min_x"] - both["travel_min_y"]).sum()),
        objective=float(sol.objective),
        bound=float(sol.bound),
        gap=float(sol.gap),
        status=sol.status,
        baseline_total_cost_gbp=base_k["total_cost_gbp"],
        planned_total_cost_gbp=plan_k["total_cost_gbp"],
        demand=prep.zones.assign(modelled_served=served.round(6)),
        marginal=table,
        budget_gbp=float(budget_gbp),
        solve_time_s=float(sol.solve_time_s),
        parameters=dict(prep.parameters, time_limit_s=time_limit_s),
        dataset=prep.ds,
        timings_s={k: v for k, v in timings.items() if k != "solve_budget"},
        notes=tuple(notes),
        excluded_hosts=prep.excluded_hosts,
    )


def _plan_for_budget(
    prep: SiteInstance, budget_gbp: float, *, time_limit_s: float, marginal: bool
) -> SitingResult:
    """Solve, read the plan and confirm it, for one (checked) budget, within ``time_limit_s``."""
    start = time.perf_counter()
    return _solve_and_confirm(
        prep, budget_gbp, time_limit_s=time_limit_s, marginal=marginal, start=start, timings={}
    )


def _solve_and_confirm(
    prep: SiteInstance,
    budget_gbp: float,
    *,
    time_limit_s: float,
    marginal: bool,
    start: float,
    timings: dict[str, float],
) -> SitingResult:
    """Solve with the budget left since ``start``, read the plan, confirm it."""
    t = time.perf_counter()
    timings["solve_budget"] = _left_s(start + time_limit_s)
    sol = _solve_model(prep, budget_gbp, timings["solve_budget"])
    sites = _read_plan(prep, sol, budget_gbp)
    timings["solve"] = time.perf_counter() - t
    return _confirm(
        prep,
        sol,
        sites,
        budget_gbp,
        time_limit_s=time_limit_s,
        marginal=marginal,
        start=start,
        timings=timings,
    )


def site(
    ds: Dataset,
    *,
    budget_gbp: float,
    packages: object = None,
    phases: object = None,
    horizon_years: int | None = None,
    sizes: tuple = DEFAULT_SIZES,
    time_limit_s: float = 60.0,
    life_years: float = LIFE_YEARS,
    discount_rate: float = DISCOUNT_RATE,
    growth: float | None = None,
    seed: int = 0,
    marginal: bool = True,
) -> SitingResult:
    """Choose new inclusion bases within a capital budget (formulation: module docstring).

    Parameters
    ----------
    ds : the dataset; its ``candidates`` (candidates.csv) are the possible sites.
    budget_gbp : capital budget [GBP] on Σ places × capital_cost_gbp_per_place.
    packages, phases : restrict demand and bases to these package ids / phases
        ("primary", "secondary", "post16"); default all.
    horizon_years : site for demand this many years ahead: children still to
        place are scaled by (1 + growth)^horizon_years (a seeded demand_growth
        change; the result's ``dataset`` holds the grown data). Default: now.
    sizes : module sizes a base may have [places]; only those ≤ max_places.
    time_limit_s : wall-clock budget of the whole run [s]. Building the instance (the
        baseline allocation, probe arcs, zones) counts; the facility-location solve gets
        what is left (at least ``MIN_SOLVE_S`` = 1 s) and stops at it with its gap; the
        confirming re-allocation always runs (there is no confirmed saving without it);
        a marginal re-allocation starts only when it can end within the budget (it takes
        about as long as the confirming one), and those left out are listed in
        ``notes``. So the run ends within the budget plus at most 1 s of solve and one
        allocation; ``timings_s`` gives each stage.
    life_years, discount_rate : annualise capital over this life at this rate
        (defaults 25 years, 3.5%; annuity factor ≈ 16.48).
    growth : annual demand growth for ``horizon_years`` (default national EHCP trend).
    seed : seed of the demand growth sample.
    marginal : also re-allocate without each base to rank them (one allocation each).

    Returns
    -------
    SitingResult

    Raises
    ------
    DataValidationError
        No candidates.csv, a negative budget, unknown packages/phases, bad sizes.
    """
    start = time.perf_counter()
    budget = check_budget(budget_gbp)  # consistency check
    prep = build_site_instance(  # build instance
        ds,
        packages=packages,
        phases=phases,
        horizon_years=horizon_years,
        sizes=tuple(sizes),
        life_years=life_years,
        discount_rate=discount_rate,
        growth=growth,
        seed=seed,
    )
    timings = {"instance": time.perf_counter() - start}
    return _solve_and_confirm(  # solve, read the plan, confirm
        prep, budget, time_limit_s=time_limit_s, marginal=marginal, start=start, timings=timings
    )


def budget_curve(
    ds: Dataset, budgets: list[float], *, time_limit_s: float = 60.0, **site_kwargs: object
) -> pd.DataFrame:
    """Saving against capital budget: one :func:`site` plan per budget (data prepared once).

    ``time_limit_s`` is the wall-clock budget of each budget's plan (solve and
    confirmation; the shared instance is built once, outside it), as in :func:`site`.
    Returns one row per budget (ascending): budget_gbp, capital_cost_gbp, sites, places,
    modelled_saving_gbp, annual_saving_gbp (confirmed), saving_with_proxy_gbp, children_served,
    inmss_places_avoided, extra_saving_per_extra_gbp (confirmed saving gained per
    extra £ of capital used since the previous row: where it falls towards 0,
    extra money stops paying), gap, status.
    """
    checked = sorted(check_budget(b) for b in budgets)
    site_kwargs.pop("marginal", None)
    prep = build_site_instance(ds, **site_kwargs)  # type: ignore[arg-type]
    rows = []
    for b in checked:
        res = _plan_for_budget(prep, b, time_limit_s=time_limit_s, marginal=False)
        rows.append(
            {
                "budget_gbp": b,
                "capital_cost_gbp": res.capital_cost_gbp,
                "sites": len(res.sites),
                "places": int(res.sites["places"].sum()),
                "modelled_saving_gbp": res.modelled_saving_gbp,
                "annual_saving_gbp": res.annual_saving_gbp,
                "saving_with_proxy_gbp": res.saving_with_proxy_gbp,
                "children_served": res.children_served,
                "inmss_places_avoided": res.inmss_places_avoided,
                "gap": res.gap,
                "status": res.status,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        d_cap = out["capital_cost_gbp"].diff().fillna(out["capital_cost_gbp"])
        d_save = out["annual_saving_gbp"].diff().fillna(out["annual_saving_gbp"])
        out.insert(8, "extra_saving_per_extra_gbp", d_save / d_cap.where(d_cap > 0))
    return out
