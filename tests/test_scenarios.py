"""Scenarios: each change type applied to the tiny fixture and checked field by field, the base
never mutated, ``extends`` chains, and every validation error naming the file and the change.

Tiny fixture (tests/data/tiny), as loaded:
  S1 maintained_special 4-19, total 3: P1 2 places (framework £26,000), P2 2 (framework £28,000)
  S2 inclusion_base 4-11, total 2:     P1 2 places (framework £15,000)
  S3 independent_special 5-19, total 10: P1 5 (own fee £60,000), P2 5 (own fee £65,000)
  children to place (current_setting_id blank): C1 P1 6, C2 P1 9, C3 P1 13, C5 P2 8, C6 P1 7;
  C4 P2 12 continues at S1.
  Hence to place: P1 4 (C1 C2 C3 C6), P2 1 (C5); primary 4 (C1 C2 C5 C6), secondary 1 (C3).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimiser
from optimiser import DataValidationError
from optimiser.policy import policy_from_mapping
from optimiser.scenarios.changes import AddSetting, CapFees, SetPlaces
from optimiser.scenarios.checks import check_scenario
from optimiser.scenarios.scenario import scenario_from_mapping

ROOT = Path(__file__).resolve().parents[1]
TO_PLACE = {
    "P1": {"C1", "C2", "C3", "C6"},
    "P2": {"C5"},
    "primary": {"C1", "C2", "C5", "C6"},
    "secondary": {"C3"},
}


def scenario(*changes: dict, name: str = "option", seed: int = 0, source: str = "option.yaml"):
    return scenario_from_mapping(
        {"name": name, "seed": seed, "changes": list(changes)}, source=source
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def place(ds: optimiser.Dataset, setting_id: str, package_id: str) -> pd.Series:
    rows = ds.places[
        (ds.places["setting_id"] == setting_id) & (ds.places["package_id"] == package_id)
    ]
    assert len(rows) == 1, f"{setting_id}/{package_id}: {len(rows)} place rows"
    return rows.iloc[0]


def setting(ds: optimiser.Dataset, setting_id: str) -> pd.Series:
    rows = ds.settings[ds.settings["setting_id"] == setting_id]
    assert len(rows) == 1
    return rows.iloc[0]


def to_place(ds: optimiser.Dataset) -> pd.DataFrame:
    return ds.children[ds.children["current_setting_id"] == ""]


def snapshot(ds: optimiser.Dataset) -> dict:
    return {
        "children": ds.children.copy(deep=True),
        "settings": ds.settings.copy(deep=True),
        "places": ds.places.copy(deep=True),
        "packages": ds.packages.copy(deep=True),
        "policy": ds.policy.model_dump(),
    }


NEW_BASE = {
    "setting_id": "N1",
    "name": "New ASD base",
    "setting_type": "inclusion_base",
    "easting": 384000,
    "northing": 396500,
    "age_min": 4,
    "age_max": 11,
    "places": {"P1": 3},
}


# --- add_setting -------------------------------------------------------------------------


def test_add_setting_adds_the_setting_and_its_places_at_framework_cost(tiny):
    out = scenario({"add_setting": NEW_BASE}).apply(tiny)
    assert len(out.settings) == len(tiny.settings) + 1
    new = setting(out, "N1")
    assert new["name"] == "New ASD base"
    assert new["setting_type"] == "inclusion_base"
    assert (new["easting"], new["northing"]) == (384000, 396500)
    assert (new["age_min"], new["age_max"]) == (4, 11)
    assert new["total_places"] == 3  # sum of its places when not given
    assert bool(new["in_area"]) is True
    assert bool(new["closed"]) is False
    row = place(out, "N1", "P1")
    assert row["places"] == 3
    assert row["annual_cost_gbp"] == 15000  # costing framework: P1 × inclusion_base
    assert len(out.places) == len(tiny.places) + 1
    assert set(out.settings["setting_id"]) == {"S1", "S2", "S3", "N1"}


def test_add_setting_uses_given_costs_and_total(tiny):
    change = {
        **NEW_BASE,
        "setting_type": "maintained_special",
        "age_min": 4,
        "age_max": 19,
        "places": {"P1": 4, "P2": 6},
        "annual_cost_gbp": {"P2": 31000},
        "total_places": 8,
        "in_area": False,
        "capital_cost_gbp": 250000,
    }
    sc = scenario({"add_setting": change})
    out = sc.apply(tiny)
    assert place(out, "N1", "P1")["annual_cost_gbp"] == 26000  # framework (maintained_special)
    assert place(out, "N1", "P2")["annual_cost_gbp"] == 31000  # given
    assert place(out, "N1", "P2")["places"] == 6
    assert setting(out, "N1")["total_places"] == 8
    assert bool(setting(out, "N1")["in_area"]) is False
    assert sc.capital_cost_gbp == 250000


def test_added_setting_is_used_by_the_allocation(tiny):
    """N1 (P1, 4-11) next to C6's home: C6 leaves S3 (£60,000) for N1 (£15,000)."""
    res = optimiser.allocate(tiny, scenario({"add_setting": NEW_BASE}))
    at = res.placements.set_index("child_id")["setting_id"]
    assert at["C6"] == "N1"
    assert res.kpis["inmss_children"] == 0


