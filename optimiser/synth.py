"""Seeded generators of synthetic children and of large benchmark areas.

Two entry points:

* :func:`synth_children` draws a synthetic cohort of children needing a
  Specialist Provision Package (SPP) for a real area, from single-year-of-age
  population by LSOA, real postcode centroids and a need mix. It is used by
  ``scripts/build_default_data.py`` to build the embedded Trafford data set.
* :func:`synth_area` draws a whole synthetic area (packages, costing framework,
  settings, places and children) in the dataset format, for benchmarks of any
  size.

Nothing here reads or writes files: callers do the I/O. Every function takes an
explicit ``seed`` or ``rng``; the global NumPy random state is never used, so the
same arguments always give the same frames.

The placeholder SPP table, need weights and default costs below are the
proposed configurable defaults of ``shared/research/domain-facts.md`` (§1.1,
§4); they are *generator* defaults, replaced by the DfE list when published.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "ENGLAND_NEED_PC",
    "PLACEHOLDER_NEED_WEIGHTS",
    "PLACEHOLDER_PACKAGES",
    "default_costing_framework",
    "need_mix_from_primary_need",
    "placeholder_packages",
    "synth_area",
    "synth_children",
]

#: Placeholder SPPs (domain-facts §4): id, name, group, eligible setting families.
PLACEHOLDER_PACKAGES: tuple[dict[str, str], ...] = (
    {
        "package_id": "SPP1",
        "name": "Profound & multiple learning difficulties",
        "group": "A Adapted curriculum",
    },
    {
        "package_id": "SPP2",
        "name": "Severe & complex learning difficulties",
        "group": "A Adapted curriculum",
    },
    {
        "package_id": "SPP3",
        "name": "Autism with complex communication needs",
        "group": "B Specialist environment",
    },
    {
        "package_id": "SPP4",
        "name": "Social, emotional & mental health - therapeutic",
        "group": "B Specialist environment",
    },
    {"package_id": "SPP5", "name": "Deaf / hearing impairment", "group": "C Access & sensory"},
    {
        "package_id": "SPP6",
        "name": "Vision & multi-sensory impairment",
        "group": "C Access & sensory",
    },
    {
        "package_id": "SPP7",
        "name": "Physical disability & complex medical",
        "group": "C Access & sensory",
    },
)

#: Probability that a child with a given SEN2 primary need qualifies for the SPP (§4).
PLACEHOLDER_NEED_WEIGHTS: dict[str, dict[str, float]] = {
    "SPP1": {"PMLD": 1.0},
    "SPP2": {"SLD": 1.0, "DS": 0.8, "MLD": 0.15},
    "SPP3": {"ASD": 0.45, "SLCN": 0.20},
    "SPP4": {"SEMH": 0.40},
    "SPP5": {"HI": 0.5},
    "SPP6": {"VI": 0.5, "MSI": 1.0},
    "SPP7": {"PD": 0.5, "OTH": 0.3},
}

#: Primary need of all EHC plans in England, Jan 2025, % (domain-facts §3.3).
ENGLAND_NEED_PC: dict[str, float] = {
    "ASD": 31.5,
    "SLCN": 21.3,
    "SEMH": 20.7,
    "MLD": 10.6,
    "SLD": 3.9,
    "PD": 3.9,
    "SpLD": 2.4,
    "HI": 1.4,
    "PMLD": 1.3,
    "OTH": 1.2,
    "VI": 0.8,
    "MSI": 0.3,
}

#: Default cost band of a state special place by package [GBP/yr] (§4).
STATE_SPECIAL_COST_GBP: dict[str, int] = {
    "SPP1": 40_000,
    "SPP2": 30_000,
    "SPP3": 26_000,
    "SPP4": 28_000,
    "SPP5": 22_000,
    "SPP6": 24_000,
    "SPP7": 26_000,
}

#: Default annual cost of a place by setting type [GBP/yr] (§1.1); specials use the band above.
SETTING_TYPE_COST_GBP: dict[str, int] = {
    "inclusion_base": 15_000,  # £6,000 place funding + £9,000 top-up
    "mainstream": 4_500,  # LA top-up only; the school meets the first £6,000 [C3][C4]
    "nmss": 45_000,
    "independent_special": 63_000,
    "post16_specialist": 60_000,
}

_SPECIAL = (
    "maintained_special",
    "academy_special",
    "nmss",
    "independent_special",
    "post16_specialist",
)
#: Setting types where each package makes sense (§4 "eligible settings (default)").
ELIGIBLE_SETTING_TYPES: dict[str, tuple[str, ...]] = {
    "SPP1": _SPECIAL,
    "SPP2": (*_SPECIAL, "inclusion_base"),
    "SPP3": (*_SPECIAL, "inclusion_base"),
    "SPP4": (*_SPECIAL, "inclusion_base"),
    "SPP5": (*_SPECIAL, "inclusion_base"),
    "SPP6": (*_SPECIAL, "inclusion_base"),
    "SPP7": (*_SPECIAL, "mainstream"),
}

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

_MAINSTREAM_TYPES = ("inclusion_base", "mainstream")
#: Columns of a generated settings table, in file order.
SETTING_COLUMNS = [
    "setting_id",
    "name",
    "setting_type",
    "urn",
    "la_code",
    "easting",
    "northing",
    "age_min",
    "age_max",
    "total_places",
    "in_area",
    "ward_code",
    "assumption",
]
_CHILD_COLUMNS = [
    "child_id",
    "package_id",
    "age",
    "easting",
    "northing",
    "lsoa_code",
    "ward_code",
    "preferences",
    "prefers_mainstream",
    "current_setting_id",
    "solo_transport",
]


# --------------------------------------------------------------------------- tables


def placeholder_packages() -> pd.DataFrame:
    """The seven placeholder SPPs as a ``packages`` table.

    Returns
    -------
    DataFrame with package_id, name, group, description, placeholder (all True).
    """
    df = pd.DataFrame(list(PLACEHOLDER_PACKAGES))
    df["description"] = [
        f"Placeholder for the DfE draft package '{n}' (group {g.split()[0]}); "
        "name, scope and cost pending the final DfE list (Feb 2026 consultation)."
        for n, g in zip(df["name"], df["group"], strict=True)
    ]
    df["placeholder"] = True
    return df[["package_id", "name", "group", "description", "placeholder"]]


def default_costing_framework() -> pd.DataFrame:
    """National costing framework defaults: one row per sensible package × setting type.

    Maintained and academy specials take the package's state-special cost band;
    the other types take the type default (domain-facts §1.1, §4).

    Returns
    -------
    DataFrame with package_id, setting_type, annual_cost_gbp [GBP/yr] (int).
    """
    rows = []
    for package_id, types in ELIGIBLE_SETTING_TYPES.items():
        for setting_type in types:
            if setting_type in ("maintained_special", "academy_special"):
                cost = STATE_SPECIAL_COST_GBP[package_id]
            else:
                cost = SETTING_TYPE_COST_GBP[setting_type]
            rows.append((package_id, setting_type, cost))
    df = pd.DataFrame(rows, columns=["package_id", "setting_type", "annual_cost_gbp"])
    return df.sort_values(["package_id", "setting_type"], ignore_index=True)


def need_mix_from_primary_need(
    need_pc: Mapping[str, float], *, weights: Mapping[str, Mapping[str, float]] | None = None
) -> pd.Series:
    """Share of SPP-eligible children by package, from a primary-need mix.

    Parameters
    ----------
    need_pc : percentage (or count) of EHC plans by SEN2 primary need code.
    weights : package -> {need code: probability of qualifying};
        default :data:`PLACEHOLDER_NEED_WEIGHTS`.

    Returns
    -------
    Series indexed by package_id, summing to 1.
    """
    weights = PLACEHOLDER_NEED_WEIGHTS if weights is None else weights
    raw = {
        p: sum(w * float(need_pc.get(need, 0.0)) for need, w in ws.items())
        for p, ws in weights.items()
    }
    mix = pd.Series(raw, dtype=float)
    if mix.sum() <= 0:
        msg = "need_pc gives no child to any package: check the need codes (e.g. ASD, SEMH)"
        raise ValueError(msg)
    return mix / mix.sum()


# --------------------------------------------------------------------------- helpers


def _slots(settings: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Places joined to their setting's type, ages and location (one row per slot)."""
    cols = ["setting_id", "setting_type", "age_min", "age_max", "easting", "northing"]
    slots = places.merge(settings[cols], on="setting_id", how="left", validate="many_to_one")
    slots = slots[slots["places"] > 0].sort_values(["setting_id", "package_id"])
    return slots.reset_index(drop=True)


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
    cand: pd.DataFrame, free: np.ndarray, quota: dict, rng: np.random.Generator
) -> int:
    """Index of a slot: setting type by remaining quota, then slot by free places."""
    types = sorted(set(cand["setting_type"]))
    tw = np.array([max(quota.get(t, 0.0), 0.0) + 1e-3 for t in types])
    chosen = types[rng.choice(len(types), p=tw / tw.sum())]
    sub = cand.index[cand["setting_type"] == chosen].to_numpy()
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
    supply = slots.groupby("package_id")["places"].sum()
    need = pd.Series(packages).value_counts()
    scarcity = (supply.reindex(need.index).fillna(0) / need).to_dict()
    order = sorted(range(len(packages)), key=lambda i: scarcity[packages[i]])
    for i in order:
        package_id = packages[i]
        cand = slots[(pkg_col == package_id) & (free > 0)]
        if cand.empty:
            continue
        k = _pick_type_then_slot(cand, free, quota, rng)
        free[k] -= 1
        quota[slots.at[k, "setting_type"]] = quota.get(slots.at[k, "setting_type"], 0.0) - 1
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
    for row in slots.itertuples(index=False):
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
    for i, age in enumerate(ages):
        w = lsoas["pop"][:, col[min(int(age), max(col))]].copy()
        if not np.isnan(anchors[i, 0]):
            d_km = np.hypot(lsoas["e"] - anchors[i, 0], lsoas["n"] - anchors[i, 1]) / 1000
            w *= np.exp(-d_km / scale_km)
        k = rng.choice(len(w), p=w / w.sum())
        rows[i] = rng.choice(lsoas["postcode_rows"][k])
    pcs = lsoas["postcodes"].iloc[rows]
    return pcs[["easting", "northing", "lsoa_code", "ward_code"]].reset_index(drop=True)


