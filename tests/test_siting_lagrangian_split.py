"""The split-demand Lagrangian branch and bound of the siting core (lagrangian_split).

Checked against brute force on tiny instances (every open set, each with its exact
transportation LP), against the un-fixed MIP (HiGHS) on random small ones (with the default
search and with one cut short so that the fixing and the branching do the work), and on
OR-Library capb@5000 (slow).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reference_formats import read_orlib_cap
from scipy.optimize import linprog

from optimiser._solver.mip import MipSolution, solve_mip
from optimiser._solver.status import OPTIMAL
from optimiser.siting import solve_facility_location
from optimiser.siting.cflp import lagrangian_split as ls
from optimiser.siting.cflp import solve as solve_module
from optimiser.siting.cflp import split_bound as sb
from optimiser.siting.cflp.instance import build_instance
from optimiser.siting.cflp.model import build_facility_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cflp_orlib"


def _instance(seed: int, m: int, n: int) -> dict:
    """A random split-demand instance: capacities multiples of 5, tight, some pairs forbidden."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 20, n).astype(float)
    capacity = 5.0 * rng.integers(4, 12, m)
    capacity *= math.ceil(max(1.0, 1.2 * demand.sum() / capacity.sum()))
    pts = rng.uniform(0, 100, (m + n, 2))
    cost = np.linalg.norm(pts[:m, None] - pts[None, m:], axis=2) * demand[None, :] / 7.0
    cost[rng.random((m, n)) < 0.1] = np.inf
    cost[:, np.isinf(cost).all(axis=0)] = 40.0
    return {
        "fixed_cost": rng.uniform(50, 400, m),
        "capacity": capacity,
        "demand": demand,
        "assign_cost": cost,
    }


def _built(args: dict) -> tuple:
    inst = build_instance(
        args["fixed_cost"], args["capacity"], args["demand"], args["assign_cost"], False
    )
    return inst, build_facility_model(inst, single_source=False, budget=None, k=None)


def _mip_optimum(model: object) -> float:
    res = solve_mip(model, engine="highs", time_limit_s=30)  # type: ignore[arg-type]
    assert res.status == OPTIMAL
    return res.objective


def _brute(args: dict) -> float:
    """Optimum over every open set, each with its exact transportation LP (scipy)."""
    f, u, d, c = (np.asarray(args[k], float) for k in args)
    m, n = c.shape
    best = math.inf
    for mask in itertools.product((False, True), repeat=m):
        open_ = np.array(mask)
        if u[open_].sum() < d.sum():
            continue
        idx = np.flatnonzero(open_)
        sub = c[idx]
        ok = np.isfinite(sub)
        if not ok.any(axis=0).all():
            continue
        pi, pj = np.nonzero(ok)
        a_eq = np.zeros((n, pi.size))
        a_eq[pj, np.arange(pi.size)] = 1.0
        a_ub = np.zeros((idx.size, pi.size))
        a_ub[pi, np.arange(pi.size)] = d[pj]
        res = linprog(sub[pi, pj], A_ub=a_ub, b_ub=u[idx], A_eq=a_eq, b_eq=np.ones(n))
        if res.status == 0:
            best = min(best, float(f[idx].sum() + res.fun))
    return best


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6)


def test_continuous_knapsacks_are_exact() -> None:
    rng = np.random.default_rng(0)
    for _ in range(40):
        m, n = 3, 7
        profit = rng.integers(-5, 20, (m, n)).astype(float)
        profit[rng.random((m, n)) < 0.15] = -np.inf
        weight = rng.integers(0, 6, n).astype(float)
        cap = rng.integers(0, 15, m).astype(float)
        value, take = sb.continuous_knapsacks(profit, weight, cap)
        for i in range(m):
            ok = np.isfinite(profit[i])
            res = linprog(
                -np.where(ok, profit[i], 0.0),
                A_ub=[weight],
                b_ub=[cap[i]],
                bounds=[(0, 1 if o else 0) for o in ok],
            )
            assert value[i] == pytest.approx(-res.fun, abs=1e-9)
            assert take[i] @ weight <= cap[i] + 1e-9
            assert (take[i][~ok] == 0).all()
            assert (take[i] * np.where(ok, profit[i], 0.0)).sum() == pytest.approx(value[i])


def test_bound_is_below_the_optimum_for_any_multipliers() -> None:
    rng = np.random.default_rng(1)
    for seed in range(10):
        args = _instance(seed, 5, 9)
        inst, model = _built(args)
        best = _mip_optimum(model)
        for _ in range(5):
            lam = rng.uniform(-50, 300, 9)
            assert sb.split_bound(inst, lam) <= best + 1e-7


def test_brute_force_agrees_on_tiny_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ls, "ROOT_STEPS", 15)
    monkeypatch.setattr(ls, "NODE_STEPS", 3)
    for seed in range(25):
        args = _instance(100 + seed, 4, 6)
        inst, model = _built(args)
        res = ls.solve_split(model, inst, 30.0)
        assert res.status == OPTIMAL
        assert _same(res.objective, _brute(args)), seed
        assert res.bound <= res.objective


