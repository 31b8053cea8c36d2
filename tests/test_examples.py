"""The example options' published figures stay in step with the code.

``examples/output/`` and the table in ``examples/README.md`` are written by
``examples/run_examples.py``; a change to the model or the data that moves them
fails here until the script is re-run and the README updated.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import optimiser

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = [
    "autism_base_stretford_high.yaml",
    "semh_expansion_egerton_high.yaml",
    "inmss_fee_cap.yaml",
    "all_three.yaml",
]
# README table row label → KPI (deltas.csv row)
README_ROWS = {
    "total cost (place + transport + unplaced)": "total_cost_gbp",
    "INMSS children": "inmss_children",
    "INMSS place cost": "inmss_cost_gbp",
    "children without a suitable place": "unplaced_children",
}


@pytest.fixture(scope="module")
def deltas() -> pd.DataFrame:
    ds = optimiser.load_default()
    scenarios = [optimiser.load_scenario(EXAMPLES / f) for f in FILES]
    return optimiser.compare_scenarios(ds, scenarios).deltas


def test_committed_deltas_match_a_fresh_run(deltas):
    committed = pd.read_csv(EXAMPLES / "output" / "deltas.csv", index_col=0)
    fresh = deltas.round(4)
    assert list(committed.columns) == list(fresh.columns)
    assert list(committed.index) == list(fresh.index)
    pd.testing.assert_frame_equal(committed, fresh, check_dtype=False, atol=1e-3, rtol=0)


def _number(cell: str) -> float:
    """'−£1,420,900' → -1420900.0; '0' → 0.0."""
    text = cell.strip().replace("−", "-").replace("£", "").replace(",", "")
    return float(text)


def test_readme_table_matches_a_fresh_run(deltas):
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for label, kpi in README_ROWS.items():
        row = re.search(rf"^\| {re.escape(label)} \|(.+)\|$", text, flags=re.MULTILINE)
        assert row, f"README row {label!r} missing"
        cells = [_number(c) for c in row.group(1).split("|")]
        assert cells == pytest.approx(deltas.loc[kpi].round(0).tolist(), abs=0.5), label
