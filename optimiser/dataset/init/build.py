"""``init_la``: a complete dataset folder for any English LA from national open data.

Steps: resolve the LA → read its SEN2 placements and needs → settings and places sized to
SEN2 (:mod:`~optimiser.dataset.init.supply`) → a seeded synthetic cohort
(:mod:`~optimiser.dataset.init.cohort`) → policy with the LA's growth and travel speeds →
write every file to a temporary folder and rename it into place (never half-written, never
over an existing folder). The README written with it lists every assumption.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from optimiser._errors import DataNotFoundError, OptimiserError
from optimiser.dataset.init import cohort, supply
from optimiser.dataset.init.national import (
    PLACEMENT_GROUPS,
    LocalAuthority,
    national_dir,
    resolve_la,
    sen2_needs_by_group,
    sen2_placements,
)
from optimiser.dataset.init.readme import readme_text
from optimiser.dataset.load import load_dataset
from optimiser.dataset.paths import default_path
from optimiser.dataset.validate import check_coordinates
from optimiser.synth.tables import SETTING_COLUMNS, default_costing_framework, placeholder_packages

DEFAULT_SEED = 2025
#: Door-to-door SEND transport speed [km/h] by children (0-15) per km² (assumption; the
#: Trafford default is 24 km/h for a metropolitan borough). Sparse areas are faster but
#: farther: the speed rises so that a rural county's journeys are not all over the cap.
SPEED_BANDS: tuple[tuple[float, float, str], ...] = (
    (2500.0, 16.0, "inner-London density"),
    (900.0, 20.0, "dense urban (London, city centres)"),
    (250.0, 24.0, "metropolitan / urban (the Trafford default)"),
    (100.0, 30.0, "mixed urban-rural"),
    (0.0, 38.0, "rural county"),
)
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains National Statistics and OS data © Crown copyright and database right "
    "[2021-2025]. Children in this dataset are synthetic (optimiser init).\n"
)


def _gz_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(national_dir() / f"{name}.csv.gz", dtype=str, keep_default_na=False)


def _lsoas(la: LocalAuthority) -> pd.DataFrame:
    ls = _gz_csv("lsoas")
    ls = ls[ls["ctyua24_code"] == la.ons_code].copy()
    for c in ("easting", "northing", "age_0_15"):
        ls[c] = ls[c].astype(int)
    return ls.sort_values("lsoa21_code", ignore_index=True)


def _gias() -> pd.DataFrame:
    g = _gz_csv("gias")
    g = g[(g["easting"] != "") & (g["northing"] != "")].copy()
    for c in ("easting", "northing"):
        g[c] = g[c].astype(float).round().astype(int)
    return g


def _wards(la: LocalAuthority) -> dict:
    with gzip.open(national_dir() / "wards.geojson.gz", "rt", encoding="utf-8") as fh:
        gj = json.load(fh)
    feats = [
        {
            "type": "Feature",
            "properties": {k: f["properties"][k] for k in ("ward_code", "ward_name")},
            "geometry": f["geometry"],
        }
        for f in gj["features"]
        if f["properties"]["county_code"] == la.ons_code
    ]
    return {"type": "FeatureCollection", "features": feats}


def _area_km2(wards: dict) -> float:
    """Area of the wards [km²] in British National Grid."""
    import shapely  # geometry libraries load only when an LA is initialised
    from pyproj import Transformer
    from shapely.geometry import shape

    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

    def bng(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(t.transform(xy[:, 0], xy[:, 1]))

    geoms = [shapely.transform(shape(f["geometry"]), bng) for f in wards["features"]]
    return float(shapely.area(geoms).sum()) / 1e6


def group_counts(la: LocalAuthority, year: int | None) -> tuple[int, pd.Series, list[str]]:
    """(year, SEN2 children by placement group, notes on suppressed cells filled)."""
    p = sen2_placements(la)
    if p.empty:
        msg = f"SEN2 has no placement rows for {la.name} ({la.code})"
        raise DataNotFoundError(msg)
    year = int(p.index.max()) if year is None else int(year)
    if year not in p.index:
        msg = f"--year {year}: SEN2 years for {la.name} are {', '.join(map(str, p.index))}"
        raise OptimiserError(msg)
    counts = p.loc[year, list(PLACEMENT_GROUPS)].copy()
    notes: list[str] = []
    for g in PLACEMENT_GROUPS:
        if pd.isna(counts[g]):
            earlier = p.loc[: year - 1, g].dropna()
            counts[g] = float(earlier.iloc[-1]) if len(earlier) else 0.0
            src = f"{earlier.index[-1]}" if len(earlier) else "none (taken as 0)"
            notes.append(f"SEN2 {year} {g} is suppressed (x); the latest known year used: {src}")
    return year, pd.Series(counts.astype(int), dtype=int), notes


def growth_per_year(la: LocalAuthority, year: int) -> tuple[float, str]:
    """Compound annual growth of the LA's specialist cohort over the SEN2 years to ``year``."""
    p = sen2_placements(la)["specialist"].loc[:year].dropna()
    p = p[p > 0]
    if len(p) < 2:
        return 0.0, "fewer than two SEN2 years: no growth assumed"
    span = (p.index[-1] - p.index[0]) // 101
    rate = float((p.iloc[-1] / p.iloc[0]) ** (1 / max(span, 1)) - 1)
    first, last = (f"{int(p.iloc[i])} ({p.index[i]})" for i in (0, -1))
    return rate, f"SEN2 specialist cohort {first} -> {last}"


