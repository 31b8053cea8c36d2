"""A synthetic specialist cohort reproducing an LA's SEN2 placements by group and need.

Need -> package goes through ``need_packages.csv`` (need, package_id, share; the shares of a
need sum to 1), written into the folder so a planner can edit it and rebuild. The children
are drawn by :func:`optimiser.synth.cohort.synth_children` one package at a time, so each
package's count is exact (no sampling noise against its places).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.dataset.init.national import NEEDS, PLACEMENT_GROUPS, SETTING_GROUP
from optimiser.dataset.init.supply import split_largest_remainder
from optimiser.synth.cohort import TO_PLACE_AGE_WEIGHTS, synth_children
from optimiser.synth.tables import ELIGIBLE_SETTING_TYPES, finalise_children

#: Default need -> package shares for the SPECIALIST cohort (every child needs a package;
#: assumption from the placeholder packages' need weights, domain-facts §4).
NEED_PACKAGES: tuple[tuple[str, str, float, str], ...] = (
    ("asd", "SPP3", 1.0, "autism -> autism with complex communication needs"),
    ("slcn", "SPP3", 0.6, "SLCN in specialist settings: mostly communication/autism provision"),
    ("slcn", "SPP2", 0.4, "the rest with severe/complex learning needs"),
    ("semh", "SPP4", 1.0, "SEMH -> therapeutic SEMH package"),
    ("mld", "SPP2", 1.0, "MLD in specialist settings -> severe & complex learning"),
    ("sld", "SPP2", 1.0, "SLD -> severe & complex learning"),
    ("pmld", "SPP1", 1.0, "PMLD -> profound & multiple learning"),
    ("spld", "SPP2", 0.5, "SpLD: learning package"),
    ("spld", "SPP4", 0.5, "SpLD: often with SEMH"),
    ("hi", "SPP5", 1.0, "hearing impairment -> deaf/HI"),
    ("vi", "SPP6", 1.0, "vision impairment -> vision & multi-sensory"),
    ("msi", "SPP6", 1.0, "multi-sensory impairment -> vision & multi-sensory"),
    ("pd", "SPP7", 1.0, "physical disability -> physical & complex medical"),
    ("oth", "SPP7", 0.5, "other: half physical/medical"),
    ("oth", "SPP2", 0.5, "other: half learning"),
    ("unknown", "SPP3", 1.0, "need not recorded: the commonest specialist package"),
)
#: Ages of children still to place: synth's weights without 19-21, since a new post-19
#: specialist placement is rare outside FE (out of this cohort) and only a specialist
#: post-16 institution takes it, so a 19-year-old to place would find no place (assumption).
TO_PLACE_AGES = {a: w for a, w in TO_PLACE_AGE_WEIGHTS.items() if a < 19}
#: Share of the cohort still to place (new plans and phase transfers; assumption, about the
#: share of new specialist placements in a year).
TO_PLACE_SHARE = 0.12


def need_packages_table() -> pd.DataFrame:
    """The default ``need_packages.csv``: need, package_id, share, why."""
    return pd.DataFrame(list(NEED_PACKAGES), columns=["need", "package_id", "share", "why"])


def _group_flows(
    counts: pd.Series, needs_by_group: pd.DataFrame, need_packages: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Expected children by need (rows) × package (columns) of each placement group.

    A group's SEN2 count follows that group's SEN2 need mix, then the need -> package
    shares; a package the group's settings cannot deliver (SPP1 in a base) goes to the
    group's other packages.
    """
    m = need_packages.pivot_table(
        index="need", columns="package_id", values="share", aggfunc="sum", fill_value=0.0
    ).reindex(index=list(NEEDS), fill_value=0.0)
    pk = sorted(m.columns)
    out = {}
    for group in PLACEMENT_GROUPS:
        mix = needs_by_group.loc[group].to_numpy(float) if group in needs_by_group.index else 0
        if np.nansum(mix) <= 0:
            mix = needs_by_group.sum(axis=0).to_numpy(float)
        types = [t for t, g in SETTING_GROUP.items() if g == group]
        ok = np.array([any(t in ELIGIBLE_SETTING_TYPES.get(p, ()) for t in types) for p in pk])
        flow = np.nan_to_num(mix)[:, None] * m[pk].to_numpy(float) * ok[None, :]
        total = flow.sum()
        flow = flow * (float(counts.get(group, 0)) / total) if total > 0 else flow * 0.0
        out[group] = pd.DataFrame(flow, index=list(NEEDS), columns=pk)
    return out


def package_demand(
    counts: pd.Series, needs_by_group: pd.DataFrame, need_packages: pd.DataFrame
) -> pd.DataFrame:
    """Children by placement group (rows) × package (columns), integers.

    Each group's SEN2 count is split by that group's SEN2 need mix, then by the need ->
    package shares, rounded by largest remainder so each group sums to its count exactly.
    """
    flows = _group_flows(counts, needs_by_group, need_packages)
    rows = {
        group: split_largest_remainder(int(counts.get(group, 0)), f.sum(axis=0).to_numpy())
        for group, f in flows.items()
    }
    pk = next(iter(flows.values())).columns
    return pd.DataFrame(rows, index=pk).T


