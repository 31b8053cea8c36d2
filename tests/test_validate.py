"""Validation: one test per rule, each on the message and on the structured problems.

Rows are spreadsheet rows (header = row 1). Tiny fixture rows used below:
places.csv  2 S1×P1 (framework)  3 S1×P2 (framework)  4 S2×P1 (framework)  5 S3×P1 60000  6 S3×P2
settings.csv  2 S1 maintained_special  3 S2 inclusion_base (age 4-11)  4 S3 independent_special
children.csv  2 C1 … 7 C6 (row 5 = C4, continuing at S1 with P2)
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import optimiser
from optimiser import DataValidationError, DataWarning, load_dataset
from optimiser.schema import TABLES

TABLE_COLUMN = {(t.file, c.name): c for t in TABLES.values() for c in t.columns}


def load_problems(folder: Path, match: str) -> tuple[str, list]:
    """Message and problems of the DataValidationError that loading ``folder`` raises."""
    with pytest.raises(DataValidationError, match=match) as info:
        load_dataset(folder)
    return str(info.value), info.value.problems


def errors(problems: list) -> list[tuple]:
    return [(p.file, p.row, p.column) for p in problems if p.severity == "error"]


def append_row(edit_csv, folder: Path, file: str, row: dict[str, str]) -> None:
    edit_csv(
        folder, file, lambda f: pd.concat([f, pd.DataFrame([row])], ignore_index=True).fillna("")
    )


# --- files and columns ----------------------------------------------------------------------


@pytest.mark.parametrize("file", ["packages.csv", "settings.csv", "places.csv", "children.csv"])
def test_missing_required_file(broken_copy, file):
    folder = broken_copy()
    (folder / file).unlink()
    msg, problems = load_problems(folder, rf"{file}: found no such file")
    assert (file, None, "") in errors(problems)
    assert f"add {file}" in msg


def test_missing_required_file_is_reported_once(broken_copy):
    folder = broken_copy()
    (folder / "places.csv").unlink()
    _, problems = load_problems(folder, "places.csv")
    assert errors(problems) == [("places.csv", None, "")]


def test_optional_files_may_be_absent(broken_copy):
    folder = broken_copy()
    (folder / "costing_framework.csv").unlink()
    set_costs = folder / "places.csv"
    set_costs.write_text(
        "setting_id,package_id,places,annual_cost_gbp\nS1,P1,2,26000\n", encoding="utf-8"
    )
    (folder / "policy.yaml").unlink()
    ds = load_dataset(folder)
    assert len(ds.places) == 1


@pytest.mark.parametrize(
    ("file", "column"),
    [
        ("settings.csv", "total_places"),
        ("children.csv", "age"),
        ("places.csv", "places"),
        ("packages.csv", "name"),
        ("children.csv", "package_id"),
    ],
)
def test_missing_required_column(broken_copy, edit_csv, file, column):
    folder = broken_copy()
    edit_csv(folder, file, lambda f: f.drop(columns=column))
    msg, problems = load_problems(folder, rf"{file}, column {column}: found no such column")
    assert errors(problems) == [(file, None, column)]
    assert f"add a column headed {column}" in msg


def test_optional_column_absent_takes_default(broken_copy, edit_csv):
    folder = broken_copy()
    edit_csv(folder, "settings.csv", lambda f: f.drop(columns=["in_area", "urn"]))
    settings = load_dataset(folder).settings
    assert list(settings["in_area"]) == [True, True, True]
    assert settings["urn"].isna().all() and settings["urn"].dtype == "Int64"


# --- cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "expected"),
    [
        ("places.csv", 3, "places", "two", "a whole number"),
        ("places.csv", 3, "places", "2.5", "a whole number"),
        ("settings.csv", 4, "total_places", "lots", "a whole number"),
        ("places.csv", 2, "annual_cost_gbp", "cheap", "a number"),
        ("settings.csv", 3, "easting", "383k", "a number"),
        ("settings.csv", 2, "in_area", "maybe", "true or false"),
        ("packages.csv", 3, "placeholder", "perhaps", "true or false"),
    ],
)
def test_bad_typed_cell(broken_copy, set_cell, file, row, column, value, expected):
    folder = broken_copy()
    set_cell(folder, file, row, column, value)
    _, problems = load_problems(
        folder, rf"{file} row {row}, column {column}: found '{value}'; expected {expected}"
    )
    assert errors(problems) == [(file, row, column)]
    assert problems[0].found == repr(value)


@pytest.mark.parametrize(
    ("file", "row", "column"),
    [
        ("settings.csv", 3, "name"),
        ("children.csv", 4, "package_id"),
        ("places.csv", 3, "places"),
        ("packages.csv", 2, "name"),
    ],
)
def test_blank_required_cell(broken_copy, set_cell, file, row, column):
    folder = broken_copy()
    set_cell(folder, file, row, column, "")
    _, problems = load_problems(folder, rf"{file} row {row}, column {column}: found a blank cell")
    assert errors(problems) == [(file, row, column)]
    assert problems[0].fix == "fill in the cell"


def test_whitespace_only_cell_counts_as_blank(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 3, "name", "   ")
    _, problems = load_problems(folder, r"settings\.csv row 3, column name: found a blank cell")
    assert errors(problems) == [("settings.csv", 3, "name")]


# --- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "key", "row", "new_row"),
    [
        (
            "children.csv",
            "child_id",
            8,
            {
                "child_id": "C1",
                "package_id": "P1",
                "age": "6",
                "easting": "381000",
                "northing": "395000",
            },
        ),
        (
            "settings.csv",
            "setting_id",
            5,
            {
                "setting_id": "S1",
                "name": "Copy",
                "setting_type": "maintained_special",
                "easting": "380000",
                "northing": "395000",
                "age_min": "4",
                "age_max": "19",
                "total_places": "3",
            },
        ),
        ("packages.csv", "package_id", 4, {"package_id": "P1", "name": "Autism again"}),
    ],
)
def test_duplicate_ids(broken_copy, edit_csv, file, key, row, new_row):
    folder = broken_copy()
    append_row(edit_csv, folder, file, new_row)
    dup = new_row[key]
    msg, problems = load_problems(folder, rf"{file} row {row}, column {key}: found '{dup}' again")
    assert errors(problems) == [(file, row, key)]
    assert f"each {key} once" in msg


def test_duplicate_setting_package_in_places(broken_copy, edit_csv):
    folder = broken_copy()
    append_row(
        edit_csv,
        folder,
        "places.csv",
        {"setting_id": "S1", "package_id": "P1", "places": "3", "annual_cost_gbp": ""},
    )
    _, problems = load_problems(
        folder, r"places\.csv row 7, column package_id: found S1 × P1 again"
    )
    assert errors(problems) == [("places.csv", 7, "package_id")]


# --- foreign keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "bad", "target"),
    [
        ("places.csv", 5, "setting_id", "S9", "S9", "settings.csv"),
        ("places.csv", 5, "package_id", "P9", "P9", "packages.csv"),
        ("children.csv", 3, "package_id", "P9", "P9", "packages.csv"),
        ("children.csv", 2, "preferences", "S2;S8", "S8", "settings.csv"),
        ("children.csv", 4, "current_setting_id", "S7", "S7", "settings.csv"),
    ],
)
def test_foreign_keys(broken_copy, set_cell, file, row, column, value, bad, target):
    folder = broken_copy()
    set_cell(folder, file, row, column, value)
    msg, problems = load_problems(folder, rf"{file} row {row}, column {column}: found '{bad}'")
    assert errors(problems) == [(file, row, column)]
    assert target in msg


def test_preference_named_twice(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "children.csv", 2, "preferences", "S2;S1;S2")
    _, problems = load_problems(
        folder,
        r"children\.csv row 2, column preferences: found a "
        r"setting named twice",
    )
    assert errors(problems) == [("children.csv", 2, "preferences")]


def test_unknown_setting_does_not_produce_nan_in_messages(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 2, "setting_id", "S9")
    msg, problems = load_problems(folder, r"places\.csv row 2, column setting_id: found 'S9'")
    assert "nan" not in msg
    assert errors(problems) == [("places.csv", 2, "setting_id")]


# --- ranges and vocabularies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "found"),
    [
        ("places.csv", 2, "places", "-1", "found -1"),
        ("places.csv", 5, "annual_cost_gbp", "-5", "found -5"),
        ("settings.csv", 4, "easting", "900000", "found 900000"),
        ("settings.csv", 4, "northing", "-10", "found -10"),
        ("settings.csv", 2, "total_places", "-3", "found -3"),
        ("settings.csv", 2, "age_max", "26", "found 26"),
        ("children.csv", 4, "age", "31", "found a value"),
    ],
)
def test_out_of_range(broken_copy, set_cell, file, row, column, value, found):
    folder = broken_copy()
    set_cell(folder, file, row, column, value)
    msg, problems = load_problems(folder, rf"{file} row {row}, column {column}: {found}")
    assert errors(problems) == [(file, row, column)]
    assert TABLE_COLUMN[(file, column)].expected() in msg


def test_easting_outside_grid_fix_suggests_lon_lat(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 4, "easting", "900000")
    _, problems = load_problems(folder, r"expected a number from 0 to 700000")
    assert "lon/lat" in problems[0].fix


def test_age_min_above_age_max(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 3, "age_min", "12")
    _, problems = load_problems(
        folder,
        r"settings\.csv row 3, column age_min: found 12 above "
        r"age_max 11",
    )
    assert errors(problems) == [("settings.csv", 3, "age_min")]


def test_equal_ages_are_fine(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 3, "age_min", "11")
    assert load_dataset(folder).settings.loc[1, "age_min"] == 11


def test_unknown_setting_type(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 4, "setting_type", "academy")
    msg, problems = load_problems(
        folder,
        r"settings\.csv row 4, column setting_type: found "
        r"'academy'; expected one of maintained_special",
    )
    assert errors(problems) == [("settings.csv", 4, "setting_type")]
    assert "independent_special" in msg


def test_blank_cost_without_framework_row(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 5, "annual_cost_gbp", "")
    _, problems = load_problems(
        folder,
        r"places\.csv row 5, column annual_cost_gbp: found a blank "
        r"cost with no framework row for P1 × independent_special",
    )
    assert errors(problems) == [("places.csv", 5, "annual_cost_gbp")]


# --- unreadable files -------------------------------------------------------------------------


def test_empty_file(broken_copy):
    folder = broken_copy()
    (folder / "children.csv").write_bytes(b"")
    msg, problems = load_problems(folder, r"children\.csv: found an empty file")
    assert errors(problems) == [("children.csv", None, "")]
    assert "header row" in msg


def test_header_only_packages(broken_copy):
    folder = broken_copy()
    (folder / "packages.csv").write_text(
        "package_id,name,group,description,placeholder\n", encoding="utf-8"
    )
    _, problems = load_problems(folder, r"packages\.csv: found no data rows")
    assert ("packages.csv", None, "") in errors(problems)


def test_header_only_children_is_allowed(broken_copy, tiny):
    folder = broken_copy()
    header = ",".join(tiny.children.columns)
    (folder / "children.csv").write_text(header + "\n", encoding="utf-8")
    assert len(load_dataset(folder).children) == 0


def test_latin1_file(broken_copy):
    folder = broken_copy()
    path = folder / "settings.csv"
    path.write_bytes(
        path.read_text(encoding="utf-8").replace("Independent C", "Indépendant C").encode("latin-1")
    )
    _, problems = load_problems(folder, r"settings\.csv: found a byte that is not UTF-8")
    assert errors(problems)[0] == ("settings.csv", None, "")
    assert "UTF-8" in problems[0].fix


def test_utf8_with_bom_is_fine(broken_copy):
    folder = broken_copy()
    path = folder / "settings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_dataset(folder).settings.columns[0] == "setting_id"


MALFORMED = {
    "too many cells": "setting_id,package_id,places,annual_cost_gbp\nS1,P1,2,\nS1,P2,2,,,,\n",
    "unclosed quote": 'setting_id,package_id,places,annual_cost_gbp\nS1,P1,2,\nS1,"P2,2,\n',
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_csv(broken_copy, text):
    folder = broken_copy()
    (folder / "places.csv").write_text(text, encoding="utf-8")
    msg, problems = load_problems(folder, r"places\.csv row 3: found malformed CSV")
    assert errors(problems) == [("places.csv", 3, "")]
    assert "Traceback" not in msg


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_csv_names_the_row(broken_copy, text):
    folder = broken_copy()
    (folder / "places.csv").write_text(text, encoding="utf-8")
    _, problems = load_problems(folder, r"places\.csv")
    assert problems[0].row == 3


# --- policy.yaml ------------------------------------------------------------------------------


def test_policy_bad_yaml_syntax_gives_line(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text(
        "detour_factor: 1.3\nspeed_kmh: 24\nschool_days_per_year: 190: 5\n", encoding="utf-8"
    )
    _, problems = load_problems(folder, r"policy\.yaml row 3: found malformed YAML")
    assert errors(problems) == [("policy.yaml", 3, "")]


def test_policy_unknown_key(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text("detour_factor: 1.3\nspeed_kmph: 24\n", encoding="utf-8")
    _, problems = load_problems(folder, r"policy\.yaml, key speed_kmph: found 24")
    assert errors(problems) == [("policy.yaml", None, "key speed_kmph")]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("detour_factor: fast\n", "detour_factor"),
        ("max_travel_min: {primary: soon}\n", "max_travel_min.primary"),
        ("school_days_per_year: 400\n", "school_days_per_year"),
        ("continuity: sometimes\n", "continuity"),
    ],
)
def test_policy_wrong_type_or_range(broken_copy, text, key):
    folder = broken_copy()
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    _, problems = load_problems(folder, rf"policy\.yaml, key {key}: found")
    assert errors(problems) == [("policy.yaml", None, f"key {key}")]


def test_policy_preference_penalties_must_rise(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text(
        "preference_penalty_gbp: [0, 5000, 3000]\n", encoding="utf-8"
    )
    _, problems = load_problems(
        folder,
        r"preference_penalty_gbp must be non-negative and rise "
        r"with rank",
    )
    assert [(p.file, p.row) for p in problems] == [("policy.yaml", None)]
    assert problems[0].column.startswith("key ")


def test_policy_not_a_mapping(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text("- detour_factor\n- 1.3\n", encoding="utf-8")
    _, problems = load_problems(folder, r"policy\.yaml: found list; expected a mapping")
    assert errors(problems) == [("policy.yaml", None, "")]


# --- all problems in one error ------------------------------------------------------------------


def test_many_problems_are_all_listed_in_one_error(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 2, "places", "-1")
    set_cell(folder, "children.csv", 3, "age", "31")
    set_cell(folder, "settings.csv", 4, "setting_type", "academy")
    set_cell(folder, "packages.csv", 2, "placeholder", "perhaps")
    set_cell(folder, "children.csv", 2, "preferences", "S2;S8")
    set_cell(folder, "settings.csv", 3, "age_min", "12")
    (folder / "policy.yaml").write_text("speed_kmph: 24\n", encoding="utf-8")
    msg, problems = load_problems(folder, r"^7 problem\(s\) in the input data:")
    assert sorted(errors(problems), key=str) == sorted(
        [
            ("places.csv", 2, "places"),
            ("children.csv", 3, "age"),
            ("settings.csv", 4, "setting_type"),
            ("packages.csv", 2, "placeholder"),
            ("children.csv", 2, "preferences"),
            ("settings.csv", 3, "age_min"),
            ("policy.yaml", None, "key speed_kmph"),
        ],
        key=str,
    )
    for i in range(1, 8):
        assert f"\n  {i}. " in msg


def test_validate_raises_on_a_dataset_built_in_memory(tiny):
    kids = tiny.children.copy()
    kids.loc[1, "child_id"] = "C1"
    places = tiny.places.copy()
    places.loc[0, "places"] = -4
    with pytest.raises(DataValidationError, match=r"^2 problem\(s\)") as info:
        optimiser.validate(tiny.replace(children=kids, places=places))
    assert errors(info.value.problems) == [
        ("children.csv", 3, "child_id"),
        ("places.csv", 2, "places"),
    ]


def test_data_validation_error_is_a_value_error():
    assert issubclass(DataValidationError, ValueError)
    assert issubclass(DataValidationError, optimiser.OptimiserError)


# --- soft problems are warnings -----------------------------------------------------------------


def test_valid_dataset_has_no_warnings(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert optimiser.validate(tiny) == []


def test_child_needing_a_package_nobody_offers_is_a_warning(broken_copy, set_cell, edit_csv):
    folder = broken_copy()
    append_row(edit_csv, folder, "packages.csv", {"package_id": "P3", "name": "Sensory"})
    set_cell(folder, "children.csv", 4, "package_id", "P3")
    ds = load_dataset(folder)  # loads: a warning is not an error
    with pytest.warns(DataWarning, match=r"1 child\(ren\) needing P3"):
        soft = optimiser.validate(ds)
    assert [(p.file, p.row, p.column, p.severity) for p in soft] == [
        ("children.csv", None, "package_id", "warning")
    ]


def test_package_with_zero_places_counts_as_not_offered(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 3, "places", "0")  # S1 × P2
    set_cell(folder, "places.csv", 6, "places", "0")  # S3 × P2
    with pytest.warns(DataWarning, match=r"2 child\(ren\) needing P2"):
        optimiser.validate(load_dataset(folder))


def test_continuing_placement_without_the_package_is_a_warning(broken_copy, edit_csv):
    folder = broken_copy()
    edit_csv(folder, "places.csv", lambda f: f.drop(index=1))  # remove S1 × P2; C4 is there
    ds = load_dataset(folder)
    with pytest.warns(
        DataWarning,
        match=r"children\.csv row 5, column current_setting_id: found "
        r"S1 \(no P2 places listed\)",
    ):
        soft = optimiser.validate(ds)
    assert [(p.file, p.row, p.column, p.severity) for p in soft] == [
        ("children.csv", 5, "current_setting_id", "warning")
    ]


def test_warnings_are_listed_after_errors_when_both(broken_copy, edit_csv, set_cell):
    folder = broken_copy()
    edit_csv(folder, "places.csv", lambda f: f.drop(index=1))
    set_cell(folder, "places.csv", 2, "places", "-1")
    msg, problems = load_problems(folder, r"^1 problem\(s\)")
    assert "1 warning(s):" in msg
    assert msg.index("places.csv row 2") < msg.index("1 warning(s):")
    assert [p.severity for p in problems].count("warning") == 1


# --- privacy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("age", "31"),
        ("age", "seven"),
        ("age", "-3"),
        ("age", "7.5"),
        ("easting", "712345"),
        ("easting", "-12345"),
        ("easting", "abc12"),
        ("northing", "1312345"),
        ("northing", "39x500"),
    ],
)
def test_bad_child_value_never_echoed_but_row_given(broken_copy, set_cell, column, value):
    folder = broken_copy()
    set_cell(folder, "children.csv", 6, column, value)  # C5
    msg, problems = load_problems(folder, rf"children\.csv row 6, column {column}")
    assert errors(problems) == [("children.csv", 6, column)]
    assert value not in msg
    assert all(value not in p.found for p in problems)
    assert "not shown: personal data" in msg


def test_child_lon_lat_outside_gb_never_echoed(broken_copy, edit_csv):
    folder = broken_copy()

    def abroad(frame: pd.DataFrame) -> pd.DataFrame:
        frame["lon"], frame["lat"] = "", ""
        frame.loc[2, ["easting", "northing"]] = ""
        frame.loc[2, ["lon", "lat"]] = ["24.9384", "60.1699"]
        return frame

    edit_csv(folder, "children.csv", abroad)
    msg, problems = load_problems(folder, r"children\.csv row 4, column lon, lat")
    assert {(p.file, p.row) for p in problems if p.severity == "error"} == {("children.csv", 4)}
    for text in ("24.9384", "60.1699", "24.93", "60.16"):
        assert text not in msg
