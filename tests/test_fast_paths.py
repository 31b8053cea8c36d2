"""Fast paths give what the slower code they replaced gave (suite-time work, no new rule).

Each reference below is the expression the product used before it was made faster; the
product must agree with it exactly on the cases named.

* ``readers.drop_blank_rows``: one ``np.char.strip`` over the cells instead of a pandas
  ``.str.strip`` per column (paid by every dataset load).
* ``synth.cohort``: per-package slot rows and one weight vector per age for homes with
  no anchor; the draws (and so the cohort) are the same, byte for byte (test_synth's
  rebuild of the embedded data checks the whole cohort).
* ``test_layering.source_segment``: each file split once, not once per import.

(``national._numeric``'s check is in test_init.py, beside the SEN2 tests.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimiser.dataset.readers import drop_blank_rows
from optimiser.synth.cohort import _Slots


def _blank_rows_reference(frame: pd.DataFrame) -> np.ndarray:
    return frame.astype(str).apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy()


BLANK_CASES = {
    "spaces, tabs and empty cells": pd.DataFrame(
        {"a": ["1", " ", "", "2", "", "  "], "b": ["x", "", "\t", "y", "", ""]}, dtype="str"
    ),
    "missing cells are not blank": pd.DataFrame(
        {"a": ["1", np.nan, ""], "b": ["", np.nan, " "]}, dtype="str"
    ),
    "None in an object frame": pd.DataFrame(
        {"a": ["1", None, ""], "b": ["", None, " "]}, dtype=object
    ),
    "unicode spaces strip": pd.DataFrame({"a": ["\u00a0", "1"], "b": ["\u2003", "2"]}),
    "numbers": pd.DataFrame({"a": [1.0, np.nan, 0.0], "b": ["", "", " "]}),
}


@pytest.mark.parametrize("case", list(BLANK_CASES))
def test_blank_rows_are_the_ones_the_per_column_strip_found(case: str) -> None:
    frame = BLANK_CASES[case]
    want = _blank_rows_reference(frame)
    problems: list = []
    kept, rows = drop_blank_rows(frame.copy(), "t.csv", problems)
    assert len(kept) == int((~want).sum())
    pd.testing.assert_frame_equal(kept, frame[~want].reset_index(drop=True))
    last = np.flatnonzero(~want)[-1] if (~want).any() else -1
    middle = [i + 2 for i in np.flatnonzero(want) if i < last]
    assert (rows is None) == (not middle)
    if middle:
        assert rows == [i + 2 for i in np.flatnonzero(~want)]
        assert len(problems) == 1 and f"{len(middle)} blank row(s)" in problems[0].found


def test_slot_filter_is_the_full_scan() -> None:
    rng = np.random.default_rng(3)
    n = 400
    lo = rng.integers(2, 16, n)
    slots = pd.DataFrame({
        "setting_id": [f"S{i % 37:03d}" for i in range(n)],
        "package_id": rng.choice(["SPP1", "SPP2", "SPP3", "SPP9"], n),
        "age_min": lo,
        "age_max": lo + rng.integers(0, 8, n),
        "setting_type": rng.choice(["mainstream", "inclusion_base", "maintained_special"], n),
        "easting": rng.integers(0, 10_000, n),
        "northing": rng.integers(0, 10_000, n),
    })  # fmt: skip
    sl = _Slots(slots)
    for package in ("SPP1", "SPP2", "SPP3", "SPP9", "SPP5"):
        for age in range(0, 25):
            for only in (False, True):
                ok = (sl.package_id == package) & (sl.age_min <= age) & (sl.age_max >= age)
                if only:
                    ok &= sl.mainstream
                got = sl.eligible(package, age, mainstream_only=only)
                np.testing.assert_array_equal(got, np.flatnonzero(ok))
                assert got.dtype == np.flatnonzero(ok).dtype


SOURCE = (
    "import os\r\n"
    "from optimiser.dataset import (\r\n    load,  # café\r\n    save,\r\n)\r"
    "x = 1; import optimiser.geography as g\n"
    "def f():\n    from optimiser.policy import (Policy,\n        policy_from_mapping)\n"
    "if True:\n\timport é_module\n"
    "from . import sibling"
)


def test_layering_statement_text_is_ast_get_source_segment() -> None:
    import ast

    from test_layering import _LINE, PACKAGE_DIR, source_segment

    sources = [SOURCE] + [
        (PACKAGE_DIR / f).read_text(encoding="utf-8")
        for f in ("__init__.py", "cli/app.py", "dataset/init/national.py")
    ]
    for source in sources:
        lines = _LINE.findall(source)
        nodes = [
            n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        assert len(nodes) >= 3
        for node in nodes:
            assert source_segment(lines, node) == ast.get_source_segment(source, node)
