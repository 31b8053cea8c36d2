"""Parental preference audit: each ranked preference the optimum did not meet, and its cost.

The SEND Code (Children and Families Act 2014 s39(4)) lets an LA refuse the
parent's preferred setting when it is unsuitable or incompatible with the
efficient use of resources (or with other children's efficient education).
:func:`preference_audit` lists, for every child being placed, each setting the
parent ranked *above* the placement (or any ranked setting, when the child is
placed at an unranked one or not at all) that the model could use (eligible:
the package, age, journey rules of :mod:`optimiser.allocation.arcs`):

* whether it has a spare place in the optimum (package, setting and INMSS cap);
* the cost of honouring it [GBP/yr]: with a spare place, the place + transport
  difference of this child moving; without one, the exact re-solve with the
  child placed there first (:meth:`~optimiser.allocation.whatif.WhatIf.force`),
  i.e. the change in the whole allocation's place + transport cost, and how many
  other children move;
* for a full setting, how many of the new children holding its places live
  further from it (by journey time) than this child (a nearer child displaced);
* the verdict at a threshold T: honour when the cost is below T, else "efficient
  use of resources".

Policy ``honour_preference_below_gbp`` = T makes the allocation itself honour
every such preference with a spare place costing less than T more (proof in
:mod:`optimiser.allocation.arcs`); the audit then finds none left.

Child-level working data: never part of a publish output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.allocation.solve import AllocationResult
from optimiser.allocation.whatif import WhatIf
from optimiser.dataset.model import Dataset

AUDIT_COLUMNS = [
    "child_id",
    "package_id",
    "placed_setting_id",
    "placed_rank",
    "preferred_setting_id",
    "preferred_rank",
    "spare_place",
    "extra_place_cost_gbp",
    "extra_transport_cost_gbp",
    "honour_cost_gbp",
    "others_moved",
    "others_lower_ranked",
    "others_lose_mainstream",
    "nearer_than_holders",
    "verdict",
]


def _pairs(w: WhatIf) -> pd.DataFrame:
    """Arc rows of ranked settings above each free child's placement (or any, if unranked)."""
    arcs = w.arcs
    free = ~arcs["fixed"].to_numpy(bool)
    c = arcs["c"].to_numpy()
    placed_row = w.base[c]
    placed_rank = np.where(
        placed_row >= 0, arcs["preference_rank"].to_numpy()[np.maximum(placed_row, 0)], np.nan
    )
    rank = arcs["preference_rank"].to_numpy()
    above = ~np.isnan(rank) & (np.isnan(placed_rank) | (rank < placed_rank))
    out = arcs[free & above].copy()
    out["placed_row"] = placed_row[free & above]
    return out


def _holders_further(w: WhatIf, pairs: pd.DataFrame) -> np.ndarray:
    """Per pair: new children placed there (same package) whose journey is longer."""
    arcs = w.arcs
    rows = w.base[w.base >= 0]
    at = arcs.iloc[rows]
    at = at[~at["fixed"].to_numpy(bool)]
    journeys = at.groupby(["setting_id", "package_id"])["travel_min"].agg(list)
    out = np.zeros(len(pairs), np.int64)
    for i, (s, p, t) in enumerate(
        zip(pairs["setting_id"], pairs["package_id"], pairs["travel_min"], strict=True)
    ):
        out[i] = sum(j > t for j in journeys.get((s, p), []))
    return out