def speed_for(density: float) -> tuple[float, str]:
    """Speed [km/h] and the band's name for a density of children (0-15) per km²."""
    for lo, kmh, what in SPEED_BANDS:
        if density >= lo:
            return kmh, what
    return SPEED_BANDS[-1][1], SPEED_BANDS[-1][2]


def _policy_text(la: LocalAuthority, speed: float, why: str, growth: float, gwhy: str) -> str:
    text = (default_path() / "policy.yaml").read_text(encoding="utf-8")
    lines: list[str] = []
    in_notice = False  # the default's data_notice is a folded block: its lines follow
    for line in text.splitlines():
        if in_notice and line.startswith("  "):
            continue
        in_notice = line.startswith("data_notice:")
        if line.startswith("la_code:"):
            line = f'la_code: "{la.code}"'
        elif line.startswith("area_name:"):
            line = f"area_name: {json.dumps(la.name, ensure_ascii=False)}"
        elif line.startswith("data_notice:"):
            notice = (
                f"Synthetic data: the children in this dataset are made up by optimiser init "
                f"(a seeded cohort sized to {la.name}'s SEN2 return), not real pupils; settings, "
                "places and wards are public data. Replace children.csv with the LA's own "
                "records and remove this notice."
            )
            line = f"data_notice: {json.dumps(notice, ensure_ascii=False)}"
        elif line.startswith("speed_kmh:"):
            line = (
                f"speed_kmh: {speed:g}  # assumed door-to-door SEND speed: {why} (optimiser init)"
            )
        elif line.startswith("# Default policy for the Trafford data set."):
            line = f"# Policy for {la.name} ({la.code}) by `optimiser init`, Trafford's defaults."
        lines.append(line)
    lines.append(f"# The LA's specialist cohort growth a year from SEN2: {gwhy}.")
    lines.append(f"demand_growth_per_year: {growth:.4f}")
    return "\n".join(lines) + "\n"


def csv_text(df: pd.DataFrame) -> str:
    """CSV text: UTF-8, ``\\n`` line ends, no index, booleans as true/false, NA as empty."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = np.where(out[c], "true", "false")
    return out.to_csv(index=False, lineterminator="\n", na_rep="")


def build_files(
    la: LocalAuthority,
    *,
    year: int | None,
    seed: int,
    drop_urns: frozenset[int] = frozenset(),
    drop_lsoas: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Every file of the dataset folder as text, by file name.

    ``drop_urns`` / ``drop_lsoas``: settings and home LSOAs left out (see :func:`init_la`).
    """
    rng = np.random.default_rng(seed)
    year, counts, notes = group_counts(la, year)
    needs = sen2_needs_by_group(la)
    need_packages = cohort.need_packages_table()
    demand = cohort.package_demand(counts, needs, need_packages)
    lsoas = _lsoas(la)
    lsoas = lsoas[~lsoas["lsoa21_code"].isin(drop_lsoas)].reset_index(drop=True)
    wards = _wards(la)
    density = lsoas["age_0_15"].sum() / max(_area_km2(wards), 1.0)
    speed, why = speed_for(density)
    growth, gwhy = growth_per_year(la, year)
    homes = lsoas[["easting", "northing"]].to_numpy(float)
    gias = _gias()
    gias = gias[~gias["urn"].astype(int).isin(drop_urns)]
    s, main = supply.build_settings(gias, la, homes, counts, rng)
    places, total = supply.build_places(s, demand, rng)
    s["total_places"] = np.maximum(total, 1)
    keep = (total > 0) | (s["setting_type"] == "mainstream")
    s["setting_id"] = ""
    s = s[keep].copy()
    s["order"] = s["in_area"].map({True: 0, False: 1})
    s = s.sort_values(["order", "name", "urn"])
    s["setting_id"] = [f"S{i + 1:04d}" for i in range(len(s))]
    places = places[places["row"].isin(s.index)]
    places["setting_id"] = places["row"].map(s["setting_id"])
    places = places.drop(columns="row").sort_values(["setting_id", "package_id"], ignore_index=True)
    ward_of = dict(zip(lsoas["lsoa21_code"], lsoas["ward24_code"], strict=True))
    s["ward_code"] = [
        ward_of.get(c, "") if ia else "" for c, ia in zip(s["lsoa_code"], s["in_area"], strict=True)
    ]
    s["assumption"] = supply.assumptions(s)
    settings = s[SETTING_COLUMNS].reset_index(drop=True)
    packages = placeholder_packages()
    policy_text = _policy_text(la, speed, why, growth, gwhy)
    pol = yaml.safe_load(policy_text)
    reach = {
        ph: pol["max_travel_min"][ph] / 60 * speed / pol["detour_factor"]
        for ph in ("primary", "secondary")
    }
    population, postcodes = cohort.lsoa_homes(lsoas)
    children = cohort.build_children(
        population, postcodes, settings, places, packages, demand,
        seed=seed + 1, reach_km=reach,
        need_mix=cohort.need_mix_by_package(counts, needs, need_packages),
    )  # fmt: skip
    bases = set(s.loc[s["setting_type"] == "inclusion_base", "urn"].astype(int))
    files = {
        "packages.csv": csv_text(packages),
        "costing_framework.csv": csv_text(default_costing_framework()),
        "settings.csv": csv_text(settings),
        "places.csv": csv_text(places[["setting_id", "package_id", "places", "annual_cost_gbp"]]),
        "children.csv": csv_text(children),
        "candidates.csv": csv_text(supply.build_candidates(main, bases)),
        "need_packages.csv": csv_text(need_packages),
        "wards.geojson": json.dumps(wards, separators=(",", ":")) + "\n",
        "policy.yaml": policy_text,
        "attribution.txt": ATTRIBUTION,
    }
    files["README.md"] = readme_text(
        la, year=year, seed=seed, counts=counts, demand=demand, settings=settings,
        children=children, notes=notes + _need_notes(needs) + _drop_notes(drop_urns, drop_lsoas),
        speed=(speed, why, density),
        growth=(growth, gwhy),
        rolls=_roll_counts(s),
        rp_series=sen2_placements(la)["rp_units"].loc[:year],
    )  # fmt: skip
    return files


