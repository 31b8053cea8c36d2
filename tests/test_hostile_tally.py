"""scripts/hostile_tally.py (issue 12): the classifier, and three cases run for real."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("hostile_tally", ROOT / "scripts/hostile_tally.py")
assert _spec is not None and _spec.loader is not None
tally = importlib.util.module_from_spec(_spec)
sys.modules["hostile_tally"] = tally  # dataclasses and the process pool look it up
_spec.loader.exec_module(tally)

BASE = {"total_cost_gbp": 100.0, "unplaced_children": 3.0, "inmss_children": 5.0}


def _result(code, out, kpis=None):
    return {"runs": [tally.Run(["-m", "optimiser"], code, out, 0.1)], "kpis": kpis, "case_dir": ""}


def _case(expect="same", names=("children.csv", "row 3", "age")):
    return tally.Case("x", "f", "d", names, mutate=lambda _: None, expect=expect)


def test_the_classifier():
    named = "children.csv row 3, column age: found a blank cell"
    assert tally.classify(_case(), _result(1, named), BASE)[0] == "clear error"
    assert tally.classify(_case(), _result(1, "children.csv: bad"), BASE)[0] == "unclear error"
    crash = "Traceback (most recent call last):\nValueError: boom"
    outcome, message, _ = tally.classify(_case(), _result(1, crash), BASE)
    assert (outcome, message) == ("traceback", "ValueError: boom")
    assert tally.classify(_case(), _result(None, ""), BASE)[0] == "traceback"
    warned = "OK\n  warning: children.csv row 3, column age: odd"
    assert tally.classify(_case(), _result(0, warned, dict(BASE)), BASE)[0] == "warning"
    same, dearer = dict(BASE), dict(BASE, total_cost_gbp=200.0)
    assert tally.classify(_case(), _result(0, "OK", same), BASE)[0] == "accepted, same answer"
    assert tally.classify(_case(), _result(0, "OK", dearer), BASE)[0] == "silent wrong answer"
    assert tally.classify(_case("refuse"), _result(0, "OK", same), BASE)[0] == (
        "silent wrong answer"
    )
    assert tally.classify(_case("plausible"), _result(0, "OK", dearer), BASE)[0] == (
        "accepted, plausible change"
    )


def test_no_child_data_in_messages():
    text = tally.scrub("C00001 at 376229, 390359 (M33 7XX)", "")
    assert text == "<child> at <number>, <number> (<postcode>)"


@pytest.mark.slow  # four real CLI runs (about a minute); the full tally is scripts/hostile_tally.py
def test_three_cases_run(tmp_path):
    out = tmp_path / "t.csv"
    names = ["children_blank_age", "children_bom", "site_budget_negative"]
    assert tally.main(["--out", str(out), *[a for n in names for a in ("--only", n)]]) == 0
    with out.open(encoding="utf-8") as fh:
        rows = {r["case"]: r for r in csv.DictReader(fh)}
    assert rows["clean"]["outcome"] == "accepted, same answer"
    assert rows["children_blank_age"]["outcome"] == "clear error"
    assert rows["children_bom"]["outcome"] == "accepted, same answer"
    assert rows["site_budget_negative"]["outcome"] == "clear error"