# --- set_places ---------------------------------------------------------------------------


@pytest.mark.parametrize(("places", "total"), [(5, 6), (0, 1), (2, 3)])
def test_set_places_changes_places_and_moves_total_by_the_difference(tiny, places, total):
    out = scenario(
        {"set_places": {"setting_id": "S1", "package_id": "P1", "places": places}}
    ).apply(tiny)
    assert place(out, "S1", "P1")["places"] == places
    assert place(out, "S1", "P1")["annual_cost_gbp"] == 26000  # cost unchanged
    assert place(out, "S1", "P2")["places"] == 2  # other package untouched
    assert setting(out, "S1")["total_places"] == total  # 3 + (places - 2)
    assert setting(out, "S2")["total_places"] == 2


def test_set_places_new_package_row_with_cost(tiny):
    out = scenario(
        {
            "set_places": {
                "setting_id": "S2",
                "package_id": "P2",
                "places": 4,
                "annual_cost_gbp": 21000,
            }
        }
    ).apply(tiny)
    assert place(out, "S2", "P2")["places"] == 4
    assert place(out, "S2", "P2")["annual_cost_gbp"] == 21000
    assert setting(out, "S2")["total_places"] == 6  # 2 + 4 - 0
    assert len(out.places) == len(tiny.places) + 1


def test_set_places_can_change_the_fee(tiny):
    out = scenario(
        {
            "set_places": {
                "setting_id": "S3",
                "package_id": "P1",
                "places": 5,
                "annual_cost_gbp": 50000,
            }
        }
    ).apply(tiny)
    assert place(out, "S3", "P1")["annual_cost_gbp"] == 50000
    assert place(out, "S3", "P2")["annual_cost_gbp"] == 65000
    assert setting(out, "S3")["total_places"] == 10


# --- close_setting ------------------------------------------------------------------------


def test_close_setting_places_nobody_there_and_replaces_its_pupils(tiny):
    sc = scenario({"close_setting": {"setting_id": "S1"}})
    out = sc.apply(tiny)
    assert bool(setting(out, "S1")["closed"]) is True
    assert not setting(out, "S2")["closed"] and not setting(out, "S3")["closed"]
    assert (optimiser.options(tiny, sc)["setting_id"] != "S1").all()
    res = optimiser.allocate(tiny, sc)
    assert (res.placements["setting_id"] != "S1").all()
    assert set(res.placements["child_id"]) | set(res.unplaced["child_id"]) == {
        f"C{i}" for i in range(1, 7)
    }
    # C4 (P2, 12) continued at S1: now re-placed, at S3 (the only other P2 setting) if in reach
    c4 = res.placements[res.placements["child_id"] == "C4"]
    reachable = (
        (optimiser.options(tiny, sc)["child_id"] == "C4")
        & (optimiser.options(tiny, sc)["setting_id"] == "S3")
    ).any()
    if reachable:
        assert c4["setting_id"].tolist() == ["S3"]
        assert not c4["continuing"].iloc[0]
    else:
        assert "C4" in set(res.unplaced["child_id"])
    assert res.kpis["continuing_children"] == 0


# --- cap_fees -----------------------------------------------------------------------------


