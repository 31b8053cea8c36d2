"""Eligible placements (arcs) of the allocation model, with their costs.

An arc (child, setting, package) exists only when all hold:

1. the setting has a places row for the child's package and is not closed;
2. the child's age is within the setting's age range;
3. the journey is within the policy cap for the child's phase, unless the
   parent ranked the setting (parents may choose a setting beyond the cap).

A continuing placement (``current_setting_id``, policy ``continuity: keep``)
is that child's only arc, whatever rules 2-3 say: the child stays.

Arc cost [GBP/yr, whole pounds] = place cost + transport cost + preference
penalty + mainstream-duty penalty, where

* place cost is ``places.annual_cost_gbp`` (own fee, else the costing framework);
* transport cost is :func:`optimiser.transport.transport_cost_gbp`;
* the preference penalty (0 for a continuing placement) is
  ``preference_penalty_gbp[rank-1]`` for a ranked setting (the last value for
  ranks beyond the list) and ``unranked_penalty_gbp`` for any other setting
  when the parent ranked some; 0 when they ranked none; policy
  ``honour_preference_below_gbp`` = T raises these weights just enough that any
  step up the parent's ranking (unranked counting as one step below the last
  rank) weighs at least T (:func:`honour_terms`). Hence, for a child placed at a,
  a setting b the parent ranked above a, with a spare place and a place +
  transport cost m_b < m_a + T, always lowers the objective: moving the child
  changes it by (m_b − m_a) − (w'_a − w'_b) ≤ m_b − m_a − T < 0, so the optimum
  never leaves such a preference unmet (unless the mainstream duty below ranks a
  above b);
* the mainstream duty (``duty_term_gbp``): when the parent prefers mainstream,
  each mainstream or inclusion-base arc of that child gets a bonus −W, with
  W = max(policy ``mainstream_duty_gbp``, Σ_i M_i + 1), M_i being child i's
  largest other-terms cost over its arcs, summed over the children being placed.
  The other terms of any allocation lie in [0, Σ_i M_i], so an allocation that
  honours h mainstream preferences costs at most Σ_i M_i − W·h, and one that
  honours fewer costs at least −W·(h − 1) > Σ_i M_i − W·h. Honouring more
  mainstream preferences (placing such children in mainstream, rather than
  elsewhere or not at all) therefore always wins, whoever else is placed: the
  duty dominates every cost and preference trade-off (lexicographic separation).
  Arc costs of those arcs are negative for that reason.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from optimiser._solver.resources import available_cores, thread_map
from optimiser.dataset.ids import as_text, object_frame, object_index, positions
from optimiser.dataset.model import Dataset
from optimiser.policy import Policy, over_journey_cap
from optimiser.schema.tables import MAINSTREAM_TYPES
from optimiser.transport.rules import (
    assess_codes,
    child_need_columns,
    is_eligible,
    mode_codes,
)
from optimiser.transport.travel import max_straight_km, pairs_within, road_km_and_min

ARC_COLUMNS = [
    "child_id",
    "setting_id",
    "package_id",
    "place_cost_gbp",
    "transport_cost_gbp",
    "distance_km",
    "travel_min",
    "preference_rank",
    "arc_cost",
]


def child_frame(ds: Dataset) -> pd.DataFrame:
    """Children (in ``ds.children`` order) with what the model needs of each.

    The transport needs of :func:`optimiser.transport.child_needs`, plus phase,
    journey cap [min], whether the placement is fixed, current setting,
    mainstream preference and the ranked preferences (and how many).
    """
    pol = ds.policy
    kids = ds.children
    out = child_need_columns(ds)
    settings = ds.settings
    closed = settings["setting_id"].to_numpy(object)[settings["closed"].to_numpy(bool)]
    current = as_text(kids["current_setting_id"])
    fixed = (pol.continuity == "keep") & (current != "")
    if len(closed):
        fixed &= ~pd.Series(current, dtype=object, copy=False).isin(closed).to_numpy()
    age = out["age"]
    prefs = kids["preferences"].to_numpy()
    # phase and current stay Python objects (not pandas text): the model reads them as
    # arrays, and a text column costs a conversion each way. One frame of all the
    # columns: a column set at a time costs ~0.3 ms each at 7,000 children.
    columns: dict[str, np.ndarray | pd.Series] = {
        **out,
        "phase": _phases(pol, age),
        "cap_min": pol.travel_caps_min(age),
        "fixed": np.asarray(fixed, bool),
        "current": current,
        "prefers_mainstream": pd.Series(kids["prefers_mainstream"].to_numpy(), copy=False),
        "prefs": np.asarray(prefs, dtype=object),
        "n_prefs": np.fromiter(map(len, prefs), np.int64, len(prefs)),
    }
    return object_frame(columns)


#: Widest span of ages [years] :func:`_phases` names through a table of every age in it.
_AGE_TABLE_SPAN = 1000


def _phases(pol: Policy, age: np.ndarray) -> np.ndarray:
    """``pol.phases_of_ages(age)``, worked out once per age: one name object per phase.

    The names are then shared objects (their hashes kept), which the lookups of
    phases by name later find at once (0.3 ms against 0.8 ms for 7,000 children).
    """
    if not len(age) or int(age.max()) - int(age.min()) > _AGE_TABLE_SPAN:
        return pol.phases_of_ages(age)
    low = int(age.min())
    return pol.phases_of_ages(np.arange(low, int(age.max()) + 1))[age - low]


def points(frame: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """``frame[[x, y]].to_numpy(float)`` [m], without selecting a two-column frame first."""
    return np.column_stack([frame[x].to_numpy(float), frame[y].to_numpy(float)])


def _place_rows(settings: pd.DataFrame, places: pd.DataFrame, package: pd.Index) -> np.ndarray:
    """Table (setting position, package position) → places row; −1 where there is none.

    Columns follow ``package``; the extra last column (position −1) stands for
    a package no setting lists.
    """
    table = np.full((len(settings), len(package) + 1), -1, np.int64)
    s = positions(settings["setting_id"], places["setting_id"])
    k = positions(package, places["package_id"])
    ok = np.flatnonzero((s >= 0) & (k >= 0))[::-1]  # reversed: the first row of a duplicate wins
    table[s[ok], k[ok]] = ok
    return table


#: Largest child × setting block whose distances :func:`_near_pairs` works out directly,
#: rather than through a KD-tree pass [pairs]: 16 MB of float64 at this size.
DIRECT_PAIRS = 2_000_000

#: Free children × settings above which :func:`_near_pairs` works out its packages on
#: threads (an LA's few thousand children stay in one thread: no pool for milliseconds).
THREAD_PAIRS = 50_000_000


def _near_pairs(
    kids: pd.DataFrame, settings: pd.DataFrame, table: np.ndarray, kid_k: np.ndarray, ds: Dataset
) -> tuple[np.ndarray, np.ndarray]:
    """(child, setting) positions: open settings offering the free child's package, at an
    age they take, within reach.

    Per package, the straight line [m] against the radius the child's journey cap
    allows: directly (:func:`_within_direct`: the ``np.hypot`` test that
    :func:`~optimiser.transport.travel.pairs_within` settles its borderline pairs with,
    so the same pairs) when the block has at most ``DIRECT_PAIRS`` pairs, else by its
    KD-tree pass. Age and closure would drop the
    other pairs of a free child from the arcs anyway (:func:`_apply_eligibility`).
    """
    is_free = ~kids["fixed"].to_numpy(bool)
    radius = max_straight_km(kids["cap_min"].to_numpy(), policy=ds.policy, graph=ds.roads)
    xy, sxy = points(kids, "x", "y"), points(settings, "easting", "northing")
    age = kids["age"].to_numpy()
    lo, hi = settings["age_min"].to_numpy(float), settings["age_max"].to_numpy(float)
    open_ = ~settings["closed"].to_numpy(bool)

    def block(task: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        who, offer = task
        if len(who) * len(offer) <= DIRECT_PAIRS:
            a = age[who][:, None]
            fits = (lo[offer] <= a) & (a <= hi[offer])
            c, j = _within_direct(xy[who], sxy[offer], radius[who] * 1000.0, fits)
        else:
            c, j = pairs_within(xy[who], sxy[offer], radius[who], sort=False)
            a = age[who][c]
            fits = (lo[offer][j] <= a) & (a <= hi[offer][j])
            c, j = c[fits], j[fits]
        return who[c], offer[j]

    # the KD-tree passes and numpy free the GIL: with many pairs (nationally), each
    # package's children in as many parts as there are cores, on threads (build_arcs
    # 3.13-3.17 s → 2.73-2.77 s on 2 cores); the same pairs either way (the caller sorts)
    parts = available_cores() if int(is_free.sum()) * len(settings) > THREAD_PAIRS else 1
    tasks = []
    for k in range(table.shape[1] - 1):
        offer = np.flatnonzero((table[:, k] >= 0) & open_)
        who = np.flatnonzero(is_free & (kid_k == k))
        split = parts if len(who) * len(offer) > DIRECT_PAIRS else 1
        tasks += [(w, offer) for w in np.array_split(who, split)]
    found = thread_map(block, tasks) if parts > 1 else [block(t) for t in tasks]
    near_c = [np.zeros(0, np.int64), *(c for c, _ in found)]
    near_s = [np.zeros(0, np.int64), *(j for _, j in found)]
    return np.concatenate(near_c), np.concatenate(near_s)


def _within_direct(
    home: np.ndarray, site: np.ndarray, radius_m: np.ndarray, among: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(home, site) positions of the pairs ``among`` (a home × site mask) with
    ``np.hypot(dx, dy) <= radius_m`` [m] of the home, in row order.

    The squared distance decides every pair it leaves in no doubt (its rounding is
    ~1e-15 relative, the margin 1e-9); ``np.hypot`` itself the few within the margin,
    so the answer is the hypot test's for every pair (hypot is ~20 times the cost).
    """
    dx = home[:, :1] - site[:, 0]
    dy = home[:, 1:] - site[:, 1]
    d2 = dx * dx + dy * dy
    r = np.where(radius_m >= 0, radius_m, np.nan)[:, None]  # hypot <= r < 0: never
    r2 = r * r
    inside = d2 <= r2 * (1 - 1e-9)
    doubt = among & ~inside & ~(d2 > r2 * (1 + 1e-9))
    hit = among & inside
    if doubt.any():
        i, k = np.nonzero(doubt)
        hit[i, k] = np.hypot(dx[i, k], dy[i, k]) <= r[i, 0]
    # row-major positions, as np.nonzero gives them (about 4 times faster on a block)
    c, j = np.divmod(np.flatnonzero(hit), hit.shape[1])
    return c, j


