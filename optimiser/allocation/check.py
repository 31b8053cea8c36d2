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

from optimiser.dataset.ids import code_groups, object_index, positions
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
    n_ids = len(placed) + len(unplaced)
    everyone = _everyone(ds)
    # the placements' ids as Python objects once (the lookup converts them, and so would
    # the join); the unplaced ids as they are (pandas text is looked up in Arrow)
    placed_ids = placed["child_id"].to_numpy(object)
    pos = (
        np.r_[positions(everyone, placed_ids), positions(everyone, unplaced["child_id"])]
        if everyone.is_unique
        else np.full(n_ids, -1)
    ).astype(np.int64)
    once = (
        n_ids == len(everyone)
        and bool((pos >= 0).all())
        and np.bincount(pos, minlength=1).max(initial=0) <= 1
    )
    if not once:
        out.append(
            f"placed + unplaced ({n_ids} rows) do not cover the "
            f"{len(ds.children)} children exactly once"
        )
    # ids unique: the placements' rows among the children are the first len(placed) found
    rows = _joined(ds, placed, pos[: len(placed)] if everyone.is_unique else None, placed_ids)
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


def _continuing_over_places(ds: Dataset, rows: _Rows) -> list[str]:
    """Warnings for continuing children kept beyond places, by setting × package and setting.

    Groups are by value, as ``groupby`` has them (a missing id is in no group), sorted
    by setting id (then package id); every row of a group has the same places.
    """
    kept = rows["kept"]
    sid = rows["setting_id"][kept].astype(object)
    pkg = rows["child_package"][kept].astype(object)
    n_places = np.nan_to_num(_float(rows["n_places"])[kept])
    total = _float(rows["total_places"])[kept]
    s_code, _ = pd.factorize(sid)
    p_code, _ = pd.factorize(pkg)
    out = []
    pair = np.where(
        (s_code >= 0) & (p_code >= 0), s_code * (p_code.max(initial=0) + 1) + p_code, -1
    )
    first, n = code_groups(pair[pair >= 0])
    first = np.flatnonzero(pair >= 0)[first]
    over = n > n_places[first]
    for i, m in sorted(
        zip(first[over].tolist(), n[over].tolist(), strict=True),
        key=lambda t: (sid[t[0]], pkg[t[0]]),
    ):
        out.append(over_places_warning(f"{sid[i]} × {pkg[i]}", m, float(n_places[i])))
    first, n = code_groups(s_code[s_code >= 0])
    first = np.flatnonzero(s_code >= 0)[first]
    over = ~np.isnan(total[first]) & (n > total[first])
    for i, m in sorted(
        zip(first[over].tolist(), n[over].tolist(), strict=True), key=lambda t: sid[t[0]]
    ):
        out.append(over_places_warning(str(sid[i]), m, float(total[i]), "total places"))
    cap = ds.policy.inmss_max_places
    n_inmss = int(rows["inmss"][kept].sum())
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


#: The placements' own columns the checks read.
_PLACED_FIELDS = (
    "child_id",
    "setting_id",
    "place_cost_gbp",
    "transport_cost_gbp",
    "distance_km",
    "travel_min",
    "arc_cost",
)

#: The placements joined with their raw fields: one array per name, one entry per placement.
_Rows = dict[str, np.ndarray]


def _take(values: pd.Series | np.ndarray, pos: np.ndarray) -> np.ndarray:
    """values[pos] by position; NaN/None where pos is −1 (not found)."""
    values = values.to_numpy() if isinstance(values, pd.Series) else values
    if len(pos) and pos.min() >= 0:
        return values[pos]
    return cast(np.ndarray, pd.api.extensions.take(values, pos, allow_fill=True))


def _float(values: np.ndarray) -> np.ndarray:
    """``values`` as float64 (NaN for a missing value), as pandas' ``astype(float)``."""
    if values.dtype.kind in "biuf":
        return values.astype(float, copy=False)
    return pd.Series(values, dtype=object).astype(float).to_numpy()


