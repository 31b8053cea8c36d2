"""Run MIP engines on one model in parallel processes: a race, or a reproducible portfolio.

:func:`race_mip` starts one process per engine (``fork``, so the model is not copied
until written), each running :func:`~optimiser._solver.mip.solve_mip` with the whole
time limit.

- Race (``work_limit=None``): the first to prove optimality or infeasibility wins and
  the others are killed. The winner depends on timing, so a race is reproducible in its
  status and objective when proven, but the plan may be either engine's when several
  plans are optimal.
- Portfolio (``work_limit`` given; two engines, the first CP-SAT): CP-SAT runs with a
  cap on its deterministic time. If it proves within the cap, its answer is returned;
  otherwise the second engine's. Which answer is returned therefore never depends on
  timing (only a run stopped by ``time_limit_s`` does), so the portfolio is as
  reproducible as either engine alone, and costs about max(second engine's time,
  CP-SAT's time to its cap) on two free cores.

When no engine proves in time, the answer combines them: the best incumbent and the
best (largest) lower bound, both valid, which may together prove optimality. On a
machine with one free core the engines only split that core.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Sequence
from typing import cast

import numpy as np

from optimiser._errors import DataValidationError, SolverError
from optimiser._solver.mip import MipModel, MipSolution, solve_mip
from optimiser._solver.status import ENGINES, FEASIBLE, INFEASIBLE, OPTIMAL, UNKNOWN

__all__ = ["race_mip"]

#: Seconds a racer may run past the time limit (process start, model build) before it is killed.
GRACE_S = 5.0
_PROVEN = (OPTIMAL, INFEASIBLE)


def _racer(
    conn: multiprocessing.connection.Connection,
    model: MipModel,
    engine: str,
    time_limit_s: float,
    hint: np.ndarray | None,
    work_limit: float | None,
) -> None:
    """Child process: solve and send the MipSolution (or the exception) back."""
    try:
        conn.send(
            solve_mip(
                model, engine=engine, time_limit_s=time_limit_s, hint=hint, work_limit=work_limit
            )
        )
    except Exception as exc:  # the process boundary: the parent re-raises it
        conn.send(exc)
    finally:
        conn.close()


def _combine(results: list[MipSolution], elapsed: float) -> MipSolution:
    """Best incumbent with the best bound of all racers (none proved on its own)."""
    with_values = [r for r in results if r.values is not None]
    if not with_values:
        bound = max((r.bound for r in results), default=-math.inf)
        return MipSolution(None, math.nan, bound, UNKNOWN, elapsed, "race")
    best = min(with_values, key=lambda r: r.objective)
    bound = min(max(r.bound for r in results), best.objective)
    tol = max(1e-6, 1e-9 * abs(best.objective))
    status = OPTIMAL if best.objective - bound <= tol else FEASIBLE
    return MipSolution(best.values, best.objective, bound, status, elapsed, best.engine)


def race_mip(
    model: MipModel,
    *,
    engines: Sequence[str] = ("highspy", "cp_sat"),
    time_limit_s: float = 60.0,
    hint: np.ndarray | None = None,
    work_limit: float | None = None,
) -> MipSolution:
    """Solve ``model`` with several engines at once (see the module docstring).

    Parameters
    ----------
    model : MipModel
        The program (every engine must accept it: CP-SAT needs integer data).
    engines : sequence of str, default ("highspy", "cp_sat")
        Engines of :func:`~optimiser._solver.mip.solve_mip`, one process each.
    time_limit_s : float, default 60.0
        Wall-clock cap of each racer [s].
    hint : numpy.ndarray, optional
        A starting point passed to every racer.
    work_limit : float, optional
        Portfolio mode: the deterministic-time cap of the first engine, which must be
        ``"cp_sat"`` and has precedence; exactly two engines.

    Returns
    -------
    MipSolution
        The answer chosen (its ``engine`` names whose), or the combination of all
        answers when none proved within the limit.

    Raises
    ------
    DataValidationError
        If an engine is unknown or fewer than one is given.
    SolverError
        If every racer failed (the first failure is chained).
    """
    if not engines or any(e not in ENGINES for e in engines):
        msg = f"engines must name one or more of {ENGINES}; found {list(engines)!r}."
        raise DataValidationError(msg)
    if work_limit is not None and (len(engines) != 2 or engines[0] != "cp_sat"):
        msg = f"a portfolio (work_limit) takes ('cp_sat', other); found {list(engines)!r}."
        raise DataValidationError(msg)
    start = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    racers = []
    for k, engine in enumerate(engines):
        recv, send = ctx.Pipe(duplex=False)
        cap = work_limit if k == 0 else None
        proc = ctx.Process(
            target=_racer, args=(send, model, engine, time_limit_s, hint, cap), daemon=True
        )
        proc.start()
        send.close()
        racers.append((recv, proc))
    pending: dict[multiprocessing.connection.Connection, int] = {
        recv: k for k, (recv, _) in enumerate(racers)
    }
    answers: dict[int, MipSolution] = {}
    failures: list[BaseException] = []
    winner: MipSolution | None = None
    try:
        while pending and winner is None:
            left = time_limit_s + GRACE_S - (time.perf_counter() - start)
            if left <= 0:
                break
            for ready in multiprocessing.connection.wait(list(pending), timeout=left):
                conn = cast(multiprocessing.connection.Connection, ready)
                k = pending.pop(conn)
                got: MipSolution | BaseException
                try:
                    got = conn.recv()
                except EOFError:
                    got = SolverError(f"{engines[k]} died (exit code {racers[k][1].exitcode})")
                if isinstance(got, BaseException):
                    failures.append(got)
                else:
                    answers[k] = got
            winner = _decide(answers, portfolio=work_limit is not None)
    finally:
        for recv, proc in racers:
            if proc.is_alive():
                proc.kill()
            proc.join()
            recv.close()
    elapsed = time.perf_counter() - start
    if winner is not None:
        return MipSolution(
            winner.values, winner.objective, winner.bound, winner.status, elapsed, winner.engine
        )
    if not answers and failures:
        msg = f"every engine of the race failed: {failures[0]}"
        raise SolverError(msg) from failures[0]
    return _combine(list(answers.values()), elapsed)


def _decide(answers: dict[int, MipSolution], *, portfolio: bool) -> MipSolution | None:
    """The answer to return now, or None to wait (answers by engine position)."""
    if not portfolio:
        return next((a for a in answers.values() if a.status in _PROVEN), None)
    if 0 in answers and answers[0].status in _PROVEN:
        return answers[0]  # CP-SAT proved within its deterministic cap: it has precedence
    if 0 in answers and 1 in answers and answers[1].status in _PROVEN:
        return answers[1]  # CP-SAT stopped at its cap unproven, the other engine proved
    return None
