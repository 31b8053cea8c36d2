"""The budget Lagrangian branch and bound of the siting core (lagrangian_budget).

Its parts are checked against what they stand for: the batched knapsacks against the
per-customer DP of ``lagrangian._knapsacks``, the forced bounds against the node bound
recomputed with the option forced, the budget weights against the budget row (a plan within
budget keeps the DP's budget), L(λ) against brute force. The whole search is checked against
brute force on tiny instances and against the un-fixed MIP (HiGHS) on random small LA-like
ones (sites with sizes as families, packages that share a site's places as groups, a status
quo of unlimited capacity), with the default search and with the search cut short; an unsafe
tolerance must make the comparison fail. The LA instance whose proof took HiGHS 618 s is
slow.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from optimiser._errors import InfeasibleError
from optimiser._solver.mip import solve_mip
from optimiser._solver.status import OPTIMAL
from optimiser.siting import solve_facility_location
from optimiser.siting.cflp import budget_bound as bb
from optimiser.siting.cflp import lagrangian_budget as lb
from optimiser.siting.cflp.instance import build_instance, parse_groups
from optimiser.siting.cflp.lagrangian import _knapsacks
from optimiser.siting.cflp.model import build_facility_model

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _instance(seed: int, sites: int = 4, n: int = 8, *, whole_step: bool = True) -> dict:
    """A random LA-like instance: per site 2 packages x sizes, a shared place cap, a status quo.

    Options of one (site, package) are a family (its sizes); two packages' sizes that exceed
    the site's places together are a group; the last option is the status quo (every
    customer, unlimited capacity, no fixed cost, dearer). ``whole_step``: capital per place
    a multiple of £1,000 (the budget weights have a common step); otherwise arbitrary.
    """
    rng = np.random.default_rng(seed)
    sizes = (2, 4, 6)
    zone_pkg = rng.integers(0, 2, n)
    demand = rng.choice([1.0, 2.0], n, p=[0.8, 0.2])  # children per (zone, package), as in LAs
    pts = rng.uniform(0, 10, (sites + n, 2))
    rows, families, groups, fixed, cap = [], [], [], [], []
    for s in range(sites):
        places = int(rng.choice([6, 8]))
        per_place = (rng.integers(15, 36) * 1000.0) if whole_step else rng.uniform(15e3, 35e3)
        by_pkg = []
        for p in (0, 1):
            by_pkg.append([])
            for q in sizes:
                by_pkg[-1].append(len(rows))
                km = np.linalg.norm(pts[s] - pts[sites:], axis=1)
                cost = demand * (15000 + 900 * km)
                cost[(zone_pkg != p) | (km > 7)] = np.inf
                rows.append(cost)
                families.append(2 * s + p)
                fixed.append(q * per_place / 16.0)
                cap.append(float(q))
        groups += [[a, b] for a in by_pkg[0] for b in by_pkg[1] if cap[a] + cap[b] > places]
    status_quo = demand * (63000 + 900 * rng.uniform(15, 35, n))
    rows.append(status_quo)
    families.append(-1)
    fixed.append(0.0)
    cap.append(float(demand.sum()))
    budget = float(rng.uniform(0.2, 0.6) * sum(fixed))
    return {
        "fixed_cost": np.array(fixed),
        "capacity": np.array(cap),
        "demand": demand,
        "assign_cost": np.array(rows),
        "groups": groups,
        "families": np.array(families),
        "budget": budget,
    }


def _prepared(args: dict) -> tuple:
    inst = build_instance(
        args["fixed_cost"],
        args["capacity"],
        args["demand"],
        args["assign_cost"],
        True,
        args["families"],
    )
    groups = parse_groups(args["groups"], inst.fixed_cost.size)
    opts = {"single_source": True, "budget": args["budget"], "k": None, "groups": groups}
    model = build_facility_model(inst, **opts)
    data = bb.budget_data(inst, **opts)
    assert data is not None
    return inst, model, data


def _mip_optimum(model: object) -> float:
    res = solve_mip(model, engine="highs", time_limit_s=60)  # type: ignore[arg-type]
    assert res.status == OPTIMAL
    return res.objective


def _solve(args: dict, **kw: object):
    return solve_facility_location(**args, single_source=True, engine="lagrangian", **kw)


# ------------------------------------------------------------------ the parts


def test_budget_units_exact_common_step() -> None:
    annuity = 16.48
    fixed = np.array([8, 12, 16, 20, 0]) * 23000.0 / annuity
    w, units, exact = bb.budget_units(fixed, 3_000_000 / annuity + 1e-6)
    assert exact
    assert w.tolist() == [2, 3, 4, 5, 0]  # the common step is £92,000 / annuity
    assert units == 32  # ⌊3,000,000 / 92,000⌋


@pytest.mark.parametrize("seed", range(20))
def test_budget_units_keep_every_plan_within_budget(seed: int) -> None:
    """Exact or rounded down, a set of options within the budget is within the units."""
    rng = np.random.default_rng(seed)
    fixed = rng.uniform(1e3, 5e5, 9) if seed % 2 else rng.integers(1, 40, 9) * 1234.5
    budget = float(rng.uniform(0.2, 0.7) * fixed.sum())
    w, units, exact = bb.budget_units(fixed, budget)
    assert units <= bb.MAX_UNITS
    if seed % 2:
        assert not exact  # arbitrary floats: no common step within MAX_UNITS
    for mask in itertools.product((False, True), repeat=9):
        y = np.array(mask)
        if fixed[y].sum() <= budget:
            assert w[y].sum() <= units


@pytest.mark.parametrize("seed", range(10))
def test_batched_knapsacks_match_the_per_customer_dp(seed: int) -> None:
    _, _, data = _prepared(_instance(seed, sites=5, n=12))
    rng = np.random.default_rng(seed)
    for _ in range(10):
        lam = rng.uniform(0, 1.5, data.d.size) * np.nanmax(
            np.where(np.isfinite(data.c), data.c, np.nan), axis=0
        )
        value, take = bb.knapsack_values(data, lam)
        profit = lam[None, :] - data.c
        expected, _ = _knapsacks(profit, data.d, data.u.astype(np.int64), False)
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(np.where(take, profit, 0.0).sum(axis=1), value, atol=1e-6)
        assert (take.astype(float) @ data.d <= data.u).all()
        assert not (take & ~np.isfinite(data.c)).any()


def _check_forced(data: bb.BudgetData, lam: np.ndarray, node: bb.Node) -> bb.Relaxed:
    """Each free option's forced bounds against the node's bound recomputed with it forced."""
    value, take = bb.knapsack_values(data, lam)
    rel = node.bound(data, lam, value, take)
    if_open, if_closed = bb.forced_bounds(data, lam, rel)
    for i in np.flatnonzero(node.free()):
        with_open, with_closed = node.opened.copy(), node.closed.copy()
        with_open[i], with_closed[i] = True, True
        a = bb.Node(with_open, node.closed).bound(data, lam, value, take).bound
        b = bb.Node(node.opened, with_closed).bound(data, lam, value, take).bound
        assert if_open[i] == pytest.approx(a, rel=1e-12) or if_open[i] == a
        assert if_closed[i] == pytest.approx(b, rel=1e-12) or if_closed[i] == b
    free = node.free()
    best = min(if_open[free].min(), if_closed[free].min())
    assert rel.bound == pytest.approx(best, rel=1e-12)
    return rel


@pytest.mark.parametrize("seed", range(6))
def test_forced_bounds_equal_the_bound_with_the_option_forced(seed: int) -> None:
    _, _, data = _prepared(_instance(seed, sites=4, n=10))
    m = data.f.size
    lam = np.random.default_rng(seed).uniform(2e4, 9e4, data.d.size)
    _check_forced(data, lam, bb.Node(np.zeros(m, bool), np.zeros(m, bool)))


@pytest.mark.parametrize("seed", range(6))
def test_forced_bounds_below_the_root(seed: int) -> None:
    """At a node with options fixed (components left without a choice too), the same."""
    _, _, data = _prepared(_instance(seed, sites=5, n=10))
    m = data.f.size
    rng = np.random.default_rng(seed)
    lam = rng.uniform(2e4, 9e4, data.d.size)
    value, take = bb.knapsack_values(data, lam)
    for _ in range(50):  # a random fixing that leaves a plan
        fixed = rng.random(m) < 0.5
        opened = fixed & (rng.random(m) < 0.15)
        node = bb.Node(opened, fixed & ~opened)
        rel = node.bound(data, lam, value, take)
        if math.isfinite(rel.bound) and opened.any() and rel.active.size:
            break
    else:
        pytest.fail("no random fixing left a plan")
    _check_forced(data, lam, node)


def _brute(args: dict) -> float:
    """Optimum over every open set and every single-source assignment (tiny instances)."""
    f, u, d, c = (
        np.asarray(args[k], float) for k in ("fixed_cost", "capacity", "demand", "assign_cost")
    )
    fam, m, n = np.asarray(args["families"]), c.shape[0], c.shape[1]
    best = math.inf
    for assign in itertools.product(range(m), repeat=n):
        a = np.array(assign)
        cost = c[a, np.arange(n)]
        if not np.isfinite(cost).all():
            continue
        used = np.zeros(m, bool)
        used[a] = True
        if f[used].sum() > args["budget"]:
            continue
        if (np.bincount(a, weights=d, minlength=m) > u).any():
            continue
        members = fam[used & (fam >= 0)]
        if members.size != np.unique(members).size:
            continue
        if any(used[g[0]] and used[g[1]] for g in args["groups"]):
            continue
        best = min(best, float(f[used].sum() + cost.sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_lagrangian_bound_is_below_the_optimum_and_the_search_finds_it(seed: int) -> None:
    args = _instance(seed, sites=2, n=4)
    opt = _brute(args)
    _, _, data = _prepared(args)
    rng = np.random.default_rng(seed)
    m = data.f.size
    root = bb.Node(np.zeros(m, bool), np.zeros(m, bool))
    for _ in range(20):
        lam = rng.uniform(0, 2e5, data.d.size)
        assert root.bound(data, lam, *bb.knapsack_values(data, lam)).bound <= opt + 1e-6
    sol = _solve(args)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(opt, rel=1e-9)


# ------------------------------------------------------------------ the search


def _no_polish(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search without HiGHS's polish at the root (which proves small instances alone)."""
    monkeypatch.setattr(lb._Search, "polish", lambda self, node, time_limit_s: False)


