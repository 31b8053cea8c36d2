"""The planner's XLSX workbook (xlsxwriter): KPIs, comparison, sufficiency, INMSS, transport,
unplaced children and the multi-year horizon, with charts.

Two modes share one switch with the maps:

* ``working`` — exact figures, a placements sheet and child-level unplaced rows
  (pseudonymous ids only); for the LA's own officers.
* ``publish`` — no child-level rows at all; every count below LA level passes
  through :mod:`optimiser.disclosure` (1-7 → "c", others rounded to 5) and
  derived figures on small bases are withheld.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from optimiser._outputs import atomic_output, check_outputs
from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.model import Dataset
from optimiser.disclosure import (
    SUPPRESSED,
    publish_change,
    publish_count,
    publish_share,
    publish_table,
    round_gbp,
    round_share,
)
from optimiser.reports.labels import format_kpis
from optimiser.reports.xlsx import write_tables
from optimiser.scenarios.compare import Comparison, compare_scenarios
from optimiser.scenarios.horizon import HorizonResult, roll_forward
from optimiser.scenarios.scenario import Scenario
from optimiser.schema.tables import INMSS_TYPES


@dataclass(frozen=True)
class WorkbookTables:
    """The tables a workbook holds, as DataFrames (also used by the tests)."""

    summary: pd.DataFrame
    sufficiency: pd.DataFrame
    wards: pd.DataFrame
    inmss: pd.DataFrame
    transport: pd.DataFrame
    unplaced: pd.DataFrame
    comparison: pd.DataFrame | None
    horizon: pd.DataFrame | None
    placements: pd.DataFrame | None


def build_tables(
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool = False,
    comparison: Comparison | None = None,
    horizon: HorizonResult | None = None,
) -> WorkbookTables:
    """Every sheet's table, disclosure-controlled when ``publish``."""
    wards = _ward_table(ds, res)
    inmss = _inmss_table(ds, res)
    transport = _transport_table(res)
    unplaced = (
        res.unplaced.groupby(["package_id", "reason"])
        .size()
        .rename("unplaced_children")
        .reset_index()
    )
    suff = res.sufficiency.rename(
        columns={
            "demand": "demand_children",
            "placed": "placed_children",
            "placed_inmss": "inmss_children",
            "unplaced": "unplaced_children",
        }
    )
    if publish:
        counts = ["demand_children", "placed_children", "inmss_children", "unplaced_children"]
        suff = publish_table(suff, counts=counts, keep=["package_id", "phase", "places"])
        wards = wards.assign(other_placed=wards["placed_children"] - wards["inmss_children"])
        wards = publish_table(
            wards,
            counts=[str(c) for c in wards.columns if str(c).endswith("_children")],
            derived={
                "inmss_share": ("placed_children", "inmss_children", "other_placed"),
                "transport_gbp_per_child": "placed_children",
                "mean_travel_min": "placed_children",
            },
            keep=["ward_code", "ward_name"],
        )
        inmss = publish_table(
            inmss,
            counts=["inmss_children"],
            derived={"fee_gbp": "inmss_children"},
            keep=["setting_id", "name", "setting_type", "package_id"],
        )
        transport = publish_table(
            transport,
            counts=["placed_children"],
            derived={
                "transport_cost_gbp": "placed_children",
                "transport_gbp_per_child": "placed_children",
                "mean_travel_min": "placed_children",
            },
            keep=["setting_type"],
        )
        unplaced = publish_table(
            unplaced, counts=["unplaced_children"], keep=["package_id", "reason"]
        )
        wards, inmss, transport = (_round_derived(t) for t in (wards, inmss, transport))
    return WorkbookTables(
        summary=pd.DataFrame(
            format_kpis(_summary_kpis(res.kpis, publish)), columns=["measure", "value"]
        ),
        sufficiency=suff,
        wards=wards,
        inmss=inmss,
        transport=transport,
        unplaced=unplaced,
        comparison=None if comparison is None else _comparison_table(comparison, publish=publish),
        horizon=None if horizon is None else horizon.years,
        placements=None if publish else res.placements,
    )


