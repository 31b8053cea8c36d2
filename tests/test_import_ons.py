"""ONS files as ONS publishes them: ward boundaries (WD<yy>CD), LSOAs (LSOA21CD), ONSPD.

The files are written from the real Trafford boundaries and ONSPD extract in data/sources,
with ONS's own property and column names.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError
from optimiser.cli.app import app
from optimiser.dataset.imports.ons import import_ons
from optimiser.dataset.ons import postcode_table, ward_columns
from optimiser.geography import bng_from_lonlat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
runner = CliRunner()


def ons_wards(path: Path, year: int = 23, *, extra: dict | None = None) -> Path:
    """Trafford's May 2023 wards with ONS's properties (FID, WD23CD, WD23NM, WD23NMW, …)."""
    gj = json.loads((SOURCES / "trafford_wards_may2023_generalised.geojson").read_text())
    for i, f in enumerate(gj["features"]):
        p = f["properties"]
        f["properties"] = {
            "FID": i + 1, f"WD{year}CD": p["area_code"], f"WD{year}NM": p["area_name"],
            f"WD{year}NMW": " ", "LONG": p["lon"], "LAT": p["lat"], "GlobalID": f"g{i}",
        }  # fmt: skip
    if extra is not None:
        gj["features"].append(extra)
    path.write_text(json.dumps(gj), encoding="utf-8")
    return path


def onspd(path: Path) -> Path:
    """Trafford postcodes in ONSPD's own layout, with a row without a grid ref and another LA's."""
    src = pd.read_csv(SOURCES / "trafford_postcodes_onspd_feb2025.csv", dtype=str).head(400)
    e, n = bng_from_lonlat(src["lon"].astype(float).to_numpy(), src["lat"].astype(float).to_numpy())
    frame = pd.DataFrame({
        "pcd": src["postcode"].str.replace(" ", "  ", n=1), "pcd2": src["postcode"],
        "pcds": src["postcode"], "dointr": "198001", "doterm": "", "oscty": "E99999999",
        "ced": "E99999999", "oslaua": src["la_code"], "osward": src["ward_code"],
        "usertype": "0", "oseast1m": [f"{v:.0f}" for v in e], "osnrth1m": [f"{v:.0f}" for v in n],
        "osgrdind": "1", "lsoa21": src["lsoa_code"], "lat": src["lat"], "long": src["lon"],
    })  # fmt: skip
    frame.loc[0, ["oseast1m", "osnrth1m"]] = ["", ""]  # ONS has no grid reference for it
    frame.loc[1, "oslaua"] = "E08000003"  # Manchester
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def folder(tmp_path: Path, tiny_path: Path) -> Path:
    dst = tmp_path / "tiny"
    shutil.copytree(tiny_path, dst)
    return dst


def test_ward_columns_any_vintage() -> None:
    assert ward_columns(["FID", "WD24CD", "WD24NM", "WD24NMW"]) == ("WD24CD", "WD24NM")
    assert ward_columns(["wd19cd", "wd19nm", "WD22CD", "WD22NM"]) == ("WD22CD", "WD22NM")
    assert ward_columns(["ward_code"]) is None


def test_ons_ward_file_loads_as_is(folder: Path, tmp_path: Path) -> None:
    ons_wards(folder / "wards.geojson", year=22)
    ds = optimiser.load_dataset(folder)
    assert ds.wards is not None and len(ds.wards) == 21
    assert ds.wards["ward_code"].str.startswith("E05").all()
    assert "Altrincham" in set(ds.wards["ward_name"])


def test_import_ons_wards_cut_to_the_la(folder: Path, tmp_path: Path) -> None:
    manchester = {
        "type": "Feature",
        "properties": {"WD23CD": "E05011351", "WD23NM": "Piccadilly"},
        "geometry": {"type": "Polygon", "coordinates": [[[-2.235, 53.478], [-2.225, 53.478],
                     [-2.225, 53.485], [-2.235, 53.485], [-2.235, 53.478]]]},
    }  # fmt: skip
    path = ons_wards(tmp_path / "Wards_May_2023_Boundaries_UK_BGC.geojson", extra=manchester)
    res = runner.invoke(
        app, ["import", "ons", str(path), "--into", str(folder), "--la", "Trafford"]
    )
    assert res.exit_code == 0, res.output
    assert "wards, 21 row(s) (1 outside the LA left out)" in " ".join(res.output.split())
    gj = json.loads((folder / "wards.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in gj["features"]]
    assert all(set(p) == {"ward_code", "ward_name"} for p in props) and len(props) == 21
    assert "Piccadilly" not in {p["ward_name"] for p in props}
    assert optimiser.load_dataset(folder).wards is not None
    # again, or as another vintage: unchanged; without --la every ward, the old file kept
    again = import_ons(path, into=folder, la="358")
    assert not again.written and again.backup is None
    assert not import_ons(ons_wards(tmp_path / "wd24.geojson", year=24), into=folder).written
    newer = import_ons(path, into=folder)
    assert newer.written and newer.rows == 22
    assert newer.backup == folder / "backups" / "ons-001"
    assert (newer.backup / "wards.geojson").read_text(encoding="utf-8") == json.dumps(
        gj, separators=(",", ":"), ensure_ascii=False) + "\n"  # fmt: skip


def test_import_onspd_to_postcodes_csv_and_children_by_postcode(
    folder: Path, tmp_path: Path
) -> None:
    path = onspd(tmp_path / "ONSPD_FEB_2025_UK.csv")
    res = import_ons(path, into=folder, la="358")
    assert (res.kind, res.rows, res.dropped) == ("postcodes", 398, 1)  # 400 - no grid - Manchester
    table = pd.read_csv(folder / "postcodes.csv", dtype=str)
    assert list(table.columns) == ["postcode", "easting", "northing", "lsoa_code", "ward_code"]
    # a child given by postcode is placed at its ONSPD grid reference
    kids = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    kids["postcode"] = ""
    kids.loc[0, ["easting", "northing", "postcode"]] = ["", "", table.loc[5, "postcode"]]
    kids.to_csv(folder / "children.csv", index=False)
    ds = optimiser.load_dataset(folder)
    assert ds.children.loc[0, "easting"] == pytest.approx(float(table.loc[5, "easting"]))


def test_onspd_loads_as_is(folder: Path) -> None:
    onspd(folder / "postcodes.csv")
    frame = pd.read_csv(folder / "postcodes.csv", dtype=str, keep_default_na=False)
    table = postcode_table(frame)
    assert len(table) == 399 and 0 not in table.index  # the row without a grid ref is left out
    kids = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    kids["postcode"] = ""
    kids.loc[2, ["easting", "northing", "postcode"]] = ["", "", frame.loc[7, "pcds"]]
    kids.to_csv(folder / "children.csv", index=False)
    ds = optimiser.load_dataset(folder)
    assert ds.children.loc[2, "northing"] == pytest.approx(float(frame.loc[7, "osnrth1m"]))


def test_import_lsoa_boundaries_to_centroids(folder: Path, tmp_path: Path) -> None:
    gj = json.loads((SOURCES / "trafford_lsoa_dec2021_generalised.geojson").read_text())
    for f in gj["features"]:
        p = f["properties"]
        f["properties"] = {"LSOA21CD": p["area_code"], "LSOA21NM": p["area_name"]}
    path = tmp_path / "LSOA_2021_EW_BSC.geojson"
    path.write_text(json.dumps(gj), encoding="utf-8")
    res = import_ons(path, into=folder, la="358")
    assert (res.kind, res.rows) == ("lsoas", 139)
    table = pd.read_csv(folder / "lsoas.csv")
    assert list(table.columns) == ["lsoa_code", "lsoa_name", "easting", "northing"]
    assert table["easting"].between(370_000, 385_000).all()  # Trafford, in BNG metres


def test_unknown_file_and_wrong_la_are_errors(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("code,name\nE05000001,x\n", encoding="utf-8")
    res = runner.invoke(app, ["import", "ons", str(other), "--into", str(folder)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "other.csv" in res.output and "ONS Postcode Directory" in " ".join(res.output.split())
    path = ons_wards(tmp_path / "wards.geojson")
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(DataValidationError, match="no wards of Rutland"):
        import_ons(path, into=folder, la="857")
    assert sorted(p.name for p in folder.iterdir()) == before
