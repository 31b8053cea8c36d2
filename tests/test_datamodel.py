"""Loading and saving datasets: types, derived costs, round trips, coordinates, policy, Dataset."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pydantic
import pytest
from pyproj import Transformer

import optimiser
from optimiser import Dataset, DataValidationError, Policy, load_dataset, save_dataset

FRAMES = ("children", "settings", "places", "packages", "costing")
_BNG_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
_WGS84_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

# Postcodes for the six tiny children, at their tiny coordinates.
POSTCODES = {
    "M33 7XB": (381000, 395000),
    "M32 0AA": (382000, 395000),
    "WA15 6NL": (380500, 395500),
    "M41 5AA": (379000, 395000),
    "M31 4AA": (380000, 394000),
    "M16 9AA": (384000, 396000),
}


def assert_same_data(a: Dataset, b: Dataset) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.policy == b.policy


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _typed(text: str) -> object:
    """A cell as Excel would hold it after a planner typed it."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def workbook_from_csvs(folder: Path, out: Path, policy_rows: list[tuple[str, object]]) -> Path:
    """Build a workbook by hand (openpyxl, typed cells), one sheet per CSV + a policy sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for path in sorted(folder.glob("*.csv")):
        ws = wb.create_sheet(path.stem)
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        ws.append(rows[0])
        for row in rows[1:]:
            ws.append([_typed(c) for c in row])
    ws = wb.create_sheet("policy")
    ws.append(["key", "value"])
    for key, value in policy_rows:
        ws.append([key, value])
    wb.save(out)
    return out


# --- loading the tiny fixture ---------------------------------------------------------------


def test_tiny_loads_with_expected_counts_and_name(tiny):
    assert (len(tiny.children), len(tiny.settings), len(tiny.places), len(tiny.packages)) == (
        6,
        3,
        5,
        2,
    )
    assert tiny.name == "tiny"
    assert list(tiny.children["child_id"]) == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert "6 children" in repr(tiny)


def test_tiny_fixture_is_what_the_loader_gives_and_its_own_copy(tiny, tiny_path, request):
    # conftest hands each test a deep copy of one session load (not a load of its own):
    # the copy must equal a fresh load in every field, frame dtypes and attrs included,
    # and share no frame with the session's load, so an edit in one test cannot leak.
    fresh = load_dataset(tiny_path)
    session = request.getfixturevalue("_tiny_loaded")
    for field in dataclasses.fields(Dataset):
        got, want = getattr(tiny, field.name), getattr(fresh, field.name)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, obj=field.name)
            assert got.attrs == want.attrs, field.name
            assert got is not getattr(session, field.name), field.name
        else:
            assert got == want, field.name
    tiny.children.loc[0, "age"] = 99
    assert session.children.loc[0, "age"] == fresh.children.loc[0, "age"]


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        ("children", "age"),
        ("settings", "urn"),
        ("settings", "la_code"),
        ("settings", "age_min"),
        ("settings", "age_max"),
        ("settings", "total_places"),
        ("places", "places"),
    ],
)
def test_int_columns_are_nullable_int64(tiny, frame, column):
    assert getattr(tiny, frame)[column].dtype == "Int64"


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        ("children", "prefers_mainstream"),
        ("children", "solo_transport"),
        ("settings", "in_area"),
        ("packages", "placeholder"),
    ],
)
def test_bool_columns_are_numpy_bool(tiny, frame, column):
    assert getattr(tiny, frame)[column].dtype == np.dtype(bool)


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        ("children", "easting"),
        ("children", "northing"),
        ("settings", "easting"),
        ("places", "annual_cost_gbp"),
        ("costing", "annual_cost_gbp"),
    ],
)
def test_float_columns_are_float64(tiny, frame, column):
    assert getattr(tiny, frame)[column].dtype == np.dtype("float64")


def test_values_are_typed_as_written(tiny):
    kids = tiny.children.set_index("child_id")
    assert kids.loc["C4", "age"] == 12
    assert kids.loc["C2", "prefers_mainstream"] is np.True_
    assert kids.loc["C5", "solo_transport"] is np.True_
    assert kids.loc["C4", "current_setting_id"] == "S1"
    assert kids.loc["C1", "current_setting_id"] == ""
    assert list(tiny.settings["in_area"]) == [True, True, False]
    assert tiny.settings.set_index("setting_id").loc["S3", "urn"] == 100003


def test_preferences_are_tuples_in_rank_order(tiny):
    prefs = dict(zip(tiny.children["child_id"], tiny.children["preferences"], strict=True))
    assert prefs == {"C1": ("S2", "S1"), "C2": (), "C3": (), "C4": (), "C5": (), "C6": ("S3",)}
    assert all(isinstance(p, tuple) for p in prefs.values())


def test_place_costs_derived_from_framework_or_given_by_setting(tiny):
    places = tiny.places.set_index(["setting_id", "package_id"])
    expected = {
        ("S1", "P1"): (26000.0, "framework"),
        ("S1", "P2"): (28000.0, "framework"),
        ("S2", "P1"): (15000.0, "framework"),
        ("S3", "P1"): (60000.0, "setting"),
        ("S3", "P2"): (65000.0, "setting"),
    }
    got = {
        k: (float(places.loc[k, "annual_cost_gbp"]), str(places.loc[k, "cost_source"]))
        for k in expected
    }
    assert got == expected


def test_own_fee_wins_over_framework(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 2, "annual_cost_gbp", "31500")  # S1 × P1, framework 26000
    places = load_dataset(folder).places
    assert places.loc[0, "annual_cost_gbp"] == 31500.0
    assert places.loc[0, "cost_source"] == "setting"
    assert places.loc[1, "cost_source"] == "framework"


def test_money_with_pound_sign_and_thousands_separator(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 5, "annual_cost_gbp", "£61,250")
    assert load_dataset(folder).places.loc[3, "annual_cost_gbp"] == 61250.0


# --- round trips ---------------------------------------------------------------------------


def test_csv_round_trip_gives_equal_frames(tiny, tmp_path):
    out = save_dataset(tiny, tmp_path / "out")
    assert_same_data(tiny, load_dataset(out))


def test_csv_save_writes_framework_costs_blank(tiny, tmp_path):
    out = save_dataset(tiny, tmp_path / "out")
    places = pd.read_csv(out / "places.csv", dtype=str, keep_default_na=False)
    assert "cost_source" not in places.columns
    assert list(places["annual_cost_gbp"].str.strip() == "") == [True, True, True, False, False]


def test_round_trip_keeps_blanks_extra_columns_and_awkward_text(
    broken_copy, set_cell, edit_csv, tmp_path
):
    folder = broken_copy()
    set_cell(folder, "settings.csv", 3, "urn", "")
    set_cell(folder, "settings.csv", 2, "name", 'St Mary\'s, Café "B"')
    edit_csv(folder, "settings.csv", lambda f: f.assign(notes=["x", "", "y; z"]))
    set_cell(folder, "children.csv", 2, "preferences", "S2; S1 ;S3")
    ds = load_dataset(folder)
    assert pd.isna(ds.settings.loc[1, "urn"])
    assert ds.children.loc[0, "preferences"] == ("S2", "S1", "S3")
    for target in (tmp_path / "csv", tmp_path / "book.xlsx"):
        back = load_dataset(save_dataset(ds, target))
        assert_same_data(ds, back)
        assert back.settings.loc[0, "name"] == 'St Mary\'s, Café "B"'
        assert list(back.settings["notes"]) == ["x", "", "y; z"]


def test_custom_policy_survives_csv_round_trip(tiny, tmp_path):
    policy = Policy(
        detour_factor=1.5,
        preference_penalty_gbp=(0.0, 1000.0, 2500.0),
        inmss_max_places=12,
        continuity="free",
    )
    back = load_dataset(save_dataset(tiny.replace(policy=policy), tmp_path / "out"))
    assert back.policy == policy


def test_xlsx_round_trip_gives_equal_frames_and_keeps_policy(tiny, tmp_path):
    policy = Policy(
        detour_factor=1.5,
        preference_penalty_gbp=(0.0, 1000.0, 2500.0),
        inmss_max_places=12,
        max_travel_min={"primary": 40.0},
    )
    ds = tiny.replace(policy=policy)
    book = save_dataset(ds, tmp_path / "plan.xlsx")
    assert book.suffix == ".xlsx" and book.is_file()
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert {"packages", "settings", "places", "children", "costing_framework", "policy"} <= set(
        sheets
    )
    back = load_dataset(book)
    assert back.name == "plan"
    assert_same_data(ds, back)
    assert back.policy.max_travel_min.primary == 40.0
    assert back.policy.max_travel_min.secondary == 75.0


def test_hand_built_workbook_loads_like_the_csv_folder(tiny, tiny_path, tmp_path):
    book = workbook_from_csvs(
        tiny_path,
        tmp_path / "hand.xlsx",
        [("detour_factor", 1.5), ("max_travel_min", "{primary: 40}"), ("speed_kmh", 24)],
    )
    ds = load_dataset(book)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(ds, name), getattr(tiny, name), obj=name)
    assert ds.policy.detour_factor == 1.5
    assert ds.policy.max_travel_min.primary == 40.0
    assert ds.policy.max_travel_min.secondary == Policy().max_travel_min.secondary
    assert ds.policy.speed_kmh == 24.0


def test_workbook_missing_a_sheet_is_reported(tiny_path, tmp_path):
    book = workbook_from_csvs(tiny_path, tmp_path / "hand.xlsx", [])
    wb = openpyxl.load_workbook(book)
    del wb["places"]
    wb.save(book)
    with pytest.raises(DataValidationError, match="no sheet named 'places'") as info:
        load_dataset(book)
    assert ("hand.xlsx", None) in [(p.file, p.row) for p in info.value.problems]


# --- saving never loses anything --------------------------------------------------------------


def test_save_refuses_non_empty_folder_and_loses_nothing(tiny, tmp_path):
    target = tmp_path / "work"
    target.mkdir()
    (target / "notes.txt").write_text("my notes", encoding="utf-8")
    before = tree_digest(target)
    with pytest.raises(FileExistsError, match="already exists"):
        save_dataset(tiny, target)
    assert tree_digest(target) == before


def test_save_refuses_existing_workbook(tiny, tmp_path):
    book = tmp_path / "plan.xlsx"
    book.write_bytes(b"not really a workbook")
    with pytest.raises(FileExistsError, match=r"plan\.xlsx"):
        save_dataset(tiny, book)
    assert book.read_bytes() == b"not really a workbook"


def test_save_into_existing_empty_folder_is_allowed(tiny, tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    save_dataset(tiny, target)
    assert {"packages.csv", "settings.csv", "places.csv", "children.csv", "policy.yaml"} <= {
        p.name for p in target.iterdir()
    }


def test_save_workbook_never_overwrites_a_neighbouring_wards_file(tiny, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    wards = gpd.GeoDataFrame(
        {"ward_code": ["E05000001"], "ward_name": ["Test"]},
        geometry=[box(378000, 393000, 386000, 397000)],
        crs="EPSG:27700",
    )
    keep = tmp_path / "wards.geojson"
    keep.write_text("someone else's wards", encoding="utf-8")
    try:
        save_dataset(tiny.replace(wards=wards), tmp_path / "plan.xlsx")
    except FileExistsError:
        pass
    assert keep.read_text(encoding="utf-8") == "someone else's wards"


# --- inputs are never modified ------------------------------------------------------------------


def test_loading_and_validating_never_modifies_inputs(broken_copy):
    folder = broken_copy()
    before = tree_digest(folder)
    ds = load_dataset(folder)
    optimiser.validate(ds)
    assert tree_digest(folder) == before


def test_loading_a_workbook_never_modifies_it_or_its_folder(tiny, tmp_path):
    book = save_dataset(tiny, tmp_path / "plan.xlsx")
    before = tree_digest(tmp_path)
    load_dataset(book)
    assert tree_digest(tmp_path) == before


def test_failed_load_never_modifies_inputs(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 2, "places", "-1")
    before = tree_digest(folder)
    with pytest.raises(DataValidationError):
        load_dataset(folder)
    assert tree_digest(folder) == before


# --- coordinates ------------------------------------------------------------------------------


def _to_lonlat(frame: pd.DataFrame) -> pd.DataFrame:
    lon, lat = _BNG_TO_WGS84.transform(
        frame["easting"].astype(float).to_numpy(), frame["northing"].astype(float).to_numpy()
    )
    out = frame.drop(columns=["easting", "northing"])
    out["lon"] = [f"{v:.7f}" for v in lon]
    out["lat"] = [f"{v:.7f}" for v in lat]
    return out


def test_lon_lat_columns_are_converted_to_british_national_grid(broken_copy, edit_csv, tiny):
    folder = broken_copy()
    edit_csv(folder, "settings.csv", _to_lonlat)
    edit_csv(folder, "children.csv", _to_lonlat)
    ds = load_dataset(folder)
    for name in ("settings", "children"):
        got = getattr(ds, name)
        lon, lat = got["lon"].astype(float).to_numpy(), got["lat"].astype(float).to_numpy()
        e, n = _WGS84_TO_BNG.transform(lon, lat)
        np.testing.assert_allclose(got["easting"], e, atol=3.0)
        np.testing.assert_allclose(got["northing"], n, atol=3.0)
        np.testing.assert_allclose(got["easting"], getattr(tiny, name)["easting"], atol=3.0)
        np.testing.assert_allclose(got["northing"], getattr(tiny, name)["northing"], atol=3.0)
        assert got["easting"].dtype == np.dtype("float64")


def test_lon_lat_fills_only_rows_without_grid_coordinates(broken_copy, edit_csv):
    folder = broken_copy()
    lon, lat = _BNG_TO_WGS84.transform(400000.0, 395000.0)

    def mix(frame: pd.DataFrame) -> pd.DataFrame:
        frame["lon"], frame["lat"] = ["0", "0", f"{lon:.7f}"], ["0", "0", f"{lat:.7f}"]
        frame.loc[2, ["easting", "northing"]] = ""
        return frame

    edit_csv(folder, "settings.csv", mix)
    settings = load_dataset(folder).settings
    np.testing.assert_allclose(settings["easting"], [380000, 383000, 400000], atol=3.0)
    np.testing.assert_allclose(settings["northing"], [395000, 395000, 395000], atol=3.0)


def _write_postcodes(folder: Path, codes: dict[str, tuple[float, float]]) -> None:
    lines = ["postcode,easting,northing"] + [f"{k},{e},{n}" for k, (e, n) in codes.items()]
    (folder / "postcodes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _children_by_postcode(codes: list[str]):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.drop(columns=["easting", "northing"])
        out["postcode"] = codes
        return out

    return edit


def test_postcode_column_converted_via_folder_lookup(broken_copy, edit_csv, tiny):
    folder = broken_copy()
    _write_postcodes(folder, POSTCODES)
    # as planners type them: lower case, no space, double space
    typed = ["m337xb", "M32 0AA", "wa15 6nl", "M41  5AA", " M31 4AA", "M169AA"]
    edit_csv(folder, "children.csv", _children_by_postcode(typed))
    kids = load_dataset(folder).children
    np.testing.assert_allclose(kids["easting"], tiny.children["easting"])
    np.testing.assert_allclose(kids["northing"], tiny.children["northing"])


def test_postcode_lookup_may_give_lon_lat(broken_copy, edit_csv, tiny):
    folder = broken_copy()
    rows = ["postcode,lon,lat"]
    for code, (e, n) in POSTCODES.items():
        lon, lat = _BNG_TO_WGS84.transform(e, n)
        rows.append(f"{code},{lon:.7f},{lat:.7f}")
    (folder / "postcodes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    edit_csv(folder, "children.csv", _children_by_postcode(list(POSTCODES)))
    kids = load_dataset(folder).children
    np.testing.assert_allclose(kids["easting"], tiny.children["easting"], atol=3.0)
    np.testing.assert_allclose(kids["northing"], tiny.children["northing"], atol=3.0)


def test_unknown_postcode_reported_with_row_but_never_echoed(broken_copy, edit_csv):
    folder = broken_copy()
    _write_postcodes(folder, POSTCODES)
    codes = list(POSTCODES)
    codes[2] = "ZZ9 9ZZ"
    edit_csv(folder, "children.csv", _children_by_postcode(codes))
    with pytest.raises(DataValidationError, match=r"children\.csv row 4, column postcode") as info:
        load_dataset(folder)
    assert ("children.csv", 4, "postcode") in [
        (p.file, p.row, p.column) for p in info.value.problems
    ]
    text = str(info.value) + " ".join(p.found for p in info.value.problems)
    assert "ZZ9" not in text and "9ZZ" not in text


def test_postcode_fills_rows_with_blank_grid_coordinates(broken_copy, edit_csv, tiny):
    folder = broken_copy()
    _write_postcodes(folder, POSTCODES)

    def blank_two(frame: pd.DataFrame) -> pd.DataFrame:
        frame["postcode"] = ["", "", "WA15 6NL", "", "", "M16 9AA"]
        frame.loc[[2, 5], ["easting", "northing"]] = ""
        return frame

    edit_csv(folder, "children.csv", blank_two)
    kids = load_dataset(folder).children
    np.testing.assert_allclose(kids["easting"], tiny.children["easting"])


def test_edited_postcode_lookup_is_reread(broken_copy, edit_csv):
    folder = broken_copy()
    _write_postcodes(folder, POSTCODES)
    edit_csv(folder, "children.csv", _children_by_postcode(list(POSTCODES)))
    assert load_dataset(folder).children.loc[0, "easting"] == 381000.0
    _write_postcodes(folder, {**POSTCODES, "M33 7XB": (381555, 395555)})
    assert load_dataset(folder).children.loc[0, "easting"] == 381555.0


# --- policy -----------------------------------------------------------------------------------


def test_tiny_policy_overrides_and_keeps_other_defaults(tiny):
    assert tiny.policy.detour_factor == 1.3
    assert tiny.policy.speed_kmh == 24.0
    default = Policy().model_dump()
    for key, value in tiny.policy.model_dump().items():
        if key not in ("max_travel_min", "detour_factor", "speed_kmh"):
            assert value == default[key], key


def test_partial_nested_policy_override_keeps_sibling_defaults(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text(
        "max_travel_min: {primary: 30}\nunplaced_penalty_gbp: 2000000\n", encoding="utf-8"
    )
    policy = load_dataset(folder).policy
    assert policy.max_travel_min.primary == 30.0
    assert policy.max_travel_min.secondary == Policy().max_travel_min.secondary == 75.0
    assert policy.unplaced_penalty_gbp == 2_000_000.0
    assert policy.detour_factor == Policy().detour_factor


@pytest.mark.parametrize("content", [None, "", "# only a comment\n"])
def test_missing_or_empty_policy_gives_defaults(broken_copy, content):
    folder = broken_copy()
    (folder / "policy.yaml").unlink()
    if content is not None:
        (folder / "policy.yaml").write_text(content, encoding="utf-8")
    assert load_dataset(folder).policy == Policy()


def test_policy_defaults_are_the_documented_values():
    p = Policy()
    assert (p.max_travel_min.primary, p.max_travel_min.secondary) == (45.0, 75.0)
    assert p.school_days_per_year == 190
    assert (p.walking_distance_miles.under_8, p.walking_distance_miles.from_8) == (2.0, 3.0)
    assert list(p.preference_penalty_gbp) == sorted(p.preference_penalty_gbp)
    assert p.phase_of_age(10) == "primary" and p.phase_of_age(11) == "secondary"
    assert p.phase_of_age(16) == "post16"


# --- Dataset is an immutable value --------------------------------------------------------------


def test_dataset_is_frozen(tiny):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.children = tiny.children.head(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.name = "other"
    with pytest.raises(pydantic.ValidationError):
        tiny.policy.detour_factor = 2.0


def test_replace_returns_new_dataset_and_leaves_original(tiny):
    fewer = tiny.children.head(2)
    new = tiny.replace(children=fewer, name="two")
    assert new is not tiny
    assert (len(new.children), new.name) == (2, "two")
    assert (len(tiny.children), tiny.name) == (6, "tiny")
    assert new.settings is tiny.settings
    with pytest.raises(TypeError):
        tiny.replace(no_such_field=1)


def test_attribution_is_read_from_the_folder_and_saved_back(tiny_path, tmp_path):
    import shutil

    folder = tmp_path / "la"
    shutil.copytree(tiny_path, folder)
    assert optimiser.load_dataset(folder).attribution == ""
    assert (
        optimiser.load_dataset(folder).credit == "Data: the la dataset (no attribution.txt given)."
    )
    (folder / "attribution.txt").write_text("Contains LA data.\n  Second line.\n", encoding="utf-8")
    ds = optimiser.load_dataset(folder)
    assert ds.attribution == ds.credit == "Contains LA data. Second line."
    saved = save_dataset(ds, tmp_path / "copy")
    assert (saved / "attribution.txt").read_text(
        encoding="utf-8"
    ) == "Contains LA data. Second line.\n"
    assert optimiser.load_dataset(saved).attribution == ds.attribution


def test_embedded_data_credits_its_sources():
    ds = optimiser.load_default()
    assert ds.credit.startswith("Contains public sector information licensed under the Open")
    assert ds.credit.endswith("Children in the default data are synthetic.")
