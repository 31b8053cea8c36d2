"""National open data for any English LA: code lookup, SEN2 placements and needs (issue 13)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

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


def test_numeric_is_the_replace_it_stands_for_on_every_shipped_row() -> None:
    # national._numeric masks SEN2's markers with one isin instead of DataFrame.replace
    # (~30 ms a call on pandas 3 text, paid three times per LA above): the same frame,
    # cell for cell, dtype and index, on every row and numeric column of both tables.
    from optimiser.dataset.init import national

    for name, cols in (
        ("sen2_placements", [c for cs in init.PLACEMENT_GROUPS.values() for c in cs]),
        (
            "sen2_needs",
            ["ehc_plans", *[n if n != "unknown" else "need_unknown" for n in init.NEEDS]],
        ),
    ):
        raw = national._table(name)
        reference = (
            raw[[*cols, *(["ehcplans"] if name == "sen2_placements" else [])]]
            .replace({m: np.nan for m in (*national.SUPPRESSED, "")})
            .apply(pd.to_numeric, errors="raise")
            .astype(float)
        )
        got = national._numeric(raw, list(reference.columns))
        pd.testing.assert_frame_equal(got, reference, check_exact=True)
        assert got.isna().any().any(), f"{name}: no suppressed cell, so the mask went untested"
    with pytest.raises(ValueError):  # a cell that is neither a number nor a marker
        national._numeric(pd.DataFrame({"a": ["1", "x", "lots"]}, dtype="str"), ["a"])


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


# --------------------------------------------------------------------------- init_la

import optimiser  # noqa: E402
from optimiser.dataset.init.build import init_la  # noqa: E402

GROUPS = ("state_special", "inmss", "rp_units", "spi")


def model_groups(ds: optimiser.Dataset, res: optimiser.AllocationResult) -> pd.Series:
    """Placements of an allocation by SEN2 placement group."""
    st = ds.settings.set_index("setting_id")["setting_type"]
    return res.placements["setting_id"].map(st).map(init.SETTING_GROUP).value_counts()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Callable[[str], Path]:
    """``built(code)``: the folder ``init_la(code)`` writes, built once per module and shared
    by the tests that only read it (an init_la takes seconds). Never write into it."""
    folders: dict[str, Path] = {}

    def get(code: str) -> Path:
        if code not in folders:
            folders[code] = init_la(code, tmp_path_factory.mktemp(f"init_{code}") / "ds")
        return folders[code]

    return get


def check_calibrated(code: str, path: Path) -> dict[str, float]:
    """Validate and allocate the folder init_la built for ``code``: SEN2 groups within ±10%,
    under 5% unplaced."""
    ds = optimiser.load_dataset(path)
    optimiser.validate(ds)  # raises on any hard problem; soft warnings are allowed
    res = optimiser.allocate(ds)
    assert optimiser.check_allocation(ds, res) == []
    sen2 = init.sen2_placements(code).iloc[-1]
    got = model_groups(ds, res)
    dev = {}
    for g in GROUPS:
        want, have = float(sen2[g]), float(got.get(g, 0))
        if np.isnan(want):
            continue
        dev[g] = (have - want) / want if want else float(have)
        assert abs(have - want) <= max(0.10 * want, 1), (code, g, want, have)
    assert len(res.unplaced) < 0.05 * len(ds.children), (code, len(res.unplaced))
    assert ds.policy.la_code == init.resolve_la(code).code
    # every child carries a SEN2 primary need; the need groups match SEN2 within the issue's
    # ±5 points (measured: up to 2 points where a group cannot deliver a need's package, e.g.
    # PD -> SPP7 in a base, whose children are spread over the group's other needs)
    from optimiser.reports.calibration import calibration

    assert (ds.children["primary_need"] != "").all()
    needs = calibration(ds, res).query("section == 'need'")
    assert needs["measure"].str.contains("primary need").all()
    assert (abs(needs["model"] - needs["sen2"]) <= 0.05).all(), needs
    return dev


@pytest.mark.parametrize("code", ["356", "202", "908", "886"])  # metropolitan, London,
def test_init_la_reproduces_sen2(code: str, built) -> None:  # rural unitary, county
    check_calibrated(code, built(code))


def test_init_la_folder_is_complete_and_deterministic(tmp_path) -> None:
    a = init_la("Trafford", tmp_path / "a")
    b = init_la("358", tmp_path / "b", seed=optimiser.dataset.init.build.DEFAULT_SEED)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted([
        "README.md", "attribution.txt", "candidates.csv", "children.csv",
        "costing_framework.csv", "need_packages.csv", "packages.csv", "places.csv",
        "policy.yaml", "settings.csv", "wards.geojson",
    ])  # fmt: skip
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    ds = optimiser.load_dataset(a)
    assert ds.policy.la_code == "358" and ds.policy.demand_growth_per_year > 0
    assert len(ds.wards) == 21
    readme = (a / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme and "need_packages.csv" in readme
    np_ = pd.read_csv(a / "need_packages.csv")
    assert np.allclose(np_.groupby("need")["share"].sum(), 1.0)
    assert set(np_["need"]) == set(init.NEEDS)


def test_init_la_never_overwrites(tmp_path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="already exists"):
        init_la("358", out)
    assert (out / "keep.txt").read_text() == "mine"


def test_init_la_unknown_year_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(OptimiserError, match="SEN2 years for Trafford are"):
        init_la("358", tmp_path / "y", year=201011)
    assert not (tmp_path / "y").exists()


def test_init_cli_writes_a_folder_and_refuses_to_overwrite(tmp_path) -> None:
    from typer.testing import CliRunner

    from optimiser.cli.app import app

    runner = CliRunner()
    out = tmp_path / "camden"
    r = runner.invoke(app, ["init", "--la", "Camden", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "README.md").exists()
    r = runner.invoke(app, ["init", "--la", "Camden", "--out", str(out)])
    assert r.exit_code == 1 and "already exists" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["init", "--la", "Camdn", "--out", str(tmp_path / "z")])
    assert r.exit_code == 1 and "did you mean Camden (202)" in r.output


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(LA_CODES))
def test_every_la_builds_validates_and_reproduces_sen2(code: str, tmp_path) -> None:
    check_calibrated(code, init_la(code, tmp_path / "ds"))


def test_wholly_suppressed_la_falls_back_visibly(tmp_path) -> None:
    # Cambridgeshire's 2024/25 SEN2 placement and need breakdowns are all suppressed (x)
    p = init.sen2_placements("873")
    assert p.loc[202425, list(init.PLACEMENT_GROUPS)].isna().all()
    n = init.sen2_needs("873")
    assert n.sum() == pytest.approx(p.loc[202324, "specialist"])
    assert any("SEN2 need rows hold 0 of" in f for f in n.attrs["fallback"])
    out = init_la("873", tmp_path / "cambs")
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "SEN2 202425 inmss is suppressed (x); the latest known year used: 202324" in readme


def test_readme_names_missing_rolls_and_rp_jumps(tmp_path, built) -> None:
    """Newham's SEN2 RP + unit count falls 223 -> 0 in 2024/25: the README says so."""
    text = (init_la("Newham", tmp_path / "nh") / "README.md").read_text(encoding="utf-8")
    assert "2023/24 223, 2024/25 0" in text and "Jumps past 30% in" in text
    assert "post-16 institutions here have no roll" in text
    steady = (built("356") / "README.md").read_text(encoding="utf-8")  # Stockport's build
    assert "This LA's SEN2 RP + unit children:" in steady
