"""What an unplaced child costs: the one rule every total uses (DESIGN §8, no free unplaced).

An unplaced child is not free: the LA keeps its statutory duty and ends up spot-purchasing
a place (usually independent) or educating the child otherwise. Every report therefore
costs each unplaced child at a rate by package × phase [GBP/yr]:

* policy ``unplaced_cost_gbp`` when it gives one: a number for every child, or by
  package (``{SPP4: 70000}``), optionally by phase (``{SPP4: {primary: 60000}}``);
* otherwise derived from the data: **place** = the mean annual fee of the INMSS
  (nmss, independent_special) settings delivering the package whose age range meets the
  phase, closed ones included (a closure leaves the market rate as it was; each
  setting × package row once, its fee from places.csv, else the costing framework),
  else of those delivering the package at any age, else the mean of the costing
  framework's INMSS rows for the package, else the dearest place of the package
  anywhere, else 0; plus **transport** = the mean transport cost of this allocation's
  INMSS placements, else of all its placements, else 0.

``kpis["unplaced_cost_gbp"]`` = Σ over unplaced children of their rate, and
``total_cost_gbp`` = place + transport + unplaced cost. Reporting only: the allocation's
objective keeps its own penalty (policy ``unplaced_penalty_gbp``), which is not money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.dataset.ids import as_text, object_index, positions
from optimiser.dataset.model import Dataset
from optimiser.policy import PHASE_NAMES
from optimiser.schema.tables import INMSS_TYPES

RATE_COLUMNS = [
    "package_id",
    "phase",
    "place_gbp",
    "transport_gbp",
    "unplaced_cost_gbp",
    "source",
]
#: The phases' ages for the place-fee rule (ages 4-19, as the sufficiency table).
_LAST_AGE = 19


def _phase_bounds(ds: Dataset) -> dict[str, tuple[int, int]]:
    pa = ds.policy.phase_age
    return {
        "primary": (4, pa.secondary_from - 1),
        "secondary": (pa.secondary_from, pa.post16_from - 1),
        "post16": (pa.post16_from, _LAST_AGE),
    }


def _inmss_fees(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """INMSS setting × package rows: package_id, age_min, age_max [years], fee [GBP/yr].

    The first settings row of an id and the first places row of a (setting, package)
    count, in places order; rows without a fee are left out. Closed settings count too:
    the LA no longer using a school does not change what a place in the market costs
    (and a closure must not lower the rate it is judged by).
    """
    settings, places = ds.settings, ds.places
    sid = settings["setting_id"].to_numpy(object)
    if not _unique(sid):  # the first row of each id, as drop_duplicates keeps it
        keep_s = ~pd.Series(sid).duplicated().to_numpy()
        sid, settings = sid[keep_s], settings[keep_s]
    inmss = settings["setting_type"].isin(INMSS_TYPES).to_numpy()
    p_sid = places["setting_id"].to_numpy(object)
    p_pid = places["package_id"].to_numpy(object)
    dup = _repeated(p_sid, p_pid)
    row = positions(sid, p_sid)
    fee = pd.to_numeric(places["annual_cost_gbp"], errors="coerce").to_numpy(float)
    ok = ~dup & (row >= 0) & inmss[np.maximum(row, 0)] & ~np.isnan(fee)
    r = row[ok]
    age = (settings[c].to_numpy(float, na_value=np.nan)[r] for c in ("age_min", "age_max"))
    return (p_pid[ok], *age, fee[ok])


def _unique(ids: np.ndarray) -> bool:
    """``pd.Index(ids).is_unique``, by an object index when no id is missing.

    ``pd.Index`` makes text ids pandas text first (a copy, one string at a time); the
    object index of the same ids answers alike unless missing values of two kinds
    (None, NaN) are among them, which pandas text counts as one.
    """
    if pd.isna(ids).any():
        return bool(pd.Index(ids).is_unique)
    return bool(object_index(ids).is_unique)


def _repeated(*keys: np.ndarray) -> np.ndarray:
    """``DataFrame(keys).duplicated()``: whether each row's key tuple came earlier (NaN a value)."""
    n = len(keys[0])
    code = np.zeros(n, np.int64)
    for key in keys:
        k, names = pd.factorize(key, use_na_sentinel=False)
        code = code * (len(names) + 1) + k
    first = np.zeros(n, bool)
    first[np.unique(code, return_index=True)[1]] = True  # each tuple's first row
    return ~first


def _fallback_fee(ds: Dataset, package: str) -> float:
    """Framework INMSS mean for the package, else its dearest place anywhere, else 0."""
    if ds.costing is not None:
        rows = ds.costing[
            (ds.costing["package_id"] == package) & ds.costing["setting_type"].isin(INMSS_TYPES)
        ]
        fees = pd.to_numeric(rows["annual_cost_gbp"], errors="coerce").dropna()
        if len(fees):
            return float(fees.mean())
    own = pd.to_numeric(
        ds.places.loc[ds.places["package_id"] == package, "annual_cost_gbp"], errors="coerce"
    ).dropna()
    return float(own.max()) if len(own) else 0.0


