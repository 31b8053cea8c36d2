"""No free unplaced children (DESIGN §8): every unplaced child carries unplaced_cost_gbp in
every total, so no option, year or plan looks cheaper for placing fewer children.

Tiny (tests/data/tiny): S3 is the only INMSS setting (independent special 5-19, P1 £60,000,
P2 £65,000); closing it and S2 leaves 5 places (S1 3 in total) for 6 children.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.policy import Policy
from optimiser.scenarios.compare import who_moves
from optimiser.scenarios.horizon import roll_forward
from optimiser.scenarios.scenario import scenario_from_mapping
from optimiser.schema.tables import INMSS_TYPES

runner = CliRunner()


def scenario(*changes: dict, name: str = "option"):
    return scenario_from_mapping({"name": name, "changes": list(changes)})


def close(*ids: str, name: str = "closed"):
    return scenario(*({"close_setting": {"setting_id": s}} for s in ids), name=name)


def with_policy(ds: optimiser.Dataset, **fields) -> optimiser.Dataset:
    return ds.replace(policy=ds.policy.model_copy(update=fields))


def test_kpi_total_is_place_plus_transport_plus_unplaced_exactly(tiny, default_ds):
    for ds in (tiny, tiny.replace(), default_ds):
        for sc in (None, close("S2", "S3") if ds is not default_ds else close("S017")):
            k = optimiser.allocate(ds, sc).kpis
            assert k["total_cost_gbp"] == (
                k["place_cost_gbp"] + k["transport_cost_gbp"] + k["unplaced_cost_gbp"]
            )


def test_each_unplaced_child_costs_its_rate_and_the_kpi_sums_them(tiny):
    res = optimiser.allocate(tiny, close("S2", "S3"))
    assert len(res.unplaced) >= 1
    assert res.kpis["unplaced_cost_gbp"] == pytest.approx(res.unplaced["unplaced_cost_gbp"].sum())
    assert (res.unplaced["unplaced_cost_gbp"] > 0).all()


def test_derived_rate_by_hand_is_the_inmss_fee_plus_mean_inmss_transport(tiny):
    """Baseline: S3 (closed or not, its fees are the market's) P1 £60,000 and P2 £65,000, plus
    the mean transport of the INMSS placements (of all placements when there are none)."""
    res = optimiser.allocate(tiny)
    pl = res.placements
    inm = pl[pl["setting_type"].isin(INMSS_TYPES)]
    transport = inm["transport_cost_gbp"].mean() if len(inm) else pl["transport_cost_gbp"].mean()
    rates = res.unplaced_rates.set_index(["package_id", "phase"])
    for phase in ("primary", "secondary", "post16"):
        assert rates.at[("P1", phase), "unplaced_cost_gbp"] == pytest.approx(60000 + transport)
        assert rates.at[("P2", phase), "unplaced_cost_gbp"] == pytest.approx(65000 + transport)
    assert set(rates["source"]) == {"derived"}
    shut = optimiser.allocate(tiny, close("S2", "S3"))
    assert (shut.unplaced_rates["place_gbp"] == res.unplaced_rates["place_gbp"]).all()


def test_policy_rates_number_package_and_phase(tiny):
    flat = optimiser.allocate(with_policy(tiny, unplaced_cost_gbp=90000.0), close("S2", "S3"))
    assert (flat.unplaced["unplaced_cost_gbp"] == 90000.0).all()
    by = {"P1": {"primary": 70000.0, "secondary": 80000.0}, "P2": 75000.0}
    res = optimiser.allocate(with_policy(tiny, unplaced_cost_gbp=by), close("S2", "S3"))
    rates = res.unplaced_rates.set_index(["package_id", "phase"])
    assert rates.at[("P1", "primary"), "unplaced_cost_gbp"] == 70000.0
    assert rates.at[("P1", "secondary"), "unplaced_cost_gbp"] == 80000.0
    assert rates.at[("P1", "post16"), "source"] == "derived"  # not given: from the data
    assert rates.at[("P2", "post16"), "unplaced_cost_gbp"] == 75000.0
    kids = tiny.children.set_index("child_id")
    for r in res.unplaced.itertuples():
        phase = tiny.policy.phase_of_age(int(kids.at[r.child_id, "age"]))
        assert r.unplaced_cost_gbp == rates.at[(r.package_id, phase), "unplaced_cost_gbp"]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"P1": {"prim": 1}}, r"unplaced_cost_gbp.P1 by phase must name phases"),
        ({"P1": {}}, r"must name phases .* found none"),
        (-1, r"unplaced_cost_gbp must be from 0 to 5,000,000"),
        ({"P1": 1e9}, r"unplaced_cost_gbp.P1 must be from 0"),
    ],
)
def test_bad_policy_rates_are_named(value, match):
    with pytest.raises(ValueError, match=match):
        Policy(unplaced_cost_gbp=value)


def test_a_misspelt_package_in_unplaced_cost_is_a_validation_error(tiny_path, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_path, folder)
    with (folder / "policy.yaml").open("a", encoding="utf-8") as f:
        f.write("unplaced_cost_gbp: {P9: 70000}\n")
    with pytest.raises(
        optimiser.DataValidationError,
        match=r"key unplaced_cost_gbp.*'P9'.*correct the package id 'P9' in unplaced_cost_gbp",
    ):
        optimiser.load_dataset(folder)


@pytest.mark.parametrize("setting", ["S006", "S017"])
def test_closing_an_inmss_setting_is_not_a_saving_when_its_children_go_unplaced(
    default_ds, setting
):
    """Before issue 14, closing S006 showed −£301k beside +8 unplaced, S017 −£2.9m beside +61."""
    base = optimiser.allocate(default_ds)
    shut = optimiser.allocate(default_ds, close(setting))
    assert shut.kpis["unplaced_children"] > base.kpis["unplaced_children"]
    assert shut.kpis["total_cost_gbp"] > base.kpis["total_cost_gbp"]
    # without the unplaced children's cost it would look cheaper: the rule is what changed it
    plain = shut.kpis["total_cost_gbp"] - shut.kpis["unplaced_cost_gbp"]
    assert plain < base.kpis["total_cost_gbp"] - base.kpis["unplaced_cost_gbp"]


def test_who_moves_costs_a_child_left_unplaced(default_ds):
    base = optimiser.allocate(default_ds)
    shut = optimiser.allocate(default_ds, close("S006"))
    moves = who_moves(base, shut, scenario="closed")
    out = moves[moves["to_type"] == "unplaced"]
    assert len(out) and (out["unplaced_change_gbp"] > 0).all()
    total = moves["place_change_gbp"] + moves["transport_change_gbp"] + moves["unplaced_change_gbp"]
    assert moves["total_change_gbp"].tolist() == pytest.approx(total.tolist())


def test_horizon_without_growth_costs_more_as_more_are_unplaced(default_ds):
    """``horizon --growth 0``: before issue 14 the cost fell from £43.6m as unplaced rose."""
    years = roll_forward(default_ds, years=3, growth=0.0).years
    parts = years["place_cost_gbp"] + years["transport_cost_gbp"] + years["unplaced_cost_gbp"]
    assert years["total_cost_gbp"].tolist() == parts.tolist()
    assert years["unplaced_children"].is_monotonic_increasing
    assert years["total_cost_gbp"].is_monotonic_increasing


def test_siting_status_quo_uses_the_same_rate(default_ds):
    """One rule: the siting proxy of a baseline-unplaced child is its unplaced_cost_gbp."""
    from optimiser.siting.instance import build_site_instance

    prep = build_site_instance(default_ds)
    un = prep.baseline.unplaced.set_index("child_id")["unplaced_cost_gbp"]
    assert prep.proxy_gbp.to_dict() == pytest.approx(un.to_dict())


def test_cli_allocate_states_how_the_unplaced_are_costed(tiny_path: Path):
    out = runner.invoke(app, ["allocate", str(tiny_path)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "total cost a year (place + transport + unplaced)" in out.output
    assert "policy unplaced_cost_gbp" in out.output