def test_cap_fees_defaults_to_inmss_types(tiny):
    sc = scenario({"cap_fees": {"max_annual_cost_gbp": 20000}})
    assert sc.changes[0].setting_types == ("nmss", "independent_special")
    out = sc.apply(tiny)
    assert place(out, "S3", "P1")["annual_cost_gbp"] == 20000  # was 60,000 (INMSS)
    assert place(out, "S3", "P2")["annual_cost_gbp"] == 20000  # was 65,000
    assert place(out, "S1", "P1")["annual_cost_gbp"] == 26000  # maintained: not capped
    assert place(out, "S1", "P2")["annual_cost_gbp"] == 28000
    assert place(out, "S2", "P1")["annual_cost_gbp"] == 15000


def test_cap_fees_by_package(tiny):
    out = scenario({"cap_fees": {"package_id": "P2", "max_annual_cost_gbp": 50000}}).apply(tiny)
    assert place(out, "S3", "P2")["annual_cost_gbp"] == 50000
    assert place(out, "S3", "P1")["annual_cost_gbp"] == 60000


def test_cap_fees_by_setting_type_only_caps_above_the_cap(tiny):
    out = scenario(
        {"cap_fees": {"setting_type": "maintained_special", "max_annual_cost_gbp": 27000}}
    ).apply(tiny)
    assert place(out, "S1", "P2")["annual_cost_gbp"] == 27000  # framework 28,000 capped
    assert place(out, "S1", "P1")["annual_cost_gbp"] == 26000  # below the cap
    assert place(out, "S3", "P1")["annual_cost_gbp"] == 60000  # other type


def test_cap_fees_list_of_types_changes_the_allocation_costs(tiny):
    sc = scenario(
        {
            "cap_fees": {
                "setting_type": ["independent_special", "maintained_special"],
                "max_annual_cost_gbp": 25000,
            }
        }
    )
    out = sc.apply(tiny)
    assert out.places.set_index(["setting_id", "package_id"])["annual_cost_gbp"].to_dict() == {
        ("S1", "P1"): 25000,
        ("S1", "P2"): 25000,
        ("S2", "P1"): 15000,
        ("S3", "P1"): 25000,
        ("S3", "P2"): 25000,
    }
    opts = optimiser.options(tiny, sc)
    assert opts.loc[opts["setting_id"] == "S3", "place_cost_gbp"].eq(25000).all()


# --- policy / transport -------------------------------------------------------------------


def test_policy_override_merges_nested_keys(tiny):
    base = tiny.replace(
        policy=policy_from_mapping(
            {
                **tiny.policy.model_dump(),
                "max_travel_min": {"primary": 40, "secondary": 60, "post16": 70},
            }
        )
    )
    out = scenario({"policy": {"max_travel_min": {"primary": 30}}}).apply(base)
    caps = out.policy.max_travel_min
    assert (caps.primary, caps.secondary, caps.post16) == (30, 60, 70)  # siblings kept
    before, after = base.policy.model_dump(), out.policy.model_dump()
    del before["max_travel_min"], after["max_travel_min"]
    assert after == before  # nothing else changed
    assert base.policy.max_travel_min.primary == 40


def test_policy_override_changes_eligibility(tiny):
    """C6 ranked S3 (52 min away) — beyond a 30-min cap it is still ranked, but C3's S3 arc
    (secondary, 63 min) goes when the secondary cap drops below its journey."""
    opts = optimiser.options(tiny)
    c3_s3 = opts[(opts["child_id"] == "C3") & (opts["setting_id"] == "S3")]["travel_min"]
    assert len(c3_s3) == 1
    cap = math.floor(float(c3_s3.iloc[0])) - 1
    sc = scenario({"policy": {"max_travel_min": {"secondary": cap}}})
    after = optimiser.options(tiny, sc)
    assert not ((after["child_id"] == "C3") & (after["setting_id"] == "S3")).any()
    assert ((after["child_id"] == "C6") & (after["setting_id"] == "S3")).any()  # ranked


def _a_transport_rate(policy: optimiser.Policy) -> tuple[str, str, float]:
    for mode, fields in policy.transport.model_dump().items():
        if isinstance(fields, dict):
            for key, value in fields.items():
                if key.endswith("gbp_per_mile") and isinstance(value, float):
                    return mode, key, value
    pytest.skip("no per-mile transport rate in the policy")


