"""Synthetic cohort of children needing an SPP placement in a real area.

:func:`synth_children` draws the children from single-year-of-age population by
LSOA, real postcode centroids and a need mix. It is used by
``scripts/build_default_data.py`` to build the embedded Trafford data set.
Nothing here reads or writes files, and the global NumPy random state is never
used: the same arguments always give the same frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, cast

import numpy as np
import pandas as pd

from optimiser.schema.tables import MAINSTREAM_TYPES
from optimiser.synth.tables import finalise_children, place_slots

__all__ = ["TO_PLACE_AGE_FACTORS", "TO_PLACE_AGE_WEIGHTS", "synth_children"]

#: Relative weight of each age among children still to place: school entry (4-5),
#: secondary transfer (11) and post-16 transfer (16) over-represented; a few 2-3 and 19-21.
TO_PLACE_AGE_WEIGHTS: dict[int, float] = {
    2: 1.0,
    3: 2.0,
    4: 16.0,
    5: 8.0,
    6: 4.0,
    7: 4.0,
    8: 4.0,
    9: 3.0,
    10: 3.0,
    11: 20.0,
    12: 4.0,
    13: 4.0,
    14: 4.0,
    15: 3.0,
    16: 12.0,
    17: 2.0,
    18: 1.0,
    19: 2.0,
    20: 1.0,
    21: 0.5,
}

#: Per-package factors on :data:`TO_PLACE_AGE_WEIGHTS`: SEMH needs are seldom identified
#: at school entry, so few SPP4 children start at 4-5 (assumption).
TO_PLACE_AGE_FACTORS: dict[str, dict[int, float]] = {"SPP4": {2: 0.0, 3: 0.0, 4: 0.2, 5: 0.5}}


# --------------------------------------------------------------------------- helpers


class _SlotRow(Protocol):
    """The fields of a slots row read here (pandas-stubs types itertuples fields broadly)."""

    package_id: str
    age_min: int
    age_max: int


class _KidRow(Protocol):
    """The fields of a children row read here."""

    package_id: str
    age: int
    easting: float
    northing: float
    phase: str
    current_type: str
    current_setting_id: str
    prefers_mainstream: bool


def _lsoa_table(population: pd.DataFrame, postcodes: pd.DataFrame) -> dict:
    """LSOA codes, postcode-mean centroids, population by age and postcode index lists."""
    pop = population.pivot_table(
        index="lsoa_code", columns="age", values="persons", aggfunc="sum", fill_value=0
    )
    pcs = postcodes.sort_values("postcode").reset_index(drop=True)
    codes = np.array(sorted(set(pop.index) & set(pcs["lsoa_code"])))
    if codes.size == 0:
        msg = "population and postcodes share no lsoa_code: check both tables"
        raise ValueError(msg)
    groups = pcs.groupby("lsoa_code").indices
    centre = pcs.groupby("lsoa_code")[["easting", "northing"]].mean().loc[codes]
    pop = pop.loc[codes]
    return {
        "codes": codes,
        "pop": pop.to_numpy(dtype=float),
        "ages": np.asarray(pop.columns),
        "e": centre["easting"].to_numpy(),
        "n": centre["northing"].to_numpy(),
        "postcode_rows": [np.asarray(groups[c]) for c in codes],
        "postcodes": pcs,
    }


def _pick_type_then_slot(
    idx: np.ndarray, stype: np.ndarray, free: np.ndarray, quota: dict, rng: np.random.Generator
) -> int:
    """Index of a slot among ``idx``: setting type by remaining quota, then slot by free places."""
    types = sorted(set(stype[idx].tolist()))
    tw = np.array([max(quota.get(t, 0.0), 0.0) + 1e-3 for t in types])
    chosen = types[rng.choice(len(types), p=tw / tw.sum())]
    sub = idx[stype[idx] == chosen]
    fw = free[sub].astype(float)
    return int(sub[rng.choice(len(sub), p=fw / fw.sum())])


def _assign_continuing(
    packages: np.ndarray,
    slots: pd.DataFrame,
    *,
    mix: Mapping[str, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Slot index of each continuing child (-1 when no free slot delivers its package).

    Children of the scarcest packages (fewest places per child) are placed
    first, so they use the types' quotas before children who have more
    choice. Setting types are then chosen so the placement mix follows
    ``mix``; a slot's places are never exceeded.
    """
    free = slots["places"].to_numpy().copy()
    quota = {t: s * len(packages) for t, s in mix.items()}
    out = np.full(len(packages), -1)
    pkg_col = slots["package_id"].to_numpy()
    stype = slots["setting_type"].to_numpy()
    supply = slots.groupby("package_id")["places"].sum()
    need = pd.Series(packages).value_counts()
    scarcity = (supply.reindex(need.index).fillna(0) / need).to_dict()
    order = sorted(range(len(packages)), key=lambda i: scarcity[cast(str, packages[i])])
    rows = {p: np.flatnonzero(pkg_col == p) for p in dict.fromkeys(packages.tolist())}
    for i in order:
        idx = rows[packages[i]]
        idx = idx[free[idx] > 0]  # the package's slots with a place free, in slot order
        if idx.size == 0:
            continue
        k = _pick_type_then_slot(idx, stype, free, quota, rng)
        free[k] -= 1
        setting_type = cast(str, stype[k])
        quota[setting_type] = quota.get(setting_type, 0.0) - 1
        out[i] = k
    return out


