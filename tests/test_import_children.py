"""``optimiser import children``: case-management exports (CSV and XLSX) → children.csv.

The tests write made-up exports in two layouts (the shipped Capita One CSV mapping and
the Liquid Logic XLSX one), about 30 rows each with bad rows among them, a tiny ONSPD
extract in ONSPD's own layout, and import into a copy of the embedded Trafford folder.
No pupil id or postcode of the export may reach the folder, the CLI output or a message.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError, OptimiserError, OutputExistsError
from optimiser.cli.app import app
from optimiser.dataset.imports.children import (
    build_children,
    import_children,
    mark_real_children,
    real_children_notice,
)
from optimiser.dataset.imports.export import age_on, year_start
from optimiser.dataset.imports.homes import lsoa_table
from optimiser.dataset.imports.mapping import load_mapping
from optimiser.dataset.imports.pseudonyms import pseudonym, read_key
from optimiser.dataset.paths import default_path
from optimiser.dataset.postcodes import read_postcode_file

ROOT = Path(__file__).resolve().parents[1]
MAPPINGS = ROOT / "examples" / "import_mappings"
KEY = b"trafford-test-key-0123456789"
OTHER_KEY = b"another-la-key-9876543210"
AS_OF = dt.date(2026, 1, 15)  # academic year 2025/26: ages on 31 August 2025
runner = CliRunner()

# ONSPD's own layout (a subset of its columns, in its order): the tests' postcodes are
# made up, at Trafford LSOA centroids nudged by a few metres.
ONSPD_HEADER = (
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,"
    "osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,lsoa11,msoa11,lat,long,lsoa21,msoa21"
)
NEED_LABELS = ["Autism", "Social, Emotional and Mental Health", "SLD", "Severe Learning Difficulty",
               "Physical Disability", "Hearing Impairment", "MLD", "PMLD"]  # fmt: skip


def _trafford_lsoas() -> list[str]:
    table = lsoa_table()
    wards = pd.read_csv(default_path() / "children.csv", dtype=str)["lsoa_code"]
    return sorted(set(wards) & set(table.index))[:40]


def _postcodes(n: int) -> list[str]:
    areas = ["M33", "M32", "WA14", "WA15", "M41", "M16"]
    return [f"{areas[i % len(areas)]} {i % 9 + 1}Q{chr(ord('A') + i % 26)}" for i in range(n)]


@pytest.fixture(scope="module")
def onspd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A tiny ONSPD extract (ONSPD's layout) and postcode → LSOA of each of its rows."""
    lsoas = _trafford_lsoas()
    table = lsoa_table()
    codes = _postcodes(30)
    lines = [ONSPD_HEADER]
    lsoa_of = {}
    for i, pc in enumerate(codes):
        ls = lsoas[i % len(lsoas)]
        e, n = table.at[ls, "easting"] + 7 * i % 40, table.at[ls, "northing"] - 3 * i % 40
        compact = pc.replace(" ", "")
        lsoa_of[pc] = ls
        lines.append(
            f"{pc[:-3]:<4}{pc[-3:]},{compact},{pc},202001,,E99999999,E99999999,E08000009,"
            f"{table.at[ls, 'ward24_code']},E43000001,0,{e:.0f},{n:.0f},1,E18000002,E40000010,"
            f"E92000001,E12000002,E01000000,E02000000,53.4,-2.3,{ls},E02001259"
        )
    # a postcode ONSPD holds without a grid reference (osgrdind 9): not usable
    lines.append(
        "M33 9ZZ,M339ZZ,M33 9ZZ,202001,,E99999999,E99999999,E08000009,,,1,,,9,E18000002,"
        "E40000010,E92000001,E12000002,,,99.999999,0.000000,,"
    )
    path = tmp_path_factory.mktemp("onspd") / "ONSPD_FEB_2025_trafford.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lsoa_of


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine copy of the embedded Trafford folder (copy it again before writing)."""
    dst = tmp_path_factory.mktemp("base") / "trafford"
    shutil.copytree(default_path(), dst)
    return dst


def _fresh(folder: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "trafford"
    shutil.copytree(folder, dst)
    return dst


def _upn(i: int) -> str:
    return f"H{823200000000 + 7919 * i:012d}"


def _born(age: int, i: int) -> dt.date:
    """Born so as to be ``age`` on 31 August 2025."""
    return dt.date(2025 - age - 1, 9 + i % 4, 1 + i % 27)


SETTINGS = {  # (URN, name, package its places include) of Trafford settings
    "delamere": ("106394", "Delamere School", "SPP1"),
    "egerton": ("131885", "Egerton High School", "SPP4"),
    "orchards": ("142782", "The Orchards", "SPP3"),
    "manor": ("142288", "Manor Academy Sale", "SPP2"),
}


def _good_rows(n: int, codes: list[str]) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        age = 5 + i % 11
        out.append(
            {
                "upn": _upn(i),
                "born": _born(age, i),
                "need": NEED_LABELS[i % len(NEED_LABELS)],
                "postcode": codes[i],
                "urn": SETTINGS["egerton"][0] if i % 5 == 1 else "",
                "prefs": [SETTINGS["orchards"][1], SETTINGS["manor"][0]] if i % 4 == 0 else [],
            }
        )
    return out


@pytest.fixture(scope="module")
def capita(tmp_path_factory: pytest.TempPathFactory, onspd) -> tuple[Path, dict[int, str]]:
    """A Capita One style CSV (shipped capita_one.yaml): 24 good rows, 7 bad, 1 skipped.

    Returns the path and, for each bad row (spreadsheet row), what is wrong with it.
    """
    codes = list(onspd[1])
    rows = _good_rows(24, codes)
    for r in rows:  # mixed case and spacing, as typed
        r["postcode"] = (
            str(r["postcode"]).lower().replace(" ", "") if r["upn"][-1] in "13" else r["postcode"]
        )
    bad = [
        ({"upn": ""}, "pupil id"),
        ({"upn": _upn(3)}, "same pupil"),
        ({"born": "31/02/2015"}, "not a date"),
        ({"born": dt.date(1990, 5, 1)}, "age outside"),
        ({"need": "Dyspraxia (local label)"}, "need label"),
        ({"postcode": "M33 1ZZ"}, "postcode not in the lookup"),
        ({"postcode": "not known"}, "not a postcode"),
    ]
    tagged: list[tuple[dict[str, object], str | None]] = [(r, None) for r in rows]
    for j, (change, what) in enumerate(bad):
        row = {**_good_rows(1, [codes[25 + j % 5]])[0], "upn": _upn(100 + j), **change}
        tagged.insert(2 + 3 * j, (row, what))
    rows = [r for r, _ in tagged]
    problems = {pos + 2: what for pos, (_, what) in enumerate(tagged) if what is not None}
    rows.append({**_good_rows(1, [codes[29]])[0], "upn": _upn(150)})  # only_rows skips it
    table = pd.DataFrame(
        {
            "UPN": [r["upn"] for r in rows],
            "Surname": [f"Surname{i}" for i in range(len(rows))],
            "Forename": [f"Forename{i}" for i in range(len(rows))],
            "Date of Birth": [
                b.strftime("%d/%m/%Y") if isinstance(b, dt.date) else b
                for b in (r["born"] for r in rows)
            ],
            "Primary Need": [r["need"] for r in rows],
            "Current Establishment DfE URN": [r["urn"] for r in rows],
            "Home Postcode": [r["postcode"] for r in rows],
            "Parental Preference 1": [(r["prefs"] or [""])[0] for r in rows],
            "Parental Preference 2": [(r["prefs"] + ["", ""])[1] for r in rows],
            "Parental Preference 3": [
                "Nowhere Academy" if i == 6 else "" for i in range(len(rows))
            ],
            "Solo Transport Required": ["Y" if i % 7 == 0 else "N" for i in range(len(rows))],
            "Wheelchair User": ["" for _ in rows],
            "Specialist Provision": ["Yes"] * (len(rows) - 1) + ["No"],
        }
    )
    path = tmp_path_factory.mktemp("exports") / "capita_caseload.csv"
    table.to_csv(path, index=False, encoding="cp1252")  # as a Windows system writes it
    return path, problems


@pytest.fixture(scope="module")
def liquid(tmp_path_factory: pytest.TempPathFactory, onspd) -> Path:
    """A Liquid Logic style XLSX (shipped liquid_logic.yaml): title rows, sheet Caseload,
    real Excel dates, a package column and LSOAs; 26 good rows and 4 bad ones."""
    codes, lsoa_of = list(onspd[1]), onspd[1]
    rows = _good_rows(26, codes)
    packages = ["SPP 3 - Autism and communication", "SPP4", "SPP 2 - Severe and complex learning"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Caseload"
    ws.append(["EHCP caseload report"])
    ws.append(["Run on 15/01/2026"])
    ws.append(["Pupil UPN", "Child Name", "DOB", "Primary SEN Need", "Specialist Provision Package",
               "Current Placement", "Postcode", "LSOA 2021", "Preferred Settings",
               "Mainstream Preferred"])  # fmt: skip
    for i, r in enumerate(rows):
        need = "Autism Spectrum Condition" if i % 2 else "SEMH"
        ws.append([r["upn"], f"Name {i}", r["born"], need, packages[i % 3],
                   SETTINGS["orchards"][1] if i % 6 == 2 else "",
                   r["postcode"], lsoa_of[str(r["postcode"])],
                   "; ".join([SETTINGS["manor"][1], "S005"]) if i % 3 == 0 else "",
                   "Yes" if i % 9 == 0 else "No"])  # fmt: skip
    ls = lsoa_of[codes[0]]
    ws.append(
        [_upn(200), "Bad 1", _born(8, 1), "SEMH", "SPP 9 - unknown", "", codes[1], ls, "", ""]
    )
    ws.append([_upn(201), "Bad 2", _born(8, 2), "SEMH", "SPP4", "", "WA15 9ZZ", ls, "", ""])
    ws.append(
        [_upn(202), "Bad 3", _born(8, 3), "SEMH", "SPP4", "", "WA15 9ZY", "E01999999", "", ""]
    )
    ws.append([_upn(203), "Bad 4", None, "SEMH", "SPP4", "Unknown School", codes[2], ls, "", ""])
    path = tmp_path_factory.mktemp("exports") / "liquid_logic_caseload.xlsx"
    wb.save(path)
    return path


def _secrets(export: Path) -> list[str]:
    """The export's pupil ids and postcodes (both spellings), names and dates of birth."""
    if export.suffix == ".csv":
        t = pd.read_csv(export, dtype=str, keep_default_na=False, encoding="cp1252")
        cols = ["UPN", "Home Postcode", "Surname", "Date of Birth"]
    else:
        t = pd.read_excel(export, header=2, dtype=str, keep_default_na=False)
        cols = ["Pupil UPN", "Postcode", "Child Name"]
    values = {str(v).strip() for c in cols for v in t[c] if len(str(v).strip()) >= 5}
    values |= {v.replace(" ", "").upper() for v in values if " " in v}
    return sorted(values)