def test_transport_change_is_a_policy_override_of_transport(tiny):
    mode, key, value = _a_transport_rate(tiny.policy)
    # a base whose rates for the mode all differ from the defaults, so a merge that drops
    # sibling keys (back to the defaults) is caught
    dump = tiny.policy.model_dump()
    dump["transport"][mode] = {
        k: v * 2 + 1 if isinstance(v, float) else v for k, v in dump["transport"][mode].items()
    }
    base = tiny.replace(policy=policy_from_mapping(dump))
    value = base.policy.transport.model_dump()[mode][key]
    sc = scenario({"transport": {mode: {key: value + 1.0}}})
    assert sc.changes[0].kind in ("policy", "transport")
    out = sc.apply(base)
    after = out.policy.transport.model_dump()
    before = base.policy.transport.model_dump()
    assert after[mode][key] == value + 1.0
    after[mode][key] = value
    assert after == before  # sibling keys of the mode and other modes kept
    assert out.policy.max_travel_min == base.policy.max_travel_min


# --- demand_growth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "factor", "expected"),
    [
        ("P1", 1.5, 6),
        ("P1", 2.0, 8),
        ("P1", 0.5, 2),
        ("P1", 0.0, 0),
        ("P2", 3.0, 3),
        ("primary", 1.5, 6),
        ("primary", 0.75, 3),
        ("secondary", 2.0, 2),
        ("P1", 1.0, 4),
    ],
)
def test_demand_growth_scales_children_to_place(tiny, key, factor, expected):
    out = scenario({"demand_growth": {key: factor}}).apply(tiny)
    kids = to_place(out)
    phase = kids["age"].astype(int).map(out.policy.phase_of_age)
    group = (kids["package_id"] == key) | (phase == key)
    assert int(group.sum()) == expected
    others = to_place(tiny)
    other_phase = others["age"].astype(int).map(tiny.policy.phase_of_age)
    untouched = others[~((others["package_id"] == key) | (other_phase == key))]
    assert set(untouched["child_id"]) <= set(out.children["child_id"])
    assert out.children["child_id"].is_unique
    # the continuing child is never scaled
    assert out.children.loc[out.children["child_id"] == "C4", "current_setting_id"].tolist() == [
        "S1"
    ]
    if factor < 1:  # removal only: survivors are original children of the group
        assert set(kids.loc[group, "child_id"]) <= TO_PLACE[key]


def test_demand_growth_clones_follow_their_group(tiny):
    out = scenario({"demand_growth": {"P1": 2.0}}).apply(tiny)
    new = out.children[~out.children["child_id"].isin(tiny.children["child_id"])]
    assert len(new) == 4
    assert set(new["package_id"]) == {"P1"}
    assert (new["current_setting_id"] == "").all()
    assert all(len(p) == 0 for p in new["preferences"])  # a new EHCP has no ranked settings yet
    original = tiny.children.set_index("child_id")
    for cid, row in new.set_index("child_id").iterrows():
        src = cid.split("-g")[0]
        assert src in TO_PLACE["P1"]
        assert row["age"] == original.at[src, "age"]
        assert (row["easting"], row["northing"]) == (
            original.at[src, "easting"],
            original.at[src, "northing"],
        )


def test_demand_growth_by_ward(tiny):
    kids = tiny.children.assign(ward_code=["W1", "W1", "W2", "W1", "W2", "W2"])
    ds = tiny.replace(children=kids)
    # to place: W1 = C1 C2; W2 = C3 C5 C6
    out = scenario({"demand_growth": {"W1": 2.0, "W2": 1 / 3}}).apply(ds)
    todo = to_place(out)
    assert int((todo["ward_code"] == "W1").sum()) == 4
    assert int((todo["ward_code"] == "W2").sum()) == 1
    assert out.children["child_id"].is_unique
    assert len(out.children) == 6 + 2 - 2


def test_demand_growth_several_keys_gives_unique_ids(tiny):
    out = scenario({"demand_growth": {"P1": 2.5, "primary": 2.0, "P2": 4.0}}).apply(tiny)
    assert out.children["child_id"].is_unique
    assert len(out.children) == 6 + 6 + 4 + 3