def _age_in_setting(age_min: int, age_max: int, rng: np.random.Generator) -> int:
    """Age of a child continuing at a setting taking ``age_min``..``age_max``.

    New starters (the first year of a phase) are in the to-place cohort, so a
    continuing child is past the setting's entry year; primary-only settings
    (``age_max`` <= 11) keep ages up to 10 because 11-year-olds transfer.
    A few nursery-age (2-3) and post-19 children are drawn where the range allows.
    """
    if age_min >= 16:
        lo, hi = age_min + 1, min(age_max, max(19, age_min + 3))
    else:
        lo = max(age_min, 4) + (1 if age_min in (11, 16) else 0)
        hi = min(age_max, 10 if age_max <= 11 else 19)
        if age_min <= 3 and rng.random() < 0.05:
            lo, hi = max(age_min, 2), 3
        elif age_max >= 20 and rng.random() < 0.2:
            lo, hi = 20, min(age_max, 25)
    return int(rng.integers(lo, max(lo, hi) + 1))


def _offered_ages(slots: pd.DataFrame) -> dict[str, set[int]]:
    """Ages at which each package is offered somewhere."""
    offered: dict[str, set[int]] = {}
    for row in cast(Iterator[_SlotRow], slots.itertuples(index=False)):
        offered.setdefault(row.package_id, set()).update(range(row.age_min, row.age_max + 1))
    return offered


