"""Tests of optimiser._solver.race_mip (race and portfolio) and the siting core's engines."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from reference_formats import REFERENCE_DIR, published_optimum, read_holmberg

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver import MipModel, MipSolution, race_mip, solve_mip
from optimiser._solver import race as race_module
from optimiser.siting.cflp import solve as cflp_solve
from optimiser.siting.cflp.solve import solve_facility_location


def _knapsack(rhs: float = 7.0) -> MipModel:
    """max 5a + 4b + 3c s.t. 4a + 3b + 2c <= rhs, binaries (as a minimisation)."""
    return MipModel(
        np.array([-5.0, -4.0, -3.0]),
        sp.csr_matrix(np.array([[4.0, 3.0, 2.0]])),
        np.array([-np.inf]),
        np.array([rhs]),
        np.zeros(3),
        np.ones(3),
        np.ones(3, bool),
    )


@pytest.mark.parametrize("work_limit", [None, 5.0])
def test_race_and_portfolio_solve_the_knapsack(work_limit: float | None) -> None:
    sol = race_mip(_knapsack(), engines=("cp_sat", "highspy"), work_limit=work_limit)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(-9.0)
    np.testing.assert_allclose(sol.values, [1, 1, 0], atol=1e-9)
    assert sol.engine in {"cp_sat", "highspy"}
    if work_limit is not None:
        assert sol.engine == "cp_sat"  # proved within its cap: it has precedence


def test_race_proves_infeasible() -> None:
    sol = race_mip(_knapsack(rhs=-1.0), engines=("cp_sat", "highspy"))
    assert sol.status == "infeasible" and sol.values is None


def test_portfolio_takes_the_second_engine_when_cp_sat_is_unproven() -> None:
    decide = race_module._decide
    open_ = MipSolution(np.zeros(3), 0.0, -9.5, "feasible", 1.0, "cp_sat")
    proven = MipSolution(np.array([1.0, 1, 0]), -9.0, -9.0, "optimal", 2.0, "highspy")
    assert decide({1: proven}, portfolio=True) is None  # wait: CP-SAT may still prove
    assert decide({0: open_, 1: proven}, portfolio=True) is proven
    assert decide({1: proven}, portfolio=False) is proven


def test_combined_bounds_can_prove_together() -> None:
    a = MipSolution(np.zeros(3), -9.0, -12.0, "feasible", 1.0, "cp_sat")
    b = MipSolution(np.ones(3), -8.0, -9.0, "feasible", 1.0, "highspy")
    sol = race_module._combine([a, b], 1.0)
    assert (sol.objective, sol.bound, sol.status, sol.engine) == (-9.0, -9.0, "optimal", "cp_sat")


def test_race_bad_arguments() -> None:
    with pytest.raises(DataValidationError, match="engines must name"):
        race_mip(_knapsack(), engines=("gurobi",))
    with pytest.raises(DataValidationError, match="a portfolio"):
        race_mip(_knapsack(), engines=("highspy", "cp_sat"), work_limit=1.0)


def test_race_reports_when_every_engine_fails() -> None:
    frac = MipModel(
        np.array([1.0]),
        sp.csr_matrix(np.array([[0.5]])),
        np.array([0.2]),
        np.array([np.inf]),
        np.zeros(1),
        np.ones(1),
        np.ones(1, bool),
    )
    with pytest.raises(SolverError, match="every engine of the race failed"):
        race_mip(frac, engines=("cp_sat",))  # CP-SAT refuses fractional coefficients


def test_highspy_takes_a_hint_and_agrees_with_mathopt_highs() -> None:
    hinted = solve_mip(_knapsack(), engine="highspy", hint=np.array([1.0, 0.0, 1.0]))
    plain = solve_mip(_knapsack(), engine="highs")
    assert hinted.status == plain.status == "optimal"
    assert hinted.objective == pytest.approx(plain.objective)
    with pytest.raises(DataValidationError, match="hint has shape"):
        solve_mip(_knapsack(), engine="highspy", hint=np.zeros(2))


HOLMBERG = read_holmberg(REFERENCE_DIR / "sscflp_holmberg" / "p4.txt")
DATA = (HOLMBERG.fixed_cost, HOLMBERG.capacity, HOLMBERG.demand, HOLMBERG.assign_cost)


@pytest.mark.parametrize("engine", [None, "highspy", "portfolio", "race"])
def test_every_engine_proves_holmberg_p4(engine: str | None) -> None:
    sol = solve_facility_location(*DATA, single_source=True, engine=engine)  # type: ignore[arg-type]
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(published_optimum("sscflp", "p4"), rel=1e-9)
    if engine is None:  # the default's short CP-SAT try proves p4 (500 variables)
        assert sol.engine == "cp_sat"
    else:
        assert sol.engine in {"highspy", "cp_sat"}


def test_portfolio_is_reproducible() -> None:
    a, b = (
        solve_facility_location(*DATA, single_source=True, engine="portfolio") for _ in range(2)
    )
    np.testing.assert_array_equal(a.assignment, b.assignment)
    assert (a.objective, a.engine) == (b.objective, b.engine)


def test_portfolio_skips_the_first_cp_sat_run_on_big_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cflp_solve, "PORTFOLIO_ALONE_MAX_VARS", 0)
    calls: list[str] = []
    real = cflp_solve.solve_mip

    def spy(model: MipModel, **kw: object) -> MipSolution:
        calls.append(str(kw.get("engine")))
        return real(model, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cflp_solve, "solve_mip", spy)
    sol = solve_facility_location(*DATA, single_source=True, engine="portfolio")
    assert sol.status == "optimal" and calls == []  # straight to the two processes


def test_race_needs_whole_number_single_source() -> None:
    with pytest.raises(DataValidationError, match="CP-SAT, alone or not, needs single source"):
        solve_facility_location(*DATA, engine="race")
