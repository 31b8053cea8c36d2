"""Tests of optimiser.siting.solve_facility_location, the plain-array core.

Hand-solvable instances with exact optima, published optima of OR-Library and
Holmberg instances (tests/data/reference), hypothesis properties with a brute
force cross-check, a HiGHS (scipy.optimize.milp) cross-check, and error paths.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reference_formats import REFERENCE_DIR, published_optimum, read_holmberg, read_orlib_cap
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix

import optimiser._solver
from optimiser._errors import DataValidationError, InfeasibleError, SolverError
from optimiser.siting.cflp.solution import FacilityLocationSolution, check_facility_location
from optimiser.siting.cflp.solve import solve_facility_location
from optimiser.synth.facility import synth_facility_location

REL = 1e-6
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _valid(data: tuple, sol: FacilityLocationSolution, **opts: object) -> None:
    assert check_facility_location(*data, sol, **opts) == []
    np.testing.assert_allclose(sol.assignment.sum(axis=0), 1.0, atol=1e-9)
    assert sol.bound <= sol.objective + 1e-9
    assert sol.gap >= 0


# --------------------------------------------------------------- hand-solved cases


def test_two_sites_two_customers_opens_both() -> None:
    # Open both: 10 + 10 + 1 + 1 = 22; one site alone: 10 + 1 + 100 = 111.
    data = ([10, 10], [10, 10], [5, 5], [[1, 100], [100, 1]])
    sol = solve_facility_location(*data)
    assert sol.status == "optimal"
    assert sol.objective == 22
    np.testing.assert_array_equal(sol.open, [True, True])
    np.testing.assert_array_equal(sol.assignment, np.eye(2))
    assert sol.gap == 0


# Site A is free but holds 6 of the 8 units; site B costs 50. Per unit, A saves 9 on
# customer 0 (1/unit vs 10) and 8 on customer 1 (2 vs 10), so A takes customer 0 whole and
# half of customer 1: 50 + 4 + 0.5 * 8 + 0.5 * 40 = 78. Single-sourced, customer 1 (4 units)
# still fits at A but then customer 0 goes to B: 50 + 4 + 40 = 94 beats 50 + 8 + 40 = 98.
SPLIT = ([0, 50], [6, 10], [4, 4], [[4, 8], [40, 40]])


def test_capacity_forces_a_split() -> None:
    sol = solve_facility_location(*SPLIT)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(78, abs=1e-9)
    np.testing.assert_allclose(sol.assignment, [[1, 0.5], [0, 0.5]], atol=1e-9)
    _valid(SPLIT, sol)


def test_single_source_hand_solved() -> None:
    sol = solve_facility_location(*SPLIT, single_source=True)
    assert sol.status == "optimal"
    assert sol.objective == 94
    np.testing.assert_array_equal(sol.assignment, [[1, 0], [0, 1]])
    assert sol.engine == "cp_sat"  # the default's short CP-SAT try proves a small model


def test_single_source_fractional_demand_uses_highs() -> None:
    data = ([0, 50], [6, 10], [4.5, 4], [[4, 8], [40, 40]])
    sol = solve_facility_location(*data, single_source=True)
    assert sol.engine == "highs"
    assert sol.objective == pytest.approx(94)
    _valid(data, sol, single_source=True)


BUDGET = ([10, 30], [100, 100], [1], [[50], [5]])


@pytest.mark.parametrize(
    ("budget", "expected", "opened"),
    [
        (None, 35, [False, True]),
        (30, 35, [False, True]),
        (29.99, 60, [True, False]),
        (10, 60, [True, False]),
    ],
)
def test_budget(budget: float | None, expected: float, opened: list[bool]) -> None:
    sol = solve_facility_location(*BUDGET, budget=budget)
    assert sol.objective == expected
    np.testing.assert_array_equal(sol.open, opened)


def test_budget_too_small() -> None:
    with pytest.raises(InfeasibleError, match=r"budget=5 is below 10"):
        solve_facility_location(*BUDGET, budget=5)


DIAG = ([1, 1, 1], [10, 10, 10], [1, 1, 1], np.where(np.eye(3) > 0, 0.0, 10.0))


@pytest.mark.parametrize(("k", "expected"), [(None, 3), (3, 3), (2, 12), (1, 21)])
def test_k_caps_open_sites(k: int | None, expected: float) -> None:
    sol = solve_facility_location(*DIAG, k=k)
    assert sol.objective == expected
    assert k is None or sol.open.sum() <= k


def test_forbidden_pairs_are_never_used() -> None:
    cost = np.array([[1.0, np.inf], [np.inf, 1.0]])
    data = ([1, 1], [5, 5], [1, 1], cost)
    for single in (False, True):
        sol = solve_facility_location(*data, single_source=single)
        assert sol.objective == 4
        assert (sol.assignment[~np.isfinite(cost)] == 0).all()


def test_zero_fixed_cost_site_unused_is_reported_closed() -> None:
    sol = solve_facility_location([0, 5], [10, 10], [1], [[100], [1]])
    np.testing.assert_array_equal(sol.open, [False, True])
    assert sol.objective == 6


def test_result_is_frozen_and_read_only() -> None:
    sol = solve_facility_location(*SPLIT)
    with pytest.raises(AttributeError):
        sol.objective = 0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        sol.assignment[0, 0] = 0.0


# --------------------------------------------------------------------- infeasible


@pytest.mark.parametrize(
    ("data", "opts", "match"),
    [
        (([1, 1], [3, 3], [4, 4], [[1, 1], [1, 1]]), {}, r"total capacity 6 < total demand 8"),
        (
            ([1, 1], [5, 5], [1, 1], [[1, np.inf], [1, np.inf]]),
            {},
            r"customer\(s\) \[1\] have no facility with a finite assign_cost",
        ),
        (
            ([1, 1], [3, 9], [4, 4], [[1, np.inf], [1, np.inf]]),
            {"single_source": True},
            r"\[1\] have no facility with a finite assign_cost and capacity >= its demand",
        ),
        (DIAG, {"k": 0}, r"k=0 facilities"),
        (
            ([1, 1, 1], [4, 4, 4], [3, 3, 3], np.ones((3, 3))),
            {"k": 2},
            r"k=2 facilities offer at most 8 capacity for total demand 9",
        ),
        # Total capacity 10 >= 9, but three items of 3 do not pack into two bins of 5.
        (
            ([1, 1], [5, 5], [3, 3, 3], np.ones((2, 3))),
            {"single_source": True},
            r"no set of open facilities .* single sourcing .* allow split demand",
        ),
    ],
)
def test_infeasible_names_the_cause(data: tuple, opts: dict, match: str) -> None:
    with pytest.raises(InfeasibleError, match=match):
        solve_facility_location(*data, **opts)


# ---------------------------------------------------------------------- bad input

GOOD = ([1.0, 2.0], [5.0, 5.0], [1.0, 2.0, 3.0], np.ones((2, 3)))


@pytest.mark.parametrize(
    ("index", "value", "match"),
    [
        (0, [], r"fixed_cost must be a 1-D array .* found shape \(0,\)"),
        (0, [[1.0, 2.0]], r"fixed_cost must be a 1-D array"),
        (0, [1.0, -2.0], r"fixed_cost must be finite and >= 0; found -2.0 at index 1"),
        (1, [5.0], r"capacity must be a 1-D array .* \(length 2\); found shape \(1,\)"),
        (1, [5.0, np.inf], r"capacity must be finite"),
        (2, [1.0, np.nan, 3.0], r"demand must be finite and >= 0; found nan at index 1"),
        (2, ["a", "b", "c"], r"demand must be numeric"),
        (3, np.ones((3, 2)), r"assign_cost must have shape \(m, n\) = \(2, 3\) .* found \(3, 2\)"),
        (3, [[1, 1, np.nan], [1, 1, 1]], r"found nan at \[0, 2\] .* Use np.inf, not NaN"),
        (3, [[1, 1, 1], [1, -1, 1]], r"assign_cost must be >= 0"),
    ],
)
def test_bad_arrays(index: int, value: object, match: str) -> None:
    args = list(GOOD)
    args[index] = value
    with pytest.raises(DataValidationError, match=match):
        solve_facility_location(*args)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"budget": -1.0}, r"budget must be a finite number >= 0"),
        ({"budget": np.nan}, r"budget must be a finite number"),
        ({"k": 1.5}, r"k must be a whole number >= 0"),
        ({"k": True}, r"k must be a whole number"),
        ({"k": -1}, r"k must be a whole number"),
        ({"time_limit_s": 0}, r"time_limit_s must be a positive number"),
    ],
)
def test_bad_options(opts: dict, match: str) -> None:
    with pytest.raises(DataValidationError, match=match):
        solve_facility_location(*GOOD, **opts)


def _fake_solve(values: np.ndarray | None, status: str) -> object:
    def fake(model: optimiser._solver.MipModel, **_: object) -> optimiser._solver.MipSolution:
        return optimiser._solver.MipSolution(values, np.nan, -np.inf, status, 0.0, "highs")

    return fake


def test_no_solution_in_time_is_a_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("optimiser.siting.cflp.solve.solve_mip", _fake_solve(None, "unknown"))
    with pytest.raises(SolverError, match=r"no feasible plan within time_limit_s=1"):
        solve_facility_location(*SPLIT, time_limit_s=1)


def test_bad_solver_answer_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything at site A (x ordered (0,0), (0,1), (1,0), (1,1)): 8 units > capacity 6.
    values = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    monkeypatch.setattr("optimiser.siting.cflp.solve.solve_mip", _fake_solve(values, "optimal"))
    match = r"failed the independent check: \(2\) capacity exceeded at facilities \[0\]"
    with pytest.raises(SolverError, match=match):
        solve_facility_location(*SPLIT, k=1)


# -------------------------------------------------------------- published optima


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_orlib_capacitated_optimum(name: str) -> None:
    inst = read_orlib_cap(REFERENCE_DIR / "cflp_orlib" / f"{name}.txt")
    data = (inst.fixed_cost, inst.capacity, inst.demand, inst.assign_cost)
    sol = solve_facility_location(*data, time_limit_s=60)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(published_optimum("cflp", name), rel=REL)
    _valid(data, sol)


def test_orlib_uncapacitated_optimum() -> None:
    inst = read_orlib_cap(REFERENCE_DIR / "cflp_orlib" / "cap41.txt")
    capacity = np.full_like(inst.capacity, inst.demand.sum())  # capacities never bind
    sol = solve_facility_location(inst.fixed_cost, capacity, inst.demand, inst.assign_cost)
    assert sol.status == "optimal"
    expected = published_optimum("uflp", "cap41", parameter="ignore capacities")
    assert sol.objective == pytest.approx(expected, rel=REL)


HOLMBERG_FAST = ["p1", "p2", "p3", "p4", "p5", "p13", "p41"]
HOLMBERG_SLOW = ["p25", "p56", "p71"]


@pytest.mark.parametrize(
    "name", HOLMBERG_FAST + [pytest.param(n, marks=pytest.mark.slow) for n in HOLMBERG_SLOW]
)
def test_holmberg_single_source_optimum(name: str) -> None:
    inst = read_holmberg(REFERENCE_DIR / "sscflp_holmberg" / f"{name}.txt")
    data = (inst.fixed_cost, inst.capacity, inst.demand, inst.assign_cost)
    sol = solve_facility_location(*data, single_source=True, time_limit_s=120)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(published_optimum("sscflp", name), rel=REL)
    _valid(data, sol, single_source=True)
    assert set(np.unique(sol.assignment)) <= {0.0, 1.0}


def test_readers_shapes_and_quirks() -> None:
    cap41 = read_orlib_cap(REFERENCE_DIR / "cflp_orlib" / "cap41.txt")
    assert cap41.assign_cost.shape == (16, 50)
    assert cap41.fixed_cost.min() == 0.0  # cap41 has a free site
    p2 = read_holmberg(REFERENCE_DIR / "sscflp_holmberg" / "p2.txt")  # CRLF + NUL padding
    assert p2.assign_cost.shape == (10, 50)
    p25 = read_holmberg(REFERENCE_DIR / "sscflp_holmberg" / "p25.txt")
    assert p25.assign_cost.shape == (30, 150)


def test_deterministic_on_reference() -> None:
    inst = read_holmberg(REFERENCE_DIR / "sscflp_holmberg" / "p4.txt")
    data = (inst.fixed_cost, inst.capacity, inst.demand, inst.assign_cost)
    for single in (False, True):
        a, b = (solve_facility_location(*data, single_source=single) for _ in range(2))
        np.testing.assert_array_equal(a.assignment, b.assignment)
        np.testing.assert_array_equal(a.open, b.open)
        assert (a.objective, a.bound, a.status) == (b.objective, b.bound, b.status)


# -------------------------------------------------- brute force and HiGHS checks


def _transport_cost(
    cap: np.ndarray, dem: np.ndarray, cost: np.ndarray, sites: tuple[int, ...]
) -> float:
    """Least assignment cost with only ``sites`` open (split demand), by LP."""
    sub = cost[list(sites)]
    m, n = sub.shape
    ok = np.isfinite(sub)
    c = np.where(ok, sub, 0.0).ravel()
    a_eq = np.kron(np.ones((1, m)), np.eye(n))
    a_ub = np.kron(np.eye(m), dem[None, :])
    bounds = [(0, 1 if allowed else 0) for allowed in ok.ravel()]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=cap[list(sites)],
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=bounds,
        method="highs",
    )
    return res.fun if res.status == 0 else np.inf


def _brute_force(
    fixed: np.ndarray,
    cap: np.ndarray,
    dem: np.ndarray,
    cost: np.ndarray,
    *,
    single_source: bool,
    budget: float | None,
    k: int | None,
) -> float:
    """Optimum by enumeration (np.inf when infeasible)."""
    m, n = cost.shape
    best = np.inf
    if single_source:  # enumerate every customer -> site map; open = the sites used
        for choice in itertools.product(range(m), repeat=n):
            sites = sorted(set(choice))
            load = np.bincount(choice, weights=dem, minlength=m)
            if (load > cap + 1e-9).any() or (k is not None and len(sites) > k):
                continue
            if budget is not None and fixed[sites].sum() > budget + 1e-9:
                continue
            best = min(best, fixed[sites].sum() + cost[list(choice), range(n)].sum())
        return best
    for r in range(1, m + 1):
        for sites in itertools.combinations(range(m), r):
            if (k is not None and r > k) or (
                budget is not None and fixed[list(sites)].sum() > budget + 1e-9
            ):
                continue
            best = min(best, fixed[list(sites)].sum() + _transport_cost(cap, dem, cost, sites))
    return best


@st.composite
def instances(draw: st.DrawFn, max_m: int = 5, max_n: int = 5, whole: bool = False) -> dict:
    m, n = draw(st.integers(1, max_m)), draw(st.integers(1, max_n))
    # Whole-number data goes to CP-SAT when single-sourced; quarters exercise the float paths.
    quarters = not whole and draw(st.booleans())
    ints = st.integers(0, 120).map(lambda v: v / 4) if quarters else st.integers(0, 30)
    fixed = np.array(draw(st.lists(ints, min_size=m, max_size=m)), float)
    cap = np.array(draw(st.lists(st.integers(0, 20), min_size=m, max_size=m)), float)
    dem = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), float)
    entry = st.one_of(ints, st.just(np.inf)) if draw(st.booleans()) else ints  # forbid some?
    cost = np.array(
        draw(st.lists(st.lists(entry, min_size=n, max_size=n), min_size=m, max_size=m)), float
    )
    budget = draw(st.none() | st.integers(0, 60).map(float))
    k = draw(st.none() | st.integers(0, m))
    return {"data": (fixed, cap, dem, cost), "budget": budget, "k": k}


def _solve_or_inf(data: tuple, **opts: object) -> FacilityLocationSolution | None:
    try:
        return solve_facility_location(*data, **opts)
    except InfeasibleError:
        return None


@PROPERTY_SETTINGS
@given(instances(max_m=4, max_n=5), st.booleans())
def test_matches_brute_force(inst: dict, single_source: bool) -> None:
    data, opts = (
        inst["data"],
        {"single_source": single_source, "budget": inst["budget"], "k": inst["k"]},
    )
    expected = _brute_force(*data, **opts)
    sol = _solve_or_inf(data, **opts)
    event("infeasible" if not np.isfinite(expected) else "feasible")
    if sol is not None:
        event(f"engine {sol.engine}")
    if not np.isfinite(expected):
        assert sol is None, "solver found a plan where enumeration found none"
        return
    assert sol is not None, "solver said infeasible where enumeration found a plan"
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, rel=REL, abs=1e-7)
    _valid(data, sol, **opts)
    if single_source:
        assert (np.isin(sol.assignment, [0.0, 1.0])).all()
        np.testing.assert_array_equal(sol.assignment.sum(axis=0), 1.0)


@PROPERTY_SETTINGS
@given(instances(max_m=4, max_n=5, whole=True))
def test_cp_sat_single_source_matches_brute_force(inst: dict) -> None:
    data, opts = inst["data"], {"single_source": True, "budget": inst["budget"], "k": inst["k"]}
    expected = _brute_force(*data, **opts)
    sol = _solve_or_inf(data, **opts)
    event("infeasible" if sol is None else f"engine {sol.engine}")
    assert (sol is None) == (not np.isfinite(expected))
    if sol is not None:
        assert sol.engine == "cp_sat" or sol.engine.startswith("lagrangian")
        assert sol.status == "optimal"
        assert sol.objective == expected
        _valid(data, sol, **opts)


@PROPERTY_SETTINGS
@given(instances(), st.booleans(), st.integers(1, 40))
def test_more_budget_or_capacity_is_never_worse(
    inst: dict, single_source: bool, extra: int
) -> None:
    data = inst["data"]
    budget = inst["budget"]
    base = _solve_or_inf(data, single_source=single_source, budget=budget, k=inst["k"])
    if base is None:
        return
    richer = solve_facility_location(
        *data,
        single_source=single_source,
        k=inst["k"],
        budget=None if budget is None else budget + extra,
    )
    assert richer.objective <= base.objective * (1 + REL) + 1e-7
    fixed, cap, dem, cost = data
    bigger = solve_facility_location(
        fixed, cap + extra, dem, cost, budget=budget, single_source=single_source, k=inst["k"]
    )
    assert bigger.objective <= base.objective * (1 + REL) + 1e-7


@PROPERTY_SETTINGS
@given(instances(max_m=4, max_n=4))
def test_same_input_same_output(inst: dict) -> None:
    first = _solve_or_inf(inst["data"], budget=inst["budget"], k=inst["k"])
    second = _solve_or_inf(inst["data"], budget=inst["budget"], k=inst["k"])
    if first is None:
        assert second is None
        return
    np.testing.assert_array_equal(first.assignment, second.assignment)
    assert first.objective == second.objective


def _highs_milp(
    fixed: np.ndarray, cap: np.ndarray, dem: np.ndarray, cost: np.ndarray, *, single_source: bool
) -> float:
    """The strong formulation solved by HiGHS through scipy.optimize.milp."""
    m, n = cost.shape
    ii, jj = np.nonzero(np.isfinite(cost))
    p = ii.size
    x = m + np.arange(p)
    rows = np.concatenate(
        [jj, n + ii, n + np.arange(m), n + m + np.arange(p), n + m + np.arange(p)]
    )
    cols = np.concatenate([x, x, np.arange(m), x, ii])
    vals = np.concatenate([np.ones(p), dem[jj], -cap, np.ones(p), -np.ones(p)])
    a = coo_matrix((vals, (rows, cols)), shape=(n + m + p, m + p)).tocsr()
    lower = np.concatenate([np.ones(n), np.full(m + p, -np.inf)])
    upper = np.concatenate([np.ones(n), np.zeros(m + p)])
    integrality = np.concatenate([np.ones(m), np.full(p, 1 if single_source else 0)])
    res = milp(
        np.concatenate([fixed, cost[ii, jj]]),
        constraints=LinearConstraint(a, lower, upper),
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-9},
    )
    assert res.status == 0, res.message
    return res.fun


@pytest.mark.parametrize("single_source", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_matches_highs_on_random_instances(seed: int, single_source: bool) -> None:
    data = synth_facility_location(
        n_sites=8, n_customers=25, seed=seed, capacity_ratio=2.5, forbid_share=0.2
    )
    sol = solve_facility_location(*data, single_source=single_source, time_limit_s=60)
    assert sol.status == "optimal"
    expected = _highs_milp(*data, single_source=single_source)
    assert sol.objective == pytest.approx(expected, rel=REL)
    _valid(data, sol, single_source=single_source)


def test_time_limited_run_reports_bound_and_gap() -> None:
    # Takes HiGHS ~5 s to prove.
    data = synth_facility_location(n_sites=30, n_customers=100, seed=0, capacity_ratio=3.0)
    sol = solve_facility_location(*data, time_limit_s=1.0)
    assert sol.status in {"optimal", "feasible"}
    assert sol.bound <= sol.objective
    if sol.status == "feasible":
        assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective)
    _valid(data, sol)
