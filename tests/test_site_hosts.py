"""Policy ``host_exclusions``: unsuitable candidate hosts are kept out of siting, by package.

Cases are the hand-built ones of test_site_planning (children 12 at (E0, N0), an INMSS
20 km east); candidate N1 1 km east is the nearer host, N2 5 km east the other.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import FLAT_TRANSPORT
from test_site_planning import E0, SIZES, write_case
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError
from optimiser.cli.app import app
from optimiser.dataset.init.supply import build_candidates as init_candidates
from optimiser.policy import HostExclusions, policy_from_mapping
from optimiser.siting.candidates import excluded_bases, probe_bases

REPO = Path(__file__).resolve().parents[1]
BOYS_GRAMMAR = {"gender": "Boys", "admissions_policy": "Selective"}
MIXED = {"gender": "Mixed", "admissions_policy": "Non-selective"}


def _with_rules(folder: Path, **rules: object) -> Path:
    """Write policy.yaml with the flat transport and these host_exclusions."""
    (folder / "policy.yaml").write_text(
        yaml.safe_dump({"transport": FLAT_TRANSPORT, "host_exclusions": rules}), encoding="utf-8"
    )
    return folder


def _two_hosts(tmp_path: Path, n1: dict, *, p2_kids: int = 0) -> Path:
    cand = [
        {"site_id": "N1", "easting": E0 + 1000, "packages": "P1;P2", **n1},
        {"site_id": "N2", "easting": E0 + 5000, "packages": "P1;P2", **MIXED},
    ]
    return write_case(tmp_path / "case", kids=4, p2_kids=p2_kids, candidates=cand)


def test_boys_grammar_host_is_kept_out_of_a_barred_package_only(tmp_path: Path) -> None:
    # P1 bars selective and single-sex hosts, P2 bars none: the near boys' grammar N1
    # hosts the P2 base, the P1 base goes to the farther mixed N2.
    folder = _with_rules(_two_hosts(tmp_path, BOYS_GRAMMAR, p2_kids=4), selective=["P1"])
    ds = optimiser.load_dataset(folder)
    res = optimiser.site(ds, budget_gbp=1e6, sizes=SIZES)
    chosen = dict(zip(res.sites["package_id"], res.sites["site_id"], strict=True))
    assert chosen == {"P1": "N2", "P2": "N1"}
    assert res.excluded_hosts[["site_id", "package_id", "rule"]].values.tolist() == [
        ["N1", "P1", "selective"]
    ]
    both = ds.replace(
        policy=ds.policy.model_copy(
            update={"host_exclusions": HostExclusions(selective=["P1"], single_sex=["P1", "P2"])}
        )
    )
    assert excluded_bases(both, {"P1", "P2"})["rule"].tolist() == [
        "selective; single_sex",
        "single_sex",
    ]
    assert set(probe_bases(both, {"P1", "P2"})["site_id"]) == {"N2"}


def test_without_rules_the_near_grammar_host_is_chosen(tmp_path: Path) -> None:
    # The model default bars nothing: the same case sites both bases at N1.
    ds = optimiser.load_dataset(_two_hosts(tmp_path, BOYS_GRAMMAR, p2_kids=4))
    assert ds.policy.host_exclusions == HostExclusions()
    res = optimiser.site(ds, budget_gbp=1e6, sizes=SIZES)
    assert set(res.sites["site_id"]) == {"N1"} and res.excluded_hosts.empty


def test_old_candidates_without_host_columns_site_unchanged(tmp_path: Path) -> None:
    # candidates.csv without the four columns: blank = unknown, so no rule applies.
    plain = optimiser.load_dataset(write_case(tmp_path / "plain"))
    ruled = optimiser.load_dataset(
        _with_rules(write_case(tmp_path / "ruled"), selective=["P1"], single_sex=["P1"])
    )
    for col in ("phase", "establishment_type", "gender", "admissions_policy"):
        assert (ruled.candidates[col] == "").all()
    a = optimiser.site(plain, budget_gbp=200_000, sizes=SIZES)
    b = optimiser.site(ruled, budget_gbp=200_000, sizes=SIZES)
    pd.testing.assert_frame_equal(a.sites, b.sites)
    assert a.annual_saving_gbp == b.annual_saving_gbp and b.excluded_hosts.empty


def test_misspelt_package_in_host_exclusions_is_a_clear_error(tmp_path: Path) -> None:
    folder = _with_rules(write_case(tmp_path / "case"), single_sex=["P1", "P9"])
    with pytest.raises(DataValidationError) as err:
        optimiser.load_dataset(folder)
    msg = str(err.value)
    assert "host_exclusions.single_sex" in msg and "'P9'" in msg
    assert "packages.csv" in msg and "correct the package id" in msg


def test_host_exclusions_field_loads_and_validates() -> None:
    assert policy_from_mapping({}).host_exclusions == HostExclusions()
    blank = policy_from_mapping({"host_exclusions": {"selective": None}})
    assert blank.host_exclusions.selective == ()
    with pytest.raises(DataValidationError, match="host_exclusions"):
        policy_from_mapping({"host_exclusions": {"grammar": ["SPP4"]}})


def test_gender_outside_the_gias_words_is_an_error(tmp_path: Path) -> None:
    folder = _two_hosts(tmp_path, {"gender": "Boy", "admissions_policy": ""})
    with pytest.raises(DataValidationError, match="gender"):
        optimiser.load_dataset(folder)


def test_cli_says_how_many_options_the_rule_kept_out(tmp_path: Path) -> None:
    folder = _with_rules(_two_hosts(tmp_path, BOYS_GRAMMAR), single_sex=["P1", "P2"])
    res = CliRunner().invoke(app, ["site", str(folder), "--budget", "200000"])
    assert res.exit_code == 0, res.output
    assert "kept out 2 (candidate, package) options at 1 site: single_sex 2" in res.output


def test_init_reads_gender_and_grammar_from_the_name() -> None:
    main = pd.DataFrame(
        {
            "urn": [100001, 100002, 100003, 100004],
            "establishment_name": [
                "Altrincham Grammar School for Boys",
                "Flixton Girls' School",
                "Grammar Lane Primary School",
                "Boys and Girls High School",
            ],
            "phase": ["Secondary", "Secondary", "Primary", "Secondary"],
            "establishment_type": ["Academy converter"] * 4,
            "easting": [377000.0] * 4,
            "northing": [390000.0] * 4,
            "age_min": [11, 11, 4, 11],
            "age_max": [15, 15, 10, 15],
        }
    )
    c = init_candidates(main, set()).set_index("urn")
    assert c["gender"].to_dict() == {100001: "Boys", 100002: "Girls", 100003: "", 100004: ""}
    assert c["admissions_policy"].to_dict() == {
        100001: "Selective",
        100002: "",
        100003: "",  # a primary named after Grammar Lane is not selective
        100004: "",
    }


def _trafford_with_new_candidates(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "build_default_data", REPO / "scripts" / "build_default_data.py"
    )
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    src = build.read_sources(build.SOURCES)
    shutil.copytree(REPO / "data" / "trafford", out)
    cand = build.build_candidates(src["schools"], src["gm"])
    (out / "candidates.csv").write_text(build.csv_text(cand), encoding="utf-8")
    return out


def test_default_plan_sites_no_semh_base_at_a_grammar_or_single_sex_school(
    tmp_path: Path,
) -> None:
    ds = optimiser.load_dataset(_trafford_with_new_candidates(tmp_path / "trafford"))
    cand = ds.candidates.set_index("site_id")
    assert (cand["admissions_policy"] == "Selective").sum() >= 6  # the Trafford grammars
    res = optimiser.site(ds, budget_gbp=1_500_000, packages=["SPP4"], marginal=False)
    assert len(res.sites) > 0
    hosts = cand.loc[res.sites["site_id"]]
    assert not (hosts["admissions_policy"] == "Selective").any()
    assert not hosts["gender"].isin(["Boys", "Girls"]).any()
    kept_out = set(res.excluded_hosts["site_id"])
    assert kept_out == set(
        cand.index[
            (cand["admissions_policy"] == "Selective") | cand["gender"].isin(["Boys", "Girls"])
        ]
    )