def _roll_counts(s: pd.DataFrame) -> tuple[int, int, int, int]:
    """(specials + SPIs without a GIAS roll, their number; SPIs without, SPIs)."""
    sp = s[s["group"].isin(["state_special", "inmss", "spi"])]
    spi = sp[sp["group"] == "spi"]
    return (
        int((~sp["roll_known"].astype(bool)).sum()),
        len(sp),
        int((~spi["roll_known"].astype(bool)).sum()),
        len(spi),
    )


def _drop_notes(drop_urns: frozenset[int], drop_lsoas: frozenset[str]) -> list[str]:
    out = []
    if drop_urns:
        urns = ", ".join(map(str, sorted(drop_urns)))
        out.append(
            f"{len(drop_urns)} GIAS establishment(s) left out (URN {urns}): "
            "optimiser's validator reads their real grid reference as easting/northing swapped "
            "(a false positive near the easting = northing diagonal)"
        )
    if drop_lsoas:
        out.append(
            f"{len(drop_lsoas)} LSOA(s) get no synthetic homes ({', '.join(sorted(drop_lsoas))}): "
            "the validator's swapped-coordinates test flags their real centroids"
        )
    return out


def _swap_flags(folder: Path) -> tuple[set[int], set[str]]:
    """URNs and LSOAs whose real grid references the validator's swap test flags."""
    ds = load_dataset(folder, validate=False)
    urns: set[int] = set()
    lsoas: set[str] = set()
    for p in check_coordinates(ds):
        if "swapped" not in p.found or p.row is None:
            continue
        frame = {"settings.csv": ds.settings, "candidates.csv": ds.candidates}.get(p.file)
        if frame is not None:
            urns.add(int(frame["urn"].iloc[p.row - 2]))
        elif p.file == "children.csv":
            lsoas.add(str(ds.children["lsoa_code"].iloc[p.row - 2]))
    return urns, lsoas


def _need_notes(needs: pd.DataFrame) -> list[str]:
    fb = needs.attrs.get("fallback", [])
    if not fb:
        return []
    return [
        "SEN2 need counts suppressed (x) for "
        + "; ".join(fb)
        + ": their children split by the LA's All-EHC-plans need shares"
    ]


def init_la(
    code: str | LocalAuthority,
    out: str | Path,
    *,
    year: int | None = None,
    seed: int = DEFAULT_SEED,
) -> Path:
    """Write a complete dataset folder for any English LA from national open data.

    Parameters
    ----------
    code : DfE 3-digit code ("356"), ONS code ("E08000007") or name ("Stockport").
    out : folder to create; it must not exist (or be empty): nothing is overwritten.
    year : SEN2 year to reproduce, e.g. 202425 (default: the latest).
    seed : seed of every random draw (same arguments, same files, byte for byte).

    Returns
    -------
    The folder's path. Its README.md lists every assumption.
    """
    la = resolve_la(code)
    out = Path(out)
    if out.exists() and (out.is_file() or any(out.iterdir())):
        msg = f"{out} already exists; choose a new folder so nothing is overwritten"
        raise FileExistsError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        drop_urns: frozenset[int] = frozenset()
        drop_lsoas: frozenset[str] = frozenset()
        for _ in range(12):  # the validator's swap test: leave out what it flags, rebuild
            files = build_files(
                la, year=year, seed=seed, drop_urns=drop_urns, drop_lsoas=drop_lsoas
            )
            for name, text in files.items():
                (tmp / name).write_bytes(text.encode("utf-8"))
            urns, lsoas = _swap_flags(tmp)
            if not urns and not lsoas:
                break
            drop_urns, drop_lsoas = drop_urns | urns, drop_lsoas | lsoas
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