def test_demand_growth_is_seeded(default_ds):
    change = {"demand_growth": {"SPP4": 1.3, "primary": 0.8}}
    a = scenario(change, seed=0).apply(default_ds).children
    b = scenario(change, seed=0).apply(default_ds).children
    c = scenario(change, seed=1).apply(default_ds).children
    pd.testing.assert_frame_equal(a, b)
    assert a["child_id"].is_unique and c["child_id"].is_unique
    assert len(a) == len(c)  # same counts …
    assert set(a["child_id"]) != set(c["child_id"])  # … different children


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    key=st.sampled_from(["P1", "P2", "primary", "secondary"]),
    factor=st.floats(min_value=0.0, max_value=4.0, allow_nan=False),
)
def test_demand_growth_count_is_n_times_factor_rounded(tiny, key, factor):
    n = len(TO_PLACE[key])
    out = scenario({"demand_growth": {key: factor}}).apply(tiny)
    kids = to_place(out)
    phase = kids["age"].astype(int).map(out.policy.phase_of_age)
    got = int(((kids["package_id"] == key) | (phase == key)).sum())
    assert abs(got - n * factor) <= 0.5 + 1e-9
    assert out.children["child_id"].is_unique


# --- the base is never mutated ------------------------------------------------------------

EVERY_CHANGE = [
    {"add_setting": NEW_BASE},
    {"set_places": {"setting_id": "S1", "package_id": "P1", "places": 7}},
    {"set_places": {"setting_id": "S2", "package_id": "P2", "places": 1, "annual_cost_gbp": 20000}},
    {"close_setting": {"setting_id": "S1"}},
    {"cap_fees": {"max_annual_cost_gbp": 10000}},
    {"cap_fees": {"setting_type": "maintained_special", "max_annual_cost_gbp": 10000}},
    {"policy": {"max_travel_min": {"primary": 20}, "continuity": "free"}},
    {"demand_growth": {"P1": 2.0}},
    {"demand_growth": {"primary": 0.5}},
]


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: next(iter(c)))
def test_the_base_dataset_is_never_mutated(tiny, change):
    before = snapshot(tiny)
    sc = scenario(change)
    out = sc.apply(tiny)
    optimiser.allocate(tiny, sc)
    after = snapshot(tiny)
    for name in ("children", "settings", "places", "packages"):
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    assert after["policy"] == before["policy"]
    assert out is not tiny


def test_all_changes_together_leave_the_base_alone(tiny):
    before = snapshot(tiny)
    out = scenario(*EVERY_CHANGE[:3], *EVERY_CHANGE[4:]).apply(tiny)
    for name in ("children", "settings", "places", "packages"):
        pd.testing.assert_frame_equal(getattr(tiny, name), before[name], obj=name)
    assert len(out.settings) == 4


# --- from_year ----------------------------------------------------------------------------


def test_from_year_filters_changes_only_when_a_year_is_given(tiny):
    sc = scenario(
        {"set_places": {"setting_id": "S1", "package_id": "P1", "places": 9, "from_year": 2}},
        {"demand_growth": {"P1": 2.0, "from_year": 1}},
        {"policy": {"max_travel_min": {"primary": 40}, "from_year": 3}},
    )
    assert [c.from_year for c in sc.changes] == [2, 1, 3]
    everything = sc.apply(tiny)  # a single-year run applies every change
    assert place(everything, "S1", "P1")["places"] == 9
    assert everything.policy.max_travel_min.primary == 40
    year1 = sc.apply(tiny, year=1)
    assert place(year1, "S1", "P1")["places"] == 2
    assert len(year1.children) == 10
    assert year1.policy.max_travel_min.primary == 45
    year2 = sc.apply(tiny, year=2)
    assert place(year2, "S1", "P1")["places"] == 9
    assert year2.policy.max_travel_min.primary == 45


# --- loading, extends ---------------------------------------------------------------------


def test_load_scenario_reads_every_field(tmp_path):
    path = write(
        tmp_path,
        "opt.yaml",
        """\
name: Autism base + fee cap
description: two changes
seed: 7
changes:
  - add_setting: {setting_id: N1, name: Base, setting_type: inclusion_base, easting: 384000,
                  northing: 396500, age_min: 4, age_max: 11, places: {P1: 3},
                  capital_cost_gbp: 60000}
  - cap_fees: {setting_type: independent_special, max_annual_cost_gbp: 55000}
  - set_places: {setting_id: S1, package_id: P2, places: 4, capital_cost_gbp: 100000}
""",
    )
    sc = optimiser.load_scenario(path)
    assert sc.name == "Autism base + fee cap"
    assert sc.description == "two changes"
    assert sc.seed == 7
    assert sc.source == "opt.yaml"
    assert [c.kind for c in sc.changes] == ["add_setting", "cap_fees", "set_places"]
    assert isinstance(sc.changes[0], AddSetting) and sc.changes[0].places == {"P1": 3}
    assert isinstance(sc.changes[1], CapFees) and sc.changes[1].max_annual_cost_gbp == 55000
    assert sc.capital_cost_gbp == 160000


