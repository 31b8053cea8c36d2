"""Tests of optimiser._solver: the min-cost-flow wrapper and the MIP helpers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimiser._errors import DataValidationError, InfeasibleError, SolverError
from optimiser._solver import (
    ENGINES,
    MinCostFlowSolution,
    MipModel,
    cp_sat_accepts,
    solve_min_cost_flow,
    solve_mip,
)

# Hand-solvable network: 4 units from node 0 to node 3.
#   0->1 cap 3 cost 1, 0->2 cap 2 cost 4, 1->2 cap 2 cost 1, 1->3 cap 2 cost 5, 2->3 cap 3 cost 1
# Cheapest path 0-1-2-3 (cost 3) takes 2 units (1->2 full), then 0-2-3 (cost 5) takes 1 unit
# (2->3 full), then 0-1-3 (cost 6) takes the last one: 6 + 5 + 6 = 17.
TAIL = [0, 0, 1, 1, 2]
HEAD = [1, 2, 2, 3, 3]
CAP = [3, 2, 2, 2, 3]
COST = [1, 4, 1, 5, 1]
SUPPLY = [4, 0, 0, -4]


def _lp_min_cost_flow(tail, head, cap, cost, supply) -> float:
    """Min-cost flow as an LP (node-arc incidence), for cross-checks."""
    n_nodes, n_arcs = len(supply), len(tail)
    a_eq = np.zeros((n_nodes, n_arcs))
    a_eq[tail, np.arange(n_arcs)] += 1.0
    a_eq[head, np.arange(n_arcs)] -= 1.0
    res = linprog(
        cost,
        A_eq=a_eq,
        b_eq=supply,
        bounds=list(zip([0] * n_arcs, cap, strict=True)),
        method="highs",
    )
    return res.fun if res.status == 0 else np.nan


def test_min_cost_flow_hand_solved() -> None:
    sol = solve_min_cost_flow(TAIL, HEAD, CAP, COST, SUPPLY)
    assert isinstance(sol, MinCostFlowSolution)
    assert sol.status == "optimal"
    assert sol.objective == 17
    assert sol.flow.dtype == np.int64
    np.testing.assert_array_equal(sol.flow, [3, 1, 2, 1, 3])


def test_min_cost_flow_accepts_integral_floats_and_numpy() -> None:
    sol = solve_min_cost_flow(
        np.array(TAIL),
        np.array(HEAD),
        np.array(CAP, float),
        np.array(COST, float),
        np.array(SUPPLY, np.int32),
    )
    assert sol.objective == 17


def test_min_cost_flow_max_flow_routes_what_it_can() -> None:
    # Supply 6 but only 5 units can reach node 3 (1->3 cap 2 + 2->3 cap 3).
    sol = solve_min_cost_flow(TAIL, HEAD, CAP, COST, [6, 0, 0, -6], max_flow=True)
    inflow = sol.flow[np.array(HEAD) == 3].sum()
    assert inflow == 5
    assert sol.objective == int(np.dot(sol.flow, COST))
    assert sol.objective == round(_lp_min_cost_flow(TAIL, HEAD, CAP, COST, [5, 0, 0, -5]))


def test_min_cost_flow_empty_network() -> None:
    sol = solve_min_cost_flow([], [], [], [], [0, 0])
    assert sol.objective == 0
    assert sol.flow.shape == (0,)


def test_min_cost_flow_infeasible() -> None:
    with pytest.raises(InfeasibleError, match="cannot be routed"):
        solve_min_cost_flow(TAIL, HEAD, CAP, COST, [6, 0, 0, -6])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((TAIL, HEAD[:-1], CAP, COST, SUPPLY), "head has 4 entries but tail has 5"),
        ((TAIL, HEAD, CAP, COST[:2], SUPPLY), "unit_cost has 2 entries"),
        ((TAIL, HEAD, CAP, [1.5, 4, 1, 5, 1], SUPPLY), "unit_cost must hold whole numbers"),
        ((TAIL, HEAD, CAP, [np.nan, 4, 1, 5, 1], SUPPLY), "whole numbers"),
        ((TAIL, [1, 2, 2, 3, 9], CAP, COST, SUPPLY), r"head must hold node indices in \[0, 4\)"),
        ((TAIL, HEAD, [3, -2, 2, 2, 3], COST, SUPPLY), "capacity must be >= 0"),
        ((TAIL, HEAD, CAP, COST, [4, 0, 0, -3]), "supply must sum to 0"),
        ((np.array([TAIL]), HEAD, CAP, COST, SUPPLY), "tail must be 1-D"),
    ],
)
def test_min_cost_flow_bad_input(args: tuple, match: str) -> None:
    with pytest.raises(DataValidationError, match=match):
        solve_min_cost_flow(*args)


def test_min_cost_flow_bad_cost_range() -> None:
    with pytest.raises(SolverError, match="BAD_COST_RANGE"):
        solve_min_cost_flow([0], [1], [3], [2**62], [2, -2])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.data())
def test_min_cost_flow_matches_lp(data: st.DataObject) -> None:
    n_nodes = data.draw(st.integers(2, 6))
    n_arcs = data.draw(st.integers(1, 12))
    node = st.integers(0, n_nodes - 1)
    tail = data.draw(st.lists(node, min_size=n_arcs, max_size=n_arcs))
    head = data.draw(st.lists(node, min_size=n_arcs, max_size=n_arcs))
    cap = data.draw(st.lists(st.integers(0, 9), min_size=n_arcs, max_size=n_arcs))
    cost = data.draw(st.lists(st.integers(0, 20), min_size=n_arcs, max_size=n_arcs))
    amount = data.draw(st.integers(0, 8))
    supply = [0] * n_nodes
    supply[0] += amount
    supply[-1] -= amount
    expected = _lp_min_cost_flow(tail, head, cap, cost, supply)
    if np.isnan(expected):
        with pytest.raises(InfeasibleError):
            solve_min_cost_flow(tail, head, cap, cost, supply)
        return
    sol = solve_min_cost_flow(tail, head, cap, cost, supply)
    assert sol.objective == round(expected)
    assert (sol.flow >= 0).all() and (sol.flow <= np.array(cap)).all()
    balance = np.zeros(n_nodes, np.int64)
    np.add.at(balance, tail, sol.flow)
    np.subtract.at(balance, head, sol.flow)
    np.testing.assert_array_equal(balance, supply)


# --------------------------------------------------------------------------- MIP


def _knapsack_model(rhs: float = 7.0) -> MipModel:
    """max 5a + 4b + 3c s.t. 4a + 3b + 2c <= rhs, binaries -> min of the negation."""
    matrix = sp.csr_matrix(np.array([[4.0, 3.0, 2.0]]))
    return MipModel(
        np.array([-5.0, -4.0, -3.0]),
        matrix,
        np.array([-np.inf]),
        np.array([rhs]),
        np.zeros(3),
        np.ones(3),
        np.ones(3, bool),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_solve_mip_knapsack(engine: str) -> None:
    sol = solve_mip(_knapsack_model(), engine=engine, time_limit_s=10)
    # a+b (weight 7, value 9) beats a+c (6, 8) and b+c (5, 7).
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(-9.0)
    assert sol.bound == pytest.approx(-9.0)
    np.testing.assert_allclose(sol.values, [1, 1, 0], atol=1e-9)
    assert sol.engine == engine


@pytest.mark.parametrize("engine", ENGINES)
def test_solve_mip_infeasible(engine: str) -> None:
    model = _knapsack_model(rhs=-1.0)
    sol = solve_mip(model, engine=engine)
    assert sol.status == "infeasible"
    assert sol.values is None
    assert sol.bound == -np.inf


@pytest.mark.parametrize("engine", ["highs", "scip"])
def test_solve_mip_continuous(engine: str) -> None:
    model = MipModel(
        np.array([-1.0, -1.0]),
        sp.csr_matrix(np.array([[2.0, 1.0], [1.0, 2.0]])),
        np.array([-np.inf, -np.inf]),
        np.array([3.0, 3.0]),
        np.zeros(2),
        np.full(2, np.inf),
        np.zeros(2, bool),
    )
    sol = solve_mip(model, engine=engine)
    assert sol.objective == pytest.approx(-2.0)
    np.testing.assert_allclose(sol.values, [1.0, 1.0], atol=1e-7)


def test_cp_sat_accepts() -> None:
    assert cp_sat_accepts(_knapsack_model())
    frac = _knapsack_model()
    frac.matrix.data[0] = 4.5
    assert not cp_sat_accepts(frac)
    with pytest.raises(DataValidationError, match="engine='cp_sat' needs integer"):
        solve_mip(frac, engine="cp_sat")


def test_cp_sat_fractional_objective_is_fine() -> None:
    model = _knapsack_model()
    model.objective[:] = [-5.25, -4.5, -3.75]
    sol = solve_mip(model, engine="cp_sat")
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(-9.75)


def test_solve_mip_bad_arguments() -> None:
    with pytest.raises(DataValidationError, match="engine must be one of"):
        solve_mip(_knapsack_model(), engine="gurobi")
    with pytest.raises(DataValidationError, match="time_limit_s must be a positive"):
        solve_mip(_knapsack_model(), time_limit_s=0)
    with pytest.raises(DataValidationError, match=r"MipModel.row_upper has shape \(2,\)"):
        MipModel(
            np.zeros(3),
            sp.csr_matrix((1, 3)),
            np.zeros(1),
            np.zeros(2),
            np.zeros(3),
            np.ones(3),
            np.ones(3, bool),
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_solve_mip_deterministic(engine: str) -> None:
    rng = np.random.default_rng(3)
    weights = rng.integers(1, 30, size=(3, 25)).astype(float)
    model = MipModel(
        -rng.integers(1, 50, 25).astype(float),
        sp.csr_matrix(weights),
        np.full(3, -np.inf),
        np.full(3, 120.0),
        np.zeros(25),
        np.ones(25),
        np.ones(25, bool),
    )
    first, second = (solve_mip(model, engine=engine) for _ in range(2))
    np.testing.assert_array_equal(first.values, second.values)
    assert first.objective == second.objective
