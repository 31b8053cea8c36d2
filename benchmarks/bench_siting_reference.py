"""Benchmark: the siting core on the published reference instances, beside HiGHS and CP-SAT.

Families (every instance with a published optimum; files in ``benchmarks/data/reference``,
capa/b/c in the shared reference folder, see ``benchmarks/data/reference/README.md``):

- ``cap``: OR-Library capacitated warehouse location cap41-cap134 (37 instances, split
  demand);
- ``capabc``: OR-Library capa, capb, capc (100 x 1000) at the tightest published capacity
  (3; ``--all-capacities``: all 12);
- ``holmberg``: Holmberg, Rönnqvist & Yuan single-source CFLP p1-p71 (71);
- ``pmedcap``: Osman & Christofides capacitated p-median pmedcap01-20 (20; p medians, no
  fixed cost, floor Euclidean distances, single-sourced);
- ``la``: LA-scale siting with capital varying by site (``bench_site.generate_la``, 5 seeds).

Solvers, each on the same arrays and with the same time limit, one after another in one
process (so each gets the same share of a loaded machine):

- ``core``: :func:`optimiser.siting.solve_facility_location` with its default engine
  choice (the whole call: checks, model build, solve, independent check);
- ``highs``: plain highspy (HiGHS) on the textbook strong formulation built here
  (assignment, capacity, x_ij <= y_i, aggregate capacity cut, and the budget, groups,
  families and p rows where the instance has them), default settings but
  ``mip_rel_gap=1e-9`` (the core's gap) and one thread;
- ``cp_sat``: the core with ``engine="cp_sat"`` (single-source families only).

Each result is proven (status optimal and the objective equal to the published optimum to
1e-6) or not; ratio = core time / HiGHS time (an unproven run counts its time limit).

Run::

    nice -n 5 python benchmarks/bench_siting_reference.py             # all -> results/siting.*
    python benchmarks/bench_siting_reference.py --only pmedcap08,p56 --solvers core
    python benchmarks/bench_siting_reference.py --families cap,la --out /tmp/s.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import highspy
import highspy._core
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the readers of the reference formats
sys.path.insert(0, str(HERE))  # bench_site.generate_la

from bench_site import generate_la  # noqa: E402
from reference_formats import read_holmberg, read_orlib_cap, read_pmedcap  # noqa: E402

from optimiser import siting  # noqa: E402

DATA = HERE / "data" / "reference"
SHARED = HERE.parent.parent / "shared" / "reference"  # capa/b/c (3.5 MB) are not copied
RESULTS = HERE / "results"
FAMILIES = ("cap", "capabc", "holmberg", "pmedcap", "la")
SOLVERS = ("core", "highs", "cp_sat")
REL = 1e-6


@dataclass(frozen=True)
class Case:
    """One instance: the arguments of solve_facility_location and its known optimum."""

    family: str
    name: str
    args: dict
    optimum: float | None  # None: not published (LA-scale)

    @property
    def single_source(self) -> bool:
        return bool(self.args.get("single_source", False))


@dataclass(frozen=True)
class Run:
    """One solver on one instance."""

    family: str
    instance: str
    solver: str
    seconds: float
    objective: float
    bound: float
    status: str
    proven: bool
    engine: str
    optimum: float | None


# ------------------------------------------------------------------ instances


def _capopt() -> dict[str, float]:
    """cap41..cap134 optima from OR-Library's capopt.txt."""
    out = {}
    for line in (DATA / "cflp_orlib" / "capopt.txt").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("cap") and parts[0][3:].isdigit():
            out[parts[0]] = float(parts[1])
    return out


CAPABC = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}
CAPABC_OPT = {
    "capa": (19240822.449, 18438046.543, 17765201.949, 17160439.012),
    "capb": (13656379.578, 13361927.449, 13198556.434, 13082516.496),
    "capc": (11646596.974, 11570340.289, 11518743.744, 11505767.394),
}


def _arrays(inst: object) -> dict:
    return {
        "fixed_cost": inst.fixed_cost,  # type: ignore[attr-defined]
        "capacity": inst.capacity,  # type: ignore[attr-defined]
        "demand": inst.demand,  # type: ignore[attr-defined]
        "assign_cost": inst.assign_cost,  # type: ignore[attr-defined]
    }


