"""What this process may use: its cores and the system's free memory (for forking solvers)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), 1 where that is unknown."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def available_memory_bytes() -> int | None:
    """The memory the system can give without swapping (``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]`` on this process's cores as threads, in order.

    For work that runs without the GIL (numpy, scipy's KD-tree, pandas' hashing). The
    threads have ended when it returns (a fork after it copies no thread); an exception
    in any call is raised here.
    """
    todo = list(items)
    n = min(available_cores(), len(todo))
    if n <= 1:
        return [fn(x) for x in todo]
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, todo))
