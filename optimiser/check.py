"""Independent checker of an allocation, written without reusing the model code.

It recomputes, from the raw dataset only: one placement per child and every
child placed or unplaced exactly once; the setting delivers the package and is
open; age within the setting's range; journey within the phase cap unless the
parent ranked the setting; continuing children kept (policy ``keep``);
capacities per (setting, package), per setting and the INMSS cap (never below
the continuing children already there); place and transport costs; each arc
cost; and the objective. It returns a list of violations (empty when valid).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.datamodel import Dataset

_INMSS = ("nmss", "independent_special")
_MAINSTREAM = ("mainstream", "inclusion_base")
_MILE_KM = 1.609344


def check_allocation(ds: Dataset, res) -> list[str]:
    """Violations of the rules above in ``res`` (an AllocationResult); empty when valid."""
    out: list[str] = []
    placed, unplaced = res.placements, res.unplaced
    ids = pd.concat([placed["child_id"], unplaced["child_id"]])
    if ids.duplicated().any() or set(ids) != set(ds.children["child_id"]):
        out.append(
            f"placed + unplaced ({len(ids)} rows) do not cover the "
            f"{len(ds.children)} children exactly once"
        )
    rows = _joined(ds, placed)
    out += _check_rules(ds, rows)
    out += _check_capacity(ds, rows)
    out += _check_costs(ds, rows, res)
    return out


def _joined(ds: Dataset, placed: pd.DataFrame) -> pd.DataFrame:
    kids = ds.children.rename(
        columns={"package_id": "child_package", "easting": "cx", "northing": "cy"}
    )
    settings = ds.settings.rename(columns={"easting": "sx", "northing": "sy"})
    rows = placed.merge(kids, on="child_id", how="left").merge(
        settings[
            [
                "setting_id",
                "sx",
                "sy",
                "age_min",
                "age_max",
                "closed",
                "setting_type",
                "total_places",
            ]
        ].rename(columns={"setting_type": "stype"}),
        on="setting_id",
        how="left",
    )
    places = ds.places.rename(columns={"annual_cost_gbp": "fee", "places": "n_places"})
    rows = rows.merge(
        places[["setting_id", "package_id", "fee", "n_places"]],
        left_on=["setting_id", "child_package"],
        right_on=["setting_id", "package_id"],
        how="left",
        suffixes=("", "_p"),
    )
    closed = set(ds.settings.loc[ds.settings["closed"], "setting_id"])
    current = rows["current_setting_id"].astype(str)
    rows["kept"] = (ds.policy.continuity == "keep") & (current != "") & ~current.isin(closed)
    return rows


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
    km = np.hypot(rows["cx"] - rows["sx"], rows["cy"] - rows["sy"]) / 1000 * ds.policy.detour_factor
    minutes = (km / ds.policy.speed_kmh * 60).to_numpy()
    if ds.roads is not None:
        minutes = _road_minutes(ds, rows)
    ranked = np.array(
        [s in p for s, p in zip(rows["setting_id"], rows["preferences"], strict=True)], dtype=bool
    )
    out += _say(
        rows,
        new & (minutes > _phase_cap(ds, age) + 1e-6) & ~ranked,
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

    graph, speed = ds.roads, ds.policy.speed_kmh
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


def _check_capacity(ds: Dataset, rows: pd.DataFrame) -> list[str]:
    out = []
    keys = ["setting_id", "child_package"]
    used = rows.groupby(keys).size()
    kept = rows[rows["kept"]].groupby(keys).size().reindex(used.index, fill_value=0)
    limit = rows.groupby(keys)["n_places"].first().fillna(0).combine(kept, max)
    out += [
        f"{s} × {p}: {used[(s, p)]} placed in {limit[(s, p)]:.0f} places"
        for s, p in used.index[used > limit]
    ]
    used_s = rows.groupby("setting_id").size()
    kept_s = rows[rows["kept"]].groupby("setting_id").size().reindex(used_s.index, fill_value=0)
    limit_s = rows.groupby("setting_id")["total_places"].first().combine(kept_s, max)
    out += [
        f"{s}: {used_s[s]} placed in {limit_s[s]:.0f} total places"
        for s in used_s.index[used_s > limit_s]
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
        new & (np.abs(rows["fee"] - rows["place_cost_gbp"]) > 0.005).to_numpy(),
        "place cost differs from places.csv / the costing framework",
    )
    pens = list(pol.preference_penalty_gbp) or [0.0]
    pen = np.array(
        [
            0.0
            if k
            else (
                pens[min(p.index(s), len(pens) - 1)]
                if s in p
                else (pol.unranked_penalty_gbp if p else 0.0)
            )
            for s, p, k in zip(rows["setting_id"], rows["preferences"], rows["kept"], strict=True)
        ]
    )
    extra = rows["arc_cost"] - (rows["place_cost_gbp"] + rows["transport_cost_gbp"] + pen)
    duty = rows["prefers_mainstream"].astype(bool) & rows["stype"].isin(_MAINSTREAM) & new
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


def _transport_gbp(ds: Dataset, rows: pd.DataFrame) -> np.ndarray:
    """Each placement's transport cost [GBP/yr], recomputed row by row from the policy text.

    Eligible when the child cannot walk (own flag, or package listed; no list =
    all) or lives beyond the walking distance (2 miles under 8, else 3; exactly
    on it is within), and not post-16 when post-16 transport is off. Mode: the
    agreed travel_mode, else solo taxi when travelling alone, else the cheaper of
    minibus / shared taxi that has room for a wheelchair when needed (else solo).
    """
    pol = ds.policy
    tp = pol.transport
    walk = pol.walking_distance_miles
    listed = tp.cannot_walk_packages

    def per_day(mode: str, miles: float) -> float:
        rate = getattr(tp, mode)
        return rate.fixed_gbp_per_day + rate.gbp_per_mile * 2 * miles

    def column(name: str, blank: object) -> list:
        return rows[name].fillna(blank).tolist() if name in rows.columns else [blank] * len(rows)

    out = np.zeros(len(rows))
    items = zip(
        rows["distance_km"].tolist(),
        column("age", 0),
        column("solo_transport", False),
        column("cannot_walk", False),
        column("wheelchair", False),
        column("travel_mode", ""),
        rows["child_package"].tolist(),
        strict=True,
    )
    for k, (km, age, solo, lame, chair, agreed, package) in enumerate(items):
        miles = km / _MILE_KM
        limit = walk.under_8 if age < 8 else walk.from_8
        walks = not (lame or listed is None or package in listed)
        if (walks and miles <= limit + 1e-9) or (
            age >= pol.phase_age.post16_from and not tp.post16_eligible
        ):
            continue
        if agreed in ("personal_budget", "minibus", "shared_taxi", "solo_taxi"):
            mode = agreed
        elif solo:
            mode = "solo_taxi"
        else:
            fits = [
                (per_day(m, miles), m)
                for m in ("minibus", "shared_taxi")
                if not chair or getattr(tp, m).wheelchair_spaces > 0
            ]
            mode = min(fits)[1] if fits else "solo_taxi"
        out[k] = per_day(mode, miles) * pol.school_days_per_year
    return out
