"""Render the dataset format documentation from the schema tables and the Policy model."""

from __future__ import annotations

from optimiser.policy import Policy
from optimiser.schema.tables import TABLES

_HEADER = """# Dataset format

Generated from `optimiser/schema/tables.py` and `optimiser/policy.py` by
`python -m optimiser.schema` — do not edit by hand; a test checks it is current.

A dataset is a folder of CSV files (UTF-8, header row first) or one `.xlsx`
workbook with one sheet per table (sheet named as the file without `.csv`, and
an optional `policy` sheet with columns `key`, `value`). Coordinates are British
National Grid (EPSG:27700) metres; instead of `easting`/`northing` a table may
give `lon`/`lat` (WGS84) or `postcode` (looked up in the folder's
`postcodes.csv` with columns postcode, easting, northing or lon, lat; the
embedded Trafford ONSPD extract otherwise). Extra columns are kept.
Rows in error messages are spreadsheet rows (the header is row 1).

An optional `attribution.txt` in the folder holds the credit every output of the
dataset carries (maps, members' pack, workbook): the sources and licences of the
data, e.g. the Open Government Licence notice. Without it outputs say only
"Data: the <folder> dataset", never a source or licence the data do not state.
"""


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def render_markdown() -> str:
    """The whole data-format document as Markdown."""
    out = [_HEADER]
    for table in TABLES.values():
        need = "required" if table.required_file else "optional"
        out.append(f"\n## `{table.file}` ({need}): one row per {table.row_is}\n")
        if table.description:
            out.append(table.description + "\n")
        out.append("| column | type | unit | required | default | allowed | description |")
        out.append("|---|---|---|---|---|---|---|")
        for c in table.columns:
            allowed = (
                ", ".join(c.allowed)
                if c.allowed
                else ("" if c.min is None else f"{c.min:g}…{'' if c.max is None else f'{c.max:g}'}")
            )
            default = "" if c.required else _cell("blank" if c.default in (None, "") else c.default)
            out.append(
                f"| `{c.name}` | {c.dtype} | {_cell(c.unit)} | {'yes' if c.required else 'no'}"
                f" | {default} | {_cell(allowed)} | {_cell(c.description)} |"
            )
    out.append("\n## `policy.yaml` (optional): the LA's rules and rates\n")
    out.append("Any key left out takes the default below. Unknown keys are errors.\n")
    out.append("| key | default | description |")
    out.append("|---|---|---|")
    for name, field in Policy.model_fields.items():
        default = Policy().model_dump(mode="json")[name]
        out.append(f"| `{name}` | `{default}` | {_cell(field.description)} |")
    return "\n".join(out) + "\n"
