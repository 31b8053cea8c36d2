"""Experiment: how far the best bound of the core's siting relaxation is from a pmedcap optimum.

Why: pmedcap20 (Osman & Christofides, n = 100, p = 10, optimum 1,005) is the one reference
instance the core leaves unproven at 60 s (and so do HiGHS, CBC and spopt). The core's
single-source path (``optimiser.siting.cflp.lagrangian``) relaxes the assignment rows with
multipliers λ, solves each facility's 0-1 knapsack exactly and takes subgradient steps; the
best L(λ) it reaches then drives the fixing and the reduced MIP. Subgradient steps only
approach max_λ L(λ); this script computes it exactly, so the gap left is the relaxation's,
not the step rule's.

Method: max_λ L(λ) equals the LP of the set-partitioning master (a column is one facility
with a set of customers that fits its capacity; every customer covered once, exactly p
columns, at most one column per facility), solved by column generation: HiGHS solves the
restricted master, and the pricing is the same exact knapsack per facility the core uses
(``lagrangian._knapsacks``), with profit π_j − c_ij. When no column has negative reduced
cost the master's LP value is max_λ L(λ) (up to LP tolerances), and its row duals π are the
best multipliers. ``--steps 300,1000`` runs the core's own subgradient
(``lagrangian.lagrangian_fixing``) with those step caps, for its bound beside this one.
Optionally (``--fix``) the core's safe fixing runs at those π as if it held a plan one above
the optimum's cost (so the optimum stays in), and highspy gets the reduced model with the
core's Lagrangian cuts: what the core's last step would do given the tightest multipliers
and a near-perfect incumbent. ``--branch`` measures what a branch-and-price
on this master would gain per branch: the bound of both children of the most fractional y_i.

Measured (4 December 2026, AMD EPYC, 2 cores, ``python benchmarks/pmedcap_bound.py
pmedcap20 --branch --fix 120``): see benchmarks/results/siting.md "pmedcap20: the relaxation's gap".

Usage::

    python benchmarks/pmedcap_bound.py pmedcap20 [--steps 300,1000] [--branch]
        [--fix SECONDS [--engine cp_sat]]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from reference_formats import read_pmedcap  # noqa: E402

from optimiser._solver.mip import solve_mip  # noqa: E402
from optimiser.siting.cflp import lagrangian as lag  # noqa: E402
from optimiser.siting.cflp.instance import build_instance  # noqa: E402
from optimiser.siting.cflp.model import build_facility_model  # noqa: E402

DATA = HERE / "data" / "reference" / "cpmp_osman_christofides"
#: Columns added per pricing round (the most negative reduced cost first).
COLUMNS_PER_ROUND = 20


class Master:
    """The set-partitioning master, its columns kept between solves (a branch changes bounds)."""

    def __init__(self, cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray, p: int):
        self.cost, self.demand, self.capacity = cost, demand, capacity
        m, n = cost.shape
        inf = highspy.kHighsInf
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        none_i, none_v = np.array([], np.int32), np.array([], float)
        h.addRows(n, np.ones(n), np.ones(n), 0, none_i, none_i, none_v)  # each j once
        h.addRow(p, p, 0, none_i, none_v)  # exactly p columns
        h.addRows(m, np.full(m, -inf), np.ones(m), 0, none_i, none_i, none_v)  # one per i
        for j in range(n):  # artificial singletons keep the first masters feasible
            h.addCol(1e6, 0, inf, 1, np.array([j], np.int32), np.array([1.0]))
        for i in range(m):  # facility i open with no customer
            h.addCol(0.0, 0, inf, 2, np.array([n, n + 1 + i], np.int32), np.ones(2))
        self.h = h
        self.facility = np.r_[np.full(n, -1), np.arange(m)]  # of each column (-1: artificial)

    def solve(
        self, closed: frozenset[int] = frozenset(), opened: frozenset[int] = frozenset()
    ) -> tuple[float, np.ndarray, np.ndarray, int]:
        """(max L with facilities ``closed`` and ``opened``, its π, y, pricing rounds)."""
        h, (m, n) = self.h, self.cost.shape
        inf = highspy.kHighsInf
        shut = np.isin(self.facility, list(closed))
        cols = np.arange(self.facility.size, dtype=np.int32)
        h.changeColsBounds(cols.size, cols, np.zeros(cols.size), np.where(shut, 0.0, inf))
        for i in range(m):
            h.changeRowBounds(n + 1 + i, 1.0 if i in opened else -inf, 1.0)
        rounds = 0
        while True:
            rounds += 1
            h.run()
            duals = np.asarray(h.getSolution().row_dual, float)
            pi, sigma, rho = duals[:n], duals[n], duals[n + 1 :]
            value, chosen = lag._knapsacks(
                pi[None, :] - self.cost, self.demand, self.capacity, want_take=True
            )
            assert chosen is not None
            reduced = -(value + sigma + rho)
            reduced[list(closed)] = np.inf
            order = [i for i in np.argsort(reduced)[:COLUMNS_PER_ROUND] if reduced[i] < -1e-7]
            if not order:
                x = np.asarray(h.getSolution().col_value, float)
                real = self.facility >= 0
                y = np.bincount(self.facility[real], weights=x[real], minlength=m)
                return float(h.getInfo().objective_function_value), pi, y, rounds
            for i in order:
                js = np.flatnonzero(chosen[i]).astype(np.int32)
                rows = np.append(js, [n, n + 1 + i]).astype(np.int32)
                h.addCol(float(self.cost[i, js].sum()), 0, inf, rows.size, rows, np.ones(rows.size))
                self.facility = np.append(self.facility, i)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("name", help="pmedcap01 .. pmedcap20")
    parser.add_argument("--fix", type=float, default=0.0, help="seconds for the reduced MIP")
    parser.add_argument(
        "--engine",
        choices=("highspy", "cp_sat"),
        default="highspy",
        help="for --fix: highspy with the core's Lagrangian cuts, or CP-SAT on 2 workers without",
    )
    parser.add_argument(
        "--steps",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[],
        help="comma-separated caps: the bound of the core's own subgradient at each",
    )
    parser.add_argument(
        "--branch", action="store_true", help="the bounds of the two children of y_i branching"
    )
    args = parser.parse_args()
    pm = read_pmedcap(DATA / f"{args.name}.txt")
    fi = pm.facility
    inst = build_instance(fi.fixed_cost, fi.capacity, fi.demand, fi.assign_cost, True, None)
    cost, rows = lag._setup(inst, pm.p, True)
    t = time.perf_counter()
    master = Master(cost, inst.demand, inst.capacity, pm.p)
    bound, pi, y, rounds = master.solve()
    cg_s = time.perf_counter() - t
    check, *_ = lag._evaluate(pi, cost, inst.fixed_cost, inst.capacity, inst.demand, rows)
    gap = (pm.optimum - bound) / pm.optimum
    print(
        f"{pm.name}: max L = {bound:.2f} (L at the master's duals {check:.2f}; {rounds} rounds, "
        f"{cg_s:.1f} s); optimum {pm.optimum:,.0f}; gap {100 * gap:.2f}%"
    )
    model = build_facility_model(inst, single_source=True, budget=None, k=pm.p)
    for steps in args.steps:
        t = time.perf_counter()
        sub = lag.lagrangian_fixing(
            inst, model, k=pm.p, exact_k=True, time_limit_s=3600.0, max_iterations=steps
        )
        print(
            f"  the core's subgradient, at most {steps} steps: L = {sub.bound:.2f} after "
            f"{sub.iterations} steps, {time.perf_counter() - t:.1f} s "
            f"(its heuristic: {sub.cost:,.0f})"
        )
    if args.branch:
        fractional = np.flatnonzero((y > 1e-6) & (y < 1 - 1e-6))
        i = int(fractional[np.argmin(np.abs(y[fractional] - 0.5))])
        print(f"{fractional.size} facilities open fractionally; branching on the most, {i}:")
        for side, kw in (
            ("closed", {"closed": frozenset([i])}),
            ("open", {"opened": frozenset([i])}),
        ):
            t = time.perf_counter()
            child, _, _, more = master.solve(**kw)
            print(
                f"  {i} {side}: max L = {child:.2f} (+{child - bound:.2f}; {more} rounds, "
                f"{time.perf_counter() - t:.2f} s)"
            )
    if args.fix <= 0:
        return
    # fix as if a plan costing one above the optimum were held: the optimum stays in the
    # reduced model, which then has to find it and prove it
    ub = pm.optimum + 1
    pair, opened, closed = lag._restricted_bounds(
        pi, cost, inst.fixed_cost, inst.capacity, inst.demand, rows
    )
    res = lag.LagrangianResult(check, None, ub, pi, 0, True, pair, opened, closed)
    keep, open_fixed, shut = res.fixing(ub, inst.fixed_cost.size)
    assert keep is not None
    reduced = lag.restrict_model(model, inst, keep, open_fixed, shut, True)
    t = time.perf_counter()
    if args.engine == "cp_sat":  # the cuts' coefficients are fractional: CP-SAT takes none
        sol = solve_mip(reduced, engine="cp_sat", time_limit_s=args.fix, num_workers=2)
    else:
        reduced = lag.add_lagrangian_cuts(reduced, inst, pi, False)
        sol = solve_mip(reduced, engine="highspy", time_limit_s=args.fix)
    print(
        f"fixing at those multipliers against {ub:,.0f}: {int(keep.sum()):,} of "
        f"{int(np.isfinite(cost).sum()):,} pairs kept, {int(shut.sum())} facilities shut, "
        f"{int(open_fixed.sum())} fixed open; {args.engine} on the reduced model: {sol.status}, "
        f"plan {sol.objective:,.0f}, bound {sol.bound:,.1f} after {time.perf_counter() - t:.1f} s"
    )


if __name__ == "__main__":
    main()