def test_extends_puts_the_parents_changes_first(tmp_path, tiny):
    write(
        tmp_path,
        "grand.yaml",
        "name: g\nchanges:\n  - set_places: {setting_id: S1, package_id: P1, places: 4}\n",
    )
    write(
        tmp_path,
        "parent.yaml",
        "name: p\nextends: grand.yaml\nchanges:\n"
        "  - set_places: {setting_id: S1, package_id: P1, places: 6}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "name: c\nextends: parent.yaml\nchanges:\n  - close_setting: {setting_id: S3}\n",
    )
    sc = optimiser.load_scenario(child)
    assert sc.name == "c"
    assert [c.kind for c in sc.changes] == ["set_places", "set_places", "close_setting"]
    assert [getattr(c, "places", None) for c in sc.changes] == [4, 6, None]
    out = sc.apply(tiny)
    assert place(out, "S1", "P1")["places"] == 6  # the child's later change wins
    assert setting(out, "S1")["total_places"] == 7  # 3 + (4 - 2) + (6 - 4)
    assert bool(setting(out, "S3")["closed"])


def test_example_all_three_extends_the_autism_base():
    sc = optimiser.load_scenario(ROOT / "examples" / "all_three.yaml")
    base = optimiser.load_scenario(ROOT / "examples" / "autism_base_stretford_high.yaml")
    assert sc.changes[: len(base.changes)] == base.changes
    assert [c.kind for c in sc.changes] == ["add_setting", "set_places", "cap_fees"]
    assert sc.capital_cost_gbp == 320000 + 1440000


@pytest.mark.parametrize("layout", ["self", "pair", "triangle"])
def test_extends_cycle_is_a_clear_error(tmp_path, layout):
    chains = {
        "self": {"a": "a"},
        "pair": {"a": "b", "b": "a"},
        "triangle": {"a": "b", "b": "c", "c": "a"},
    }[layout]
    for name, parent in chains.items():
        write(tmp_path, f"{name}.yaml", f"name: {name}\nextends: {parent}.yaml\nchanges: []\n")
    with pytest.raises(DataValidationError, match=r"\.yaml, key extends: found a cycle of extends"):
        optimiser.load_scenario(tmp_path / "a.yaml")


def test_extends_missing_parent_names_it(tmp_path):
    path = write(tmp_path, "a.yaml", "name: a\nextends: nowhere.yaml\nchanges: []\n")
    with pytest.raises(DataValidationError, match=r"a\.yaml, key extends: found nowhere\.yaml"):
        optimiser.load_scenario(path)


# --- validation errors: the file and the change number ------------------------------------


def test_unknown_ids_name_the_file_and_each_change(tmp_path, tiny):
    path = write(
        tmp_path,
        "ids.yaml",
        """\
name: bad ids
changes:
  - set_places: {setting_id: S9, package_id: P7, places: 2}
  - add_setting: {setting_id: S1, name: n, setting_type: inclusion_base, easting: 380000,
                  northing: 395000, age_min: 4, age_max: 11, places: {PX: 1}}
  - close_setting: {setting_id: S8}
  - cap_fees: {package_id: PZ, max_annual_cost_gbp: 1}
  - demand_growth: {Q1: 1.1}
""",
    )
    sc = optimiser.load_scenario(path)  # the ids are checked against the data on use
    with pytest.raises(DataValidationError, match=r"7 problem\(s\)") as err:
        sc.apply(tiny)
    msg = str(err.value)
    for expected in [
        r"ids.yaml, change 1 (set_places) setting_id: found 'S9'",
        r"ids.yaml, change 1 (set_places) package_id: found 'P7'",
        r"ids.yaml, change 2 (add_setting) setting_id: found 'S1'; expected a new",
        r"ids.yaml, change 2 (add_setting) places: found 'PX'",
        r"ids.yaml, change 3 (close_setting) setting_id: found 'S8'",
        r"ids.yaml, change 4 (cap_fees) package_id: found 'PZ'",
        r"ids.yaml, change 5 (demand_growth) Q1: found 'Q1'",
    ]:
        assert expected in msg
    assert len(err.value.problems) == 7
    assert {p.file for p in err.value.problems} == {"ids.yaml"}
    assert check_scenario(sc, tiny) == err.value.problems


