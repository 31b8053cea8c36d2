"""Candidate inclusion bases: the bases candidates.csv allows, their sizes and exclusion groups.

:func:`probe_bases` lists one base per (candidate site, package) the data and the
policy's ``host_exclusions`` allow (:func:`excluded_bases` lists those the policy keeps out);
:func:`size_options` makes the facilities of the siting model (base × module size
``q ≤ max_places``: the sizes of one base are a family) and the groups of options
that cannot open together at one site; :func:`bases_scenario` writes chosen bases
as a Scenario of ``add_setting`` changes.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from optimiser._errors import DataValidationError
from optimiser.dataset.model import Dataset
from optimiser.scenarios.changes import AddSetting
from optimiser.scenarios.scenario import Scenario

__all__ = [
    "EXCLUDED_COLUMNS",
    "bases_scenario",
    "excluded_bases",
    "host_rules_broken",
    "probe_bases",
    "size_options",
]


#: Columns of :func:`excluded_bases` (and of ``SitingResult.excluded_hosts``).
EXCLUDED_COLUMNS = ("site_id", "name", "urn", "package_id", "rule")


def _allowed_bases(ds: Dataset, packages: set[str]) -> pd.DataFrame:
    """One row per (candidate, package) the data allow, before the policy's host rules."""
    assert ds.candidates is not None  # build_site_instance checks candidates first
    cand = ds.candidates.copy()
    cand["package_id"] = cand["packages"].map(
        lambda v: tuple(v) if isinstance(v, tuple) else tuple(str(v).split(";"))
    )
    rows = cand.explode("package_id")
    rows = rows[rows["package_id"].isin(packages)]
    costing = (
        ds.costing
        if ds.costing is not None
        else pd.DataFrame(columns=["package_id", "setting_type", "annual_cost_gbp"])
    )
    priced = set(costing.loc[costing["setting_type"] == "inclusion_base", "package_id"])
    rows = rows[rows["package_id"].isin(priced) & (rows["max_places"].fillna(0) > 0)]
    return rows.sort_values(["site_id", "package_id"]).reset_index(drop=True)


def _attribute(rows: pd.DataFrame, column: str) -> pd.Series:
    """A host attribute, trimmed and lower-case; blank (unknown) when the column is absent."""
    if column not in rows.columns:
        return pd.Series("", index=rows.index)
    return rows[column].fillna("").astype(str).str.strip().str.lower()


def host_rules_broken(ds: Dataset, rows: pd.DataFrame) -> pd.Series:
    """The policy host rules each (candidate, package) row breaks, '; '-joined ('' = none).

    ``selective``: admissions_policy Selective; ``single_sex``: gender Boys or Girls;
    each only for the packages the policy's ``host_exclusions`` lists under it. A blank
    attribute is unknown and breaks no rule.
    """
    rules = ds.policy.host_exclusions
    matches = {
        "selective": _attribute(rows, "admissions_policy") == "selective",
        "single_sex": _attribute(rows, "gender").isin(["boys", "girls"]),
    }
    barred = {
        rule: (hit & rows["package_id"].isin(getattr(rules, rule))).to_numpy()
        for rule, hit in matches.items()
    }
    return pd.Series(
        ["; ".join(rule for rule, bar in barred.items() if bar[i]) for i in range(len(rows))],
        index=rows.index,
        dtype=object,
    )


def excluded_bases(ds: Dataset, packages: set[str]) -> pd.DataFrame:
    """The (candidate, package) bases the policy's host rules keep out, with the ``rule``.

    Columns :data:`EXCLUDED_COLUMNS`: site_id, name, urn, package_id, rule (the rules
    broken, '; '-joined).
    """
    rows = _allowed_bases(ds, packages)
    rows = rows.assign(rule=host_rules_broken(ds, rows))
    return rows.loc[rows["rule"] != "", list(EXCLUDED_COLUMNS)].reset_index(drop=True)


def probe_bases(ds: Dataset, packages: set[str]) -> pd.DataFrame:
    """One row per (candidate, package) base the data and policy allow, with its setting_id.

    Bases whose host the policy's ``host_exclusions`` rules out are left out
    (:func:`excluded_bases` lists them).
    """
    rows = _allowed_bases(ds, packages)
    rows = rows[host_rules_broken(ds, rows) == ""]
    rows = rows.assign(setting_id="NEW-" + rows["site_id"].astype(str) + "-" + rows["package_id"])
    taken = set(ds.settings["setting_id"])
    if rows["setting_id"].isin(taken).any():
        msg = "a setting id NEW-<site_id>-<package_id> already exists in settings.csv; rename it."
        raise DataValidationError(msg)
    return rows.reset_index(drop=True)


def _base_change(row: pd.Series, places: int, capital: float) -> AddSetting:
    urn = row.get("urn")
    return AddSetting(
        setting_id=row["setting_id"],
        name=f"{row['name']} {row['package_id']} base",
        setting_type="inclusion_base",
        easting=float(row["easting"]),
        northing=float(row["northing"]),
        age_min=int(row["age_min"]),
        age_max=int(row["age_max"]),
        places={row["package_id"]: int(places)},
        urn=None if pd.isna(urn) else int(urn),
        capital_cost_gbp=float(capital),
    )


def bases_scenario(rows: pd.DataFrame, name: str) -> Scenario:
    """A Scenario adding one inclusion base per row (its places and capital_cost_gbp)."""
    return Scenario(
        name=name,
        changes=tuple(
            _base_change(r, r["places"], r["capital_cost_gbp"]) for _, r in rows.iterrows()
        ),
    )


def size_options(
    probe: pd.DataFrame, cost_sp: np.ndarray, sizes: tuple
) -> tuple[pd.DataFrame, list[list[int]]]:
    """Facilities (probe base × size, only bases some zone may use) and their groups."""
    usable = np.isfinite(cost_sp).any(axis=1)
    rows = [
        (k, q)
        for k in np.flatnonzero(usable)
        for q in sorted(set(sizes))
        if q <= int(cast(float, probe.at[k, "max_places"]))
    ]
    opts = pd.DataFrame(rows, columns=["k", "places"], dtype=np.int64)
    opts = opts.join(probe, on="k")
    opts["capital_cost_gbp"] = opts["places"] * opts["capital_cost_gbp_per_place"].astype(float)
    groups: list[list[int]] = []
    for _, at_site in opts.groupby("site_id", sort=True):
        by_pkg = [g.index.tolist() for _, g in at_site.groupby("package_id", sort=True)]
        if len(by_pkg) >= 3:
            groups.append(at_site.index.tolist())
            continue
        if len(by_pkg) == 2:
            cap = int(at_site["max_places"].iloc[0])
            groups += [
                [a, b]
                for a in by_pkg[0]
                for b in by_pkg[1]
                if cast(int, opts.at[a, "places"]) + cast(int, opts.at[b, "places"]) > cap
            ]
    return opts, groups
