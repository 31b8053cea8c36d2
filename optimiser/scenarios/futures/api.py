"""``futures``: many seeded demand futures, the baseline and every option rolled through each."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.problems import Problem, raise_problems
from optimiser.scenarios.futures.engine import Progress, resolve_scheduler, run
from optimiser.scenarios.futures.result import FuturesResult, summarise
from optimiser.scenarios.futures.roll import FuturesModel
from optimiser.scenarios.futures.sampling import growth_prior
from optimiser.scenarios.scenario import Scenario

#: Most futures and years one run takes (beyond: a typo, not a plan).
MAX_FUTURES, MAX_YEARS = 1_000_000, 30


def _check(n: object, years: object, seed: object) -> None:
    problems = []
    for name, value, lo, hi in (("n", n, 1, MAX_FUTURES), ("years", years, 0, MAX_YEARS)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not (lo <= int(value) <= hi)
        ):
            problems.append(
                Problem(
                    f"--{'futures' if name == 'n' else name}",
                    None,
                    "",
                    repr(value),
                    f"a whole number from {lo:,} to {hi:,}",
                    f"give {name} as a whole number, e.g. {100 if name == 'n' else 5}",
                )
            )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        problems.append(
            Problem("--seed", None, "", repr(seed), "a whole number ≥ 0", "give e.g. --seed 1")
        )
    if problems:
        raise_problems(problems)


def prepare(
    ds: Dataset, scenarios: Sequence[Scenario] = (), *, years: int = 5, seed: int = 1
) -> FuturesModel:
    """The model a run rolls (data, options, growth prior), checked."""
    for sc in scenarios:
        if not isinstance(sc, Scenario):
            msg = f"scenarios must be Scenarios (optimiser.load_scenario), not {type(sc)}"
            raise TypeError(msg)
        sc.apply(ds)  # every change checked against the data before any work starts
    prior = growth_prior(ds.policy.futures, ds.policy.la_code)
    return FuturesModel(ds, list(scenarios), years=int(years), seed=int(seed), prior=prior)


def futures(
    ds: Dataset,
    scenarios: Sequence[Scenario] = (),
    n: int = 1000,
    seed: int = 1,
    years: int = 5,
    scheduler: str | None = None,
    *,
    progress: Progress | None = None,
) -> FuturesResult:
    """Roll ``n`` seeded demand futures for the baseline and each option; bands and regret.

    Parameters
    ----------
    ds : the base data (year 0); its policy's ``futures`` section sets the sampling.
    scenarios : the options (Scenario objects); the baseline is always included.
    n : number of futures.
    seed : seed of the run; future i is seeded by (seed, i) alone.
    years : years to roll forward after year 0.
    scheduler : None (a local Dask cluster from 64 futures, else serial), "serial",
        "local" or a Dask scheduler address such as "tcp://127.0.0.1:8786".
    progress : called with the number of futures finished, as they finish.

    Returns
    -------
    FuturesResult
        The same tables whatever the scheduler (docs/futures.md).
    """
    _check(n, years, seed)
    how = resolve_scheduler(scheduler, int(n))
    model = prepare(ds, scenarios, years=int(years), seed=int(seed))
    values = run(model, int(n), scheduler=how, progress=progress)
    draws = _draws(model, int(n))
    settings: dict[str, object] = {
        "n": int(n),
        "seed": int(seed),
        "years": int(years),
        "scheduler": how if "://" not in how else "address",
        "growth_mean": float(np.expm1(model.prior.mean)),
        "growth_level_sd": model.prior.level_sd,
        "growth_year_sd": model.prior.year_sd,
        "growth_source": model.prior.source,
    }
    return summarise(values, model.names, list(model.packages), draws, settings)


def _draws(model: FuturesModel, n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        d = model.draw(i)
        rows.append(
            {
                "future": i,
                "growth_mean": float(d.growth[1:].mean()) if model.years else float("nan"),
                "inmss_inflation": float(d.inmss_factor[1] - 1) if model.years else 0.0,
                "settings_losing_places_share": float((d.lost_share[-1] > 0).mean())
                if d.lost_share.size
                else 0.0,
                "late_openings": int(sum(v > 0 for v in d.delay.values())),
            }
        )
    return pd.DataFrame(rows)