def test_unknown_ids_are_rejected_by_allocate_and_compare(tiny):
    sc = scenario({"close_setting": {"setting_id": "S9"}}, source="close.yaml")
    with pytest.raises(DataValidationError, match=r"close\.yaml, change 1 \(close_setting\)"):
        optimiser.allocate(tiny, sc)
    with pytest.raises(DataValidationError, match=r"close\.yaml, change 1 \(close_setting\)"):
        optimiser.compare(tiny, [sc])


def test_set_places_may_follow_add_setting_of_the_same_id(tiny):
    sc = scenario(
        {"add_setting": NEW_BASE},
        {"set_places": {"setting_id": "N1", "package_id": "P1", "places": 5}},
    )
    assert check_scenario(sc, tiny) == []
    out = sc.apply(tiny)
    assert place(out, "N1", "P1")["places"] == 5
    assert setting(out, "N1")["total_places"] == 5


def test_malformed_changes_are_listed_together(tmp_path):
    path = write(
        tmp_path,
        "multi.yaml",
        """\
name: multi
colour: red
changes:
  - set_places: {setting_id: S1, package_id: P1, places: -2}
  - frobnicate: {x: 1}
  - add_setting: {setting_id: N, name: n, setting_type: inclusion_base, easting: 380000,
                  northing: 395000, age_min: 4, age_max: 11, places: {P1: -1}}
  - demand_growth: {P1: -0.5}
  - set_places: {setting_id: S1, package_id: P1, places: 2, colour: blue}
  - close_setting: {setting_id: S1}
""",
    )
    with pytest.raises(DataValidationError, match=r"6 problem\(s\)") as err:
        optimiser.load_scenario(path)
    msg = str(err.value)
    assert "multi.yaml, key colour: found an unknown key" in msg
    assert "multi.yaml, change 1 (set_places) places: found -2" in msg
    assert "multi.yaml, change 2: found {'frobnicate'" in msg
    assert "unknown change 'frobnicate'" in msg
    assert "multi.yaml, change 3 (add_setting) places" in msg and "must not be negative" in msg
    assert "multi.yaml, change 4 (demand_growth)" in msg
    assert "multi.yaml, change 5 (set_places) colour" in msg
    assert "change 6" not in msg


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"set_places": {"setting_id": "S1", "package_id": "P1", "places": -1}},
            r"x\.yaml, change 1 \(set_places\) places: found -1",
        ),
        (
            {"set_places": {"setting_id": "S1", "package_id": "P1"}},
            r"x\.yaml, change 1 \(set_places\) places: .*Field required",
        ),
        (
            {"add_setting": {**NEW_BASE, "setting_type": "castle"}},
            r"x\.yaml, change 1 \(add_setting\) setting_type: found 'castle'",
        ),
        (
            {"cap_fees": {"max_annual_cost_gbp": -5}},
            r"x\.yaml, change 1 \(cap_fees\) max_annual_cost_gbp: found -5",
        ),
        (
            {"close_setting": {"setting_id": "S1", "from_year": -1}},
            r"x\.yaml, change 1 \(close_setting\) from_year",
        ),
        ("close_setting", r"x\.yaml, change 1: found 'close_setting'; expected each change is one"),
        (
            {"close_setting": {"setting_id": "S1"}, "cap_fees": {"max_annual_cost_gbp": 1}},
            r"x\.yaml, change 1: .*one 'kind: \{fields\}' entry",
        ),
    ],
)
def test_each_malformed_change_is_named(change, match):
    with pytest.raises(DataValidationError, match=match):
        scenario(change, source="x.yaml")


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            {"max_travel_min": {"primary": -5}},
            r"pol\.yaml, change 1 \(policy\) key max_travel_min\.primary: found -5",
        ),
        ({"bogus": 1}, r"pol\.yaml, change 1 \(policy\) key bogus: found 1"),
        ({"continuity": "sometimes"}, r"pol\.yaml, change 1 \(policy\) key continuity"),
    ],
)
def test_bad_policy_override_names_file_change_and_key(tiny, override, match):
    sc = scenario_from_mapping({"name": "p", "changes": [{"policy": override}]}, source="pol.yaml")
    with pytest.raises(DataValidationError, match=match):
        sc.apply(tiny)


