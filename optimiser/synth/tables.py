"""Tables shared by the synthetic generators: packages, need mix, costs and column orders.

The placeholder SPP table, need weights and default costs below are the
proposed configurable defaults of ``shared/research/domain-facts.md`` (§1.1,
§4); they are *generator* defaults, replaced by the DfE list when published.
:func:`place_slots` and :func:`finalise_children` are the steps that both
generators (:mod:`optimiser.synth.cohort`, :mod:`optimiser.synth.benchmark`)
apply to their settings, places and children.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "CHILD_COLUMNS",
    "ELIGIBLE_SETTING_TYPES",
    "ENGLAND_NEED_PC",
    "PLACEHOLDER_NEED_WEIGHTS",
    "PLACEHOLDER_PACKAGES",
    "SETTING_COLUMNS",
    "SETTING_TYPE_COST_GBP",
    "STATE_SPECIAL_COST_GBP",
    "default_costing_framework",
    "finalise_children",
    "need_mix_from_primary_need",
    "place_slots",
    "placeholder_packages",
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
#: Columns of a generated children table, in file order.
CHILD_COLUMNS = [
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


# --------------------------------------------------------------------------- frames


def place_slots(settings: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Places joined to their setting's type, ages and location (one row per slot)."""
    cols = ["setting_id", "setting_type", "age_min", "age_max", "easting", "northing"]
    slots = places.merge(settings[cols], on="setting_id", how="left", validate="many_to_one")
    slots = slots[slots["places"] > 0].sort_values(["setting_id", "package_id"])
    return slots.reset_index(drop=True)


def finalise_children(
    kids: pd.DataFrame, rng: np.random.Generator, *, prefix: str = "C"
) -> pd.DataFrame:
    """Shuffle rows (ids reveal nothing), assign pseudonymous ids and the output columns."""
    kids = kids.iloc[rng.permutation(len(kids))].reset_index(drop=True)
    width = max(5, len(str(len(kids))))
    kids["child_id"] = [f"{prefix}{i + 1:0{width}d}" for i in range(len(kids))]
    for c in ("age", "easting", "northing"):
        kids[c] = kids[c].astype(int)
    cols = list(CHILD_COLUMNS)
    if "primary_need" in kids.columns:  # optimiser init: the SEN2 need each child stands for
        cols.insert(cols.index("package_id") + 1, "primary_need")
    return kids[cols]
