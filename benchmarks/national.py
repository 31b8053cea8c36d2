"""The national benchmark instance: ~250,000 children across England's special schools.

Settings are the 2,080 open special schools of GIAS (2025-05-24; real locations,
names, URNs, LA codes and pupil numbers) plus synthetic inclusion bases sited at
LSOA centroids drawn in proportion to the Census 2021 population aged 0-15.
Children live at LSOA centroids (jittered ~300 m) drawn in proportion to the
Census 2021 population of their age band (0-15 or 16-24). The input files are
copies in ``benchmarks/data`` (see ``benchmarks/README.md`` for sources and
licence), so nothing outside the repository is read.

Assumptions (GIAS publishes no age range, package mix or fee for these schools):

* type: community / foundation special → maintained_special; academy and free
  special → academy_special; non-maintained → nmss; other independent special →
  independent_special; special post-16 institution → post16_specialist;
* places = number_of_pupils, or 60 when it is 0 or blank;
* packages: 1-3 packages the type may deliver (``optimiser.synth.ELIGIBLE_SETTING_TYPES``),
  drawn with the national need mix as weights; places split by the same weights;
* ages: state specials primary 4-11 / secondary 11-19 / all-through 4-19
  (35/35/30 %); INMSS all-through 4-19 (60 %) or secondary 11-19; post-16 16-25;
  inclusion bases primary 4-11 (60 %) or secondary 11-16;
* place costs: the default costing framework, except INMSS, which carry their
  own fee, log-normal around £63,000 (σ = 0.25, clipped to £45k-£120k);
* inclusion bases: 8-20 places each, 1-2 packages, enough of them to bring all
  places to ``places_ratio`` × children;
* children: package from the England need mix, age from the benchmark age
  weights of ``optimiser.synth``; ``1 - to_place_share`` of them hold a
  continuing place (the nearest of their 16 nearest slots with space, package
  and age permitting); half of the others rank 1-3 nearby settings; 15 % of those
  still to place, where an inclusion base offers their package at their age,
  prefer mainstream; 9 % travel alone.

Everything is drawn from one seeded ``numpy.random.Generator``: the same
arguments always give the same Dataset. ``build_national()`` returns an
``optimiser.Dataset`` typed exactly as ``optimiser.load_dataset`` types it
(see :func:`dataset_from_tables`); ``optimiser.validate`` passes on it.

Run ``python benchmarks/national.py`` to build it and print a summary.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

import optimiser
from optimiser.dataset.model import derive_place_costs
from optimiser.schema import TABLES
from optimiser.synth.tables import (
    ELIGIBLE_SETTING_TYPES,
    ENGLAND_NEED_PC,
    default_costing_framework,
    need_mix_from_primary_need,
    placeholder_packages,
)

DATA = Path(__file__).resolve().parent / "data"
SPECIALS_CSV = DATA / "gias_special_schools_open_2025-05-24.csv"
POPULATION_CSV = DATA / "census2021_lsoa21_usual_residents_by_age6_england.csv"
CENTROIDS_CSV = DATA / "lsoa21_centroids_england_drkane.csv"

GIAS_TYPES: dict[str, str] = {
    "Community special school": "maintained_special",
    "Foundation special school": "maintained_special",
    "Academy special sponsor led": "academy_special",
    "Academy special converter": "academy_special",
    "Free schools special": "academy_special",
    "Non-maintained special school": "nmss",
    "Other independent special school": "independent_special",
    "Special post 16 institution": "post16_specialist",
}
#: Age weights of children in a benchmark area (as ``optimiser.synth`` uses).
AGE_WEIGHTS: dict[int, float] = {
    **{a: 1.0 for a in (2, 3)},
    4: 4.0,
    **{a: 7.0 for a in range(5, 11)},
    **{a: 8.0 for a in range(11, 16)},
    **{a: 5.0 for a in range(16, 20)},
    **{a: 0.6 for a in range(20, 26)},
}
_STATE = ("maintained_special", "academy_special")
_INMSS = ("nmss", "independent_special")


# ----------------------------------------------------------------------------- typing


def _typed_column(table: str, name: str, values: pd.Series | None, n: int) -> pd.Series:
    """One column typed as :func:`optimiser.dataset.coerce.coerce_column` would type it."""
    col = TABLES[table].column(name)
    if values is None:
        values = pd.Series([None] * n, dtype=object)
    values = values.reset_index(drop=True)
    if col.dtype == "int":
        return pd.Series(pd.array(values.to_numpy(dtype=object), dtype="Int64"))
    if col.dtype == "float":
        return pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float))
    if col.dtype == "bool":
        default = bool(col.default)
        return pd.Series(
            [default if v is None or v is pd.NA else bool(v) for v in values], dtype=bool
        )
    if col.dtype == "id_list":
        return pd.Series(
            [
                v
                if isinstance(v, tuple)
                else tuple(p.strip() for p in str(v).split(";") if p.strip())
                if isinstance(v, str)
                else ()
                for v in values
            ],
            dtype=object,
        )
    default = "" if col.default is None else col.default
    return pd.Series(
        [
            default if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in values
        ],
        dtype=object,
    )


def typed_table(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the schema columns of ``table`` in order and typed as on load.

    Absent optional columns take their default; extra columns are dropped.
    """
    n = len(frame)
    cols = {
        c.name: _typed_column(table, c.name, frame[c.name] if c.name in frame.columns else None, n)
        for c in TABLES[table].columns
    }
    return pd.DataFrame(cols, index=pd.RangeIndex(n))


