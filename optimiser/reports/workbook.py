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

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from optimiser._errors import OutputError
from optimiser._outputs import atomic_output, check_outputs, write_csv_output
from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.model import Dataset
from optimiser.dataset.wards import child_wards
from optimiser.reports.calibration import calibration_for_workbook
from optimiser.reports.labels import kpi_label, kpi_rows, kpi_unit
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
from optimiser.reports.release import BASELINE, Release
from optimiser.reports.xlsx import write_comparison_sheet, write_tables
from optimiser.scenarios.compare import Comparison, compare_scenarios
from optimiser.scenarios.horizon import HorizonResult, roll_forward
from optimiser.scenarios.scenario import Scenario
from optimiser.schema.tables import INMSS_TYPES


@dataclass(frozen=True)
class WorkbookTables:
    """The tables a workbook holds, as DataFrames (also used by the tests).

    Columns keep their names (``demand_children``); the sheets show them in plain
    English (:func:`~optimiser.reports.labels.column_label`). ``summary`` has ``kpi``
    (the key), ``measure`` (its label) and ``value`` (a number, or "c" when withheld).
    """

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
    first_year: int | None = None,
) -> WorkbookTables:
    """Every sheet's table; in publish mode every count comes from one disclosure release.

    ``release`` (publish mode): the :class:`~optimiser.reports.release.Release` of
    ``res`` and the comparison's options; built here when not given. ``first_year``:
    the calendar year in which the horizon's year 0 starts (2026 → "2026/27"); default
    the current academic year (from September).
    """
    tables = (
        _published_tables(ds, res, comparison, horizon, release)
        if publish
        else _working_tables(ds, res, comparison, horizon)
    )
    if tables.horizon is None:
        return tables
    return replace(tables, horizon=with_academic_years(tables.horizon, first_year))


def _working_tables(
    ds: Dataset,
    res: AllocationResult,
    comparison: Comparison | None,
    horizon: HorizonResult | None,
) -> WorkbookTables:
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
        summary=summary_table(res.kpis),
        sufficiency=suff,
        wards=_ward_table(ds, res),
        inmss=_inmss_table(ds, res),
        transport=_transport_table(res),
        unplaced=unplaced,
        comparison=None if comparison is None else _comparison_table(comparison),
        horizon=None if horizon is None else horizon.years,
        placements=_with_setting_names(ds, res.placements),
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
        summary=summary_table(published_kpis(release, res.kpis)),
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


def summary_table(kpis: Mapping[str, float | str]) -> pd.DataFrame:
    """The Summary sheet: kpi (key), measure (plain English), value (number or "c")."""
    return pd.DataFrame(kpi_rows(kpis), columns=["kpi", "measure", "value"])


def academic_year(start: int) -> str:
    """The academic year starting in September of ``start``: 2026 → "2026/27"."""
    return f"{start}/{(start + 1) % 100:02d}"


def current_academic_year(today: dt.date | None = None) -> int:
    """The calendar year in which the current academic year began (September to August)."""
    today = today or dt.date.today()
    return today.year if today.month >= 9 else today.year - 1


def with_academic_years(horizon: pd.DataFrame, first_year: int | None) -> pd.DataFrame:
    """The horizon with ``academic_year`` ("2026/27", …) beside each year number."""
    start = current_academic_year() if first_year is None else int(first_year)
    out = horizon.copy()
    out.insert(
        1, "academic_year", [academic_year(start + int(y)) for y in horizon["year"].tolist()]
    )
    return out


