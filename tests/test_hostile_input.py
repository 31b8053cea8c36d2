"""Hostile and careless input (issue 12): each case is a clear problem, never a traceback.

Every error names the file, the row and the column and says how to fix it; the
inputs are never changed; a child's coordinates are never quoted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.policy import load_policy
from optimiser.scenarios.scenario import load_scenario

runner = CliRunner()

BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)
ALIAS_MSG = r"anchors/aliases \(&, \*\) are not allowed; write the values out"


def validate_cli(path: Path) -> str:
    """Run ``optimiser validate PATH``: it must fail with exit 1 and no traceback."""
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


# --- 1. YAML alias bomb -------------------------------------------------------------------


def test_alias_bomb_policy_is_refused_at_once(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(BOMB, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(optimiser.DataValidationError, match=ALIAS_MSG) as info:
        load_policy(path)
    assert time.perf_counter() - start < 0.5
    assert "policy.yaml row 1" in str(info.value)


def test_alias_bomb_in_a_dataset_folder_fails_validate(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text(BOMB, encoding="utf-8")
    before = (folder / "policy.yaml").read_bytes()
    out = validate_cli(folder)
    assert "policy.yaml row 1" in out
    assert "write the values out" in out
    assert (folder / "policy.yaml").read_bytes() == before


def test_any_alias_in_a_scenario_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nchanges:\n  - close_setting: &c {setting_id: S1}\n  - close_setting: *c\n",
        encoding="utf-8",
    )
    with pytest.raises(optimiser.DataValidationError, match=ALIAS_MSG) as info:
        load_scenario(path)
    assert "s.yaml row 3" in str(info.value)


def test_alias_in_a_workbook_policy_sheet_is_a_problem(tiny, tmp_path):
    import openpyxl

    book = optimiser.save_dataset(tiny, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["policy"]
    ws.append(["transport", "{minibus: &m {seats: 12}, shared_taxi: *m}"])
    wb.save(book)
    with pytest.raises(optimiser.DataValidationError, match=ALIAS_MSG) as info:
        optimiser.load_dataset(book)
    assert f"plan.xlsx:policy row {ws.max_row}" in str(info.value)
