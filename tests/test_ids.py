"""optimiser.dataset.ids: the object-array lookups give pandas' own answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimiser.dataset.ids import as_text, first_rows, object_index, positions

KEYS = [
    pd.Series(["S1", "S2", "S3", "S4"], dtype="str"),
    pd.Series(["S1", "S2", "S3", "S4"], dtype=object),
    pd.Series(["S1", None, "S3", "S4"], dtype="str"),  # a missing id among the keys
    pd.Index(["S1", "S2", "S3", "S4"]),
    np.array(["S1", "S2", "S3", "S4"], dtype=object),
    pd.Series([10, 20, 30]),
    np.array(["S1", np.nan, "S3"], dtype=object),  # a missing id among object keys
    np.array([b"S1", b"S3"], dtype=object),  # bytes are not text: "S1" is not among them
    pd.Index(["S3", "S1"], dtype="str"),
    np.array(["S1", "S3", 3], dtype=object),  # mixed keys
    np.array([True, "S1"], dtype=object),  # True == 1 == 1.0, as in a dict
    np.array([1.0, 2], dtype=object),
]
VALUES = [
    np.array(["S4", "S1", "x", "S2", "S4"], dtype=object),
    pd.Series(["S3", np.nan, "", "S1"], dtype=object),
    pd.Series(["S3", None, "S9"], dtype="str"),
    ["S2", "S2"],
    np.array([], dtype=object),
    np.array([30, 11, 10]),
    pd.Series(["S1", "S3", "S1", None, "S2"], dtype="str"),
    pd.Index(["S3", "zz"], dtype="str"),
    pd.Series([], dtype="str"),
    np.array(["S1", None, np.nan, pd.NA, 3, True, 1, 1.0, "S3", 2.0], dtype=object),
]


@pytest.mark.parametrize("keys", KEYS, ids=range(len(KEYS)))
@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_positions_are_pandas_get_indexer(keys, values) -> None:
    expected = pd.Index(keys).get_indexer(values)
    got = positions(keys, values)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("keys", KEYS, ids=range(len(KEYS)))
@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_positions_of_many_values_are_pandas_get_indexer(keys, values) -> None:
    # many values per key: pandas text values take the Arrow lookup
    many = pd.concat([pd.Series(values, dtype=getattr(values, "dtype", None))] * 12)
    expected = pd.Index(keys).get_indexer(many)
    got = positions(keys, many)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "values", [["a"], pd.Series(["a"] * 20, dtype="str")], ids=["objects", "arrow-text"]
)
def test_positions_refuse_duplicate_keys_as_pandas_does(values) -> None:
    with pytest.raises(pd.errors.InvalidIndexError):
        positions(["a", "a", "b"], values)


def test_object_index_keeps_python_objects() -> None:
    index = object_index(pd.Series(["a", "b"], dtype="str"))
    assert index.dtype == object
    assert object_index(index) is index


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", np.nan, "", 3, None], dtype=object),
        pd.Series(["a", "b"], dtype=object),
        pd.Series(["a", np.nan], dtype="str"),
        pd.Series([], dtype=object),
        pd.Series([1.5, np.nan]),
        pd.Series([True, False]),
    ],
    ids=["mixed", "text", "str-dtype", "empty", "float", "bool"],
)
def test_as_text_is_astype_str(values: pd.Series) -> None:
    got, expected = as_text(values), values.astype(str).to_numpy(object)
    assert got.dtype == object
    pd.testing.assert_series_equal(pd.Series(got, dtype=object), pd.Series(expected, dtype=object))


@pytest.mark.parametrize(
    ("rows", "keys"),
    [
        ({"s": ["S1", "S2", "S3"], "p": ["a", "a", "b"]}, ["s"]),
        ({"s": ["S1", "S2", "S1"], "p": ["a", "a", "b"]}, ["s"]),
        ({"s": ["S1", "S2", "S1"], "p": ["a", "a", "b"]}, ["s", "p"]),
        ({"s": ["S1", "S2", "S1"], "p": ["a", "a", "a"]}, ["s", "p"]),
        ({"s": ["S1", None, None], "p": ["a", "a", "b"]}, ["s"]),
        ({"s": ["S1", np.nan, "S2"], "p": [None, None, "b"]}, ["s", "p"]),
        ({"s": ["S1", np.nan, np.nan], "p": [None, None, "b"]}, ["s", "p"]),
        ({"s": [], "p": []}, ["s", "p"]),
    ],
    ids=range(8),
)
def test_first_rows_are_drop_duplicates(rows, keys) -> None:
    frame = pd.DataFrame(rows, dtype=object)
    got = first_rows(frame, keys)
    pd.testing.assert_frame_equal(got, frame.drop_duplicates(keys))
    if not frame.duplicated(keys).any():
        assert got is frame  # no copy when the keys are unique