def _ranked_pairs(
    kids: pd.DataFrame, setting_index: pd.Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child, setting, rank) of the settings each free child's parent ranked (known ids)."""
    free_pos = np.flatnonzero(~kids["fixed"].to_numpy(bool))
    counts = kids["n_prefs"].to_numpy()[free_pos]
    prefs = kids["prefs"].to_numpy()
    c = np.repeat(free_pos, counts)
    ranked = np.empty(int(counts.sum()), object)  # an object Index: no text conversion
    ranked[:] = list(itertools.chain.from_iterable(prefs[free_pos]))
    s = positions(setting_index, ranked)
    rank = (np.arange(len(c)) - np.repeat(np.cumsum(counts) - counts, counts) + 1).astype(float)
    known = s >= 0
    return c[known], s[known], rank[known]


def _candidate_pairs(
    kids: pd.DataFrame, settings: pd.DataFrame, places: pd.DataFrame, ds: Dataset
) -> dict[str, np.ndarray]:
    """(child pos c, setting pos s, places row p, rank, fixed) of every pair worth checking.

    Pairs are: settings offering the child's package within the cap radius,
    settings the parent ranked, and continuing placements (p = −1 when the
    setting lists no places for the child's package). Sorted by (c, s); a pair
    found twice is kept once.
    """
    n_s = len(settings)
    setting_index = object_index(settings["setting_id"])
    package = object_index(pd.unique(places["package_id"]))
    table = _place_rows(settings, places, package)
    kid_k = positions(package, kids["package_id"])  # −1 → the "no package" column
    near_c, near_s = _near_pairs(kids, settings, table, kid_k, ds)
    ranked_c, ranked_s, ranked_rank = _ranked_pairs(kids, setting_index)
    fixed_pos = np.flatnonzero(kids["fixed"].to_numpy(bool))
    cont_s = positions(setting_index, kids["current"].to_numpy()[fixed_pos])
    cont_c, cont_s = fixed_pos[cont_s >= 0], cont_s[cont_s >= 0]

    c = np.concatenate([near_c, ranked_c, cont_c]).astype(np.int64)
    s = np.concatenate([near_s, ranked_s, cont_s]).astype(np.int64)
    key = np.sort(c * n_s + s)
    if len(key):  # a pair found twice once (same c and s)
        key = key[np.r_[True, key[1:] != key[:-1]]]
    c, s = key // n_s, key % n_s
    rank = np.full(len(c), np.nan)
    r_key = ranked_c * n_s + ranked_s
    r_first = np.unique(r_key, return_index=True)[1]  # a setting ranked twice: its first rank
    rank[np.searchsorted(key, r_key[r_first])] = ranked_rank[r_first]
    p = table[s, kid_k[c]]
    fixed = kids["fixed"].to_numpy(bool)[c]
    keep = (p >= 0) | fixed
    return {"c": c[keep], "s": s[keep], "p": p[keep], "rank": rank[keep], "fixed": fixed[keep]}


