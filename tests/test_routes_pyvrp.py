"""The PyVRP route engine: the same model as the OR-Tools core, every constraint kept.

Engine-level cases are small enough to solve by hand or by enumeration; estimate-level
cases use ``make_case`` of tests/test_routes.py (straight-line × 1.3 road km, 24 km/h,
2 min a stop; shared taxi 4 seats, minibus 12 seats + 2 wheelchair spaces).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from test_routes import make_case
from typer.testing import CliRunner

from optimiser._errors import DataValidationError
from optimiser._solver.pyvrp_engine import solve_vrp_pyvrp
from optimiser._solver.vrp import solve_vrp
from optimiser.cli.app import app
from optimiser.transport.routes.estimate import estimate_routes

# ------------------------------------------------------------------------------ engine


def _two_customers(latest: int) -> dict:
    """Depot and two customers 100 s out, 150 s apart; one vehicle type, fixed cost 1,000.

    Sharing costs 1,000 + 100 + 150 = 1,250 against two vehicles' 2 × 1,100 = 2,200, but
    whoever is dropped second arrives at 100 + 10 (service) + 150 = 260 s.
    """
    t = np.array([[0, 100, 100], [100, 0, 150], [100, 150, 0]])
    return dict(
        travel_s=t,
        arc_cost=t[None],
        fixed_cost=[1000],
        n_vehicles=[2],
        demand=[[0], [1], [1]],
        capacity=[[2]],
        max_arrival_s=[0, latest, latest],
        service_s=[0, 10, 10],
    )


def test_ride_cap_binds_and_splits_the_route():
    free = solve_vrp_pyvrp(**_two_customers(latest=10_000), max_iterations=200)
    assert free.status == "feasible" and free.objective == 1250
    assert free.vehicle[1] == free.vehicle[2]
    capped = solve_vrp_pyvrp(**_two_customers(latest=259), max_iterations=200)
    assert capped.objective == 2200 and capped.vehicle[1] != capped.vehicle[2]
    assert (capped.arrival_s[1:] <= 259).all() and (capped.arrival_s[1:] == 100).all()
    at_cap = solve_vrp_pyvrp(**_two_customers(latest=260), max_iterations=200)
    assert at_cap.objective == 1250  # 260 s is allowed: the cap is inclusive
    assert sorted(at_cap.arrival_s[1:].tolist()) == [100, 260]


def test_wheelchair_spaces_are_a_second_capacity():
    # Three wheelchair users and a seated child at the same spot. Taxi (4 seats, no
    # wheelchair space) fixed 100; minibus (12 seats, 2 spaces) fixed 300; arcs free.
    # Cheapest: 2 minibuses (3 wheelchairs need 2 vehicles with spaces) carry everyone: 600.
    m = 5
    t = np.full((m, m), 60) - 60 * np.eye(m, dtype=int)
    sol = solve_vrp_pyvrp(
        t,
        np.zeros((2, m, m), int),
        fixed_cost=[100, 300],
        n_vehicles=[4, 4],
        demand=[[0, 0], [0, 1], [0, 1], [0, 1], [1, 0]],
        capacity=[[4, 0], [12, 2]],
        max_arrival_s=[0, *[10_000] * 4],
        max_iterations=300,
    )
    assert sol.objective == 600
    wheel_vehicles = sol.vehicle[1:4]
    assert (sol.vehicle_type[wheel_vehicles] == 1).all()
    assert max(np.bincount(wheel_vehicles)) == 2


def test_seats_cap_each_route_and_penalties_drop_the_unreachable():
    # Six children, a 4-seat vehicle type only (3 of them); child 6 needs a wheelchair
    # space no vehicle has, so it is dropped at its penalty.
    m = 7
    rng = np.random.default_rng(5)
    pts = rng.integers(0, 1000, size=(m, 2))
    t = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(int)
    demand = [[0, 0], *[[1, 0]] * 5, [0, 1]]
    sol = solve_vrp_pyvrp(
        t,
        t[None],
        fixed_cost=[500],
        n_vehicles=[3],
        demand=demand,
        capacity=[[4, 0]],
        max_arrival_s=[0, *[10**6] * 6],
        drop_penalty=[0, *[10**6] * 5, 777],
        max_iterations=300,
    )
    assert sol.vehicle[6] == -1 and (sol.vehicle[1:6] >= 0).all()
    assert max(np.bincount(sol.vehicle[1:6])) <= 4
    # the objective recomputed from the routes: open routes, fixed costs, the penalty
    recomputed = 777
    for v in np.unique(sol.vehicle[sol.vehicle >= 0]):
        nodes = np.flatnonzero(sol.vehicle == v)
        path = np.r_[0, nodes[np.argsort(sol.stop[nodes])]]
        recomputed += 500 + int(t[path[:-1], path[1:]].sum())
    assert sol.objective == recomputed


def _brute_force_closed(t: np.ndarray) -> int:
    return min(
        int(t[np.r_[0, p], np.r_[p, 0]].sum())
        for p in map(np.array, itertools.permutations(range(1, len(t))))
    )


def test_closed_routes_match_enumeration_in_both_engines():
    rng = np.random.default_rng(2)
    pts = rng.integers(0, 100, size=(6, 2))
    t = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(int)
    kw = dict(
        fixed_cost=[0],
        n_vehicles=[1],
        demand=np.ones((6, 1), int),
        capacity=[[10]],
        max_arrival_s=np.full(6, 10**6),
        open_routes=False,
    )
    best = _brute_force_closed(t)
    assert solve_vrp_pyvrp(t, t[None], max_iterations=300, **kw).objective == best
    assert solve_vrp(t, t[None], time_limit_s=1, guided=True, **kw).objective == best


def test_warm_start_never_costs_more_and_runs_repeat():
    a = _two_customers(latest=10_000)
    a["fixed_cost"] = [10]  # now two vehicles (220) beat sharing (260)
    greedy = solve_vrp(**a, time_limit_s=1)
    one = solve_vrp_pyvrp(**a, max_iterations=100, seed=4, initial=greedy)
    two = solve_vrp_pyvrp(**a, max_iterations=100, seed=4, initial=greedy)
    assert one.objective <= greedy.objective and one.objective == 220
    assert (one.vehicle == two.vehicle).all() and (one.stop == two.stop).all()


def test_engine_rejects_bad_input():
    with pytest.raises(DataValidationError, match="stopping rule"):
        solve_vrp_pyvrp(**_two_customers(100), max_iterations=None, time_limit_s=None)
    bad = _two_customers(100) | {"capacity": [[1, 1]]}
    with pytest.raises(DataValidationError, match="capacity"):
        solve_vrp_pyvrp(**bad)


# ------------------------------------------------------------------------------ estimate


@pytest.mark.parametrize(("age", "shared"), [(9, False), (12, True)])
def test_estimate_keeps_the_ride_cap(age, shared):
    # as tests/test_routes.py: sharing gives B a 47.5 min ride, over primary's 45
    ds, placed = make_case([dict(dx=8000.0, dy=0.0, age=age), dict(dx=8000.0, dy=6000.0, age=age)])
    plan = estimate_routes(ds, placed, method="pyvrp", time_limit_s=2)
    routes = plan.riders["route_id"]
    assert (routes.iloc[0] == routes.iloc[1]) is shared
    assert (plan.riders["ride_min"] <= (75 if shared else 45) + 1e-9).all()
    assert plan.summary["riders_over_cap"] == 0


def test_estimate_seats_and_wheelchair_spaces():
    # 16 children at one spot 5 km out, 5 of them in wheelchairs: minibuses (12 + 2) and
    # taxis (4 + 0) must carry them without exceeding seats or spaces.
    kids = [dict(dx=5000.0 + 10 * i, dy=0.0, wheelchair=i < 5) for i in range(16)]
    ds, placed = make_case(kids)
    plan = estimate_routes(ds, placed, method="pyvrp", time_limit_s=2)
    seats = {"minibus": (12, 2), "shared_taxi": (4, 0), "solo_taxi": (1, 1)}
    for r in plan.routes.itertuples():
        assert r.riders - r.wheelchair_riders <= seats[r.vehicle][0]
        assert r.wheelchair_riders <= seats[r.vehicle][1]
    assert plan.routes["wheelchair_riders"].sum() == 5
    assert sorted(plan.riders["child_id"]) == sorted(placed["child_id"])


def _spread(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        dict(
            dx=float(rng.integers(-9000, 9000)),
            dy=float(rng.integers(-9000, 9000)),
            age=int(rng.integers(5, 18)),
            wheelchair=bool(rng.random() < 0.15),
        )
        for _ in range(n)
    ]


def test_estimate_is_deterministic_for_a_seed_and_no_costlier_than_ortools():
    ds, placed = make_case(_spread(30, seed=11))
    first = estimate_routes(ds, placed, method="pyvrp", seed=7)
    again = estimate_routes(ds, placed, method="pyvrp", seed=7)
    pd.testing.assert_frame_equal(first.routes, again.routes)
    pd.testing.assert_frame_equal(first.riders, again.riders)
    assert set(first.settings["status"]) <= {"feasible", "optimal"}
    ortools = estimate_routes(ds, placed, method="ortools")
    assert first.summary["cost_gbp"] <= ortools.summary["cost_gbp"] + 1e-6
    assert first.method == "pyvrp"


def test_estimate_costs_are_the_route_checkers_recomputation():
    ds, placed = make_case(_spread(20, seed=3))
    plan = estimate_routes(ds, placed, method="pyvrp")
    pol = ds.policy.transport
    for r in plan.routes.itertuples():
        if r.vehicle == "solo_taxi":
            continue
        rate = getattr(pol, r.vehicle)
        day = rate.vehicle_gbp_per_day + rate.vehicle_gbp_per_mile * r.miles_per_day
        assert r.cost_gbp == pytest.approx(day * ds.policy.school_days_per_year)
        assert r.cost_gbp <= r.solo_cost_gbp + 1e-6
    assert plan.riders["cost_gbp"].sum() == pytest.approx(plan.routes["cost_gbp"].sum())
    assert plan.summary["riders_over_cap_by_sharing"] == 0


def test_unknown_method_is_refused():
    ds, placed = make_case(_spread(2, seed=1))
    with pytest.raises(ValueError, match="pyvrp"):
        estimate_routes(ds, placed, method="hgs")


# ------------------------------------------------------------------------------ CLI


@pytest.mark.parametrize("method", ["pyvrp", "ortools"])
def test_cli_transport_with_each_engine(tiny_path, method):
    out = CliRunner().invoke(app, ["transport", str(tiny_path), "--method", method])
    assert out.exit_code == 0, out.output
    assert "Shared-route estimate:" in out.output


def test_cli_transport_refuses_an_unknown_engine(tiny_path):
    out = CliRunner().invoke(app, ["transport", str(tiny_path), "--method", "hgs"])
    assert out.exit_code == 2
    assert "pyvrp" in out.output and "Traceback" not in out.output
