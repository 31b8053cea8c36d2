"""``import_ons``: an ONS file as ONS publishes it, cut to the LA and written into a dataset.

The kind of file is read from its columns (:mod:`optimiser.dataset.ons`), any vintage:

* ward boundaries (GeoJSON, GeoPackage, shapefile) with ``WD<yy>CD`` (+ ``WD<yy>NM``)
  -> ``wards.geojson``;
* LSOA boundaries or centroids with ``LSOA<yy>CD`` (+ ``LSOA<yy>NM``) -> ``lsoas.csv``;
* the ONS Postcode Directory (CSV) with ``pcds``/``pcd`` and ``oseast1m``/``osnrth1m``
  -> ``postcodes.csv``.

``wards.geojson`` gets ``ward_code``, ``ward_name`` and WGS84 polygons (RFC 7946);
``lsoas.csv`` gets ``lsoa_code, lsoa_name, easting, northing`` (the centroid of each
boundary [m], or the file's own BNG_E/BNG_N, x/y or LONG/LAT for a centroid file);
``postcodes.csv`` gets ``postcode, easting, northing, lsoa_code, ward_code`` (postcodes
without a grid reference left out). With ``la`` the rows are cut to the LA: ONSPD by its
``oslaua``/``oscty`` columns, LSOAs by the shipped 2021 LSOA → LA lookup, wards by whether
they lie within the LA's May 2024 wards (any vintage). The old file is kept in
``backups/ons-NNN/`` and the folder is checked to load before anything is written.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from optimiser._errors import DataValidationError
from optimiser.dataset.imports.folder import check_folder, check_updated, replace_tables
from optimiser.dataset.init.national import LocalAuthority, national_dir, resolve_la
from optimiser.dataset.ons import lsoa_columns, onspd_columns, postcode_table, ward_columns
from optimiser.geography import BNG, bng_from_lonlat
from optimiser.problems import Problem, raise_problems

__all__ = ["OnsImport", "import_ons", "read_ons"]

_VECTOR = (".geojson", ".json", ".gpkg", ".shp", ".zip")
_EXPECTED = (
    "an ONS ward file (WD24CD, WD24NM …), LSOA file (LSOA21CD …) or ONS Postcode Directory "
    "CSV (pcds, oseast1m, osnrth1m …)"
)


@dataclass(frozen=True)
class OnsImport:
    """What :func:`import_ons` wrote: the kind of file (wards, lsoas, postcodes), the dataset
    file, its rows, the rows cut away as outside the LA, whether it changed, the backup."""

    kind: str
    file: str
    rows: int
    dropped: int
    written: bool
    backup: Path | None


def _fail(name: str, found: str, fix: str, column: str = "") -> None:
    raise_problems([Problem(name, None, column, found, _EXPECTED, fix)])


def _centroids(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """BNG easting, northing of a centroid CSV (BNG_E/BNG_N, x/y, or LONG/LAT)."""
    cols = {c.lower(): c for c in map(str, frame.columns)}
    for e, n in (("bng_e", "bng_n"), ("x", "y"), ("easting", "northing")):
        if e in cols and n in cols:
            return (
                pd.to_numeric(frame[cols[e]], errors="coerce").to_numpy(float),
                pd.to_numeric(frame[cols[n]], errors="coerce").to_numpy(float),
            )
    lon, lat = cols.get("long", cols.get("lon")), cols.get("lat")
    if lon and lat:
        return bng_from_lonlat(
            pd.to_numeric(frame[lon], errors="coerce").to_numpy(float),
            pd.to_numeric(frame[lat], errors="coerce").to_numpy(float),
        )
    return None


def read_ons(path: str | Path) -> tuple[str, pd.DataFrame]:
    """(kind, normalised table) of an ONS file: ``wards`` (a GeoDataFrame in WGS84),
    ``lsoas`` or ``postcodes`` (see the module docstring).

    Raises
    ------
    DataValidationError
        naming the file when it is none of these, or cannot be read.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        _fail(name, "no such file", "check the path")
    if path.suffix.lower() in _VECTOR:
        try:
            geo = gpd.read_file(path)
        except Exception as exc:  # any reader error is the file's problem
            _fail(name, f"an unreadable file ({exc})", "download the file again from ONS")
        return _vector(name, geo)
    header = pd.read_csv(path, nrows=0, encoding_errors="replace").columns
    onspd = onspd_columns(header)
    if onspd:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(onspd.values()))
        return "postcodes", _postcodes(frame, onspd)
    lsoa = lsoa_columns(header)
    if lsoa:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")
        xy = _centroids(frame)
        if xy is None:
            _fail(name, f"{lsoa[0]} without coordinates", "give the LSOA boundaries (GeoJSON) "
                  "or the centroids file with BNG_E, BNG_N (or LONG, LAT)", lsoa[0])  # fmt: skip
        assert xy is not None
        return "lsoas", _lsoa_table(frame, lsoa, xy)
    if ward_columns(header):
        _fail(name, "a ward lookup without boundaries", "download the ward boundaries as "
              "GeoJSON (ONS Open Geography Portal: Wards … Boundaries UK BSC)")  # fmt: skip
    _fail(name, f"columns {', '.join(map(str, header[:8]))}", "give the file as ONS publishes it")
    raise AssertionError  # unreachable: _fail raises