def dataset_from_tables(
    tables: dict[str, pd.DataFrame],
    *,
    policy: optimiser.Policy | None = None,
    name: str = "benchmark",
) -> optimiser.Dataset:
    """An in-memory Dataset from the tables of ``optimiser.synth.synth_area`` (or
    :func:`national_tables`), typed as ``load_dataset`` types a folder, with place
    costs derived from the costing framework (``cost_source`` added)."""
    ds = optimiser.Dataset(
        children=typed_table("children", tables["children"]),
        settings=typed_table("settings", tables["settings"]),
        places=typed_table("places", tables["places"]),
        packages=typed_table("packages", tables["packages"]),
        costing=typed_table("costing_framework", tables["costing_framework"]),
        policy=policy or optimiser.Policy(),
        name=name,
    )
    return ds.replace(places=derive_place_costs(ds))


# ----------------------------------------------------------------------------- inputs


def _lsoas() -> pd.DataFrame:
    """LSOA 2021 code, BNG centroid [m] and population aged 0-15 and 16-24."""
    from pyproj import Transformer

    pop = pd.read_csv(POPULATION_CSV, usecols=["lsoa21_code", "age_0_15", "age_16_24"])
    cen = pd.read_csv(CENTROIDS_CSV)
    lsoa = pop.merge(cen, on="lsoa21_code", how="inner", validate="one_to_one")
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    e, n = to_bng.transform(lsoa["longitude"].to_numpy(), lsoa["latitude"].to_numpy())
    return lsoa.assign(easting=e, northing=n).sort_values("lsoa21_code", ignore_index=True)


