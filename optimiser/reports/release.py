"""The publish release: every count a publish output shows, disclosure-controlled together.

Every publish output (the ``--publish`` workbook, publish maps, the members'
pack) takes its counts of children from one :class:`Release`, so a figure is
the same wherever it appears and no sheet or file can undo another's
suppression. :func:`build_release` does, for a baseline and any options:

1. **cells**: each count a publish output can show, by table (``la``,
   ``ward``, ``phase`` = package × phase, ``setting``, ``inmss`` = INMSS
   setting × package, ``type`` = setting type, ``reason`` = package × reason
   category), plus *hidden* cells that are never shown but that a reader knows
   exist (children placed outside INMSS, package totals, children living
   outside every ward, the untransported); each with the linear relations a
   reader knows (``docs/disclosure.md`` §5): LA = Σ wards = Σ package × phase,
   demand = placed + unplaced, placed = INMSS + other, package = Σ phases =
   Σ INMSS settings = Σ reasons, LA placed = Σ setting types = Σ settings, a
   type = Σ its settings, an INMSS setting = Σ its packages;
2. **primary suppression and rounding** (:mod:`optimiser.disclosure`): 1-7 → "c",
   others to the nearest 5, 0 exact;
3. **secondary suppression** (:func:`optimiser.suppression.secondary_suppression`,
   the reader knowing published cells only within their rounding band), first
   for the baseline alone, then for each option against the baseline as already
   published: a figure's fate never depends on which other options are in the
   same run, so two runs publishing different options agree on every shared
   figure and cannot be differenced. An option with the baseline's children
   shares the baseline's demand cells;
4. **the audit**: every suppressed or hidden cell attacked by LP over all
   scenarios at once (:func:`optimiser.suppression.audit_intervals`); any leak
   raises :class:`~optimiser._errors.DisclosureError` and nothing is written.

Derived figures are computed from published figures only (:meth:`Release.share`,
:meth:`Release.per_child`), so they carry no information the counts do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse

from optimiser._errors import DisclosureError
from optimiser.allocation.solve import AllocationResult
from optimiser.allocation.unplaced import reason_category
from optimiser.dataset.model import Dataset
from optimiser.dataset.wards import child_wards
from optimiser.disclosure import SMALL_MAX, SUPPRESSED, publish_count, round_gbp, round_share
from optimiser.schema.tables import INMSS_TYPES
from optimiser.suppression import audit_intervals, secondary_suppression

__all__ = ["BASELINE", "Release", "build_release"]

BASELINE = "baseline"
#: Measures of every unit that splits children into placed / unplaced and INMSS / other.
STATUS = ("demand", "placed", "inmss", "other", "unplaced")
#: Measures never shown (a reader knows they exist and are ≥ 0).
_HIDDEN_MEASURES = frozenset({"other", "not_transported", "shared", "within_cap", "not_over_cap"})
#: Tables never shown.
_HIDDEN_TABLES = frozenset({"package"})
#: LA counts on the Summary / Comparison sheets: release measure → KPI key.
LA_KPIS = {
    "placed": "placed_children",
    "inmss": "inmss_children",
    "unplaced": "unplaced_children",
    "continuing": "continuing_children",
    "new": "new_placements",
    "over_cap": "children_over_journey_cap",
    "transported": "transported_children",
    "alone": "",  # from travelling_alone_share × transported
    "personal_budget": "personal_budget_children",
    "transported_over_cap": "transported_over_journey_cap",
}
#: Price of suppressing a cell, per child, by measure: the figures members read most
#: (placed and INMSS, behind the INMSS share) are the last to go.
_WEIGHT = {"placed": 2.0, "inmss": 2.0}
Figure = int | float | str
_Key = tuple[str, str, str, str]  # scope, table, key, measure


@dataclass
class _Builder:
    """Cells and relations as they are collected."""

    index: dict[_Key, int] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)

    def cell(self, scope: str, table: str, key: str, measure: str, value: float) -> int:
        k = (scope, table, key, measure)
        if k not in self.index:
            self.index[k] = len(self.values)
            self.values.append(float(value))
        return self.index[k]

    def relation(self, total: int, parts: Iterable[int]) -> None:
        """total − Σ parts = 0."""
        row: dict[int, float] = {total: -1.0}
        for p in parts:
            row[p] = row.get(p, 0.0) + 1.0
        self.rows.append(row)


@dataclass(frozen=True)
class Release:
    """Every published count of a publish run, and how it was protected.

    Attributes
    ----------
    cells : one row per cell: scenario, table, key, measure, value (exact),
        shown (as published: "c", 0 or a multiple of 5; hidden cells "c"),
        suppressed, primary (1-7), secondary (suppressed to protect another
        cell), hidden (never shown). Working data: never write it out.
    relations : R, one row per relation (``R @ value == 0``).
    audit : the final attack: one row per suppressed or hidden cell with the
        interval a reader can narrow it to; nothing in it leaks.
    """

    cells: pd.DataFrame
    relations: scipy.sparse.csr_array
    audit: pd.DataFrame

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(self.cells["scenario"]))

    def _frame(self, scenario: str, table: str) -> pd.DataFrame:
        scope = self.cells["scenario"] == scenario
        shared = (self.cells["scenario"] == BASELINE) & (self.cells["measure"] == "demand")
        mine = self.cells[(self.cells["table"] == table) & scope]
        if scenario != BASELINE and not (mine["measure"] == "demand").any():
            mine = pd.concat([mine, self.cells[shared & (self.cells["table"] == table)]])
        return mine

    def table(self, scenario: str, table: str) -> pd.DataFrame:
        """Published counts of one table: one row per key, one column per shown measure."""
        if scenario not in self.scenarios:
            msg = f"the release has no scenario {scenario!r}; it has {self.scenarios}"
            raise KeyError(msg)
        mine = self._frame(scenario, table)
        mine = mine[~mine["hidden"]]
        wide = mine.pivot(index="key", columns="measure", values="shown")
        return wide.rename_axis(index="key", columns=None)

    @staticmethod
    def share(numerator: Figure, denominator: Figure) -> Figure:
        """A share (0-1, whole %) from two *published* counts; "c" when either is."""
        if numerator == SUPPRESSED or denominator == SUPPRESSED or not denominator:
            return SUPPRESSED
        return round_share(float(numerator) / float(denominator))

    @staticmethod
    def per_child(total_gbp: float, count: Figure, step: int = 10) -> Figure:
        """£ per child from a £ total (rounded to £100 first) and a *published* count."""
        if count == SUPPRESSED or not count or total_gbp != total_gbp:
            return SUPPRESSED
        return round_gbp(float(round_gbp(total_gbp, 100)) / float(count), step)

    @staticmethod
    def unplaced_cost(
        cost_gbp: float, unplaced: float, published: Figure, step: int = 1000
    ) -> Figure:
        """The unplaced children's £ from their *published* count: count × mean rate.

        ``cost_gbp`` is the exact Σ of the ``unplaced`` children's rates. A rate per child
        is public (policy or fees), so the exact total would give the exact count away:
        the figure is the published count × the mean rate, rounded; "c" beside "c".
        """
        if published == SUPPRESSED or cost_gbp != cost_gbp:
            return SUPPRESSED
        if not published or not unplaced:
            return 0
        return round_gbp(float(published) * cost_gbp / unplaced, step)

    @staticmethod
    def total_cost(place: Figure, transport: Figure, unplaced: Figure) -> Figure:
        """Total cost as the sum of its *published* parts; "c" when any part is.

        An exact total beside published place and transport £ would leave the unplaced
        £ (and so their count) as the difference.
        """
        parts = (place, transport, unplaced)
        if any(p == SUPPRESSED for p in parts):
            return SUPPRESSED
        return sum(float(p) for p in parts)

    @staticmethod
    def gated(value: float, count: Figure, step: int) -> Figure:
        """A mean or total, only beside a published non-zero count, to the nearest ``step``."""
        if count == SUPPRESSED or not count or value != value:
            return SUPPRESSED
        return round_gbp(value, step)


def _status(b: _Builder, scope: str, table: str, key: str, counts: dict[str, float]):
    ids = {m: b.cell(scope, table, key, m, counts[m]) for m in STATUS if m != "demand"}
    dscope = counts.get("_demand_scope", scope)
    ids["demand"] = b.cell(str(dscope), table, key, "demand", counts["placed"] + counts["unplaced"])
    b.relation(ids["demand"], [ids["placed"], ids["unplaced"]])
    b.relation(ids["placed"], [ids["inmss"], ids["other"]])
    return ids


def _add_scenario(
    b: _Builder, ds: Dataset, name: str, res: AllocationResult, *, full: bool, share_demand: bool
) -> None:
    """The cells and relations of one scenario (``full``: every table, else la/ward/phase)."""
    demand_scope = BASELINE if share_demand else name
    pl, un = res.placements, res.unplaced
    inmss = pl["setting_type"].isin(INMSS_TYPES).to_numpy()

    def status(table: str, key: str, placed: float, n_inmss: float, unplaced: float):
        counts = {
            "placed": placed,
            "inmss": n_inmss,
            "other": placed - n_inmss,
            "unplaced": unplaced,
            "_demand_scope": demand_scope,
        }
        return _status(b, name, table, key, cast(dict[str, float], counts))

    k = res.kpis
    la = status("la", "", k["placed_children"], k["inmss_children"], k["unplaced_children"])
    extra = {m: float(k[kpi]) for m, kpi in LA_KPIS.items() if kpi and m not in la}
    extra["alone"] = float(round(k["travelling_alone_share"] * k["transported_children"]))
    if k["transported_children"] == 0:
        extra["alone"] = 0.0
    cid = {m: b.cell(name, "la", "", m, v) for m, v in extra.items()}
    slack = {
        "not_transported": (la["placed"], [cid["transported"]]),
        "shared": (cid["transported"], [cid["alone"], cid["personal_budget"]]),
        "within_cap": (la["placed"], [cid["over_cap"]]),
        "not_over_cap": (cid["transported"], [cid["transported_over_cap"]]),
    }
    for m, (total, parts) in slack.items():
        value = b.values[total] - sum(b.values[p] for p in parts)
        if value < 0:  # the bound does not hold on this data: no relation to publish
            continue
        s = b.cell(name, "la", "", m, value)
        b.relation(total, [*parts, s])
    b.relation(la["placed"], [cid["continuing"], cid["new"]])

    # wards (children living outside every ward: one hidden cell)
    p_ward = child_wards(ds, pl["child_id"]).to_numpy()
    u_ward = child_wards(ds, un["child_id"]).to_numpy()
    codes = [str(c) for c in ds.wards["ward_code"]] if ds.wards is not None else []
    codes += sorted((set(p_ward.tolist()) | set(u_ward.tolist())) - set(codes) - {""})
    placed_w = pd.Series(p_ward).value_counts()
    inmss_w = pd.Series(p_ward[inmss]).value_counts()
    un_w = pd.Series(u_ward).value_counts()
    outside = placed_w.get("", 0) + un_w.get("", 0)
    keys = codes + ([""] if outside else [])
    wards = [status("ward", c, placed_w.get(c, 0), inmss_w.get(c, 0), un_w.get(c, 0)) for c in keys]
    for m in STATUS:
        b.relation(la[m], [w[m] for w in wards])

    # package × phase, and hidden package totals
    suff = res.sufficiency
    packages: dict[str, list[dict[str, int]]] = {}
    for pkg_id, ph, n_placed, n_inmss, n_unplaced in zip(
        suff["package_id"].astype(str),
        suff["phase"].astype(str),
        suff["placed"].to_numpy(float),
        suff["placed_inmss"].to_numpy(float),
        suff["unplaced"].to_numpy(float),
        strict=True,
    ):
        ids = status("phase", f"{pkg_id}|{ph}", n_placed, n_inmss, n_unplaced)
        packages.setdefault(pkg_id, []).append(ids)
    totals = {}
    for pkg, phases in packages.items():
        sums = {m: sum(b.values[ph[m]] for ph in phases) for m in ("placed", "inmss", "unplaced")}
        tot = status("package", pkg, sums["placed"], sums["inmss"], sums["unplaced"])
        for m in STATUS:
            b.relation(tot[m], [ph[m] for ph in phases])
        totals[pkg] = tot
    for m in STATUS:
        b.relation(la[m], [t[m] for t in totals.values()])
    if not full:
        return

    # settings, setting types, INMSS setting × package
    filled = pl.groupby("setting_id").size()
    open_ = ds.settings[~ds.settings["closed"]]
    setting_type = dict(zip(open_["setting_id"].astype(str), open_["setting_type"], strict=True))
    setting_type.update(dict(zip(pl["setting_id"].astype(str), pl["setting_type"], strict=False)))
    sids = {s: b.cell(name, "setting", s, "placed", filled.get(s, 0)) for s in setting_type}
    by_type: dict[str, list[int]] = {}
    for sid, t in setting_type.items():
        by_type.setdefault(str(t), []).append(sids[sid])
    types = {
        t: b.cell(name, "type", t, "placed", sum(b.values[i] for i in ids))
        for t, ids in by_type.items()
    }
    for t, members in by_type.items():
        b.relation(types[t], members)
    b.relation(la["placed"], list(types.values()))
    inmss_pl = pl[inmss].groupby(["setting_id", "package_id"]).size()
    offered = ds.places[ds.places["places"] > 0][["setting_id", "package_id"]].astype(str)
    pairs = set(map(tuple, offered.to_numpy().tolist())) | set(inmss_pl.index.tolist())
    by_setting: dict[str, list[int]] = {}
    by_pkg: dict[str, list[int]] = {}
    for s, p in sorted(pairs):
        if setting_type.get(s) not in INMSS_TYPES:
            continue
        i = b.cell(name, "inmss", f"{s}|{p}", "inmss", inmss_pl.get((s, p), 0))
        by_setting.setdefault(s, []).append(i)
        by_pkg.setdefault(p, []).append(i)
    for sid, members in by_setting.items():
        b.relation(sids[sid], members)
    for pkg, tot in totals.items():
        b.relation(tot["inmss"], by_pkg.get(pkg, []))

    # package × reason category
    cats = un.assign(category=[reason_category(r) for r in un["reason"]])
    counts = cats.groupby(["package_id", "category"]).size()
    by_reason: dict[str, list[int]] = {}
    for (pkg, category), n in zip(counts.index.tolist(), counts.to_numpy(), strict=True):
        key = f"{pkg}|{category}"
        by_reason.setdefault(str(pkg), []).append(b.cell(name, "reason", key, "unplaced", float(n)))
    for pkg, tot in totals.items():
        b.relation(tot["unplaced"], by_reason.get(pkg, []))


def _matrix(b: _Builder) -> scipy.sparse.csr_array:
    rows, cols, data = [], [], []
    for i, row in enumerate(b.rows):
        for j, v in row.items():
            if v:
                rows.append(i)
                cols.append(j)
                data.append(v)
    return scipy.sparse.csr_array((data, (rows, cols)), shape=(len(b.rows), len(b.values)))


def _same_children(a: AllocationResult, b: AllocationResult) -> bool:
    ids = [
        pd.concat([r.placements["child_id"], r.unplaced["child_id"]]).astype(str).sort_values()
        for r in (a, b)
    ]
    return len(ids[0]) == len(ids[1]) and bool((ids[0].to_numpy() == ids[1].to_numpy()).all())


def build_release(ds: Dataset, results: Mapping[str, AllocationResult]) -> Release:
    """Disclosure-control every count the publish outputs of ``results`` can show.

    ``results`` maps scenario name → allocation; it must hold ``"baseline"``
    (the allocation of ``ds``), whose figures are protected first and never
    depend on the options. Raises DisclosureError when the final audit finds
    any suppressed cell a reader could recover or narrow (fail closed).
    """
    if BASELINE not in results:
        msg = f"build_release needs the {BASELINE!r} allocation; got {sorted(results)}"
        raise ValueError(msg)
    order = [BASELINE, *[n for n in results if n != BASELINE]]
    b = _Builder()
    stages: list[tuple[str, int, int]] = []  # scenario, first cell, first relation
    base = results[BASELINE]
    for name in order:
        start, rel_start = len(b.values), len(b.rows)
        share = name != BASELINE and _same_children(base, results[name])
        _add_scenario(b, ds, name, results[name], full=name == BASELINE, share_demand=share)
        stages.append((name, start, rel_start))
    values = np.asarray(b.values, dtype=float)
    matrix = _matrix(b)
    if np.abs(matrix @ values).max(initial=0.0) > 1e-6:
        msg = "internal error: the release's figures do not add up; please report this"
        raise DisclosureError(msg)
    keys = list(b.index)
    hidden = np.array([t in _HIDDEN_TABLES or m in _HIDDEN_MEASURES for _, t, _, m in keys])
    small = (values > 0) & (values <= SMALL_MAX)
    supp = hidden | small
    rounded = ~supp & (values > 0)
    primary = small.copy()
    n_rel = np.asarray((abs(matrix) > 0).sum(axis=0)).ravel()
    weight = np.array([_WEIGHT.get(m, 1.0) for _, _, _, m in keys])
    base_end, base_rel = (stages[1][1], stages[1][2]) if len(stages) > 1 else (values.size, None)
    for i, (name, start, rel_start) in enumerate(stages):
        end = stages[i + 1][1] if i + 1 < len(stages) else values.size
        rel_end = stages[i + 1][2] if i + 1 < len(stages) else matrix.shape[0]
        # the baseline's cells and relations, then this option's: never another option's
        cols = np.r_[0:base_end, start:end] if i else np.arange(end)
        rows = np.r_[0 : cast(int, base_rel), rel_start:rel_end] if i else np.arange(rel_end)
        cols = np.unique(cols)
        cost = (values[cols] + 1.0) * weight[cols] + 1e-3 * n_rel[cols]
        cost[(cols < start) | hidden[cols]] = np.inf
        mask = secondary_suppression(
            values[cols],
            matrix[rows][:, cols],
            supp[cols],
            cost=cost,
            rounded=rounded[cols] & ~supp[cols],
            primary=primary[cols],
        )
        if (mask != supp[cols])[cols < start].any():  # pragma: no cover - cost inf forbids it
            msg = f"internal error: protecting {name!r} changed earlier figures"
            raise DisclosureError(msg)
        supp[cols] = mask
        rounded[cols] &= ~mask
    audit = audit_intervals(values, matrix, supp, rounded=rounded, primary=primary)
    scenario = [k[0] for k in keys]
    cells = pd.DataFrame(
        {
            "scenario": scenario,
            "table": [k[1] for k in keys],
            "key": [k[2] for k in keys],
            "measure": [k[3] for k in keys],
            "value": values,
            "shown": pd.Series(
                [SUPPRESSED if s else publish_count(v) for s, v in zip(supp, values, strict=True)],
                dtype=object,
            ),
            "suppressed": supp,
            "primary": primary,
            "secondary": supp & ~primary & ~hidden,
            "hidden": hidden,
        }
    )
    if audit["leaks"].any():
        bad = audit[audit["leaks"]]
        where = ", ".join(
            f"{cells['table'].iat[int(i)]} {cells['measure'].iat[int(i)]}"
            for i in bad["cell"].head(5)
        )
        msg = (
            f"the publish outputs would disclose {len(bad)} hidden count(s) ({where}); nothing "
            "was written. Publish fewer options at once or at a coarser level"
        )
        raise DisclosureError(msg)
    return Release(cells=cells, relations=matrix, audit=audit)
