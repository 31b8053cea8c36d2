"""``optimiser import gias``: a GIAS download in its real layout updates settings and candidates.

The tests write a small file with GIAS's real header row (edubasealldata, 2023-2025 layout),
Windows-1252 encoded, holding rows of Rutland (857) as ``optimiser init`` builds it, and
run the CLI on a copy of that folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from import_files import GIAS_HEADER, write_gias
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError
from optimiser.cli.app import app
from optimiser.dataset.imports.gias import provision_codes, read_gias
from optimiser.dataset.imports.gias_update import import_gias

LA = "857"  # Rutland: the smallest LA init builds (35 settings, 15 candidates, a few s)


ASD = "ASD - Autistic Spectrum Disorder"
SLCN = "SLCN - Speech, language and Communication"
SEMH = "SEMH - Social, Emotional and Mental Health"


def gias_row(urn: int, name: str, **cells: object) -> dict[str, str]:
    """One GIAS row: Rutland, open, the given cells (GIAS column -> value), the rest blank."""
    row = dict.fromkeys(GIAS_HEADER, "")
    row.update({
        "URN": str(urn), "LA (code)": LA, "LA (name)": "Rutland", "EstablishmentName": name,
        "EstablishmentStatus (code)": "1", "EstablishmentStatus (name)": "Open",
        "Gender (name)": "Mixed", "TypeOfResourcedProvision (name)": "Not applicable",
        "AdmissionsPolicy (name)": "Not applicable", "Country (name)": "United Kingdom",
        "SEN1 (name)": "",
    })  # fmt: skip
    row.update({k: str(v) for k, v in cells.items()})
    return row


def good_rows() -> list[dict[str, str]]:
    """Rows for Rutland's settings and candidates, with what the national extract lacks."""
    return [
        # S0003 Catmose College: an assumed base; GIAS gives a real resourced provision
        gias_row(136530, "Catmose College", **{
            "TypeOfEstablishment (name)": "Academy converter", "PhaseOfEducation (name)":
            "Secondary", "StatutoryLowAge": 11, "StatutoryHighAge": 16, "SchoolCapacity": 1300,
            "TypeOfResourcedProvision (name)": "Resourced provision",
            "ResourcedProvisionCapacity": 10, "SenUnitCapacity": "", "SEN1 (name)": ASD,
            "SEN2 (name)": SLCN, "Easting": 485388, "Northing": 309063}),
        # S0011 Ketton: a base GIAS gives nothing for (a warning: assumed base not real)
        gias_row(141453, "Ketton Church of England Primary School", **{
            "TypeOfEstablishment (name)": "Academy converter", "PhaseOfEducation (name)":
            "Primary", "StatutoryLowAge": 3, "StatutoryHighAge": 11, "SchoolCapacity": 210,
            "Easting": 498092, "Northing": 304457}),
        # S0018 The Shires: an independent special school, 8-19, SEMH + ASD
        gias_row(131018, "The Shires", **{
            "TypeOfEstablishment (name)": "Other independent special school",
            "PhaseOfEducation (name)": "Not applicable", "StatutoryLowAge": 8,
            "StatutoryHighAge": 19, "SchoolCapacity": 40, "SEN1 (name)": SEMH,
            "SEN2 (name)": ASD, "Easting": 494826, "Northing": 315573}),
        # N013 / S0016 St Mary and St John: a boys' selective school, for the test's sake
        gias_row(120229, "St Mary’s and St John’s CofE VA Primary School", **{
            "TypeOfEstablishment (name)": "Voluntary aided school", "PhaseOfEducation (name)":
            "Primary", "StatutoryLowAge": 4, "StatutoryHighAge": 11, "SchoolCapacity": 105,
            "Gender (name)": "Boys", "AdmissionsPolicy (name)": "Selective",
            "Easting": 493414, "Northing": 303363}),
        # a special school of Rutland the dataset lacks (a warning), Welsh-named
        gias_row(999001, "Ysgol Gymraeg – Pen-y-Bryn", **{
            "TypeOfEstablishment (name)": "Community special school", "StatutoryLowAge": 2,
            "StatutoryHighAge": 19, "Easting": 490000, "Northing": 310000}),
        # another LA's school: not in the dataset, ignored
        gias_row(100000, "The Aldgate School", **{"LA (code)": 201, "LA (name)": "City of London",
                 "StatutoryLowAge": 3, "StatutoryHighAge": 11}),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def rutland(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rutland's init folder, built once for the module (read only: tests copy it)."""
    out = tmp_path_factory.mktemp("init") / "rutland"
    optimiser.init_la(LA, out)
    return out


@pytest.fixture
def folder(rutland: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "rutland"
    shutil.copytree(rutland, dst)
    return dst


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_read_gias_windows_1252_and_variant_headers(tmp_path: Path) -> None:
    path = write_gias(tmp_path / "edubasealldata20250524.csv", good_rows())
    assert "’".encode("cp1252") in path.read_bytes()  # really Windows-1252
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    frame = read_gias(path, [])
    assert frame is not None and frame.attrs["encoding"] == "windows-1252"
    assert frame.loc[3, "name"] == "St Mary’s and St John’s CofE VA Primary School"
    assert frame.attrs["columns"]["la_code"] == "LA (code)"
    # the same rows, UTF-8, headers without the " (name)" / " (code)" suffixes
    rows = [{k.replace(" (name)", "").replace(" (code)", ""): v for k, v in r.items()
             if not k.endswith(" (code)") or k == "LA (code)"} for r in good_rows()]  # fmt: skip
    plain = tmp_path / "edubaseallstatefunded20250524.csv"
    pd.DataFrame(rows).to_csv(plain, index=False, encoding="utf-8")
    other = read_gias(plain, [])
    assert other is not None and other.attrs["encoding"] == "utf-8"
    assert other.attrs["columns"]["type"] == "TypeOfEstablishment"
    assert other["name"].tolist() == frame["name"].tolist()
    assert other["sen1"].tolist() == frame["sen1"].tolist()


def test_provision_codes() -> None:
    assert provision_codes([ASD, "", "Not Applicable", SLCN, ASD]) == ["ASD", "SLCN"]


def test_import_updates_settings_and_candidates(folder: Path, tmp_path: Path) -> None:
    path = write_gias(tmp_path / "edubasealldata20250524.csv", good_rows())
    before_places = (folder / "places.csv").read_bytes()
    before_s = _table(folder, "settings.csv")
    res = CliRunner().invoke(app, ["import", "gias", str(path), "--la", LA, "--into", str(folder)])
    assert res.exit_code == 0, res.output
    s = _table(folder, "settings.csv").set_index("setting_id")
    c = _table(folder, "candidates.csv").set_index("site_id")
    # Catmose College base: 11-15, capacity 10 from GIAS, ASD + SLCN -> SPP3
    assert s.loc["S0003", ["age_min", "age_max", "total_places"]].tolist() == ["11", "15", "10"]
    assert s.loc["S0003", ["provision_type", "sen_provision", "packages"]].tolist() == [
        "Resourced provision", "ASD;SLCN", "SPP3"]  # fmt: skip
    assert s.loc["S0003", "school_capacity"] == "1300"
    # Ketton base: GIAS low age 3 -> 4 (a base takes school-age children), high 11 -> 10
    assert s.loc["S0011", ["age_min", "age_max", "total_places"]].tolist() == ["4", "10", "12"]
    # The Shires: independent special 8-19 -> 8-18, SEMH + ASD -> SPP3;SPP4
    assert s.loc["S0018", ["age_min", "age_max", "packages"]].tolist() == ["8", "18", "SPP3;SPP4"]
    # St Mary and St John: mainstream setting and candidate: Boys, Selective
    n013 = c.loc["N013", ["gender", "admissions_policy", "school_capacity", "packages"]]
    assert n013.tolist() == ["Boys", "Selective", "105", "SPP2;SPP3"]  # no types: kept
    assert s.loc["S0016", ["gender", "admissions_policy"]].tolist() == ["Boys", "Selective"]
    # untouched rows and columns are as they were; places.csv is not touched
    untouched = before_s.set_index("setting_id").loc["S0001"]
    assert s.loc["S0001", untouched.index].tolist() == untouched.tolist()
    assert s.loc["S0001", "gender"] == ""
    assert (folder / "places.csv").read_bytes() == before_places
    # the report: a table of changes and counts per field; the backup holds the old files
    out = " ".join(res.output.split())
    assert "S0003 Catmose College (inclusion base)" in out and "total_places" in out
    assert "Changed cells by field" in out
    backup = folder / "backups" / "gias-001"
    assert (backup / "settings.csv").read_bytes() == before_s.to_csv(
        index=False, lineterminator="\n").encode()  # fmt: skip
    # warnings: the assumed base GIAS does not know, the special school the dataset lacks
    assert "inclusion_base at Ketton" in out
    assert "999001 Ysgol Gymraeg – Pen-y-Bryn (Community special school)" in out
    # the result validates
    ok = CliRunner().invoke(app, ["validate", str(folder)])
    assert ok.exit_code == 0, ok.output
    # a rerun changes nothing and writes no new backup
    again = CliRunner().invoke(
        app, ["import", "gias", str(path), "--la", LA, "--into", str(folder)]
    )
    assert again.exit_code == 0 and "0 cell(s) changed" in again.output
    assert not (folder / "backups" / "gias-002").exists()


def test_library_reports_changes_and_counts(folder: Path, tmp_path: Path) -> None:
    path = write_gias(tmp_path / "edubasealldata.csv", good_rows())
    res = import_gias(path, la="Rutland", into=folder, dry_run=True)
    assert res.backup is None and not (folder / "backups").exists()
    assert res.matched == 5  # S0003, S0011, S0018, S0016 and candidate N013
    row = res.changes.query("id == 'S0003' and field == 'total_places'").iloc[0]
    assert (row["file"], row["row"], row["old"], row["new"]) == ("settings.csv", 4, "14", "10")
    # 5 rows give a capacity and a gender; only The Shires' ages change (2 -> 8; 18 = 19 - 1)
    assert res.counts().to_dict() == {
        "total_places": 1, "school_capacity": 5, "gender": 5, "admissions_policy": 5,
        "provision_type": 4, "sen_provision": 2, "packages": 2, "age_min": 1, "assumption": 4,
    }  # fmt: skip
    note = res.changes.query("id == 'S0018' and field == 'assumption'")["new"].iloc[0]
    assert note.endswith("; from GIAS: age_min, school_capacity, gender, admissions_policy, "
                         "provision_type, sen_provision, packages")  # fmt: skip
    assert res.changes.query("field == 'age_min'")[["id", "old", "new"]].values.tolist() == [
        ["S0018", "2", "8"]]  # fmt: skip


def test_bad_rows_are_problems_and_nothing_is_written(folder: Path, tmp_path: Path) -> None:
    rows = good_rows()
    rows[0]["StatutoryHighAge"] = "eleven"  # Catmose College: bad age
    rows[2]["StatutoryLowAge"], rows[2]["StatutoryHighAge"] = "19", "8"  # wrong way round
    rows[3]["Easting"], rows[3]["Northing"] = "", ""  # no coordinates
    rows.append(gias_row(12345, "A school with a short URN"))  # the LA's row, URN unusable
    path = write_gias(tmp_path / "edubasealldata.csv", rows)
    before = _snapshot(folder)
    res = CliRunner().invoke(app, ["import", "gias", str(path), "--la", LA, "--into", str(folder)])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    out = " ".join(res.output.split())
    assert "edubasealldata.csv row 2, column StatutoryHighAge: found 'eleven'" in out
    assert "edubasealldata.csv row 4, column StatutoryLowAge" in out
    assert "edubasealldata.csv row 5, column Easting" in out
    assert "edubasealldata.csv row 8, column URN: found '12345'" in out
    assert "fix:" in out
    assert _snapshot(folder) == before
    with pytest.raises(DataValidationError) as err:
        import_gias(path, la=LA, into=folder)
    assert {(p.row, p.column) for p in err.value.problems} == {
        (2, "StatutoryHighAge"), (4, "StatutoryLowAge"), (5, "Easting"), (8, "URN")}  # fmt: skip


def test_wrong_la_and_missing_columns_are_errors(folder: Path, tmp_path: Path) -> None:
    path = write_gias(tmp_path / "edubasealldata.csv", good_rows())
    res = CliRunner().invoke(
        app, ["import", "gias", str(path), "--la", "358", "--into", str(folder)]
    )
    assert res.exit_code == 1
    assert "no establishment with LA code 358 (Trafford)" in " ".join(res.output.split())
    bad = tmp_path / "not_gias.csv"
    bad.write_text("urn_number,name\n1,x\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["import", "gias", str(bad), "--la", LA, "--into", str(folder)])
    assert res.exit_code == 1
    assert "not_gias.csv row 1, column URN: found no such column" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["import", "gias", str(path), "--la", LA, "--into", str(bad)])
    assert res.exit_code == 1 and "give a dataset folder holding settings.csv" in res.output


def test_mapping_override_and_bad_mapping(folder: Path, tmp_path: Path) -> None:
    path = write_gias(tmp_path / "edubasealldata.csv", good_rows())
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("sen_provision,package_id\nASD,SPP3;SPP2\nSLCN,\nSEMH,SPP9\n")
    with pytest.raises(DataValidationError, match=r"mapping.csv row 4, column package_id"):
        import_gias(path, la=LA, into=folder, mapping=mapping)
    mapping.write_text("sen_provision,package_id\nASD,SPP3;SPP2\nSLCN,\n")
    res = import_gias(path, la=LA, into=folder, mapping=mapping, dry_run=True)
    new = res.changes.query("id == 'S0003' and field == 'packages'")["new"].tolist()
    assert new == ["SPP2;SPP3"]  # in packages.csv order
    assert any("'SEMH'" in p.found for p in res.problems)  # not in this mapping: a warning


def test_updated_folder_that_would_not_validate_writes_nothing(
    folder: Path, tmp_path: Path
) -> None:
    rows = good_rows()
    rows[0]["ResourcedProvisionCapacity"] = "999999"  # over the schema's MAX_PLACES
    path = write_gias(tmp_path / "edubasealldata.csv", rows)
    before = _snapshot(folder)
    with pytest.raises(
        DataValidationError,
        match=r"(?s)would not validate.*settings.csv row 4, column total_places",
    ):
        import_gias(path, la=LA, into=folder)
    assert _snapshot(folder) == before


def test_utf8_file_without_suffixes_gives_the_same_changes(folder: Path, tmp_path: Path) -> None:
    rows = [
        {k.replace(" (name)", ""): v for k, v in r.items() if not k.endswith(" (code)")}
        | {"LA (code)": r["LA (code)"]}
        for r in good_rows()
    ]
    plain = tmp_path / "edubaseallstatefunded20250524.csv"
    pd.DataFrame(rows).to_csv(plain, index=False, encoding="utf-8")
    cp1252 = write_gias(tmp_path / "edubasealldata20250524.csv", good_rows())
    before = _snapshot(folder)
    res = CliRunner().invoke(
        app, ["import", "gias", str(plain), "--la", LA, "--into", str(folder), "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    assert "(utf-8)" in res.output and "29 cell(s) would change" in res.output
    assert _snapshot(folder) == before  # --dry-run writes nothing
    a = import_gias(plain, la=LA, into=folder, dry_run=True).changes
    b = import_gias(cp1252, la=LA, into=folder, dry_run=True).changes
    pd.testing.assert_frame_equal(a, b)


def test_a_failed_replace_leaves_the_old_files_and_no_temporary_file(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from optimiser._errors import OutputError
    from optimiser.dataset.imports import folder as folder_mod

    path = write_gias(tmp_path / "edubasealldata.csv", good_rows())
    before = (folder / "settings.csv").read_bytes()

    def full_disk(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder_mod.os, "replace", full_disk)
    with pytest.raises(OutputError, match=r"settings.csv: No space left on device; free some"):
        import_gias(path, la=LA, into=folder)
    monkeypatch.setattr(folder_mod.os, "replace", os.replace)
    assert (folder / "settings.csv").read_bytes() == before
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert (folder / "backups" / "gias-001" / "settings.csv").read_bytes() == before
