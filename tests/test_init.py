"""National open data for any English LA: code lookup, SEN2 placements and needs (issue 13)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from optimiser._errors import OptimiserError
from optimiser._la_codes import LA_CODES
from optimiser.dataset import init
from optimiser.dataset.init.national import national_dir
from optimiser.policy import policy_from_mapping
from optimiser.schema.tables import SETTING_TYPES


def test_every_la_resolves_by_code_ons_code_and_name() -> None:
    las = init.all_las()
    assert len(las) == 153
    assert {la.code for la in las} == LA_CODES
    for la in las:
        assert init.resolve_la(la.code) == la
        assert init.resolve_la(la.ons_code) == la
        assert init.resolve_la(la.sen2_code) == la
        assert init.resolve_la(f"  {la.name.upper()} ") == la


def test_stockport_three_ways() -> None:
    a, b, c = (init.resolve_la(x) for x in ("356", "E08000007", "Stockport"))
    assert a == b == c
    assert (a.code, a.name, a.ons_code, a.region) == ("356", "Stockport", "E08000007", "North West")
    assert a.kind == "metropolitan_borough"


@pytest.mark.parametrize(
    ("key", "kind"),
    [("Camden", "london_borough"), ("Kent", "county"), ("Cornwall", "unitary"),
     ("Trafford", "metropolitan_borough")],
)  # fmt: skip
def test_kind_from_ons_prefix(key: str, kind: str) -> None:
    assert init.resolve_la(key).kind == kind


def test_legacy_sen2_codes_map_to_current_ons_codes() -> None:
    bucks = init.resolve_la("825")
    assert (bucks.sen2_code, bucks.ons_code, bucks.kind) == ("E10000002", "E06000060", "unitary")
    assert init.resolve_la("E10000002") == bucks


def test_unknown_la_suggests_close_names() -> None:
    with pytest.raises(OptimiserError, match=r"did you mean Stockport \(356\)"):
        init.resolve_la("Stokport")
    with pytest.raises(OptimiserError, match=r"Kingston upon Hull"):
        init.resolve_la("hull")
    with pytest.raises(OptimiserError, match="unknown local authority '999'"):
        init.resolve_la("999")


def test_trafford_placements_match_sen2_jan2025() -> None:
    # issue 13's table: Trafford, January 2025
    p = init.sen2_placements("358")
    assert list(p.columns) == [
        "state_special", "inmss", "rp_units", "spi", "specialist", "ehcplans",
    ]  # fmt: skip
    assert list(p.index) == [201819, 201920, 202021, 202122, 202223, 202324, 202425]
    last = p.loc[202425]
    assert last.to_dict() == {
        "state_special": 821, "inmss": 141, "rp_units": 154, "spi": 48,
        "specialist": 1164, "ehcplans": 3143,
    }  # fmt: skip


def test_suppressed_cells_are_missing_not_zero() -> None:
    raw = pd.read_csv(national_dir() / "sen2_placements.csv.gz", dtype=str)
    hit = raw[raw.special_independent == "x"].iloc[0]
    p = init.sen2_placements(hit.old_la_code)
    row = p.loc[int(hit.time_period)]
    assert np.isnan(row.inmss) and np.isnan(row.specialist)
    assert (int(hit.time_period), "special_independent") in p.attrs["suppressed"]


def test_trafford_needs_are_its_specialist_cohort() -> None:
    n = init.sen2_needs("358")
    assert list(n.index) == list(init.NEEDS)
    assert n.sum() == 1164  # = the specialist placements of Jan 2025
    assert n.attrs["fallback"] == [] and n.attrs["time_period"] == 202425
    assert round((n["asd"] + n["slcn"]) / n.sum(), 2) == 0.57  # issue 13: 57%
    assert round(n["semh"] / n.sum(), 2) == 0.19


def test_needs_fall_back_to_all_plan_shares_where_suppressed() -> None:
    raw = pd.read_csv(national_dir() / "sen2_needs.csv.gz", dtype=str)
    code = raw[(raw.asd == "x") & (raw.breakdown != "All EHC plans")].old_la_code.iloc[0]
    n = init.sen2_needs(code)
    assert n.attrs["fallback"], "the suppressed rows are named"
    assert n.notna().all() and (n >= 0).all()


def test_needs_total_matches_placements_for_every_la() -> None:
    for la in init.all_las():
        p = init.sen2_placements(la).loc[202425]
        n = init.sen2_needs(la)
        if not np.isnan(p.specialist):
            assert abs(n.sum() - p.specialist) <= 0.02 * p.specialist + 5, la.name


def test_groups_cover_every_specialist_setting_type() -> None:
    assert set(init.SETTING_GROUP.values()) == set(init.PLACEMENT_GROUPS)
    assert set(init.SETTING_GROUP) == set(SETTING_TYPES) - {"mainstream"}


def test_policy_la_code_is_a_known_code() -> None:
    assert policy_from_mapping({"la_code": "358"}).la_code == "358"
    assert policy_from_mapping({}).la_code is None
    with pytest.raises(OptimiserError, match="la_code must be the DfE 3-digit code"):
        policy_from_mapping({"la_code": "999"})


def test_shipped_extracts_are_deterministic_gzip() -> None:
    # mtime 0 in every gzip header, so a rebuild is byte-identical
    for path in sorted(national_dir().glob("*.gz")):
        head = path.read_bytes()[:10]
        assert head[4:8] == b"\0\0\0\0", path.name
        with gzip.open(path) as fh:
            assert fh.read(1)
