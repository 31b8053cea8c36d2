"""Thin, deterministic wrappers around OR-Tools: the only package that imports ortools.

Everything here takes and returns plain numpy / scipy.sparse data, so OR-Tools
types never leak into the rest of the package.

- :func:`solve_min_cost_flow`: network flow with ``SimpleMinCostFlow`` (exact,
  integer data).
- :func:`solve_mip`: a mixed-integer linear program given as sparse arrays
  (:class:`MipModel`), solved with HiGHS (the build in OR-Tools through MathOpt, or
  the highspy build), SCIP (through the model builder) or CP-SAT (pure-integer models
  with integer constraint data); :func:`race_mip` races engines in processes.
- :func:`solve_vrp`: capacitated open vehicle routing with a heterogeneous fleet
  (OR-Tools routing; greedy descent, or guided local search to a time limit).
- :func:`solve_vrp_pyvrp` (``pyvrp_engine``): the same routing model on the same arrays,
  solved by PyVRP (seeded iterated local search, stopped by an iteration cap).

Determinism: HiGHS's branch and bound is serial and runs with
``random_seed=0``; SCIP runs single-threaded with its seed shift fixed at 0;
CP-SAT runs with ``random_seed=0`` and one worker (``interleave_search`` when
more workers are asked for). Runs that finish before the time limit are
therefore reproducible; a run that stops *at* the time limit depends on the
machine's speed, and its status says so ("feasible" with a gap, or "unknown").

Solver statuses are mapped to four strings: ``"optimal"`` (proven),
``"feasible"`` (a solution, optimality not proven), ``"infeasible"``
(proven to have no solution) and ``"unknown"`` (no solution found within the
limits). Anything else (invalid model, bad parameters, numerical trouble)
raises :class:`~optimiser._errors.SolverError`.
"""

from __future__ import annotations

from optimiser._solver.flow import MinCostFlowSolution, solve_min_cost_flow
from optimiser._solver.mip import MipModel, MipSolution, cp_sat_accepts, solve_mip
from optimiser._solver.pyvrp_engine import solve_vrp_pyvrp
from optimiser._solver.race import race_mip
from optimiser._solver.status import ENGINES, FEASIBLE, INFEASIBLE, OPTIMAL, UNKNOWN
from optimiser._solver.vrp import VrpSolution, solve_vrp

__all__ = [
    "ENGINES",
    "FEASIBLE",
    "INFEASIBLE",
    "OPTIMAL",
    "UNKNOWN",
    "MinCostFlowSolution",
    "MipModel",
    "MipSolution",
    "VrpSolution",
    "cp_sat_accepts",
    "race_mip",
    "solve_min_cost_flow",
    "solve_mip",
    "solve_vrp",
    "solve_vrp_pyvrp",
]