def _assert_nothing_personal(export: Path, texts: list[str]) -> None:
    secrets = _secrets(export)
    assert len(secrets) > 60 and any(" " in s for s in secrets)  # ids, postcodes, names
    for secret in secrets:
        for text in texts:
            assert secret not in text, "a value of the export leaked"


def _folder_texts(path: Path) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in path.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- unit


def test_pseudonyms_are_keyed_stable_and_normalised() -> None:
    upn = "H823200112345"
    assert pseudonym(upn, KEY) == pseudonym(" h823 200112345 ", KEY)
    assert pseudonym(upn, KEY) != pseudonym(upn, OTHER_KEY)
    assert pseudonym(upn, KEY) != pseudonym("H823200112346", KEY)
    assert pseudonym(upn, KEY).startswith("P") and len(pseudonym(upn, KEY)) == 17
    assert upn not in pseudonym(upn, KEY)


def test_ages_follow_the_31_august_rule() -> None:
    assert year_start(dt.date(2026, 1, 15)) == dt.date(2025, 8, 31)
    assert year_start(dt.date(2025, 9, 1)) == dt.date(2025, 8, 31)
    assert year_start(dt.date(2025, 8, 31)) == dt.date(2024, 8, 31)
    day = dt.date(2025, 8, 31)
    assert age_on(dt.date(2015, 8, 31), day) == 10  # the youngest of the year group
    assert age_on(dt.date(2015, 9, 1), day) == 9  # the oldest of the next one
    assert age_on(dt.date(2016, 2, 29), day) == 9