def build_arcs(ds: Dataset, kids: pd.DataFrame | None = None, *, ids: bool = True) -> pd.DataFrame:
    """All eligible arcs with cost terms, sorted by child then setting position.

    Extra columns are used by the model and the checker. ``kids`` is
    :func:`child_frame` of ``ds`` when the caller already has it. ``ids=False`` leaves
    out the three text id columns (child_id, package_id, setting_id: nationally 160 MB),
    which :func:`add_id_columns` puts in later, where they were.
    """
    kids = child_frame(ds) if kids is None else kids
    settings = ds.settings.reset_index(drop=True)
    places = ds.places.reset_index(drop=True)
    a = _candidate_pairs(kids, settings, places, ds)
    p = a["p"]
    cost = places["annual_cost_gbp"].to_numpy(float)[np.maximum(p, 0)]
    orphan = np.flatnonzero(p < 0)  # continuing, no places row: the setting's mean fee
    if len(orphan):
        fallback = places.groupby("setting_id")["annual_cost_gbp"].mean()
        sid = settings["setting_id"].to_numpy()[a["s"][orphan]]
        cost[orphan] = fallback.reindex(sid).fillna(0.0).to_numpy()
    a["annual_cost_gbp"] = cost
    a = _apply_eligibility(a, kids, settings, ds)
    return _add_costs(a, kids, settings, ds, ids=ids)


