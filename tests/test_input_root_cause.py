"""Hostile and careless input, root cause first (issue 12): one problem per cause.

Each case breaks a copy of the default (Trafford, synthetic) dataset in ``tmp_path``:
the load must fail (or warn) with one problem naming file, row and column, what was
found, what was expected and the fix; no traceback, inputs untouched, and no child's
id, postcode or coordinates in any message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app

DEFAULT = Path(optimiser.__file__).resolve().parents[1] / "data" / "trafford"
runner = CliRunner()


@pytest.fixture
def default_copy(default_ds, broken_copy) -> Path:
    """A writable copy of the default dataset folder."""
    return broken_copy(DEFAULT, name="trafford")


def load_problems(folder: Path) -> tuple[str, list[optimiser.Problem]]:
    """Message and problems of the DataValidationError that loading ``folder`` raises."""
    with pytest.raises(optimiser.DataValidationError) as info:
        optimiser.load_dataset(folder)
    return str(info.value), info.value.problems


def errors(problems: list[optimiser.Problem]) -> list[optimiser.Problem]:
    return [p for p in problems if p.severity == "error"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def cli_output(folder: Path) -> str:
    """``optimiser validate``: exit 1, no traceback; the output on one line."""
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def assert_no_child_data(text: str, folder: Path) -> None:
    """No child id, easting or northing of children.csv appears in ``text``."""
    kids = pd.read_csv(DEFAULT / "children.csv", dtype=str, keep_default_na=False)
    for column in ("child_id", "easting", "northing"):
        for value in kids[column].head(50):
            assert value not in text, (column, "a child's value in a message")


def rename_header(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    head, rest = path.read_text(encoding="utf-8").split("\n", 1)
    names = head.split(",")
    assert old in names
    path.write_text(",".join(new if n == old else n for n in names) + "\n" + rest, "utf-8")


# --- 1. a misspelt required header is one problem, not one per cell ---------------------


@pytest.mark.parametrize(
    ("file", "right", "wrong"),
    [
        ("children.csv", "northing", "nothing"),
        ("settings.csv", "northing", "nothing"),
        ("children.csv", "easting", "eastin"),
        ("settings.csv", "setting_id", "settingid"),
        ("packages.csv", "package_id", "packageid"),
        ("places.csv", "setting_id", "setting"),
        ("places.csv", "places", "place"),
        ("settings.csv", "setting_type", "settingtype"),
    ],
)
def test_misspelt_required_header_is_one_problem(default_copy, file, right, wrong):
    rename_header(default_copy, file, right, wrong)
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [(file, None, right)]
    assert (
        f"unknown column {wrong!r} — did you mean {right!r}? (required column {right!r} "
        "is missing)" in msg
    )
    assert f"rename column {wrong!r} to {right}" in msg
    assert snapshot(default_copy) == before
    out = cli_output(default_copy)
    assert "1 problem(s)" in out
    assert_no_child_data(out, default_copy)


def test_missing_coordinate_columns_are_one_problem_each(default_copy, edit_csv):
    edit_csv(default_copy, "children.csv", lambda f: f.drop(columns=["easting", "northing"]))
    _, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("children.csv", None, "easting"),
        ("children.csv", None, "northing"),
    ]


def test_missing_settings_file_does_not_blame_every_place(default_copy):
    (default_copy / "settings.csv").unlink()
    _, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in errors(problems)] == [("settings.csv", None, "")]


# --- 5. huge numbers are refused against one bound per quantity -------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "bound"),
    [
        ("places.csv", 3, "places", "1e30", "from 0 to 10000 [places]"),
        ("places.csv", 3, "annual_cost_gbp", "1e30", "from 0 to 5000000 [GBP/yr]"),
        ("places.csv", 3, "annual_cost_gbp", "45000050", "5000000"),  # £450,000.50, no point
        ("settings.csv", 3, "total_places", "1e30", "from 0 to 10000 [places]"),
        ("costing_framework.csv", 3, "annual_cost_gbp", "1e30", "from 0 to 5000000 [GBP/yr]"),
        ("costing_framework.csv", 3, "annual_cost_gbp", "inf", "finite number"),
        ("candidates.csv", 3, "max_places", "1e30", "from 0 to 10000 [places]"),
        ("candidates.csv", 3, "capital_cost_gbp_per_place", "inf", "finite number"),
        ("children.csv", 3, "age", "1e30", "from 0 to 25 [years]"),
    ],
)
def test_huge_numbers_are_refused_with_their_bound(
    default_copy, set_cell, file, row, column, value, bound
):
    set_cell(default_copy, file, row, column, value)
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in errors(problems)] == [(file, row, column)]
    assert bound in msg
    assert "typo" in msg or "finite" in msg
    assert snapshot(default_copy) == before
    assert_no_child_data(cli_output(default_copy), default_copy)


def test_input_tables_and_scenarios_share_one_bound_per_quantity():
    from optimiser import policy
    from optimiser.scenarios import changes
    from optimiser.schema import TABLES

    assert changes.MAX_PLACES is policy.MAX_PLACES
    assert changes.MAX_PLACE_COST_GBP is policy.MAX_PLACE_COST_GBP
    assert TABLES["places"].column("places").max == policy.MAX_PLACES
    assert TABLES["places"].column("annual_cost_gbp").max == policy.MAX_PLACE_COST_GBP
    assert TABLES["costing_framework"].column("annual_cost_gbp").max == policy.MAX_PLACE_COST_GBP


# --- 3. a semicolon-separated CSV (Excel in a European locale) ----------------------------


@pytest.mark.parametrize("file", ["children.csv", "settings.csv", "places.csv"])
@pytest.mark.parametrize(("sep", "word"), [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_separated_csv_is_one_problem(default_copy, file, sep, word):
    path = default_copy / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "annual_cost_gbp" in frame:  # as Excel writes it there: decimal commas
        frame["annual_cost_gbp"] = frame["annual_cost_gbp"].str.replace(".", ",")
    frame.to_csv(path, sep=sep, index=False)
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [(file, 1, "")]
    header = sep.join(frame.columns)
    shown = header if len(header) <= 80 else header[:79] + "…"
    assert f"found a {word}-separated file (one column named {shown!r})" in msg
    assert "save it as comma-separated" in msg
    assert snapshot(default_copy) == before
    assert_no_child_data(cli_output(default_copy), default_copy)


def test_commas_inside_quoted_cells_are_not_a_separator_problem(default_copy):
    # settings.csv's assumption column holds ';' and ',' inside quotes: still comma CSV
    ds = optimiser.load_dataset(default_copy)
    assert ds.settings["assumption"].str.contains(";").any()


# --- 4. blank rows ----------------------------------------------------------------------


@pytest.mark.parametrize("file", ["children.csv", "settings.csv", "places.csv", "packages.csv"])
def test_trailing_blank_rows_are_ignored(default_copy, file):
    path = default_copy / file
    n_cols = len(path.read_text(encoding="utf-8").split("\n", 1)[0].split(","))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(("," * (n_cols - 1) + "\n") * 5 + "\n\n" + " , ,\n")
    ds = optimiser.load_dataset(default_copy)
    clean = optimiser.load_dataset(DEFAULT)
    table = file.removesuffix(".csv")
    assert len(getattr(ds, table)) == len(getattr(clean, table))
    assert optimiser.validate(ds) == optimiser.validate(clean)


def test_blank_rows_in_the_middle_are_one_problem_and_rows_keep_their_numbers(
    default_copy, set_cell
):
    set_cell(default_copy, "places.csv", 40, "places", "-1")  # a real error below the gap
    path = default_copy / "places.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[5:5] = [",,,"]  # a blank row 6
    lines[10:10] = [""]  # an empty line, row 11
    path.write_text("\n".join(lines), encoding="utf-8")
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in errors(problems)] == [
        ("places.csv", None, ""),
        ("places.csv", 42, "places"),  # row 40 before two rows went in above it
    ]
    assert "2 blank row(s) between the data rows (row 6, 11)" in msg
    assert "delete the blank rows" in msg
    assert snapshot(default_copy) == before


# --- 2. longitude/latitude where grid metres belong, or lon and lat swapped -------------


def _to_degrees(frame: pd.DataFrame, *, lat_first: bool) -> tuple[list[str], list[str]]:
    from optimiser.geography import lonlat_from_bng

    lon, lat = lonlat_from_bng(frame["easting"].astype(float), frame["northing"].astype(float))
    lon_s, lat_s = [f"{v:.6f}" for v in lon], [f"{v:.6f}" for v in lat]
    return (lat_s, lon_s) if lat_first else (lon_s, lat_s)


@pytest.mark.parametrize("file", ["children.csv", "settings.csv"])
@pytest.mark.parametrize("lat_first", [False, True], ids=["lon-lat", "lat-lon"])
def test_degrees_in_easting_northing_is_one_problem_per_file(
    default_copy, edit_csv, file, lat_first
):
    def degrees(frame: pd.DataFrame) -> pd.DataFrame:
        frame["easting"], frame["northing"] = _to_degrees(frame, lat_first=lat_first)
        return frame

    edit_csv(default_copy, file, degrees)
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [(file, None, "easting, northing")]
    assert "look like longitude and latitude in degrees" in msg
    assert "EPSG:27700" in msg and "pyproj" in msg
    lon_col, lat_col = ("northing", "easting") if lat_first else ("easting", "northing")
    assert f"rename column {lon_col} to lon and {lat_col} to lat" in msg
    assert snapshot(default_copy) == before
    out = cli_output(default_copy)
    assert_no_child_data(out, default_copy)
    # the fix it names works
    edit_csv(default_copy, file, lambda f: f.rename(columns={lon_col: "lon", lat_col: "lat"}))
    ds = optimiser.load_dataset(default_copy)
    clean = optimiser.load_dataset(DEFAULT)
    table = file.removesuffix(".csv")
    got, want = getattr(ds, table), getattr(clean, table)
    assert (got["easting"] - want["easting"]).abs().max() < 2.0


@pytest.mark.parametrize("file", ["children.csv", "settings.csv"])
def test_swapped_lon_lat_columns_never_blame_easting(default_copy, edit_csv, file):
    def swapped(frame: pd.DataFrame) -> pd.DataFrame:
        frame["lon"], frame["lat"] = _to_degrees(frame, lat_first=True)
        return frame.drop(columns=["easting", "northing"])

    edit_csv(default_copy, file, swapped)
    before = snapshot(default_copy)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [(file, None, "lon, lat")]
    assert "lon and lat the wrong way round" in msg
    assert "swap the headers of the lon and lat columns" in msg
    assert "easting" not in msg
    assert snapshot(default_copy) == before
    assert_no_child_data(cli_output(default_copy), default_copy)


def test_one_bad_child_lon_lat_is_that_row_only_and_not_shown(default_copy, edit_csv):
    def one_bad(frame: pd.DataFrame) -> pd.DataFrame:
        frame["lon"], frame["lat"] = _to_degrees(frame, lat_first=False)
        frame.loc[3, ["lon", "lat"]] = ["53.41", "-2.31"]  # this row typed the wrong way
        frame.loc[5, ["lon", "lat"]] = ["abc", "53.4"]
        return frame.drop(columns=["easting", "northing"])

    edit_csv(default_copy, "children.csv", one_bad)
    msg, problems = load_problems(default_copy)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("children.csv", 5, "lon, lat"),
        ("children.csv", 7, "lon, lat"),
    ]
    assert "swap the lon and lat cells" in msg
    for text in ("53.41", "-2.31", "abc", "53.4"):
        assert text not in msg


# --- 6. XLSX: formulas with no saved value, merged cells --------------------------------


@pytest.fixture(scope="module")
def _saved_book(tiny_path, tmp_path_factory) -> Path:
    """The tiny dataset saved as one workbook, once per module (never edited).

    Tiny, not the default data: each check below is about one cell, one merged range or
    the rows after the last (formula, merge and blank-row handling is per cell and per
    sheet, the same at 6 rows as at 2,000), and openpyxl reading and writing the default
    data's 2,000-row sheets cost ~4 s a test.
    """
    folder = tmp_path_factory.mktemp("book")
    return optimiser.save_dataset(optimiser.load_dataset(tiny_path), folder / "plan.xlsx")


@pytest.fixture
def default_book(_saved_book, tmp_path) -> Path:
    """The tiny dataset saved as one workbook (in its own folder): a copy of the
    module's save, the same files byte for byte, for the test to edit."""
    shutil.copytree(_saved_book.parent, tmp_path / "book")
    return tmp_path / "book" / _saved_book.name


