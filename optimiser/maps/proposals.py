"""What an option proposes, setting by setting: new, expanded, reduced and closed settings.

:func:`proposal_figures` compares the base dataset with the option's (its scenario
applied), so every way of getting there counts alike (``add_setting``,
``set_places``, ``close_setting``, an ``extends`` chain, a siting plan's saved
scenario). One row per setting the option changes, with a label a member can
read ("+16 SPP3 places (new base)", "SPP4 57 → 81", "closed"). Places and
capital are planning figures, not counts of children: they are published as they
are. Children placed at a proposed setting are working figures only (the
release does not publish an option's settings), so the map shows them only in
working mode.
"""

from __future__ import annotations

from typing import cast

import pandas as pd

from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.disclosure import SUPPRESSED, publish_change, round_gbp
from optimiser.maps.geometry import rounded_lonlat
from optimiser.reports.published import published_kpis
from optimiser.reports.release import BASELINE, Release
from optimiser.scenarios.scenario import Scenario

__all__ = ["PROPOSAL_KINDS", "option_headline", "proposal_figures"]

#: kind → (marker symbol, colour, legend text); the order is the legend's.
PROPOSAL_KINDS = {
    "added": ("+", "#1e8449", "new setting (places added)"),
    "expanded": ("▲", "#b9770e", "places added at a setting"),
    "reduced": ("▼", "#2471a3", "places taken away at a setting"),
    "changed": ("◆", "#7d6608", "places moved between packages"),
    "closed": ("✕", "#c0392b", "setting closed"),
}
_NEW_WHAT = {
    "inclusion_base": "new base",
    "maintained_special": "new special school",
    "academy_special": "new special school",
    "post16_specialist": "new post-16 setting",
}
COLUMNS = [
    "setting_id",
    "name",
    "kind",
    "change",
    "places_before",
    "places_after",
    "capital_cost_gbp",
    "lon",
    "lat",
]


def _places(ds: Dataset) -> dict[str, dict[str, int]]:
    """setting_id → {package_id: places} (rows with places only)."""
    out: dict[str, dict[str, int]] = {}
    for sid, pkg, n in zip(
        ds.places["setting_id"].astype(str),
        ds.places["package_id"].astype(str),
        pd.to_numeric(ds.places["places"]).fillna(0).astype(int),
        strict=True,
    ):
        if n > 0:
            out.setdefault(sid, {})[pkg] = out.get(sid, {}).get(pkg, 0) + int(n)
    return out