def test_bad_policy_overrides_are_listed_together(tiny):
    sc = scenario(
        {"policy": {"max_travel_min": {"primary": -5}, "bogus": 1}},
        {"close_setting": {"setting_id": "S9"}},
        source="pol.yaml",
    )
    with pytest.raises(DataValidationError, match=r"3 problem\(s\)") as err:
        sc.apply(tiny)
    cols = [p.column for p in err.value.problems]
    assert "change 1 (policy) key max_travel_min.primary" in cols
    assert "change 1 (policy) key bogus" in cols
    assert "change 2 (close_setting) setting_id" in cols


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = write(
        tmp_path, "broken.yaml", "name: bad\nchanges:\n  - set_places: {setting_id: S1\n  - x: [\n"
    )
    with pytest.raises(DataValidationError, match=r"broken\.yaml row \d+: found malformed YAML"):
        optimiser.load_scenario(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("changes: []\n", r"s\.yaml, key name"),
        ("- just\n- a list\n", r"s\.yaml, key name"),
        (
            "name: n\nchanges: {close_setting: {setting_id: S1}}\n",
            r"s\.yaml, key changes: found dict; expected a list of changes",
        ),
        ("name: n\ncolor: red\nchanges: []\n", r"s\.yaml, key color: found an unknown key"),
    ],
)
def test_top_level_problems_name_the_file(tmp_path, text, match):
    with pytest.raises(DataValidationError, match=match):
        optimiser.load_scenario(write(tmp_path, "s.yaml", text))


def test_no_such_scenario_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"missing\.yaml: found no such file"):
        optimiser.load_scenario(tmp_path / "missing.yaml")


# --- bugs ---------------------------------------------------------------------------------


def test_inherited_change_errors_name_the_parent_file(tmp_path, tiny):
    write(
        tmp_path,
        "parent.yaml",
        "name: p\nchanges:\n  - set_places: {setting_id: S9, package_id: P1, places: 3}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "name: c\nextends: parent.yaml\nchanges:\n  - close_setting: {setting_id: S1}\n",
    )
    sc = optimiser.load_scenario(child)
    with pytest.raises(DataValidationError, match=r"parent\.yaml, change 1 \(set_places\)"):
        sc.apply(tiny)


def test_cap_fees_unknown_setting_type_is_an_error(tiny):
    sc = scenario(
        {"cap_fees": {"setting_type": "independant_special", "max_annual_cost_gbp": 50000}},
        source="cap.yaml",
    )
    with pytest.raises(DataValidationError, match=r"cap\.yaml, change 1 \(cap_fees\) setting_type"):
        sc.apply(tiny)


def test_places_without_any_cost_are_an_error(tiny):
    sc = scenario({"add_setting": {**NEW_BASE, "places": {"P2": 2}}}, source="cost.yaml")
    assert isinstance(sc.changes[0], AddSetting)
    with pytest.raises(DataValidationError, match=r"cost\.yaml, change 1 \(add_setting\)"):
        sc.apply(tiny)


def test_set_places_on_places_an_earlier_change_created_keeps_their_cost(tiny):
    # P2 × inclusion_base has no framework row: the add_setting gives the cost, and a
    # later set_places on that row (a planner resizing the new base) needs none
    base = {**NEW_BASE, "places": {"P2": 2}, "annual_cost_gbp": {"P2": 21000}}
    resize = {"set_places": {"setting_id": "N1", "package_id": "P2", "places": 5}}
    sc = scenario({"add_setting": base}, resize)
    assert check_scenario(sc, tiny) == []
    out = sc.apply(tiny)
    assert place(out, "N1", "P2")["places"] == 5
    assert place(out, "N1", "P2")["annual_cost_gbp"] == 21000
    # new P2 places at a base that offers only P1 still need a cost
    p1_base = {**NEW_BASE, "places": {"P1": 2}}
    problems = check_scenario(scenario({"add_setting": p1_base}, resize), tiny)
    assert [p.column for p in problems] == ["change 2 (set_places) annual_cost_gbp"]


def test_set_places_model_rejects_negative_places():
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        SetPlaces(setting_id="S1", package_id="P1", places=-1)