def _with_setting_names(ds: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``setting_name`` beside ``setting_id``."""
    names = ds.settings.drop_duplicates("setting_id").set_index("setting_id")["name"]
    out = frame.copy()
    at = list(out.columns).index("setting_id") + 1
    out.insert(at, "setting_name", out["setting_id"].map(names).astype(object).fillna(""))
    return out


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


def comparison_table(ds: Dataset, cmp: Comparison, *, publish: bool = False) -> pd.DataFrame:
    """The Comparison sheet alone: measure, baseline, each option, ``change: <option>``.

    Publish mode: every figure through the disclosure release of the baseline and the
    options (as in the publish workbook); changes from the published figures.
    """
    if not publish:
        return _comparison_table(cmp)
    release = release_for(ds, cmp.results[BASELINE], cmp.results)
    return published_comparison(release, cmp.kpis)


def _comparison_table(cmp: Comparison) -> pd.DataFrame:
    deltas = cmp.deltas.add_prefix("change: ")
    return pd.concat([cmp.kpis, deltas], axis=1).rename_axis("measure").reset_index()


#: Decimals of a KPI in a comparison CSV by its unit: pence, shares to 4 dp, minutes to 0.1.
_KPI_DECIMALS = {"gbp": 2, "share": 4, "min": 1, "count": 2}
COMPARISON_SUFFIXES = (".csv", ".xlsx")


def comparison_csv_table(cmp: Comparison) -> pd.DataFrame:
    """The KPI table for a CSV: measure (key), label, each option, then each change.

    Figures are rounded by the KPI's unit (money to pence, shares to 4 dp, minutes to
    0.1 min); counts keep their value (a fractional count stays fractional).
    """
    table = _comparison_table(cmp)
    keys = table["measure"].astype(str)
    places = keys.map(lambda k: _KPI_DECIMALS[kpi_unit(k)])
    figures = [c for c in table.columns if c != "measure"]
    out = table[["measure"]].assign(label=keys.map(kpi_label))
    for col in figures:
        out[col] = pd.Series(
            [_csv_figure(float(v), int(n)) for v, n in zip(table[col], places, strict=True)],
            dtype=object,
        )
    return out


def _csv_figure(value: float, places: int) -> float | int:
    """``value`` rounded to ``places``; a whole number written without ".0"."""
    if value != value:
        return value
    value = round(value, places)
    return int(value) if value.is_integer() else value


def write_comparison(cmp: Comparison, path: str | Path, *, title: str = "") -> Path:
    """Write the KPI table of ``cmp`` (baseline, options, changes) to a new .csv or .xlsx.

    Never overwrites; written atomically. The XLSX is the workbook's Comparison sheet
    (plain-English rows, £ / % / count formats); the CSV keeps each KPI's key beside
    its label, for other tools.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in COMPARISON_SUFFIXES:
        msg = f"{path}: write the comparison to a .csv or .xlsx file (found {suffix or 'none'})"
        raise OutputError(msg)
    check_outputs(path)
    if suffix == ".csv":
        return write_csv_output(comparison_csv_table(cmp), path)
    with atomic_output(path) as tmp:
        write_comparison_sheet(_comparison_table(cmp), tmp, title=title)
    return path


def write_workbook(
    ds: Dataset,
    path: str | Path,
    *,
    scenarios: Sequence[Scenario] = (),
    years: int = 5,
    publish: bool = False,
    first_year: int | None = None,
) -> Path:
    """Solve ``ds`` (and any scenarios and the horizon) and write the workbook to ``path``.

    Refuses to overwrite an existing file (checked before any work); the workbook is
    written to a temporary file in the same folder and then published, so nothing is
    ever half-written. ``first_year``: see :func:`build_tables`.
    """
    path = Path(path)
    check_outputs(path)
    cmp = compare_scenarios(ds, list(scenarios)) if scenarios else None
    res = cmp.results["baseline"] if cmp else allocate(ds)
    hz = roll_forward(ds, years=years) if years > 0 else None
    tables = build_tables(
        ds, res, publish=publish, comparison=cmp, horizon=hz, first_year=first_year
    )
    with atomic_output(path) as tmp:
        note = f"{ds.data_notice} {ds.credit}" if ds.data_notice else ds.credit
        write_tables(tables, tmp, title=ds.area_name, publish=publish, note=note)
    return path
