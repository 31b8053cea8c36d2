"""Max flow at least cost with a dominating bonus, as two smaller solves side by side.

The allocation's arc costs carry a bonus −W (the mainstream duty) on some arcs, with W
above every other cost summed (~7.7e9 nationally), so that among maximum flows the one
with the most flow on those arcs wins first and the least cost second. OR-Tools' cost
scaling needs about log(n · max|cost|) refinements, and the huge W makes the national
solve about 2.4 times slower than the same network with a moderate bonus W'
(12.4 s against 5.1 s, ``benchmarks/results/allocation.md``).

:func:`solve_max_flow_with_bonus` runs, on two cores at once,

(a) the moderate problem: costs c' = c + (W − W')·d, i.e. the bonus W' instead of W
    (d = 1 on the bonus arcs, 0 elsewhere), giving a flow f; and
(b) the bonus count D*: the most bonus flow of any maximum flow, the max flow at least
    cost with cost −1 on the bonus arcs and 0 elsewhere (a forked process that sends
    back one number);

and returns f when D_f = D*, where D_f = Σ d·f. Otherwise (also when the counter dies
or has not answered within :data:`COUNTER_WAIT_FACTOR` times the moderate solve's time) it
solves the full problem (costs c) and returns that, so the answer is always an optimum of
the full costs.

Proof that f is then optimal for c. Both problems choose among the same set F of
maximum flows (same capacities); f minimises c' over F. Let g be any flow of F that
minimises c (what a direct solve returns), δ = W − W' > 0. From c'(f) ≤ c'(g), i.e.
c(f) + δ·D_f ≤ c(g) + δ·D_g, and c(g) ≤ c(f): δ·D_f ≤ δ·D_g, so D_g ≥ D_f = D* ≥ D_g
(D* is the most of any flow in F): D_g = D_f, and then c(f) ≤ c(g). So f is an optimum
for c too, whatever W' was; nothing about the network's shape is assumed. Among tied
optima f may differ from the flow a direct solve returns; its cost never does.

Below :data:`PARALLEL_MIN_ARCS` arcs, with one core (or ``workers=1``), where processes
cannot be forked, inside a process that multiprocessing started (a pool's worker, whose
peers hold the other cores), beside other threads (a web app's, a threaded scheduler's: a
fork copies no thread but every lock) or with less memory available than the counter needs
(:data:`HELPER_BYTES_PER_ARC`), it solves the full problem directly: the same call and
the same flow as :func:`optimiser._solver.flow.solve_min_cost_flow` with ``max_flow=True``.

Memory: the counter is a second OR-Tools network, of the children merged where they are
interchangeable (:mod:`optimiser._solver.merge_sources`: nationally 3.30 M of the 3.85 M
arcs, 70,904 of the 267,158 nodes; the count 5.65-6.20 → 4.17-4.47 s with the merge's 0.6 s).
The arcs reach both processes chunk by chunk (:mod:`optimiser._solver.chunked_flow`), each
solve's costs made per chunk, so the moderate solve holds no whole arc or cost array beside
OR-Tools' copy (the counter's merge holds every arc's tail, head, cost and bonus flag, 17 bytes
an arc, while it reads the chunks, then its sources' alone, and lets them go before it
loads its network); the allocation holds its arcs frame
compactly before the fork (:mod:`optimiser.allocation.compact`). Nationally both processes
together peaked at 1,382 MiB (PSS) against 1,482 MiB without the merge, the same day, and
1,771 MiB with whole arrays and a whole frame (``benchmarks/results/allocation_workers.md``).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import threading
import time
from dataclasses import dataclass

import numpy as np

from optimiser._errors import DataValidationError
from optimiser._solver.chunked_flow import (
    ArrayNetwork,
    ChunkedNetwork,
    full_cost,
    max_flow_cost,
    solve_max_flow,
)
from optimiser._solver.flow import _as_int64
from optimiser._solver.merge_sources import merge_identical_sources
from optimiser._solver.resources import available_cores, available_memory_bytes
from optimiser._solver.status import OPTIMAL

log = logging.getLogger(__name__)

#: Memory the forked counter needs per arc, with a margin: its OR-Tools max-flow and
#: min-cost-flow structures measured 106 bytes per arc nationally (407 MB for 3.85 M arcs).
#: With less memory available than this, the full costs are solved in one process.
HELPER_BYTES_PER_ARC = 160

#: How long to wait for the count once the moderate solve is done: this many times that
#: solve's own time, and at least COUNTER_MIN_WAIT_S seconds (it is a solve of the same
#: size, 5.6 s against 5.1 s nationally); then the counter is stopped and W solved in full.
COUNTER_WAIT_FACTOR = 4.0
COUNTER_MIN_WAIT_S = 30.0

#: Networks with fewer arcs are solved directly: the second process and the second solve
#: only pay on large networks (the national one has 3.9 M arcs; an LA's, tens of thousands).
PARALLEL_MIN_ARCS = 500_000


@dataclass(frozen=True)
class BonusFlowSolution:
    """Result of :func:`solve_max_flow_with_bonus`.

    Attributes
    ----------
    flow : numpy.ndarray
        Flow on each arc, int64, in the order the arcs were given: a max flow at least
        cost with the full costs.
    objective : int
        Σ unit_cost · flow with the full costs.
    status : str
        Always ``"optimal"`` (every other outcome raises).
    method : str
        ``"direct"`` (the full costs solved at once), ``"moderate"`` (the moderate bonus,
        proven exact by the bonus count) or ``"fallback"`` (the moderate flow was not
        proven exact, so the full costs were solved after it).
    bonus_flow : int
        Flow on the bonus arcs, D_f.
    bonus_bound : int or None
        D*, the most bonus flow of any maximum flow, where it was computed.
    """

    flow: np.ndarray
    objective: int
    status: str
    method: str
    bonus_flow: int
    bonus_bound: int | None


def solve_max_flow_with_bonus(
    tail: object,
    head: object,
    capacity: object,
    unit_cost: object,
    supply: object,
    *,
    bonus_arcs: object,
    bonus: int,
    moderate_bonus: int,
    workers: int | None = None,
) -> BonusFlowSolution:
    """``solve_min_cost_flow(..., max_flow=True)`` of a network whose costs carry a bonus.

    Parameters
    ----------
    tail, head, capacity, unit_cost, supply : array_like of int
        The network, as for :func:`optimiser._solver.flow.solve_min_cost_flow`;
        ``unit_cost`` holds the full costs (bonus arcs at their cost − W).
    bonus_arcs : array_like of bool, one per arc
        The arcs carrying the bonus.
    bonus : int
        W, the bonus inside ``unit_cost`` [cost units].
    moderate_bonus : int
        W' > 0, the bonus of the moderate solve; any W' keeps the answer exact (the module
        docstring), a W' above the other costs makes the bonus count likelier to prove it.
    workers : int, optional
        Processes to use: 1 solves the full costs directly; default, the cores this
        process may run on (two are used at most).

    Returns
    -------
    BonusFlowSolution

    Raises
    ------
    DataValidationError
        If the arrays do not fit, ``moderate_bonus`` < 1 or ``workers`` < 1.
    SolverError, InfeasibleError
        As :func:`optimiser._solver.flow.solve_min_cost_flow`.
    """
    cost = _as_int64("unit_cost", unit_cost)
    is_bonus = np.asarray(bonus_arcs, bool)
    if is_bonus.shape != cost.shape:
        msg = f"bonus_arcs has shape {is_bonus.shape} but there are {cost.size} arcs; one per arc."
        raise DataValidationError(msg)
    tail_a, head_a = _as_int64("tail", tail), _as_int64("head", head)
    cap_a, supply_a = _as_int64("capacity", capacity), _as_int64("supply", supply)
    for name, arr in (("head", head_a), ("capacity", cap_a), ("unit_cost", cost)):
        if arr.size != tail_a.size:
            msg = (
                f"{name} has {arr.size} entries but tail has {tail_a.size}; give one value per arc."
            )
            raise DataValidationError(msg)
    net = ArrayNetwork(tail_a, head_a, cap_a, cost, is_bonus, supply_a)
    return solve_network_with_bonus(
        net, bonus=bonus, moderate_bonus=moderate_bonus, workers=workers
    )


def solve_network_with_bonus(
    net: ChunkedNetwork,
    *,
    bonus: int,
    moderate_bonus: int,
    workers: int | None = None,
) -> BonusFlowSolution:
    """:func:`solve_max_flow_with_bonus` of a network made chunk by chunk.

    ``net`` (:class:`optimiser._solver.chunked_flow.ChunkedNetwork`) gives each chunk's
    full costs and bonus flags; the moderate and the count's costs are made per chunk, so
    no whole cost array is copied (:mod:`optimiser._solver.chunked_flow`).
    """
    if moderate_bonus < 1:
        msg = f"moderate_bonus must be at least 1; found {moderate_bonus}."
        raise DataValidationError(msg)
    if workers is not None and workers < 1:
        msg = f"workers must be at least 1; found {workers}."
        raise DataValidationError(msg)
    delta = int(bonus) - int(moderate_bonus)
    if delta <= 0 or not net.n_bonus or not _parallel(net.n_arcs, workers):
        return _solution(net, solve_max_flow(net), "direct")
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_count_bonus, args=(send, net), daemon=True)
    proc.start()
    send.close()
    try:
        start = time.perf_counter()
        flow = solve_max_flow(net, lambda chunk: chunk.cost + delta * chunk.bonus)
        # the count is a solve of the same size: wait for it, but not for ever
        patience = max(COUNTER_MIN_WAIT_S, COUNTER_WAIT_FACTOR * (time.perf_counter() - start))
        bound = None  # no answer (it died, or is still counting): no proof, so solve in full
        if recv.poll(patience):
            try:
                bound = recv.recv()
            except EOFError:  # the counter died (memory, a signal)
                bound = None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()
    sol = _solution(net, flow, "moderate", bound if isinstance(bound, int) else None)
    if sol.bonus_bound is not None and sol.bonus_flow == sol.bonus_bound:
        log.info("moderate bonus %d proven exact by the bonus count %d", moderate_bonus, bound)
        return sol
    log.info(
        "moderate bonus not proven (bonus flow %d, count %s): solving in full",
        sol.bonus_flow,
        bound,
    )
    del flow, sol
    return _solution(
        net, solve_max_flow(net), "fallback", bound if isinstance(bound, int) else None
    )


def _parallel(n_arcs: int, workers: int | None) -> bool:
    """Whether the two solves run side by side (see the module docstring)."""
    if workers is None:
        workers = available_cores()
    if workers < 2 or n_arcs < PARALLEL_MIN_ARCS:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if multiprocessing.parent_process() is not None:  # a pool's worker: its peers hold the cores
        return False
    if _other_threads():  # forking beside other threads risks a lock held for ever
        return False
    free = available_memory_bytes()
    return free is None or free >= HELPER_BYTES_PER_ARC * n_arcs


def _other_threads() -> bool:
    """Whether this process runs threads besides the calling one."""
    return threading.active_count() > 1


def _count_bonus(send: multiprocessing.connection.Connection, net: ChunkedNetwork) -> None:
    """In the forked process: D*, the most bonus flow of any maximum flow, sent back.

    The max flow at least cost with cost −1 on the bonus arcs costs exactly −D*, so no
    flows are read back (the process's memory is the OR-Tools network alone), and the
    children with the same arcs are one node of the network it solves
    (:mod:`optimiser._solver.merge_sources`: the same least cost, nationally 3.85 M → 3.30
    M arcs).
    """
    try:
        merged = merge_identical_sources(net, lambda chunk: -chunk.bonus.astype(np.int64))
        cost = max_flow_cost(merged, full_cost)
        send.send(None if cost is None else -cost)
    except BaseException:  # any failure: the parent solves in full instead
        send.send(None)
    finally:
        send.close()


def _solution(
    net: ChunkedNetwork, flow: np.ndarray, method: str, bound: int | None = None
) -> BonusFlowSolution:
    """The solution of ``flow``: its full cost and bonus flow, summed chunk by chunk."""
    objective = got = a = 0
    for chunk in net.chunks():
        part = flow[a : a + chunk.tail.size]
        objective += int(np.dot(chunk.cost.astype(np.int64, copy=False), part))
        got += int(part[chunk.bonus].sum())
        a += chunk.tail.size
    return BonusFlowSolution(
        flow=flow,
        objective=objective,
        status=OPTIMAL,
        method=method,
        bonus_flow=got,
        bonus_bound=bound,
    )
