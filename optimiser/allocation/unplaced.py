"""Why each unplaced child could not be placed, with the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimiser.allocation.arcs import points
from optimiser.dataset.ids import positions
from optimiser.dataset.model import Dataset
from optimiser.transport.travel import road_km_and_min


def unplaced_reasons(
    ds: Dataset, kids: pd.DataFrame, arcs: pd.DataFrame, placed_c: np.ndarray
) -> pd.DataFrame:
    """One row per unplaced child: child_id, package_id, reason (with the numbers).

    Reasons, first that applies: no open setting lists the package at the
    child's age; none within the journey cap (with the nearest journey time);
    or every eligible setting is full (how many, how many places).
    ``placed_c`` holds the positions in ``kids`` of the children placed.
    """
    placed = np.zeros(len(kids), bool)
    placed[placed_c] = True
    miss = np.flatnonzero(~placed)
    if len(miss) == 0:
        return pd.DataFrame(columns=["child_id", "package_id", "reason"])
    by_pkg = ds.derived("unplaced_offers", lambda: _offers_by_package(ds))
    package = kids["package_id"].to_numpy()[miss]
    age = kids["age"].to_numpy()[miss]
    groups = _groups(package, age)
    n_offer = np.zeros(len(miss), np.int64)
    for (pkg, a), idx in groups.items():
        if pkg in by_pkg:
            lo, hi, _ = by_pkg[pkg]
            n_offer[idx] = int(((lo <= a) & (a <= hi)).sum())
    # eligible arcs (with a places row) of the children left unplaced
    c, p = arcs["c"].to_numpy(), arcs["p"].to_numpy()
    mine = ~placed[c] & (p >= 0)
    n_elig = np.bincount(c[mine], minlength=len(kids))[miss]
    seats = ds.places["places"].to_numpy(float, na_value=0.0)[p[mine]]
    n_places = np.bincount(c[mine], weights=seats, minlength=len(kids))[miss]
    # nearest journey, only for those with offers but none within the cap
    nearest = np.full(len(miss), np.inf)
    xy = points(kids, "x", "y")[miss]
    ask = (n_offer > 0) & (n_elig == 0)
    rest = ask.copy()
    if ds.roads is None and ask.any():
        # the homes asking, a package at a time, against its offers at their ages as one
        # table; a larger block (nationally) by a KD-tree per package × age below
        code, names = pd.factorize(np.asarray(package, dtype=object))
        for k in np.unique(code[ask]).tolist():
            who = np.flatnonzero(ask & (code == k))
            lo, hi, sxy = by_pkg[names[k]]
            if len(who) * len(lo) <= NEAREST_BLOCK:
                years = age[who][:, None]
                fit = (lo <= years) & (years <= hi)
                nearest[who] = _nearest_straight(xy[who], sxy, fit, ds)
                rest[who] = False
    for (pkg, a), idx in groups.items() if rest.any() else ():
        idx = idx[rest[idx]]
        if len(idx):
            lo, hi, sxy = by_pkg[pkg]
            nearest[idx] = _nearest_minutes(xy[idx], sxy[(lo <= a) & (a <= hi)], ds)
    # Python numbers (the same text as NumPy's scalars give, without a scalar per access)
    caps = kids["cap_min"].to_numpy()[miss].tolist()
    n_offer_, n_elig_, n_places_ = n_offer.tolist(), n_elig.tolist(), n_places.tolist()
    nearest_ = nearest.tolist()
    reasons = []
    for i, (pkg, a) in enumerate(zip(package.tolist(), age.tolist(), strict=True)):
        if n_offer_[i] == 0:
            reasons.append(f"no setting delivers package {pkg} for age {a}")
        elif n_elig_[i] == 0:
            reasons.append(
                f"no eligible setting within the {caps[i]:.0f}-minute journey cap "
                f"(nearest of {n_offer_[i]} settings delivering {pkg}: {nearest_[i]:.0f} min)"
            )
        else:
            n, seats = int(n_elig_[i]), float(n_places_[i])
            reasons.append(
                f"eligible settings full ({n} eligible setting{'s' if n != 1 else ''} "
                f"with {int(seats) if seats.is_integer() else seats} {pkg} places, all taken)"
            )
    return pd.DataFrame(
        {
            "child_id": kids["child_id"].iloc[miss].to_numpy(),
            "package_id": pd.Series(kids["package_id"].to_numpy()[miss], dtype=object),
            "reason": reasons,
        }
    )


def _offers_by_package(ds: Dataset) -> dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per package: age_min, age_max [years] and points [m] of the open settings offering it.

    Rows in ``ds.places`` order (as their merge with the open settings, grouped by package).
    """
    sid = ds.settings["setting_id"]
    if not sid.is_unique:  # a merge repeats a places row per settings row: keep its rules
        return _offers_by_package_merged(ds)
    row = positions(sid, ds.places["setting_id"])
    open_ = ~ds.settings["closed"].to_numpy(bool)
    keep = np.flatnonzero((row >= 0) & open_[np.maximum(row, 0)])
    code, names = pd.factorize(ds.places["package_id"].to_numpy(object)[keep], sort=True)
    r = row[keep]
    lo = ds.settings["age_min"].to_numpy(float, na_value=np.nan)[r]
    hi = ds.settings["age_max"].to_numpy(float, na_value=np.nan)[r]
    xy = points(ds.settings, "easting", "northing")[r]
    order = np.argsort(code, kind="stable")
    cut = np.flatnonzero(np.diff(code[order])) + 1
    out = {}
    for g in np.split(order, cut):
        if len(g) and code[g[0]] >= 0:
            out[names[code[g[0]]]] = (lo[g], hi[g], xy[g])
    return out


