"""The publish workbook's tables: every count from one release (:mod:`.release`).

Counts are the release's (1-7 and the cells protecting them "c", others rounded
to 5); shares and £ per child are worked out from the published figures
(:meth:`Release.share`, :meth:`Release.per_child`); £ totals, means and
minutes are shown only beside a published, non-zero count, rounded. Nothing
child-level, and no figure about one child (the longest journey, reasons
with a child's numbers) is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np
import pandas as pd

from optimiser._errors import DisclosureError
from optimiser.allocation.kpis import PHASES, phase_places
from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.dataset.wards import child_wards
from optimiser.disclosure import (
    SUPPRESSED,
    check_publishable,
    is_publishable_count,
    publish_change,
    publish_count,
    round_gbp,
)
from optimiser.reports.release import BASELINE, LA_KPIS, Release, build_release

__all__ = [
    "published_comparison",
    "published_horizon",
    "published_inmss",
    "published_kpis",
    "published_sufficiency",
    "published_transport",
    "published_unplaced",
    "published_wards",
    "release_for",
]

Figure = int | float | str
#: KPIs about one child or whose counts are not published: withheld in publish mode.
_WITHHELD = frozenset(
    {"max_travel_min", "first_preference_share", "mainstream_preference_met_share"}
)
#: £ totals over a count of children: shown only beside that count (a total over one
#: child at a public fee would give the count away).
#: (total_cost_gbp and unplaced_cost_gbp: from the published parts and unplaced count, below)
_GBP_GATES = {
    "total_cost_gbp": "placed",
    "place_cost_gbp": "placed",
    "transport_cost_gbp": "transported",
    "inmss_cost_gbp": "inmss",
}
_COUNT_COLUMNS = {
    "demand": "demand_children",
    "placed": "placed_children",
    "inmss": "inmss_children",
    "unplaced": "unplaced_children",
}


def release_for(
    ds: Dataset, res: AllocationResult, options: Mapping[str, AllocationResult] | None = None
) -> Release:
    """The release of ``res`` (the baseline) and any options (name → allocation)."""
    results = {BASELINE: res}
    results.update({k: v for k, v in (options or {}).items() if k != BASELINE})
    return build_release(ds, results)


def _counts(release: Release, scenario: str, table: str) -> pd.DataFrame:
    wide = release.table(scenario, table)
    return wide.rename(columns=_COUNT_COLUMNS)


def published_sufficiency(
    release: Release, res: AllocationResult, *, ds: Dataset | None = None
) -> pd.DataFrame:
    """Package × phase: places (public), demand, placed, INMSS and unplaced children.

    The working places put a setting's places where its placed children are first
    (:func:`optimiser.allocation.kpis.phase_places`): a row with no spare place would
    show its exact placed count. Published places use public information only, each
    setting's places split over phases by age overlap in whole places ("c" without ``ds``).
    """
    suff = res.sufficiency
    counts = _counts(release, BASELINE, "phase")
    keys = suff["package_id"].astype(str) + "|" + suff["phase"].astype(str)
    out = suff[["package_id", "phase"]].reset_index(drop=True)
    if ds is None:
        out["places"] = SUPPRESSED
    else:
        packages = pd.Index(ds.packages["package_id"])
        by_age = pd.Series(
            phase_places(ds, packages).ravel().astype(int),
            index=pd.MultiIndex.from_product([packages, PHASES]),
        )
        rows = pd.MultiIndex.from_arrays([out["package_id"], out["phase"]])
        out["places"] = by_age.reindex(rows).to_numpy()
    for col in _COUNT_COLUMNS.values():
        out[col] = counts[col].reindex(keys.to_numpy()).to_numpy()
    check_publishable(out)
    return out


def published_wards(ds: Dataset, release: Release, res: AllocationResult) -> pd.DataFrame:
    """By home ward: counts, INMSS share, transport £ (total and per placed child), mean journey."""
    counts = _counts(release, BASELINE, "ward")
    counts = counts[counts.index != ""]
    pl = res.placements.assign(ward_code=child_wards(ds, res.placements["child_id"]).to_numpy())
    g = pl.groupby("ward_code")
    cost = g["transport_cost_gbp"].sum()
    minutes = g["travel_min"].mean()
    names = (
        ds.wards.set_index("ward_code")["ward_name"].astype(str)
        if ds.wards is not None
        else pd.Series(dtype=object)
    )
    rows = []
    for code, r in counts.iterrows():
        placed = r["placed_children"]
        rows.append(
            {
                "ward_code": code,
                "ward_name": str(names.get(code, "")),
                **{c: r[c] for c in _COUNT_COLUMNS.values()},
                "inmss_share": Release.share(r["inmss_children"], placed),
                "transport_cost_gbp": Release.gated(float(cost.get(code, 0.0)), placed, 100),
                "transport_gbp_per_child": Release.per_child(float(cost.get(code, 0.0)), placed),
                "mean_travel_min": Release.gated(float(minutes.get(code, np.nan)), placed, 1),
            }
        )
    columns = ["ward_code", "ward_name", *_COUNT_COLUMNS.values(), "inmss_share"]
    columns += ["transport_cost_gbp", "transport_gbp_per_child", "mean_travel_min"]
    out = pd.DataFrame(rows, columns=columns).sort_values("ward_code").reset_index(drop=True)
    check_publishable(out)
    return out


def published_inmss(ds: Dataset, release: Release) -> pd.DataFrame:
    """INMSS setting × package with children placed there (published) and its listed fee."""
    counts = release.table(BASELINE, "inmss")["inmss"]
    counts = counts[counts != 0]
    settings = ds.settings.drop_duplicates("setting_id").set_index("setting_id")
    fees = ds.places.assign(
        key=ds.places["setting_id"].astype(str) + "|" + ds.places["package_id"].astype(str)
    ).set_index("key")["annual_cost_gbp"]
    fees = fees[~fees.index.duplicated()]
    rows = []
    for key, n in counts.items():
        sid, pkg = str(key).split("|", 1)
        fee = fees.get(key, np.nan)
        rows.append(
            {
                "setting_id": sid,
                "name": str(settings["name"].get(sid, "")),
                "setting_type": str(settings["setting_type"].get(sid, "")),
                "package_id": pkg,
                "inmss_children": n,
                "fee_gbp": SUPPRESSED if fee != fee else round_gbp(float(fee), 10),
            }
        )
    columns = ["setting_id", "name", "setting_type", "package_id", "inmss_children", "fee_gbp"]
    out = pd.DataFrame(rows, columns=columns)
    out = out.sort_values(["setting_id", "package_id"]).reset_index(drop=True)
    check_publishable(out)
    return out


def published_transport(release: Release, res: AllocationResult) -> pd.DataFrame:
    """By setting type: children placed, transport £ (total, per child), mean journey."""
    counts = release.table(BASELINE, "type")["placed"]
    g = res.placements.groupby("setting_type")
    cost, minutes = g["transport_cost_gbp"].sum(), g["travel_min"].mean()
    rows = [
        {
            "setting_type": t,
            "placed_children": n,
            "transport_cost_gbp": Release.gated(float(cost.get(t, 0.0)), n, 100),
            "transport_gbp_per_child": Release.per_child(float(cost.get(t, 0.0)), n),
            "mean_travel_min": Release.gated(float(minutes.get(t, np.nan)), n, 1),
        }
        for t, n in counts.items()
    ]
    columns = ["setting_type", "placed_children", "transport_cost_gbp"]
    columns += ["transport_gbp_per_child", "mean_travel_min"]
    out = pd.DataFrame(rows, columns=columns).sort_values("setting_type").reset_index(drop=True)
    check_publishable(out)
    return out


def published_unplaced(release: Release) -> pd.DataFrame:
    """Unplaced children by package and reason category (no child's numbers)."""
    columns = ["package_id", "reason", "unplaced_children"]
    try:
        counts = release.table(BASELINE, "reason")["unplaced"]
    except KeyError:  # nobody unplaced: the release has no reason cells
        return pd.DataFrame(columns=columns)
    rows = [(*str(k).split("|", 1), n) for k, n in counts.items()]
    out = pd.DataFrame(rows, columns=columns).sort_values(columns[:2]).reset_index(drop=True)
    check_publishable(out)
    return out


def published_kpis(
    release: Release, kpis: Mapping[str, float], scenario: str = BASELINE
) -> dict[str, Figure]:
    """One option's headline KPIs as published (the Summary sheet, a Comparison column)."""
    la = release.table(scenario, "la").iloc[0]
    phase = release.table(scenario, "phase")
    by_kpi = {kpi: la[m] for m, kpi in LA_KPIS.items() if kpi}
    out: dict[str, Figure] = {}
    for key, value in kpis.items():
        if key in by_kpi:
            out[key] = by_kpi[key]
        elif key in _WITHHELD:
            out[key] = SUPPRESSED
        elif key == "inmss_share":
            out[key] = Release.share(la["inmss"], la["placed"])
        elif key == "travelling_alone_share":
            out[key] = Release.share(la["alone"], la["transported"])
        elif key == "transport_cost_per_transported_child_gbp":
            out[key] = Release.per_child(float(kpis["transport_cost_gbp"]), la["transported"])
        elif key == "mean_travel_min":
            out[key] = Release.gated(float(value), la["placed"], 1)
        elif key in _GBP_GATES:
            out[key] = Release.gated(float(value), la[_GBP_GATES[key]], 100)
        elif key.endswith("_gbp"):
            out[key] = round_gbp(float(value), 100)
        elif key.startswith(("placed_children_", "unplaced_children_")):
            measure, _, rest = key.partition("_children_")
            pkg, _, ph = rest.rpartition("_")
            out[key] = cast(Figure, phase.at[f"{pkg}|{ph}", measure])
        else:
            msg = f"no publish rule for the KPI {key!r}; add one to optimiser.reports.published"
            raise KeyError(msg)
    if "unplaced_cost_gbp" in kpis:  # beside the published unplaced count only
        out["unplaced_cost_gbp"] = Release.unplaced_cost(
            float(kpis["unplaced_cost_gbp"]), float(kpis["unplaced_children"]), la["unplaced"], 100
        )
    if "total_cost_gbp" in kpis:  # the sum of the published parts: no part is a difference
        out["total_cost_gbp"] = Release.total_cost(
            out.get("place_cost_gbp", SUPPRESSED),
            out.get("transport_cost_gbp", SUPPRESSED),
            out.get("unplaced_cost_gbp", 0),
        )
    counts = [k for k in out if k in by_kpi or k.startswith(("placed_children_", "unplaced_"))]
    counts = [k for k in counts if not k.endswith("_gbp")]
    if bad := [k for k in counts if not is_publishable_count(out[k])]:
        msg = f"internal error: KPI count(s) {bad} are not disclosure-controlled; nothing written"
        raise DisclosureError(msg)
    return out


def published_comparison(release: Release, kpis: pd.DataFrame) -> pd.DataFrame:
    """The Comparison sheet: each option's published KPIs, then changes of published figures."""
    options = list(kpis.columns)
    table = pd.DataFrame(
        {
            name: pd.Series(
                published_kpis(release, {str(k): float(v) for k, v in kpis[name].items()}, name),
                dtype="object",
            )
            for name in options
        },
        index=kpis.index,
        dtype=object,
    )
    for name in options[1:]:
        table[f"change: {name}"] = [
            _change(str(m), cast(Figure, table.at[m, name]), cast(Figure, table.at[m, options[0]]))
            for m in table.index
        ]
    return table.rename_axis("measure").reset_index()


def _change(measure: str, after: Figure, before: Figure) -> Figure:
    change = publish_change(after, before)
    if isinstance(change, float) and measure.endswith("_share"):
        return round(change, 2)
    return change


def published_horizon(horizon: pd.DataFrame, release: Release) -> pd.DataFrame:
    """The horizon by year: counts through the rule (year 0 as the release shows it),
    shares from the published counts, £ to £100, places whole."""
    out = pd.DataFrame({"year": horizon["year"].astype(int)})
    la = release.table(BASELINE, "la").iloc[0]
    year0 = {"demand_children": la["demand"], "placed_children": la["placed"]}
    year0 |= {"unplaced_children": la["unplaced"], "inmss_children": la["inmss"]}
    for col in horizon.columns:
        name = str(col)
        if name == "year":
            continue
        if name.endswith("_children"):
            values = [publish_count(float(v)) for v in horizon[col]]
            if name in year0 and len(values) and int(horizon["year"].iloc[0]) == 0:
                values[0] = year0[name]
            out[name] = values
        elif name.endswith("_gbp"):
            out[name] = [round_gbp(float(v), 100) for v in horizon[col]]
        elif name == "places":
            out[name] = horizon[col].round(0).astype(int)
    if "unplaced_cost_gbp" in horizon:  # beside the published count; total from the parts
        out["unplaced_cost_gbp"] = [
            Release.unplaced_cost(float(c), float(n), p, 100)
            for c, n, p in zip(
                horizon["unplaced_cost_gbp"],
                horizon["unplaced_children"],
                out["unplaced_children"],
                strict=True,
            )
        ]
        out["total_cost_gbp"] = [
            Release.total_cost(*parts)
            for parts in zip(
                out["place_cost_gbp"],
                out["transport_cost_gbp"],
                out["unplaced_cost_gbp"],
                strict=True,
            )
        ]
    if "inmss_share" in horizon:
        out["inmss_share"] = [
            Release.share(a, b)
            for a, b in zip(out["inmss_children"], out["placed_children"], strict=True)
        ]
    check_publishable(out)
    return out
