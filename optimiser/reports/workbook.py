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

import pandas as pd

from optimiser._outputs import atomic_output, check_outputs
from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.model import Dataset
from optimiser.dataset.wards import child_wards
from optimiser.reports.calibration import calibration_for_workbook
from optimiser.reports.labels import format_kpis
from optimiser.reports.published import (
    published_comparison,
    published_horizon,
    published_inmss,
    published_kpis,
    published_sufficiency,
    published_transport,
    published_unplaced,
    published_wards,
    release_for,
)
from optimiser.reports.release import Release
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
    calibration: pd.DataFrame | None = None


def build_tables(
    ds: Dataset,
    res: AllocationResult,
    *,
    publish: bool = False,
    comparison: Comparison | None = None,
    horizon: HorizonResult | None = None,
    release: Release | None = None,
) -> WorkbookTables:
    """Every sheet's table; in publish mode every count comes from one disclosure release.

    ``release`` (publish mode): the :class:`~optimiser.reports.release.Release` of
    ``res`` and the comparison's options; built here when not given.
    """
    if publish:
        return _published_tables(ds, res, comparison, horizon, release)
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
    return WorkbookTables(
        summary=pd.DataFrame(format_kpis(res.kpis), columns=["measure", "value"]),
        sufficiency=suff,
        wards=_ward_table(ds, res),
        inmss=_inmss_table(ds, res),
        transport=_transport_table(res),
        unplaced=unplaced,
        comparison=None if comparison is None else _comparison_table(comparison),
        horizon=None if horizon is None else horizon.years,
        placements=res.placements,
        calibration=calibration_for_workbook(ds, res),
    )


def _published_tables(
    ds: Dataset,
    res: AllocationResult,
    comparison: Comparison | None,
    horizon: HorizonResult | None,
    release: Release | None,
) -> WorkbookTables:
    """The publish workbook: no child-level rows; every count from the release."""
    if release is None:
        release = release_for(ds, res, comparison.results if comparison else None)
    return WorkbookTables(
        summary=pd.DataFrame(
            format_kpis(published_kpis(release, res.kpis)), columns=["measure", "value"]
        ),
        sufficiency=published_sufficiency(release, res, ds=ds),
        wards=published_wards(ds, release, res),
        inmss=published_inmss(ds, release),
        transport=published_transport(release, res),
        unplaced=published_unplaced(release),
        comparison=None if comparison is None else published_comparison(release, comparison.kpis),
        horizon=None if horizon is None else published_horizon(horizon.years, release),
        placements=None,
        calibration=calibration_for_workbook(ds, res, release),
    )


def _ward_table(ds: Dataset, res: AllocationResult) -> pd.DataFrame:
    """Children by home ward: demand, placed, INMSS, unplaced, transport, journey time."""
    p = res.placements.assign(ward_code=child_wards(ds, res.placements["child_id"]).to_numpy())
    u = res.unplaced.assign(ward_code=child_wards(ds, res.unplaced["child_id"]).to_numpy())
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


def _comparison_table(cmp: Comparison) -> pd.DataFrame:
    deltas = cmp.deltas.add_prefix("change: ")
    return pd.concat([cmp.kpis, deltas], axis=1).rename_axis("measure").reset_index()


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