def _offers_by_package_merged(
    ds: Dataset,
) -> dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    offers = ds.places.merge(ds.settings[~ds.settings["closed"]], on="setting_id")
    return {
        pkg: (
            rows["age_min"].to_numpy(float),
            rows["age_max"].to_numpy(float),
            rows[["easting", "northing"]].to_numpy(float),
        )
        for pkg, rows in offers.groupby("package_id")
    }


def _groups(package: np.ndarray, age: np.ndarray) -> dict[tuple[object, object], np.ndarray]:
    """Positions of each (package, age), ascending (as ``groupby(...).indices``; NaN: none)."""
    # arrays, not Series: the distinct values come back as an array (a Series' come back
    # as an Index, pandas text for ids, whose items cost ~10 µs each)
    code, names = pd.factorize(np.asarray(package, dtype=object))
    a_code, a_names = pd.factorize(np.asarray(age))
    keep = np.flatnonzero((code >= 0) & (a_code >= 0))
    order = keep[np.lexsort((a_code[keep], code[keep]))]
    key = code[order] * (len(a_names) + 1) + a_code[order]
    cut = np.flatnonzero(np.diff(key)) + 1
    return {
        (names[code[g[0]]], a_names[a_code[g[0]]]): np.sort(g)
        for g in np.split(order, cut)
        if len(g)
    }


#: Most homes × offers of one package searched as one table for the nearest journey
#: [pairs]; a larger block (nationally) goes by a KD-tree per package × age, which is then
#: cheaper (unplaced reasons at la 3.9 ms by KD-trees alone, 2.6 ms with tables up to
#: this; nationally 124 ms by KD-trees, 196 ms with tables up to 1,000,000 pairs).
NEAREST_BLOCK = 200_000


def _nearest_straight(
    xy: np.ndarray, sxy: np.ndarray, among: np.ndarray, ds: Dataset
) -> np.ndarray:
    """Journey time [min] from each home to the nearest setting point ``among`` (a homes ×
    points mask, a True in every row), without roads.

    Every pair's time by :func:`road_km_and_min`, the least of each row: the time is the
    straight line × detour at a constant speed, so the least time is the nearest point's,
    as the KD-tree of :func:`_nearest_minutes` finds it (one tree per package × age,
    each ~0.1 ms to build for a few homes). Blocks of at most ``NEAREST_BLOCK`` pairs.
    """
    out = np.empty(len(xy))
    step = max(1, NEAREST_BLOCK // max(len(sxy), 1))
    for lo in range(0, len(xy), step):
        rows = slice(lo, lo + step)
        n = len(xy[rows])
        _, mins = road_km_and_min(
            np.repeat(xy[rows], len(sxy), axis=0), np.tile(sxy, (n, 1)), policy=ds.policy
        )
        out[rows] = np.where(among[rows], mins.reshape(n, len(sxy)), np.inf).min(axis=1)
    return out


def _nearest_minutes(xy: np.ndarray, sxy: np.ndarray, ds: Dataset) -> np.ndarray:
    """Journey time [min] from each home to the nearest setting point (KD-tree, or the roads)."""
    if ds.roads is None:
        _, k = cKDTree(sxy).query(xy)
        return road_km_and_min(xy, sxy[k], policy=ds.policy)[1]
    rep = np.repeat(xy, len(sxy), axis=0)
    _, mins = road_km_and_min(rep, np.tile(sxy, (len(xy), 1)), policy=ds.policy, graph=ds.roads)
    return mins.reshape(len(xy), len(sxy)).min(axis=1)


#: Reason categories without any child's numbers, for publish outputs (prefix → category).
REASON_CATEGORIES = (
    ("no setting delivers", "no setting delivers the package at the child's age"),
    ("no eligible setting within", "no eligible setting within the journey cap"),
    ("eligible settings full", "eligible settings full"),
)


def reason_category(reason: str) -> str:
    """The category of an unplaced child's reason: the same text for every child in it.

    Reasons carry numbers about one child (age, journey cap, nearest journey,
    places at the settings that child could use); publish outputs group by
    category instead, so no row describes one child.
    """
    for prefix, category in REASON_CATEGORIES:
        if str(reason).startswith(prefix):
            return category
    return "other reason"


#: Columns of :func:`reason_summary`.
SUMMARY_COLUMNS = ["reason_category", "package_id", "phase", "unplaced_children"]


def reason_summary(ds: Dataset, unplaced: pd.DataFrame) -> pd.DataFrame:
    """Unplaced children counted by reason category × package × phase (largest first).

    The counts add up to ``len(unplaced)``: every child is in exactly one row (a
    child whose age is unknown to ``ds`` is counted under phase "unknown").
    """
    if len(unplaced) == 0:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    ages = ds.children.drop_duplicates("child_id").set_index("child_id")["age"]
    age = unplaced["child_id"].map(ages)
    phase = pd.Series("unknown", index=unplaced.index, dtype=object)
    known = age.notna()
    if known.any():
        phase[known] = ds.policy.phases_of_ages(age[known].to_numpy())
    frame = pd.DataFrame(
        {
            "reason_category": unplaced["reason"].map(reason_category),
            "package_id": unplaced["package_id"].astype(str),
            "phase": phase,
        }
    )
    out = frame.groupby(SUMMARY_COLUMNS[:3]).size().rename("unplaced_children").reset_index()
    out = out.sort_values(
        ["unplaced_children", *SUMMARY_COLUMNS[:3]], ascending=[False, True, True, True]
    )
    return out.reset_index(drop=True)