def _capital(scenario: Scenario | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for change in scenario.changes if scenario is not None else ():
        sid = getattr(change, "setting_id", None)
        if sid is not None:
            out[str(sid)] = out.get(str(sid), 0.0) + float(
                getattr(change, "capital_cost_gbp", 0.0) or 0.0
            )
    return out


def proposal_figures(
    base: Dataset,
    option: Dataset,
    scenario: Scenario | None = None,
    result: AllocationResult | None = None,
) -> pd.DataFrame:
    """One row per setting ``option`` adds, closes or changes the places of, against ``base``.

    Columns: setting_id, name, kind (a key of :data:`PROPOSAL_KINDS`), change (the
    label), places_before, places_after (Σ over packages), capital_cost_gbp (the
    scenario's changes of that setting), lon, lat; with ``result`` (the option's
    allocation) also ``option_children``: children placed there (working figure).
    """
    before, after = _places(base), _places(option)
    b_set = base.settings.drop_duplicates("setting_id").set_index("setting_id")
    o_set = option.settings.drop_duplicates("setting_id").set_index("setting_id")
    b_open = set(b_set.index[~b_set["closed"].astype(bool)].astype(str))
    o_open = set(o_set.index[~o_set["closed"].astype(bool)].astype(str))
    capital = _capital(scenario)
    rows = []
    for sid in [str(s) for s in o_set.index]:
        was, now = before.get(sid, {}), after.get(sid, {})
        if sid not in b_set.index:
            what = _NEW_WHAT.get(str(o_set.at[sid, "setting_type"]), "new setting")
            gains = ", ".join(f"+{n} {p}" for p, n in sorted(now.items())) or "+0"
            kind, change = "added", f"{gains} places ({what})"
        elif sid in b_open and sid not in o_open:
            kind, change = "closed", "closed"
        elif sid in o_open and was != now:
            pkgs = sorted(set(was) | set(now))
            change = "; ".join(
                f"{p} {was.get(p, 0)} → {now.get(p, 0)}"
                for p in pkgs
                if was.get(p, 0) != now.get(p, 0)
            )
            total_was, total_now = sum(was.values()), sum(now.values())
            kind = (
                "expanded"
                if total_now > total_was
                else "reduced"
                if total_now < total_was
                else "changed"
            )
        else:
            continue
        rows.append(
            {
                "setting_id": sid,
                "name": str(o_set.at[sid, "name"]),
                "kind": kind,
                "change": change,
                "places_before": sum(was.values()) if sid in b_open else 0,
                "places_after": sum(now.values()) if sid in o_open else 0,
                "capital_cost_gbp": round(capital.get(sid, 0.0)),
                "easting": float(cast(float, o_set.at[sid, "easting"])),
                "northing": float(cast(float, o_set.at[sid, "northing"])),
            }
        )
    out = pd.DataFrame(rows, columns=[*COLUMNS[:-2], "easting", "northing"])
    lon, lat = rounded_lonlat(out["easting"], out["northing"])
    out = out.drop(columns=["easting", "northing"]).assign(lon=lon, lat=lat)
    if result is not None:
        filled = result.placements.groupby("setting_id").size()
        out["option_children"] = out["setting_id"].map(filled).fillna(0).astype(int)
    return out.reset_index(drop=True)


def option_headline(
    name: str,
    base: AllocationResult,
    result: AllocationResult,
    *,
    capital_gbp: float,
    places_added: int,
    publish: bool,
    release: Release | None = None,
) -> list[tuple[str, str]]:
    """An option's headline against the baseline as (label, text): capital, places added,
    the change in revenue cost a year, INMSS placements avoided, fewer children without
    a place.

    Publish mode (``release`` must hold ``name``): the two counts are changes of the
    release's published LA counts ("c" when either is); the revenue change is the
    change of the two totals as published (each the sum of its published parts,
    :func:`~optimiser.reports.published.published_kpis`; "c" when either is). Capital and places are
    planning figures, published as they are (capital to the nearest £1,000).
    """
    kb, ko = base.kpis, result.kpis
    revenue_text = ""
    if publish:
        if release is None:
            msg = "option_headline(publish=True) needs the release (optimiser.reports.release)"
            raise ValueError(msg)
        lb = release.table(BASELINE, "la").iloc[0]
        lo = release.table(name, "la").iloc[0]
        # each total as published (the sum of its published parts, unplaced £ beside the
        # published unplaced count): an exact total would give a suppressed count away
        po, pb = published_kpis(release, ko, name), published_kpis(release, kb)
        revenue = publish_change(
            po.get("total_cost_gbp", SUPPRESSED), pb.get("total_cost_gbp", SUPPRESSED)
        )
        if revenue == SUPPRESSED:  # the unplaced £ is withheld: say what is still known
            parts = [
                publish_change(po.get(k, SUPPRESSED), pb.get(k, SUPPRESSED))
                for k in ("place_cost_gbp", "transport_cost_gbp")
            ]
            if SUPPRESSED not in parts:
                known = sum(float(p) for p in parts)
                revenue_text = (
                    f"c (the unplaced children's cost is withheld); place + transport "
                    f"{_text(known, signed=True)}"
                )
        avoided = publish_change(lb["inmss"], lo["inmss"])
        newly = publish_change(lb["unplaced"], lo["unplaced"])
        capital: float | str = round_gbp(capital_gbp, 1000)
    else:
        revenue = float(ko["total_cost_gbp"]) - float(kb["total_cost_gbp"])
        avoided = float(kb["inmss_children"]) - float(ko["inmss_children"])
        newly = float(kb["unplaced_children"]) - float(ko["unplaced_children"])
        capital = capital_gbp
    if not publish or revenue_text == "":
        revenue_text = _text(revenue, signed=True)
    return [
        ("Capital cost", _text(capital, gbp=True)),
        ("Places added (all packages, net)", f"{places_added:+,}"),
        ("Change in total cost a year (revenue; minus = saving)", revenue_text),
        ("INMSS placements avoided", _text(avoided)),
        ("Children newly placed (fewer without a suitable place)", _text(newly)),
    ]


def _text(value: float | str, *, gbp: bool = False, signed: bool = False) -> str:
    if value == SUPPRESSED:
        return SUPPRESSED
    v = float(value)
    if gbp or signed:
        return f"{'-' if v < 0 else '+' if signed and v > 0 else ''}£{abs(v):,.0f}"
    return f"{v:,.0f}"