def _header(ws) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1]}


def test_formula_with_no_saved_value_is_a_problem_naming_sheet_row_column(default_book):
    import openpyxl

    wb = openpyxl.load_workbook(default_book)
    places, settings = wb["places"], wb["settings"]
    places.cell(row=5, column=_header(places)["places"], value="=C4*2")  # openpyxl saves no value
    settings.cell(row=4, column=_header(settings)["total_places"], value="=SUM(J2:J3)")
    wb.save(default_book)
    before = default_book.read_bytes()
    msg, problems = load_problems(default_book)
    assert sorted((p.file, p.row, p.column) for p in errors(problems)) == [
        ("plan.xlsx:places", 5, "places"),
        ("plan.xlsx:settings", 4, "total_places"),
    ]
    assert "found a formula with no saved value" in msg
    assert "open and save the file in Excel" in msg and "paste them as values" in msg
    assert default_book.read_bytes() == before
    assert_no_child_data(cli_output(default_book), default_book.parent)


def test_formula_with_a_saved_value_is_read(default_book):
    import zipfile

    import openpyxl

    wb = openpyxl.load_workbook(default_book)
    ws = wb["places"]
    ws.cell(row=5, column=_header(ws)["places"], value="=1+1")
    wb.save(default_book)
    # give the formula a cached value, as Excel does on save: <f>1+1</f><v>2</v>
    tmp = default_book.with_suffix(".tmp")
    with zipfile.ZipFile(default_book) as src, zipfile.ZipFile(tmp, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>")
                data = data.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
                data = data.replace(b"<f>1+1</f></c>", b"<f>1+1</f><v>2</v></c>")
            dst.writestr(item, data)
    tmp.replace(default_book)
    ds = optimiser.load_dataset(default_book)
    assert int(ds.places.at[3, "places"]) == 2


def test_merged_cells_are_one_problem_naming_the_range(default_book):
    import openpyxl

    wb = openpyxl.load_workbook(default_book)
    ws = wb["places"]
    col = _header(ws)["setting_id"]
    ids = [ws.cell(row=r, column=col).value for r in range(1, ws.max_row + 1)]
    top = next(r for r in range(2, len(ids)) if ids[r - 1] == ids[r])  # rows top, top + 1 alike
    letter = openpyxl.utils.get_column_letter(col)
    ws.merge_cells(f"{letter}{top}:{letter}{top + 1}")  # as a planner groups a setting's rows
    wb.save(default_book)
    msg, problems = load_problems(default_book)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("plan.xlsx:places", top, "setting_id")
    ]
    assert f"found merged cells {letter}{top}:{letter}{top + 1}" in msg
    assert "unmerge the cells" in msg