def _id_columns(
    c: np.ndarray, s: np.ndarray, kids: pd.DataFrame, settings: pd.DataFrame
) -> dict[str, pd.api.extensions.ExtensionArray | np.ndarray]:
    return {
        "child_id": _take_text(kids["child_id"], c),
        "package_id": _take_text(kids["package_id"], c, few=True),
        "setting_id": _take_text(settings["setting_id"], s),
    }


def add_id_columns(arcs: pd.DataFrame, ds: Dataset, kids: pd.DataFrame) -> None:
    """Put the text id columns of ``build_arcs(..., ids=False)`` into ``arcs``, in place.

    They go where :func:`build_arcs` puts them (after ``fixed``), with the same values and
    dtypes, so the frame is then the one ``build_arcs(ds, kids)`` returns.
    """
    settings = ds.settings.reset_index(drop=True)
    cols = _id_columns(arcs["c"].to_numpy(), arcs["s"].to_numpy(), kids, settings)
    at = list(arcs.columns).index("fixed") + 1
    for k, (name, values) in enumerate(cols.items()):
        arcs.insert(at + k, name, pd.Series(values, index=arcs.index, copy=False))


def _apply_eligibility(
    a: dict[str, np.ndarray], kids: pd.DataFrame, settings: pd.DataFrame, ds: Dataset
) -> dict[str, np.ndarray]:
    c, s = a["c"], a["s"]
    age = kids["age"].to_numpy()[c]
    fits = (settings["age_min"].to_numpy(float)[s] <= age) & (
        age <= settings["age_max"].to_numpy(float)[s]
    )
    open_ = ~settings["closed"].to_numpy(bool)[s]
    costed = ~np.isnan(a["annual_cost_gbp"])
    # journeys only for the pairs the rules above leave (a journey is one pair's alone)
    pre = np.flatnonzero(costed & (a["fixed"] | (fits & open_)))
    c, s = c[pre], s[pre]
    # rows by take: NumPy's fancy indexing of an (n, 2) array's rows is ~15 times slower
    km, mins = road_km_and_min(
        points(kids, "x", "y").take(c, axis=0),
        points(settings, "easting", "northing").take(s, axis=0),
        policy=ds.policy,
        graph=ds.roads,
    )
    within = ~over_journey_cap(mins, kids["cap_min"].to_numpy()[c])
    ranked = ~np.isnan(a["rank"][pre])
    reachable = np.isfinite(mins) & np.isfinite(km)
    keep = a["fixed"][pre] | (reachable & (within | ranked))
    rows = pre[keep]
    out = {name: values[rows] for name, values in a.items()}
    out["distance_km"], out["travel_min"] = km[keep], mins[keep]
    return out


