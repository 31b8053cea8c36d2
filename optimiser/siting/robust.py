"""Robust siting: bases and their opening years chosen against sampled futures.

The single-line plan (:func:`optimiser.siting.plan.site`) sites for one demand line (the
children still to place, grown ``years`` years at one rate). Here the bases it would pick
(for now and for ``years`` ahead) form a shortlist; each base takes ``lead_years`` to
build, so it opens (``from_year``) no earlier than ``lead_years``, and its capital
(places × capital cost per place) is spent in the year building starts
(``from_year − lead_years``), within ``budget_gbp_per_year``.

A greedy sample-average search then adds, one at a time, the (base, opening year) that
most lowers the criterion over ``n_train`` training futures (the same futures for every
candidate plan: :func:`optimiser.scenarios.futures.futures`), and stops when none does:

* ``"expected"``: expected cost over the horizon (every unplaced child costed);
* ``"regret"``: expected regret, each future's cost less the cheapest candidate's.

The robust plan and the single-line plan (its bases opening as early as the lead time and
the yearly budget allow, in the single-line rank order) are then compared on ``n_test``
held-out futures (another seed: none of them was used to choose).

This is a greedy search over a shortlist, not an exact stochastic programme: it can miss a
plan whose bases only pay together, and it never considers a base the single-line model
did not shortlist.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.scenarios.changes import AddSetting
from optimiser.scenarios.futures.api import futures
from optimiser.scenarios.futures.sampling import growth_prior
from optimiser.scenarios.scenario import Scenario
from optimiser.siting.plan import site

#: Columns of a plan table.
PLAN_COLUMNS = ["setting_id", "package_id", "places", "capital_cost_gbp", "build_year", "from_year"]
#: The held-out seed is the training seed + this (independent futures).
HELD_OUT_OFFSET = 1_000_003


@dataclass(frozen=True)
class RobustSiting:
    """A robust plan, the single-line plan and how they compare on held-out futures.

    Attributes
    ----------
    plan : the robust plan, one row per base (PLAN_COLUMNS; capital [GBP], years).
    single_line : the single-line plan, phased by the same lead time and yearly budget.
    comparison : one row per plan (robust, single-line, no new bases) on the held-out
        futures: expected, P10 and P90 cost over the horizon, expected regret,
        probability of beating the single-line plan, expected unplaced child-years.
    steps : the greedy search: per step, the base and year added and the criterion.
    parameters : the run's settings.
    scenarios : the robust and the single-line plan as scenarios (``add_setting`` changes
        with their ``from_year``), by plan name, for ``compare``, ``futures`` and the maps.
    """

    plan: pd.DataFrame
    single_line: pd.DataFrame
    comparison: pd.DataFrame
    steps: pd.DataFrame
    parameters: dict
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def save_scenario(self, path: str | Path, *, which: str = "robust") -> Path:
        """Write plan ``which`` ("robust" or "single-line") as scenario YAML; no overwrite."""
        if which not in self.scenarios:
            msg = f"which must be one of {sorted(self.scenarios)}; found {which!r}"
            raise ValueError(msg)
        p = self.parameters
        description = (
            f"optimiser robust siting ({which} plan): £{p['budget_gbp_per_year']:,.0f} a year "
            f"of capital, {p['lead_years']}-year build, chosen on {p['n_train']} futures "
            f"(seed {p['seed']}) by {p['criterion']} cost over years 0-{p['years']}"
        )
        return replace(self.scenarios[which], description=description).save(path)


def _plan_bases(ds: Dataset, budget_gbp: float, horizon: int, growth: float) -> list[AddSetting]:
    """The bases :func:`~optimiser.siting.plan.site` picks for demand ``horizon`` years on."""
    res = site(
        ds,
        budget_gbp=budget_gbp,
        horizon_years=horizon or None,
        growth=growth,
        marginal=False,
        time_limit_s=60.0,
    )
    return [ch for ch in res.to_scenario().changes if isinstance(ch, AddSetting)]


def _spend(plan: list[tuple[AddSetting, int]], lead: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for base, year in plan:
        out[year - lead] = out.get(year - lead, 0.0) + float(base.capital_cost_gbp)
    return out


def fits(
    plan: list[tuple[AddSetting, int]], *, lead_years: int, budget_gbp_per_year: float
) -> bool:
    """Whether each year's building capital stays within the yearly budget."""
    return all(v <= budget_gbp_per_year + 1e-6 for v in _spend(plan, lead_years).values())


def phase(
    bases: list[AddSetting], *, lead_years: int, years: int, budget_gbp_per_year: float
) -> list[tuple[AddSetting, int]]:
    """Each base (in order) at the earliest opening year the lead time and budget allow."""
    plan: list[tuple[AddSetting, int]] = []
    for base in bases:
        for year in range(lead_years, years + 1):
            if fits(
                [*plan, (base, year)],
                lead_years=lead_years,
                budget_gbp_per_year=budget_gbp_per_year,
            ):
                plan.append((base, year))
                break
    return plan


def _scenario(name: str, plan: list[tuple[AddSetting, int]]) -> Scenario:
    return Scenario(
        name=name, changes=tuple(b.model_copy(update={"from_year": y}) for b, y in plan)
    )


