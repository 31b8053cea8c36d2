"""FuturesResult: bands over the futures, and how the options compare across them.

Every table is built from the array of :func:`~optimiser.scenarios.futures.roll.roll_future`
(futures × options × years × packages × measures), in future order, so it is the same
however the futures were run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimiser.scenarios.futures.roll import MEASURES

#: The quantiles every band gives, with their column names.
QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}
#: The package label of the all-packages rows.
ALL = "all"


@dataclass(frozen=True)
class FuturesResult:
    """The futures of a run and what they say about the options.

    Attributes
    ----------
    bands : one row per option × year × package (and ``all``) × measure: mean, p10, p50,
        p90 over the futures. Measures: demand_children, places, placed_children,
        unplaced_children, shortfall_children (demand − places where positive, by
        package; ``all`` sums the packages'), inmss_children, total_cost_gbp (place +
        transport + every unplaced child at its rate) [GBP/yr].
    decisions : one row per option: expected_cost_gbp (mean over futures of the cost
        summed over years 0 … years) and its p10/p50/p90, p_beats_baseline, expected and
        p90 and max regret_gbp (cost − the cheapest option's in the same future), and
        expected unplaced child-years.
    beats : options × options, the share of futures in which the row costs less than the
        column over the horizon.
    per_future : one row per future × option: horizon total_cost_gbp, unplaced child-years,
        regret_gbp.
    draws : one row per future: its sampled growth (mean over packages and years), INMSS
        fee inflation a year, share of settings that lost places, late openings.
    settings : n, seed, years, scheduler used, growth prior and its source.
    """

    bands: pd.DataFrame
    decisions: pd.DataFrame
    beats: pd.DataFrame
    per_future: pd.DataFrame
    draws: pd.DataFrame
    settings: dict[str, object] = field(default_factory=dict)


def _bands(values: np.ndarray, names: list[str], packages: list[str]) -> pd.DataFrame:
    """Quantile bands of ``values`` (futures × options × years × packages × measures)."""
    total = values.sum(axis=3, keepdims=True)
    full = np.concatenate([values, total], axis=3)
    n_year = full.shape[2]
    stats = {"mean": full.mean(axis=0)}
    qs = np.quantile(full, list(QUANTILES.values()), axis=0)
    stats.update({name: qs[i] for i, name in enumerate(QUANTILES)})
    index = pd.MultiIndex.from_product(
        [names, range(n_year), [*packages, ALL], list(MEASURES)],
        names=["option", "year", "package_id", "measure"],
    )
    frame = pd.DataFrame({k: v.reshape(-1) for k, v in stats.items()}, index=index)
    return frame.reset_index()


def summarise(
    values: np.ndarray,
    names: list[str],
    packages: list[str],
    draws: pd.DataFrame,
    settings: dict[str, object],
) -> FuturesResult:
    """The :class:`FuturesResult` of a run's array."""
    cost_at = MEASURES.index("total_cost_gbp")
    unplaced_at = MEASURES.index("unplaced_children")
    horizon = values[..., cost_at].sum(axis=(2, 3))  # futures × options
    unplaced = values[..., unplaced_at].sum(axis=(2, 3))
    regret = horizon - horizon.min(axis=1, keepdims=True)
    n = len(horizon)
    beats = (horizon[:, :, None] < horizon[:, None, :]).mean(axis=0)  # n ≥ 1 (futures checks)
    q = np.quantile(horizon, list(QUANTILES.values()), axis=0)
    decisions = pd.DataFrame(
        {
            "option": names,
            "expected_cost_gbp": horizon.mean(axis=0),
            **{f"cost_{k}_gbp": q[i] for i, k in enumerate(QUANTILES)},
            "p_beats_baseline": beats[:, 0],
            "expected_regret_gbp": regret.mean(axis=0),
            "p90_regret_gbp": np.quantile(regret, 0.9, axis=0),
            "max_regret_gbp": regret.max(axis=0),
            "expected_unplaced_child_years": unplaced.mean(axis=0),
        }
    )
    per_future = pd.DataFrame(
        {
            "future": np.repeat(np.arange(n), len(names)),
            "option": np.tile(np.asarray(names, object), n),
            "total_cost_gbp": horizon.reshape(-1),
            "unplaced_child_years": unplaced.reshape(-1),
            "regret_gbp": regret.reshape(-1),
        }
    )
    return FuturesResult(
        bands=_bands(values, names, packages),
        decisions=decisions,
        beats=pd.DataFrame(beats, index=pd.Index(names, name="option"), columns=names),
        per_future=per_future,
        draws=draws,
        settings=settings,
    )