@pytest.mark.parametrize("whole_step", [True, False])
def test_search_matches_the_mip_on_random_instances(
    whole_step: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    branched = 0
    for seed in range(12):
        args = _instance(100 + seed, sites=4, n=12, whole_step=whole_step)
        inst, model, data = _prepared(args)
        assert data.exact == whole_step
        opt = _mip_optimum(model)
        with monkeypatch.context() as patch:
            _no_polish(patch)
            search = lb._Search(data, inst, model, time.perf_counter() + 600)
            out = lb._search(search, lb._start(search, inst.demand.size, 5.0))
        assert out.complete
        assert search.ub == pytest.approx(opt, rel=1e-9), seed
        branched += search.nodes > 1
        sol = _solve(args)  # the whole path, the polish included
        assert sol.status == "optimal", seed
        assert sol.objective == pytest.approx(opt, rel=1e-9), seed
        assert sol.open[:-1].astype(float) @ args["fixed_cost"][:-1] <= args["budget"]
    assert branched >= 2  # the comparison covers the branching, not the root alone


def test_an_unsafe_tolerance_gives_wrong_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 2% cut tolerance the search prunes optima: the comparison above can fail."""
    monkeypatch.setattr(lb, "GAP", 0.02)
    _no_polish(monkeypatch)
    worse = 0
    for seed in range(12):
        args = _instance(100 + seed, sites=4, n=12)
        inst, model, data = _prepared(args)
        opt = _mip_optimum(model)
        search = lb._Search(data, inst, model, time.perf_counter() + 600)
        lb._search(search, lb._start(search, inst.demand.size, 5.0))
        worse += search.ub > opt * (1 + 1e-9)
    assert worse > 0


def test_cut_short_the_answer_stays_feasible_with_a_valid_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No time for the search: the reduced MIP (or the incumbent) answers, bound below opt."""
    monkeypatch.setattr(lb, "SEARCH_SHARE", 0.0)
    for seed in range(8):
        args = _instance(200 + seed, sites=5, n=14)
        inst, model, data = _prepared(args)
        opt = _mip_optimum(model)
        res = lb.solve_budget(model, inst, data, 20.0)
        assert res.values is not None
        assert res.bound <= opt + 1e-6 * abs(opt)
        assert res.objective >= opt - 1e-6 * abs(opt)
        if res.status == OPTIMAL:
            assert res.objective == pytest.approx(opt, rel=1e-9)


def test_accepts_and_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    args = _instance(3)
    inst, _, _ = _prepared(args)
    groups = parse_groups(args["groups"], inst.fixed_cost.size)
    base = {"single_source": True, "budget": args["budget"], "k": None, "groups": groups}
    assert bb.budget_data(inst, **base) is not None
    assert bb.budget_data(inst, **{**base, "budget": None}) is None
    assert bb.budget_data(inst, **{**base, "k": 3}) is None
    assert bb.budget_data(inst, **{**base, "single_source": False}) is None
    # a component with too many allowed subsets: one big site of 12 independent options
    m = 13
    wide = build_instance(
        np.ones(m), np.full(m, 2.0), np.ones(3), np.ones((m, 3)), True, np.arange(m)
    )
    monkeypatch.setattr(bb, "MAX_SUBSETS", 100)
    rows = parse_groups([[i, (i + 1) % 12] for i in range(12)], m)
    assert bb.budget_data(wide, **{**base, "groups": rows}) is None


def test_budget_too_small_for_any_plan_is_infeasible() -> None:
    args = _instance(4)
    args["assign_cost"][-1] = np.inf  # no status quo: only bases can serve
    args["assign_cost"][:-1, 0] = np.where(
        np.isfinite(args["assign_cost"][:-1, 0]), args["assign_cost"][:-1, 0], 1e5
    )
    args["budget"] = 0.0
    with pytest.raises(InfeasibleError):
        _solve(args)


def test_zero_demand_and_zero_budget() -> None:
    sol = solve_facility_location(
        [0.0], [0.0], [0.0], [[0.0]], single_source=True, budget=0.0, engine="lagrangian"
    )
    assert sol.status == "optimal"
    assert sol.objective == 0.0


@pytest.mark.slow
def test_la_varied_seed_1_is_proven() -> None:
    """The LA instance whose proof took HiGHS 618 s (benchmarks/results/siting.md)."""
    sys.path.insert(0, str(BENCHMARKS))
    from bench_site import generate_la

    inst = generate_la(1)
    sol = solve_facility_location(**inst, single_source=True, time_limit_s=120)
    assert sol.status == "optimal"
    assert sol.engine == "lagrangian"
    assert sol.objective == pytest.approx(13_210_106.63, abs=0.01)
