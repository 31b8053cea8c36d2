"""Blank dataset templates for LAs that prefer to fill the tables in by hand.

:func:`write_template` writes into a new (or empty) folder:

* one empty CSV per table of :data:`optimiser.schema.TABLES` (``wards.geojson`` aside: a
  boundary file comes from ONS, see ``optimiser import ons``), headed with the schema's
  columns in order;
* ``dataset.xlsx``: the same tables as sheets (named as the files without ``.csv``) and an
  empty ``policy`` sheet (key, value), each header cell carrying a comment that describes
  its column (type, unit, required or default, allowed values); a ``README`` sheet first;
* ``README.md``: what to fill in, and the column reference (``docs/data-format.md``).

A filled-in folder (or the filled workbook) loads with :func:`optimiser.load_dataset`.
Nothing is overwritten: a folder that holds anything is refused.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from optimiser._errors import OutputExistsError
from optimiser._outputs import XLSX_TEXT_OPTIONS, atomic_outputs
from optimiser.schema._columns import Column, Table
from optimiser.schema.docs import render_markdown
from optimiser.schema.tables import TABLES

__all__ = ["TEMPLATE_WORKBOOK", "column_comment", "template_tables", "write_template"]

#: Name of the workbook in a template folder.
TEMPLATE_WORKBOOK = "dataset.xlsx"
_README = """# Dataset template

Written by `optimiser template`. Fill in either the CSV files or `{book}` (one sheet per
table; hover over a header cell for what its column holds), not both, then check it:

```bash
optimiser validate {folder}            # the CSV files
optimiser validate {folder}/{book}     # or the workbook
```

Required: `packages.csv`, `settings.csv`, `places.csv`, `children.csv` (one row per child:
pseudonymous ids only, never names or UPNs). The other tables are optional; an optional CSV
left with only its header row is read as empty. Keep the header row as it is; extra columns
are kept but not used. Rows in every message are spreadsheet rows (the header is row 1).

* `policy.yaml` is not written: without one every rule takes its default (listed at the
  end of this file). Copy one from `optimiser init` or `data/trafford/policy.yaml` to change
  a rule, or fill the workbook's `policy` sheet (columns key, value).
* Ward boundaries (`wards.geojson`) come from ONS as they are published:
  `optimiser import ons Wards_May_2024_Boundaries.geojson --into {folder}`.
* Schools' ages, capacities and resourced provision come from a GIAS download:
  `optimiser import gias edubasealldata.csv --la CODE --into {folder}` (see docs/imports.md).

"""


def template_tables() -> list[Table]:
    """The tables a template holds, in schema order (every table except the ward boundaries)."""
    return [t for t in TABLES.values() if not t.file.endswith(".geojson")]


def column_comment(table: Table, col: Column) -> str:
    """The header comment of one column: what it holds, its type and unit, required/default."""
    lines = [f"{col.name}: {col.description}" if col.description else col.name]
    lines.append(f"Type: {col.expected()}")
    if col.dtype == "bool":
        lines.append("Write true or false.")
    if col.required:
        lines.append("Required on every row.")
    else:
        default = "blank" if col.default in (None, "") else str(col.default).lower()
        lines.append(f"Optional: a blank cell means {default}.")
    if col.unique:
        lines.append(f"Unique: one row per {table.row_is}.")
    if col.personal:
        lines.append("Personal data: stays in this folder; never in published outputs.")
    return "\n".join(lines)


def _readme_text(folder: Path) -> str:
    body = render_markdown().split("\n", 1)[1]  # the column reference, without its title
    body = body.split("\n\n", 1)[1]  # nor its note on how the docs are generated
    return _README.format(folder=folder, book=TEMPLATE_WORKBOOK) + "## Columns\n\n" + body


def _csv_header(table: Table) -> str:
    return ",".join(table.names) + "\n"


def _write_workbook(path: Path, tables: list[Table], readme: str) -> None:
    book = xlsxwriter.Workbook(str(path), XLSX_TEXT_OPTIONS)
    try:
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        need = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        text = book.add_format({"text_wrap": True, "valign": "top"})
        about = book.add_worksheet("README")
        about.set_column(0, 0, 110, text)
        for r, line in enumerate(readme.split("\n## Columns", 1)[0].splitlines()):
            about.write_string(r, 0, line)
        for table in tables:
            sheet = book.add_worksheet(table.name)
            sheet.freeze_panes(1, 0)
            for c, col in enumerate(table.columns):
                sheet.write_string(0, c, col.name, need if col.required else head)
                sheet.write_comment(
                    0, c, column_comment(table, col), {"x_scale": 2.4, "y_scale": 1.6}
                )
                sheet.set_column(c, c, max(12, len(col.name) + 4))
        policy = book.add_worksheet("policy")
        for c, name in enumerate(("key", "value")):
            policy.write_string(0, c, name, head)
        policy.write_comment(0, 0, "A policy.yaml key, e.g. speed_kmh (docs/data-format.md)")
        policy.write_comment(0, 1, "Its value; keys left out take their defaults")
        policy.set_column(0, 1, 30)
    finally:
        book.close()


def write_template(folder: str | Path) -> list[Path]:
    """Write a blank dataset template into ``folder`` (created; must be absent or empty).

    Returns
    -------
    The paths written: one CSV per table, ``dataset.xlsx`` and ``README.md``.

    Raises
    ------
    OutputExistsError
        when ``folder`` is a file or holds anything (nothing is overwritten).
    """
    folder = Path(folder)
    if folder.exists() and (folder.is_file() or any(folder.iterdir())):
        msg = f"{folder} already exists and is not empty; choose a new folder so nothing is lost"
        raise OutputExistsError(msg)
    tables = template_tables()
    readme = _readme_text(folder)
    paths = [folder / t.file for t in tables] + [folder / TEMPLATE_WORKBOOK, folder / "README.md"]
    with atomic_outputs(*paths) as temps:
        for table, tmp in zip(tables, temps, strict=False):
            tmp.write_text(_csv_header(table), encoding="utf-8")
        _write_workbook(temps[-2], tables, readme)
        temps[-1].write_text(readme, encoding="utf-8")
    return paths