def _table(plan: list[tuple[AddSetting, int]], lead: int) -> pd.DataFrame:
    rows = [
        {
            "setting_id": b.setting_id,
            "package_id": ";".join(b.places),
            "places": int(sum(b.places.values())),
            "capital_cost_gbp": float(b.capital_cost_gbp),
            "build_year": y - lead,
            "from_year": y,
        }
        for b, y in plan
    ]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def robust_site(
    ds: Dataset,
    *,
    budget_gbp_per_year: float,
    years: int = 5,
    lead_years: int = 2,
    n_train: int = 20,
    n_test: int = 20,
    seed: int = 1,
    criterion: str = "expected",
    scheduler: str | None = "serial",
    max_bases: int = 6,
) -> RobustSiting:
    """Choose bases and opening years against sampled futures (see the module docstring).

    Parameters
    ----------
    ds : the dataset (its candidates.csv are the possible sites).
    budget_gbp_per_year : capital that may start building each year [GBP].
    years : horizon [years]; lead_years : build time of a base [years] (opens ≥ this).
    n_train, n_test : training and held-out futures; seed : the training seed.
    criterion : ``"expected"`` (expected cost) or ``"regret"`` (expected regret).
    scheduler : passed to each :func:`optimiser.futures` call (same answers whichever);
        ``"local"`` starts a local cluster per call, after that call's preparation: one
        cluster kept for the whole search had its in-process scheduler starved by the
        preparation between calls (a worker lost its heartbeat connection).
    max_bases : most bases in the plan.
    """
    if criterion not in ("expected", "regret"):
        msg = f"criterion must be 'expected' or 'regret', not {criterion!r}"
        raise ValueError(msg)
    if not 0 <= lead_years <= years:
        msg = f"lead_years must be from 0 to years ({years}); found {lead_years}"
        raise ValueError(msg)
    prior = growth_prior(ds.policy.futures, ds.policy.la_code)
    growth = float(np.expm1(prior.mean))  # the single line: the futures' centre
    total_budget = budget_gbp_per_year * (years - lead_years + 1)
    single_bases = _plan_bases(ds, total_budget, years, growth)  # the single-line plan
    extra = [
        b
        for b in _plan_bases(ds, total_budget, 0, growth)
        if b.setting_id not in {s.setting_id for s in single_bases}
    ]
    shortlist = [*single_bases, *extra][: 2 * max_bases]
    score = "expected_cost_gbp" if criterion == "expected" else "expected_regret_gbp"
    plan: list[tuple[AddSetting, int]] = []
    steps = []
    current = None
    while len(plan) < max_bases:
        chosen = {b.setting_id for b, _ in plan}
        trials = [
            [*plan, (b, y)]
            for b in shortlist
            if b.setting_id not in chosen
            for y in range(lead_years, years + 1)
            if fits([*plan, (b, y)], lead_years=lead_years, budget_gbp_per_year=budget_gbp_per_year)
        ]
        if not trials:
            break
        options = [_scenario(f"trial {i}", t) for i, t in enumerate(trials)]
        if plan:
            options.insert(0, _scenario("current", plan))
        res = futures(ds, options, n=n_train, seed=seed, years=years, scheduler=scheduler)
        table = dict(zip(res.decisions["option"], res.decisions[score].astype(float), strict=True))
        here = table["current"] if plan else table["baseline"]
        best = min((f"trial {i}" for i in range(len(trials))), key=table.__getitem__)
        if table[best] >= here - 1e-6:
            break
        added = trials[int(best.split()[-1])][-1]
        plan.append(added)
        steps.append(
            {
                "step": len(plan),
                "setting_id": added[0].setting_id,
                "from_year": added[1],
                f"{criterion}_before_gbp": float(here),
                f"{criterion}_after_gbp": float(table[best]),
                "trials": len(trials),
            }
        )
        current = float(table[best])
    single = phase(
        single_bases,
        lead_years=lead_years,
        years=years,
        budget_gbp_per_year=budget_gbp_per_year,
    )
    scenarios = {
        "robust": _scenario("robust", plan),
        "single-line": _scenario("single-line", single),
    }
    held = futures(
        ds,
        list(scenarios.values()),
        n=n_test,
        seed=seed + HELD_OUT_OFFSET,
        years=years,
        scheduler=scheduler,
    )
    names = ["robust", "single-line", "baseline"]
    cols = [
        "expected_cost_gbp",
        "cost_p10_gbp",
        "cost_p90_gbp",
        "expected_regret_gbp",
        "expected_unplaced_child_years",
    ]
    comparison = held.decisions.set_index("option").loc[names, cols].rename_axis("plan")
    comparison.insert(4, "p_beats_single_line", held.beats.loc[names, "single-line"].to_numpy())
    comparison = comparison.reset_index()
    return RobustSiting(
        plan=_table(plan, lead_years),
        single_line=_table(single, lead_years),
        comparison=comparison,
        steps=pd.DataFrame(steps),
        parameters={
            "budget_gbp_per_year": budget_gbp_per_year,
            "years": years,
            "lead_years": lead_years,
            "n_train": n_train,
            "n_test": n_test,
            "seed": seed,
            "held_out_seed": seed + HELD_OUT_OFFSET,
            "criterion": criterion,
            "growth_single_line": growth,
            "shortlist": [b.setting_id for b in shortlist],
            "final_criterion_gbp": current,
        },
        scenarios=scenarios,
    )