def test_trailing_blank_rows_of_a_sheet_are_ignored(default_book, tiny):
    import openpyxl

    wb = openpyxl.load_workbook(default_book)
    ws = wb["children"]
    last = ws.max_row
    for r in range(last + 1, last + 4):  # cells typed, then cleared: rows of empty strings
        ws.cell(row=r, column=1, value=" ")
    wb.save(default_book)
    ds = optimiser.load_dataset(default_book)
    assert len(ds.children) == len(tiny.children)


# --- found by scripts/hostile_tally.py: tracebacks and silent answers it measured ----------


@pytest.mark.parametrize("name", ["children.csv", "policy.yaml"])
def test_a_folder_where_a_file_belongs_is_one_problem(default_copy, name):
    (default_copy / name).unlink()
    (default_copy / name).mkdir()
    message, problems = load_problems(default_copy)
    assert [(p.file, p.severity) for p in problems] == [(name, "error")]
    assert "a folder named" in message
    assert "a folder named" in cli_output(default_copy)


def test_a_nul_byte_is_refused_naming_its_row(default_copy):
    path = default_copy / "children.csv"
    data = path.read_bytes()
    cut = data.index(b"\n", data.index(b"\n") + 1) + 5  # inside row 3
    path.write_bytes(data[:cut] + b"\x00" + data[cut:])
    before = snapshot(default_copy)
    _, problems = load_problems(default_copy)
    nul = [p for p in errors(problems) if "NUL" in p.found]
    assert [(p.file, p.row) for p in nul] == [("children.csv", 3)]
    assert snapshot(default_copy) == before