@pytest.mark.parametrize("steps", [(400, 30), (10, 2)])
def test_random_instances_match_the_unfixed_mip(
    monkeypatch: pytest.MonkeyPatch, steps: tuple[int, int]
) -> None:
    """60 seeds each: the default search, and a short one (weak bounds, deep trees)."""
    monkeypatch.setattr(ls, "ROOT_STEPS", steps[0])
    monkeypatch.setattr(ls, "NODE_STEPS", steps[1])
    seen = {"branched": 0, "fixed": 0}
    branch, fix = ls._branch, ls._fix

    def counted_branch(node: object, rel: object) -> object:
        seen["branched"] += 1
        return branch(node, rel)  # type: ignore[arg-type]

    def counted_fix(search: object, node: object, lam: object, rel: object) -> object:
        out = fix(search, node, lam, rel)  # type: ignore[arg-type]
        seen["fixed"] += out is None or out[0].free().sum() < node.free().sum()  # type: ignore[attr-defined]
        return out

    monkeypatch.setattr(ls, "_branch", counted_branch)
    monkeypatch.setattr(ls, "_fix", counted_fix)
    for seed in range(60):
        rng = np.random.default_rng(seed)
        args = _instance(seed, int(rng.integers(5, 9)), int(rng.integers(8, 16)))
        inst, model = _built(args)
        res = ls.solve_split(model, inst, 30.0)
        best = _mip_optimum(model)
        assert res.status == OPTIMAL, seed
        assert _same(res.objective, best), (seed, res.objective, best)
        assert res.bound <= best + 1e-6
        assert res.objective - res.bound <= 2e-9 * abs(res.objective) + 1e-6
    assert seen["branched"] >= 20 and seen["fixed"] >= 60  # the search and the fixing did work


def test_same_input_same_plan() -> None:
    args = _instance(11, 8, 14)
    inst, model = _built(args)
    first = ls.solve_split(model, inst, 30.0)
    second = ls.solve_split(model, inst, 30.0)
    assert first.values is not None and second.values is not None
    assert np.array_equal(first.values, second.values)
    assert first.objective == second.objective


def test_an_unsafe_tolerance_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """With τ at 5% of the incumbent the fixing cuts off better plans: the comparison sees it."""
    monkeypatch.setattr(ls, "GAP", 0.05)
    monkeypatch.setattr(ls, "ROOT_STEPS", 10)
    monkeypatch.setattr(ls, "NODE_STEPS", 2)
    wrong = 0
    for seed in range(30):
        args = _instance(seed, 7, 12)
        inst, model = _built(args)
        res = ls.solve_split(model, inst, 30.0)
        wrong += not _same(res.objective, _mip_optimum(model))
    assert wrong > 0


def test_the_reduced_mip_takes_over_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ls, "SEARCH_SHARE", 0.0)
    for seed in range(15):
        args = _instance(200 + seed, 7, 12)
        inst, model = _built(args)
        res = ls.solve_split(model, inst, 30.0)
        assert res.engine == "lagrangian+highs"
        assert res.status == OPTIMAL
        assert _same(res.objective, _mip_optimum(model)), seed


def test_bound_stays_valid_when_the_reduced_mip_proves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Search and reduced MIP both out of time: the bound must still be below the optimum."""
    monkeypatch.setattr(ls, "SEARCH_SHARE", 0.0)
    timed_out = MipSolution(None, math.nan, -math.inf, "unknown", 0.0, "highs")
    for seed in range(15):
        args = _instance(300 + seed, 7, 12)
        inst, model = _built(args)
        best = _mip_optimum(model)
        monkeypatch.setattr(ls, "solve_mip", lambda *a, **k: timed_out)
        res = ls.solve_split(model, inst, 30.0)
        monkeypatch.undo()
        monkeypatch.setattr(ls, "SEARCH_SHARE", 0.0)
        assert res.bound <= best + 1e-6, seed
        assert res.values is not None and res.objective >= best - 1e-6
        assert res.status == OPTIMAL or res.status == "feasible"


def test_solve_facility_location_routes_large_split_instances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = _instance(7, 8, 14)
    expected = solve_facility_location(**args)
    assert expected.engine == "highs"  # below SPLIT_MIN_PAIRS
    monkeypatch.setattr(solve_module, "SPLIT_MIN_PAIRS", 0)
    sol = solve_facility_location(**args)
    assert sol.engine.startswith("lagrangian")
    assert sol.status == "optimal"
    assert _same(sol.objective, expected.objective)
    assert np.allclose(sol.assignment.sum(axis=0), 1.0)


def test_split_accepts_only_what_it_solves_exactly() -> None:
    args = _instance(3, 5, 8)
    inst, _ = _built(args)
    plain: dict[str, Any] = {"single_source": False, "budget": None, "k": None, "groups": None}
    assert sb.split_accepts(inst, **plain)
    assert not sb.split_accepts(inst, **{**plain, "single_source": True})
    assert not sb.split_accepts(inst, **{**plain, "budget": 100.0})
    assert not sb.split_accepts(inst, **{**plain, "k": 2})
    assert not sb.split_accepts(inst, **{**plain, "groups": (np.array([0, 1]),)})
    frac = _built({**args, "capacity": args["capacity"] + 0.5})[0]
    assert not sb.split_accepts(frac, **plain)


@pytest.mark.slow
def test_capb_at_5000_is_proven_optimal() -> None:
    path = SHARED / "capb.txt"
    if not path.exists():
        pytest.skip("capb.txt is not in the shared reference folder")
    inst = read_orlib_cap(path, capacity=5000)
    sol = solve_facility_location(
        inst.fixed_cost, inst.capacity, inst.demand, inst.assign_cost, time_limit_s=120
    )
    assert sol.engine.startswith("lagrangian")
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(13656379.578, rel=1e-9)
