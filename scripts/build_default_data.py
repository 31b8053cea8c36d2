"""Rebuild the embedded Trafford data set ``data/trafford/`` from ``data/sources/``.

Usage::

    python scripts/build_default_data.py            # writes data/trafford/
    python scripts/build_default_data.py --out DIR  # writes DIR/ instead (tests use this)

Real: schools, places' host settings, ages, capacities, boundaries, population,
postcodes, EHCP placement and need statistics (all OGL v3, see data/README.md).
Assumed: SPP packages and costs, package designations and splits, places open to
Trafford, inclusion-base and out-of-area places, INMSS fees. Synthetic: every child.
Every assumption is listed in data/README.md with its source. Seeded: the output
is byte-identical on every run.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser.dataset.init import cohort  # noqa: E402
from optimiser.dataset.init.build import csv_text, group_counts, growth_per_year  # noqa: E402
from optimiser.dataset.init.national import (  # noqa: E402
    SETTING_GROUP,
    resolve_la,
    sen2_needs_by_group,
)
from optimiser.dataset.init.supply import GIAS_TYPE, draw_fee  # noqa: E402
from optimiser.schema.tables import INMSS_TYPES as INMSS  # noqa: E402
from optimiser.synth.tables import (  # noqa: E402
    SETTING_COLUMNS,
    default_costing_framework,
    placeholder_packages,
)

SOURCES = REPO / "data" / "sources"
SEED = 358_2025
LA_CODE = 358
#: The SEN2 year the cohort reproduces (January 2025 census): Trafford's specialist
#: placements by group and primary need (state special 821, INMSS 141, RP + units 154,
#: specialist post-16 48).
SEN2_YEAR = 202425

F_SCHOOLS = "trafford_schools_and_colleges_2024-09-26.csv"
F_WARDS = "trafford_wards_may2023_generalised.geojson"
F_LA = "trafford_la_dec2023_generalised.geojson"
F_LSOA = "trafford_lsoa_dec2021_generalised.geojson"
F_POP = "trafford_mye2024_population_lsoa_single_year_age.csv"
F_POSTCODES = "trafford_postcodes_onspd_feb2025.csv"
F_GM = "gm_schools_open_2025-05-24.csv"
F_SPECIAL = "gias_special_schools_open_2025-05-24.csv"
F_PLACEMENTS = "ehcp_placements_by_la_jan2019-jan2025.csv"
F_NEED = "ehcp_primary_need_by_la_and_placement_jan2025.csv"


# ---- in-area specialist settings: assumed packages and split of places (URN -> {SPP: share}).
# Designations from the schools' published descriptions (domain-facts §6 and the brief);
# the GIAS extract holds no designation, so every split is an assumption.
IN_AREA_SPLIT: dict[int, dict[str, float]] = {
    142289: {"SPP2": 0.35, "SPP3": 0.65},  # Pictor Academy: complex learning needs / autism
    142782: {"SPP3": 1.0},  # The Orchards: autism (ASD) primary free school
    147372: {"SPP4": 1.0},  # Longford Park: SEMH primary
    106394: {"SPP1": 0.35, "SPP2": 0.55, "SPP7": 0.1},  # Delamere: SLD/PMLD (+ complex medical)
    106391: {"SPP1": 0.2, "SPP2": 0.4, "SPP3": 0.4},  # Brentwood School: SLD/PMLD/ASD 11-19
    142288: {"SPP2": 0.35, "SPP3": 0.45, "SPP7": 0.2},  # Manor Academy: MLD/ASD/PD 11-19
    131885: {"SPP4": 1.0},  # Egerton High: SEMH secondary
    106167: {"SPP2": 0.35, "SPP3": 0.65},  # St John Vianney: MLD/ASD 5-19 (NMSS in GIAS 2025)
    136239: {"SPP3": 1.0},  # Fairfield House School (independent): autism / complex
    149213: {"SPP3": 0.3, "SPP4": 0.7},  # Changing Lives (independent): SEMH / ASD
    142914: {"SPP1": 0.25, "SPP2": 0.45, "SPP3": 0.3},  # Brentwood Community College, post-19
}
# Share of a Trafford special school's 2025 roll open to Trafford children (they run over
# capacity: roll 878 vs capacity 837, so the roll is the real size). State specials: the
# roll vs Trafford's 821 state-special placements incl. out-of-area (SEN2 Jan 2025) -> ~87%.
# In-area INMSS also serve other LAs: ~55% (Trafford has 82 NMSS + 59 ISS placements in
# all). The places open for a package are at most Trafford's SEN2 count for it: the rest
# of Trafford's count goes to out-of-area settings designated for the package.
OPEN_SHARE = {
    "maintained_special": 0.87,
    "academy_special": 0.87,
    "nmss": 0.55,
    "independent_special": 0.55,
    "post16_specialist": 1.0,
}
#: INMSS places = Trafford's count × 1.08 + 2 per package: INMSS takes the children state
#: and base places cannot, so it has room (as optimiser init).
INMSS_HEADROOM = (1.08, 2)

# ---- inclusion bases (resourced provision / SEN units): URN -> packages.
IB_PACKAGES: dict[int, list[str]] = {
    138977: ["SPP3"],  # Acre Hall Primary (SEN unit)
    144649: ["SPP3"],  # Barton Clough Primary (SEN unit)
    106303: ["SPP2", "SPP3"],  # Firs Primary (SEN unit)
    106313: ["SPP3"],  # Wellfield Infant and Nursery (SEN unit)
    106304: ["SPP3"],  # Wellfield Junior (SEN unit)
    106308: ["SPP3", "SPP5"],  # Moorlands Junior (RP + SEN unit): HI base assumed
    106347: ["SPP2", "SPP3"],  # All Saints' Catholic Primary (RP)
    106365: ["SPP3", "SPP4"],  # Lostock High (RP)
    106375: ["SPP3", "SPP4"],  # Sale High (RP)
    136377: ["SPP3", "SPP5"],  # Wellington School (RP): HI base assumed
}
IB_PLACES = (8, 20)  # domain-facts §6: 8-20 places per base (council examples §1.2)

# ---- out-of-area selection (km from Trafford's centroid) and places open to Trafford.
OOA_RULES = {  # setting_type family: (max km, max count, (min places, max places))
    "state": (25.0, 35, (2, 8)),
    "nmss": (60.0, 13, (3, 10)),
    "independent_special": (60.0, 20, (5, 14)),
    "post16_specialist": (25.0, 6, (2, 6)),
}
OOA_EXCLUDE = {105602: "hospital school", 105376: "hospital school (in-patient CAMHS)"}
ISS_MIN_PUPILS = 10  # independent specials with fewer (or unknown) pupils are left out
# Out-of-area designations (URN -> packages), from names and published descriptions.
OOA_PACKAGES: dict[int, list[str]] = {
    142893: ["SPP2", "SPP3"],
    141805: ["SPP1", "SPP2", "SPP3"],
    151407: ["SPP4"],
    105608: ["SPP1", "SPP7"],
    105613: ["SPP1", "SPP2"],
    145850: ["SPP4"],
    127802: ["SPP2", "SPP3"],
    143062: ["SPP2", "SPP3"],
    138130: ["SPP2", "SPP3"],
    150199: ["SPP2", "SPP3"],
    106173: ["SPP1", "SPP2"],
    105616: ["SPP3"],
    145845: ["SPP3"],
    138532: ["SPP1", "SPP2", "SPP3"],
    148641: ["SPP4"],
    111501: ["SPP4"],
    132905: ["SPP1", "SPP2"],
    143472: ["SPP4"],
    151378: ["SPP1", "SPP2"],
    131889: ["SPP4"],
    105281: ["SPP1", "SPP2"],
    105276: ["SPP5"],
    151406: ["SPP4"],
    # NMSS
    134064: ["SPP3"],
    106166: ["SPP1", "SPP5", "SPP6"],
    111498: ["SPP4"],
    111499: ["SPP1", "SPP7"],
    134888: ["SPP3"],
    105280: ["SPP1", "SPP7"],
    104734: ["SPP5", "SPP6"],
    104735: ["SPP1", "SPP6"],
    107589: ["SPP4"],
    133748: ["SPP3"],
    107796: ["SPP1", "SPP7"],
    105137: ["SPP3", "SPP4"],
    135815: ["SPP7"],
    # post-16 specialist
    139218: ["SPP1", "SPP5", "SPP6"],
}
OOA_DEFAULT_SPLIT = {  # when no designation is known: package -> share of places
    "maintained_special": {"SPP2": 0.5, "SPP3": 0.5},
    "academy_special": {"SPP2": 0.5, "SPP3": 0.5},
    "nmss": {"SPP3": 0.5, "SPP4": 0.5},  # INMSS ~75% ASD + SEMH (domain-facts §3.3)
    "independent_special": {"SPP3": 0.4, "SPP4": 0.6},  # Trafford ISS: 68% SEMH (SEN2 2025)
    "post16_specialist": {"SPP1": 1 / 3, "SPP2": 1 / 3, "SPP3": 1 / 3},
}
# Age ranges found in public school profiles (Ofsted / council notices), URN -> (min, max).
OOA_AGES_KNOWN = {
    151407: (9, 16),
    145850: (7, 16),
    151406: (11, 16),
    143472: (4, 16),
    105608: (3, 16),
    111496: (4, 16),
    111495: (4, 16),
    142536: (5, 18),
}
OOA_AGES = {
    "maintained_special": (4, 19),
    "academy_special": (4, 19),
    "nmss": (5, 19),
    "independent_special": (7, 18),
    "post16_specialist": (16, 25),
}

# ---- candidates for new inclusion bases.
CANDIDATE_PLACES = {"primary": 16, "secondary": 20}
CANDIDATE_PACKAGES = {"primary": "SPP2;SPP3", "secondary": "SPP3;SPP4"}
CAPITAL_GBP_PER_PLACE = 20_000  # domain-facts §1.2 (range £15k-£35k)

#: What every output of the embedded data credits (read by load_dataset as ``ds.attribution``).
ATTRIBUTION_TXT = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains National Statistics and OS data © Crown copyright and database right "
    "[2023-2025]. Children in the default data are synthetic.\n"
)
POLICY_YAML = """\
# Default policy for the Trafford data set. Every figure with its source
# (shared/research/domain-facts.md section and source tag). All configurable.

