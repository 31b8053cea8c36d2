"""Ids and text as Python objects: pandas' text lookups and conversions, without their cost.

pandas 3 stores text as its own string type. ``pd.Index(text).get_indexer(values)``
therefore converts ``values`` (a NumPy object array of ids, the form the model works in)
to that type first, one Python string at a time, and looks up through it: about three
times the time of the same lookup between two object indexes (7,000 ids among 9,000:
11 ms against 3.5 ms on this project's machines). :func:`positions` does the lookup on
object indexes and returns the same positions. :func:`as_text` is ``Series.astype(str)``
as an object array, without building the string column when the values are text already.
:func:`first_rows` is ``drop_duplicates`` without its copy when the keys are unique (the
usual case: a dataset's ids are checked unique on load).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["as_text", "code_groups", "first_rows", "object_frame", "object_index", "positions"]


def object_index(values: Any) -> pd.Index:
    """``values`` (a Series, Index, array or list) as an Index of Python objects.

    Missing text becomes NaN, which an object index matches to NaN (as a text index
    matches its missing values).
    """
    if isinstance(values, pd.Index) and values.dtype == object:
        return values
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(object)
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


def positions(keys: Any, values: Any) -> np.ndarray:
    """Position of each of ``values`` among ``keys`` (unique), −1 where absent.

    The result of ``pd.Index(keys).get_indexer(values)``, as int64.

    Parameters
    ----------
    keys : Series, Index, array or list
        The ids looked up in; unique (pandas raises ``InvalidIndexError`` otherwise,
        as ``get_indexer`` does).
    values : Series, Index, array or list
        The ids to find.

    Returns
    -------
    numpy.ndarray
        int64, one per value.
    """
    found = _text_positions(keys, values)
    if found is not None:
        return found
    return object_index(keys).get_indexer(object_index(values)).astype(np.int64, copy=False)


def _arrow_text(values: Any) -> pa.Array | None:
    """``values``' own Arrow array when they are pandas text stored in Arrow, else None."""
    arr = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    return pa.array(arr) if isinstance(arr, pd.arrays.ArrowStringArray) else None


def _text_positions(keys: Any, values: Any) -> np.ndarray | None:
    """:func:`positions` of pandas text values by an Arrow lookup; None when it does not apply.

    Text values (a column of the results) held in Arrow would otherwise be converted to
    Python strings, one at a time, and hashed (6,675 setting ids among 300: 1.5 ms against
    0.25 ms). Applies when the keys are text too (missing allowed: missing matches missing,
    as in ``get_indexer``), unique, and at most a quarter as many as the values: Arrow
    hashes the keys twice a call (a uniqueness count, the lookup), where an Index keeps
    its hash table (6,675 child ids among 7,000: 1.2 ms by pandas, 1.6 ms by Arrow).
    """
    found = _arrow_text(values)
    if found is None or 4 * len(keys) > len(found):
        return None
    ref = _arrow_text(keys)
    if ref is None:
        raw = object_index(keys).to_numpy()
        if pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
            return None
        ref = pa.array(raw, type=found.type, from_pandas=True)
    if pc.count_distinct(ref, mode="all").as_py() != len(ref):
        return None  # duplicate keys: pandas raises, as get_indexer does
    at = pc.index_in(found, value_set=ref.cast(found.type))
    return np.asarray(pc.fill_null(at, -1)).astype(np.int64)


def as_text(values: pd.Series) -> np.ndarray:
    """``values.astype(str).to_numpy(object)``: every value as text, missing kept missing.

    When every value is text already (the usual case) the values are returned as they
    are, without the string column ``astype`` would build (1.7 ms for 7,000 ids). The
    result may share memory with ``values``: do not write to it.
    """
    raw = values.to_numpy(object)
    if pd.api.types.infer_dtype(raw, skipna=False) in ("string", "empty"):
        return raw
    return values.astype(str).to_numpy(object)


def first_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame.drop_duplicates(keys)``: ``frame`` itself when its keys are unique already.

    The uniqueness test hashes the keys once (0.03 ms for 300 setting ids, against
    0.24 ms for ``drop_duplicates("setting_id")``, which copies the frame). NaN is a
    value, as for ``drop_duplicates``: two rows with a missing key are duplicates.

    Parameters
    ----------
    frame : DataFrame
        The table, e.g. ``ds.settings``.
    keys : list of str
        The key columns, e.g. ``["setting_id"]`` or ``["setting_id", "package_id"]``.

    Returns
    -------
    DataFrame
        ``frame`` (the same object) when no key repeats, else the first row of each key.
        Treat it as read-only.
    """
    if len(keys) == 1:
        unique = object_index(frame[keys[0]]).is_unique
    else:
        code = np.zeros(len(frame), np.int64)
        for key in keys:  # one integer per distinct key tuple
            k, names = pd.factorize(frame[key].to_numpy(object), use_na_sentinel=False)
            code = code * (len(names) + 1) + k
        unique = len(np.unique(code)) == len(code)
    return frame if unique else frame.drop_duplicates(keys)


def object_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame of ``columns`` (arrays or Series of one length, a RangeIndex), in order.

    A NumPy object array stays a column of Python objects, as ``pd.Series(values,
    dtype=object)`` keeps it: pandas 3 would otherwise convert an object array of text to
    its own string type, one string at a time. Other arrays and Series are taken as
    pandas takes them. The frame holds its own copy of the values.

    Parameters
    ----------
    columns : dict of str to numpy.ndarray or Series
        The columns, by name.

    Returns
    -------
    DataFrame
        One column per entry, with a RangeIndex.
    """
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object, copy=False)
            if isinstance(values, np.ndarray) and values.dtype == object
            else values
            for name, values in columns.items()
        }
    )


def code_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first position, size) of each group of equal ``codes``, in code order.

    ``codes`` are small whole numbers ≥ 0 (e.g. setting row × package): counted by
    ``bincount`` rather than sorted; the same groups as a stable argsort gives.
    """
    codes = np.asarray(codes, np.int64)
    if not len(codes):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    size = np.bincount(codes)
    first = np.zeros(len(size), np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # reversed: the first row wins
    group = np.flatnonzero(size)
    return first[group], size[group]