def _to_place_ages(
    packages: np.ndarray,
    offered: dict[str, set[int]],
    *,
    weights: Mapping[int, float],
    factors: Mapping[str, Mapping[int, float]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Ages of children still to place: ``weights`` × the package's ``factors``, restricted
    to ages at which some setting offers the package (any age if none)."""
    ages = np.array(sorted(weights))
    out = np.zeros(len(packages), dtype=int)
    for package_id in sorted(set(packages)):
        f = factors.get(package_id, {})
        ok = offered.get(package_id, set()) or set(ages.tolist())
        p = np.array([weights[a] * f.get(a, 1.0) * (a in ok) for a in ages], dtype=float)
        if p.sum() <= 0:
            p = np.array([float(a in ok) for a in ages])
        if p.sum() <= 0:
            p = np.ones(len(ages))
        idx = np.flatnonzero(packages == package_id)
        out[idx] = rng.choice(ages, size=len(idx), p=p / p.sum())
    return out


def _draw_homes(
    ages: np.ndarray,
    anchors: np.ndarray,
    lsoas: dict,
    *,
    scale_km: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Home postcode of each child: LSOA by population at the child's age, then a postcode.

    ``anchors`` holds (easting, northing) of the child's current setting, or NaN;
    where given, LSOA weights decay with distance from it (children live near
    their school more often than not).
    """
    col = {a: j for j, a in enumerate(lsoas["ages"])}
    rows = np.empty(len(ages), dtype=int)
    by_age: dict[int, np.ndarray] = {}  # p of a child with no anchor: the same for one age
    for i, age in enumerate(ages):
        j = col[min(int(age), max(col))]
        if np.isnan(anchors[i, 0]):
            if j not in by_age:
                w = lsoas["pop"][:, j].copy()
                by_age[j] = w / w.sum()
            p = by_age[j]
        else:
            w = lsoas["pop"][:, j].copy()
            d_km = np.hypot(lsoas["e"] - anchors[i, 0], lsoas["n"] - anchors[i, 1]) / 1000
            w *= np.exp(-d_km / scale_km)
            p = w / w.sum()
        k = rng.choice(len(p), p=p)
        rows[i] = rng.choice(lsoas["postcode_rows"][k])
    pcs = lsoas["postcodes"].iloc[rows]
    return pcs[["easting", "northing", "lsoa_code", "ward_code"]].reset_index(drop=True)


class _Slots:
    """The slot columns the per-child loops read, as NumPy arrays (fast row filters)."""

    def __init__(self, slots: pd.DataFrame) -> None:
        self.package_id = slots["package_id"].to_numpy()
        self.age_min = slots["age_min"].to_numpy()
        self.age_max = slots["age_max"].to_numpy()
        self.mainstream = slots["setting_type"].isin(MAINSTREAM_TYPES).to_numpy()
        self.setting_id = slots["setting_id"].to_numpy()
        self.e = slots["easting"].to_numpy(dtype=float)
        self.n = slots["northing"].to_numpy(dtype=float)
        # each package's slot rows, ascending: a child's filter scans its package only
        self._rows = {
            p: np.flatnonzero(self.package_id == p) for p in dict.fromkeys(self.package_id)
        }

    def eligible(self, package_id: str, age: int, *, mainstream_only: bool) -> np.ndarray:
        """Row indices of slots that deliver ``package_id`` at ``age`` (in slot order)."""
        rows = self._rows.get(package_id)
        if rows is None:
            return np.flatnonzero(np.zeros(len(self.package_id), dtype=bool))
        ok = (self.age_min[rows] <= age) & (self.age_max[rows] >= age)
        if mainstream_only:
            ok &= self.mainstream[rows]
        return rows[ok]


def _mainstream_flags(
    kids: pd.DataFrame,
    slots: pd.DataFrame,
    *,
    reach: dict,
    share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """prefers_mainstream: only where an inclusion base or mainstream setting in reach offers
    the child's package; likelier for children already in one."""
    out = np.zeros(len(kids), dtype=bool)
    sl = _Slots(slots)
    for i, k in enumerate(cast(Iterator[_KidRow], kids.itertuples(index=False))):
        idx = sl.eligible(k.package_id, k.age, mainstream_only=True)
        d = np.hypot(sl.e[idx] - k.easting, sl.n[idx] - k.northing)
        if not (d <= reach[k.phase]).any():
            continue
        if k.current_type in MAINSTREAM_TYPES:
            out[i] = rng.random() < 0.5
        elif k.current_setting_id == "":
            out[i] = rng.random() < share
    return out


def _preferences(
    kids: pd.DataFrame,
    slots: pd.DataFrame,
    *,
    reach: dict,
    share: float,
    rng: np.random.Generator,
) -> list[str]:
    """Ranked preferences (``;``-separated setting ids) for about ``share`` of children.

    Continuing children rank their current setting first. Others rank 1-3
    settings within journey reach that deliver the package at their age, nearer
    ones likelier (settings within reach; all of them if none is); a child
    preferring mainstream ranks inclusion bases only.
    """
    out = []
    sl = _Slots(slots)
    for k in cast(Iterator[_KidRow], kids.itertuples(index=False)):
        if rng.random() >= share:
            out.append("")
            continue
        idx = sl.eligible(k.package_id, k.age, mainstream_only=bool(k.prefers_mainstream))
        _, first_pos = np.unique(sl.setting_id[idx], return_index=True)
        idx = idx[np.sort(first_pos)]  # one slot per setting, in slot order
        first = [k.current_setting_id] if k.current_setting_id else []
        idx = idx[~np.isin(sl.setting_id[idx], first)]
        want = int(rng.choice([1, 2, 3], p=[0.35, 0.35, 0.30])) - len(first)
        if want > 0 and idx.size:
            d = np.hypot(sl.e[idx] - k.easting, sl.n[idx] - k.northing)
            near = d <= reach[k.phase]
            if near.any():
                idx, d = idx[near], d[near]
            w = np.exp(-d / 5000.0) + 1e-12
            pick = rng.choice(len(idx), size=min(want, len(idx)), replace=False, p=w / w.sum())
            first += list(sl.setting_id[idx][pick])
        out.append(";".join(first))
    return out


# --------------------------------------------------------------------------- Trafford-style


def synth_children(
    population: pd.DataFrame,
    postcodes: pd.DataFrame,
    settings: pd.DataFrame,
    places: pd.DataFrame,
    packages: pd.DataFrame,
    *,
    n_children: int,
    seed: int,
    need_mix: pd.Series,
    n_to_place: int,
    continuing_mix: Mapping[str, float],
    reach_km: Mapping[str, float],
    secondary_from: int = 11,
    preference_share: float = 0.5,
    mainstream_share: float = 0.3,
    solo_share: float = 0.09,
    home_scale_km: float = 8.0,
    to_place_age_weights: Mapping[int, float] | None = None,
    age_factors: Mapping[str, Mapping[int, float]] | None = None,
) -> pd.DataFrame:
    """Synthetic children needing an SPP placement in a real area.

    Packages follow ``need_mix``. The first ``n_to_place`` children are still to
    place; the others continue in a setting drawn so that the placement mix
    follows ``continuing_mix`` without ever exceeding a setting's places for the
    package (a child for whom no place is free joins the to-place group). A
    continuing child's age fits its setting; a to-place child's age follows
    :data:`TO_PLACE_AGE_WEIGHTS`. Homes are real postcode centroids: LSOA drawn
    by population at the child's single year of age, then a random postcode.

    Parameters
    ----------
    population : lsoa_code, age [years], persons (long table).
    postcodes : postcode, lsoa_code, ward_code, easting, northing [m, EPSG:27700].
    settings, places, packages : dataset tables (see DESIGN.md §4).
    n_children : number of children.
    seed : seed of the random generator.
    need_mix : share of children by package_id (sums to 1).
    n_to_place : children still to place (new EHCPs and phase transfers).
    continuing_mix : target share of continuing placements by setting_type.
    reach_km : straight-line reach [km] by phase, keys ``primary`` and ``secondary``,
        used for preferences and prefers_mainstream.
    secondary_from : age [years] from which the secondary reach applies.
    preference_share : share of children with ranked preferences.
    mainstream_share : chance that a to-place child with an inclusion base in reach
        prefers mainstream.
    solo_share : share of children needing solo transport.
    home_scale_km : distance decay [km] of continuing children's homes around their setting.
    to_place_age_weights : age -> weight for to-place children
        (default :data:`TO_PLACE_AGE_WEIGHTS`).
    age_factors : package -> {age: factor} on those weights
        (default :data:`TO_PLACE_AGE_FACTORS`).

    Returns
    -------
    DataFrame in the ``children.csv`` format, sorted by child_id.
    """
    rng = np.random.default_rng(seed)
    known = set(packages["package_id"])
    mix = need_mix[[p for p in need_mix.index if p in known]]
    pkg = rng.choice(mix.index.to_numpy(), size=n_children, p=(mix / mix.sum()).to_numpy())
    slots, lsoas = place_slots(settings, places), _lsoa_table(population, postcodes)
    k = np.full(n_children, -1)
    k[n_to_place:] = _assign_continuing(pkg[n_to_place:], slots, mix=continuing_mix, rng=rng)
    cont = k >= 0
    ages = _to_place_ages(
        pkg,
        _offered_ages(slots),
        rng=rng,
        weights=to_place_age_weights or TO_PLACE_AGE_WEIGHTS,
        factors=TO_PLACE_AGE_FACTORS if age_factors is None else age_factors,
    )
    slot_min, slot_max = slots["age_min"].tolist(), slots["age_max"].tolist()
    for i in np.flatnonzero(cont):
        ages[i] = _age_in_setting(slot_min[k[i]], slot_max[k[i]], rng)
    anchors = np.full((n_children, 2), np.nan)
    anchors[cont] = slots.loc[k[cont], ["easting", "northing"]].to_numpy(dtype=float)
    kids = _draw_homes(ages, anchors, lsoas, scale_km=home_scale_km, rng=rng)
    kids["package_id"], kids["age"] = pkg, ages
    kids["current_setting_id"] = np.where(
        cont, slots["setting_id"].to_numpy()[np.maximum(k, 0)], ""
    )
    kids["current_type"] = np.where(cont, slots["setting_type"].to_numpy()[np.maximum(k, 0)], "")
    kids["phase"] = np.where(ages >= secondary_from, "secondary", "primary")
    reach = {ph: 1000.0 * km for ph, km in reach_km.items()}
    kids["prefers_mainstream"] = _mainstream_flags(
        kids, slots, reach=reach, share=mainstream_share, rng=rng
    )
    kids["preferences"] = _preferences(kids, slots, reach=reach, share=preference_share, rng=rng)
    kids["solo_transport"] = rng.random(n_children) < solo_share
    return finalise_children(kids, rng)
