"""Independent checker of an allocation, written without reusing the model code.

It recomputes, from the raw dataset only: one placement per child and every
child placed or unplaced exactly once; the setting delivers the package and is
open; age within the setting's range; journey within the phase cap unless the
parent ranked the setting; continuing children kept (policy ``keep``);
capacities per (setting, package), per setting and the INMSS cap (never below
the continuing children already there); place and transport costs; each arc
cost; and the objective. It returns a list of violations (empty when valid).

Continuing children kept beyond a setting's places are no violation (they stay where
they are) but a warning: :func:`allocation_warnings` recomputes them, and the check
fails a result whose ``warnings`` leave one out.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap

if TYPE_CHECKING:  # solve.py imports this checker: the result type only, no cycle at run time
    from optimiser.allocation.solve import AllocationResult

_INMSS = ("nmss", "independent_special")
_MAINSTREAM = ("mainstream", "inclusion_base")
_MILE_KM = 1.609344


def check_allocation(ds: Dataset, res: AllocationResult) -> list[str]:
    """Violations of the rules above in ``res`` (an AllocationResult); empty when valid."""
    out: list[str] = []
    placed, unplaced = res.placements, res.unplaced
    ids = np.r_[placed["child_id"].to_numpy(object), unplaced["child_id"].to_numpy(object)]
    everyone = pd.Index(ds.children["child_id"])
    pos = everyone.get_indexer(ids) if everyone.is_unique else np.full(len(ids), -1)
    once = len(ids) == len(everyone) and (pos >= 0).all() and len(np.unique(pos)) == len(pos)
    if not once:
        out.append(
            f"placed + unplaced ({len(ids)} rows) do not cover the "
            f"{len(ds.children)} children exactly once"
        )
    rows = _joined(ds, placed)
    out += _check_rules(ds, rows)
    out += _check_capacity(ds, rows)
    out += _check_costs(ds, rows, res)
    reported = getattr(res, "warnings", None)
    if reported is not None:
        missing = sorted(set(_continuing_over_places(ds, rows)) - set(reported))
        out += [f"not reported as a warning: {w}" for w in missing[:20]]
    return out


def over_places_warning(where: str, continuing: int, places: float, what: str = "places") -> str:
    """The warning for ``continuing`` children kept in ``where`` beyond its ``places``.

    ``where`` names the setting (and package), never a child; ``what`` names the places
    ("places", "total places", "places under the INMSS cap").
    """
    return (
        f"{where}: {continuing} continuing placements in {places:.0f} {what} "
        f"({continuing - places:.0f} over); they stay where they are"
    )


def allocation_warnings(ds: Dataset, res: AllocationResult) -> list[str]:
    """Soft problems of ``res``: continuing placements over places (recomputed from ``ds``).

    Continuing children keep their place even when a setting × package (or a setting's
    total) holds more of them than its places, so this is a warning, not a violation.
    Each names the setting and package and by how much; never a child.
    """
    return _continuing_over_places(ds, _joined(ds, res.placements))


def _continuing_over_places(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    kept = rows[rows["kept"].to_numpy(bool)]
    out = []
    pairs = kept.groupby(["setting_id", "child_package"], sort=True)
    for (sid, pkg), group in pairs:
        n, places = len(group), float(np.nan_to_num(group["n_places"].iloc[0]))
        if n > places:
            out.append(over_places_warning(f"{sid} × {pkg}", n, places))
    for sid, group in kept.groupby("setting_id", sort=True):
        n, total = len(group), group["total_places"].iloc[0]
        if pd.notna(total) and n > float(total):
            out.append(over_places_warning(str(sid), n, float(total), "total places"))
    cap = ds.policy.inmss_max_places
    n_inmss = int(kept["stype"].isin(_INMSS).sum())
    if cap is not None and n_inmss > cap:
        out.append(over_places_warning("INMSS", n_inmss, float(cap), "places under the INMSS cap"))
    return out


_CHILD_FIELDS = {
    "child_package": "package_id",
    "cx": "easting",
    "cy": "northing",
    "age": "age",
    "current_setting_id": "current_setting_id",
    "preferences": "preferences",
    "prefers_mainstream": "prefers_mainstream",
    "solo_transport": "solo_transport",
    "cannot_walk": "cannot_walk",
    "wheelchair": "wheelchair",
    "travel_mode": "travel_mode",
}
_SETTING_FIELDS = {
    "sx": "easting",
    "sy": "northing",
    "age_min": "age_min",
    "age_max": "age_max",
    "closed": "closed",
    "stype": "setting_type",
    "total_places": "total_places",
}


def _take(values: pd.Series, pos: np.ndarray) -> np.ndarray:
    """values[pos] by position; NaN/None where pos is −1 (not found)."""
    if len(pos) and pos.min() >= 0:
        return values.to_numpy()[pos]
    return cast(np.ndarray, pd.api.extensions.take(values.to_numpy(), pos, allow_fill=True))


def _joined(ds: Dataset, placed: pd.DataFrame) -> pd.DataFrame:
    """The placements with their child's, setting's and places row's raw fields."""
    kids = ds.children.drop_duplicates("child_id")
    settings = ds.settings.drop_duplicates("setting_id")
    places = ds.places.drop_duplicates(["setting_id", "package_id"])
    setting_index = pd.Index(settings["setting_id"])
    ci = pd.Index(kids["child_id"]).get_indexer(placed["child_id"])
    si = setting_index.get_indexer(placed["setting_id"])
    cols = {name: placed[name].to_numpy() for name in placed.columns}
    cols |= {name: _take(kids[col], ci) for name, col in _CHILD_FIELDS.items() if col in kids}
    cols |= {name: _take(settings[col], si) for name, col in _SETTING_FIELDS.items()}
    # the places row of (setting, the child's package), through a setting × package table
    packages = pd.Index(pd.unique(places["package_id"]))
    table = np.full((len(settings) + 1, len(packages) + 1), -1, np.int64)
    ps = setting_index.get_indexer(places["setting_id"])
    ok = np.flatnonzero(ps >= 0)
    table[ps[ok], packages.get_indexer(pd.Index(places["package_id"]))[ok]] = ok
    cols["s_pos"] = si
    cols["k_pos"] = packages.get_indexer(pd.Index(cols["child_package"]))
    pi = table[si, cols["k_pos"]]
    cols["fee"] = _take(places["annual_cost_gbp"].astype(float), pi)
    cols["n_places"] = _take(places["places"].astype(float), pi)
    prefs = [p if isinstance(p, (list, tuple)) else () for p in cols["preferences"]]
    cols["n_prefs"] = np.fromiter(map(len, prefs), np.int64, len(prefs))
    cols["pref_pos"] = _preference_position(cols["setting_id"], prefs, cols["n_prefs"])
    current = pd.Series(cols["current_setting_id"]).fillna("").to_numpy(object)
    at = setting_index.get_indexer(current)
    closed = np.zeros(len(current), bool)
    closed[at >= 0] = settings["closed"].to_numpy(bool)[at[at >= 0]]
    cols["kept"] = (ds.policy.continuity == "keep") & (current != "") & ~closed
    return pd.DataFrame(cols)