def _flag(values: np.ndarray) -> np.ndarray:
    """``values`` as bool, a missing value False (pandas' ``fillna(False)``)."""
    if values.dtype == bool:
        return values
    out = values.astype(object, copy=True)
    out[pd.isna(out)] = False
    return out.astype(bool)


def _isin(values: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Whether each value is one of ``names`` (a missing value is not)."""
    return pd.Series(values, dtype=object).isin(list(names)).to_numpy()


def _everyone(ds: Dataset) -> pd.Index:
    """Every child id of ``ds.children`` (in row order) as an object Index, built once."""
    return ds.derived("check.everyone", lambda: object_index(ds.children["child_id"]))


def _first_rows(
    frame: pd.DataFrame, keys: list[str], index: pd.Index | None = None
) -> pd.DataFrame:
    """``frame.drop_duplicates(keys)``, without copying a frame whose keys are unique.

    ``index``: ``object_index(frame[keys[0]])`` when the caller has it (one key only);
    its hash table answers whether the key is unique.
    """
    if len(keys) == 1:  # NaN is a value, as for duplicated: two NaN ids are not unique
        unique = (object_index(frame[keys[0]]) if index is None else index).is_unique
        return frame if unique else frame.drop_duplicates(keys)
    code = np.zeros(len(frame), np.int64)
    for key in keys:  # one integer per distinct key tuple (NaN is a value, as for duplicated)
        k, names = pd.factorize(frame[key], use_na_sentinel=False)
        code = code * (len(names) + 1) + k
    if len(np.unique(code)) == len(code):
        return frame
    return frame.drop_duplicates(keys)


def _raw(ds: Dataset) -> dict:
    """The dataset's raw fields the checks read, looked up by child id and setting id.

    Built once per Dataset (:meth:`~optimiser.dataset.model.Dataset.derived`), from the
    dataset's own tables only (never from the model's arrays).
    """
    everyone = _everyone(ds)
    kids = _first_rows(ds.children, ["child_id"], everyone)
    settings = _first_rows(ds.settings, ["setting_id"])
    places = _first_rows(ds.places, ["setting_id", "package_id"])
    setting_index = object_index(settings["setting_id"])
    # the places row of (setting, package), through a setting × package table
    packages = object_index(pd.unique(places["package_id"]))
    table = np.full((len(settings) + 1, len(packages) + 1), -1, np.int64)
    ps = positions(setting_index, places["setting_id"])
    ok = np.flatnonzero(ps >= 0)
    table[ps[ok], positions(packages, places["package_id"])[ok]] = ok
    return {
        "child_index": everyone if kids is ds.children else object_index(kids["child_id"]),
        "setting_index": setting_index,
        "child": {name: kids[col].to_numpy() for name, col in _CHILD_FIELDS.items() if col in kids},
        "setting": {name: settings[col].to_numpy() for name, col in _SETTING_FIELDS.items()},
        "packages": packages,
        "table": table,
        "fee": places["annual_cost_gbp"].astype(float).to_numpy(),
        "n_places": places["places"].astype(float).to_numpy(),
        "closed": settings["closed"].to_numpy(bool),
        # the setting types' families, by settings row (taken per placement by _joined)
        "inmss": _isin(settings["setting_type"].to_numpy(), _INMSS),
        "mainstream": _isin(settings["setting_type"].to_numpy(), _MAINSTREAM),
    }


def _joined(
    ds: Dataset,
    placed: pd.DataFrame,
    ci: np.ndarray | None = None,
    child_ids: np.ndarray | None = None,
) -> _Rows:
    """The placements with their child's, setting's and places row's raw fields.

    ``ci``: each placement's row in ``ds.children`` when the caller has looked them up
    (child ids unique), else looked up here; ``child_ids``: ``placed["child_id"]`` as an
    object array, when the caller has it. The ranked preferences (``n_prefs``,
    ``pref_pos``) are worked out for the new placements only: a continuing child kept
    where they are had no choice (their preference terms are 0), so 0 and −1 for them.
    """
    raw = ds.derived("check.raw", lambda: _raw(ds))
    ci = positions(raw["child_index"], placed["child_id"]) if ci is None else ci
    si = positions(raw["setting_index"], placed["setting_id"])
    cols = {name: placed[name].to_numpy() for name in _PLACED_FIELDS if name != "child_id"}
    cols["child_id"] = placed["child_id"].to_numpy() if child_ids is None else child_ids
    cols |= {name: _take(values, ci) for name, values in raw["child"].items()}
    cols |= {name: _take(values, si) for name, values in raw["setting"].items()}
    cols["s_pos"] = si
    cols["k_pos"] = positions(raw["packages"], cols["child_package"])
    pi = raw["table"][si, cols["k_pos"]]
    cols["fee"] = _take(raw["fee"], pi)
    cols["n_places"] = _take(raw["n_places"], pi)
    current = cols["current_setting_id"].astype(object, copy=True)
    current[pd.isna(current)] = ""
    at = positions(raw["setting_index"], current)
    closed = np.zeros(len(current), bool)
    closed[at >= 0] = raw["closed"][at[at >= 0]]
    cols["kept"] = np.asarray((ds.policy.continuity == "keep") & (current != "") & ~closed, bool)
    new = np.flatnonzero(~cols["kept"])
    prefs = _rankings(cols["preferences"][new])
    cols["n_prefs"] = np.zeros(len(ci), np.int64)
    cols["n_prefs"][new] = np.fromiter(map(len, prefs), np.int64, len(prefs))
    cols["pref_pos"] = np.full(len(ci), -1, np.int64)
    cols["pref_pos"][new] = _preference_position(
        cols["setting_id"][new], prefs, cols["n_prefs"][new]
    )
    cols["inmss"] = _flags_at(raw["inmss"], si)
    cols["mainstream"] = _flags_at(raw["mainstream"], si)
    return cols


def _flags_at(flags: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``flags[pos]`` (one flag per settings row), False where ``pos`` is −1 (not found)."""
    if not len(flags):
        return np.zeros(len(pos), bool)
    return np.where(pos >= 0, flags[np.maximum(pos, 0)], False)