def _transport(placements: pd.DataFrame, inmss: np.ndarray | None = None) -> float:
    """Mean transport of the INMSS placements, else of all placements, else 0 [GBP/yr]."""
    inm = placements["setting_type"].isin(INMSS_TYPES).to_numpy(bool) if inmss is None else inmss
    gbp = placements["transport_cost_gbp"].to_numpy(float)
    for rows in (gbp[inm], gbp):
        if len(rows):
            return _mean(rows)
    return 0.0


def _mean(values: np.ndarray) -> float:
    """``Series.mean()`` of floats: the sum of the non-NaN values over their count (same bits)."""
    missing = np.isnan(values)
    n = int((~missing).sum())
    if missing.any():  # pandas fills a copy, and sums the values as they are otherwise
        values = np.where(missing, 0.0, values)
    return float(values.sum() / float(n)) if n else float("nan")


def _policy_rate(ds: Dataset, package: str, phase: str) -> float | None:
    """The policy's rate for a package × phase, or None when it leaves it to the data."""
    given = ds.policy.unplaced_cost_gbp
    if given is None or isinstance(given, int | float):
        return None if given is None else float(given)
    rate = given.get(package)
    if isinstance(rate, dict):
        rate = rate.get(phase)
    return None if rate is None else float(rate)


def _place_rates(ds: Dataset) -> list[tuple[str, str, float | None, float]]:
    """(package, phase, policy rate or None, derived place fee [GBP/yr]) per package × phase.

    The place fee depends on the dataset alone, so it is worked out once per Dataset
    (:meth:`~optimiser.dataset.model.Dataset.derived`); NaN where the policy gives the rate.
    """
    pkg, lo_age, hi_age, fee = _inmss_fees(ds)
    bounds = _phase_bounds(ds)
    out: list[tuple[str, str, float | None, float]] = []
    for package in ds.packages["package_id"].astype(str):
        mine = pkg == package
        for phase in PHASE_NAMES:
            given = _policy_rate(ds, package, phase)
            if given is not None:
                out.append((package, phase, given, np.nan))
                continue
            lo, hi = bounds[phase]
            meets = mine & (lo_age <= hi) & (hi_age >= lo)
            pool = fee[meets] if meets.any() else fee[mine]
            # the sum over the count, as pandas' mean takes it (same bits)
            place = float(pool.sum() / len(pool)) if len(pool) else _fallback_fee(ds, package)
            out.append((package, phase, None, place))
    return out


def unplaced_rates(
    ds: Dataset, placements: pd.DataFrame, *, inmss: np.ndarray | None = None
) -> pd.DataFrame:
    """The rate of an unplaced child by package × phase (see the module docstring).

    Columns: package_id, phase, place_gbp and transport_gbp (the derived parts, NaN where
    the policy gives the rate), unplaced_cost_gbp [GBP/yr], source ("policy" or "derived").
    ``inmss``: whether each placement's ``setting_type`` is INMSS, when the caller has it.
    """
    transport = _transport(placements, inmss)
    rows = [
        (package, phase, np.nan, np.nan, given, "policy")
        if given is not None
        else (package, phase, place, transport, place + transport, "derived")
        for package, phase, given, place in ds.derived(
            "unplaced_place_rates", lambda: _place_rates(ds)
        )
    ]
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


def unplaced_child_costs(rates: pd.DataFrame, packages: pd.Series, phases: pd.Series) -> np.ndarray:
    """Each unplaced child's cost [GBP/yr] from the rates (0 for an unknown package)."""
    rate = rates["unplaced_cost_gbp"].to_numpy(float)
    lookup: dict[tuple[str, str], float] = {}
    for key, value in zip(
        zip(as_text(rates["package_id"]), as_text(rates["phase"]), strict=True),
        rate,
        strict=True,
    ):
        lookup.setdefault(key, value)  # a repeated key: its first rate
    # as_text is astype(str) without building a text column when the values are text
    keys = zip(as_text(packages).tolist(), as_text(phases).tolist(), strict=True)
    return np.nan_to_num(np.array([lookup.get(k, np.nan) for k in keys], float))


def unplaced_cost_note(unplaced: pd.DataFrame, rates: pd.DataFrame) -> str:
    """One line for every output showing a total: how the unplaced children were costed."""
    n = len(unplaced)
    sources = set(rates["source"])
    how = (
        "policy unplaced_cost_gbp"
        if sources == {"policy"}
        else "INMSS place + transport, policy unplaced_cost_gbp"
        + (" in part" if "policy" in sources else " blank")
    )
    if n == 0:
        return f"no child unplaced (an unplaced child would be costed: {how})"
    costs = unplaced["unplaced_cost_gbp"].astype(float)
    lo, hi = float(costs.min()), float(costs.max())
    each = f"£{lo:,.0f}" if round(lo) == round(hi) else f"£{lo:,.0f}-£{hi:,.0f}"
    return (
        f"{n} unplaced {'child' if n == 1 else 'children'} costed at {each} a year each "
        f"({how}): £{float(costs.sum()):,.0f} in total cost"
    )