def test_key_is_refused_when_short_and_never_echoed(tmp_path, monkeypatch) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"tooshort-key\n")
    with pytest.raises(OptimiserError, match="12 bytes; a key needs at least 16") as info:
        read_key(key_file=short)
    assert "tooshort" not in str(info.value)
    monkeypatch.setenv("LA_KEY", KEY.decode())
    assert read_key(key_env="LA_KEY") == KEY
    good = tmp_path / "good.key"
    good.write_bytes(KEY + b"\n")
    assert read_key(key_file=good) == KEY
    with pytest.raises(OptimiserError, match="exactly one"):
        read_key(key_file=good, key_env="LA_KEY")
    with pytest.raises(OptimiserError, match="NO_SUCH_VAR is not set"):
        read_key(key_env="NO_SUCH_VAR")


def test_onspd_layout_is_read(onspd) -> None:
    table = read_postcode_file(onspd[0])
    assert list(table.columns) == ["postcode", "easting", "northing", "lsoa_code"]
    row = table[table["postcode"] == next(iter(onspd[1]))].iloc[0]
    assert row["lsoa_code"] == onspd[1][row["postcode"]]
    assert np.isnan(table.loc[table["postcode"] == "M33 9ZZ", "easting"]).all()  # osgrdind 9
    kept = read_postcode_file(onspd[0], keep={"M33 9ZZ", next(iter(onspd[1]))})
    assert len(kept) == 2


