"""Demand futures: seeded samples of growth, need mix, fees and places, each rolled forward.

Futures run on Dask (a local cluster by default, or a scheduler's address) and give the
same tables as a serial loop, because each future is seeded by its own index.

:mod:`~.sampling` draws a future, :mod:`~.roll` rolls it for the baseline and every
option (allocating each year with reused arcs, :mod:`optimiser.allocation.reuse`),
:mod:`~.engine` runs many (serially or on Dask) and :mod:`~.result` summarises them.
"""

from __future__ import annotations

from optimiser.scenarios.futures.api import futures as futures
from optimiser.scenarios.futures.result import FuturesResult as FuturesResult

__all__ = ["FuturesResult", "futures"]