def cases(family: str, *, all_capacities: bool = False) -> Iterator[Case]:
    """Every instance of ``family`` whose files are present.

    capa/b/c come at their tightest published capacity (capa@8000, capb@5000, capc@5000,
    the hardest) unless ``all_capacities``.
    """
    if family == "cap":
        for name, opt in _capopt().items():
            yield Case(
                family, name, _arrays(read_orlib_cap(DATA / "cflp_orlib" / f"{name}.txt")), opt
            )
    elif family == "capabc":
        for name, caps in CAPABC.items():
            path = SHARED / "cflp_orlib" / f"{name}.txt"
            if not path.exists():
                continue
            pairs = list(zip(caps, CAPABC_OPT[name], strict=True))
            for cap, opt in pairs if all_capacities else pairs[:1]:
                yield Case(
                    family, f"{name}@{cap}", _arrays(read_orlib_cap(path, capacity=cap)), opt
                )
    elif family == "holmberg":
        folder = DATA / "sscflp_holmberg"
        optima = [float(v) for v in (folder / "os.txt").read_text().split()]
        for k, opt in enumerate(optima, start=1):
            args = _arrays(read_holmberg(folder / f"p{k}.txt"))
            yield Case(family, f"p{k}", {**args, "single_source": True}, opt)
    elif family == "pmedcap":
        for k in range(1, 21):
            pm = read_pmedcap(DATA / "cpmp_osman_christofides" / f"pmedcap{k:02d}.txt")
            args = {**_arrays(pm.facility), "single_source": True, "k": pm.p}
            yield Case(family, pm.name, args, pm.optimum)
    elif family == "la":
        for seed in range(5):
            inst = generate_la(seed, uniform_capital=False)
            yield Case(family, f"la-varied-{seed}", {**inst, "single_source": True}, None)
    else:
        msg = f"unknown family {family!r}; choose from {FAMILIES}"
        raise ValueError(msg)


# ------------------------------------------------------------------ solvers


def plain_highs(case: Case, time_limit_s: float) -> tuple[float, float, str]:
    """The textbook strong formulation in plain highspy; (objective, bound, status)."""
    a = case.args
    f, u, d = (np.asarray(a[k], float) for k in ("fixed_cost", "capacity", "demand"))
    c = np.asarray(a["assign_cost"], float)
    single = case.single_source
    m, n = c.shape
    ok = np.isfinite(c) & ((d[None, :] <= u[:, None]) if single else True)
    ii, jj = np.nonzero(ok)
    p = ii.size
    x = m + np.arange(p)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    r = 0

    def add(rr: np.ndarray, cc: np.ndarray, vv: np.ndarray) -> None:
        rows.append(rr)
        cols.append(cc)
        vals.append(np.asarray(vv, float))

    def new(count: int, lower: float, upper: float) -> int:
        nonlocal r
        lo.append(np.full(count, lower))
        hi.append(np.full(count, upper))
        r += count
        return r - count

    first = new(n, 1.0, 1.0)  # every customer served
    add(first + jj, x, np.ones(p))
    first = new(m, -np.inf, 0.0)  # capacity when open
    add(first + ii, x, d[jj])
    add(first + np.arange(m), np.arange(m), -u)
    first = new(p, -np.inf, 0.0)  # x_ij <= y_i
    add(first + np.arange(p), x, np.ones(p))
    add(first + np.arange(p), ii, -np.ones(p))
    first = new(1, d.sum(), np.inf)  # aggregate capacity
    add(np.full(m, first), np.arange(m), u)
    if a.get("budget") is not None:
        first = new(1, -np.inf, float(a["budget"]))
        add(np.full(m, first), np.arange(m), f)
    if a.get("k") is not None:
        first = new(1, -np.inf, float(a["k"]))
        add(np.full(m, first), np.arange(m), np.ones(m))
    families = a.get("families")
    groups = [np.asarray(g) for g in a.get("groups") or []]
    if families is not None:
        fam = np.asarray(families)
        groups += [np.flatnonzero(fam == v) for v in np.unique(fam) if (fam == v).sum() > 1]
    for g in groups:
        first = new(1, -np.inf, 1.0)
        add(np.full(g.size, first), g, np.ones(g.size))
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, m + p)
    )
    h = highspy._core._Highs()
    for name, value in (
        ("output_flag", False),
        ("time_limit", float(time_limit_s)),
        ("mip_rel_gap", 1e-9),
        ("threads", 1),
    ):
        h.setOptionValue(name, value)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + p, r
    lp.col_cost_ = np.concatenate([f, c[ii, jj]])
    lp.col_lower_ = np.zeros(m + p)
    lp.col_upper_ = np.ones(m + p)
    lp.row_lower_ = np.concatenate(lo)
    lp.row_upper_ = np.concatenate(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[1]] * m + [kinds[int(single)]] * p
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    status = h.getModelStatus().name
    if info.primal_solution_status != 2:
        return math.nan, -math.inf, status
    return float(info.objective_function_value), float(info.mip_dual_bound), status


