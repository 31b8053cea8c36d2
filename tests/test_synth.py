"""Tests of optimiser.synth and of the embedded Trafford data set (data/trafford/).

The rebuild test runs ``scripts/build_default_data.py --out TMP`` and compares every file
byte for byte with the committed data set.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from optimiser import synth
from optimiser.schema import SETTING_TYPES
from optimiser.schema.tables import PRIMARY_NEEDS

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "trafford"
SOURCES = REPO / "data" / "sources"
FILES = [
    "packages.csv",
    "costing_framework.csv",
    "settings.csv",
    "places.csv",
    "children.csv",
    "candidates.csv",
    "need_packages.csv",
    "wards.geojson",
    "policy.yaml",
    "attribution.txt",
]
INMSS = ("nmss", "independent_special")
SPECIAL = ("maintained_special", "academy_special", *INMSS)


def _load_build_script():
    spec = importlib.util.spec_from_file_location(
        "build_default_data", REPO / "scripts" / "build_default_data.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def build():
    return _load_build_script()


@pytest.fixture(scope="module")
def ds():
    read = {"keep_default_na": False, "dtype": str}
    out = {
        n: pd.read_csv(DATA / f"{n}.csv", **read)
        for n in ("packages", "costing_framework", "settings", "places", "children", "candidates")
    }
    for name, cols in {
        "settings": ["age_min", "age_max", "total_places", "easting", "northing"],
        "places": ["places"],
        "children": ["age", "easting", "northing"],
    }.items():
        out[name][cols] = out[name][cols].astype(int)
    return out


@pytest.fixture(scope="module")
def trafford_inputs(build):
    src = build.read_sources(SOURCES)
    settings = build.build_settings(src, src["wards"], np.random.default_rng(build.SEED))
    *_, demand = build.sen2_demand()
    places = build.build_places(settings, demand, np.random.default_rng(1))
    return {
        "population": build.population_long(src["pop"]),
        "postcodes": build.usable_postcodes(src["postcodes"], src["wards"], src["lsoa"]),
        "settings": settings,
        "places": places,
        "packages": synth.placeholder_packages(),
        "need_mix": synth.need_mix_from_primary_need(synth.ENGLAND_NEED_PC),
        "continuing_mix": {"academy_special": 0.5, "maintained_special": 0.3, "nmss": 0.2},
        "reach_km": build.reach_km(build.POLICY_YAML),
    }


def _small_cohort(inputs: dict, seed: int) -> pd.DataFrame:
    i = inputs
    return synth.synth_children(
        i["population"],
        i["postcodes"],
        i["settings"],
        i["places"],
        i["packages"],
        n_children=200,
        seed=seed,
        need_mix=i["need_mix"],
        n_to_place=50,
        continuing_mix=i["continuing_mix"],
        reach_km=i["reach_km"],
    )


# ----------------------------------------------------------------------------- determinism


def test_synth_children_same_seed_same_frame(trafford_inputs):
    pd.testing.assert_frame_equal(
        _small_cohort(trafford_inputs, 7), _small_cohort(trafford_inputs, 7)
    )


def test_synth_children_different_seed_differs(trafford_inputs):
    assert not _small_cohort(trafford_inputs, 7).equals(_small_cohort(trafford_inputs, 8))


def test_synth_area_same_seed_same_frames():
    a = synth.synth_area(n_children=600, n_settings=40, seed=3)
    b = synth.synth_area(n_children=600, n_settings=40, seed=3)
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_synth_area_different_seed_differs():
    a = synth.synth_area(n_children=600, n_settings=40, seed=3)
    b = synth.synth_area(n_children=600, n_settings=40, seed=4)
    assert not a["children"].equals(b["children"])
    assert not a["settings"].equals(b["settings"])


def test_no_global_rng_used():
    np.random.seed(0)  # noqa: NPY002 - the legacy global state is what we check
    before = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    synth.synth_area(n_children=100, n_settings=10, seed=1)
    assert np.random.random() == before  # noqa: NPY002


# ----------------------------------------------------------------------------- synth_area


def test_synth_area_is_consistent():
    area = synth.synth_area(n_children=3000, n_settings=150, seed=11, side_km=40)
    st, pl, ch = area["settings"], area["places"], area["children"]
    assert len(ch) == 3000 and len(st) == 150
    assert ch["child_id"].is_unique and st["setting_id"].is_unique
    assert ch["easting"].between(350_000, 390_000).all()
    assert ch["northing"].between(250_000, 290_000).all()
    assert (
        st.set_index("setting_id")["total_places"] >= pl.groupby("setting_id")["places"].sum()
    ).all()
    _check_current_and_preferences(ch, st, pl)
    cont = (ch["current_setting_id"] != "").mean()
    assert 0.55 < cont < 0.8
    assert set(pl.loc[pl["annual_cost_gbp"].notna(), "setting_id"]) <= set(
        st.loc[st["setting_type"].isin(INMSS), "setting_id"]
    )


def test_need_mix_sums_to_one_and_rejects_nonsense():
    mix = synth.need_mix_from_primary_need(synth.ENGLAND_NEED_PC)
    assert mix.sum() == pytest.approx(1.0)
    assert mix.idxmax() == "SPP3"
    with pytest.raises(ValueError, match="need codes"):
        synth.need_mix_from_primary_need({"XYZ": 100.0})


# ----------------------------------------------------------------------------- committed data


def _check_current_and_preferences(ch, st, pl) -> None:
    have = pl[pl["places"].astype(int) > 0]
    offers = set(zip(have["setting_id"], have["package_id"], strict=True))
    ages = st.set_index("setting_id")[["age_min", "age_max"]].astype(int)
    for k in ch.itertuples(index=False):
        sids = [s for s in str(k.preferences).split(";") if s]
        assert len(sids) == len(set(sids)) <= 3
        if k.current_setting_id:
            sids.append(k.current_setting_id)
        for s in sids:
            assert s in ages.index
            assert (s, k.package_id) in offers
            assert ages.at[s, "age_min"] <= int(k.age) <= ages.at[s, "age_max"]
    cont = ch[ch["current_setting_id"] != ""]
    used = cont.groupby(["current_setting_id", "package_id"]).size()
    cap = pl.set_index(["setting_id", "package_id"])["places"].astype(int)
    assert (used <= cap.reindex(used.index)).all()


def test_current_and_preferences_valid(ds):
    _check_current_and_preferences(ds["children"], ds["settings"], ds["places"])


def test_volumes_and_shares(ds):
    ch, st = ds["children"], ds["settings"]
    assert len(ch) == 1164  # Trafford's SEN2 specialist cohort, January 2025
    cont = ch[ch["current_setting_id"] != ""]
    assert 0.85 <= len(cont) / len(ch) <= 0.92  # about 12% still to place
    ctype = cont["current_setting_id"].map(st.set_index("setting_id")["setting_type"])
    inmss = ctype.isin(INMSS).sum() / ctype.isin(SPECIAL).sum()
    assert 0.12 <= inmss <= 0.16  # SEN2: 141 of 962 special-school placements
    assert 0.40 <= (ch["preferences"] != "").mean() <= 0.60
    assert 0.06 <= (ch["prefers_mainstream"] == "true").mean() <= 0.15
    assert 0.06 <= (ch["solo_transport"] == "true").mean() <= 0.12
    assert ch["age"].between(2, 25).all()
    assert ch["age"].between(4, 19).mean() > 0.95
    to_place = ch[ch["current_setting_id"] == ""]
    assert to_place["age"].isin([4, 5, 11, 16]).mean() > 0.4
    shares = ch["package_id"].value_counts(normalize=True)
    assert shares.idxmax() == "SPP3" and 0.15 < shares["SPP4"] < 0.25  # SEN2 SEMH 18.7%
    assert set(ch["primary_need"]) <= set(PRIMARY_NEEDS) and (ch["primary_need"] != "").all()


def test_prefers_mainstream_only_where_a_base_offers_the_package(ds):
    ch, st, pl = ds["children"], ds["settings"], ds["places"]
    ib = pl.merge(st, on="setting_id")
    ib = ib[ib["setting_type"].isin(["inclusion_base", "mainstream"]) & (ib["places"] > 0)]
    for k in ch[ch["prefers_mainstream"] == "true"].itertuples(index=False):
        ok = ib[
            (ib["package_id"] == k.package_id) & (ib["age_min"] <= k.age) & (ib["age_max"] >= k.age)
        ]
        assert not ok.empty


def test_homes_inside_their_wards(ds):
    wards = gpd.read_file(SOURCES / "trafford_wards_may2023_generalised.geojson").to_crs(27700)
    ch = ds["children"]
    pts = gpd.GeoDataFrame(
        ch[["child_id", "ward_code"]],
        geometry=gpd.points_from_xy(ch["easting"], ch["northing"]),
        crs=27700,
    )
    hit = gpd.sjoin(pts, wards[["area_code", "geometry"]], predicate="within", how="left")
    assert hit["area_code"].notna().all()
    assert (hit["area_code"] == hit["ward_code"]).all()


def test_settings_table(ds):
    st = ds["settings"]
    assert list(st["setting_id"]) == [f"S{i + 1:03d}" for i in range(len(st))]
    inside = st[st["in_area"] == "true"]
    assert (st["in_area"].iloc[: len(inside)] == "true").all()
    assert list(inside["name"]) == sorted(inside["name"])
    assert (inside["ward_code"] != "").all() and (inside["la_code"] == "358").all()
    assert 40 <= (st["in_area"] == "false").sum() <= 80
    assert set(st["setting_type"]) <= set(SETTING_TYPES)
    pl = ds["places"]
    tot = pl.groupby("setting_id")["places"].sum()
    assert (st.set_index("setting_id")["total_places"].reindex(tot.index) >= tot).all()
    fee = pl["annual_cost_gbp"] != ""
    fee_types = pl.loc[fee, "setting_id"].map(st.set_index("setting_id")["setting_type"])
    assert set(fee_types) <= {"nmss", "independent_special", "post16_specialist"}


def test_policy_keys_exact():
    pol = yaml.safe_load((DATA / "policy.yaml").read_text())
    assert list(pol) == [
        "area_name",
        "data_notice",
        "la_code",
        "max_travel_min",
        "phase_age",
        "detour_factor",
        "speed_kmh",
        "school_days_per_year",
        "walking_distance_miles",
        "transport",
        "preference_penalty_gbp",
        "unranked_penalty_gbp",
        "mainstream_duty_gbp",
        "unplaced_penalty_gbp",
        "unplaced_cost_gbp",
        "continuity",
        "inmss_max_places",
        "host_exclusions",
        "demand_growth_per_year",
    ]
    assert pol["host_exclusions"]["single_sex"] == [f"SPP{i}" for i in range(1, 8)]
    assert pol["max_travel_min"] == {"primary": 45, "secondary": 75, "post16": 75}
    assert pol["inmss_max_places"] is None
    assert pol["la_code"] == "358"  # quoted: a string, never the int 358
    assert pol["area_name"] == "Trafford"
    assert "synthetic" in pol["data_notice"].lower() and "\n" not in pol["data_notice"]
    assert pol["demand_growth_per_year"] == pytest.approx(0.072, abs=0.001)  # SEN2 2019-25


def test_files_are_utf8_lf_and_sorted(ds):
    for name in FILES:
        raw = (DATA / name).read_bytes()
        raw.decode("utf-8")
        assert b"\r" not in raw and raw.endswith(b"\n")
    keys = {
        "packages": "package_id",
        "settings": "setting_id",
        "children": "child_id",
        "candidates": "site_id",
    }
    for name, key in keys.items():
        assert ds[name][key].is_monotonic_increasing and ds[name][key].is_unique


# ----------------------------------------------------------------------------- rebuild


def test_rebuild_is_byte_identical(build, tmp_path):
    assert build.main(["--out", str(tmp_path), "--quiet"]) == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_readme_figures_match_build(build):
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert build.summary(DATA) in readme