def _warnings(folder: Path) -> list[optimiser.Problem]:
    return [
        p for p in optimiser.validate(optimiser.load_dataset(folder)) if p.severity == "warning"
    ]


def test_a_misspelt_optional_column_filled_from_elsewhere_is_still_named(default_copy, edit_csv):
    # annual_cost for annual_cost_gbp: the national framework fills the fees, so the column
    # is not blank, but every fee the file gives would be ignored without a word
    edit_csv(
        default_copy, "places.csv", lambda f: f.rename(columns={"annual_cost_gbp": "annual_cost"})
    )
    found = [p for p in _warnings(default_copy) if p.column == "annual_cost"]
    assert found and "did you mean 'annual_cost_gbp'" in found[0].found


def test_suspicious_values_are_warnings_naming_rows(default_copy, edit_csv):
    def age0(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[3, "age"] = "0"
        return f

    edit_csv(default_copy, "children.csv", age0)
    settings = pd.read_csv(default_copy / "settings.csv", dtype=str)
    inmss = set(settings.loc[settings["setting_type"] == "independent_special", "setting_id"])

    def fee0(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[f["setting_id"].isin(inmss)][0], "annual_cost_gbp"] = "0"
        return f

    edit_csv(default_copy, "places.csv", fee0)
    text = " ".join(str(p) for p in _warnings(default_copy))
    assert "children.csv row 5, column age: found an age under 2" in text
    assert "a £0 fee at an INMSS or specialist post-16 setting" in text
    assert_no_child_data(text, default_copy)


def test_no_children_is_a_warning(default_copy, edit_csv):
    edit_csv(default_copy, "children.csv", lambda f: f.head(0))
    assert any("no children" in p.found for p in _warnings(default_copy))


def test_extends_naming_a_missing_file_names_the_scenario_that_says_so(tmp_path):
    (tmp_path / "option.yaml").write_text("name: a\nextends: nothing.yaml\nchanges: []\n")
    with pytest.raises(optimiser.DataValidationError) as info:
        optimiser.load_scenario(tmp_path / "option.yaml")
    (p,) = info.value.problems
    assert (p.file, p.column) == ("option.yaml", "key extends")
    assert "nothing.yaml" in p.found
