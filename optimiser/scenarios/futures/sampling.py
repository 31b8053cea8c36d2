"""Seeded demand futures: growth by package, need-mix drift, INMSS fee inflation, places lost.

Future ``i`` of a run seeded ``seed`` draws everything from its own generator,
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(i,)))``: the same future whatever
``n`` is, whichever worker runs it and in whatever order (docs/futures.md).

Growth (log terms, a year): a future's level ``L ~ N(m, s_L²)``; each package's drift
``D_p ~ N(0, need_mix_drift_sd²)``; each year's noise ``E_y ~ N(0, s_E²)``; package p grows
by ``exp(L + D_p + E_y) − 1`` in year y. Where policy ``futures`` leaves them blank,
``m``, ``s_L`` and ``s_E`` come from SEN2 (:func:`sen2_growth`): the LA's own specialist
cohort, Jan 2019-Jan 2025, shrunk towards the spread of every English LA's trend (a
normal prior: the fewer and noisier the LA's own years, the nearer the national centre).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.dataset.init.national import (
    PLACEMENT_GROUPS,
    SUPPRESSED,
    national_dir,
    resolve_la,
)
from optimiser.policy import FuturesPolicy

#: An LA needs this many annual changes of its own for its own year-to-year spread.
MIN_OWN_YEARS = 3


@dataclass(frozen=True)
class GrowthPrior:
    """Where a run's growth comes from (log growth a year).

    Attributes
    ----------
    mean : centre m of a future's level.
    level_sd : s_L, the uncertainty of the level.
    year_sd : s_E, year-to-year noise.
    source : one line saying where each came from.
    own_years : annual changes of the LA's own SEN2 series used (0 when none).
    """

    mean: float
    level_sd: float
    year_sd: float
    source: str
    own_years: int = 0


def _log_changes(values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values[1:]) & np.isfinite(values[:-1]) & (values[:-1] > 0) & (values[1:] > 0)
    return np.log(values[1:][ok] / values[:-1][ok])


@functools.lru_cache(maxsize=1)
def specialist_series() -> dict[str, np.ndarray]:
    """Every LA's SEN2 specialist cohort by year, Jan 2019-Jan 2025 (NaN where suppressed).

    As :func:`optimiser.dataset.init.national.sen2_placements` ``specialist`` (the sum of
    its placement groups, missing when any cell is suppressed), for all LAs in one read.
    """
    cols = [c for cs in PLACEMENT_GROUPS.values() for c in cs]
    raw = pd.read_csv(
        national_dir() / "sen2_placements.csv.gz",
        usecols=["time_period", "old_la_code", *cols],
        dtype={"old_la_code": str},
        na_values=list(SUPPRESSED),
        keep_default_na=True,
    ).sort_values(["old_la_code", "time_period"])
    total = raw[cols].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=len(cols))
    return {
        str(code): total.loc[rows.index].to_numpy(float)
        for code, rows in raw.groupby("old_la_code", sort=True)
    }


@functools.lru_cache(maxsize=1)
def national_growth_spread() -> tuple[float, float, float]:
    """(centre, spread across LAs, pooled year-to-year sd) of LAs' specialist log growth.

    Over every English LA with at least :data:`MIN_OWN_YEARS` annual changes in SEN2
    (Jan 2019-Jan 2025): the mean and standard deviation of their mean log growth, and
    the median of their year-to-year standard deviations (the median, so that the few
    series with a break, e.g. a boundary change, do not set every LA's noise).
    """
    means, sds = [], []
    for values in specialist_series().values():
        changes = _log_changes(values)
        if len(changes) >= MIN_OWN_YEARS:
            means.append(changes.mean())
            sds.append(changes.std(ddof=1))
    m = np.asarray(means)
    return float(m.mean()), float(m.std(ddof=1)), float(np.median(sds))


def sen2_growth(la_code: str | None) -> GrowthPrior:
    """Growth of the LA's specialist cohort from SEN2, with the national spread as prior.

    Normal-normal: prior N(μ, τ²) (national centre and spread across LAs); the LA's n
    annual log changes with mean x̄ and sd s (the pooled national sd when n <
    :data:`MIN_OWN_YEARS`). Level ~ N((μ/τ² + n x̄/s²)/P, 1/P), P = 1/τ² + n/s²; year noise
    sd s. Without an LA code: the prior alone.
    """
    mu, tau, pooled = national_growth_spread()
    if la_code is None:
        return GrowthPrior(mu, tau, pooled, "national SEN2 spread across LAs (no la_code)")
    code = resolve_la(la_code).code
    changes = _log_changes(specialist_series().get(code, np.zeros(0)))
    n = len(changes)
    if n == 0:
        return GrowthPrior(mu, tau, pooled, f"national SEN2 spread (LA {la_code}: no own years)")
    s = float(changes.std(ddof=1)) if n >= MIN_OWN_YEARS else pooled
    s = max(s, 1e-3)
    precision = 1 / tau**2 + n / s**2
    mean = (mu / tau**2 + n * float(changes.mean()) / s**2) / precision
    return GrowthPrior(
        mean,
        float(np.sqrt(1 / precision)),
        s,
        f"LA {la_code} SEN2 specialist cohort ({n} annual changes) with the national prior",
        n,
    )


def growth_prior(policy: FuturesPolicy, la_code: str | None) -> GrowthPrior:
    """The run's growth prior: SEN2 (:func:`sen2_growth`), each part overridden by policy."""
    prior = sen2_growth(la_code)
    mean = prior.mean if policy.growth_mean is None else float(np.log1p(policy.growth_mean))
    level = prior.level_sd if policy.growth_level_sd is None else policy.growth_level_sd
    year = prior.year_sd if policy.growth_year_sd is None else policy.growth_year_sd
    given = [
        k
        for k in ("growth_mean", "growth_level_sd", "growth_year_sd")
        if getattr(policy, k) is not None
    ]
    source = prior.source + (f"; policy futures {', '.join(given)}" if given else "")
    return GrowthPrior(mean, float(level), float(year), source, prior.own_years)


@dataclass(frozen=True)
class FutureDraw:
    """One future's sampled inputs.

    Attributes
    ----------
    index : the future's number (its seed's spawn key).
    growth : growth rate by year × package, shape (years + 1, packages); row 0 unused.
    inmss_factor : INMSS fee factor by year (1 in year 0), compounding.
    lost_share : share of places lost by year × global setting (cumulative).
    delay : extra years before each capacity change opens (by change key).
    rng : the generator the roll draws new EHCPs from (after the draws above).
    """

    index: int
    growth: np.ndarray
    inmss_factor: np.ndarray
    lost_share: np.ndarray
    delay: dict[str, int]
    rng: np.random.Generator


def future_rng(seed: int, index: int) -> np.random.Generator:
    """Future ``index``'s generator: independent of n, the worker and the order run."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def draw_future(
    seed: int,
    index: int,
    *,
    years: int,
    n_packages: int,
    n_settings: int,
    delay_keys: tuple[str, ...],
    prior: GrowthPrior,
    policy: FuturesPolicy,
) -> FutureDraw:
    """Future ``index``: its growth, fee inflation, places lost and late openings."""
    rng = future_rng(seed, index)
    level = rng.normal(prior.mean, prior.level_sd)
    drift = rng.normal(0.0, policy.need_mix_drift_sd, n_packages)
    noise = rng.normal(0.0, prior.year_sd, years + 1)
    growth = np.expm1(level + drift[None, :] + noise[:, None])
    inflation = rng.normal(policy.inmss_inflation_mean, policy.inmss_inflation_sd)
    factor = (1.0 + inflation) ** np.arange(years + 1)
    events = rng.random((years + 1, n_settings)) < policy.places_lost_probability
    events[0] = False
    hits = np.cumsum(events, axis=0)
    lost = 1.0 - (1.0 - policy.places_lost_share) ** hits
    late = rng.random(len(delay_keys)) < policy.delay_probability
    by = rng.integers(1, max(policy.delay_max_years, 1) + 1, len(delay_keys))
    delay = {
        k: int(b) if (lt and policy.delay_max_years > 0) else 0
        for k, lt, b in zip(delay_keys, late, by, strict=True)
    }
    return FutureDraw(index, growth, factor, lost, delay, rng)