def need_mix_by_package(
    counts: pd.Series, needs_by_group: pd.DataFrame, need_packages: pd.DataFrame
) -> pd.DataFrame:
    """Expected children by package (rows) × SEN2 primary need (columns), all groups."""
    flows = list(_group_flows(counts, needs_by_group, need_packages).values())
    total = flows[0].copy()
    for f in flows[1:]:
        total = total + f
    return total.T


def assign_needs(
    packages: pd.Series, need_mix: pd.DataFrame, rng: np.random.Generator
) -> pd.Series:
    """A primary need for each child: each package's children split over the needs that
    feed it (largest remainder, so the cohort's need counts match SEN2's to rounding),
    in a seeded random order."""
    out = pd.Series("unknown", index=packages.index, dtype=object)
    for package_id, idx in packages.groupby(packages).groups.items():
        if package_id not in need_mix.index:
            continue
        w = need_mix.loc[[package_id]].to_numpy(float)[0]
        if np.sum(w) <= 0:
            continue
        n = split_largest_remainder(len(idx), w)
        codes = np.repeat(need_mix.columns.to_numpy(), n)
        out.loc[rng.permutation(np.asarray(idx))] = codes
    return out


def lsoa_homes(lsoas: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(population, postcodes) for synth_children from the national LSOA table: homes at
    LSOA centroids (one 'postcode' per LSOA), weighted by the Census 0-15 population
    spread evenly over ages 0-25."""
    population = pd.DataFrame(
        {
            "lsoa_code": np.repeat(lsoas["lsoa21_code"].to_numpy(), 26),
            "age": np.tile(np.arange(26), len(lsoas)),
            "persons": np.repeat(lsoas["age_0_15"].to_numpy(float) / 16, 26),
        }
    )
    postcodes = lsoas.rename(columns={"lsoa21_code": "lsoa_code", "ward24_code": "ward_code"})
    postcodes = postcodes.assign(postcode=postcodes["lsoa_code"])
    return population, postcodes


def build_children(
    population: pd.DataFrame,
    postcodes: pd.DataFrame,
    settings: pd.DataFrame,
    places: pd.DataFrame,
    packages: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    seed: int,
    reach_km: dict[str, float],
    need_mix: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """children.csv: one synth_children draw per package, then shuffled and numbered.

    Continuing children follow the package's SEN2 group mix (by setting type, split within a
    group by the places open); homes from ``population`` / ``postcodes`` (as
    :func:`optimiser.synth.cohort.synth_children` takes them). With ``need_mix`` (package ×
    need, :func:`need_mix_by_package`) each child also gets the SEN2 ``primary_need`` it
    stands for.
    """
    ptype = places.merge(settings[["setting_id", "setting_type"]], on="setting_id")
    group_of = SETTING_GROUP
    ptype["group"] = ptype["setting_type"].map(group_of)
    parts = []
    want_of = {
        (str(g), str(p)): float(v) for p, col in demand.to_dict().items() for g, v in col.items()
    }
    for j, package_id in enumerate(demand.columns):
        n = int(demand[package_id].sum())
        if n == 0:
            continue
        by_type = ptype[ptype["package_id"] == package_id].groupby("setting_type")["places"].sum()
        n_to_place = round(n * TO_PLACE_SHARE)
        # Specialist post-16 places are all continuing (a new 16-year-old is placed in a
        # cheaper special school while one has room, so free SPI places would stay empty);
        # the other groups share the rest of the continuing children by their SEN2 counts.
        spi = min(want_of.get(("spi", str(package_id)), 0.0), float(n - n_to_place))
        rest = (n - n_to_place - spi) / max(n - spi, 1.0)
        mix = {}
        for t, v in by_type.items():
            g = group_of.get(str(t))
            if g is None:
                continue
            in_group = by_type[[x for x in by_type.index if group_of.get(str(x)) == g]].sum()
            want = want_of[(g, str(package_id))] * (1.0 if g == "spi" else rest)
            mix[str(t)] = want / max(n - n_to_place, 1) * float(v) / float(in_group)
        parts.append(
            synth_children(
                population,
                postcodes,
                settings,
                places,
                packages,
                n_children=n,
                seed=seed + 101 * (j + 1),
                need_mix=pd.Series({package_id: 1.0}),
                n_to_place=n_to_place,
                continuing_mix=mix,
                reach_km=reach_km,
                to_place_age_weights=TO_PLACE_AGES,
            )
        )
    kids = pd.concat(parts, ignore_index=True)
    if need_mix is not None:
        kids["primary_need"] = assign_needs(
            kids["package_id"], need_mix, np.random.default_rng(seed + 7)
        )
    return finalise_children(kids, np.random.default_rng(seed)).sort_values(
        "child_id", ignore_index=True
    )
