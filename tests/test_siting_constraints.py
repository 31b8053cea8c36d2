"""Each constraint family of the facility-location MIP, one at a time.

For every numbered family of :mod:`optimiser.siting.cflp.solve` (built by one ``_add_*``
function of :mod:`optimiser.siting.cflp.model`): a small instance where the family binds,
solved with the family in place (its hand-solved optimum is found) and with the family's
function patched to add nothing (the model's optimum falls, and the solve either fails the
independent check or returns a different plan); and the number of rows the family adds,
against its formula. Model optima are cross-checked with scipy's HiGHS (``milp``).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_formats import REFERENCE_DIR, published_optimum, read_orlib_cap
from scipy.optimize import Bounds, LinearConstraint, milp

import optimiser.siting.cflp.model as cflp_model
from optimiser._errors import SolverError
from optimiser._solver.mip import MipModel
from optimiser.siting.cflp.instance import build_instance, parse_groups
from optimiser.siting.cflp.solve import solve_facility_location

FAMILIES = (
    "_add_demand_served",
    "_add_capacity",
    "_add_linking",
    "_add_aggregate_capacity",
    "_add_budget",
    "_add_open_limit",
    "_add_exclusive_groups",
)

# A is free but holds 6 of the 8 units, B costs 50: A takes customer 0 and half of customer 1,
# 50 + 4 + 0.5 * 8 + 0.5 * 40 = 78 (tests/test_siting_core.py, test_capacity_forces_a_split).
SPLIT = ([0, 50], [6, 10], [4, 4], [[4, 8], [40, 40]])


def _nothing(*args: object, **kwargs: object) -> None:
    """Stand-in for an ``_add_*`` function: the family adds no rows."""


def _model(data: tuple, **opts: object) -> MipModel:
    single = bool(opts.get("single_source", False))
    inst = build_instance(*data, single, opts.get("families"))
    return cflp_model.build_facility_model(
        inst,
        single_source=single,
        budget=opts.get("budget"),  # type: ignore[arg-type]
        k=opts.get("k"),  # type: ignore[arg-type]
        groups=parse_groups(opts.get("groups"), inst.fixed_cost.size),
    )


def _optimum(model: MipModel, *, relax: bool = False) -> float:
    """The model's optimum by scipy's HiGHS (the LP relaxation when ``relax``)."""
    res = milp(
        model.objective,
        constraints=LinearConstraint(model.matrix, model.row_lower, model.row_upper),
        bounds=Bounds(model.var_lower, model.var_upper),
        integrality=np.zeros(model.objective.size) if relax else model.is_integer.astype(int),
    )
    assert res.status == 0, res.message
    return float(res.fun)


def _drop(monkeypatch: pytest.MonkeyPatch, *families: str) -> None:
    for name in families:
        monkeypatch.setattr(cflp_model, name, _nothing)


# ------------------------------------------------------------ each family binds


def test_demand_served_rows_make_every_customer_served(monkeypatch: pytest.MonkeyPatch) -> None:
    sol = solve_facility_location(*SPLIT)
    assert sol.status == "optimal" and sol.objective == pytest.approx(78, abs=1e-9)
    assert _optimum(_model(SPLIT)) == pytest.approx(78)
    _drop(monkeypatch, "_add_demand_served")
    assert _optimum(_model(SPLIT)) == pytest.approx(50)  # serve no one; (4) still opens B
    with pytest.raises(SolverError, match="a customer with no assignment"):
        solve_facility_location(*SPLIT)


def test_capacity_rows_stop_a_facility_serving_beyond_its_capacity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert solve_facility_location(*SPLIT).objective == pytest.approx(78, abs=1e-9)
    _drop(monkeypatch, "_add_capacity")
    # (4) still opens B for its capacity, but A serves all 8 units: 50 + 4 + 8.
    assert _optimum(_model(SPLIT)) == pytest.approx(62)
    with pytest.raises(SolverError, match=r"\(2\) capacity exceeded at facilities \[0\]"):
        solve_facility_location(*SPLIT)


def test_capacity_rows_give_the_published_orlib_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = read_orlib_cap(REFERENCE_DIR / "cflp_orlib" / "cap41.txt")
    data = (inst.fixed_cost, inst.capacity, inst.demand, inst.assign_cost)
    sol = solve_facility_location(*data)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(published_optimum("cflp", "cap41"), rel=1e-6)
    _drop(monkeypatch, "_add_capacity")
    with pytest.raises(SolverError, match=r"\(2\) capacity exceeded"):
        solve_facility_location(*data)


# A (free, holds 10) serves customer 0 (5 units) for 1; customer 1 has no demand and costs 20
# from A, 1 from B (fixed cost 100). Optimum: A alone, 0 + 1 + 20 = 21 (B too: 102).
ZERO_DEMAND = ([0, 100], [10, 10], [5, 0], [[1, 20], [50, 1]])


def test_linking_rows_keep_a_zero_demand_customer_off_a_closed_facility(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sol = solve_facility_location(*ZERO_DEMAND)
    assert sol.status == "optimal" and sol.objective == 21
    assert sol.open.tolist() == [True, False]
    _drop(monkeypatch, "_add_linking")
    # (2) is 0 <= 10 y_B for a customer of no demand, so x_B1 = 1 with B closed: 0 + 1 + 1.
    assert _optimum(_model(ZERO_DEMAND)) == pytest.approx(2)
    bad = solve_facility_location(*ZERO_DEMAND)  # B serves it, so is reported open
    assert bad.objective == 102 and bad.status == "feasible" and bad.bound == pytest.approx(2)


def test_linking_rows_tighten_the_lp_relaxation(monkeypatch: pytest.MonkeyPatch) -> None:
    # One facility (fixed 100, holds 10), one customer of 1 unit: x <= y forces y = 1,
    # while (2) and (4) alone allow y = 1/10.
    data = ([100], [10], [1], [[0]])
    assert _optimum(_model(data), relax=True) == pytest.approx(100)
    _drop(monkeypatch, "_add_linking")
    assert _optimum(_model(data), relax=True) == pytest.approx(10)


def test_aggregate_capacity_row_is_the_capacity_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    # (4) is (2) summed over families under (1): implied, so alone it never moves the optimum
    # (not even of the LP relaxation); it is a cut for the solver. Its row is exactly
    # Σ_i u_i y_i >= Σ_j d_j, and it binds once (2) is gone: it still opens B for capacity.
    model = _model(SPLIT)
    row = model.matrix.shape[0] - 1  # no budget, k or groups: the last row
    np.testing.assert_array_equal(model.matrix[[row]].toarray(), [[6, 10, 0, 0, 0, 0]])
    assert (model.row_lower[row], model.row_upper[row]) == (8, np.inf)
    _drop(monkeypatch, "_add_capacity")
    assert _optimum(_model(SPLIT)) == pytest.approx(62)  # 50 + 4 + 8
    _drop(monkeypatch, "_add_aggregate_capacity")
    assert _optimum(_model(SPLIT)) == pytest.approx(12)  # A alone: 4 + 8


def test_aggregate_capacity_row_alone_leaves_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    lp_bound = _optimum(_model(SPLIT), relax=True)
    _drop(monkeypatch, "_add_aggregate_capacity")
    assert _optimum(_model(SPLIT)) == pytest.approx(78)
    assert _optimum(_model(SPLIT), relax=True) == pytest.approx(lp_bound)
    assert solve_facility_location(*SPLIT).objective == pytest.approx(78, abs=1e-9)


# B serves the customer for 30 + 5, A for 10 + 50; within a budget of 10 only A may open.
BUDGET = ([10, 30], [100, 100], [1], [[50], [5]])


def test_budget_row_caps_the_fixed_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    sol = solve_facility_location(*BUDGET, budget=10)
    assert sol.objective == 60 and sol.open.tolist() == [True, False]
    _drop(monkeypatch, "_add_budget")
    assert _optimum(_model(BUDGET, budget=10)) == pytest.approx(35)
    with pytest.raises(SolverError, match=r"\(5\) fixed cost 30 exceeds budget 10"):
        solve_facility_location(*BUDGET, budget=10)


# Three facilities (fixed 1), each free for its own customer and 10 for the others.
DIAG = ([1, 1, 1], [10, 10, 10], [1, 1, 1], np.where(np.eye(3) > 0, 0.0, 10.0))


def test_open_limit_row_caps_the_open_facilities(monkeypatch: pytest.MonkeyPatch) -> None:
    sol = solve_facility_location(*DIAG, k=1)
    assert sol.objective == 21 and sol.open.sum() == 1
    _drop(monkeypatch, "_add_open_limit")
    assert _optimum(_model(DIAG, k=1)) == pytest.approx(3)
    with pytest.raises(SolverError, match=r"\(6\) 3 facilities open, more than k=1"):
        solve_facility_location(*DIAG, k=1)


# Facilities 0 and 1 (holding 4, fixed 1) are two sizes of one site, facility 2 holds 8 for 5;
# demand 8 at no assignment cost. Both sizes would serve it for 2; one at a time, 2 must: 5.
SIZES = ([1, 1, 5], [4, 4, 8], [4, 4], [[0, 0], [0, 0], [0, 0]])


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"groups": [[0, 1]]}, r"\(7\) facilities \[0, 1\] of one group are all open"),
        ({"families": [0, 0, 1]}, r"\(2\) capacity exceeded"),  # both sizes' y, one's x
    ],
    ids=["groups", "families"],
)
def test_exclusive_group_rows_open_one_member_at_most(
    monkeypatch: pytest.MonkeyPatch, opts: dict, match: str
) -> None:
    sol = solve_facility_location(*SIZES, **opts)
    assert sol.status == "optimal" and sol.objective == 5
    assert sol.open.tolist() == [False, False, True]
    _drop(monkeypatch, "_add_exclusive_groups")
    assert _optimum(_model(SIZES, **opts)) == pytest.approx(2)
    with pytest.raises(SolverError, match=match):
        solve_facility_location(*SIZES, **opts)


# ------------------------------------------------------------ rows per family

# Four facilities in three families ({0, 1}, {2}, {3}), three customers; customer 2 may not use
# family {2}, and facility 3 is forbidden customer 0: 3 + 2 + 2 = 7 allowed (family, customer)
# pairs (3 + 3 + 2 + 2 = 10 (facility, customer) pairs without the families).
ROWS_DATA = (
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [1, 2, 3],
    [[1, 1, 1], [1, 1, 1], [1, 1, np.inf], [np.inf, 1, 1]],
)
ROWS_OPTS = {"families": [0, 0, 1, 2], "groups": [[0, 2], [1, 2, 3]], "budget": 6.0, "k": 2}


def _rows_added(monkeypatch: pytest.MonkeyPatch, family: str, opts: dict) -> int:
    full = _model(ROWS_DATA, **opts).matrix.shape[0]
    with monkeypatch.context() as patch:
        _drop(patch, family)
        return full - _model(ROWS_DATA, **opts).matrix.shape[0]


@pytest.mark.parametrize(
    ("family", "with_options", "without_options"),
    [
        ("_add_demand_served", 3, 3),  # one per customer
        ("_add_capacity", 3, 4),  # one per family (without families: per facility)
        ("_add_linking", 7, 10),  # one per allowed (family, customer) pair
        ("_add_aggregate_capacity", 1, 1),  # one
        ("_add_budget", 1, 0),  # one when budget is given
        ("_add_open_limit", 1, 0),  # one when k is given
        ("_add_exclusive_groups", 3, 0),  # one per group (2) and per shared family (1)
    ],
)
def test_rows_per_family_match_the_formula(
    monkeypatch: pytest.MonkeyPatch, family: str, with_options: int, without_options: int
) -> None:
    assert _rows_added(monkeypatch, family, ROWS_OPTS) == with_options
    assert _rows_added(monkeypatch, family, {}) == without_options


def test_families_fill_the_rows_in_formulation_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    for name in FAMILIES:
        original = getattr(cflp_model, name)

        def spy(rows: cflp_model._RowBuilder, *args: object, _f=original, _n=name) -> None:
            calls.append((_n, rows.n_rows))
            _f(rows, *args)

        monkeypatch.setattr(cflp_model, name, spy)
    model = _model(ROWS_DATA, **ROWS_OPTS)
    assert calls == [
        ("_add_demand_served", 0),
        ("_add_capacity", 3),
        ("_add_linking", 6),
        ("_add_aggregate_capacity", 13),
        ("_add_budget", 14),
        ("_add_open_limit", 15),
        ("_add_exclusive_groups", 16),
    ]
    assert model.matrix.shape == (19, 4 + 7)
