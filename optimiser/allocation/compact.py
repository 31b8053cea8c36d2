"""Hold an arcs frame's columns in fewer bytes while the flow solves, and give them back exact.

Nationally the arcs frame (4.0 M rows) is 347 MiB beside two OR-Tools networks of about
385 MiB each (:mod:`optimiser._solver.bonus_flow`), and the solve reads only three of its
columns (``c``, ``p`` and ``arc_cost``, which the network can read narrowed). The others
wait for the result. Several of them take few distinct values (``preference_rank``, the
``preference_penalty_gbp``, the ``duty_term_gbp`` of −W or 0, a ``place_cost_gbp`` per
place) or are whole numbers of pence (``transport_cost_gbp``, rounded to 2 places) or small
integers held as int64 (``s``). :func:`compacted` holds each such column, for the
duration of a ``with`` block, in the smallest form that gives back every bit:

* integers: the narrowest signed integer type holding their range;
* floats with at most :data:`MAX_CODES` distinct bit patterns (a sample decides whether
  to try): int8 or int16 codes into those patterns (NaN, −0.0 and all kept as bits);
* floats that are whole pence: int32 pence, kept only when dividing by 100 gives back
  every value bit for bit (checked on the whole column).

Other columns (bools, int8, continuous floats) stay as they are. Once the columns are
packed, glibc's free heap is given back to the system (``malloc_trim``, Linux only), so
a process forked next (the bonus count) does not share, and hold, the freed pages; and
again on leaving, before the columns come back, so the memory the block freed (OR-Tools'
networks) is not held beside them (in one process nationally the peak after the solve
was 1,385 MiB without this second trim, 1,192 MiB with it). On leaving the block every
column is back at its place, with its dtype and its bits.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from optimiser._solver.resources import thread_map

#: At most this many distinct values are held as codes (int16 codes).
MAX_CODES = 1 << 15

#: Values sampled to decide whether a float column is worth coding or holding as pence.
SAMPLE = 4096

#: Columns shorter than this are left alone: the bytes saved would not pay for the time.
MIN_ROWS = 100_000

_NARROW = (np.int8, np.int16, np.int32)
_NUMERIC = {np.dtype(t) for t in (np.int16, np.int32, np.int64, np.float64)}


@dataclass(frozen=True)
class _Held:
    """One column held compactly: ``data`` and how to give the original back."""

    name: str
    position: int
    dtype: np.dtype
    data: np.ndarray
    kind: str  # "int" (narrowed), "codes" (into ``table``), "pence" (int32 pence)
    table: np.ndarray | None = None  # the distinct values' bits (int64), for "codes"

    def restore(self) -> np.ndarray:
        if self.kind == "int":
            return self.data.astype(self.dtype)
        if self.kind == "codes":
            assert self.table is not None
            return self.table.take(self.data).view(self.dtype)
        return self.data.astype(np.float64) / 100.0


class Held:
    """The columns :func:`compacted` holds: their names, and integer columns' values."""

    def __init__(self, frame: pd.DataFrame, held: list[_Held]) -> None:
        self._frame, self._held = frame, {h.name: h for h in held}

    @property
    def names(self) -> list[str]:
        """The held columns, in column order."""
        return list(self._held)

    def ints(self, name: str) -> np.ndarray:
        """Integer column ``name``'s values: its narrow copy while held, else the frame's."""
        h = self._held.get(name)
        if h is None:
            return self._frame[name].to_numpy()
        if h.kind != "int":
            msg = f"column {name!r} is held as {h.kind}, not as integers."
            raise TypeError(msg)
        return h.data


@contextmanager
def compacted(frame: pd.DataFrame) -> Iterator[Held]:
    """Within the block, ``frame`` lacks the columns it holds compactly (:class:`Held`).

    Code inside the block may read held integer columns' values from :meth:`Held.ints`
    (the same values, narrower). The columns come
    back on leaving, even on an exception, in their places, dtypes and bits. Columns are
    packed and unpacked on the process's cores as threads
    (:func:`~optimiser._solver.resources.thread_map`).
    """
    held = _hold(frame) if len(frame) >= MIN_ROWS else []
    try:
        yield Held(frame, held)
    finally:
        if held:  # what the block freed (OR-Tools' networks) goes back before the columns
            trim_heap()
        values = thread_map(_Held.restore, held)
        for h, v in zip(held, values, strict=True):  # in column order: each position right
            # a Series on the frame's index goes in without a copy (pandas' copy-on-write)
            frame.insert(h.position, h.name, pd.Series(v, index=frame.index, copy=False))


def _hold(frame: pd.DataFrame) -> list[_Held]:
    todo = [
        (str(n), i, frame[n].to_numpy())
        for i, (n, dtype) in enumerate(frame.dtypes.items())
        if dtype in _NUMERIC  # text, categories, nullable: left as they are
    ]
    held = [h for h in thread_map(lambda t: _compact(*t), todo) if h is not None]
    del todo  # the last references to the columns but the frame's, which go next
    for h in held:
        del frame[h.name]
    if held:
        trim_heap()
    return held


def _compact(name: str, position: int, values: np.ndarray) -> _Held | None:
    """``values`` in fewer bytes, or None when no form here is smaller and exact."""
    if values.dtype.kind == "i" and values.dtype.itemsize > 1 and values.size:
        lo, hi = int(values.min()), int(values.max())
        for t in _NARROW:
            info = np.iinfo(t)
            if info.min <= lo and hi <= info.max and np.dtype(t).itemsize < values.dtype.itemsize:
                return _Held(name, position, values.dtype, values.astype(t), "int")
        return None
    if values.dtype != np.float64 or not values.size:
        return None
    bits = values.view(np.int64)
    step = max(values.size // SAMPLE, 1)
    if np.unique(bits[::step]).size <= SAMPLE // 4:  # few values: worth hashing them all
        codes, table = pd.factorize(bits)
        if table.size <= MAX_CODES:
            code_type = np.int8 if table.size <= np.iinfo(np.int8).max + 1 else np.int16
            data = codes.astype(code_type)
            return _Held(name, position, values.dtype, data, "codes", np.asarray(table, np.int64))
        return None
    if _as_pence(name, position, values[::step]) is None:  # the sample first: cheap to refuse
        return None
    return _as_pence(name, position, values)


def _as_pence(name: str, position: int, values: np.ndarray) -> _Held | None:
    """``values`` as int32 pence, if they all give themselves back that way, else None."""
    x = np.multiply(values, 100.0)
    np.rint(x, out=x)
    limit = np.iinfo(np.int32).max
    if not (-limit <= x.min() and x.max() <= limit):  # NaN, too: its comparisons fail
        return None
    data = x.astype(np.int32)
    np.divide(data, 100.0, out=x)  # the decode of _Held.restore, into the same buffer
    if not np.array_equal(x.view(np.int64), values.view(np.int64)):
        return None
    return _Held(name, position, values.dtype, data, "pence")


def trim_heap() -> None:
    """Give glibc's free heap back to the system (``malloc_trim(0)``); elsewhere nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], object] | None:
    """glibc's ``malloc_trim`` among the process's own symbols (no ``find_library``, which
    runs ``ldconfig`` in a subprocess), looked up once; None without glibc."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
