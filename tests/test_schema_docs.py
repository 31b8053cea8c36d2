"""docs/data-format.md is generated from the schema and kept current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser.policy import Policy
from optimiser.schema import SETTING_TYPES, TABLES
from optimiser.schema.docs import render_markdown

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "data-format.md"


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(text: str, heading_start: str) -> str:
    """Text of the section whose '## ' heading starts with ``heading_start``."""
    parts = re.split(r"\n(?=## )", text)
    found = [p for p in parts if p.startswith(heading_start)]
    assert len(found) == 1, f"expected one section {heading_start!r}, found {len(found)}"
    return found[0]


def test_doc_is_current(doc_text):
    assert doc_text == render_markdown(), (
        "docs/data-format.md is stale: regenerate it with `python -m optimiser.schema`"
    )


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_every_schema_column_is_documented_in_its_table(doc_text, table):
    section = _section(doc_text, f"## `{table.file}`")
    need = "required" if table.required_file else "optional"
    assert f"({need})" in section.splitlines()[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = [re.match(r"\| `([^`]+)`", line).group(1) for line in rows]
    assert documented == table.names
    for col, line in zip(table.columns, rows, strict=True):
        assert f"| {col.dtype} |" in line
        assert ("| yes |" if col.required else "| no |") in line
        if col.description:
            assert col.description.replace("|", "\\|") in line


def test_every_policy_key_is_documented(doc_text):
    section = _section(doc_text, "## `policy.yaml`")
    for name in Policy.model_fields:
        assert f"| `{name}` |" in section, name


def test_every_setting_type_is_documented(doc_text):
    section = _section(doc_text, "## `settings.csv`")
    for kind in SETTING_TYPES:
        assert kind in section


def test_regenerate_command_writes_the_same_text(tmp_path):
    out = tmp_path / "data-format.md"
    proc = subprocess.run(
        [sys.executable, "-m", "optimiser.schema", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == render_markdown()
