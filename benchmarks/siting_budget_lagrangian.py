"""Experiment: a Lagrangian bound for LA-scale siting that keeps the capital budget whole.

Why: on the LA-scale instances of ``bench_site.generate_la`` (capital varying by site) the
core's HiGHS finds a plan within 0.02% of the optimum in seconds but cannot prove it: for
seed 1 the proof took 618 s. Its LP bound is the obstacle (root 13.13m against the
optimum 13.21m, a 0.6% gap): the LP spends the budget to the last pound, where whole bases
of 8-20 places at £15-35k a place cannot.

The bound here relaxes the assignment rows (1) with multipliers λ_j, as
``optimiser.siting.cflp.lagrangian`` does for single sourcing, but keeps everything on y
whole: each option's best customers are an exact 0-1 knapsack (the module's ``_knapsacks``),
and y is chosen by dynamic programming over the budget in whole units (capital ÷ its
greatest common step, £4,000 here: 750 units), one stage per group of options that exclude
each other (a site: its packages' sizes and the places they share), every allowed subset of
the group enumerated. L(λ) = Σ λ_j + the DP's minimum is a valid lower bound for every λ;
λ starts from the LP duals and takes subgradient steps.

Then provably safe fixing: with prefix and suffix DP tables, the bound with option i forced
open (closed) is exact for every i; an option whose forced bound reaches the incumbent's
cost is fixed, and the reduced model goes to HiGHS.

Measured (2 December 2026, load 3-4, seed 1, ``python benchmarks/siting_budget_lagrangian.py
--seed 1 --iterations 150 --incumbent 13213168``; the incumbent is the core's plan after
60 s, the optimum 13,210,106.63 took MathOpt's HiGHS 618 s to prove):

- bounds: LP 12.79m (no cuts), HiGHS's root 13.13m, this bound 13.2018m after 150 steps
  (74 s in this script): 0.063% below the optimum against HiGHS's 0.6%, ten times tighter;
- fixing: 431 of 515 options closed, 1 open;
- the reduced model with MathOpt's HiGHS: proven in 86 s in a first run, not proven in
  120 s in a second (13,211,364.65 against a bound of 13,130,014.35). With the optimum as
  the incumbent 447 options close and it was not proven in 120 s either.

So the fixing alone does not pay: the reduced model's LP bound is still 13.13m, and HiGHS
branches on that. A branch and bound on this bound (the DP takes forced choices directly)
is the route: it is built as ``optimiser/siting/cflp/lagrangian_budget.py`` (the core's
default for LA-scale siting), which keeps this script as the first measurement.

Usage::

    python benchmarks/siting_budget_lagrangian.py --seed 1 --iterations 150 --incumbent 13213168
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import highspy
import networkx as nx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_site import generate_la  # noqa: E402

from optimiser._solver.mip import MipModel, _highs_lp, solve_mip  # noqa: E402
from optimiser.siting.cflp.instance import build_instance, parse_groups  # noqa: E402
from optimiser.siting.cflp.lagrangian import _knapsacks  # noqa: E402
from optimiser.siting.cflp.model import build_facility_model  # noqa: E402


def budget_units(fixed: np.ndarray, budget: float) -> tuple[np.ndarray, int]:
    """Whole budget weights (the coefficients over their greatest common step) and the budget."""
    base = fixed[fixed > 0].min()
    steps = [Fraction(float(v / base)).limit_denominator(1000) for v in fixed[fixed > 0]]
    scale = math.lcm(*[f.denominator for f in steps]) / base
    weight = np.round(fixed * scale).astype(np.int64)
    if not np.allclose(fixed * scale, weight, rtol=0, atol=1e-6):
        raise SystemExit("the budget coefficients have no common step: this bound needs one")
    return weight, math.floor(budget * scale + 1e-6)


def exclusive_groups(inst: dict, family: np.ndarray, m: int) -> list[list[tuple[int, ...]]]:
    """Per group of options that exclude each other: every allowed subset (the empty one first)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(m))
    graph.add_edges_from((int(a), int(b)) for a, b in inst["groups"])
    for f in np.unique(family):
        graph.add_edges_from(itertools.combinations(np.flatnonzero(family == f).tolist(), 2))
    out = []
    for comp in sorted(nx.connected_components(graph), key=min):
        subsets: list[tuple[int, ...]] = [()]
        for i in sorted(comp):
            subsets += [(*s, i) for s in subsets if not any(graph.has_edge(i, k) for k in s)]
        out.append(subsets)
    return out