def _add_costs(
    a: dict[str, np.ndarray],
    kids: pd.DataFrame,
    settings: pd.DataFrame,
    ds: Dataset,
    *,
    ids: bool = True,
) -> pd.DataFrame:
    pol = ds.policy
    c, s = a["c"], a["s"]
    eligible = is_eligible(
        a["distance_km"],
        age=kids["age"].to_numpy()[c],
        cannot_walk=kids["cannot_walk"].to_numpy()[c],
        policy=pol,
    )
    mode, transport = assess_codes(
        a["distance_km"],
        solo=kids["solo"].to_numpy()[c],
        eligible=eligible,
        wheelchair=kids["wheelchair"].to_numpy()[c],
        agreed=mode_codes(kids["travel_mode"].to_numpy())[c],
        policy=pol,
    )
    pens = np.asarray(pol.preference_penalty_gbp or (0.0,), float)
    rank = a["rank"]
    has_prefs = kids["n_prefs"].to_numpy()[c] > 0
    ranked_pen = pens[np.clip(np.nan_to_num(rank, nan=1).astype(int), 1, len(pens)) - 1]
    pref_pen = np.where(
        np.isnan(rank), np.where(has_prefs, pol.unranked_penalty_gbp, 0.0), ranked_pen
    )
    t_gbp = pol.honour_preference_below_gbp or 0.0
    n_prefs = kids["n_prefs"].to_numpy()[c]
    pref_pen += honour_terms(rank, n_prefs, pens, pol.unranked_penalty_gbp, t_gbp)
    pref_pen = np.where(a["fixed"], 0.0, pref_pen)  # continuing: no choice
    transport = np.round(transport, 2)
    mainstream = np.isin(settings["setting_type"].to_numpy(), MAINSTREAM_TYPES)[s]
    # on arrays, in the order the Series sums took them (same bits, no Series per step)
    base = a["annual_cost_gbp"] + transport + pref_pen
    duty = _duty_term_arrays(
        c,
        a["fixed"],
        base,
        mainstream,
        kids["prefers_mainstream"].to_numpy(bool),
        pol.mainstream_duty_gbp,
    )
    return pd.DataFrame(
        {
            "c": c,
            "s": s,
            "p": a["p"],
            "fixed": a["fixed"],
            **(_id_columns(c, s, kids, settings) if ids else {}),
            "distance_km": a["distance_km"],
            "travel_min": a["travel_min"],
            "place_cost_gbp": a["annual_cost_gbp"],
            "transport_cost_gbp": transport,
            "preference_rank": rank,
            "preference_penalty_gbp": pref_pen,
            "mainstream": mainstream,
            "duty_term_gbp": duty,
            "arc_cost": np.rint(base + duty).astype(np.int64),
            # the transport mode (assess_codes; −1 not transported): int8, a few codes
            # (nationally 27 MB less than int64 beside the solve)
            "mode_code": np.asarray(mode).astype(np.int8),
        },
        copy=False,  # the arrays are this function's own: no second, stacked copy of 4 M rows
    )


#: The column type pandas gives text (an object array of str becomes this).
_TEXT = pd.Series(np.array(["x"], dtype=object)).dtype