def run_one(case: Case, solver: str, time_limit_s: float) -> Run:
    """Time ``solver`` on ``case``."""
    start = time.perf_counter()
    engine = solver
    if solver == "highs":
        objective, bound, raw = plain_highs(case, time_limit_s)
        status = "optimal" if raw == "kOptimal" else "feasible"
    else:
        opts = {} if solver == "core" else {"engine": solver}
        try:
            sol = siting.solve_facility_location(**case.args, time_limit_s=time_limit_s, **opts)
            objective, bound, status, engine = sol.objective, sol.bound, sol.status, sol.engine
        except Exception as exc:  # a benchmark records a failure and goes on
            objective, bound, status = math.nan, -math.inf, f"error: {type(exc).__name__}"
    seconds = time.perf_counter() - start
    proven = status == "optimal" and (
        case.optimum is None or math.isclose(objective, case.optimum, rel_tol=REL, abs_tol=1e-6)
    )
    return Run(
        case.family,
        case.name,
        solver,
        seconds,
        objective,
        bound,
        status,
        proven,
        engine,
        case.optimum,
    )


# ------------------------------------------------------------------ report


def _counted(run: Run, limit: float) -> float:
    return run.seconds if run.proven else max(run.seconds, limit)


def summarise(runs: list[Run], limit: float) -> list[dict]:
    """Per family and solver: instances, proven, total and geometric-mean times."""
    out = []
    runs = [r for r in runs if not _refused(r)]
    for fam in dict.fromkeys(r.family for r in runs):
        for solver in SOLVERS:
            rs = [r for r in runs if r.family == fam and r.solver == solver]
            if not rs:
                continue
            times = [_counted(r, limit) for r in rs]
            out.append(
                {
                    "family": fam,
                    "solver": solver,
                    "instances": len(rs),
                    "proven": sum(r.proven for r in rs),
                    "total_s": sum(times),
                    "geomean_s": math.exp(np.mean(np.log(np.maximum(times, 1e-3)))),
                    "max_s": max(times),
                }
            )
    return out


def _refused(r: Run) -> bool:
    """The engine does not take this model (CP-SAT on a fractional budget row)."""
    return r.status == "error: DataValidationError"


def _cell(r: Run | None) -> str:
    if r is None:
        return "—"
    if _refused(r):
        return "n/a"
    if r.proven:
        return f"{r.seconds:.2f} ✔"
    return f"{r.seconds:.2f} ✘ {r.status} {r.objective:.7g} / {r.bound:.7g}"


