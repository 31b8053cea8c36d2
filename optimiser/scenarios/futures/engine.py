"""Run futures serially or on Dask (``dask.distributed``), with the same answer either way.

Futures are cut into batches (contiguous ranges of future numbers), each batch one task
that rolls its futures for every option. On Dask the model (data, options, prior) is
scattered to every worker once and each worker keeps its own arc banks across tasks.
Results come back by future number, so the tables do not depend on how the work was cut
or who did it: each future is seeded by its own number
(:func:`~optimiser.scenarios.futures.sampling.future_rng`).

``scheduler``:

* ``None``: a local Dask cluster of 2 worker processes (1 thread each) when there are at
  least :data:`LOCAL_CLUSTER_FROM` futures, else the serial loop;
* ``"serial"``: a plain loop in this process (no Dask);
* ``"local"``: a local Dask cluster whatever the number of futures;
* ``"tcp://host:port"`` (any Dask address): that scheduler's workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from optimiser.scenarios.futures.malloc import relax_trim
from optimiser.scenarios.futures.roll import MEASURES, FuturesModel, roll_future

#: From this many futures, ``scheduler=None`` starts a local cluster (below: serial).
LOCAL_CLUSTER_FROM = 64
#: Worker processes of the default local cluster.
LOCAL_WORKERS = 2
#: Tasks per worker: enough to balance the load, few enough to keep each bank busy.
TASKS_PER_WORKER = 4
#: Dask settings of the local cluster's workers: no statistical profiler and slower
#: housekeeping ticks, which otherwise take the GIL from the task every few ms; and no
#: ``MALLOC_TRIM_THRESHOLD_`` from the nanny, which costs each worker about 30% more CPU
#: (see :mod:`~optimiser.scenarios.futures.malloc`; ``None`` leaves it unset).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}

if TYPE_CHECKING:
    from dask.distributed import LocalCluster

Progress = Callable[[int], None]


def run_batch(model: FuturesModel, start: int, stop: int) -> np.ndarray:
    """Futures ``start … stop − 1`` rolled: (futures, options, years + 1, packages, measures).

    On a worker another scheduler's nanny started, a small malloc trim threshold is
    relaxed first (:func:`~optimiser.scenarios.futures.malloc.relax_trim`).
    """
    relax_trim()
    return np.stack([roll_future(model, i) for i in range(start, stop)])


def timed_batch(model: FuturesModel, start: int, stop: int) -> tuple[np.ndarray, float, float]:
    """:func:`run_batch` with its wall and CPU time in the process that ran it [s] (benchmarks)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = run_batch(model, start, stop)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def batches(n: int, n_tasks: int) -> list[tuple[int, int]]:
    """``n`` futures cut into at most ``n_tasks`` contiguous ranges of near-equal size."""
    size = max(1, math.ceil(n / max(n_tasks, 1)))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def resolve_scheduler(scheduler: str | None, n: int) -> str:
    """``"serial"``, ``"local"`` or the scheduler address the run will use."""
    if scheduler is None:
        return "local" if n >= LOCAL_CLUSTER_FROM else "serial"
    text = str(scheduler).strip()
    if text in ("serial", "local"):
        return text
    if "://" not in text:
        msg = (
            f"scheduler {scheduler!r} is not 'serial', 'local' or a Dask address; "
            "give e.g. tcp://127.0.0.1:8786"
        )
        raise ValueError(msg)
    return text


def run(
    model: FuturesModel,
    n: int,
    *,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Every future rolled, in future order (see the module docstring for ``scheduler``)."""
    how = resolve_scheduler(scheduler, n)
    if how == "serial":
        parts = []
        for start, stop in batches(n, max(1, n // 8)):
            parts.append(run_batch(model, start, stop))
            if progress is not None:
                progress(stop - start)
        return np.concatenate(parts) if parts else _empty(model)
    return _run_dask(model, n, how, progress)


def _empty(model: FuturesModel) -> np.ndarray:
    return np.zeros((0, len(model.names), model.years + 1, len(model.packages), len(MEASURES)))


def local_cluster(n_workers: int = LOCAL_WORKERS) -> LocalCluster:
    """A local Dask cluster of ``n_workers`` processes × 1 thread, with :data:`QUIET_WORKERS`."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(QUIET_WORKERS):
        return LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def _run_dask(model: FuturesModel, n: int, how: str, progress: Progress | None) -> np.ndarray:
    from dask.distributed import Client

    cluster = None
    try:
        if how == "local":
            cluster = local_cluster()
            client = Client(cluster)
        else:
            try:
                client = Client(how, timeout=10)
            except (OSError, TimeoutError) as exc:
                msg = f"could not reach the Dask scheduler at {how}: {exc}. Is it running?"
                raise ConnectionError(msg) from exc
        with client:
            return run_on_client(model, n, client, progress=progress)
    finally:
        if cluster is not None:
            cluster.close()


def run_on_client(
    model: FuturesModel,
    n: int,
    client: object,
    *,
    progress: Progress | None = None,
    start: int = 0,
    shared: object | None = None,
) -> np.ndarray:
    """Futures ``start … start + n − 1`` on a connected ``dask.distributed.Client``.

    The model is scattered to every worker once (``shared``: the Dask future of a model
    already scattered, whose workers' arc banks are then reused); the futures go in
    :data:`TASKS_PER_WORKER` batches per worker; results come back in future order.
    """
    from dask.distributed import as_completed

    info = client.scheduler_info()  # type: ignore[attr-defined]
    n_workers = max(1, len(info.get("workers", {})))
    if shared is None:
        shared = client.scatter(model, broadcast=True)  # type: ignore[attr-defined]
    cuts = [(start + a, start + b) for a, b in batches(n, n_workers * TASKS_PER_WORKER)]
    tasks = [
        client.submit(run_batch, shared, a, b, pure=False)  # type: ignore[attr-defined]
        for a, b in cuts
    ]
    first = {task.key: a for task, (a, _) in zip(tasks, cuts, strict=True)}
    results: dict[int, np.ndarray] = {}
    for task in as_completed(tasks):
        part = task.result()
        results[first[task.key]] = part
        if progress is not None:
            progress(len(part))
    if not results:
        return _empty(model)
    return np.concatenate([results[a] for a, _ in cuts])