def _take_text(
    values: pd.Series, pos: np.ndarray, *, few: bool = False
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``values.to_numpy()[pos]`` as the column pandas would make of it, built fast.

    A long object array of ids becomes pandas' text column one Python string at a
    time; taking from the short text column of ``values`` gives the same column (same
    values, same dtype) without that. ``few``: the values repeat (package ids), so only
    the distinct ones are converted (the same set of values, so the same dtype).
    """
    if len(pos) and values.dtype == _TEXT and not values.hasnans:
        return values.array.take(pos)
    raw = values.to_numpy()
    if raw.dtype != object or not len(pos):
        return raw[pos]
    if few:
        code, names = pd.factorize(raw)  # a missing value: code −1
        short = pd.Series(names).array
        if (code < 0).any() or short.dtype != _TEXT or short.isna().any():
            return raw[pos]
        return short.take(code[pos])
    short = pd.Series(raw).array  # the dtype pandas infers for these values
    if short.dtype != _TEXT or short.isna().any():  # a missing value: pandas decides
        return raw[pos]
    return short.take(pos)


def honour_terms(
    rank: np.ndarray, n_prefs: np.ndarray, pens: np.ndarray, unranked_gbp: float, t_gbp: float
) -> np.ndarray:
    """Extra preference weight per arc under policy ``honour_preference_below_gbp`` = T.

    The weights become w'(1) = w(1), w'(r) = max(w(r), w'(r − 1) + T) for rank r and
    max(unranked, w'(n) + T) for an unranked setting of a child whose parent ranked
    n settings: every step up the parent's ranking weighs at least T, and weights
    already that far apart are left as they are. 0 where the parent ranked none.
    """
    if not t_gbp or not len(rank):
        return np.zeros(len(rank))
    top = int(max(np.nanmax(np.r_[rank, 1.0]), n_prefs.max(initial=1)))
    base = pens[np.minimum(np.arange(top), len(pens) - 1)]
    adj = np.maximum.accumulate(base - t_gbp * np.arange(top)) + t_gbp * np.arange(top)
    r = np.clip(np.nan_to_num(rank, nan=1).astype(int), 1, top) - 1
    n = np.clip(n_prefs, 1, top) - 1
    unranked = np.maximum(unranked_gbp, adj[n] + t_gbp) - unranked_gbp
    ranked = adj[r] - base[r]
    return np.where(np.isnan(rank), np.where(n_prefs > 0, unranked, 0.0), ranked)


def duty_terms(
    arcs: pd.DataFrame, base: pd.Series, kids: pd.DataFrame, floor_gbp: float
) -> np.ndarray:
    """Mainstream-duty term per arc: −W on mainstream arcs of children preferring mainstream."""
    return _duty_term_arrays(
        arcs["c"].to_numpy(),
        arcs["fixed"].to_numpy(bool),
        np.asarray(base, float),
        arcs["mainstream"].to_numpy(bool),
        kids["prefers_mainstream"].to_numpy(bool),
        floor_gbp,
    )


def _duty_term_arrays(
    c: np.ndarray,
    fixed: np.ndarray,
    base: np.ndarray,
    mainstream: np.ndarray,
    prefers_mainstream: np.ndarray,
    floor_gbp: float,
) -> np.ndarray:
    """:func:`duty_terms` on the arcs' arrays; ``floor_gbp`` is W's floor [GBP/yr]."""
    free = ~np.asarray(fixed, bool)
    cf, b = c[free], np.asarray(base, float)[free]
    order = np.argsort(cf, kind="stable")
    cf, b = cf[order], b[order]
    starts = np.flatnonzero(np.r_[True, cf[1:] != cf[:-1]]) if len(cf) else np.zeros(0, np.int64)
    largest = np.maximum.reduceat(b, starts) if len(b) else b  # by child, in c order
    # pandas' clip(lower=0).sum(): NaN kept by the clip, skipped by the sum (same bits)
    weight = max(float(floor_gbp), float(np.ceil(np.nansum(np.maximum(largest, 0.0)))) + 1.0)
    wants = prefers_mainstream[c] & free
    return np.where(wants & mainstream, -weight, 0.0)


def options_frame(arcs: pd.DataFrame) -> pd.DataFrame:
    """The public view of the arcs (DESIGN §4 ``options`` columns)."""
    return arcs[ARC_COLUMNS].reset_index(drop=True)
