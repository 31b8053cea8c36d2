"""An option's proposals on the map and in the pack; the area's name and data notice on
every output (map, pack, workbook, CLI); user text in them stays inert."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app
from optimiser.dataset.init import resolve_la
from optimiser.dataset.init.build import _policy_text
from optimiser.disclosure import publish_change
from optimiser.maps.build import map_allocation
from optimiser.maps.pack import summary_html, write_pack
from optimiser.maps.page import render_html
from optimiser.maps.proposals import option_headline, proposal_figures
from optimiser.policy import policy_from_mapping
from optimiser.reports.published import release_for
from optimiser.reports.release import BASELINE
from optimiser.reports.workbook import write_workbook
from optimiser.scenarios.scenario import scenario_from_mapping

ROOT = Path(__file__).resolve().parents[1]
AUTISM = ROOT / "examples" / "autism_base_stretford_high.yaml"
SEMH = ROOT / "examples" / "semh_expansion_egerton_high.yaml"
NEW_BASE = "Stretford High School autism base: +16 SPP3 places (new base)"


def overlay_names(page: str) -> list[str]:
    block = re.search(r"overlays :\s*\{(.*?)\},", page, re.S).group(1)
    return [json.loads(f'"{name}"') for name in re.findall(r'"((?:[^"\\]|\\.)+)"\s*:', block)]


def closing(setting_id: str = "S008"):
    return scenario_from_mapping(
        {"name": f"Close {setting_id}", "changes": [{"close_setting": {"setting_id": setting_id}}]},
        source="close.yaml",
    )


@pytest.fixture(scope="module")
def autism(default_ds):
    return optimiser.compare_scenarios(default_ds, [optimiser.load_scenario(AUTISM)])


@pytest.fixture(scope="module")
def autism_page(default_ds, autism):
    return render_html(map_allocation(default_ds, autism.results[BASELINE], compare=autism))


@pytest.fixture(scope="module")
def autism_publish(default_ds, autism):
    return render_html(
        map_allocation(default_ds, autism.results[BASELINE], compare=autism, publish=True)
    )


# --------------------------------------------------------------- what an option changes


def test_proposal_figures_label_added_expanded_and_closed(default_ds):
    both = optimiser.load_scenario(ROOT / "examples" / "all_three.yaml")
    got = proposal_figures(default_ds, both.apply(default_ds), both).set_index("setting_id")
    assert got.at["NEW-N060", "kind"] == "added"
    assert got.at["NEW-N060", "change"] == "+16 SPP3 places (new base)"
    assert got.at["NEW-N060", "capital_cost_gbp"] == 320_000
    assert got.at["S008", "kind"] == "expanded" and got.at["S008", "change"] == "SPP4 57 → 81"
    assert (got.at["S008", "places_before"], got.at["S008", "places_after"]) == (57, 81)
    closed = proposal_figures(default_ds, closing().apply(default_ds), closing())
    assert closed[["setting_id", "kind", "change"]].values.tolist() == [
        ["S008", "closed", "closed"]
    ]
    nothing = optimiser.load_scenario(ROOT / "examples" / "inmss_fee_cap.yaml")
    assert proposal_figures(default_ds, nothing.apply(default_ds), nothing).empty


def test_scenario_map_shows_the_new_base_labelled_with_the_right_counts(autism_page):
    names = overlay_names(autism_page)
    assert "Settings: Inclusion bases (10)" in names  # the baseline, as before
    prefix = "Option: Autism base at Stretford High — "
    assert f"{prefix}Settings: Inclusion bases (11)" in names
    assert f"{prefix}Settings: Special schools (maintained / academy) (7)" in names
    assert "Option: Autism base at Stretford High: proposed changes (1: 1 added)" in names
    assert NEW_BASE in autism_page
    assert "optimiser-proposal added" in autism_page
    # the before / after switch and the option's headline
    assert "optimiser-views" in autism_page
    assert "Option: Autism base at Stretford High (against the baseline)" in autism_page
    assert "Capital cost: <b>£320,000</b>" in autism_page
    assert "Children placed here (option)" in autism_page  # working detail


def test_expanded_and_closed_settings_are_marked(default_ds):
    cmp = optimiser.compare_scenarios(default_ds, [optimiser.load_scenario(SEMH), closing("S007")])
    page = render_html(map_allocation(default_ds, cmp.results[BASELINE], compare=cmp))
    names = overlay_names(page)
    assert "Egerton High School: SPP4 57 → 81" in page
    assert "optimiser-proposal expanded" in page and "optimiser-proposal closed" in page
    assert html.escape("Delamere School: closed") in page
    special = "Settings: Special schools (maintained / academy)"
    assert f"{special} (7)" in names
    assert f"Option: Close S007 — {special} (6)" in names  # closed: one fewer
    assert "Option: Close S007: proposed changes (1: 1 closed)" in names
    assert "Option: SEMH expansion at Egerton High: proposed changes (1: 1 expanded)" in names


def test_publish_scenario_map_shows_places_not_option_children(autism_publish):
    names = overlay_names(autism_publish)
    assert "Option: Autism base at Stretford High — Settings: Inclusion bases (11)" in names
    assert NEW_BASE in autism_publish
    assert "Children placed here (option)" not in autism_publish
    option_layers = re.findall(r"children placed are not published by setting", autism_publish)
    assert option_layers  # the option's settings carry places only
    for match in re.finditer(
        r'"fid": "f\d+", "name": "Stretford High School autism base"', (autism_publish)
    ):
        tail = autism_publish[match.start() : match.start() + 600]
        assert "filled_children" not in tail.split("}")[0]


def test_map_headline_counts_come_from_the_release(default_ds, autism, autism_publish):
    base, other = autism.results[BASELINE], autism.results["Autism base at Stretford High"]
    release = release_for(default_ds, base, {"Autism base at Stretford High": other})
    lb = release.table(BASELINE, "la").iloc[0]
    lo = release.table("Autism base at Stretford High", "la").iloc[0]
    avoided = publish_change(lb["inmss"], lo["inmss"])
    assert f"INMSS placements avoided: <b>{avoided:,.0f}</b>" in autism_publish


# --------------------------------------------------------------------- the members' pack


def test_pack_has_the_option_headline_as_published_figures(default_ds, autism, tmp_path):
    name = "Autism base at Stretford High"
    base, other = autism.results[BASELINE], autism.results[name]
    files = write_pack(default_ds, base, tmp_path / "pack", compare=autism)
    summary = files[1].read_text(encoding="utf-8")
    release = release_for(default_ds, base, {name: other})
    rows = dict(
        option_headline(
            name,
            base,
            other,
            capital_gbp=320_000,
            places_added=16,
            publish=True,
            release=release,
        )
    )
    assert f"<h2>Option: {name}</h2>" in summary
    for label in (
        "Capital cost",
        "Change in total cost a year (revenue; minus = saving)",
        "INMSS placements avoided",
        "Children newly placed (fewer without a suitable place)",
    ):
        cell = f"<tr><td>{html.escape(label)}</td><td class='n'>{html.escape(rows[label])}</td>"
        assert cell in summary, label
    assert rows["Capital cost"] == "£320,000"
    lb, lo = release.table(BASELINE, "la").iloc[0], release.table(name, "la").iloc[0]
    assert rows["INMSS placements avoided"] == str(publish_change(lb["inmss"], lo["inmss"]))
    revenue = rows["Change in total cost a year (revenue; minus = saving)"]
    money = r"[-+]£\d{1,3}(,\d{3})*"
    if revenue.startswith("c "):  # 2 unplaced in both: their £ (and so the total) is withheld
        assert lb["unplaced"] == "c" and re.fullmatch(
            r"c \(the unplaced children's cost is withheld\); place \+ transport " + money, revenue
        )
    else:
        assert re.fullmatch(money, revenue) and revenue.endswith(",000")
    assert "+16 SPP3 places (new base)" in summary
    page = files[0].read_text(encoding="utf-8")
    assert NEW_BASE in page and "Children placed here (option)" not in page


def test_pack_cli_takes_a_scenario(tmp_path):
    out = tmp_path / "pack"
    result = CliRunner().invoke(app, ["pack", "--out", str(out), "--scenario", str(SEMH)])
    assert result.exit_code == 0, result.output
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "Option: SEMH expansion at Egerton High" in summary
    assert "SPP4 57 → 81" in summary and "£1,440,000" in summary


# --------------------------------------------------------- the area's name and notice


def test_default_and_init_data_carry_the_area_name_and_notice(default_ds):
    assert default_ds.area_name == "Trafford" and default_ds.name == "trafford"
    assert "synthetic" in default_ds.data_notice.lower()
    la = resolve_la("356")
    policy = policy_from_mapping(yaml.safe_load(_policy_text(la, 24.0, "x", 0.05, "y")))
    assert policy.area_name == la.name == "Stockport"
    assert "synthetic" in policy.data_notice.lower() and "Stockport" in policy.data_notice
    assert policy_from_mapping({"area_name": "  ", "data_notice": ""}).area_name is None
    plain = default_ds.replace(policy=policy_from_mapping({}))
    assert plain.area_name == "trafford" and plain.data_notice == ""


def test_notice_is_on_the_map_pack_and_workbook(default_ds, autism_page, tmp_path):
    notice = default_ds.data_notice
    assert json.dumps(notice, ensure_ascii=False) in autism_page
    assert "<title>Trafford: placements map (working)</title>" in autism_page
    summary = summary_html(default_ds, optimiser.allocate(default_ds))
    assert html.escape(notice) in summary and "<h1>Trafford:" in summary
    book = write_workbook(default_ds, tmp_path / "book.xlsx", years=0)
    cells = [c.value for row in openpyxl.load_workbook(book)["Summary"].iter_rows() for c in row]
    assert "Trafford: key figures" in cells
    assert any(isinstance(v, str) and v.startswith(notice) for v in cells)


def test_cli_header_names_the_area_and_the_notice():
    result = CliRunner().invoke(app, ["allocate"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    head = result.output.splitlines()[:3]
    assert head[0].startswith("Trafford (data: trafford)")
    assert "synthetic" in " ".join(head).lower()


def test_hostile_area_name_and_notice_stay_inert(default_ds, tmp_path):
    bad = "<img src=x onerror=alert(1)></script><script>alert(2)</script>`${alert(3)}`"
    ds = default_ds.replace(
        policy=default_ds.policy.model_copy(update={"area_name": bad, "data_notice": bad})
    )
    sc = scenario_from_mapping(
        {
            "name": bad,
            "changes": [
                {
                    "add_setting": {
                        "setting_id": "NEWX",
                        "name": bad,
                        "setting_type": "inclusion_base",
                        "easting": 377400,
                        "northing": 392000,
                        "age_min": 11,
                        "age_max": 16,
                        "places": {"SPP3": 8},
                    }
                }
            ],
        },
        source="bad.yaml",
    )
    cmp = optimiser.compare_scenarios(ds, [sc])
    for publish in (False, True):
        page = render_html(map_allocation(ds, cmp.results[BASELINE], compare=cmp, publish=publish))
        assert "<img src=x" not in page and "<script>alert" not in page
        assert "</script><script>alert(2)" not in page
    summary = summary_html(ds, cmp.results[BASELINE], compare=cmp)
    assert "<img src=x" not in summary and "<script>alert" not in summary
    assert html.escape(bad) in summary
