"""``optimiser template DIR``: blank tables headed by the schema, a described workbook, a README."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser._errors import OutputExistsError
from optimiser.cli.app import app
from optimiser.dataset.template import TEMPLATE_WORKBOOK, template_tables, write_template
from optimiser.schema import TABLES

runner = CliRunner()


def _fill(template: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` under the template's header (columns the rows lack stay blank)."""
    return rows.reindex(columns=template.columns).astype(object).fillna("")


def test_template_writes_one_headed_csv_per_table_and_a_readme(tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    res = runner.invoke(app, ["template", str(out)])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in out.iterdir())
    tables = [t for t in TABLES.values() if t.file.endswith(".csv")]
    assert files == sorted([t.file for t in tables] + [TEMPLATE_WORKBOOK, "README.md"])
    for table in tables:
        assert (out / table.file).read_text(encoding="utf-8") == ",".join(table.names) + "\n"
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "optimiser validate" in readme and "`settings.csv`" in readme
    assert "optimiser import ons" in readme  # where the ward boundaries come from
    assert "do not edit by hand" not in readme  # the docs' own note is left out


def test_workbook_has_a_sheet_per_table_with_described_headers(tmp_path: Path) -> None:
    write_template(tmp_path / "tpl")
    book = openpyxl.load_workbook(tmp_path / "tpl" / TEMPLATE_WORKBOOK)
    assert book.sheetnames == ["README", *(t.name for t in template_tables()), "policy"]
    for table in template_tables():
        sheet = book[table.name]
        header = [c.value for c in sheet[1]]
        assert header == table.names
        for cell, col in zip(sheet[1], table.columns, strict=True):
            assert cell.comment is not None, (table.name, col.name)
            assert cell.comment.text.startswith(col.name)
            assert col.expected() in cell.comment.text
    total = book["settings"]["J1"]
    assert total.value == "total_places" and "[places]" in total.comment.text
    assert "Required on every row" in total.comment.text
    in_area = book["settings"]["K1"]
    assert in_area.value == "in_area" and "a blank cell means true" in in_area.comment.text


def test_non_empty_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    res = runner.invoke(app, ["template", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "already exists and is not empty" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    with pytest.raises(OutputExistsError):
        write_template(out)
    write_template(tmp_path / "empty_ok")  # an empty (or absent) folder is fine


def test_filled_csv_template_loads(tmp_path: Path, tiny_path: Path) -> None:
    out = tmp_path / "tpl"
    write_template(out)
    for name in ("packages", "settings", "places", "children", "costing_framework"):
        file = TABLES[name].file
        rows = pd.read_csv(tiny_path / file, dtype=str, keep_default_na=False)
        header = pd.read_csv(out / file, dtype=str)
        _fill(header, rows).to_csv(out / file, index=False, lineterminator="\n")
    ds = optimiser.load_dataset(out)  # candidates.csv left as a header only
    tiny = optimiser.load_dataset(tiny_path)
    assert ds.settings["setting_id"].tolist() == tiny.settings["setting_id"].tolist()
    pd.testing.assert_frame_equal(ds.places, tiny.places)
    assert optimiser.allocate(ds).objective == optimiser.allocate(tiny).objective


def test_filled_workbook_loads(tmp_path: Path, tiny_path: Path) -> None:
    write_template(tmp_path / "tpl")
    path = tmp_path / "tpl" / TEMPLATE_WORKBOOK
    book = openpyxl.load_workbook(path)
    for name in ("packages", "settings", "places", "children", "costing_framework"):
        rows = pd.read_csv(tiny_path / TABLES[name].file, dtype=str, keep_default_na=False)
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        for values in _fill(pd.DataFrame(columns=header), rows).itertuples(index=False):
            sheet.append([v if v != "" else None for v in values])
    book.save(path)
    ds = optimiser.load_dataset(path)
    tiny = optimiser.load_dataset(tiny_path)
    assert len(ds.children) == len(tiny.children)
    assert optimiser.allocate(ds).objective == optimiser.allocate(tiny).objective