def _eligible(
    slots: pd.DataFrame, package_id: str, age: int, *, types: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Slots that deliver ``package_id`` to a child of ``age`` (optionally of given types)."""
    ok = (slots["package_id"] == package_id) & (slots["age_min"] <= age) & (slots["age_max"] >= age)
    if types is not None:
        ok &= slots["setting_type"].isin(types)
    return slots[ok]


def _near(
    cand: pd.DataFrame, e: float, n: float, reach_m: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Candidates within ``reach_m`` of a home (all of them if none is), with distances [m]."""
    d = np.hypot(cand["easting"].to_numpy() - e, cand["northing"].to_numpy() - n)
    if (d <= reach_m).any():
        return cand[d <= reach_m], d[d <= reach_m]
    return cand, d


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
    for i, k in enumerate(kids.itertuples(index=False)):
        cand = _eligible(slots, k.package_id, k.age, types=_MAINSTREAM_TYPES)
        d = np.hypot(
            cand["easting"].to_numpy() - k.easting, cand["northing"].to_numpy() - k.northing
        )
        if not (d <= reach[k.phase]).any():
            continue
        if k.current_type in _MAINSTREAM_TYPES:
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
    ones likelier; a child preferring mainstream ranks inclusion bases only.
    """
    out = []
    for k in kids.itertuples(index=False):
        if rng.random() >= share:
            out.append("")
            continue
        types = _MAINSTREAM_TYPES if k.prefers_mainstream else None
        cand = _eligible(slots, k.package_id, k.age, types=types).drop_duplicates("setting_id")
        first = [k.current_setting_id] if k.current_setting_id else []
        cand = cand[~cand["setting_id"].isin(first)]
        want = int(rng.choice([1, 2, 3], p=[0.35, 0.35, 0.30])) - len(first)
        if want > 0 and not cand.empty:
            cand, d = _near(cand, k.easting, k.northing, reach[k.phase])
            w = np.exp(-d / 5000.0) + 1e-12
            pick = rng.choice(len(cand), size=min(want, len(cand)), replace=False, p=w / w.sum())
            first += list(cand["setting_id"].to_numpy()[pick])
        out.append(";".join(first))
    return out


def _finalise(kids: pd.DataFrame, rng: np.random.Generator, *, prefix: str = "C") -> pd.DataFrame:
    """Shuffle rows (ids reveal nothing), assign pseudonymous ids and the output columns."""
    kids = kids.iloc[rng.permutation(len(kids))].reset_index(drop=True)
    width = max(5, len(str(len(kids))))
    kids["child_id"] = [f"{prefix}{i + 1:0{width}d}" for i in range(len(kids))]
    for c in ("age", "easting", "northing"):
        kids[c] = kids[c].astype(int)
    return kids[_CHILD_COLUMNS]


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
    slots, lsoas = _slots(settings, places), _lsoa_table(population, postcodes)
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
    for i in np.flatnonzero(cont):
        ages[i] = _age_in_setting(slots.at[k[i], "age_min"], slots.at[k[i], "age_max"], rng)
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
    return _finalise(kids, rng)


# --------------------------------------------------------------------------- benchmark areas

#: Share of settings by type in a synthetic benchmark area.
_AREA_TYPE_SHARES: dict[str, float] = {
    "maintained_special": 0.18,
    "academy_special": 0.22,
    "inclusion_base": 0.36,
    "nmss": 0.05,
    "independent_special": 0.15,
    "post16_specialist": 0.04,
}
#: Relative size of a setting by type (before scaling places to demand).
_AREA_TYPE_SIZE: dict[str, tuple[int, int]] = {
    "maintained_special": (60, 200),
    "academy_special": (60, 200),
    "inclusion_base": (8, 20),
    "nmss": (20, 80),
    "independent_special": (10, 60),
    "post16_specialist": (10, 40),
}
_PHASES: dict[str, tuple[int, int]] = {
    "primary": (4, 11),
    "secondary": (11, 19),
    "all": (4, 19),
    "post16": (16, 25),
}
_AREA_AGE_WEIGHTS: dict[int, float] = {
    **{a: 1.0 for a in (2, 3)},
    4: 4.0,
    **{a: 7.0 for a in range(5, 11)},
    **{a: 8.0 for a in range(11, 16)},
    **{a: 5.0 for a in range(16, 20)},
    **{a: 0.6 for a in range(20, 26)},
}


def _area_points(
    n: int,
    *,
    side_m: float,
    origin: tuple[float, float],
    towns: np.ndarray,
    rng: np.random.Generator,
    town_share: float = 0.75,
    spread_m: float = 3000.0,
) -> np.ndarray:
    """n points in the square: most around town centres (normal), the rest uniform."""
    pts = rng.uniform(0, side_m, size=(n, 2))
    in_town = rng.random(n) < town_share
    centre = towns[rng.integers(0, len(towns), size=n)]
    pts[in_town] = centre[in_town] + rng.normal(0, spread_m, size=(int(in_town.sum()), 2))
    pts = np.clip(pts, 0, side_m)
    return np.rint(pts + np.asarray(origin)).astype(int)


def _area_settings(
    n_settings: int,
    *,
    side_m: float,
    origin: tuple[float, float],
    towns: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Synthetic settings: type, location, phase and age range."""
    types = np.array(sorted(_AREA_TYPE_SHARES))
    p = np.array([_AREA_TYPE_SHARES[t] for t in types])
    st = rng.choice(types, size=n_settings, p=p / p.sum())
    phase = rng.choice(["primary", "secondary", "all"], size=n_settings, p=[0.35, 0.35, 0.30])
    phase = np.where(st == "post16_specialist", "post16", phase)
    phase = np.where((st == "inclusion_base") & (phase == "all"), "primary", phase)
    xy = _area_points(n_settings, side_m=side_m, origin=origin, towns=towns, rng=rng)
    width = max(3, len(str(n_settings)))
    ids = [f"S{i + 1:0{width}d}" for i in range(n_settings)]
    return pd.DataFrame(
        {
            "setting_id": ids,
            "name": [f"Synthetic {t.replace('_', ' ')} {i}" for t, i in zip(st, ids, strict=True)],
            "setting_type": st,
            "urn": 900000 + np.arange(n_settings),
            "la_code": 999,
            "easting": xy[:, 0],
            "northing": xy[:, 1],
            "age_min": [_PHASES[ph][0] for ph in phase],
            "age_max": [_PHASES[ph][1] for ph in phase],
            "in_area": rng.random(n_settings)
            < np.where(np.isin(st, ("nmss", "independent_special", "post16_specialist")), 0.4, 0.9),
            "ward_code": "",
            "assumption": "synthetic benchmark setting",
        }
    )


def _area_offers(settings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Which packages each setting offers (1-3 eligible ones; every package offered at
    every age by at least one all-age setting)."""
    rows = []
    for s in settings.itertuples(index=False):
        ok = sorted(p for p, ts in ELIGIBLE_SETTING_TYPES.items() if s.setting_type in ts)
        n = min(len(ok), int(rng.integers(1, 4)))
        rows += [(s.setting_id, p) for p in rng.choice(ok, size=n, replace=False)]
    offers = pd.DataFrame(rows, columns=["setting_id", "package_id"])
    wide = settings[(settings["age_min"] <= 4) & (settings["age_max"] >= 19)]
    if wide.empty:
        wide = settings
    for p in sorted(ELIGIBLE_SETTING_TYPES):
        have = set(offers.loc[offers["package_id"] == p, "setting_id"]) & set(wide["setting_id"])
        if not have:
            sid = wide["setting_id"].to_numpy()[rng.integers(0, len(wide))]
            offers.loc[len(offers)] = (sid, p)
    return offers.drop_duplicates(ignore_index=True)


def _area_places(
    settings: pd.DataFrame,
    offers: pd.DataFrame,
    demand: pd.Series,
    *,
    ratio: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Places per (setting, package), scaled so places of each package ≈ ratio × demand."""
    types = settings.set_index("setting_id")["setting_type"]
    size = np.array([rng.integers(*_AREA_TYPE_SIZE[types[s]]) for s in offers["setting_id"]])
    raw = size / offers.groupby("setting_id")["package_id"].transform("size").to_numpy()
    places = np.zeros(len(offers), dtype=int)
    for p, idx in offers.groupby("package_id").indices.items():
        target = ratio * float(demand.get(p, 0.0))
        share = raw[idx] * target / raw[idx].sum()
        places[idx] = np.maximum(1, np.floor(share + rng.random(len(idx)))).astype(int)
    out = offers.assign(places=places, annual_cost_gbp=pd.NA)
    inmss = out["setting_id"].map(types).isin(("nmss", "independent_special"))
    fee = np.rint(np.exp(rng.normal(np.log(63_000), 0.25, size=len(out))) / 100) * 100
    out.loc[inmss, "annual_cost_gbp"] = np.clip(fee, 45_000, 120_000)[inmss.to_numpy()]
    out["annual_cost_gbp"] = out["annual_cost_gbp"].astype("Int64")
    return out.sort_values(["setting_id", "package_id"], ignore_index=True)


def _area_choose(
    homes: np.ndarray,
    ages: np.ndarray,
    cand: pd.DataFrame,
    *,
    k: int,
    scale_m: float,
    rng: np.random.Generator,
    chunk: int = 4000,
) -> np.ndarray:
    """Up to k candidate rows per child by Gumbel-perturbed gravity (nearer and larger
    likelier); -1 where no candidate fits the child's age."""
    xy = cand[["easting", "northing"]].to_numpy(dtype=float)
    lo, hi = cand["age_min"].to_numpy(), cand["age_max"].to_numpy()
    logw = np.log(np.maximum(cand["places"].to_numpy(dtype=float), 1.0))
    out = np.full((len(homes), k), -1)
    for a in range(0, len(homes), chunk):
        h, g = homes[a : a + chunk], ages[a : a + chunk]
        d = np.hypot(h[:, None, 0] - xy[None, :, 0], h[:, None, 1] - xy[None, :, 1])
        score = logw[None, :] - d / scale_m + rng.gumbel(size=d.shape)
        fits = (lo[None, :] <= g[:, None]) & (hi[None, :] >= g[:, None])
        score = np.where(fits, score, -np.inf)
        kk = min(k, score.shape[1])
        top = np.argsort(-score, axis=1, kind="stable")[:, :kk]
        top = np.where(np.take_along_axis(score, top, axis=1) > -np.inf, top, -1)
        out[a : a + chunk, :kk] = top
    return out


def _area_children(
    n_children: int,
    *,
    places: pd.DataFrame,
    settings: pd.DataFrame,
    need_mix: pd.Series,
    homes: np.ndarray,
    to_place_share: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Children of a benchmark area: package, age, home, current setting, preferences."""
    pkg = rng.choice(need_mix.index.to_numpy(), size=n_children, p=need_mix.to_numpy())
    ages = np.array(sorted(_AREA_AGE_WEIGHTS))
    aw = np.array([_AREA_AGE_WEIGHTS[a] for a in ages])
    age = rng.choice(ages, size=n_children, p=aw / aw.sum())
    slots = _slots(settings, places)
    current = np.full(n_children, "", dtype=object)
    prefs = np.full(n_children, "", dtype=object)
    continuing = rng.random(n_children) >= to_place_share
    with_prefs = rng.random(n_children) < 0.5
    for p, idx in pd.Series(range(n_children)).groupby(pkg).indices.items():
        cand = slots[slots["package_id"] == p].reset_index(drop=True)
        if cand.empty:
            continue
        top = _area_choose(homes[idx], age[idx], cand, k=3, scale_m=8000.0, rng=rng)
        sid = cand["setting_id"].to_numpy()
        pick = idx[continuing[idx] & (top[:, 0] >= 0)]
        current[pick] = sid[top[continuing[idx] & (top[:, 0] >= 0), 0]]
        n_pref = rng.integers(1, 4, size=len(idx))
        for j, i in enumerate(idx):
            if with_prefs[i] and top[j, 0] >= 0:
                prefs[i] = ";".join(sid[t] for t in top[j, : n_pref[j]] if t >= 0)
    current = _enforce_places(current, pkg, places, rng=rng)
    return pd.DataFrame(
        {
            "package_id": pkg,
            "age": age,
            "easting": homes[:, 0],
            "northing": homes[:, 1],
            "current_setting_id": current,
            "preferences": prefs,
        }
    )


def _enforce_places(
    current: np.ndarray, pkg: np.ndarray, places: pd.DataFrame, *, rng: np.random.Generator
) -> np.ndarray:
    """Blank the current setting of children beyond a slot's places (random order)."""
    cap = places.set_index(["setting_id", "package_id"])["places"]
    order = rng.permutation(len(current))
    used: dict[tuple[str, str], int] = {}
    out = current.copy()
    for i in order:
        if out[i] == "":
            continue
        key = (out[i], pkg[i])
        used[key] = used.get(key, 0) + 1
        if used[key] > cap.get(key, 0):
            out[i] = ""
    return out


def _area_mainstream(
    kids: pd.DataFrame, slots: pd.DataFrame, *, rng: np.random.Generator, share: float = 0.15
) -> np.ndarray:
    """prefers_mainstream for about ``share`` of to-place children whose package an inclusion
    base or mainstream setting offers at their age."""
    ib = slots[slots["setting_type"].isin(_MAINSTREAM_TYPES)]
    offered = {
        (p, a)
        for p, lo, hi in ib[["package_id", "age_min", "age_max"]].itertuples(index=False)
        for a in range(lo, hi + 1)
    }
    ok = np.array(
        [(p, a) in offered for p, a in zip(kids["package_id"], kids["age"], strict=True)],
        dtype=bool,
    )
    return ok & (kids["current_setting_id"].to_numpy() == "") & (rng.random(len(kids)) < share)


def synth_area(
    *,
    n_children: int,
    n_settings: int,
    seed: int,
    side_km: float | None = None,
    origin: tuple[float, float] = (350_000.0, 250_000.0),
    to_place_share: float = 0.26,
    places_ratio: float = 1.05,
    need_mix: pd.Series | None = None,
) -> dict[str, pd.DataFrame]:
    """A whole synthetic area in the dataset format, for benchmarks.

    Settings and homes lie in a square of side ``side_km`` (default: about 2
    specialist children per km², clipped to 10-300 km, i.e. between a
    metropolitan borough and a large shire county) with its south-west corner at
    ``origin`` (British National Grid metres), clustered around towns. Places of
    each package are scaled to ``places_ratio`` × demand. Continuing children
    never exceed a setting's places for their package.

    Parameters
    ----------
    n_children : number of children.
    n_settings : number of settings.
    seed : seed of the random generator.
    side_km : side of the square region [km].
    origin : (easting, northing) of the south-west corner [m, EPSG:27700].
    to_place_share : share of children drawn as still to place.
    places_ratio : places of each package per child needing it.
    need_mix : share of children by package_id; default from England's need mix
        (:data:`ENGLAND_NEED_PC`) and the placeholder weights.

    Returns
    -------
    dict with DataFrames ``packages``, ``costing_framework``, ``settings``,
    ``places``, ``children`` (sorted by their ids).
    """
    if n_children < 1 or n_settings < 1:
        msg = f"n_children and n_settings must be >= 1, found {n_children} and {n_settings}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    mix = need_mix_from_primary_need(ENGLAND_NEED_PC) if need_mix is None else need_mix
    side = 1000.0 * (side_km or float(np.clip(np.sqrt(n_children / 2.0), 10, 300)))
    towns = rng.uniform(0, side, size=(max(1, int(side / 8000.0)), 2))
    settings = _area_settings(n_settings, side_m=side, origin=origin, towns=towns, rng=rng)
    offers = _area_offers(settings, rng)
    places = _area_places(settings, offers, mix * n_children, ratio=places_ratio, rng=rng)
    settings["total_places"] = (
        settings["setting_id"]
        .map(places.groupby("setting_id")["places"].sum())
        .fillna(0)
        .astype(int)
    )
    homes = _area_points(n_children, side_m=side, origin=origin, towns=towns, rng=rng)
    kids = _area_children(
        n_children,
        places=places,
        settings=settings,
        need_mix=mix,
        homes=homes,
        to_place_share=to_place_share,
        rng=rng,
    )
    kids["lsoa_code"], kids["ward_code"] = "", ""
    kids["prefers_mainstream"] = _area_mainstream(kids, _slots(settings, places), rng=rng)
    kids["solo_transport"] = rng.random(len(kids)) < 0.09
    return {
        "packages": placeholder_packages(),
        "costing_framework": default_costing_framework(),
        "settings": settings[SETTING_COLUMNS],
        "places": places,
        "children": _finalise(kids, rng),
    }