def _round_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """Published derived figures rounded: shares to whole %, £ per child and fees to £10,
    other £ to £100, minutes whole ("c" stays "c")."""
    out = frame.copy()
    for col in out.columns:
        name = str(col)
        if name.endswith("_share"):
            out[col] = [round_share(v) for v in out[col]]
        elif name.endswith("_per_child") or name == "fee_gbp":
            out[col] = [round_gbp(v, 10) for v in out[col]]
        elif name.endswith("_gbp"):
            out[col] = [round_gbp(v, 100) for v in out[col]]
        elif name.endswith("_min"):
            out[col] = [v if v == SUPPRESSED or v != v else round(v) for v in out[col]]
    return out


def _ward_table(ds: Dataset, res: AllocationResult) -> pd.DataFrame:
    """Children by home ward: demand, placed, INMSS, unplaced, transport, journey time."""
    ward_of = ds.children.set_index("child_id")["ward_code"]
    p = res.placements.assign(ward_code=res.placements["child_id"].map(ward_of))
    u = res.unplaced.assign(ward_code=res.unplaced["child_id"].map(ward_of))
    g = p.groupby("ward_code")
    table = pd.DataFrame(
        {
            "placed_children": g.size(),
            "inmss_children": p[p["setting_type"].isin(INMSS_TYPES)].groupby("ward_code").size(),
            "unplaced_children": u.groupby("ward_code").size(),
            "transport_cost_gbp": g["transport_cost_gbp"].sum(),
            "mean_travel_min": g["travel_min"].mean(),
        }
    ).fillna({"placed_children": 0, "inmss_children": 0, "unplaced_children": 0})
    table["demand_children"] = table["placed_children"] + table["unplaced_children"]
    table["inmss_share"] = table["inmss_children"] / table["placed_children"].where(
        table["placed_children"] > 0
    )
    table["transport_gbp_per_child"] = table["transport_cost_gbp"] / table["placed_children"].where(
        table["placed_children"] > 0
    )
    names = (
        ds.wards.set_index("ward_code")["ward_name"]
        if ds.wards is not None
        else pd.Series(dtype=object)
    )
    table = table.rename_axis("ward_code").reset_index()
    table.insert(1, "ward_name", table["ward_code"].map(names).astype(object).fillna(""))
    return table[table["ward_code"] != ""].sort_values("ward_code").reset_index(drop=True)


def _inmss_table(ds: Dataset, res: AllocationResult) -> pd.DataFrame:
    p = res.placements[res.placements["setting_type"].isin(INMSS_TYPES)]
    names = ds.settings.set_index("setting_id")["name"]
    out = (
        p.groupby(["setting_id", "setting_type", "package_id"])
        .agg(
            inmss_children=("child_id", "size"),
            fee_gbp=("place_cost_gbp", "mean"),
            place_cost_gbp=("place_cost_gbp", "sum"),
        )
        .reset_index()
    )
    out.insert(1, "name", out["setting_id"].map(names))
    return out.sort_values("place_cost_gbp", ascending=False).reset_index(drop=True)


def _transport_table(res: AllocationResult) -> pd.DataFrame:
    g = res.placements.groupby("setting_type")
    out = pd.DataFrame(
        {
            "placed_children": g.size(),
            "transport_cost_gbp": g["transport_cost_gbp"].sum(),
            "mean_travel_min": g["travel_min"].mean(),
        }
    )
    out["transport_gbp_per_child"] = out["transport_cost_gbp"] / out["placed_children"]
    return out.reset_index()


def _comparison_table(cmp: Comparison, *, publish: bool = False) -> pd.DataFrame:
    if publish:
        return _published_comparison(cmp)
    deltas = cmp.deltas.add_prefix("change: ")
    return pd.concat([cmp.kpis, deltas], axis=1).rename_axis("measure").reset_index()


#: A published figure: a number or "c".
Published = float | int | str

