"""Hostile and careless input (issue 12): each case is a clear problem, never a traceback.

Every error names the file, the row and the column and says how to fix it; the
inputs are never changed; a child's coordinates are never quoted.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
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


# --- 2. NaN, inf and absurd numbers -------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "key", "match"),
    [
        ("unplaced_penalty_gbp: .inf", "unplaced_penalty_gbp", "finite number"),
        ("unplaced_penalty_gbp: 1.0e+30", "unplaced_penalty_gbp", "typo"),
        ("detour_factor: .nan", "detour_factor", "finite number"),
        ("speed_kmh: .nan", "speed_kmh", "finite number"),
        ("max_travel_min: {primary: .inf}", "max_travel_min.primary", "finite number"),
        ("transport: {minibus: {gbp_per_mile: .nan}}", "transport.minibus.gbp_per_mile", "finite"),
        ("preference_penalty_gbp: [0, .nan]", "preference_penalty_gbp", "finite number"),
        ("mainstream_duty_gbp: -.inf", "mainstream_duty_gbp", "finite number"),
    ],
)
def test_non_finite_or_absurd_policy_numbers_are_refused(tmp_path, yaml_text, key, match):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml_text + "\n", encoding="utf-8")
    with pytest.raises(optimiser.DataValidationError, match=match) as info:
        load_policy(path)
    assert f"policy.yaml, key {key}" in str(info.value)


def test_inf_penalty_in_a_folder_fails_validate(broken_copy):
    folder = broken_copy()
    with (folder / "policy.yaml").open("a", encoding="utf-8") as fh:
        fh.write("unplaced_penalty_gbp: .inf\n")
    out = validate_cli(folder)
    assert "policy.yaml, key unplaced_penalty_gbp" in out
    assert "finite number" in out


def _scenario(tmp_path: Path, change: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: x\nchanges:\n  - {change}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("set_places: {setting_id: S1, package_id: P1, places: 10001}", "less than or equal"),
        (
            "set_places: {setting_id: S1, package_id: P1, places: 2, annual_cost_gbp: .inf}",
            "finite",
        ),
        (
            "set_places: {setting_id: S1, package_id: P1, places: 2, annual_cost_gbp: 4.5e+9}",
            "less",
        ),
        ("demand_growth: {P1: .nan}", "finite number"),
        ("demand_growth: {P1: 1.0e+6}", "at most 10"),
        ("cap_fees: {max_annual_cost_gbp: .inf}", "finite number"),
        (
            "add_setting: {setting_id: N, name: N, setting_type: inclusion_base, easting: 380000,"
            " northing: 395000, age_min: 4, age_max: 11, places: {P1: 1000000000}}",
            "at most 10,000",
        ),
        (
            "add_setting: {setting_id: N, name: N, setting_type: inclusion_base, easting: .nan,"
            " northing: 395000, age_min: 4, age_max: 11, places: {P1: 2}}",
            "finite number",
        ),
    ],
)
def test_non_finite_or_absurd_scenario_numbers_are_refused(tmp_path, change, match):
    with pytest.raises(optimiser.DataValidationError, match=match) as info:
        load_scenario(_scenario(tmp_path, change))
    assert "s.yaml, change 1" in str(info.value)


def test_inf_policy_override_in_a_scenario_is_refused(tmp_path, tiny):
    sc = load_scenario(_scenario(tmp_path, "policy: {unplaced_penalty_gbp: .inf}"))
    with pytest.raises(optimiser.DataValidationError, match="unplaced_penalty_gbp"):
        sc.apply(tiny)


@pytest.mark.parametrize("growth", ["nan", "inf", "5"])
def test_horizon_growth_must_be_a_finite_sane_rate(tiny_path, growth):
    result = runner.invoke(app, ["horizon", str(tiny_path), "--years", "1", "--growth", growth])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "--growth" in result.output
    assert "annual growth rate from -0.5 to 1" in " ".join(result.output.split())


# --- 3. extends stays in the scenario's folder --------------------------------------------


@pytest.mark.parametrize(
    ("extends", "found"),
    [
        ("../secret.yaml", "a path outside the scenario's folder"),
        ("/etc/passwd", "a path outside the scenario's folder"),
        (".", "a folder"),
        ("sub", "a folder"),
    ],
)
def test_extends_is_confined_to_the_scenario_folder(tmp_path, extends, found):
    secret = tmp_path / "secret.yaml"
    secret.write_text("TOP-SECRET-CONTENTS: 1\nname: leaked\n", encoding="utf-8")
    folder = tmp_path / "scenarios"
    (folder / "sub").mkdir(parents=True)
    path = folder / "s.yaml"
    path.write_text(f"name: s\nextends: {extends}\nchanges: []\n", encoding="utf-8")
    with pytest.raises(optimiser.DataValidationError, match=found) as info:
        load_scenario(path)
    assert "s.yaml, key extends" in str(info.value)
    assert "TOP-SECRET" not in str(info.value)
    assert "root:" not in str(info.value)


def test_extends_below_the_folder_still_works(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text(
        "name: b\nchanges:\n  - close_setting: {setting_id: S1}\n", encoding="utf-8"
    )
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nextends: sub/base.yaml\nchanges: []\n", encoding="utf-8")
    assert len(load_scenario(path).changes) == 1


def test_a_file_that_is_not_a_scenario_is_never_echoed(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("TOP-SECRET-CONTENTS\n", encoding="utf-8")
    with pytest.raises(optimiser.DataValidationError) as info:
        load_scenario(path)
    assert "TOP-SECRET" not in str(info.value)
    bad = tmp_path / "t.yaml"
    bad.write_text("name: t\nTOP-SECRET: [unclosed\n", encoding="utf-8")
    with pytest.raises(optimiser.DataValidationError) as info:
        load_scenario(bad)
    assert "TOP-SECRET" not in str(info.value)


# --- 4. coordinates that cannot be right --------------------------------------------------


def _problems(folder: Path) -> tuple[str, list]:
    with pytest.raises(optimiser.DataValidationError) as info:
        optimiser.load_dataset(folder)
    return str(info.value), info.value.problems


@pytest.mark.parametrize(
    ("easting", "northing", "match"),
    [
        ("395000", "381000", "easting and northing swapped"),  # a home near the rest, swapped
        ("50000", "180000", "easting and northing swapped"),  # Cornwall, swapped: off England
        ("-2.31", "53.45", "look like longitude and latitude"),
        ("53.45", "-2.31", "look like longitude and latitude"),
        ("0", "0", "a placeholder, not a place"),
        ("690000", "300000", "a place outside England"),  # North Sea
        ("20000", "700000", "a place outside England"),  # the Atlantic
    ],
)
def test_child_coordinates_that_cannot_be_right(broken_copy, set_cell, easting, northing, match):
    folder = broken_copy()
    set_cell(folder, "children.csv", 4, "easting", easting)
    set_cell(folder, "children.csv", 4, "northing", northing)
    before = (folder / "children.csv").read_bytes()
    msg, problems = _problems(folder)
    errors = [(p.file, p.row, p.column) for p in problems if p.severity == "error"]
    assert errors == [("children.csv", 4, "easting, northing")]
    assert match in msg
    assert "not shown: personal data" in msg
    for value in (easting, northing):
        if value != "0":
            assert value not in msg
            assert value.lstrip("-") not in msg
    assert (folder / "children.csv").read_bytes() == before
    out = validate_cli(folder)
    assert "children.csv row 4, column easting, northing" in out


def test_swapped_setting_coordinates_are_quoted_and_fixed(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 3, "easting", "395000")
    set_cell(folder, "settings.csv", 3, "northing", "383000")
    msg, _ = _problems(folder)
    assert "settings.csv row 3, column easting, northing: found 395000, 383000" in msg
    assert "swap the easting and northing cells" in msg


def test_setting_in_scotland_is_only_a_warning(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 4, "easting", "325000")
    set_cell(folder, "settings.csv", 4, "northing", "673000")  # Edinburgh
    with pytest.warns(optimiser.DataWarning, match="outside England"):
        problems = optimiser.validate(optimiser.load_dataset(folder))
    assert [(p.file, p.row, p.severity) for p in problems if "England" in p.found] == [
        ("settings.csv", 4, "warning")
    ]


def test_a_swapped_trafford_home_is_caught(default_ds, broken_copy, edit_csv):
    folder = broken_copy(Path(optimiser.__file__).parents[1] / "data" / "trafford", name="t")

    def swap(frame):
        frame.loc[9, ["easting", "northing"]] = frame.loc[9, ["northing", "easting"]].to_numpy()
        return frame

    edit_csv(folder, "children.csv", swap)
    msg, problems = _problems(folder)
    assert [(p.row, p.column) for p in problems if p.severity == "error"] == [
        (11, "easting, northing")
    ]
    assert "easting and northing swapped" in msg


# --- 5. misspelt optional columns ---------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("current_setting", "current_setting_id"),
        ("preference", "preferences"),
        ("Current Setting ID", "current_setting_id"),
    ],
)
def test_misspelt_optional_column_is_a_warning(broken_copy, edit_csv, wrong, right):
    folder = broken_copy()
    edit_csv(folder, "children.csv", lambda f: f.rename(columns={right: wrong}))
    with pytest.warns(optimiser.DataWarning, match="did you mean"):
        problems = optimiser.validate(optimiser.load_dataset(folder))
    assert [(p.file, p.column, p.severity) for p in problems if "did you mean" in p.found] == [
        ("children.csv", wrong, "warning")
    ]
    assert f"unknown column {wrong!r} in children.csv — did you mean {right!r}?" in str(
        problems[-1]
    )
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "did you mean" in " ".join(result.output.split())


def test_misspelt_required_column_names_the_rename(broken_copy, edit_csv):
    folder = broken_copy()
    edit_csv(folder, "children.csv", lambda f: f.rename(columns={"package_id": "packageid"}))
    msg, _ = _problems(folder)
    assert (
        "children.csv, column package_id: found unknown column 'packageid' — did you mean "
        "'package_id'? (required column 'package_id' is missing)" in msg
    )
    assert "rename column 'packageid' to package_id" in msg


def test_extra_columns_that_resemble_nothing_stay_allowed(broken_copy, edit_csv):
    folder = broken_copy()
    edit_csv(folder, "children.csv", lambda f: f.assign(caseworker_notes="x", school_year="2"))
    assert optimiser.validate(optimiser.load_dataset(folder)) == []


# --- 6. decimal commas and conflicting framework rows -------------------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value"),
    [
        ("places.csv", 5, "annual_cost_gbp", "45000,50"),
        ("settings.csv", 2, "total_places", "1,5"),
        ("costing_framework.csv", 2, "annual_cost_gbp", "26000,00"),
        ("places.csv", 2, "places", "1,50"),
    ],
)
def test_decimal_comma_is_an_error_with_the_fix(broken_copy, set_cell, file, row, column, value):
    folder = broken_copy()
    set_cell(folder, file, row, column, value)
    before = (folder / file).read_bytes()
    msg, problems = _problems(folder)
    errors = [(p.file, p.row, p.column) for p in problems if p.severity == "error"]
    assert errors[0] == (file, row, column)  # then only what a blank cost entails
    assert "write decimals with a point" in msg
    assert (folder / file).read_bytes() == before
    out = validate_cli(folder)
    assert f"{file} row {row}, column {column}" in out


@pytest.mark.parametrize(("value", "expected"), [("45,000", 45000.0), ("£1,234,567.5", 1234567.5)])
def test_thousands_separators_still_read(broken_copy, set_cell, value, expected):
    folder = broken_copy()
    set_cell(folder, "places.csv", 5, "annual_cost_gbp", value)
    ds = optimiser.load_dataset(folder)
    assert float(ds.places.at[3, "annual_cost_gbp"]) == expected


def test_conflicting_costing_framework_rows_are_an_error(broken_copy, edit_csv):
    folder = broken_copy()

    def conflict(frame):
        extra = frame.iloc[[0]].copy()
        extra["annual_cost_gbp"] = "31000"
        return pd.concat([frame, extra, frame.iloc[[0]]], ignore_index=True)

    edit_csv(folder, "costing_framework.csv", conflict)
    n = len(pd.read_csv(folder / "costing_framework.csv"))
    msg, problems = _problems(folder)
    assert [(p.file, p.row, p.column) for p in problems if p.severity == "error"] == [
        ("costing_framework.csv", n, "annual_cost_gbp")
    ]
    assert "but row 2 gives 26000" in msg
    assert "costing_framework.csv row" in validate_cli(folder)


# --- the same rules for a scenario's new setting, and its seed ----------------------------

_ADD = (
    "add_setting: {{setting_id: N, name: N, setting_type: inclusion_base, easting: {e},"
    " northing: {n}, age_min: 4, age_max: 11, places: {{P1: 2}}}}"
)


@pytest.mark.parametrize(
    ("e", "n", "match"),
    [
        ("0", "0", "placeholder"),
        ("2.3", "53.4", "longitude/latitude"),
        ("-2.3", "53.4", "greater than or equal to 0"),
        ("50000", "180000", "outside England \\(swap them\\)"),
        ("690000", "300000", "outside England \\(a new setting is built in England\\)"),
    ],
)
def test_scenario_new_setting_must_be_in_england(tmp_path, e, n, match):
    with pytest.raises(optimiser.DataValidationError, match=match) as info:
        load_scenario(_scenario(tmp_path, _ADD.format(e=e, n=n)))
    assert "s.yaml, change 1 (add_setting)" in str(info.value)


def test_scenario_seed_must_be_a_whole_number(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nseed: abc\nchanges: []\n", encoding="utf-8")
    with pytest.raises(optimiser.DataValidationError, match=r"s\.yaml, key seed: found str"):
        load_scenario(path)


def test_swap_test_only_for_one_local_area():
    # Children spread over England (the national benchmark) have no meaningful centre:
    # the swap test is off, so real homes near the diagonal e ≈ n are not flagged.
    import importlib

    validate_module = importlib.import_module("optimiser.dataset.validate")
    spread = pd.DataFrame(
        {
            "easting": [150_000, 300_000, 450_000, 550_000, 380_000, 420_000],
            "northing": [60_000, 500_000, 300_000, 200_000, 400_000, 120_000],
        }
    )
    assert validate_module._LocalArea.of(spread) is None
    local = spread.assign(
        easting=378_000 + np.arange(6) * 500, northing=391_000 + np.arange(6) * 400
    )
    assert validate_module._LocalArea.of(local) is not None