def preference_audit(
    ds: Dataset, res: AllocationResult | None = None, *, threshold_gbp: float | None = None
) -> pd.DataFrame:
    """Every ranked preference above a child's placement, with its cost and the verdict.

    Parameters
    ----------
    ds : the dataset (its Policy as the allocation used it).
    res : ``allocate(ds)``; checked to be that allocation (re-solved when None).
    threshold_gbp : the "efficient use of resources" threshold T [GBP/yr]; default the
        policy's ``honour_preference_below_gbp``; None there too = no verdict.

    Returns
    -------
    DataFrame with :data:`AUDIT_COLUMNS`, one row per (child, ranked setting above the
    placement the model could use), by child then rank: placed_rank and preferred_rank
    (NaN placed_rank = an unranked setting or unplaced, placed_setting_id "" when
    unplaced), spare_place, extra_place_cost_gbp and extra_transport_cost_gbp of the
    move [GBP/yr] (NaN when unplaced), honour_cost_gbp (spare: place + transport
    difference; full: re-solve delta of the whole allocation; NaN when continuing
    children hold every place), others_moved (re-solve), nearer_than_holders (new
    children placed there for the same package who live further away; 0 when
    spare) and verdict.
    """
    w = WhatIf(ds)
    _same_allocation(w, res)
    T = ds.policy.honour_preference_below_gbp if threshold_gbp is None else threshold_gbp
    pairs = _pairs(w)
    spare = w.spare().to_numpy()
    arcs = w.arcs
    rows = []
    for (row, a), nearer in zip(pairs.iterrows(), _holders_further(w, pairs), strict=True):
        placed = int(a["placed_row"])
        p = arcs.loc[placed] if placed >= 0 else None
        d_place = a["place_cost_gbp"] - p["place_cost_gbp"] if p is not None else np.nan
        d_trans = a["transport_cost_gbp"] - p["transport_cost_gbp"] if p is not None else np.nan
        is_spare = bool(spare[int(row)])  # type: ignore[call-overload]
        moved, lower, duty, unplaced, possible = 0, 0, 0, 0, True
        if is_spare:
            cost = d_place + d_trans
        else:
            out = w.force(int(a["c"]), int(row))  # type: ignore[call-overload]
            possible, cost = out.possible, out.money_delta_gbp
            moved, unplaced = out.others_moved, out.others_unplaced
            lower, duty = out.others_lower_ranked, out.others_lose_mainstream
        rows.append(
            {
                "child_id": a["child_id"],
                "package_id": a["package_id"],
                "placed_setting_id": p["setting_id"] if p is not None else "",
                "placed_rank": p["preference_rank"] if p is not None else np.nan,
                "preferred_setting_id": a["setting_id"],
                "preferred_rank": a["preference_rank"],
                "spare_place": is_spare,
                "extra_place_cost_gbp": d_place,
                "extra_transport_cost_gbp": round(d_trans, 2),
                "honour_cost_gbp": round(cost, 2),
                "others_moved": moved,
                "others_lower_ranked": lower,
                "others_lose_mainstream": duty,
                "nearer_than_holders": 0 if is_spare else int(nearer),
                "verdict": _verdict(cost, T, possible, unplaced, lower, duty),
            }
        )
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def _same_allocation(w: WhatIf, res: AllocationResult | None) -> None:
    if res is None:
        return
    ids = w.kids["child_id"].to_numpy()
    mine = pd.Series(
        np.where(w.base >= 0, w.arcs["setting_id"].to_numpy()[np.maximum(w.base, 0)], ""), ids
    )
    theirs = res.placements.set_index("child_id")["setting_id"].reindex(ids).fillna("")
    if not np.array_equal(mine.to_numpy(object), theirs.to_numpy(object)):
        msg = (
            "res is not the allocation of this dataset (a scenario or another policy?); "
            "pass allocate(ds) of the same ds, or res=None"
        )
        raise ValueError(msg)


def _verdict(
    cost: float, threshold: float | None, possible: bool, unplaced: int, lower: int, duty: int
) -> str:
    if not possible:
        return "no place: continuing children hold every place"
    if unplaced:
        return f"no: would leave {unplaced} other child unplaced"
    if duty:
        return (
            f"weighed against others: {duty} other child{'ren' if duty != 1 else ''} would "
            "lose the mainstream place their parent prefers (the duty)"
        )
    if lower:
        return (
            f"weighed against others: {lower} other child{'ren' if lower != 1 else ''} "
            "would lose a higher-ranked preference"
        )
    if threshold is None:
        return "no threshold set"
    if cost < threshold:
        return f"honour: costs under £{threshold:,.0f} a year"
    return f"efficient use of resources: £{threshold:,.0f} a year or more"


def audit_summary(audit: pd.DataFrame) -> dict[str, int]:
    """Headline counts of :func:`preference_audit`: pairs and children, spare and displaced."""
    spare = audit["spare_place"].astype(bool)
    honour = audit["verdict"].str.startswith("honour")
    return {
        "pairs": len(audit),
        "children": int(audit["child_id"].nunique()),
        "spare_pairs": int(spare.sum()),
        "spare_children": int(audit.loc[spare, "child_id"].nunique()),
        "nearer_displaced_pairs": int((~spare & (audit["nearer_than_holders"] > 0)).sum()),
        "honour_pairs": int(honour.sum()),
        "honour_spare_pairs": int((honour & spare).sum()),
    }