#: Shares on the Comparison sheet -> (numerator count, denominator count) among the KPIs;
#: a share whose counts are not among the KPIs (None) is withheld in publish mode.
_SHARE_BASES: dict[str, tuple[str, str] | None] = {
    "inmss_share": ("inmss_children", "placed_children"),
    "travelling_alone_share": ("", "transported_children"),
    "first_preference_share": None,
    "mainstream_preference_met_share": None,
}
#: £ per child on the Comparison sheet -> the count of children it divides by.
_PER_CHILD_BASES = {"transport_cost_per_transported_child_gbp": "transported_children"}


def _published_value(measure: str, column: pd.Series) -> float | int | str:
    """One option's figure for ``measure`` as published (column: that option's KPIs)."""
    value = float(column[measure])
    if measure in _PER_CHILD_BASES:
        base = float(column.get(_PER_CHILD_BASES[measure], float("nan")))
        return SUPPRESSED if publish_count(base) == SUPPRESSED else round_gbp(value, 10)
    if measure.endswith("_gbp"):
        return round_gbp(value, 100)
    if measure.endswith("_share"):
        bases = _SHARE_BASES.get(measure)
        if bases is None:
            return SUPPRESSED  # its counts are not published beside it
        num_key, den_key = bases
        den = float(column.get(den_key, float("nan")))
        num = float(column[num_key]) if num_key else value * den
        if den != den:
            return SUPPRESSED
        return round_share(publish_share(round(num), den))
    if measure.endswith("_min"):
        return SUPPRESSED if value != value else round(value)
    return publish_count(value)  # every other measure is a count of children


def _summary_kpis(kpis: dict[str, float], publish: bool) -> dict[str, float | str]:
    """The Summary sheet's KPIs: exact, or through the same rules as the Comparison sheet."""
    if not publish:
        return dict(kpis)
    column = pd.Series(kpis, dtype=float)
    return {key: _published_value(key, column) for key in kpis}


def _published_comparison(cmp: Comparison) -> pd.DataFrame:
    """The Comparison sheet in publish mode: every figure through the disclosure rules.

    Counts 1-7 → "c", other counts rounded to 5; shares to whole %, only when the
    counts behind them are published; £ per child to £10, £ totals to £100,
    minutes whole; changes computed from the published figures.
    """
    options = list(cmp.kpis.columns)
    table = pd.DataFrame(
        {name: [_published_value(m, cmp.kpis[name]) for m in cmp.kpis.index] for name in options},
        index=cmp.kpis.index,
        dtype=object,
    )
    for name in cmp.deltas.columns:
        table[f"change: {name}"] = [
            _published_change(
                m, cast(Published, table.at[m, name]), cast(Published, table.at[m, options[0]])
            )
            for m in table.index
        ]
    return table.rename_axis("measure").reset_index()


def _published_change(
    measure: str, after: float | int | str, before: float | int | str
) -> float | int | str:
    change = publish_change(after, before)
    if isinstance(change, float) and measure.endswith("_share"):
        return round(change, 2)
    return change


def write_workbook(
    ds: Dataset,
    path: str | Path,
    *,
    scenarios: Sequence[Scenario] = (),
    years: int = 5,
    publish: bool = False,
) -> Path:
    """Solve ``ds`` (and any scenarios and the horizon) and write the workbook to ``path``.

    Refuses to overwrite an existing file (checked before any work); the workbook is
    written to a temporary file in the same folder and then published, so nothing is
    ever half-written.
    """
    path = Path(path)
    check_outputs(path)
    cmp = compare_scenarios(ds, list(scenarios)) if scenarios else None
    res = cmp.results["baseline"] if cmp else allocate(ds)
    hz = roll_forward(ds, years=years) if years > 0 else None
    tables = build_tables(ds, res, publish=publish, comparison=cmp, horizon=hz)
    with atomic_output(path) as tmp:
        write_tables(tables, tmp, title=ds.name, publish=publish, note=ds.credit)
    return path
