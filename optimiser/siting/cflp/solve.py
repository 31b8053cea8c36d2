"""Capacitated facility location on plain arrays: the exact core of siting.

Formulation
-----------
Sets: facilities (candidate sites) I = {0..m-1}; customers (demand zones) J =
{0..n-1}; allowed pairs P ⊆ I × J, the pairs with a finite ``assign_cost``
(in the single-source case also ``demand_j <= capacity_i``).

Data: fixed cost f_i, capacity u_i, demand d_j, and c_ij = the cost of serving
*all* of customer j's demand from facility i (a fraction x_ij of it costs
c_ij x_ij).

Variables: y_i ∈ {0, 1}, facility i is open; x_ij ∈ [0, 1] for (i, j) ∈ P,
the fraction of j's demand served by i (x_ij ∈ {0, 1} when single-sourced).

Objective: minimise Σ_i f_i y_i + Σ_(i,j)∈P c_ij x_ij.

Constraints:

1. Σ_i x_ij = 1 for every customer j (all demand is served);
2. Σ_j d_j x_ij <= u_i y_i for every facility i (capacity, only when open);
3. x_ij <= y_i for every (i, j) ∈ P (strong linking; redundant with 2 for
   integers, it makes the LP relaxation much tighter);
4. Σ_i u_i y_i >= Σ_j d_j (aggregate capacity cut, valid and tightening);
5. Σ_i f_i y_i <= budget (only when ``budget`` is given);
6. Σ_i y_i <= k (only when ``k`` is given; = k when every fixed cost is 0 and there
   are no groups or shared families, the p-median's cardinality row, valid because
   unused facilities then open at no cost);
7. Σ_(i∈G) y_i <= 1 for every group G in ``groups`` (mutually exclusive facilities;
   only when ``groups`` is given).

Families (optional ``families``: a family id per facility) are alternative
capacities of one site, e.g. the sizes of a base: at most one member opens
(a row of 7), and the members share the assignment variables x_gj, so 2 and 3
read Σ_j d_j x_gj <= Σ_(i∈g) u_i y_i and x_gj <= Σ_(i∈g) y_i (members must have
equal ``assign_cost`` rows). Each facility alone is its own family by default,
which is the model above; shared x make a model with s sizes up to s times
smaller, and HiGHS proves LA-scale siting 3-7x faster (benchmarks/bench_site.py).

Solvers (chosen per instance by :func:`choose_engine` and :func:`solve_facility_location`,
measured in benchmarks/bench_siting_reference.py, results in benchmarks/results/siting.md):
split demand is a MIP with continuous x and goes to HiGHS (the build in OR-Tools, through
MathOpt), except that split demand with at least ``SPLIT_MIN_PAIRS`` allowed pairs, whole-number
capacities and no budget, k, groups or shared families (OR-Library capa/b/c, 100 x 1000) goes
to the Lagrangian branch and bound over the facilities of
:mod:`optimiser.siting.cflp.lagrangian_split` (continuous knapsack per facility, the aggregate
capacity cut as a covering knapsack, safe reduced-cost fixing, a transportation LP for each
incumbent): it proves capa@8000, capb@5000 and capc@5000 in 7-20 s where HiGHS takes 16-100 s;
the small instances (cap41-134, at most 2,500 pairs) stay with HiGHS, which proves them in
well under a second.

Single sourcing with whole-number demands and capacities, no budget, no groups and
no shared families (the capacitated p-median, the Holmberg single-source CFLP) goes to
``engine="lagrangian"`` (:mod:`optimiser.siting.cflp.lagrangian`), after a short first try of
CP-SAT alone on models of at most ``PORTFOLIO_ALONE_MAX_VARS`` variables (``QUICK_WORK`` of
its deterministic time; its answer when it proves, as it does the easy instances faster than
the Lagrangian step can start): a Lagrangian bound over
the assignment rows with an exact knapsack per facility, a heuristic incumbent (repair and
local search, then a short MIP on the 8 pairs of smallest forced bound per customer),
reduced-cost fixing that is provably safe against the incumbent, and the reduced model with
one Lagrangian knapsack cut per facility, to highspy (the HiGHS of the highspy package, one
thread) with the incumbent as a hint; when the bound meets the
incumbent no MIP runs. Single sourcing with a budget (and no k), whole-number demands and
capacities and at least ``BUDGET_MIN_PAIRS`` allowed pairs (LA-scale siting: sites with sizes
as families, packages sharing a site's places as groups) goes to the budget branch and bound of
:mod:`optimiser.siting.cflp.lagrangian_budget`, whose Lagrangian bound keeps the budget whole
(a DP over budget units, one stage per site) where the LP spends it to the last pound: it
proves LA instances HiGHS's LP bound cannot (la-varied-1: 618 s with HiGHS). Other whole-number
single sourcing (budget, groups, families) goes to CP-SAT with one worker (linearization
level 2); otherwise HiGHS. Each run is deterministic
unless the time limit is hit (the Lagrangian step has an iteration cap and a time cap of
``LAGRANGIAN_SHARE`` of the time, the heuristic MIP a cap ``POLISH_WORK`` on CP-SAT's
deterministic time and a time cap of ``POLISH_SHARE``).

Two multi-process options use both engines (:func:`optimiser._solver.race_mip`):
``engine="portfolio"`` runs CP-SAT (first alone up to 1 unit of its deterministic time on
small models, then up to 10 beside the highspy build of HiGHS in two processes) and takes
CP-SAT's answer if it proved within its cap, else HiGHS's, so the answer never depends on
timing; ``engine="race"`` takes whichever proves first, so which of several optimal plans
is returned depends on timing. Neither beat CP-SAT alone over a family on the shared
2-core machine (benchmarks/results/siting.md): the second process slowed the first.

The returned objective is recomputed in numpy from ``open`` and ``assignment``
and the solution is re-checked by :func:`check_facility_location` before it is
returned.

Modules: :mod:`optimiser.siting.cflp.instance` (inputs validated, allowed pairs,
families, groups), :mod:`optimiser.siting.cflp.feasibility` (causes of infeasibility
provable without solving), :mod:`optimiser.siting.cflp.model` (constraints 1-7 as a
MIP, and its answer read back), :mod:`optimiser.siting.cflp.solution` (the solution
and its independent check); this module solves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Literal, TypedDict

import numpy as np
import numpy.typing as npt

from optimiser._errors import DataValidationError, SolverError, SolverTimeoutError
from optimiser._solver.mip import MipModel, MipSolution, cp_sat_accepts, solve_mip
from optimiser._solver.race import race_mip
from optimiser._solver.status import FEASIBLE, INFEASIBLE, OPTIMAL
from optimiser.siting.cflp.feasibility import infeasibility_causes, raise_infeasible
from optimiser.siting.cflp.instance import (
    FacilityInstance,
    build_instance,
    check_options,
    parse_groups,
)
from optimiser.siting.cflp.lagrangian import (
    add_lagrangian_cuts,
    hint_of,
    lagrangian_accepts,
    lagrangian_fixing,
    restrict_model,
    values_of,
)
from optimiser.siting.cflp.lagrangian_budget import budget_data, solve_budget
from optimiser.siting.cflp.lagrangian_split import solve_split
from optimiser.siting.cflp.model import assignment_from_values, build_facility_model
from optimiser.siting.cflp.solution import (
    FacilityLocationSolution,
    check_facility_location,
    relative_gap,
    total_cost,
)
from optimiser.siting.cflp.split_bound import split_accepts

__all__ = [
    "ENGINES",
    "FacilityLocationSolution",
    "check_facility_location",
    "choose_engine",
    "solve_facility_location",
]

#: The engines ``solve_facility_location`` accepts (None: :func:`choose_engine`).
ENGINES = ("highs", "highspy", "cp_sat", "portfolio", "race", "lagrangian")
Engine = Literal["highs", "highspy", "cp_sat", "portfolio", "race", "lagrangian"]

#: Share of the time left that the Lagrangian step (LP start, subgradient) may use.
LAGRANGIAN_SHARE = 0.25
#: Share of the time the heuristic MIP on the nearest pairs may use, and its pairs per customer.
#: A safety cap: ``POLISH_WORK`` is what should end it (at 0.1, i.e. 6 s of 60, the wall
#: time ended it on Holmberg p29-p66 at 1.1-2.2 units of work, so the plan depended on the load).
POLISH_SHARE = 0.3
POLISH_PAIRS = 8
#: CP-SAT's cap on the heuristic MIP in its deterministic time, so that it ends the same way
#: on any machine unless ``POLISH_SHARE`` of the wall time runs out first; 2 units took
#: 4.8-10.1 s on Holmberg p29-p66 on an idle core (benchmarks/results/siting.md).
POLISH_WORK = 2.0

#: CP-SAT's caps in the portfolio, in its deterministic time (about seconds on an idle core):
#: first alone in this process, then beside highspy in two processes.
PORTFOLIO_WORK = (1.0, 10.0)
#: Above this many variables the portfolio skips the first, in-process CP-SAT run (whose
#: model build alone then costs seconds) and starts both processes at once.
PORTFOLIO_ALONE_MAX_VARS = 3_000

#: CP-SAT's cap, in its deterministic time, on the default's first try of a small model
#: before the Lagrangian paths (:func:`_quick_then`).
QUICK_WORK = 1.0

#: Split demand goes to the Lagrangian branch and bound (lagrangian_split) from this many
#: allowed pairs (capa/b/c have 100,000; cap41-134 at most 2,500, where HiGHS is quicker).
SPLIT_MIN_PAIRS = 20_000

#: Single sourcing with a budget goes to the budget branch and bound (lagrangian_budget) from
#: this many allowed (family, customer) pairs (LA-scale instances have about 4,500; the
#: Trafford default 57 options, where HiGHS proves in 0.02-0.04 s and the search takes 0.15-0.3 s).
BUDGET_MIN_PAIRS = 2_000

#: The least time the solver is given when building the model used up the budget [s].
MIN_SOLVER_S = 0.05


class _Options(TypedDict):
    """The model options shared by the feasibility screen, the model and the check."""

    single_source: bool
    budget: float | None
    k: int | None
    groups: tuple[np.ndarray, ...] | None


def solve_facility_location(
    fixed_cost: npt.ArrayLike,
    capacity: npt.ArrayLike,
    demand: npt.ArrayLike,
    assign_cost: npt.ArrayLike,
    *,
    single_source: bool = False,
    budget: float | None = None,
    k: int | None = None,
    time_limit_s: float = 60.0,
    groups: Iterable[npt.ArrayLike] | None = None,
    families: npt.ArrayLike | None = None,
    engine: Engine | None = None,
) -> FacilityLocationSolution:
    """Solve capacitated facility location exactly (see the module docstring).

    Parameters
    ----------
    fixed_cost : array_like, shape (m,)
        Cost of opening each facility (>= 0) [GBP, or any currency unit].
    capacity : array_like, shape (m,)
        Capacity of each facility (>= 0), in the units of ``demand`` [places].
    demand : array_like, shape (n,)
        Demand of each customer (>= 0) [places].
    assign_cost : array_like, shape (m, n)
        Cost of serving *all* of customer j's demand from facility i (>= 0);
        a fraction pays pro rata. ``np.inf`` forbids the pair.
    single_source : bool, default False
        Serve each customer wholly from one facility.
    budget : float, optional
        Cap on the summed fixed cost of open facilities.
    k : int, optional
        Cap on the number of open facilities.
    time_limit_s : float, default 60.0
        Wall-clock budget of the whole call [s]: checking the input, the
        feasibility screen and building the model count, and the solver gets what
        is left (at least ``MIN_SOLVER_S``). A run stopped by it returns status
        ``"feasible"`` with its gap (and is no longer reproducible).
    groups : list of lists of int, optional
        Sets of facility indices of which at most one may open (constraint 7).
        A facility may be in several.
    families : array_like, shape (m,), optional
        A family id per facility: alternative capacities of one site (e.g. its
        sizes), of which at most one opens, sharing assignment variables; members
        need equal ``assign_cost`` rows. Default: each facility its own family.
    engine : {"highs", "highspy", "cp_sat", "portfolio", "race", "lagrangian"}, optional
        Force a solver; default: :func:`choose_engine` (the choice of the module
        docstring), with ``"lagrangian"`` in place of ``"cp_sat"`` where it applies.
        CP-SAT, and so the race, needs single sourcing and whole-number demands,
        capacities and budget-row coefficients; ``"lagrangian"`` single sourcing with
        whole-number demands and capacities and no budget, groups or shared families.

    Returns
    -------
    FacilityLocationSolution

    Raises
    ------
    DataValidationError
        If an argument has the wrong shape, a NaN, or a negative value.
    InfeasibleError
        If no plan exists; the message names the cause (a customer no facility
        may serve, total capacity below total demand, k or budget too small,
        or their combination with single sourcing).
    SolverError
        If no feasible plan is found within ``time_limit_s`` (a SolverTimeoutError), or the solver
        fails, or its answer fails the independent check.
    """
    start = time.perf_counter()
    check_options(budget, k, time_limit_s)
    inst = build_instance(fixed_cost, capacity, demand, assign_cost, bool(single_source), families)
    opts = _Options(
        single_source=bool(single_source),
        budget=budget,
        k=k,
        groups=parse_groups(groups, inst.fixed_cost.size),
    )
    raise_infeasible(infeasibility_causes(inst, **opts), proven_by_solver=False, **opts)
    model = build_facility_model(inst, **opts)
    big = engine is None and inst.pair_i.size >= BUDGET_MIN_PAIRS
    bdata = budget_data(inst, **opts) if big or engine == "lagrangian" else None
    if (
        engine not in (None, *ENGINES)
        or (
            engine in ("cp_sat", "portfolio", "race")
            and not (single_source and cp_sat_accepts(model))
        )
        or (
            engine == "lagrangian"
            and not lagrangian_accepts(inst, **_shape(opts))
            and bdata is None
        )
    ):
        msg = (
            f"engine must be None or one of {ENGINES} (CP-SAT, alone or not, needs single source "
            f"with whole-number demands, capacities and fixed costs when budget is set; "
            f"'lagrangian' needs single source with whole-number demands and capacities, and "
            f"either no budget, groups or shared families, or a budget and no k); "
            f"found {engine!r}."
        )
        raise DataValidationError(msg)
    chosen = engine if engine is not None else choose_engine(model, inst.fixed_cost, **opts)
    if engine is None and chosen == "cp_sat" and lagrangian_accepts(inst, **_shape(opts)):
        chosen = "lagrangian"
    left = max(float(time_limit_s) - (time.perf_counter() - start), MIN_SOLVER_S)
    if bdata is not None:
        result = _quick_then(
            model, left, lambda t: solve_budget(model, inst, bdata, t), quick=engine is None
        )
    elif chosen == "lagrangian":
        result = _quick_then(
            model,
            left,
            lambda t: _solve_lagrangian(model, inst, opts["k"], t),
            quick=engine is None,
        )
    elif engine is None and inst.pair_i.size >= SPLIT_MIN_PAIRS and split_accepts(inst, **opts):
        result = solve_split(model, inst, left)
    else:
        result = _solve_model(model, chosen, left)
    used = result.engine
    if result.status == INFEASIBLE:
        raise_infeasible([], proven_by_solver=True, **opts)
    if result.values is None:
        msg = (
            f"{used} found no feasible plan within time_limit_s={time_limit_s} "
            f"(status {result.status}); raise time_limit_s or relax budget/k."
        )
        raise SolverTimeoutError(msg)
    assignment = assignment_from_values(inst, result.values, bool(single_source))
    open_ = assignment.sum(axis=1) > 0
    objective = total_cost(inst.fixed_cost, inst.assign_cost, open_, assignment)
    bound = min(result.bound, objective)
    gap = relative_gap(objective, bound)
    status = OPTIMAL if result.status == OPTIMAL and gap <= 1e-6 else "feasible"
    for arr in (open_, assignment):
        arr.setflags(write=False)
    solution = FacilityLocationSolution(
        open_, assignment, objective, bound, gap, status, time.perf_counter() - start, used
    )
    problems = check_facility_location(
        inst.fixed_cost,
        inst.capacity,
        inst.demand,
        inst.assign_cost,
        solution,
        families=inst.family,
        **opts,
    )
    if problems:
        msg = "the facility-location solution failed the independent check: " + "; ".join(problems)
        raise SolverError(msg)
    return solution


def _shape(opts: _Options) -> dict:
    """The options :func:`lagrangian_accepts` reads."""
    return {
        "single_source": opts["single_source"],
        "budget": opts["budget"],
        "groups": opts["groups"],
    }


def _quick_then(
    model: MipModel,
    time_limit_s: float,
    then: Callable[[float], MipSolution],
    *,
    quick: bool,
) -> MipSolution:
    """The default's Lagrangian paths: small models first get a short CP-SAT run.

    On small easy instances (Holmberg p1-p17, p45) CP-SAT alone proves in 0.05-0.4 s where
    the Lagrangian step costs 0.5-1.4 s of its own (benchmarks/results/siting.md); so a
    model of at most ``PORTFOLIO_ALONE_MAX_VARS`` variables gets CP-SAT for
    ``QUICK_WORK`` of its deterministic time first, and its answer when proven; otherwise
    ``then`` with the time left.
    """
    start = time.perf_counter()
    if quick and model.objective.size <= PORTFOLIO_ALONE_MAX_VARS and cp_sat_accepts(model):
        first = solve_mip(model, engine="cp_sat", time_limit_s=time_limit_s, work_limit=QUICK_WORK)
        if first.status in (OPTIMAL, INFEASIBLE):
            return first
    return then(max(time_limit_s - _since(start), MIN_SOLVER_S))


def _solve_lagrangian(
    model: MipModel, inst: FacilityInstance, k: int | None, time_limit_s: float
) -> MipSolution:
    """Lagrangian bound, incumbent and fixing, then the reduced MIP (lagrangian module).

    Three steps after the bound: (a) a heuristic MIP on the pairs of smallest forced bound
    (``POLISH_PAIRS`` per customer, a restriction, so any plan it finds is feasible) for a
    better incumbent, within ``POLISH_SHARE`` of the time; (b) the safe fixing against the
    best incumbent; (c) the reduced model to highspy with the incumbent as a hint.
    Exactness: every solution the fixing removed costs at least the incumbent's cost, so
    the better of the reduced model's proven optimum and the incumbent is optimal for the
    full model, and max(L, min(reduced bound, incumbent)) bounds it.
    """
    start = time.perf_counter()
    m = inst.fixed_cost.size
    exact_k = k is not None and k <= m and not inst.fixed_cost.any()  # as the model's row 6
    if k is not None and k >= m and not exact_k:
        k = None  # the cardinality row cannot bind
    lag = lagrangian_fixing(
        inst, model, k=k, exact_k=exact_k, time_limit_s=LAGRANGIAN_SHARE * time_limit_s
    )
    lag_bound = math.ceil(lag.bound - 1e-6) if lag.whole and math.isfinite(lag.bound) else lag.bound
    best, best_cost = None, math.inf
    if lag.assign is not None:
        open_ = np.zeros(m, bool)
        open_[lag.assign] = True
        best, best_cost = values_of(inst, lag.assign, open_), lag.cost
    if lag.closed and best is not None:
        return MipSolution(best, best_cost, best_cost, OPTIMAL, _since(start), "lagrangian")
    mip_engine = "cp_sat" if cp_sat_accepts(model) else "highspy"
    if lag.pair_bound is not None and lag.assign is not None:
        keep, open_fixed, shut = lag.fixing(best_cost, m)
        assert keep is not None
        rank = np.argsort(np.argsort(lag.pair_bound, axis=0, kind="stable"), axis=0)
        near = keep & (rank < POLISH_PAIRS)
        near[lag.assign, np.arange(inst.demand.size)] = True
        narrow = restrict_model(model, inst, near, open_fixed, shut, exact_k)
        res = solve_mip(
            narrow,
            engine=mip_engine,
            time_limit_s=POLISH_SHARE * time_limit_s,
            hint=hint_of(inst, lag.assign, narrow, k, exact_k),
            work_limit=POLISH_WORK if mip_engine == "cp_sat" else None,  # CP-SAT work
        )
        if res.values is not None and res.objective < best_cost - 1e-9:
            best, best_cost = res.values, float(res.objective)
    keep, open_fixed, shut = lag.fixing(best_cost, m) if best is not None else (None, *_no(m))
    reduced = restrict_model(model, inst, keep, open_fixed, shut, exact_k)
    # highspy, with the cuts at λ itself for the p-median and at λ rounded otherwise (as
    # measured: CP-SAT left Holmberg p30 unproven at 60 s, highspy proved the hard eight in
    # 5.8-31.2 s, benchmarks/results/siting.md "The reduced MIP to highspy")
    rounded = not exact_k and mip_engine == "cp_sat"
    reduced = add_lagrangian_cuts(reduced, inst, lag.multipliers, rounded)
    if best is not None and lag.bound >= best_cost - lag.tolerance(best_cost):
        return MipSolution(best, best_cost, best_cost, OPTIMAL, _since(start), "lagrangian")
    hint = None
    if best is not None:
        assign = assignment_from_values(inst, best, True).argmax(axis=0)
        hint = hint_of(inst, assign, reduced, k, exact_k)
    left = max(time_limit_s - _since(start), MIN_SOLVER_S)
    res = solve_mip(reduced, engine="highspy", time_limit_s=left, hint=hint)
    used = f"lagrangian+{res.engine}"
    if best is None:
        bound = max(lag_bound, res.bound) if res.status != INFEASIBLE else res.bound
        return MipSolution(res.values, res.objective, bound, res.status, _since(start), used)
    reduced_bound = math.inf if res.status == INFEASIBLE else res.bound
    bound = max(lag_bound, min(reduced_bound, best_cost))
    status = OPTIMAL if res.status in (OPTIMAL, INFEASIBLE) else FEASIBLE
    if res.values is not None and res.objective < best_cost:
        best, best_cost = res.values, float(res.objective)
    return MipSolution(best, best_cost, min(bound, best_cost), status, _since(start), used)


def _no(m: int) -> tuple[np.ndarray, np.ndarray]:
    """No facility fixed open, none closed."""
    return np.zeros(m, bool), np.zeros(m, bool)


def _since(start: float) -> float:
    return time.perf_counter() - start


def _solve_model(model: MipModel, engine: str, time_limit_s: float) -> MipSolution:
    """Solve with one engine, or with the portfolio or race of CP-SAT and highspy."""
    if engine == "race":
        return race_mip(model, engines=("cp_sat", "highspy"), time_limit_s=time_limit_s)
    if engine != "portfolio":
        return solve_mip(model, engine=engine, time_limit_s=time_limit_s)
    start = time.perf_counter()
    alone, beside = PORTFOLIO_WORK
    if model.objective.size > PORTFOLIO_ALONE_MAX_VARS:
        return race_mip(
            model, engines=("cp_sat", "highspy"), time_limit_s=time_limit_s, work_limit=beside
        )
    first = solve_mip(model, engine="cp_sat", time_limit_s=time_limit_s, work_limit=alone)
    left = time_limit_s - (time.perf_counter() - start)
    if first.status in (OPTIMAL, INFEASIBLE) or left < MIN_SOLVER_S:
        return first
    both = race_mip(
        model,
        engines=("cp_sat", "highspy"),
        time_limit_s=left,
        hint=first.values,
        work_limit=beside,
    )
    if both.status == OPTIMAL or first.values is None or both.objective <= first.objective:
        return both
    return MipSolution(  # only at the time limit: the first incumbent was the better one
        first.values, first.objective, both.bound, FEASIBLE, time.perf_counter() - start, "cp_sat"
    )


def choose_engine(
    model: MipModel,
    fixed_cost: np.ndarray,
    *,
    single_source: bool,
    budget: float | None = None,
    k: int | None = None,
    groups: tuple[np.ndarray, ...] | None = None,
) -> str:
    """The default engine for an instance (measured, see the module docstring).

    Parameters
    ----------
    model : MipModel
        The facility-location model built for the instance.
    fixed_cost : numpy.ndarray
        Fixed cost of each facility.
    single_source, budget, k, groups
        The options of :func:`solve_facility_location`.

    Returns
    -------
    str
        ``"highs"`` or ``"cp_sat"``.
    """
    del budget, k, groups, fixed_cost  # accepted so that the model options can be passed whole
    if not single_source:
        return "highs"
    return "cp_sat" if cp_sat_accepts(model) else "highs"