def _postcodes(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """postcode, easting, northing, lsoa_code, ward_code (+ lad, county to cut by)."""
    table = postcode_table(frame)
    for field in ("lad", "county"):
        if field in cols:
            table[field] = frame.loc[table.index, cols[field]].astype(str).str.strip()
    return table.reset_index(drop=True)


def _lsoa_table(frame: pd.DataFrame, cols: tuple[str, str | None], xy) -> pd.DataFrame:
    code, nm = cols
    return pd.DataFrame(
        {
            "lsoa_code": frame[code].astype(str).str.strip(),
            "lsoa_name": frame[nm].astype(str) if nm else "",
            "easting": np.round(xy[0]),
            "northing": np.round(xy[1]),
        }
    )


def _vector(name: str, geo: gpd.GeoDataFrame) -> tuple[str, pd.DataFrame]:
    if geo.crs is None:
        geo = geo.set_crs("EPSG:4326")
    wards = ward_columns(geo.columns)
    if wards:
        code, nm = wards
        out = gpd.GeoDataFrame(
            {"ward_code": geo[code].astype(str), "ward_name": geo[nm].astype(str) if nm else ""},
            geometry=geo.geometry.to_crs("EPSG:4326").to_numpy(),
            crs="EPSG:4326",
        )
        return "wards", out
    lsoa = lsoa_columns(geo.columns)
    if lsoa:
        centre = geo.geometry.to_crs(BNG).centroid
        xy = (centre.x.to_numpy(float), centre.y.to_numpy(float))
        return "lsoas", _lsoa_table(pd.DataFrame(geo.drop(columns="geometry")), lsoa, xy)
    _fail(name, f"properties {', '.join(map(str, geo.columns[:8]))}", "give the file as ONS "
          "publishes it (ward boundaries carry WD<yy>CD, LSOA boundaries LSOA<yy>CD)")  # fmt: skip
    raise AssertionError


def _la_wards(la: LocalAuthority) -> shapely.Geometry:
    """The LA's area [BNG] as the union of its shipped May 2024 wards."""
    with gzip.open(national_dir() / "wards.geojson.gz", "rt", encoding="utf-8") as fh:
        feats = [
            f for f in json.load(fh)["features"] if f["properties"]["county_code"] == la.ons_code
        ]
    geo = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326").to_crs(BNG)
    return shapely.union_all(geo.geometry.to_numpy())


def _cut(kind: str, table: pd.DataFrame, la: LocalAuthority) -> pd.DataFrame:
    if kind == "postcodes":
        hit = np.zeros(len(table), bool)
        for field in ("lad", "county"):
            if field in table:
                hit |= (table[field] == la.ons_code).to_numpy()
        return table[hit]
    if kind == "lsoas":
        shipped = pd.read_csv(national_dir() / "lsoas.csv.gz", dtype=str, keep_default_na=False)
        codes = set(shipped.loc[shipped["ctyua24_code"] == la.ons_code, "lsoa21_code"])
        return table[table["lsoa_code"].isin(codes)]
    area = _la_wards(la).buffer(50.0)  # boundaries of another vintage or generalisation
    wards = cast(gpd.GeoDataFrame, table).to_crs(BNG)
    inside = wards.geometry.representative_point().within(area)
    return table[inside.to_numpy()]


def _text(kind: str, table: pd.DataFrame) -> str:
    if kind == "wards":
        geo = table.sort_values("ward_code")
        feats = [
            {
                "type": "Feature",
                "properties": {"ward_code": code, "ward_name": name},
                "geometry": shapely.geometry.mapping(
                    shapely.transform(g, lambda xy: np.round(xy, 6))  # ~0.1 m
                ),
            }
            for code, name, g in zip(geo["ward_code"], geo["ward_name"], geo.geometry, strict=True)
        ]
        gj = {"type": "FeatureCollection", "features": feats}
        return json.dumps(gj, separators=(",", ":"), ensure_ascii=False) + "\n"
    cols = ["lsoa_code", "lsoa_name", "easting", "northing"]
    if kind == "postcodes":
        cols = ["postcode", "easting", "northing"]
        cols += [c for c in ("lsoa_code", "ward_code") if c in table]
    out = table[cols].sort_values(cols[0])
    return out.to_csv(index=False, lineterminator="\n", float_format="%.0f")


def import_ons(
    file: str | Path, *, into: str | Path, la: str | LocalAuthority | None = None
) -> OnsImport:
    """Write an ONS ward, LSOA or postcode file into the dataset folder ``into``.

    Parameters
    ----------
    file : the file as downloaded from ONS (see the module docstring for the kinds).
    into : the dataset folder; its old file of that kind is kept in ``backups/ons-NNN/``.
    la : cut the rows to this LA (DfE code, ONS code or name); None keeps every row.

    Raises
    ------
    DataValidationError
        when the file is not a known ONS layout, holds no row of ``la``, or the folder
        would not load with it (nothing is written then).
    """
    folder = check_folder(into)
    kind, table = read_ons(file)
    total = len(table)
    if la is not None:
        la = resolve_la(la)
        table = _cut(kind, table, la)
        if table.empty:
            msg = f"{Path(file).name}: no {kind} of {la.name} ({la.code}); check --la or the file"
            raise DataValidationError(msg)
    target = {"wards": "wards.geojson", "lsoas": "lsoas.csv", "postcodes": "postcodes.csv"}[kind]
    texts = {target: _text(kind, table)}
    check_updated(folder, texts, source=f"ONS ({Path(file).name})")
    written, backup = replace_tables(folder, texts, tag="ons")
    return OnsImport(kind, target, len(table), total - len(table), bool(written), backup)