def _preference_position(setting: np.ndarray, prefs: list, lengths: np.ndarray) -> np.ndarray:
    """0-based position of each placement's setting in the child's ranked list; −1 if absent."""
    flat = np.empty(int(lengths.sum()), object)
    flat[:] = list(itertools.chain.from_iterable(prefs))
    row = np.repeat(np.arange(len(prefs)), lengths)
    within = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    hit = np.flatnonzero(flat == np.asarray(setting, object)[row])[::-1]
    pos = np.full(len(prefs), -1, np.int64)
    pos[row[hit]] = within[hit]  # reversed, so a setting listed twice keeps its first position
    return pos


def _phase_cap(ds: Dataset, age: pd.Series) -> np.ndarray:
    pa, caps = ds.policy.phase_age, ds.policy.max_travel_min
    return np.where(
        age >= pa.post16_from,
        caps.post16,
        np.where(age >= pa.secondary_from, caps.secondary, caps.primary),
    )


def _say(rows: pd.DataFrame, bad: np.ndarray, text: str) -> list[str]:
    return [f"{cid}: {text}" for cid in rows.loc[np.asarray(bad, bool), "child_id"].head(20)]


def _check_rules(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    kept = rows["kept"].to_numpy(bool)
    out = _say(
        rows,
        kept & (rows["setting_id"] != rows["current_setting_id"]).to_numpy(),
        "continuing placement moved",
    )
    new = ~kept
    out += _say(
        rows,
        new & (rows["fee"].isna() | rows["closed"].astype(bool)).to_numpy(),
        "setting does not deliver the child's package or is closed",
    )
    age = rows["age"].astype(float)
    out += _say(
        rows,
        new & ~((rows["age_min"] <= age) & (age <= rows["age_max"])).to_numpy(),
        "age outside the setting's range",
    )
    dx = rows["cx"].astype(float) - rows["sx"].astype(float)
    dy = rows["cy"].astype(float) - rows["sy"].astype(float)
    km = cast(pd.Series, np.hypot(dx, dy) / 1000 * ds.policy.detour_factor)  # ufunc of Series
    minutes = (km / ds.policy.speed_kmh * 60).to_numpy()
    if ds.roads is not None:
        minutes = _road_minutes(ds, rows)
    ranked = rows["pref_pos"].to_numpy() >= 0
    out += _say(
        rows,
        new & over_journey_cap(minutes, _phase_cap(ds, age)) & ~ranked,
        "journey over the cap and not a parental preference",
    )
    if ds.roads is None:
        out += _say(
            rows,
            np.abs(minutes - rows["travel_min"].to_numpy()) > 1e-6,
            "travel_min differs from the straight-line × detour recomputation",
        )
        out += _say(
            rows,
            np.abs(km.to_numpy() - rows["distance_km"].to_numpy()) > 1e-6,
            "distance_km differs from the recomputation",
        )
    return out


def _road_minutes(ds: Dataset, rows: pd.DataFrame) -> np.ndarray:
    """Journey times [min] on the road graph, recomputed pair by pair with networkx."""
    import networkx as nx

    graph, speed = cast(nx.Graph, ds.roads), ds.policy.speed_kmh  # caller: roads is not None
    nodes = list(graph.nodes)
    xy = np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in nodes])

    def nearest(x: float, y: float) -> tuple[object, float]:
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        return nodes[int(d.argmin())], float(d.min())

    def edge_min(u: object, v: object, data: dict) -> float:
        if graph.is_multigraph():
            data = min(data.values(), key=lambda d: d["length"])
        return data["length"] / (float(data.get("speed_kph", speed)) * 1000 / 60)

    out = []
    for cx, cy, sx, sy in rows[["cx", "cy", "sx", "sy"]].itertuples(index=False):
        (a, da), (b, db) = nearest(cx, cy), nearest(sx, sy)
        try:
            path_min = nx.shortest_path_length(graph, a, b, weight=edge_min)
        except nx.NetworkXNoPath:
            path_min = np.inf
        out.append(path_min + (da + db) / (speed * 1000 / 60))
    return np.asarray(out, float)