# The area every output names, and the notice every output carries about the data.
area_name: Trafford
data_notice: >-
  Synthetic data: the children in this dataset are made up (a seeded cohort sized to
  Trafford's SEN2 return), not real pupils; settings, places and wards are public data.
# The LA this dataset is for: DfE 3-digit code (Trafford MBC); calibration reads its SEN2.
la_code: "358"

# DfE statutory guidance, best practice: at most 45 min each way (primary),
# 75 min (secondary) [S8] (domain-facts §2.3). Post-16 transport is
# discretionary [S5]; the secondary cap is assumed.
max_travel_min: {primary: 45, secondary: 75, post16: 75}
# England school phases: secondary from age 11 (Year 7), post-16 from 16.
phase_age: {secondary_from: 11, post16_from: 16}
# Road distance = straight line x 1.3 until a road network is supplied (§2.2, assumption).
detour_factor: 1.3
speed_kmh: 24  # assumed average door-to-door speed for SEND transport in a metropolitan borough
school_days_per_year: 190   # 190 days / 380 sessions [S15] (§2.3)
# Statutory walking distance, s444(5) Education Act 1996 [S7] (§2.3).
walking_distance_miles: {under_8: 2.0, from_8: 3.0}
# Home-to-school transport (docs/transport.md has the calibration; domain-facts §2).
# Cost per pupil a day = fixed + per mile x 2 x road miles (one journey each way);
# a year = that x school_days_per_year. Calibrated so the mean cost per transported
# child on this data is in the national band GBP 8,100-9,500 [S1][S2][S3].
transport:
  # Post-16 transport is discretionary [S5]; assumed funded like pre-16.
  post16_eligible: true
  # Packages whose children are taken as unable to walk, so eligible at any distance
  # [S7][S15] (assumption); others (SEMH, deaf) by distance unless cannot_walk is set.
  cannot_walk_packages: [SPP1, SPP2, SPP3, SPP6, SPP7]
  stop_min: 2  # boarding time per pick-up on a shared route [min] (assumption)
  # Personal travel budget: mileage at 45p a mile [S9][S13].
  personal_budget: {fixed_gbp_per_day: 0, gbp_per_mile: 0.45}
  # Per pupil: fixed_gbp_per_day + gbp_per_mile (arc costs). Per vehicle (route
  # estimates): vehicle_gbp_per_day + vehicle_gbp_per_mile x miles driven with pupils.
  # Vehicle rates: assumptions checked against the sources; per-pupil rates fitted so
  # that the per-child costs match the shared-route estimate on this data (docs/transport.md).
  # Minibus + passenger assistant: a SEND round ~GBP 219 a day [S10].
  minibus: {fixed_gbp_per_day: 31, gbp_per_mile: 0.78, seats: 12, wheelchair_spaces: 2,
            vehicle_gbp_per_day: 200, vehicle_gbp_per_mile: 2.0}
  # Shared taxi + passenger assistant: ~GBP 8,700 per pupil a year [S9].
  shared_taxi: {fixed_gbp_per_day: 25, gbp_per_mile: 1.05, seats: 4, wheelchair_spaces: 0,
                vehicle_gbp_per_day: 80, vehicle_gbp_per_mile: 2.0}
  # Solo taxi + passenger assistant: GBP 10,920-19,110 a year per contract in 2018-19
  # [S11]; the same vehicle as a shared taxi, carrying one pupil.
  solo_taxi: {fixed_gbp_per_day: 80, gbp_per_mile: 2.0}
# Soft parental preference: penalty by rank (rank 1, 2, 3 ...) [GBP/yr] (assumption, §7).
preference_penalty_gbp: [0, 3000, 6000]   # rank 1, 2, 3 ...
unranked_penalty_gbp: 10000      # placement at a setting the parent did not rank (assumption)
mainstream_duty_gbp: 50000       # strong duty to honour a mainstream preference (assumption)
unplaced_penalty_gbp: 1000000    # larger than any placement cost: place everyone first
# What an unplaced child costs in every total [GBP/yr]: the duty stays, so the LA
# spot-purchases (usually independent) or educates otherwise. Blank = derived from the
# data: mean INMSS fee of the package (places.csv, else the costing framework) + mean
# transport of the INMSS placements (docs/measures.md). Or a number for every child, or
# by package, optionally by phase: {SPP4: 70000} or {SPP4: {primary: 60000, secondary: 75000}}.
unplaced_cost_gbp: null
continuity: keep                 # continuing children keep their current setting
inmss_max_places: null           # no cap on INMSS places (a scenario may set one)
# Candidate hosts kept out of siting, by package (assumption): a selective (grammar)
# school hosts no base for packages whose children follow an adapted curriculum or need
# a specialist environment (groups A, B); children.csv records no sex, so a base at a
# single-sex school would be filled with a mixed cohort: single-sex hosts are kept out
# for every package. Host attributes: candidates.csv admissions_policy and gender.
host_exclusions:
  selective: [SPP1, SPP2, SPP3, SPP4]
  single_sex: [SPP1, SPP2, SPP3, SPP4, SPP5, SPP6, SPP7]
"""


# =========================================================================== readers


def read_sources(src: Path) -> dict:
    """Read every input the build needs from ``src``."""
    wards = gpd.read_file(src / F_WARDS)
    return {
        "schools": pd.read_csv(src / F_SCHOOLS),
        "gm": pd.read_csv(src / F_GM),
        "special": pd.read_csv(src / F_SPECIAL),
        "wards": wards[["area_code", "area_name", "geometry"]].rename(
            columns={"area_code": "ward_code", "area_name": "ward_name"}
        ),
        "la": gpd.read_file(src / F_LA),
        "lsoa": gpd.read_file(src / F_LSOA),
        "pop": pd.read_csv(src / F_POP),
        "postcodes": pd.read_csv(src / F_POSTCODES),
        "placements": pd.read_csv(src / F_PLACEMENTS),
        "need": pd.read_csv(src / F_NEED),
    }


def to_bng(lon: pd.Series, lat: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat -> British National Grid easting, northing [m], rounded to integers."""
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    e, n = tr.transform(lon.to_numpy(dtype=float), lat.to_numpy(dtype=float))
    return np.rint(e).astype(int), np.rint(n).astype(int)


def rounded_wards(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wards with coordinates rounded to 6 decimal places (as written to wards.geojson)."""
    import shapely

    geom = shapely.orient_polygons(wards.geometry.values, exterior_cw=False)  # RFC 7946 3.1.6
    geom = [shapely.transform(g, lambda xy: np.round(xy, 6)) for g in geom]
    return gpd.GeoDataFrame(wards.drop(columns="geometry"), geometry=geom, crs="EPSG:4326")


# =========================================================================== settings


def _check_designations(sch: pd.DataFrame) -> None:
    """Fail loudly when the schools file's specialist settings differ from the curated lists
    (a refreshed extract must be reviewed, not silently half-designated)."""
    est = sch["establishment_number"]
    special = sch["type"].isin(["Special schools", "Other types"]) | est.between(7000, 7999)
    rp = sch["resource_provision"].fillna("Not applicable") != "Not applicable"
    found = {
        "specials": set(sch.loc[special, "unique_reference_number"]),
        "inclusion bases": set(sch.loc[rp & ~est.between(7000, 7999), "unique_reference_number"]),
    }
    expected = {"specials": set(IN_AREA_SPLIT), "inclusion bases": set(IB_PACKAGES)}
    for what, urns in found.items():
        if urns != expected[what]:
            msg = (
                f"{F_SCHOOLS}: {what} by URN differ from the curated list: extra "
                f"{sorted(urns - expected[what])}, missing {sorted(expected[what] - urns)}; "
                "update IN_AREA_SPLIT / IB_PACKAGES"
            )
            raise ValueError(msg)


def _in_area_specials(sch: pd.DataFrame, gm: pd.DataFrame) -> pd.DataFrame:
    """Trafford special schools, independent specials and the post-16 college."""
    _check_designations(sch)
    s = sch[sch["unique_reference_number"].isin(IN_AREA_SPLIT)].copy()
    gm = gm.set_index("urn")
    s["urn"] = s["unique_reference_number"]
    s["setting_type"] = s["urn"].map(gm["establishment_type"]).map(GIAS_TYPE)
    pupils = s["urn"].map(gm["number_of_pupils"])
    s["assumed_capacity"] = s["capacity"].isna()
    # the real size: the 2025 roll where a school runs over its capacity
    s["total_places"] = np.fmax(s["capacity"], pupils).fillna(s["capacity"]).astype(int)
    s["age_min"], s["age_max"] = s["lowest_admission_age"], s["highest_admission_age"]
    s["assumption"] = [
        "packages and split assumed from designation; places open to Trafford: up to "
        f"{OPEN_SHARE[t]:.0%} of the larger of capacity and 2025 roll, at most Trafford's "
        "SEN2 count for the package" + ("; capacity n/a in GIAS, assumed = 2025 roll" if a else "")
        for t, a in zip(s["setting_type"], s["assumed_capacity"], strict=True)
    ]
    return s


def _inclusion_bases(sch: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Trafford mainstream schools with resourced provision or an SEN unit."""
    s = sch[sch["unique_reference_number"].isin(IB_PACKAGES)].copy()
    s = s.sort_values("unique_reference_number")
    s["urn"] = s["unique_reference_number"]
    s["setting_type"] = "inclusion_base"
    s["total_places"] = rng.integers(IB_PLACES[0], IB_PLACES[1] + 1, size=len(s))
    s["age_min"] = s["lowest_admission_age"].clip(lower=4)
    s["age_max"] = s["highest_admission_age"]
    s["assumption"] = [
        f"GIAS: {rp}; base capacity not in GIAS extract: Trafford's SEN2 resourced provision "
        "+ SEN unit count split over its bases by an assumed 8-20 size; "
        "packages assumed" + ("; age_min raised to 4 (school-age base)" if lo < 4 else "")
        for rp, lo in zip(s["resource_provision"], s["lowest_admission_age"], strict=True)
    ]
    return s


def _trafford_settings(
    src: dict, wards: gpd.GeoDataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """In-area settings with BNG coordinates and ward."""
    s = pd.concat(
        [_in_area_specials(src["schools"], src["gm"]), _inclusion_bases(src["schools"], rng)],
        ignore_index=True,
    )
    s["easting"], s["northing"] = to_bng(s["lon"], s["lat"])
    pts = gpd.GeoDataFrame(
        s[["urn"]], geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs="EPSG:4326"
    )
    joined = gpd.sjoin(pts, wards[["ward_code", "geometry"]], predicate="within", how="left")
    s["ward_code"] = joined.groupby(level=0)["ward_code"].first().reindex(s.index).fillna("")
    s["la_code"], s["in_area"] = LA_CODE, True
    return s


def _ooa_candidates(src: dict, centre: tuple[float, float]) -> pd.DataFrame:
    """Special schools outside Trafford (GM file + England special-schools file)."""
    gm = src["gm"][src["gm"]["establishment_type"].isin(GIAS_TYPE)]
    allsp = pd.concat([gm, src["special"]], ignore_index=True).drop_duplicates("urn")
    allsp = allsp[(allsp["la_code"] != LA_CODE) & ~allsp["urn"].isin(OOA_EXCLUDE)]
    allsp = allsp[allsp["number_of_pupils"].fillna(1) > 0].copy()
    allsp["setting_type"] = allsp["establishment_type"].map(GIAS_TYPE)
    allsp["d_km"] = np.hypot(allsp["easting"] - centre[0], allsp["northing"] - centre[1]) / 1000
    iss = allsp["setting_type"] == "independent_special"
    allsp = allsp[~iss | (allsp["number_of_pupils"] >= ISS_MIN_PUPILS)]
    return allsp.sort_values(["d_km", "urn"])


def _ooa_ages(urn: int, name: str, setting_type: str) -> tuple[int, int, str]:
    """Age range from a public profile or the name (GIAS gives no ages in these files)."""
    if urn in OOA_AGES_KNOWN:
        lo, hi = OOA_AGES_KNOWN[urn]
        return lo, hi, f"{lo}-{hi} from public school profile"
    low = name.lower()
    if setting_type == "post16_specialist":
        return 16, 25, "post-16 institution: 16-25"
    if any(w in low for w in ("primary", "infant", "junior")):
        return 4, 11, "name says primary: 4-11"
    if any(w in low for w in ("high", "secondary", "college", "sixth")):
        return 11, 19, "name says high/college: 11-19"
    lo, hi = OOA_AGES[setting_type]
    return lo, hi, f"no phase in name: {lo}-{hi} assumed for type"


def _out_of_area(src: dict, centre: tuple[float, float], rng: np.random.Generator) -> pd.DataFrame:
    """Out-of-area settings a Trafford child could plausibly attend, nearest first."""
    cand = _ooa_candidates(src, centre)
    fam = cand["setting_type"].where(cand["setting_type"].isin(OOA_RULES), "state")
    picks = []
    for family, (km, count, _) in OOA_RULES.items():
        picks.append(cand[(fam == family) & (cand["d_km"] <= km)].head(count))
    s = pd.concat(picks).sort_values(["d_km", "urn"]).copy()
    fam = s["setting_type"].where(s["setting_type"].isin(OOA_RULES), "state")
    lo_hi = [OOA_RULES[f][2] for f in fam]
    s["total_places"] = [int(rng.integers(lo, hi + 1)) for lo, hi in lo_hi]
    ages = [
        _ooa_ages(u, n, t)
        for u, n, t in zip(s["urn"], s["establishment_name"], s["setting_type"], strict=True)
    ]
    s["age_min"], s["age_max"] = [a[0] for a in ages], [a[1] for a in ages]
    s["name"] = s["establishment_name"]
    s["in_area"], s["ward_code"] = False, ""
    s["assumption"] = [
        f"places open to Trafford: the part of Trafford's SEN2 count in-area places cannot "
        f"take, split by an assumed size ({lo}-{hi}); ages: {a[2]}; packages "
        + ("from published designation" if u in OOA_PACKAGES else "default for type")
        for (lo, hi), a, u in zip(lo_hi, ages, s["urn"], strict=True)
    ]
    return s


def build_settings(src: dict, wards: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """settings.csv: in-area first (sorted by name), then out-of-area (sorted by name)."""
    la = src["la"].to_crs(27700).geometry.iloc[0].centroid
    inside = _trafford_settings(src, wards, rng).sort_values(["name", "urn"])
    outside = _out_of_area(src, (la.x, la.y), rng).sort_values(["name", "urn"])
    s = pd.concat([inside, outside], ignore_index=True)
    s["setting_id"] = [f"S{i + 1:03d}" for i in range(len(s))]
    # GIAS gives the statutory high age (the age pupils leave at: 11 for a primary); the
    # dataset's age_max is the oldest age at the start of the school year (10 for a primary).
    s["age_max"] = s["age_max"].astype(int) - 1
    for c in ("urn", "la_code", "easting", "northing", "age_min", "age_max", "total_places"):
        s[c] = s[c].astype(int)
    return s


# =========================================================================== places


def designation(s: pd.Series) -> dict[str, float]:
    """Packages a setting delivers and the share of its places each takes (assumed)."""
    if s.urn in IN_AREA_SPLIT:
        return IN_AREA_SPLIT[s.urn]
    pk = IB_PACKAGES.get(s.urn) or OOA_PACKAGES.get(s.urn)
    return {p: 1.0 / len(pk) for p in pk} if pk else OOA_DEFAULT_SPLIT[s.setting_type]


def _group_places(group: pd.DataFrame, package_id: str, need: int) -> dict[int, int]:
    """``need`` places of one package over one placement group's settings (row -> places).

    In-area settings first, each up to its real size open to Trafford × its designated
    share for the package; the rest over the out-of-area settings designated for it, by
    their assumed places open to Trafford. No setting of the group designated for the
    package: all of the group's settings share it (a generic special school).
    """
    share = pd.Series({i: designation(r).get(package_id, 0.0) for i, r in group.iterrows()})
    if not (share > 0).any():
        share[:] = 1.0
    out: dict[int, int] = {}
    inside = group["in_area"] & (share > 0)
    if inside.any():
        cap = (
            group.loc[inside, "total_places"]
            * group.loc[inside, "setting_type"].map(OPEN_SHARE).fillna(1.0)
            * share[inside]
        )
        # base places are sized to SEN2 (all of them in area); a special school's are
        # at most its real size
        bases = group.loc[inside, "setting_type"].iloc[0] == "inclusion_base"
        got = _split_weights(need if bases else min(need, int(np.floor(cap.sum()))), cap)
        out.update(got)
        need -= sum(got.values())
    outside = ~group["in_area"] & (share > 0)
    if need > 0:
        if not outside.any():
            outside = share > 0
        w = group.loc[outside, "total_places"].astype(float) * share[outside]
        for i, k in _split_weights(need, w).items():
            out[i] = out.get(i, 0) + k
    return out


def _split_weights(total: int, weights: pd.Series) -> dict[int, int]:
    got = cohort.split_largest_remainder(total, weights.to_numpy(float))
    return {int(i): int(k) for i, k in zip(weights.index, got, strict=True) if k > 0}


def build_places(
    settings: pd.DataFrame, demand: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """places.csv sized to Trafford's SEN2 count by placement group × package.

    Each group's places for a package equal Trafford's SEN2 children of that group and
    package (INMSS with headroom), so the baseline reproduces SEN2's placements; fee only
    where no costing-framework cost applies.
    """
    s = settings.sort_values("setting_id")
    group_of = s["setting_type"].map(SETTING_GROUP)
    rows = []
    for group, by_pkg in demand.iterrows():
        members = s[group_of == group]
        for package_id, n in by_pkg.items():
            need = int(n)
            if group == "inmss" and need > 0:
                need = int(np.ceil(need * INMSS_HEADROOM[0])) + INMSS_HEADROOM[1]
            if need > 0 and len(members):
                got = _group_places(members, str(package_id), need)
                rows += [(members.loc[i, "setting_id"], str(package_id), k) for i, k in got.items()]
    fees = {r.setting_id: draw_fee(r.setting_type, rng) for r in s.itertuples(index=False)}
    out = pd.DataFrame(rows, columns=["setting_id", "package_id", "places"])
    out["annual_cost_gbp"] = pd.array([fees[i] for i in out["setting_id"]], dtype="Int64")
    return out.sort_values(["setting_id", "package_id"], ignore_index=True)


# =========================================================================== children inputs


def population_long(pop: pd.DataFrame) -> pd.DataFrame:
    """MYE 2024 LSOA wide table -> lsoa_code, age, persons (Persons rows, ages 0-25)."""
    p = pop[pop["sex"] == "Persons"]
    ages = [str(a) for a in range(26)]
    long = p.melt(id_vars="area_code", value_vars=ages, var_name="age", value_name="persons")
    long["age"] = long["age"].astype(int)
    return long.rename(columns={"area_code": "lsoa_code"}).sort_values(
        ["lsoa_code", "age"], ignore_index=True
    )


def usable_postcodes(
    pc: pd.DataFrame, wards: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Postcodes in BNG integer metres whose point lies inside its own ward and LSOA
    (2 m inside the generalised boundaries, so rounding never moves a home out)."""
    pc = pc.sort_values("postcode", ignore_index=True).copy()
    pc["easting"], pc["northing"] = to_bng(pc["lon"], pc["lat"])
    pts = gpd.GeoSeries(gpd.points_from_xy(pc["easting"], pc["northing"]), crs=27700)
    ok = np.ones(len(pc), dtype=bool)
    for code_col, poly in (
        ("ward_code", wards.set_index("ward_code")),
        ("lsoa_code", lsoa.set_index("area_code")),
    ):
        inner = poly.to_crs(27700).geometry.buffer(-2)
        ok &= pts.within(gpd.GeoSeries(inner.loc[pc[code_col]].to_numpy(), crs=27700)).to_numpy()
    return pc.loc[ok, ["postcode", "lsoa_code", "ward_code", "easting", "northing"]]


def reach_km(policy_text: str) -> dict[str, float]:
    """Straight-line reach [km] of the journey caps: cap × speed / detour."""
    import yaml

    pol = yaml.safe_load(policy_text)
    cap = pol["max_travel_min"]
    return {
        ph: cap[ph] / 60 * pol["speed_kmh"] / pol["detour_factor"]
        for ph in ("primary", "secondary")
    }


# =========================================================================== other outputs


#: Trafford's selective schools whose name does not say "Grammar" (assumption A24).
SELECTIVE_NOT_NAMED = ("Saint Ambrose College",)  # Catholic boys' grammar school, Hale Barns


def admissions_policy(names: pd.Series) -> list[str]:
    """Selective for a Trafford grammar school (assumption A24), else blank (unknown).

    Trafford is a selective LA; the schools file has no admissions policy, so a school
    is taken as selective when its name contains "Grammar" or is in SELECTIVE_NOT_NAMED.
    """
    grammar = names.str.contains("Grammar", regex=False) | names.isin(SELECTIVE_NOT_NAMED)
    return ["Selective" if g else "" for g in grammar]


def build_candidates(sch: pd.DataFrame, gm: pd.DataFrame | None = None) -> pd.DataFrame:
    """candidates.csv: Trafford mainstream schools without a resourced provision.

    Host attributes: ``phase`` by admission age, ``establishment_type`` from the GM
    GIAS file by URN (blank when absent), ``gender`` from the schools file and
    ``admissions_policy`` by :func:`admissions_policy`.
    """
    mainstream = ("Local authority maintained schools", "Academies", "Free Schools")
    est = sch["establishment_number"]
    rp = sch["resource_provision"].fillna("Not applicable") != "Not applicable"
    c = sch[
        sch["type"].isin(mainstream) & ~est.between(7000, 7999) & ~est.between(1000, 1999) & ~rp
    ].copy()
    phase = np.where(c["highest_admission_age"] <= 11, "primary", "secondary")
    c["easting"], c["northing"] = to_bng(c["lon"], c["lat"])
    types = (
        pd.Series(dtype=str)
        if gm is None
        else gm.drop_duplicates("urn").set_index("urn")["establishment_type"]
    )
    c = c.assign(
        urn=c["unique_reference_number"],
        age_min=c["lowest_admission_age"].clip(lower=4),
        age_max=c["highest_admission_age"].clip(upper=19) - 1,  # oldest age at start of year
        packages=[CANDIDATE_PACKAGES[p] for p in phase],
        max_places=[CANDIDATE_PLACES[p] for p in phase],
        capital_cost_gbp_per_place=CAPITAL_GBP_PER_PLACE,
        phase=[p.capitalize() for p in phase],
        establishment_type=c["unique_reference_number"].map(types).fillna(""),
        gender=c["gender"].fillna(""),
        admissions_policy=admissions_policy(c["name"]),
    )
    c = c.sort_values(["name", "urn"], ignore_index=True)
    c["site_id"] = [f"N{i + 1:03d}" for i in range(len(c))]
    cols = [
        "site_id",
        "name",
        "urn",
        "easting",
        "northing",
        "age_min",
        "age_max",
        "packages",
        "max_places",
        "capital_cost_gbp_per_place",
        "phase",
        "establishment_type",
        "gender",
        "admissions_policy",
    ]
    return c[cols]


def wards_geojson(wards: gpd.GeoDataFrame) -> str:
    """RFC 7946 GeoJSON of the wards (ward_code, ward_name), coordinates rounded to 6 dp."""
    from shapely.geometry import mapping

    feats = []
    for w in rounded_wards(wards).sort_values("ward_code").itertuples(index=False):
        feats.append(
            {
                "type": "Feature",
                "properties": {"ward_code": w.ward_code, "ward_name": w.ward_name},
                "geometry": mapping(w.geometry),
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":"))
    return text + "\n"


# =========================================================================== writing


def sen2_demand() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Trafford's SEN2 counts by group, needs by group, need -> package and the demand
    (group × package) the cohort reproduces (``optimiser.dataset.init.cohort``)."""
    la = resolve_la(str(LA_CODE))
    _, counts, _ = group_counts(la, SEN2_YEAR)
    needs = sen2_needs_by_group(la)
    need_packages = cohort.need_packages_table()
    return counts, needs, need_packages, cohort.package_demand(counts, needs, need_packages)


def _keep_used(settings: pd.DataFrame, places: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Settings with places open to Trafford, renumbered; total_places = their places."""
    total = places.groupby("setting_id")["places"].sum()
    s = settings[settings["setting_id"].isin(total.index)].copy()
    s["total_places"] = s["setting_id"].map(total).astype(int)
    new_id = {old: f"S{i + 1:03d}" for i, old in enumerate(s["setting_id"])}
    s["setting_id"] = s["setting_id"].map(new_id)
    places = places.assign(setting_id=places["setting_id"].map(new_id))
    return s, places.sort_values(["setting_id", "package_id"], ignore_index=True)


def policy_yaml() -> str:
    """The default policy with Trafford's own SEN2 growth of the specialist cohort."""
    rate, why = growth_per_year(resolve_la(str(LA_CODE)), SEN2_YEAR)
    return POLICY_YAML + (
        f"# Trafford's specialist cohort growth a year, SEN2: {why} (the horizon's default).\n"
        f"demand_growth_per_year: {rate:.4f}\n"
    )


STATE_SPECIAL = ("maintained_special", "academy_special")
PHASE_AGE = {"primary": 7, "secondary": 13, "post16": 17}  # an age inside each phase


def fit_places_to_ages(files: dict[str, str]) -> pd.DataFrame:
    """places.csv after one calibration pass: free state-special places moved to the ages
    that need them.

    Places are sized to SEN2 by package, not by age, so a package's free places can sit
    at a primary school while its secondary children go to INMSS. The baseline is
    allocated once; for each package and phase whose new children went to INMSS, that many
    free state-special places of the package at settings that do not take the phase move
    to the designated state special that does (in area first, then the largest). Each
    group's places per package are unchanged (still Trafford's SEN2 count).
    """
    import tempfile

    from optimiser import allocate, load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_bytes(text.encode("utf-8"))
        ds = load_dataset(tmp)
    res = allocate(ds)
    st = ds.settings.set_index("setting_id")
    # the places as written (a blank fee = costing framework), not as loaded (filled in)
    places = pd.read_csv(io.StringIO(files["places.csv"]), dtype={"annual_cost_gbp": "Int64"})
    pl = res.placements
    new = pl[~pl["continuing"].astype(bool)]
    used = pl.groupby(["setting_id", "package_id"]).size()
    for (package_id, phase), k in (
        new[new["setting_type"].isin(INMSS)].groupby(["package_id", "phase"]).size().items()
    ):
        age = PHASE_AGE[str(phase)]
        takes = (st["age_min"] <= age) & (st["age_max"] >= age)
        rows = places[places["package_id"] == package_id]
        state = rows[rows["setting_id"].map(st["setting_type"]).isin(STATE_SPECIAL)]
        target = state[state["setting_id"].map(takes)]
        if target.empty:
            continue
        target = target.assign(ia=target["setting_id"].map(st["in_area"]).astype(bool))
        to = target.sort_values(["ia", "places"], ascending=False).index[0]
        for i in state[~state["setting_id"].map(takes)].index:
            u = int(used.get((places.at[i, "setting_id"], package_id), 0))
            move = min(int(k), int(places.at[i, "places"]) - u)
            if move > 0:
                places.loc[i, "places"] -= move
                places.loc[to, "places"] += move
                k -= move
    places = places[places["places"] > 0]
    out = places.astype({"places": int})
    return out.sort_values(["setting_id", "package_id"], ignore_index=True)


def build(src_dir: Path) -> dict[str, str]:
    """Build every output file's text from the sources in ``src_dir``."""
    rng = np.random.default_rng(SEED)
    src = read_sources(src_dir)
    wards = src["wards"]
    counts, needs, need_packages, demand = sen2_demand()
    settings = build_settings(src, wards, rng)
    places = build_places(settings, demand, rng)
    settings, places = _keep_used(settings, places)
    packages = placeholder_packages()
    policy = policy_yaml()
    children = cohort.build_children(
        population_long(src["pop"]),
        usable_postcodes(src["postcodes"], wards, src["lsoa"]),
        settings,
        places,
        packages,
        demand,
        seed=SEED + 1,
        reach_km=reach_km(policy),
        need_mix=cohort.need_mix_by_package(counts, needs, need_packages),
    )
    frames = {
        "packages": packages,
        "costing_framework": default_costing_framework(),
        "settings": settings[SETTING_COLUMNS],
        "places": places,
        "children": children,
        "candidates": build_candidates(src["schools"], src["gm"]),
        "need_packages": need_packages,
    }
    files = {f"{k}.csv": csv_text(v) for k, v in frames.items()}
    files["wards.geojson"] = wards_geojson(wards)
    files["policy.yaml"] = policy
    files["attribution.txt"] = ATTRIBUTION_TXT
    places = fit_places_to_ages(files)
    settings["total_places"] = settings["setting_id"].map(
        places.groupby("setting_id")["places"].sum()
    )
    files["places.csv"] = csv_text(places)
    files["settings.csv"] = csv_text(settings[SETTING_COLUMNS])
    return files


# =========================================================================== summary


def _true(col: pd.Series) -> pd.Series:
    """Boolean of a true/false column however pandas parsed it."""
    return col.astype(str).str.lower() == "true"


def summary(out_dir: Path) -> str:
    """Figures of the built data set, read back from ``out_dir``."""
    st = pd.read_csv(out_dir / "settings.csv")
    pl = pd.read_csv(out_dir / "places.csv")
    ch = pd.read_csv(out_dir / "children.csv", keep_default_na=False)
    cont = ch[ch["current_setting_id"] != ""]
    ctype = cont["current_setting_id"].map(st.set_index("setting_id")["setting_type"])
    lines = [f"settings: {len(st)} ({int(_true(st['in_area']).sum())} in area)"]
    by_type = st.groupby("setting_type").agg(
        settings=("setting_id", "size"), in_area=("in_area", "sum")
    )
    by_type["places"] = pl.merge(st, on="setting_id").groupby("setting_type")["places"].sum()
    by_type["continuing"] = ctype.value_counts()
    lines.append(by_type.fillna(0).astype(int).to_string())
    special = ctype.isin(["maintained_special", "academy_special", *INMSS])
    lines.append(f"children: {len(ch)}; continuing {len(cont)}; to place {len(ch) - len(cont)}")
    lines.append(
        f"INMSS share of continuing special placements: "
        f"{ctype.isin(INMSS).sum()}/{special.sum()} = "
        f"{ctype.isin(INMSS).sum() / special.sum():.1%}"
    )
    lines.append(
        f"with preferences {(ch['preferences'] != '').mean():.1%}; prefers_mainstream "
        f"{_true(ch['prefers_mainstream']).mean():.1%}; solo_transport "
        f"{_true(ch['solo_transport']).mean():.1%}; ages "
        f"{ch['age'].min()}-{ch['age'].max()} (2-3: {ch['age'].between(2, 3).sum()}, "
        f"20-25: {ch['age'].between(20, 25).sum()})"
    )
    pk = (
        pd.DataFrame(
            {
                "places": pl.groupby("package_id")["places"].sum(),
                "children": ch.groupby("package_id").size(),
                "continuing": cont.groupby("package_id").size(),
            }
        )
        .fillna(0)
        .astype(int)
    )
    pk["free"] = pk["places"] - pk["continuing"]
    pk["to_place"] = pk["children"] - pk["continuing"]
    lines.append("places vs demand by package:\n" + pk.to_string())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO / "data" / "trafford",
        help="output folder (default data/trafford)",
    )
    ap.add_argument("--sources", type=Path, default=SOURCES, help="input folder")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in build(args.sources).items():
        (args.out / name).write_bytes(text.encode("utf-8"))
    if not args.quiet:
        print(summary(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