def write_report(runs: list[Run], limit: float, out: Path, shards: list[dict]) -> None:
    """Write the markdown tables and the JSON beside it (``shards``: command and load each)."""
    summary = summarise(runs, limit)
    totals = {(s["family"], s["solver"]): s["total_s"] for s in summary}
    by = {(r.family, r.instance, r.solver): r for r in runs}
    lines = [
        "# Siting core on the reference instances",
        "",
        f"Time limit {limit:g} s per solve. Machine: {shards[0]['machine']}, shared with other "
        "engineers' jobs; the load average (uptime's 1, 5, 15 min) is recorded at the start and "
        "end of each process. The families ran as parallel processes, each one solver after "
        "another per instance, so the solvers of an instance shared the same load.",
        "",
        "| command | load at start | load at end |",
        "|---|---|---|",
        *(f"| `{sh['command']}` | {sh['start']} | {sh['end']} |" for sh in shards),
        "",
        "`core` = `optimiser.siting.solve_facility_location` with its default engine choice "
        "(`engine` says which answered); `highs` = plain highspy on the textbook strong "
        "formulation; `cp_sat` = the core forced to CP-SAT alone. Times are wall-clock seconds "
        "of the whole call; ✔ = proven optimal and equal to the published optimum; ✘ gives "
        "status, objective / bound. Ratio = core / highs (an unproven run counts the limit).",
        "",
        "## Summary",
        "",
        "| family | solver | instances | proven | total s | ratio to highs | geomean s | max s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        ref = totals.get((s["family"], "highs"))
        ratio = f"{s['total_s'] / ref:.2f}" if ref else "—"
        lines.append(
            f"| {s['family']} | {s['solver']} | {s['instances']} | {s['proven']} | "
            f"{s['total_s']:.1f} | {ratio} | {s['geomean_s']:.2f} | {s['max_s']:.1f} |"
        )
    lines += ["", "## Per instance", ""]
    header = "| family | instance | optimum | core s | engine | highs s | cp_sat s | ratio |"
    lines += [header, "|---|---|---:|---:|---|---:|---:|---:|"]
    for fam, inst in dict.fromkeys((r.family, r.instance) for r in runs):
        core, hi, cp = (by.get((fam, inst, s)) for s in SOLVERS)
        ratio = f"{_counted(core, limit) / _counted(hi, limit):.2f}" if core and hi else "—"
        first = core or hi or cp
        optimum = f"{first.optimum:.10g}" if first and first.optimum is not None else "—"
        lines.append(
            f"| {fam} | {inst} | {optimum} | {_cell(core)} | {core.engine if core else '—'} | "
            f"{_cell(hi)} | {_cell(cp)} | {ratio} |"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    payload = {
        "time_limit_s": limit,
        "shards": shards,
        "summary": summary,
        "runs": [asdict(r) for r in runs],
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=float) + "\n")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _from_log(path: Path) -> tuple[list[Run], dict, float]:
    """The runs printed by a run that was stopped before its report (bounds unknown: NaN).

    The log's first line must be ``# <command>`` and its second ``# load <1 5 15 min>``
    (written by whoever started it); the load at the end is the one when it was read.
    """
    lines = path.read_text().splitlines()
    command, load = lines[0].removeprefix("# "), lines[1].removeprefix("# load ")
    limit = (
        float(command.split("--time-limit-s")[1].split()[0])
        if "--time-limit-s" in command
        else 60.0
    )
    optima: dict[tuple[str, str], float | None] = {}
    runs = []
    for line in lines[2:]:
        tok = line.split()
        if len(tok) < 7 or tok[0] not in FAMILIES or not tok[3].endswith("s"):
            continue
        family, name, solver, seconds = tok[0], tok[1], tok[2], float(tok[3][:-1])
        rest = tok[4:]
        if rest[0] == "error:":
            status, rest = f"error: {rest[1]}", rest[2:]
        else:
            status, rest = ("optimal" if rest[0] == "proven" else rest[0]), rest[1:]
        if family not in {f for f, _ in optima}:
            optima.update({(family, c.name): c.optimum for c in cases(family)})
        objective = float(rest[0])
        bound = objective if status == "optimal" else math.nan
        runs.append(
            Run(
                family,
                name,
                solver,
                seconds,
                objective,
                bound,
                status,
                status == "optimal",
                rest[1],
                optima.get((family, name)),
            )
        )
    shard = {
        "command": command + " (stopped at the deadline; runs read from its log)",
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
        "start": load,
        "end": _load(),
    }
    return runs, shard, limit


def merge(parts: list[Path], out: Path) -> None:
    """Combine the JSON files of several runs (e.g. families run in parallel) into one report."""
    runs, shards, limits = [], [], set()
    for part in parts:
        if part.suffix == ".log":
            got, shard, limit = _from_log(part)
            runs += got
            shards.append(shard)
            limits.add(limit)
            continue
        data = json.loads(part.read_text())
        runs += [Run(**r) for r in data["runs"]]
        shards += data["shards"]
        limits.add(data["time_limit_s"])
    if len(limits) != 1:
        msg = f"the parts have different time limits {sorted(limits)}; merge like with like"
        raise SystemExit(msg)
    order = {f: k for k, f in enumerate(FAMILIES)}
    runs.sort(key=lambda r: order.get(r.family, len(order)))
    write_report(runs, limits.pop(), out, shards)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark (or merge runs), write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--time-limit-s", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "siting.md")
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="JSON files (or logs) of runs to combine"
    )
    parser.add_argument("--all-capacities", action="store_true", help="capa/b/c: all 12")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.merge, args.out)
        return
    solvers = args.solvers.split(",")
    only = set(filter(None, args.only.split(",")))
    command = "python benchmarks/bench_siting_reference.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    shard = {
        "command": command.strip(),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
        "start": _load(),
    }
    runs: list[Run] = []
    for family in args.families.split(","):
        for case in cases(family, all_capacities=args.all_capacities):
            if only and case.name not in only:
                continue
            for solver in solvers:
                if solver == "cp_sat" and not case.single_source:
                    continue
                run = run_one(case, solver, args.time_limit_s)
                runs.append(run)
                print(
                    f"{run.family:8} {run.instance:14} {run.solver:6} {run.seconds:7.2f}s "
                    f"{'proven' if run.proven else run.status:10} {run.objective:.8g} "
                    f"{run.engine}",
                    flush=True,
                )
    shard["end"] = _load()
    write_report(runs, args.time_limit_s, args.out, [shard])
    for s in summarise(runs, args.time_limit_s):
        print(s)


if __name__ == "__main__":
    main()