def _rankings(values: np.ndarray) -> list | np.ndarray:
    """Each child's ranked settings: its list or tuple, anything else none (``()``)."""
    if set(map(type, values)) <= {list, tuple}:  # the usual case: no value to replace
        return values
    return [p if isinstance(p, (list, tuple)) else () for p in values]


def _preference_position(
    setting: np.ndarray, prefs: list | np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """0-based position of each placement's setting in the child's ranked list; −1 if absent."""
    flat = np.empty(int(lengths.sum()), object)
    flat[:] = list(itertools.chain.from_iterable(prefs))
    row = np.repeat(np.arange(len(prefs)), lengths)
    within = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    hit = np.flatnonzero(flat == np.asarray(setting, object)[row])[::-1]
    pos = np.full(len(prefs), -1, np.int64)
    pos[row[hit]] = within[hit]  # reversed, so a setting listed twice keeps its first position
    return pos


def _phase_cap(ds: Dataset, age: np.ndarray) -> np.ndarray:
    pa, caps = ds.policy.phase_age, ds.policy.max_travel_min
    return np.where(
        age >= pa.post16_from,
        caps.post16,
        np.where(age >= pa.secondary_from, caps.secondary, caps.primary),
    )


def _say(rows: _Rows, bad: np.ndarray, text: str) -> list[str]:
    return [f"{cid}: {text}" for cid in rows["child_id"][np.asarray(bad, bool)][:20]]


def _check_rules(ds: Dataset, rows: _Rows) -> list[str]:
    kept = rows["kept"]
    out = _say(
        rows,
        kept & (rows["setting_id"] != rows["current_setting_id"]),
        "continuing placement moved",
    )
    new = ~kept
    out += _say(
        rows,
        new & (pd.isna(rows["fee"]) | rows["closed"].astype(bool)),
        "setting does not deliver the child's package or is closed",
    )
    age = _float(rows["age"])
    out += _say(
        rows,
        new & ~((_float(rows["age_min"]) <= age) & (age <= _float(rows["age_max"]))),
        "age outside the setting's range",
    )
    dx = _float(rows["cx"]) - _float(rows["sx"])
    dy = _float(rows["cy"]) - _float(rows["sy"])
    km = np.hypot(dx, dy) / 1000 * ds.policy.detour_factor
    minutes = km / ds.policy.speed_kmh * 60
    if ds.roads is not None:
        minutes = _road_minutes(ds, rows)
    ranked = rows["pref_pos"] >= 0
    out += _say(
        rows,
        new & over_journey_cap(minutes, _phase_cap(ds, age)) & ~ranked,
        "journey over the cap and not a parental preference",
    )
    if ds.roads is None:
        out += _say(
            rows,
            np.abs(minutes - _float(rows["travel_min"])) > 1e-6,
            "travel_min differs from the straight-line × detour recomputation",
        )
        out += _say(
            rows,
            np.abs(km - _float(rows["distance_km"])) > 1e-6,
            "distance_km differs from the recomputation",
        )
    return out


def _road_minutes(ds: Dataset, rows: _Rows) -> np.ndarray:
    """Journey times [min] home → setting on the road graph, recomputed with networkx.

    Independent of the travel model's csgraph route search: one networkx Dijkstra per
    distinct setting node, on the reversed graph (so each is the time *to* the setting from
    every node), and each home's nearest node by KD-tree; plus the straight walk to and
    from the nearest nodes at the policy speed.
    """
    import networkx as nx
    from scipy.spatial import cKDTree

    graph, speed = cast(nx.Graph, ds.roads), ds.policy.speed_kmh  # caller: roads is not None
    nodes = list(graph.nodes)
    tree = cKDTree(np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in nodes]))
    homes = np.column_stack([_float(rows["cx"]), _float(rows["cy"])])
    sites = np.column_stack([_float(rows["sx"]), _float(rows["sy"])])
    da, ia = tree.query(homes) if len(homes) else (np.zeros(0), np.zeros(0, int))
    db, ib = tree.query(sites) if len(sites) else (np.zeros(0), np.zeros(0, int))

    def edge_min(u: object, v: object, data: dict) -> float:
        if graph.is_multigraph():
            data = min(data.values(), key=lambda d: d["length"])
        return data["length"] / (float(data.get("speed_kph", speed)) * 1000 / 60)

    back = graph.reverse(copy=False) if graph.is_directed() else graph
    path_min = np.full(len(rows["cx"]), np.inf)
    for b in np.unique(ib):
        to_b = nx.single_source_dijkstra_path_length(back, nodes[int(b)], weight=edge_min)
        at = np.flatnonzero(ib == b)
        path_min[at] = [to_b.get(nodes[int(a)], np.inf) for a in ia[at]]
    return path_min + (da + db) / (speed * 1000 / 60)


