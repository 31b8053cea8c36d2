"""Compact the national open data in ``shared/data/england/`` into ``data/england/*.csv.gz``.

The package ships these files (installed as ``optimiser/_data/england/``) so that
``optimiser.init_la`` can build a dataset folder for any English LA offline. Every file is
a row filter / column selection of an OGL v3 source (provenance: ``data/england/SOURCES.md``);
the only transformation is LSOA centroids reprojected from WGS84 to British National Grid.
Deterministic: gzip with mtime 0, rows sorted, so a rebuild is byte-identical.

    python scripts/build_national_data.py [--src ../shared/data/england] [--out data/england]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import pandas as pd
from pyproj import Transformer

HERE = Path(__file__).resolve().parents[1]
SRC = Path("/work/shared/data/england")

PLACEMENT_COLUMNS = [
    "ehcplans",
    "mainstream_la_maintained_resourced_provision",
    "mainstream_la_maintained_senunit",
    "mainstream_academy_resourced_provision",
    "mainstream_academy_senunit",
    "mainstream_free_school_resourced_provision",
    "mainstream_free_school_senunit",
    "mainstream_total",
    "special_la_maintained",
    "special_academy_free",
    "special_independent",
    "special_non_maintained",
    "specialist_post_16_institutions",
    "general_fe_tertiary_colleges",
]
NEED_COLUMNS = [
    "asd", "hi", "mld", "msi", "oth", "pd", "pmld", "semh", "slcn", "sld", "spld", "vi",
    "need_unknown",
]  # fmt: skip
GIAS_COLUMNS = [
    "urn", "la_code", "establishment_name", "establishment_type", "establishment_type_group",
    "education_phase", "number_of_pupils", "easting", "northing", "lsoa_code",
]  # fmt: skip


def _write(df: pd.DataFrame, path: Path) -> None:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    with path.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"{path.name}: {len(df):,} rows, {path.stat().st_size:,} bytes")


def _placements(src: Path) -> pd.DataFrame:
    p = pd.read_csv(src / "ehcp_placements_by_la_jan2019-jan2025.csv", dtype=str)
    p = p[p.geographic_level == "Local authority"]
    cols = ["time_period", "old_la_code", "new_la_code", "la_name", *PLACEMENT_COLUMNS]
    return p[cols].sort_values(["old_la_code", "time_period"])


def _needs(src: Path) -> pd.DataFrame:
    n = pd.read_csv(src / "ehcp_primary_need_by_la_and_placement_jan2025.csv", dtype=str)
    n = n[n.geographic_level == "Local authority"]
    keep = n.breakdown.eq("All EHC plans") | n.breakdown.str.startswith(("Special -", "FE - sp"))
    keep |= n.breakdown.str.contains(r"\((?:resourced provision|SEN unit)\)", regex=True)
    n = n[keep].rename(columns={f"number_{c}": c for c in NEED_COLUMNS})
    cols = ["time_period", "old_la_code", "breakdown", "ehc_plans", *NEED_COLUMNS]
    return n[cols].sort_values(["old_la_code", "breakdown"])


def _lsoas(src: Path) -> pd.DataFrame:
    pop = pd.read_csv(src / "census2021_lsoa21_usual_residents_by_age6_england.csv")
    cen = pd.read_csv(src / "lsoa21_centroids_england_drkane.csv")
    ward = pd.read_csv(src / "lsoa21_ward24_lad24_bestfit_england.csv")
    lad = pd.read_csv(src / "lad24_ctyua24_rgn24_lookup_england.csv")
    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    e, n = t.transform(cen.longitude.to_numpy(), cen.latitude.to_numpy())
    cen = cen.assign(easting=e.round().astype(int), northing=n.round().astype(int))
    df = (
        pop[["lsoa21_code", "age_0_15"]]
        .merge(cen[["lsoa21_code", "easting", "northing"]], on="lsoa21_code", validate="1:1")
        .merge(ward[["lsoa21_code", "ward24_code", "ltla24_code"]], on="lsoa21_code")
        .merge(lad[["LAD24CD", "CTYUA24CD"]], left_on="ltla24_code", right_on="LAD24CD")
        .rename(columns={"CTYUA24CD": "ctyua24_code"})
    )
    assert len(df) == len(pop), "every LSOA joins"
    cols = ["lsoa21_code", "ctyua24_code", "ltla24_code", "ward24_code"]
    return df[[*cols, "easting", "northing", "age_0_15"]].sort_values("lsoa21_code")


def _round_coords(obj: object) -> object:
    if isinstance(obj, list):
        if obj and isinstance(obj[0], float):
            return [round(x, 5) for x in obj]
        return [_round_coords(o) for o in obj]
    return obj


def _wards(src: Path, out: Path) -> None:
    gj = json.loads((src / "wards_may2024_bsc_england.geojson").read_text(encoding="utf-8"))
    feats = []
    for f in sorted(gj["features"], key=lambda f: f["properties"]["ward_code"]):
        p = f["properties"]
        props = {k: p[k] for k in ("ward_code", "ward_name", "lad_code", "county_code")}
        g = f["geometry"]
        geom = {"type": g["type"], "coordinates": _round_coords(g["coordinates"])}
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    text = json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":"))
    path = out / "wards.geojson.gz"
    with path.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    print(f"{path.name}: {len(feats):,} wards, {path.stat().st_size:,} bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--out", type=Path, default=HERE / "data" / "england")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    cw = pd.read_csv(a.src / "la_code_crosswalk_dfe_ons_england.csv", dtype=str)
    _write(cw.sort_values("old_la_code"), a.out / "la_codes.csv.gz")
    _write(_placements(a.src), a.out / "sen2_placements.csv.gz")
    _write(_needs(a.src), a.out / "sen2_needs.csv.gz")
    gias = pd.read_csv(a.src / "gias_open_establishments_england_2025-05-24.csv", dtype=str)
    gias = gias[GIAS_COLUMNS].sort_values("urn", key=lambda s: s.astype(int))
    _write(gias, a.out / "gias.csv.gz")
    _write(_lsoas(a.src), a.out / "lsoas.csv.gz")
    _wards(a.src, a.out)


if __name__ == "__main__":
    main()
