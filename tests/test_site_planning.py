"""Siting inclusion bases (optimiser.site): hand-solved cases, properties, round trips, errors.

Cases are written as CSV into ``tmp_path`` and read through :func:`optimiser.load_dataset`.
Transport is the flat per-pupil-mile model (every child eligible, £2.60 a pupil-mile
shared, no daily charge) so hand values stay simple: shared transport per straight km =
2 × 1.3 / 1.609344 × 190 × 2.6 = £798.0892. Children are 12 (secondary, cap 75 min; 1 road
km = 2.5 min). The INMSS school is 20 km east of the children, candidate N1 1 km east and
candidate N2 5 km east; the framework prices an inclusion-base place at £15,000 and an
INMSS place at £60,000; capital is £20,000 a place.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import FLAT_TRANSPORT
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.siting.cflp.solution import check_facility_location
from optimiser.siting.cflp.solve import solve_facility_location
from optimiser.siting.instance import annuity_factor
from optimiser.siting.plan import budget_curve

E0, N0 = 380000.0, 395000.0
PER_KM = 2 * 1.3 / 1.609344 * 190 * 2.6  # £798.0892 a straight km
SIZES = (4, 8)


def _csv(rows: list[dict], path: Path) -> None:
    pd.DataFrame(rows).to_csv(path, index=False, lineterminator="\n")


def write_case(
    folder: Path,
    *,
    kids: int = 5,
    inmss_places: int = 10,
    candidates: list[dict] | None = None,
    p2_kids: int = 0,
) -> Path:
    """Children at (E0, N0), each in their own LSOA; an INMSS 20 km east; candidates."""
    folder.mkdir(parents=True)
    _csv([{"package_id": p, "name": f"package {p}"} for p in ("P1", "P2")], folder / "packages.csv")
    _csv(
        [
            {
                "setting_id": "S9",
                "name": "Independent Z",
                "setting_type": "independent_special",
                "easting": E0 + 20000,
                "northing": N0,
                "age_min": 5,
                "age_max": 19,
                "total_places": 2 * inmss_places,
                "in_area": "false",
            }
        ],
        folder / "settings.csv",
    )
    _csv(
        [
            {"setting_id": "S9", "package_id": p, "places": inmss_places, "annual_cost_gbp": ""}
            for p in ("P1", "P2")
        ],
        folder / "places.csv",
    )
    _csv(
        [
            {"package_id": p, "setting_type": t, "annual_cost_gbp": c}
            for p in ("P1", "P2")
            for t, c in (("inclusion_base", 15000), ("independent_special", 60000))
        ],
        folder / "costing_framework.csv",
    )
    pkgs = ["P1"] * kids + ["P2"] * p2_kids
    _csv(
        [
            {
                "child_id": f"C{i}",
                "package_id": p,
                "age": 12,
                "easting": E0,
                "northing": N0,
                "lsoa_code": f"L{i}",
                "ward_code": "W1",
                "preferences": "",
                "prefers_mainstream": "false",
                "current_setting_id": "",
                "solo_transport": "false",
            }
            for i, p in enumerate(pkgs)
        ],
        folder / "children.csv",
    )
    cand = (
        candidates
        if candidates is not None
        else [{"site_id": "N1", "easting": E0 + 1000}, {"site_id": "N2", "easting": E0 + 5000}]
    )
    if cand:
        _csv(
            [
                {
                    "name": f"School {c['site_id']}",
                    "urn": 100100 + i,
                    "northing": N0,
                    "age_min": 11,
                    "age_max": 16,
                    "packages": "P1",
                    "max_places": 8,
                    "capital_cost_gbp_per_place": 20000,
                    **c,
                }
                for i, c in enumerate(cand)
            ],
            folder / "candidates.csv",
        )
    (folder / "policy.yaml").write_text(
        yaml.safe_dump({"transport": FLAT_TRANSPORT}), encoding="utf-8"
    )
    return folder


@pytest.fixture
def case(tmp_path: Path):
    count = iter(range(100))

    def make(**kw: object) -> optimiser.Dataset:
        return optimiser.load_dataset(write_case(tmp_path / f"case{next(count)}", **kw))

    return make


def per_child_saving(km_new: float) -> float:
    return 60000 + round(20 * PER_KM, 2) - 15000 - round(km_new * PER_KM, 2)


def confirmed(ds: optimiser.Dataset, res: optimiser.SitingResult) -> float:
    base = optimiser.allocate(ds).kpis["total_cost_gbp"]
    return base - optimiser.allocate(ds, res.to_scenario()).kpis["total_cost_gbp"]


# ------------------------------------------------------------------------ hand-solved cases


def test_nearest_site_is_chosen_and_saving_is_exact(case) -> None:
    # Five INMSS children; one 8-place base (£160k) serves all of them. N1 is 1 km away, N2 5 km:
    # each child saves £60,000 + 20 km transport − £15,000 − 1 km transport at N1.
    ds = case()
    res = optimiser.site(ds, budget_gbp=200_000, sizes=SIZES)
    assert res.status == "optimal" and res.gap == 0
    assert res.sites[["site_id", "package_id", "places"]].values.tolist() == [["N1", "P1", 8]]
    assert res.capital_cost_gbp == 160_000
    assert res.annual_saving_gbp == pytest.approx(5 * per_child_saving(1), abs=0.01)
    assert res.modelled_saving_gbp == pytest.approx(res.annual_saving_gbp, abs=0.01)
    assert res.annual_saving_gbp == confirmed(ds, res)
    assert res.children_served == 5 and res.inmss_places_avoided == 5
    assert res.newly_placed_children == 0
    assert res.saving_with_proxy_gbp == res.annual_saving_gbp
    assert res.journey_min_saved == pytest.approx(5 * 19 * 1.3 * 2.5)
    annual = 160_000 / annuity_factor(25, 0.035)
    assert res.annualised_capital_gbp == pytest.approx(annual)
    assert res.sites.at[0, "setting_id"] == "NEW-N1-P1"
    assert res.marginal["marginal_saving_gbp"].tolist() == pytest.approx([res.annual_saving_gbp])


def test_small_budget_buys_the_small_module(case) -> None:
    # £100k buys only a 4-place base: 4 of the 5 children (one per LSOA zone) move.
    res = optimiser.site(case(), budget_gbp=100_000, sizes=SIZES)
    assert res.sites[["site_id", "places"]].values.tolist() == [["N1", 4]]
    assert res.capital_cost_gbp == 80_000
    assert res.annual_saving_gbp == pytest.approx(4 * per_child_saving(1), abs=0.01)


def test_zero_budget_opens_nothing(case) -> None:
    res = optimiser.site(case(), budget_gbp=0, sizes=SIZES)
    assert res.sites.empty and res.capital_cost_gbp == 0 and res.annual_saving_gbp == 0
    assert res.status == "optimal" and res.to_scenario().changes == ()


def test_site_cap_across_packages(case) -> None:
    # N1 may host P1 and P2 bases, together at most 8 places: two 4-place bases, not 8 + 4.
    cand = [{"site_id": "N1", "easting": E0 + 1000, "packages": "P1;P2"}]
    res = optimiser.site(case(kids=4, p2_kids=4, candidates=cand), budget_gbp=1e6, sizes=SIZES)
    assert sorted(res.sites["package_id"]) == ["P1", "P2"]
    assert res.sites["places"].tolist() == [4, 4]


def test_unplaced_children_use_the_inmss_proxy_and_are_reported(case) -> None:
    # INMSS has 3 places: 2 children are unplaced. The model and the confirmed totals both
    # count each at unplaced_cost_gbp (mean INMSS fee £60,000 + mean INMSS transport): one
    # rule, so the confirmed saving equals the modelled one and the proxy adds nothing more.
    ds = case(inmss_places=3)
    res = optimiser.site(ds, budget_gbp=200_000, sizes=SIZES)
    assert res.newly_placed_children == 2 and res.children_served == 5
    proxy = 60000 + round(20 * PER_KM, 2)
    assert res.demand["status_quo_cost_gbp"].tolist() == pytest.approx([proxy] * 5, abs=0.01)
    assert res.modelled_saving_gbp == pytest.approx(5 * per_child_saving(1), abs=0.01)
    assert res.baseline_total_cost_gbp == pytest.approx(5 * proxy, abs=0.01)
    assert res.annual_saving_gbp == pytest.approx(5 * per_child_saving(1), abs=0.01)
    assert res.saving_with_proxy_gbp == res.annual_saving_gbp


def test_more_budget_never_worse(case) -> None:
    ds = case(kids=11)  # INMSS holds 10
    curve = budget_curve(ds, [320_000, 0, 80_000, 160_000, 240_000], sizes=SIZES)
    assert curve["budget_gbp"].tolist() == [0, 80_000, 160_000, 240_000, 320_000]
    assert (curve["capital_cost_gbp"] <= curve["budget_gbp"]).all()
    assert curve["modelled_saving_gbp"].is_monotonic_increasing
    assert curve["annual_saving_gbp"].is_monotonic_increasing
    # £320k: 8 at N1 and 3 at N2 (4 places); INMSS had 10 places, so one child was unplaced.
    t = [round(km * PER_KM, 2) for km in (20, 1, 5)]
    # the child unplaced in the baseline costs unplaced_cost_gbp there (mean INMSS fee + transport)
    full = 11 * (60000 + t[0]) - 8 * (15000 + t[1]) - 3 * (15000 + t[2])
    assert curve["annual_saving_gbp"].iloc[-1] == pytest.approx(full, abs=0.01)
    assert curve["capital_cost_gbp"].iloc[-1] == 240_000
    objectives = [
        optimiser.site(ds, budget_gbp=b, sizes=SIZES, marginal=False).objective
        for b in (0, 80_000, 160_000, 240_000)
    ]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(objectives))


def test_result_budget_curve_reuses_parameters(case) -> None:
    res = optimiser.site(case(), budget_gbp=200_000, sizes=SIZES)
    curve = res.budget_curve([80_000, 160_000])
    assert curve["capital_cost_gbp"].tolist() == [80_000, 160_000]
    assert curve["extra_saving_per_extra_gbp"].notna().all()


def test_horizon_scales_children_still_to_place(case) -> None:
    ds = case(kids=4)
    res = optimiser.site(ds, budget_gbp=200_000, sizes=SIZES, horizon_years=1, growth=0.5)
    assert len(res.dataset.children) == 6 and int(res.demand["children"].sum()) == 6
    assert res.annual_saving_gbp == confirmed(res.dataset, res)
    with pytest.raises(optimiser.DataValidationError, match="horizon_years"):
        optimiser.site(ds, budget_gbp=1, horizon_years=-1)


def test_budget_respected_on_random_budgets(case) -> None:
    ds = case(kids=9)
    rng = np.random.default_rng(0)
    for budget in rng.uniform(0, 400_000, size=5):
        res = optimiser.site(ds, budget_gbp=float(budget), sizes=(4, 8, 12), marginal=False)
        assert res.capital_cost_gbp <= budget
        assert res.annual_saving_gbp == confirmed(ds, res)


# ------------------------------------------------------------------------ scenario round trip


def test_to_scenario_round_trip_through_yaml(case, tmp_path: Path) -> None:
    ds = case()
    res = optimiser.site(ds, budget_gbp=200_000, sizes=SIZES)
    path = res.save_scenario(tmp_path / "plan.yaml", name="My plan")
    loaded = optimiser.load_scenario(path)
    assert loaded.name == "My plan"
    assert [c.model_dump() for c in loaded.changes] == [
        c.model_dump() for c in res.to_scenario().changes
    ]
    assert loaded.capital_cost_gbp == res.capital_cost_gbp
    again = optimiser.allocate(ds, loaded).kpis["total_cost_gbp"]
    assert again == res.planned_total_cost_gbp
    cmp = optimiser.compare(ds, [loaded])
    saving = cmp.at["total_cost_gbp", "baseline"] - cmp.at["total_cost_gbp", "My plan"]
    assert saving == pytest.approx(res.annual_saving_gbp)
    with pytest.raises(FileExistsError, match="already exists"):
        res.save_scenario(path)


# ------------------------------------------------------------------------ errors


def test_no_candidates_is_a_clear_error(case) -> None:
    ds = case(candidates=[])
    assert ds.candidates is None
    with pytest.raises(optimiser.DataValidationError, match=r"candidates\.csv"):
        optimiser.site(ds, budget_gbp=1e5)


@pytest.mark.parametrize("budget", [-1, math.nan, math.inf, "lots", True])
def test_bad_budget(case, budget: object) -> None:
    with pytest.raises(optimiser.DataValidationError, match="budget_gbp"):
        optimiser.site(case(), budget_gbp=budget)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"packages": ["SPP9"]}, "packages"),
        ({"phases": "infant"}, "phases"),
        ({"sizes": (0, 8)}, "sizes"),
        ({"discount_rate": -0.1}, "discount_rate"),
    ],
)
def test_bad_arguments(case, kw: dict, match: str) -> None:
    with pytest.raises(optimiser.DataValidationError, match=match):
        optimiser.site(case(), budget_gbp=1e5, **kw)


def test_annuity_factor() -> None:
    assert annuity_factor(25, 0.035) == pytest.approx(16.4815, abs=1e-4)
    assert annuity_factor(10, 0.0) == 10


# ------------------------------------------------------------------------ core: groups


def test_core_groups_make_sizes_exclusive() -> None:
    # Facilities 0 (cap 4, cost 1) and 1 (cap 4, cost 1) are two sizes of one site; demand 8.
    # Without the group both open (2 + 0); with it, facility 2 (cap 8, cost 5) must serve.
    data = ([1, 1, 5], [4, 4, 8], [4, 4], [[0, 0], [0, 0], [0, 0]])
    free = solve_facility_location(*data)
    assert free.open.tolist() == [True, True, False] and free.objective == 2
    sol = solve_facility_location(*data, groups=[[0, 1]])
    assert sol.status == "optimal" and sol.objective == 5
    assert sol.open.tolist() == [False, False, True]
    assert check_facility_location(*data, sol, groups=[[0, 1]]) == []
    assert any(p.startswith("(7)") for p in check_facility_location(*data, free, groups=[[0, 1]]))
    single = solve_facility_location(*data, groups=[[0, 1]], single_source=True, engine="highs")
    assert single.engine == "highs" and single.objective == 5


def test_core_families_share_assignment_and_match_groups() -> None:
    # Site A in sizes 2 / 4 (fixed 3 / 5) and site B (cap 4, fixed 4); four unit customers.
    # A's size 4 serves all for 5 + 4 × 1 = 9; B alone 4 + 4 × 2 = 12; A-2 + B 3 + 4 + 2 + 4 = 13.
    cost = [[1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 2, 2]]
    data = ([3, 5, 4], [2, 4, 4], [1, 1, 1, 1], cost)
    fam = solve_facility_location(
        *data, families=["A", "A", "B"], single_source=True, engine="highs"
    )
    grp = solve_facility_location(*data, groups=[[0, 1]], single_source=True)
    assert fam.status == grp.status == "optimal" and fam.objective == grp.objective == 9
    assert fam.open.tolist() == [False, True, False]
    assert check_facility_location(*data, fam, families=["A", "A", "B"]) == []
    bad = dataclasses.replace(fam, open=np.array([True, True, False]))
    assert any(p.startswith("(7)") for p in check_facility_location(*data, bad, families=[0, 0, 1]))
    rng = np.random.default_rng(3)
    for _ in range(20):  # random instances: families == groups of the sizes
        m_sites, n = 4, 7
        sizes = np.array([3, 5, 8])
        fixed = np.repeat(rng.integers(1, 30, m_sites), 3) * np.tile(sizes, m_sites)
        row = rng.integers(1, 20, (m_sites, n)).astype(float)
        row[rng.random((m_sites, n)) < 0.3] = np.inf
        args = (fixed, np.tile(sizes, m_sites), rng.integers(1, 4, n), np.repeat(row, 3, axis=0))
        groups = [[3 * s, 3 * s + 1, 3 * s + 2] for s in range(m_sites)]
        budget = float(rng.integers(20, 200))
        try:
            a = solve_facility_location(*args, groups=groups, budget=budget, single_source=True)
        except optimiser.InfeasibleError:
            with pytest.raises(optimiser.InfeasibleError):
                solve_facility_location(
                    *args,
                    families=np.repeat(np.arange(m_sites), 3),
                    budget=budget,
                    single_source=True,
                    engine="highs",
                )
            continue
        b = solve_facility_location(
            *args,
            families=np.repeat(np.arange(m_sites), 3),
            budget=budget,
            single_source=True,
            engine="highs",
        )
        assert b.objective == pytest.approx(a.objective, rel=1e-9)
        assert (
            check_facility_location(*args, b, budget=budget, single_source=True, groups=groups)
            == []
        )


def test_core_families_need_equal_cost_rows() -> None:
    with pytest.raises(optimiser.DataValidationError, match="family"):
        solve_facility_location([1, 1], [4, 4], [1], [[1], [2]], families=[0, 0])
    with pytest.raises(optimiser.DataValidationError, match="family id per facility"):
        solve_facility_location([1, 1], [4, 4], [1], [[1], [1]], families=[0])


def test_core_groups_infeasible_and_bad_input() -> None:
    data = ([1, 1], [4, 4], [4, 4], [[0, 0], [0, 0]])
    with pytest.raises(optimiser.InfeasibleError, match="groups"):
        solve_facility_location(*data, groups=[[0, 1]])
    with pytest.raises(optimiser.DataValidationError, match="group"):
        solve_facility_location(*data, groups=[[0, 2]])
    with pytest.raises(optimiser.DataValidationError, match="group"):
        solve_facility_location(*data, groups=[[0, 0]])
    with pytest.raises(optimiser.DataValidationError, match="engine"):
        solve_facility_location(*data, engine="gurobi")


# ------------------------------------------------------------------------ CLI


def test_cli_site_writes_a_loadable_plan(case, tmp_path: Path) -> None:
    folder = write_case(tmp_path / "cli")
    out = tmp_path / "plan.yaml"
    runner = CliRunner()
    args = ["site", str(folder), "--budget", "200000", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "NEW-N1-P1" in res.output and "optimal" in res.output
    assert optimiser.load_scenario(out).changes[0].setting_id == "NEW-N1-P1"
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "already exists" in again.output
    bare = write_case(tmp_path / "bare", candidates=[])
    res = runner.invoke(app, ["site", str(bare), "--budget", "1000"])
    assert res.exit_code == 1 and "candidates.csv" in res.output


# ------------------------------------------------------------------------ default data


@pytest.fixture(scope="module")
def default_plan() -> tuple[optimiser.Dataset, optimiser.SitingResult]:
    ds = optimiser.load_default()
    return ds, optimiser.site(ds, budget_gbp=1_500_000)


def test_default_plan_within_budget_and_confirmed(default_plan) -> None:
    ds, res = default_plan
    assert 0 < res.capital_cost_gbp <= 1_500_000
    assert res.status == "optimal" and res.gap <= 1e-6
    assert res.annual_saving_gbp == confirmed(ds, res)
    assert res.annual_saving_gbp > 0 and res.inmss_places_avoided > 0
    assert res.sites["setting_id"].str.fullmatch(r"NEW-N\d{3}-SPP\d").all()
    assert (res.sites["capital_cost_gbp"] == res.sites["places"] * 20000).all()
    assert res.marginal["rank"].tolist() == list(range(1, len(res.sites) + 1))
    assert res.marginal["setting_id"].tolist() == res.sites["setting_id"].tolist()
    per_site = res.sites.groupby("site_id")["places"].sum()
    cap = ds.candidates.set_index("site_id")["max_places"]
    assert (per_site <= cap.reindex(per_site.index)).all()
