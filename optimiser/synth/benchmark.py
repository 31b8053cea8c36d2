"""Synthetic benchmark areas of any size, in the dataset format.

:func:`synth_area` draws a whole area (packages, costing framework, settings,
places and children) clustered around towns in a square of British National
Grid, for benchmarks. Nothing here reads or writes files, and the global NumPy
random state is never used: the same arguments always give the same frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.schema.tables import MAINSTREAM_TYPES
from optimiser.synth.tables import (
    ELIGIBLE_SETTING_TYPES,
    ENGLAND_NEED_PC,
    SETTING_COLUMNS,
    default_costing_framework,
    finalise_children,
    need_mix_from_primary_need,
    place_slots,
    placeholder_packages,
)

__all__ = ["synth_area"]

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
    out = offers.assign(places=places, annual_cost_gbp=pd.NA)  # type: ignore[arg-type]  # stubs: no NA scalar
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
    slots = place_slots(settings, places)
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
    ib = slots[slots["setting_type"].isin(MAINSTREAM_TYPES)]
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
    kids["prefers_mainstream"] = _area_mainstream(kids, place_slots(settings, places), rng=rng)
    kids["solo_transport"] = rng.random(len(kids)) < 0.09
    return {
        "packages": placeholder_packages(),
        "costing_framework": default_costing_framework(),
        "settings": settings[SETTING_COLUMNS],
        "places": places,
        "children": finalise_children(kids, rng),
    }
