"""The facility-location instance: plain-array inputs validated, allowed pairs, families, groups.

:func:`build_instance` turns the arguments of
:func:`optimiser.siting.solve_facility_location` into a :class:`FacilityInstance`;
each bad argument raises :class:`~optimiser._errors.DataValidationError` naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimiser._errors import DataValidationError

__all__ = ["FacilityInstance", "build_instance", "check_options", "family_capacity", "parse_groups"]


@dataclass(frozen=True)
class FacilityInstance:
    """Validated arrays of one instance and its allowed (family, customer) pairs."""

    fixed_cost: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    assign_cost: np.ndarray
    family: np.ndarray  # family of each facility, 0..F-1 (default: the facility itself)
    pair_i: np.ndarray  # allowed (family, customer) pairs, row-major order
    pair_j: np.ndarray


# ------------------------------------------------------------------ validation


def _vector(name: str, values: object, what: str, length: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"{name} must be numeric, one value per {what}; found {values!r}."
        raise DataValidationError(msg) from exc
    if arr.ndim != 1 or arr.size == 0 or (length is not None and arr.size != length):
        expected = f"length {length}" if length is not None else "a non-empty 1-D array"
        msg = (
            f"{name} must be a 1-D array with one value per {what} ({expected}); "
            f"found shape {arr.shape}."
        )
        raise DataValidationError(msg)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        msg = (
            f"{name} must be finite and >= 0; found {arr[first]} at index {first} "
            f"({int(bad.sum())} bad value(s)). Fix or drop that {what}."
        )
        raise DataValidationError(msg)
    return arr


def _cost_matrix(values: object, m: int, n: int) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"assign_cost must be a numeric (m, n) = ({m}, {n}) array; found {values!r}."
        raise DataValidationError(msg) from exc
    if arr.shape != (m, n):
        msg = (
            f"assign_cost must have shape (m, n) = ({m}, {n}) (facilities x customers, "
            f"from fixed_cost and demand); found {arr.shape}. Transpose it if needed."
        )
        raise DataValidationError(msg)
    bad = np.isnan(arr) | (arr < 0)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        msg = (
            f"assign_cost must be >= 0, or np.inf for a forbidden pair; found {arr[i, j]} "
            f"at [{i}, {j}] ({int(bad.sum())} bad value(s)). Use np.inf, not NaN."
        )
        raise DataValidationError(msg)
    return arr


def parse_groups(groups: object, m: int) -> tuple[np.ndarray, ...] | None:
    """Groups as int arrays of facility indices in 0..m-1 (empty groups dropped), or None."""
    if groups is None:
        return None
    try:
        raw = [np.asarray(g).reshape(-1) for g in groups]  # type: ignore[attr-defined]
        out = tuple(g.astype(np.int64) for g in raw if g.size)
        if any(not np.array_equal(g, g.astype(np.int64)) for g in raw if g.size):
            raise ValueError
    except (TypeError, ValueError) as exc:
        msg = f"groups must be a list of lists of facility indices; found {groups!r}."
        raise DataValidationError(msg) from exc
    for g in out:
        if g.min() < 0 or g.max() >= m or np.unique(g).size != g.size:
            msg = (
                f"each group must list distinct facility indices in 0..{m - 1}; "
                f"found {g.tolist()}. Fix the index or drop the duplicate."
            )
            raise DataValidationError(msg)
    return out


def check_options(budget: float | None, k: int | None, time_limit_s: float) -> None:
    """Raise DataValidationError unless budget, k and time_limit_s are usable."""
    if budget is not None and not (
        isinstance(budget, int | float | np.number) and math.isfinite(budget) and budget >= 0
    ):
        msg = f"budget must be a finite number >= 0 (or None for no cap); found {budget!r}."
        raise DataValidationError(msg)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0):
        msg = f"k must be a whole number >= 0 (or None for no cap); found {k!r}."
        raise DataValidationError(msg)
    if not (
        isinstance(time_limit_s, int | float | np.number)
        and math.isfinite(time_limit_s)
        and time_limit_s > 0
    ):
        msg = f"time_limit_s must be a positive number of seconds; found {time_limit_s!r}."
        raise DataValidationError(msg)


def _families(families: object, cost: np.ndarray) -> np.ndarray:
    m = cost.shape[0]
    if families is None:
        return np.arange(m)
    ids = np.asarray(families).reshape(-1)
    if ids.size != m:
        msg = f"families must give one family id per facility ({m}); found {ids.size}."
        raise DataValidationError(msg)
    family = np.unique(ids, return_inverse=True)[1].reshape(-1)
    first = np.unique(family, return_index=True)[1][family]
    same = np.where(np.isfinite(cost), cost, -1.0) == np.where(
        np.isfinite(cost[first]), cost[first], -1.0
    )
    if not same.all():
        i = int(np.flatnonzero(~same.all(axis=1))[0])
        msg = (
            f"facilities {int(first[i])} and {i} share family {ids[i]!r} but their "
            "assign_cost rows differ; members of a family must cost the same."
        )
        raise DataValidationError(msg)
    return family


def build_instance(
    fixed_cost: object,
    capacity: object,
    demand: object,
    assign_cost: object,
    single_source: bool,
    families: object = None,
) -> FacilityInstance:
    """Validate the arrays and list the allowed pairs (single source: demand <= capacity)."""
    fixed = _vector("fixed_cost", fixed_cost, "facility")
    m = fixed.size
    cap = _vector("capacity", capacity, "facility", m)
    dem = _vector("demand", demand, "customer")
    cost = _cost_matrix(assign_cost, m, dem.size)
    family = _families(families, cost)
    rep = np.unique(family, return_index=True)[1]  # first member of each family
    allowed = np.isfinite(cost[rep])
    if single_source:
        big = np.zeros(rep.size)
        np.maximum.at(big, family, cap)
        allowed &= dem[None, :] <= big[:, None]
    pair_i, pair_j = np.nonzero(allowed)
    return FacilityInstance(fixed, cap, dem, cost, family, pair_i, pair_j)


def family_capacity(inst: FacilityInstance) -> np.ndarray:
    """Capacity of each family: that of its largest member."""
    big = np.zeros(int(inst.family.max()) + 1)
    np.maximum.at(big, inst.family, inst.capacity)
    return big
