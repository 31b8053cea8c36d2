"""Undo Dask's small malloc trim threshold in the processes that roll futures.

A Dask nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``) so that glibc hands freed memory back to the
system at once. Rolling a future allocates and frees many mid-sized NumPy arrays per
allocation-year; with that setting every free above 64 KiB gives pages back and the next
allocation faults them in again. Measured on the default data (futures 6-21 after 6 warm,
one process, load < 1): 4.1-4.4 CPU s as started plainly, 5.6-5.8 s with the nanny's
setting, 4.1 s with the setting and :func:`relax_trim` (``benchmarks/results/futures.md``).

:func:`relax_trim` sets glibc's thresholds to the values its own dynamic rule reaches
for large arrays (trim above 64 MiB free, mmap from 32 MiB), and only where something
asked for a trim threshold below 1 MiB through the environment, which is what Dask does;
elsewhere glibc's dynamic rule is left alone. It is a no-op off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: glibc ``mallopt`` parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Thresholds set when relaxing [bytes]: glibc's dynamic maxima on 64-bit.
TRIM_BYTES = 64 << 20
MMAP_BYTES = 32 << 20
#: A trim threshold from the environment below this is "small" [bytes].
SMALL_TRIM = 1 << 20

_done = False
_relaxed = False


def relaxed() -> bool:
    """Whether :func:`relax_trim` changed this process's thresholds."""
    return _relaxed


def relax_trim() -> bool:
    """Raise a small environment-set malloc trim threshold, once per process.

    Returns whether the thresholds were changed (False: nothing asked for a small one,
    not glibc, or already done).
    """
    global _done, _relaxed
    if _done:
        return False
    _done = True
    text = os.environ.get("MALLOC_TRIM_THRESHOLD_", "").strip()
    try:
        asked = int(text)
    except ValueError:
        return False
    if asked >= SMALL_TRIM:
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _relaxed = bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
    )
    return _relaxed