def _overfull(
    rows: pd.DataFrame, codes: np.ndarray, limit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first row, used, limit) of each group of ``codes`` holding more than its limit.

    The limit is never below the continuing children kept there; a NaN limit
    (unknown) flags nothing.
    """
    _, first, inv = np.unique(codes, return_index=True, return_inverse=True)
    used = np.bincount(inv)
    kept = np.bincount(inv, weights=rows["kept"].to_numpy(bool))
    lim = np.maximum(limit[first], kept)
    bad = np.flatnonzero(used > lim)
    return first[bad], used[bad], lim[bad]


def _check_capacity(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    s_pos, k_pos = rows["s_pos"].to_numpy() + 1, rows["k_pos"].to_numpy() + 1
    sid, pkg = rows["setting_id"].to_numpy(), rows["child_package"].to_numpy()
    pairs = _overfull(
        rows, s_pos * (k_pos.max(initial=0) + 1) + k_pos, np.nan_to_num(rows["n_places"])
    )
    settings = _overfull(rows, s_pos, rows["total_places"].to_numpy(float, na_value=np.nan))
    out = [
        f"{s} × {p}: {u} placed in {lim:.0f} places"
        for s, p, u, lim in sorted(zip(sid[pairs[0]], pkg[pairs[0]], *pairs[1:], strict=True))
    ]
    out += [
        f"{s}: {u} placed in {lim:.0f} total places"
        for s, u, lim in sorted(zip(sid[settings[0]], *settings[1:], strict=True))
    ]
    cap = ds.policy.inmss_max_places
    inmss = rows["stype"].isin(_INMSS)
    if cap is not None and inmss.sum() > max(cap, int((inmss & rows["kept"]).sum())):
        out.append(f"INMSS: {int(inmss.sum())} placed over the cap of {cap}")
    return out


def _check_costs(ds: Dataset, rows: pd.DataFrame, res) -> list[str]:
    pol = ds.policy
    transport = _transport_gbp(ds, rows)
    out = _say(
        rows,
        np.abs(transport - rows["transport_cost_gbp"].to_numpy()) > 0.01,
        "transport cost differs from the recomputation",
    )
    new = ~rows["kept"].to_numpy(bool)
    out += _say(
        rows,
        new & (cast(pd.Series, np.abs(rows["fee"] - rows["place_cost_gbp"])) > 0.005).to_numpy(),
        "place cost differs from places.csv / the costing framework",
    )
    pens = np.array(list(pol.preference_penalty_gbp) or [0.0])
    pos = rows["pref_pos"].to_numpy()
    ranked_any = rows["n_prefs"].to_numpy() > 0
    pen = np.where(
        pos >= 0,
        pens[np.minimum(np.maximum(pos, 0), len(pens) - 1)],
        np.where(ranked_any, pol.unranked_penalty_gbp, 0.0),
    )
    if pol.honour_preference_below_gbp:
        pen = _honoured_weights(pos, rows["n_prefs"].to_numpy(), pol)
    pen = np.where(new, pen, 0.0)
    extra = rows["arc_cost"] - (rows["place_cost_gbp"] + rows["transport_cost_gbp"] + pen)
    wants = rows["prefers_mainstream"].fillna(False).to_numpy(bool)
    duty = wants & rows["stype"].isin(_MAINSTREAM).to_numpy() & new
    ok = (extra.abs() <= 0.5) | (duty & ((extra + res.duty_weight_gbp).abs() <= 0.5))
    out += _say(rows, ~ok.to_numpy(), "arc_cost differs from place + transport + preference terms")
    penalty = res.unplaced_penalty_gbp
    if len(res.unplaced) and (
        penalty < pol.unplaced_penalty_gbp
        or penalty <= (rows["arc_cost"].max() if len(rows) else 0)
    ):
        out.append(f"unplaced penalty {penalty:.0f} below the policy's or a placement's cost")
    total = rows["arc_cost"].sum() + len(res.unplaced) * penalty
    if abs(total - res.objective) > 0.5:
        out.append(f"objective {res.objective:.0f} ≠ recomputed {total:.0f}")
    return out


def _honoured_weights(pos: np.ndarray, n_prefs: np.ndarray, pol) -> np.ndarray:
    """Preference weights under ``honour_preference_below_gbp`` = T, rank by rank.

    w'(1) = w(1), w'(r) = max(w(r), w'(r − 1) + T); unranked: max(unranked, w'(n) + T).
    """
    t, pens = float(pol.honour_preference_below_gbp), list(pol.preference_penalty_gbp) or [0.0]
    top = int(max(pos.max(initial=0) + 1, n_prefs.max(initial=1)))
    w = [float(pens[0])]
    for r in range(1, top):
        w.append(max(float(pens[min(r, len(pens) - 1)]), w[-1] + t))
    out = np.zeros(len(pos))
    for i, (p, n) in enumerate(zip(pos, n_prefs, strict=True)):
        if p >= 0:
            out[i] = w[p]
        elif n > 0:
            out[i] = max(pol.unranked_penalty_gbp, w[n - 1] + t)
    return out


def _transport_gbp(ds: Dataset, rows: pd.DataFrame) -> np.ndarray:
    """Each placement's transport cost [GBP/yr], recomputed from the policy text.

    Eligible when the child cannot walk (own flag, or package listed; no list =
    all) or lives beyond the walking distance (2 miles under 8, else 3; exactly
    on it is within), and not post-16 when post-16 transport is off. Mode: the
    agreed travel_mode, else solo taxi when travelling alone, else the cheaper of
    minibus / shared taxi that has room for a wheelchair when needed (else solo).
    """
    pol = ds.policy
    tp = pol.transport
    n = len(rows)

    def column(name: str, blank: str | float) -> np.ndarray:
        if name not in rows.columns:
            return np.full(n, blank, dtype=object)
        return rows[name].fillna(blank).to_numpy(object)

    miles = rows["distance_km"].to_numpy(float) / _MILE_KM
    age = column("age", 0).astype(float)
    listed = tp.cannot_walk_packages
    lame = column("cannot_walk", False).astype(bool)
    if listed is None:
        lame[:] = True
    else:
        lame |= rows["child_package"].isin(list(listed)).to_numpy()
    walk = pol.walking_distance_miles
    limit = np.where(age < 8, walk.under_8, walk.from_8)
    home = ~lame & (miles <= limit + 1e-9)
    if not tp.post16_eligible:
        home |= age >= pol.phase_age.post16_from
    day = {
        m: getattr(tp, m).fixed_gbp_per_day + getattr(tp, m).gbp_per_mile * 2 * miles
        for m in ("personal_budget", "minibus", "shared_taxi", "solo_taxi")
    }
    chair = column("wheelchair", False).astype(bool)
    shared = {
        m: np.where(chair & (getattr(tp, m).wheelchair_spaces == 0), np.inf, day[m])
        for m in ("minibus", "shared_taxi")
    }
    cheapest = np.where(
        shared["shared_taxi"] < shared["minibus"], day["shared_taxi"], day["minibus"]
    )
    cheapest = np.where(
        np.isinf(np.minimum(shared["minibus"], shared["shared_taxi"])), day["solo_taxi"], cheapest
    )
    per_day = np.where(column("solo_transport", False).astype(bool), day["solo_taxi"], cheapest)
    agreed = column("travel_mode", "")
    for m, cost in day.items():
        per_day = np.where(agreed == m, cost, per_day)
    return np.where(home, 0.0, per_day * pol.school_days_per_year)