def dp_step(best: np.ndarray, weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Min-plus step: the best value at each exact budget use after one more group."""
    new = np.full(best.size, np.inf)
    for w, v in zip(weights, values, strict=True):
        if w < best.size:
            new[w:] = np.minimum(new[w:], best[: best.size - w] + v)
    return new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--incumbent", type=float, required=True, help="a feasible plan's cost")
    ap.add_argument("--time-limit-s", type=float, default=120.0)
    args = ap.parse_args()
    inst = generate_la(args.seed)
    fixed, cap, dem, cost = (inst[k] for k in ("fixed_cost", "capacity", "demand", "assign_cost"))
    m, n = cost.shape
    fam = np.asarray(inst["families"]).copy()
    fam[fam < 0] = fam.max() + 1 + np.arange((fam < 0).sum())
    weight, units = budget_units(fixed, inst["budget"])
    groups = exclusive_groups(inst, fam, m)
    ub = args.incumbent
    core = build_instance(fixed, cap, dem, cost, True, inst["families"])
    model = build_facility_model(
        core,
        single_source=True,
        budget=inst["budget"],
        k=None,
        groups=parse_groups(inst["groups"], m),
    )
    h = highspy._core._Highs()
    h.setOptionValue("output_flag", False)
    lp = _highs_lp(model)
    lp.integrality_ = []
    h.passModel(lp)
    h.run()
    print(f"LP bound {h.getInfo().objective_function_value:,.1f}; budget {units} units")
    lam = np.asarray(h.getSolution().row_dual)[:n].copy()
    sets = [[list(s) for s in g] for g in groups]
    g_w = [np.array([weight[s].sum() for s in g], np.int64) for g in sets]

    def values(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        profit = np.where(np.isfinite(cost), lam[None, :] - cost, -np.inf)
        best, take = _knapsacks(profit, dem, cap.astype(np.int64), True)
        return fixed - best, take

    start, best_l, mu, stall, best_lam = time.perf_counter(), -np.inf, 1.0, 0, lam
    steps = 0
    for _ in range(args.iterations):
        steps += 1
        v, take = values(lam)
        tables, table = [], np.r_[0.0, np.full(units, np.inf)]
        for g, w in zip(sets, g_w, strict=True):
            choice = np.array([v[s].sum() for s in g])
            tables.append((table, w, choice))
            table = dp_step(table, w, choice)
        b = int(np.argmin(table))
        bound = lam.sum() + table[b]
        y = np.zeros(m, bool)
        for (before, w, choice), g in zip(reversed(tables), reversed(sets), strict=True):
            k = next(
                k for k in range(len(g)) if w[k] <= b and before[b - w[k]] + choice[k] == table[b]
            )
            y[g[k]] = True
            table, b = before, b - int(w[k])
        if bound > best_l + 1e-6:
            best_l, stall, best_lam = bound, 0, lam.copy()
        else:
            stall += 1
            if stall >= 10:
                mu, stall = mu / 2, 0
        sub = 1.0 - (take & y[:, None]).sum(axis=0)
        if not sub.any():
            break
        lam = lam + mu * (ub - bound) / float(sub @ sub) * sub
    print(
        f"Lagrangian bound {best_l:,.1f} after {steps} steps, {time.perf_counter() - start:.1f} s;"
        f" gap to the incumbent {(ub - best_l) / ub:.3%}"
    )
    v, _ = values(best_lam)
    g_v = [np.array([v[s].sum() for s in g]) for g in sets]
    empty = np.r_[0.0, np.full(units, np.inf)]
    pre = [empty]
    for w, c in zip(g_w, g_v, strict=True):
        pre.append(dp_step(pre[-1], w, c))
    suf = [empty]
    for w, c in zip(reversed(g_w), reversed(g_v), strict=True):
        suf.append(dp_step(suf[-1], w, c))
    suf = suf[::-1]
    forced_open, forced_closed = np.full(m, np.inf), np.full(m, np.inf)
    for gi, g in enumerate(sets):
        p, s = np.minimum.accumulate(pre[gi]), np.minimum.accumulate(suf[gi + 1])
        rest = np.full(units + 1, np.inf)
        for b1 in np.flatnonzero(np.isfinite(p)):
            rest[b1:] = np.minimum(rest[b1:], p[b1] + s[: units + 1 - b1])
        rest = np.minimum.accumulate(rest)
        members = sorted({i for subset in g for i in subset})
        for k, subset in enumerate(g):
            if g_w[gi][k] > units:
                continue
            bound = best_lam.sum() + g_v[gi][k] + rest[units - g_w[gi][k]]
            for i in members:
                if i in subset:
                    forced_open[i] = min(forced_open[i], bound)
                else:
                    forced_closed[i] = min(forced_closed[i], bound)
    tol = 1e-9 * abs(ub)
    close, open_ = forced_open >= ub - tol, forced_closed >= ub - tol
    print(f"fixing: {close.sum()} of {m} options closed, {open_.sum()} open")
    lo, hi = model.var_lower.copy(), model.var_upper.copy()
    hi[:m][close], lo[:m][open_] = 0.0, 1.0
    reduced = MipModel(
        model.objective, model.matrix, model.row_lower, model.row_upper, lo, hi, model.is_integer
    )
    t = time.perf_counter()
    sol = solve_mip(reduced, engine="highs", time_limit_s=args.time_limit_s)
    print(
        f"reduced model, MathOpt HiGHS: {sol.status} {sol.objective:,.2f} bound {sol.bound:,.2f}"
        f" in {time.perf_counter() - t:.1f} s"
    )


if __name__ == "__main__":
    main()