def _overfull(
    kept_rows: np.ndarray, codes: np.ndarray, limit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first row, used, limit) of each group of ``codes`` (≥ 0) holding more than its limit.

    The limit is never below the continuing children kept there (``kept_rows``); a NaN
    limit (unknown) flags nothing. Groups in code order, counted by ``bincount``.
    """
    first, used = code_groups(codes)
    kept = np.bincount(codes, weights=kept_rows)[codes[first]] if len(codes) else np.zeros(0)
    lim = np.maximum(limit[first], kept)
    bad = np.flatnonzero(used > lim)
    return first[bad], used[bad], lim[bad]


def _check_capacity(ds: Dataset, rows: _Rows) -> list[str]:
    s_pos, k_pos = rows["s_pos"] + 1, rows["k_pos"] + 1
    sid, pkg = rows["setting_id"], rows["child_package"]
    kept = rows["kept"]
    pairs = _overfull(
        kept, s_pos * (k_pos.max(initial=0) + 1) + k_pos, np.nan_to_num(_float(rows["n_places"]))
    )
    settings = _overfull(kept, s_pos, _float(rows["total_places"]))
    out = [
        f"{s} × {p}: {u} placed in {lim:.0f} places"
        for s, p, u, lim in sorted(zip(sid[pairs[0]], pkg[pairs[0]], *pairs[1:], strict=True))
    ]
    out += [
        f"{s}: {u} placed in {lim:.0f} total places"
        for s, u, lim in sorted(zip(sid[settings[0]], *settings[1:], strict=True))
    ]
    cap = ds.policy.inmss_max_places
    inmss = rows["inmss"]
    if cap is not None and inmss.sum() > max(cap, int((inmss & kept).sum())):
        out.append(f"INMSS: {int(inmss.sum())} placed over the cap of {cap}")
    return out


def _check_costs(ds: Dataset, rows: _Rows, res) -> list[str]:
    pol = ds.policy
    transport = _transport_gbp(ds, rows)
    out = _say(
        rows,
        np.abs(transport - _float(rows["transport_cost_gbp"])) > 0.01,
        "transport cost differs from the recomputation",
    )
    new = ~rows["kept"]
    place = _float(rows["place_cost_gbp"])
    out += _say(
        rows,
        new & (np.abs(_float(rows["fee"]) - place) > 0.005),
        "place cost differs from places.csv / the costing framework",
    )
    pens = np.array(list(pol.preference_penalty_gbp) or [0.0])
    pos = rows["pref_pos"]
    ranked_any = rows["n_prefs"] > 0
    pen = np.where(
        pos >= 0,
        pens[np.minimum(np.maximum(pos, 0), len(pens) - 1)],
        np.where(ranked_any, pol.unranked_penalty_gbp, 0.0),
    )
    if pol.honour_preference_below_gbp:
        pen = _honoured_weights(pos, rows["n_prefs"], pol)
    pen = np.where(new, pen, 0.0)
    arc_cost = rows["arc_cost"]
    extra = arc_cost - (place + _float(rows["transport_cost_gbp"]) + pen)
    wants = _flag(rows["prefers_mainstream"])
    duty = wants & rows["mainstream"] & new
    ok = (np.abs(extra) <= 0.5) | (duty & (np.abs(extra + res.duty_weight_gbp) <= 0.5))
    out += _say(rows, ~ok, "arc_cost differs from place + transport + preference terms")
    penalty = res.unplaced_penalty_gbp
    if len(res.unplaced) and (
        penalty < pol.unplaced_penalty_gbp or penalty <= (arc_cost.max() if len(arc_cost) else 0)
    ):
        out.append(f"unplaced penalty {penalty:.0f} below the policy's or a placement's cost")
    total = arc_cost.sum() + len(res.unplaced) * penalty
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


def _transport_gbp(ds: Dataset, rows: _Rows) -> np.ndarray:
    """Each placement's transport cost [GBP/yr], recomputed from the policy text.

    Eligible when the child cannot walk (own flag, or package listed; no list =
    all) or lives beyond the walking distance (2 miles under 8, else 3; exactly
    on it is within), and not post-16 when post-16 transport is off. Mode: the
    agreed travel_mode, else solo taxi when travelling alone, else the cheaper of
    minibus / shared taxi that has room for a wheelchair when needed (else solo).
    """
    pol = ds.policy
    tp = pol.transport
    n = len(rows["child_id"])

    def column(name: str, blank: str | float) -> np.ndarray:
        if name not in rows:
            return np.full(n, blank, dtype=object)
        if rows[name].dtype.kind in "biu":  # nothing missing: as the object path gives it
            return rows[name]
        values = rows[name].astype(object, copy=True)
        values[pd.isna(values)] = blank
        return values

    miles = _float(rows["distance_km"]) / _MILE_KM
    age = column("age", 0).astype(float)
    listed = tp.cannot_walk_packages
    lame = column("cannot_walk", False).astype(bool)
    if listed is None:
        lame[:] = True
    else:
        lame |= _isin(rows["child_package"], list(listed))
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
