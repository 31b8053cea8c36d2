"""Why a child went where they did: every setting considered, with the reason for each.

:func:`explain` answers a family or a tribunal from the exact optimum. It lists,
for one child, every setting that delivers the child's package (wherever it
is), every setting the parent ranked, the current setting and the nearest few
others, and says of each why it was or was not chosen:

* ``chosen`` — the placement (continuing, a ranked preference, or the least cost);
* ``full`` — who holds the places (continuing and new children) and what placing
  this child there instead would cost the whole allocation, by an exact re-solve
  (:class:`~optimiser.allocation.whatif.WhatIf`), or that continuing children hold
  them all;
* ``dearer by £x`` than the chosen (place + transport), or cheaper but outweighed
  by the parent's ranking or the mainstream duty (the weights of
  :mod:`optimiser.allocation.arcs`);
* settings the model could never use: beyond the journey cap (minutes vs cap),
  wrong age, package not offered, closed, not a known setting.

For an unplaced child each eligible setting carries ``one_more_place_gbp``: the
change in the allocation's place + transport cost if that setting had one more
place of the child's package (exact re-solve); the cheapest is the advice.

Child-level working data: never part of a publish output.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimiser._errors import UnknownChildError
from optimiser.allocation.solve import _resolve
from optimiser.allocation.unplaced import unplaced_reasons
from optimiser.allocation.whatif import Outcome, WhatIf
from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap
from optimiser.transport.travel import road_km_and_min

if TYPE_CHECKING:  # scenarios sit above allocation: a reference for the types only
    from optimiser.scenarios.scenario import Scenario

EXPLAIN_COLUMNS = [
    "setting_id",
    "name",
    "setting_type",
    "chosen",
    "eligible",
    "place_cost_gbp",
    "transport_cost_gbp",
    "travel_min",
    "distance_km",
    "preference_rank",
    "arc_cost",
    "one_more_place_gbp",
    "reason",
]


_COSTS = ["setting_id", "place_cost_gbp", "transport_cost_gbp", "travel_min", "distance_km"]


def ordinal(rank: float) -> str:
    """1 → '1st', 2 → '2nd' … (for preference ranks)."""
    n = int(rank)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def child_position(ds: Dataset, child_id: str) -> int:
    """Position of ``child_id`` in ``ds.children``; :class:`UnknownChildError` if absent."""
    ids = ds.children["child_id"].astype(str).tolist()
    try:
        return ids.index(str(child_id))
    except ValueError:
        close = difflib.get_close_matches(str(child_id), ids, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        msg = (
            f"child_id {child_id!r} is not in this dataset's {len(ids)} children{hint}; the ids "
            "are the child_id column of children.csv (`optimiser allocate DIR --out "
            "placements.csv --unplaced-out unplaced.csv` lists every child)"
        )
        raise UnknownChildError(msg) from None


def _gbp(x: float) -> str:
    return f"£{abs(x):,.0f}"


def _held(w: WhatIf, row: int, left: np.ndarray) -> str:
    """'full: …' — which places are taken, and by whom (counts, never other children's ids)."""
    arcs, a = w.arcs, w.arcs.loc[row]
    path = w.path(row)
    placed = w.base[w.base >= 0]
    at = arcs.iloc[placed]
    at = at[at["setting_id"] == a["setting_id"]]
    if left[path[0]] <= 0:
        at = at[at["package_id"] == a["package_id"]]
        what = f"{a['package_id']} place{'s' if len(at) != 1 else ''}"
    elif left[path[1]] <= 0:
        what = f"place{'s' if len(at) != 1 else ''} (all packages)"
    else:
        return "full: the INMSS cap (policy inmss_max_places) is reached"
    n_fixed = int(at["fixed"].sum())
    if n_fixed == len(at):
        held = (
            "is held by a continuing child"
            if len(at) == 1
            else "are all held by continuing children"
        )
        return f"full: its {len(at)} {what} {held}"
    new = len(at) - n_fixed
    return f"full: {len(at)} {what} held by {n_fixed} continuing and {new} new children"


def _displacement(out: Outcome) -> str:
    if not out.possible:
        return " (policy continuity: keep), so no one can make room"
    n = out.others_moved
    moved = f"{n} other child{'ren' if n != 1 else ''} move{'s' if n == 1 else ''}"
    more = "more" if out.money_delta_gbp >= 0 else "less"
    if out.others_unplaced:
        return (
            f"; placing this child here would leave {out.others_unplaced} other child "
            f"unplaced instead ({_gbp(out.money_delta_gbp)} a year {more}; {moved})"
        )
    if out.money_delta_gbp >= 0:
        return f"; placing this child here costs {_gbp(out.money_delta_gbp)} a year more ({moved})"
    return (
        f"; placing this child here saves {_gbp(out.money_delta_gbp)} a year in place and "
        f"transport ({moved}) but honours the parents' rankings less (model cost "
        f"+{_gbp(out.objective_delta)})"
    )


def _why_not_chosen(a: pd.Series, best: pd.Series, prefers_mainstream: bool) -> str:
    """Reason an arc with a spare place lost to the chosen one (it costs more in the model)."""
    money = a["place_cost_gbp"] + a["transport_cost_gbp"]
    money -= best["place_cost_gbp"] + best["transport_cost_gbp"]
    vs = f"than {best['setting_id']}"
    if a["arc_cost"] == best["arc_cost"]:
        return f"as cheap as {best['setting_id']} in the model (a tie; the solver's choice)"
    if prefers_mainstream and best["mainstream"] and not a["mainstream"]:
        return f"not mainstream: the parent prefers mainstream and {vs[5:]} is (the duty)"
    rank = a["preference_rank"]
    pref = "not ranked by the parent" if np.isnan(rank) else f"ranked {ordinal(rank)}"
    if money > 0:
        return f"dearer by {_gbp(money)} a year {vs} (place + transport), with a place free; {pref}"
    return (
        f"{_gbp(money)} a year cheaper {vs} but {pref}: the preference weight "
        f"{_gbp(a['preference_penalty_gbp'])} against {_gbp(best['preference_penalty_gbp'])}"
    )


def _arc_rows(w: WhatIf, pos: int, prefers_mainstream: bool) -> pd.DataFrame:
    arcs = w.arcs[w.arcs["c"] == pos]
    chosen_row = int(w.base[pos])
    left, spare = w.left(), w.spare(arcs.index.to_numpy())
    best = w.arcs.iloc[chosen_row] if chosen_row >= 0 else None
    out = arcs[[*_COSTS, "preference_rank", "arc_cost"]].copy()
    out["chosen"] = out.index == chosen_row
    out["eligible"] = True
    out["one_more_place_gbp"] = np.nan
    cap = float(w.kids["cap_min"].iloc[pos])
    reasons = []
    for row, a in arcs.iterrows():
        row = int(row)  # type: ignore[call-overload]
        if row == chosen_row:
            reasons.append(_chosen_reason(a, best_is_fixed=bool(a["fixed"])))
            continue
        if spare[row] and best is not None:
            text = _why_not_chosen(a, best, prefers_mainstream)
        else:
            text = _held(w, row, left) + _displacement(w.force(pos, row))
            if best is None:
                extra = w.add_place(pos, row)
                if extra.child_placed:
                    out.loc[row, "one_more_place_gbp"] = extra.money_delta_gbp
        if over_journey_cap(a["travel_min"], cap):
            text += f" (beyond the {cap:.0f}-min journey cap: allowed as the parent ranked it)"
        reasons.append(text)
    out["reason"] = reasons
    return out


def _chosen_reason(a: pd.Series, *, best_is_fixed: bool) -> str:
    if best_is_fixed:
        return "chosen: continuing placement (policy continuity: keep)"
    if not np.isnan(a["preference_rank"]):
        return f"chosen: the parent's {ordinal(a['preference_rank'])} preference"
    return "chosen: the least-cost eligible setting with a place"


def _other_rows(ds: Dataset, w: WhatIf, pos: int, arc_settings: set, nearest: int) -> pd.DataFrame:
    """Settings the model could not use for this child, each with the rule that rules it out."""
    kid, settings = w.kids.iloc[pos], ds.settings.drop_duplicates("setting_id")
    offers = ds.places.groupby("setting_id")["package_id"].agg(lambda s: sorted(set(s)))
    pkg, age, cap = kid["package_id"], float(kid["age"]), float(kid["cap_min"])
    km, mins = road_km_and_min(
        np.tile([kid["x"], kid["y"]], (len(settings), 1)).astype(float),
        settings[["easting", "northing"]].to_numpy(float),
        policy=ds.policy,
        graph=ds.roads,
    )
    frame = settings.assign(travel_min=mins, distance_km=km).set_index("setting_id")
    ranked = [s for s in kid["prefs"] if s not in arc_settings]
    delivers = offers[offers.map(lambda p: pkg in p)].index
    near = frame.drop(index=list(arc_settings), errors="ignore").nsmallest(nearest, "travel_min")
    keep = pd.Index([*ranked, *delivers, *near.index, kid["current"]]).drop_duplicates()
    keep = keep[(keep != "") & ~keep.isin(list(arc_settings))]
    rows = []
    for sid in keep:
        rank = kid["prefs"].index(sid) + 1.0 if sid in kid["prefs"] else np.nan
        if sid not in frame.index:
            unknown = {"setting_id": sid, "preference_rank": rank, "reason": "not a known setting"}
            rows.append(unknown)
            continue
        s = frame.loc[sid]
        cost = ds.places[(ds.places["setting_id"] == sid) & (ds.places["package_id"] == pkg)]
        rows.append(
            {
                "setting_id": sid,
                "place_cost_gbp": cost["annual_cost_gbp"].iloc[0] if len(cost) else np.nan,
                "travel_min": s["travel_min"],
                "distance_km": s["distance_km"],
                "preference_rank": rank,
                "reason": _ruled_out(s, offers.get(sid, []), kid, pkg, age, cap),
            }
        )
    columns = ["setting_id", "place_cost_gbp", "travel_min", "distance_km", "preference_rank"]
    out = pd.DataFrame(rows, columns=[*columns, "reason"])
    return out.assign(chosen=False, eligible=False)


def _ruled_out(
    s: pd.Series, offered: list, kid: pd.Series, pkg: str, age: float, cap: float
) -> str:
    if bool(s["closed"]):
        return "closed"
    if pkg not in offered:
        listed = ", ".join(offered) if offered else "no package"
        return f"package not offered: {pkg} (it has {listed})"
    if not s["age_min"] <= age <= s["age_max"]:
        ages = f"{s['age_min']:.0f}-{s['age_max']:.0f}"
        return f"wrong age: takes ages {ages}, the child is {age:.0f}"
    if not np.isfinite(s["travel_min"]):
        return "no road route from home"
    if over_journey_cap(s["travel_min"], cap):
        return (
            f"beyond the journey cap: {s['travel_min']:.1f} min against the {cap:.0f}-min "
            f"{kid['phase']} cap (not ranked by the parent)"
        )
    if bool(kid["fixed"]):
        return f"not considered: the child continues at {kid['current']} (policy continuity: keep)"
    return "not eligible (no place cost for the package)"


def explain(
    ds: Dataset, child_id: str, scenario: Scenario | None = None, *, nearest: int = 5
) -> pd.DataFrame:
    """One row per setting considered for ``child_id``: chosen, costs, journey and the reason.

    Parameters
    ----------
    ds : the dataset.
    child_id : the child's pseudonymous id (children.csv ``child_id``).
    scenario : a Scenario applied to ``ds`` first.
    nearest : also list this many of the nearest other settings (why each is ruled out).

    Returns
    -------
    DataFrame with :data:`EXPLAIN_COLUMNS`: setting_id, name, setting_type, chosen,
    eligible (an arc of the model), place_cost_gbp and transport_cost_gbp [GBP/yr],
    travel_min [min], distance_km [km], preference_rank, arc_cost (the model's
    objective coefficient), one_more_place_gbp (unplaced child only: the change in
    place + transport cost of the whole allocation if that setting had one more place
    of the child's package [GBP/yr]) and reason. The chosen row comes first, then the
    eligible settings by arc cost, then the rest by journey time. ``attrs["summary"]``
    holds the headline sentences (placement, or why unplaced and what would place them).

    Raises
    ------
    UnknownChildError : ``child_id`` is not in ``ds.children``.
    """
    ds = _resolve(ds, scenario)
    pos = child_position(ds, child_id)
    w = WhatIf(ds)
    kid = w.kids.iloc[pos]
    arcs = _arc_rows(w, pos, bool(kid["prefers_mainstream"]))
    others = _other_rows(ds, w, pos, set(arcs["setting_id"]), nearest)
    arcs = arcs.sort_values(  # the placement, the parent's ranking, then the model's cost
        ["chosen", "preference_rank", "arc_cost"], ascending=[False, True, True], kind="stable"
    )
    others = others.sort_values("travel_min", kind="stable")
    out = pd.concat([arcs, others], ignore_index=True) if len(others) else arcs
    info = ds.settings.drop_duplicates("setting_id").set_index("setting_id")
    out["name"] = out["setting_id"].map(info["name"]).fillna("")
    out["setting_type"] = out["setting_id"].map(info["setting_type"]).fillna("")
    out = out[EXPLAIN_COLUMNS].reset_index(drop=True)
    out["chosen"] = out["chosen"].astype(bool)
    out["eligible"] = out["eligible"].astype(bool)
    out.attrs["summary"] = _summary(ds, w, pos, out)
    return out


def _summary(ds: Dataset, w: WhatIf, pos: int, table: pd.DataFrame) -> list[str]:
    kid = w.kids.iloc[pos]
    who = (
        f"{kid['child_id']} ({kid['package_id']}, age {kid['age']:.0f}, {kid['phase']}, "
        f"journey cap {kid['cap_min']:.0f} min)"
    )
    if w.base[pos] >= 0:
        c = table.iloc[0]
        verb = "continues at" if bool(kid["fixed"]) else "is placed at"
        rank = c["preference_rank"]
        pref = "" if np.isnan(rank) else f", the parent's {ordinal(rank)} preference"
        return [
            f"{who} {verb} {c['name']} ({c['setting_id']}){pref}: "
            f"place {_gbp(c['place_cost_gbp'])} + transport {_gbp(c['transport_cost_gbp'])} "
            f"a year, {c['travel_min']:.0f} min.",
            *_unmet(table, rank),
        ]
    placed = np.flatnonzero(w.base >= 0)
    reason = unplaced_reasons(ds, w.kids, w.arcs, placed)
    mine = reason.loc[reason["child_id"] == kid["child_id"], "reason"]
    lines = [f"{who} is unplaced: {mine.iloc[0] if len(mine) else 'no place'}."]
    offers = table.dropna(subset=["one_more_place_gbp"])
    if len(offers):
        b = offers.iloc[int(np.argmin(offers["one_more_place_gbp"].to_numpy()))]
        lines.append(
            f"What would place them: one more {kid['package_id']} place at {b['name']} "
            f"({b['setting_id']}), {_gbp(b['one_more_place_gbp'])} a year (the allocation's "
            f"place + transport cost rises by that; {b['travel_min']:.0f} min from home)"
            + _ranked_alternative(offers, b)
            + "."
        )
    else:
        lines.append(
            f"What would place them: no eligible setting within the journey cap delivers "
            f"{kid['package_id']} at age {kid['age']:.0f}; a new place nearer home, or a "
            "setting the parent ranks (a ranked setting may lie beyond the cap)."
        )
    return lines


def _ranked_alternative(offers: pd.DataFrame, best: pd.Series) -> str:
    """The parent's best-ranked setting that one more place would also open, if not ``best``."""
    ranked = offers.dropna(subset=["preference_rank"]).sort_values("preference_rank")
    if not len(ranked) or ranked.iloc[0]["setting_id"] == best["setting_id"]:
        return ""
    r = ranked.iloc[0]
    return (
        f"; at the parent's {ordinal(r['preference_rank'])} preference {r['name']} "
        f"({r['setting_id']}) one more place costs {_gbp(r['one_more_place_gbp'])} a year"
    )


def _unmet(table: pd.DataFrame, placed_rank: float) -> list[str]:
    """One line per setting the parent ranked above the placement, with its reason."""
    ranked = table[~table["chosen"] & table["preference_rank"].notna()]
    if not np.isnan(placed_rank):
        ranked = ranked[ranked["preference_rank"] < placed_rank]
    ranked = ranked.sort_values("preference_rank")
    return [
        f"The parent's {ordinal(rank)} preference {name} ({sid}): {reason}."
        for rank, name, sid, reason in zip(
            ranked["preference_rank"].to_numpy(float),
            ranked["name"],
            ranked["setting_id"],
            ranked["reason"],
            strict=True,
        )
    ]