def test_postcode_files_with_bom_lat_long_or_ragged_rows(tmp_path) -> None:
    bom = tmp_path / "lookup.csv"
    bom.write_bytes(b"\xef\xbb\xbfPostcode,LAT,LONG\r\nm33 7xb,53.42,-2.32\r\n")
    table = read_postcode_file(bom)
    assert table["postcode"].tolist() == ["M33 7XB"]
    assert 378_000 < table.at[0, "easting"] < 379_500  # lon/lat → British National Grid
    ragged = tmp_path / "ONSPD.csv"
    ragged.write_text("pcds,oseast1m,osnrth1m\nM33 7XB,1,2\nM33 7XC,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"ONSPD\.csv: found malformed CSV"):
        read_postcode_file(ragged)


def test_example_mappings_load() -> None:
    names = sorted(p.name for p in MAPPINGS.glob("*.yaml"))
    assert names == [
        "capita_one.yaml",
        "liquid_logic.yaml",
        "mosaic.yaml",
        "sen2_person_level.yaml",
        "synergy.yaml",
    ]
    for path in MAPPINGS.glob("*.yaml"):
        assert load_mapping(path).columns.pupil_id


def test_mapping_errors_name_the_key(tmp_path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("columns:\n  pupil_id: UPN\n  age: Age\n  lsoa: LSOA\n  primary_need: N\n"
                    "need_values: {Autism: AUT}\ncolum: x\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(DataValidationError) as info:
        load_mapping(path)
    text = str(info.value)
    assert "key need_values" in text and "not a SEN2 primary-need code" in text
    assert "key colum" in text


# --------------------------------------------------------------------------- CSV layout


def test_capita_csv_import(folder, onspd, capita, tmp_path) -> None:
    export, bad = capita
    mapping = load_mapping(MAPPINGS / "capita_one.yaml")
    res = build_children(export, mapping, folder, key=KEY, postcodes=onspd[0], as_of=AS_OF)
    assert len(res.children) == 24 and res.rows_read == 32 and res.skipped == 1
    # each bad row is named once, by its spreadsheet row, with the export's column
    left = {p.row: p for p in res.left_out}
    assert set(left) == set(bad), (sorted(left), sorted(bad))
    for row, what in bad.items():
        assert what in left[row].found, (row, str(left[row]))
        assert left[row].file == "capita_caseload.csv" and left[row].fix
    pc = next(p for p in res.left_out if "not in the lookup" in p.found)
    assert str(pc).startswith(f"capita_caseload.csv row {pc.row}, column Home Postcode: found a "
                              "postcode not in the lookup")  # fmt: skip
    assert "check it or give the LSOA" in str(pc)
    pref = [p for p in res.warnings if p.column == "Parental Preference 3"]
    assert len(pref) == 1 and pref[0].severity == "warning"
    kids = res.children.set_index("child_id")
    first = pseudonym(_upn(0), KEY)
    assert kids.at[first, "age"] == 5 and kids.at[first, "primary_need"] == "asd"
    assert kids.at[first, "package_id"] == "SPP3"  # asd -> SPP3 in need_packages.csv
    assert kids.at[first, "lsoa_code"] == onspd[1][_postcodes(30)[0]]
    assert kids.at[first, "preferences"] == "S018;S013"  # a name and a URN
    assert kids.at[pseudonym(_upn(1), KEY), "current_setting_id"] == "S008"
    assert kids["lsoa_code"].str.startswith("E01").all()
    assert res.counts["home_postcode"] == 24  # lower case, no space: still found
    assert res.counts["package_from_need"] == 24 and res.counts["continuing"] == 5


def test_capita_cli_writes_a_folder_that_validates_and_allocates(
    folder, onspd, capita, tmp_path, monkeypatch
) -> None:
    export, _ = capita
    into = _fresh(folder, tmp_path)
    monkeypatch.setenv("TEST_LA_KEY", KEY.decode())
    args = ["import", "children", str(export), "--map", str(MAPPINGS / "capita_one.yaml"),
            "--into", str(into), "--key-env", "TEST_LA_KEY", "--postcodes", str(onspd[0]),
            "--as-of", AS_OF.isoformat()]  # fmt: skip
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "already exists; add --force" in refused.output
    out = runner.invoke(app, [*args, "--force"])
    assert out.exit_code == 0, out.output
    assert "24 children kept, 7 rows left out, 1 skipped" in out.output
    assert "row(s) left out" in out.output and "Traceback" not in out.output
    backups = list(into.glob("children.csv.*.bak"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == (default_path() / "children.csv").read_bytes()
    assert not [p for p in into.iterdir() if p.name.startswith(".")]  # no staging left
    ds = optimiser.load_dataset(into)  # validates
    assert len(ds.children) == 24
    # the notices no longer say the children are synthetic; nothing else in them changed
    assert "synthetic" not in ds.data_notice.lower() and "LA's own records" in ds.data_notice
    assert "synthetic" not in ds.attribution.lower()
    assert ds.attribution.startswith("Contains public sector information")
    old_policy = (default_path() / "policy.yaml").read_text(encoding="utf-8").splitlines()
    new_policy = (into / "policy.yaml").read_text(encoding="utf-8").splitlines()
    assert [x for x in new_policy if not x.startswith("data_notice:")] == [
        x for x in old_policy[:5] + old_policy[8:]
    ]
    assert ds.policy.model_dump(
        exclude={"data_notice"}
    ) == optimiser.load_default().policy.model_dump(exclude={"data_notice"})
    assert "policy.yaml and attribution.txt: the notice" in out.output
    res = optimiser.allocate(ds)
    assert len(res.placements) + len(res.unplaced) == 24
    assert optimiser.check_allocation(ds, res) == []
    validate = runner.invoke(app, ["validate", str(into)])
    assert validate.exit_code == 0, validate.output
    _assert_nothing_personal(export, [out.output, refused.output, *_folder_texts(into)])
    assert KEY.decode() not in out.output + "".join(_folder_texts(into))
    # the same key gives the same ids; another key other ids
    again = build_children(export, load_mapping(MAPPINGS / "capita_one.yaml"), folder,
                           key=KEY, postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    assert sorted(again.children["child_id"]) == sorted(ds.children["child_id"])
    other = build_children(export, load_mapping(MAPPINGS / "capita_one.yaml"), folder,
                           key=OTHER_KEY, postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    assert not set(other.children["child_id"]) & set(ds.children["child_id"])


def test_strict_fails_with_the_rows_and_writes_nothing(folder, onspd, capita, tmp_path) -> None:
    export, bad = capita
    into = _fresh(folder, tmp_path)
    before = (into / "children.csv").read_bytes()
    with pytest.raises(DataValidationError) as info:
        import_children(export, MAPPINGS / "capita_one.yaml", into, key=KEY,
                        postcodes=onspd[0], as_of=AS_OF, strict=True, force=True)  # fmt: skip
    text = str(info.value)
    for row in bad:
        assert f"capita_caseload.csv row {row}, column" in text
    assert "column Parental Preference 3" in text  # unmatched preference: strict fails too
    _assert_nothing_personal(export, [text])
    assert (into / "children.csv").read_bytes() == before
    assert sorted(p.name for p in into.iterdir()) == sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- XLSX layout


def test_liquid_logic_xlsx_import(folder, onspd, liquid, tmp_path) -> None:
    into = _fresh(folder, tmp_path)
    (into / "children.csv").unlink()  # a folder waiting for its children: no --force needed
    key_file = tmp_path / "la.key"
    key_file.write_bytes(KEY)
    args = ["import", "children", str(liquid), "--map", str(MAPPINGS / "liquid_logic.yaml"),
            "--into", str(into), "--key-file", str(key_file), "--postcodes", str(onspd[0]),
            "--as-of", AS_OF.isoformat()]  # fmt: skip
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "27 children kept, 3 rows left out" in out.output  # rows 30, 32, 33 out
    lines = out.output.splitlines()
    assert any("liquid_logic_caseload.xlsx row 30, column Specialist Provision Package" in x
               for x in lines)  # fmt: skip
    assert any("row 31, column Postcode" in x and "LSOA's centroid" in x for x in lines)
    assert any("row 32, column Postcode: found a postcode not in the lookup" in x for x in lines)
    assert any("row 33, column DOB: found a blank date of birth" in x for x in lines)
    assert "26 by postcode, 1 at their LSOA" in out.output
    ds = optimiser.load_dataset(into)
    kids = ds.children.set_index("child_id")
    k0 = pseudonym(_upn(0), KEY)
    assert kids.at[k0, "package_id"] == "SPP3" and kids.at[k0, "primary_need"] == "semh"
    assert tuple(kids.at[k0, "preferences"]) == ("S013", "S005") and bool(
        kids.at[k0, "prefers_mainstream"]
    )
    assert kids.at[pseudonym(_upn(2), KEY), "current_setting_id"] == "S018"
    assert kids.at[pseudonym(_upn(1), KEY), "age"] == 6  # an Excel date cell
    assert set(ds.children["child_id"]) >= {pseudonym(_upn(i), KEY) for i in range(26)}
    _assert_nothing_personal(liquid, [out.output, *_folder_texts(into)])
    res = optimiser.allocate(ds)
    assert len(res.placements) + len(res.unplaced) == len(ds.children)


def test_export_and_key_never_live_in_the_folder(folder, onspd, capita, tmp_path) -> None:
    into = _fresh(folder, tmp_path)
    inside = into / "export.csv"
    shutil.copy(capita[0], inside)
    with pytest.raises(OptimiserError, match="inside the dataset folder"):
        import_children(inside, MAPPINGS / "capita_one.yaml", into, key=KEY, force=True)
    with pytest.raises(OutputExistsError):
        import_children(capita[0], MAPPINGS / "capita_one.yaml", into, key=KEY)
    key_file = into / "la.key"
    key_file.write_bytes(KEY)
    out = runner.invoke(app, ["import", "children", str(capita[0]), "--map",
                              str(MAPPINGS / "capita_one.yaml"), "--into", str(into),
                              "--key-file", str(key_file), "--force"])  # fmt: skip
    assert out.exit_code == 1 and "key file is inside the dataset folder" in out.output
    with pytest.raises(OptimiserError, match="at least 16"):
        build_children(capita[0], load_mapping(MAPPINGS / "capita_one.yaml"), into, key=b"k")


# --------------------------------------------------------------------------- other layouts


def test_sen2_person_level_csv(folder, onspd, tmp_path) -> None:
    """SEN2's own codes (NSA = not recorded), ISO dates and placement URNs."""
    codes = _postcodes(30)
    table = pd.DataFrame(
        {
            "UPN": [_upn(300 + i) for i in range(8)],
            "PersonBirthDate": [_born(6 + i, i).isoformat() for i in range(8)],
            "SENType": ["ASD", "SEMH", "pmld", "NSA", "HI", "SpLD", "", "XYZ"],
            "URN": ["142782", "131885", "106394", "", "", "", "", ""],
            "Postcode": codes[:8],
        }
    )
    export = tmp_path / "sen2_person_level.csv"
    table.to_csv(export, index=False)
    res = build_children(export, load_mapping(MAPPINGS / "sen2_person_level.yaml"), folder,
                         key=KEY, postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    kids = res.children.set_index("child_id")
    need = {i: kids.at[pseudonym(_upn(300 + i), KEY), "primary_need"] for i in range(7)}
    assert need == {0: "asd", 1: "semh", 2: "pmld", 3: "unknown", 4: "hi", 5: "spld", 6: "unknown"}
    assert kids.at[pseudonym(_upn(302), KEY), "package_id"] == "SPP1"  # pmld -> SPP1
    assert kids.at[pseudonym(_upn(304), KEY), "package_id"] == "SPP5"  # hi -> SPP5
    assert kids.at[pseudonym(_upn(300), KEY), "current_setting_id"] == "S018"
    assert kids.at[pseudonym(_upn(300), KEY), "age"] == 6
    assert [(p.row, p.column) for p in res.left_out] == [(9, "SENType")]
    # spld feeds SPP2 and SPP4 (0.5 each): the pick is keyed, so stable for the child
    again = build_children(export, load_mapping(MAPPINGS / "sen2_person_level.yaml"), folder,
                           key=KEY, postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    pd.testing.assert_frame_equal(res.children, again.children)


def test_need_shares_split_children_by_share(folder, onspd, tmp_path) -> None:
    """A need feeding two packages splits its children about by the shares (slcn 0.6/0.4)."""
    n = 400
    table = pd.DataFrame(
        {
            "UPN": [_upn(1000 + i) for i in range(n)],
            "PersonBirthDate": [_born(8, i).isoformat() for i in range(n)],
            "SENType": ["SLCN"] * n,
            "URN": [""] * n,
            "Postcode": [_postcodes(30)[i % 30] for i in range(n)],
        }
    )
    export = tmp_path / "slcn.csv"
    table.to_csv(export, index=False)
    res = build_children(export, load_mapping(MAPPINGS / "sen2_person_level.yaml"), folder,
                         key=KEY, postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    share = float((res.children["package_id"] == "SPP3").mean())
    assert 0.53 < share < 0.67, share  # 0.6 +- 3 standard errors of 400 draws
    assert set(res.children["package_id"]) == {"SPP2", "SPP3"}


def test_synergy_ages_and_lsoas_without_postcodes(folder, tmp_path) -> None:
    """The export's own ages, homes at LSOA centroids (no lookup needed), setting aliases."""
    lsoas = _trafford_lsoas()
    table = pd.DataFrame(
        {
            "Pupil Reference (UPN)": [_upn(400 + i) for i in range(6)],
            "Age at 31 August": ["7", "12", "26", "", "9", "15"],
            "Primary Need Code": ["ASC", "SEMH", "ASD", "ASD", "SLD", "PD"],
            "Placement Establishment": ["Manor Academy", "", "", "", "S007", "Nowhere High"],
            "Home LSOA21": [lsoas[0], lsoas[1], lsoas[2], lsoas[3], "e01999999", lsoas[5]],
            "First Preference": ["", "Egerton High School", "", "", "", ""],
            "Second Preference": ["", "the orchards", "", "", "", ""],
            "Transport - Solo": ["", "Yes", "", "", "maybe", ""],
        }
    )
    export = tmp_path / "synergy.csv"
    table.to_csv(export, index=False)
    res = build_children(export, load_mapping(MAPPINGS / "synergy.yaml"), folder, key=KEY,
                         as_of=AS_OF)  # fmt: skip
    kids = res.children.set_index("child_id")
    k0, k1 = pseudonym(_upn(400), KEY), pseudonym(_upn(401), KEY)
    assert kids.at[k0, "current_setting_id"] == "S013" and kids.at[k0, "primary_need"] == "asd"
    assert kids.at[k0, "age"] == 7 and kids.at[k0, "lsoa_code"] == lsoas[0]
    centroid = lsoa_table().loc[lsoas[0]]
    assert (kids.at[k0, "easting"], kids.at[k0, "northing"]) == (
        centroid["easting"],
        centroid["northing"],
    )
    assert kids.at[k0, "ward_code"] == centroid["ward24_code"]
    assert tuple(kids.at[k1, "preferences"].split(";")) == ("S008", "S018")
    assert bool(kids.at[k1, "solo_transport"])
    left = {(p.row, p.column) for p in res.left_out}
    assert left == {(4, "Age at 31 August"), (5, "Age at 31 August"), (6, "Home LSOA21")}
    warned = {(p.row, p.column) for p in res.warnings}
    assert warned == {(7, "Placement Establishment")}
    assert res.counts["home_lsoa_centroid"] == 3


def test_imports_are_deterministic_and_the_embedded_data_is_never_written(
    folder, onspd, capita, tmp_path
) -> None:
    outs = []
    for name in ("a", "b"):
        into = tmp_path / name
        shutil.copytree(folder, into)
        import_children(capita[0], MAPPINGS / "capita_one.yaml", into, key=KEY,
                        postcodes=onspd[0], as_of=AS_OF, force=True)  # fmt: skip
        outs.append((into / "children.csv").read_bytes())
    assert outs[0] == outs[1]
    # the validator's warnings on children.csv rows come back as the export's rows
    res = import_children(capita[0], MAPPINGS / "capita_one.yaml", tmp_path / "a", key=KEY,
                          postcodes=onspd[0], as_of=AS_OF, force=True)  # fmt: skip
    rows = [p for p in res.validation if "(children.csv row" in p.column]
    assert rows and all(p.file == "capita_caseload.csv" and p.row in res.source_rows for p in rows)
    assert all(p.column.startswith("current_setting_id") for p in rows)  # HI child at Egerton
    with pytest.raises(OptimiserError, match="embedded Trafford data"):
        import_children(capita[0], MAPPINGS / "capita_one.yaml", default_path(), key=KEY,
                        postcodes=onspd[0], force=True)  # fmt: skip


def test_init_notices_are_replaced_and_nothing_else(tmp_path) -> None:
    """optimiser init writes the notice on one line; the rest of both files is kept."""
    policy = (
        "# Policy for Rutland (857) by `optimiser init`, Trafford's defaults.\n"
        "area_name: Rutland\n"
        'data_notice: "Synthetic data: the children in this dataset are made up by optimiser '
        "init (a seeded cohort sized to Rutland's SEN2 return), not real pupils; settings, "
        'places and wards are public data."\n'
        'la_code: "857"\n'
        "max_travel_min:\n  primary: 45\n  secondary: 75\n"
    )
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    (tmp_path / "attribution.txt").write_text(
        "Contains OS data © Crown copyright [2021-2025]. Children in this dataset are "
        "synthetic (optimiser init).\n",
        encoding="utf-8",
    )
    census = dt.date(2025, 8, 31)
    assert mark_real_children(tmp_path, census) == ["policy.yaml", "attribution.txt"]
    lines = (tmp_path / "policy.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[2].startswith("data_notice:") and "synthetic" not in lines[2].lower()
    assert lines[:2] + lines[3:] == [x for x in policy.splitlines() if "data_notice" not in x]
    text = (tmp_path / "attribution.txt").read_text(encoding="utf-8")
    assert (
        text == f"Contains OS data © Crown copyright [2021-2025]. {real_children_notice(census)}\n"
    )
    assert mark_real_children(tmp_path, census) == []  # the second time: nothing to change


def test_mosaic_xlsx_names_and_labels(folder, onspd, tmp_path) -> None:
    """Setting names (any case, '&' for 'and') and Mosaic-style need labels."""
    codes = _postcodes(30)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    ws.append(["UPN", "Date Of Birth", "Primary SEN Type", "Current Provision Name",
               "Address Postcode", "Preference 1 Name", "Preference 2 Name",
               "Preference 3 Name", "Wheelchair User", "Single Occupancy Transport"])  # fmt: skip
    ws.append([_upn(500), _born(7, 0), "Profound and Multiple Learning Difficulty (PMLD)",
               "DELAMERE SCHOOL", codes[0], "", "", "", "Yes", "No"])  # fmt: skip
    ws.append([_upn(501), _born(13, 1), "Social Emotional and Mental Health (SEMH)",
               "", codes[1], "egerton high school", "Manor Academy, Sale", "Sale Manor",
               "", "Y"])  # fmt: skip
    export = tmp_path / "mosaic.xlsx"
    wb.save(export)
    res = build_children(export, load_mapping(MAPPINGS / "mosaic.yaml"), folder, key=KEY,
                         postcodes=onspd[0], as_of=AS_OF)  # fmt: skip
    kids = res.children.set_index("child_id")
    k0, k1 = pseudonym(_upn(500), KEY), pseudonym(_upn(501), KEY)
    assert kids.at[k0, "current_setting_id"] == "S007" and kids.at[k0, "package_id"] == "SPP1"
    assert bool(kids.at[k0, "wheelchair"]) and kids.at[k0, "age"] == 7
    assert kids.at[k1, "preferences"] == "S008;S013" and bool(kids.at[k1, "solo_transport"])
    # "Sale Manor" is no settings.csv name (punctuation aside): a warning naming row and column
    assert [(p.row, p.column) for p in res.warnings] == [(3, "Preference 3 Name")]