def _ages_for(types: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(types)
    lo, hi = np.full(n, 4), np.full(n, 19)
    u = rng.random(n)
    state = np.isin(types, _STATE)
    lo[state & (u < 0.35)], hi[state & (u < 0.35)] = 4, 11
    lo[state & (u >= 0.35) & (u < 0.70)] = 11
    lo[np.isin(types, _INMSS) & (u >= 0.60)] = 11
    post16 = types == "post16_specialist"
    lo[post16], hi[post16] = 16, 25
    base = types == "inclusion_base"
    lo[base], hi[base] = np.where(u[base] < 0.60, 4, 11), np.where(u[base] < 0.60, 11, 16)
    return lo, hi


def _offers(
    settings: pd.DataFrame, mix: pd.Series, rng: np.random.Generator, max_packages: dict[str, int]
) -> pd.DataFrame:
    """(setting, package, places): 1..max packages the type may deliver, need-mix weighted."""
    rows = []
    for sid, stype, size in settings[["setting_id", "setting_type", "size"]].itertuples(
        index=False
    ):
        ok = np.array(sorted(p for p, ts in ELIGIBLE_SETTING_TYPES.items() if stype in ts))
        w = mix.reindex(ok).to_numpy(float)
        k = min(len(ok), int(rng.integers(1, max_packages.get(stype, 3) + 1)))
        pick = np.sort(rng.choice(len(ok), size=k, replace=False, p=w / w.sum()))
        share = w[pick] / w[pick].sum()
        places = np.maximum(1, np.floor(size * share + rng.random(k))).astype(int)
        rows += [(sid, p, int(q)) for p, q in zip(ok[pick], places, strict=True)]
    return pd.DataFrame(rows, columns=["setting_id", "package_id", "places"])


def _settings(
    lsoa: pd.DataFrame,
    mix: pd.Series,
    n_children: int,
    places_ratio: float,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    gias = pd.read_csv(SPECIALS_CSV).sort_values("urn", ignore_index=True)
    special = pd.DataFrame(
        {
            "setting_id": [f"S{u}" for u in gias["urn"]],
            "name": gias["establishment_name"].astype(str),
            "setting_type": gias["establishment_type"].map(GIAS_TYPES).to_numpy(),
            "urn": gias["urn"].to_numpy(),
            "la_code": gias["la_code"].to_numpy(),
            "easting": gias["easting"].astype(float).to_numpy(),
            "northing": gias["northing"].astype(float).to_numpy(),
            "size": gias["number_of_pupils"].fillna(0).replace(0, 60).astype(int).to_numpy(),
            "assumption": "GIAS 2025-05-24 special school; packages, ages, places and fee assumed",
        }
    )
    if special["setting_type"].isna().any():
        msg = "an establishment_type in the GIAS extract has no setting_type mapping"
        raise ValueError(msg)
    gap = max(0, round(places_ratio * n_children) - int(special["size"].sum()))
    n_bases = max(1, int(np.ceil(gap / 14.0)))
    weight = lsoa["age_0_15"].to_numpy(float)
    at = rng.choice(len(lsoa), size=n_bases, replace=n_bases > len(lsoa), p=weight / weight.sum())
    at = np.sort(at)
    bases = pd.DataFrame(
        {
            "setting_id": [f"IB{k + 1:05d}" for k in range(n_bases)],
            "name": [f"Synthetic inclusion base {k + 1}" for k in range(n_bases)],
            "setting_type": "inclusion_base",
            "urn": None,
            "la_code": None,
            "easting": np.rint(lsoa["easting"].to_numpy()[at]),
            "northing": np.rint(lsoa["northing"].to_numpy()[at]),
            "size": rng.integers(8, 21, size=n_bases),
            "assumption": "synthetic inclusion base at an LSOA 2021 centroid",
        }
    )
    settings = pd.concat([special, bases], ignore_index=True)
    settings["age_min"], settings["age_max"] = _ages_for(settings["setting_type"].to_numpy(), rng)
    places = _offers(settings, mix, rng, {"inclusion_base": 2})
    inmss = places["setting_id"].map(settings.set_index("setting_id")["setting_type"]).isin(_INMSS)
    fee = np.clip(
        np.rint(np.exp(rng.normal(np.log(63_000), 0.25, size=len(places))) / 100) * 100,
        45_000,
        120_000,
    )
    places["annual_cost_gbp"] = np.where(inmss, fee, np.nan)
    settings["total_places"] = (
        settings["setting_id"]
        .map(places.groupby("setting_id")["places"].sum())
        .fillna(0)
        .astype(int)
    )
    settings["in_area"], settings["ward_code"], settings["closed"] = True, "", False
    return settings.drop(columns="size"), places


def _children(lsoa: pd.DataFrame, mix: pd.Series, n: int, rng: np.random.Generator) -> pd.DataFrame:
    pkg = rng.choice(mix.index.to_numpy(), size=n, p=mix.to_numpy())
    ages = np.array(sorted(AGE_WEIGHTS))
    aw = np.array([AGE_WEIGHTS[a] for a in ages])
    age = rng.choice(ages, size=n, p=aw / aw.sum())
    home = np.empty(n, np.int64)
    for band, mask in (("age_0_15", age < 16), ("age_16_24", age >= 16)):
        w = lsoa[band].to_numpy(float)
        home[mask] = rng.choice(len(lsoa), size=int(mask.sum()), p=w / w.sum())
    xy = lsoa[["easting", "northing"]].to_numpy()[home] + rng.normal(0, 300.0, size=(n, 2))
    xy = np.clip(np.rint(xy), 1, None)
    return pd.DataFrame(
        {
            "package_id": pkg,
            "age": age,
            "easting": xy[:, 0],
            "northing": xy[:, 1],
            "lsoa_code": lsoa["lsoa21_code"].to_numpy()[home],
        }
    )


def _currents_and_preferences(
    kids: pd.DataFrame,
    settings: pd.DataFrame,
    places: pd.DataFrame,
    to_place_share: float,
    rng: np.random.Generator,
    k: int = 16,
) -> tuple[np.ndarray, list[str]]:
    """Continuing placements (nearest slot with space) and ranked preferences of the others."""
    slots = places.merge(
        settings[["setting_id", "age_min", "age_max", "easting", "northing"]], on="setting_id"
    )
    n = len(kids)
    current = np.full(n, "", dtype=object)
    prefs = [""] * n
    continuing = rng.random(n) >= to_place_share
    with_prefs = rng.random(n) < 0.5
    n_pref = rng.integers(1, 4, size=n)
    order = rng.permutation(n)
    rank_of = np.empty(n, np.int64)
    rank_of[order] = np.arange(n)
    for p, idx in kids.groupby("package_id").indices.items():
        cand = slots[slots["package_id"] == p].reset_index(drop=True)
        kk = min(k, len(cand))
        tree = cKDTree(cand[["easting", "northing"]].to_numpy(float))
        dist, nbr = tree.query(kids[["easting", "northing"]].to_numpy()[idx], k=kk)
        dist, nbr = dist.reshape(len(idx), kk), nbr.reshape(len(idx), kk)
        age = kids["age"].to_numpy()[idx]
        fits = (cand["age_min"].to_numpy()[nbr] <= age[:, None]) & (
            age[:, None] <= cand["age_max"].to_numpy()[nbr]
        )
        left = cand["places"].to_numpy().copy()
        sid = cand["setting_id"].to_numpy()
        for j in np.argsort(rank_of[idx], kind="stable"):  # random, package by package
            i = idx[j]
            if continuing[i]:
                for t in nbr[j][fits[j]]:
                    if left[t] > 0:
                        left[t] -= 1
                        current[i] = sid[t]
                        break
        score = -dist / 8000.0 + rng.gumbel(size=dist.shape)
        score = np.where(fits, score, -np.inf)
        top = np.argsort(-score, axis=1, kind="stable")
        for j, i in enumerate(idx):
            if current[i] == "" and with_prefs[i]:
                ranked = [sid[nbr[j, t]] for t in top[j, : n_pref[i]] if fits[j, t]]
                prefs[i] = ";".join(ranked)
    return current, prefs


def national_tables(
    *,
    n_children: int = 250_000,
    seed: int = 2025,
    to_place_share: float = 0.26,
    places_ratio: float = 1.05,
) -> dict[str, pd.DataFrame]:
    """The national instance as raw tables (the dataset format), same keys as ``synth_area``."""
    rng = np.random.default_rng(seed)
    mix = need_mix_from_primary_need(ENGLAND_NEED_PC)
    lsoa = _lsoas()
    settings, places = _settings(lsoa, mix, n_children, places_ratio, rng)
    kids = _children(lsoa, mix, n_children, rng)
    current, prefs = _currents_and_preferences(kids, settings, places, to_place_share, rng)
    kids["current_setting_id"], kids["preferences"] = current, prefs
    base = places.merge(
        settings[["setting_id", "setting_type", "age_min", "age_max"]], on="setting_id"
    )
    base = base[base["setting_type"] == "inclusion_base"]
    offered = {
        (p, a)
        for p, lo, hi in base[["package_id", "age_min", "age_max"]].itertuples(index=False)
        for a in range(int(lo), int(hi) + 1)
    }
    can = np.array(
        [(p, a) in offered for p, a in zip(kids["package_id"], kids["age"], strict=True)], bool
    )
    kids["prefers_mainstream"] = can & (current == "") & (rng.random(len(kids)) < 0.15)
    kids["solo_transport"] = rng.random(len(kids)) < 0.09
    kids["ward_code"] = ""
    kids.insert(0, "child_id", [f"C{i + 1:06d}" for i in range(len(kids))])
    return {
        "packages": placeholder_packages(),
        "costing_framework": default_costing_framework(),
        "settings": settings,
        "places": places.sort_values(["setting_id", "package_id"], ignore_index=True),
        "children": kids,
    }


def build_national(
    *,
    n_children: int = 250_000,
    seed: int = 2025,
    to_place_share: float = 0.26,
    places_ratio: float = 1.05,
    policy: optimiser.Policy | None = None,
) -> optimiser.Dataset:
    """The national instance as an in-memory :class:`optimiser.Dataset` (see the module doc)."""
    tables = national_tables(
        n_children=n_children, seed=seed, to_place_share=to_place_share, places_ratio=places_ratio
    )
    return dataset_from_tables(tables, policy=policy, name="national")


def main(argv: list[str] | None = None) -> None:
    n = int((argv or sys.argv[1:] or ["250000"])[0])
    t = time.perf_counter()
    ds = build_national(n_children=n)
    built = time.perf_counter() - t
    optimiser.validate(ds)
    kids, sets = ds.children, ds.settings
    print(f"{ds!r} built in {built:.1f} s; validate passed")
    print(sets["setting_type"].value_counts().to_string())
    print(
        f"places {int(ds.places['places'].sum()):,}; continuing "
        f"{int((kids['current_setting_id'] != '').sum()):,}; to place "
        f"{int((kids['current_setting_id'] == '').sum()):,}"
    )


if __name__ == "__main__":
    main()
