"""The planner's web app, headless: each page's logic through Streamlit's AppTest.

The browser side (the running server in Chromium, clicks on the map) is in
``tests/test_app_browser.py``. Results are cached per process, so the first test pays
for the solves and the rest reuse them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import optimiser
from optimiser.app import draft as drafts
from optimiser.app.page_export import pack_bytes, workbook_bytes
from optimiser.app.page_siting import plan_option
from optimiser.app.state import ENV_DIR, signature
from optimiser.cli.app import app as cli_app
from optimiser.cli.webapp import script_path, streamlit_command
from optimiser.reports.labels import format_value

TIMEOUT = 180


@pytest.fixture(scope="module")
def ds() -> optimiser.Dataset:
    return optimiser.load_default()


def _app(monkeypatch: pytest.MonkeyPatch, path: str = "") -> AppTest:
    monkeypatch.setenv(ENV_DIR, path)
    at = AppTest.from_file(str(script_path()), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.success, *at.error)]
    parts += [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


def test_data_page_validates_and_calibrates(monkeypatch):
    at = _app(monkeypatch)
    assert "Every file passes validation" in _texts(at)
    assert _metric(at, "Children with an SPP").value == "1,164"
    calib = at.dataframe[0].value
    assert {"SEN2 return", "Model"} <= set(calib.columns)
    assert "Working mode" in _texts(at)


def test_data_page_lists_every_problem_of_a_broken_folder(monkeypatch, tmp_path):
    import shutil

    from optimiser.dataset.paths import default_path

    broken = tmp_path / "broken"
    shutil.copytree(default_path(), broken)
    text = (broken / "settings.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    header[header.index("age_min")] = "agemin"  # a misspelt header
    (broken / "settings.csv").write_text(
        "\n".join([",".join(header), *text[1:]]) + "\n", encoding="utf-8"
    )
    at = _app(monkeypatch, str(broken))
    assert "cannot be used" in _texts(at)
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["file", "row", "column", "found", "expected", "fix"]
    assert (problems["file"] == "settings.csv").any()
    # other pages refuse politely instead of failing
    _go(at, "Baseline")
    assert "open the Data page" in _texts(at)


def test_baseline_kpis_are_the_allocation_and_publish_mode_suppresses(monkeypatch, ds):
    res = optimiser.allocate(ds)
    at = _go(_app(monkeypatch), "Baseline")
    total = _metric(at, "total cost a year (place + transport + unplaced)")
    assert total.value == format_value("total_cost_gbp", res.kpis["total_cost_gbp"])
    assert _metric(at, "children in INMSS").value == str(int(res.kpis["inmss_children"]))
    at.sidebar.toggle(key="publish").set_value(True).run()
    assert "Publish mode" in _texts(at)
    # the default data has 2 unplaced children: a count of 1-7 is suppressed
    assert _metric(at, "children without a suitable place").value == "c (withheld)"
    assert _metric(at, "total cost a year (place + transport + unplaced)").value == "c (withheld)"
    inmss = int(_metric(at, "children in INMSS").value)
    assert inmss % 5 == 0  # published counts are rounded to 5
    for frame in at.dataframe:
        assert "child_id" not in frame.value.columns


def test_options_page_builds_a_base_and_compare_shows_its_delta(monkeypatch, ds):
    at = _go(_app(monkeypatch), "Options")
    assert "Name a new option" in _texts(at)
    at.text_input[0].set_value("Autism base N060")
    at.button[0].click().run()  # Create
    assert at.session_state["option"] == "Autism base N060"
    host = next(s for s in at.selectbox if s.label.startswith("Host school"))
    host.set_value("N060").run()
    # the form's fields are sent together by its button
    next(m for m in at.multiselect if m.label == "Packages").set_value(["SPP3"])
    next(n for n in at.number_input if n.label == "Places per package").set_value(16)
    next(b for b in at.button if b.label == "Add the base").click().run()
    assert not at.exception, at.exception
    option = at.session_state["options"]["Autism base N060"]
    assert len(option.changes) == 1
    body = option.changes[0]["add_setting"]
    assert body["places"] == {"SPP3": 16}
    assert body["capital_cost_gbp"] == 16 * 20_000  # the candidate's cost a place
    # the option's KPIs against the baseline, as compare_scenarios gives them
    cmp = optimiser.compare_scenarios(ds, [option.scenario()])
    delta = cmp.deltas.loc["total_cost_gbp", "Autism base N060"]
    card = _metric(at, "total cost a year (place + transport + unplaced)")
    assert card.delta == format_value("total_cost_gbp", delta, delta=True)
    _go(at, "Compare")
    card = _metric(at, "total cost a year (place + transport + unplaced)")
    assert card.delta == format_value("total_cost_gbp", delta, delta=True)
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Measure",
        "baseline",
        "Autism base N060",
        "change: Autism base N060",
    ]
    # publish mode: the published comparison (the unplaced count is suppressed)
    at.sidebar.toggle(key="publish").set_value(True).run()
    card = _metric(at, "children without a suitable place")
    assert card.value == "c (withheld)"
    at.radio(key="compare_view").set_value("Who moves").run()
    assert "working mode only" in _texts(at)
    at.radio(key="compare_view").set_value("Chart").run()
    assert not at.exception, at.exception


def test_a_change_the_data_cannot_take_is_refused_with_the_problem(monkeypatch):
    at = _go(_app(monkeypatch), "Options")
    at.text_input[0].set_value("Bad option")
    at.button[0].click().run()
    # a setting id that is not in the data (what a stale saved option holds)
    bad = drafts.OptionDraft("Bad option").with_change(drafts.close_setting("S999"))
    at.session_state["options"]["Bad option"] = bad
    at.run()
    assert "cannot be applied" in _texts(at)
    problems = at.dataframe[0].value
    assert "S999" in " ".join(problems["found"].astype(str))


def test_draft_yaml_round_trip_is_the_scenario_file(tmp_path, ds):
    d = drafts.OptionDraft("Round trip", "two changes")
    d = d.with_change(drafts.add_base(ds, "N060", {"SPP3": 8}))
    d = d.with_change(drafts.cap_fees(55_000))
    d = d.with_change(drafts.journey_caps(40, 70, 70))
    d = d.with_change(drafts.demand_growth(1.1, "SPP4"))
    path = tmp_path / "round_trip.yaml"
    path.write_text(d.to_yaml(), encoding="utf-8")
    sc = optimiser.load_scenario(path)
    assert sc.name == "Round trip"
    assert [c.kind for c in sc.changes] == ["add_setting", "cap_fees", "policy", "demand_growth"]
    again = drafts.OptionDraft.from_yaml(path.read_text(encoding="utf-8"))
    assert again.scenario().changes == sc.changes
    assert len(d.summary()) == 4 and d.summary()[1].startswith("Cap independent fees")
    assert optimiser.allocate(ds, sc).kpis["total_cost_gbp"] > 0


def test_draft_from_bad_yaml_names_the_file_and_line():
    with pytest.raises(optimiser.DataValidationError) as err:
        drafts.OptionDraft.from_yaml("name: x\nchanges: [\n", source="mine.yaml")
    assert err.value.problems[0].file == "mine.yaml"
    assert err.value.problems[0].row is not None
    with pytest.raises(optimiser.DataValidationError) as err:
        drafts.OptionDraft.from_yaml("name: x\nchanges:\n  - close_setting: {}\n", source="m.yaml")
    assert "m.yaml" in str(err.value)


def test_siting_plan_becomes_an_option(ds):
    plan = optimiser.site(ds, budget_gbp=400_000, time_limit_s=20, marginal=False)
    option = plan_option(plan, "Plan")
    assert len(option.changes) == len(plan.sites)
    sc = option.scenario()
    assert sc.capital_cost_gbp == pytest.approx(plan.capital_cost_gbp)
    res = optimiser.allocate(ds, sc)
    assert res.kpis["total_cost_gbp"] == pytest.approx(plan.planned_total_cost_gbp, rel=1e-9)


def test_export_workbook_and_pack_are_the_cli_outputs(ds):
    sig = signature("")
    option = drafts.OptionDraft("Cap").with_change(drafts.cap_fees(55_000))
    data = workbook_bytes("", sig, (option.to_yaml(),), True, 1)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert "Placements" not in wb.sheetnames  # publish mode: no child rows
    assert {"Summary", "Comparison"} <= set(wb.sheetnames)
    with zipfile.ZipFile(io.BytesIO(pack_bytes("", sig, (option.to_yaml(),)))) as zf:
        assert sorted(zf.namelist()) == ["map.html", "summary.html"]
        summary = zf.read("summary.html").decode()
    assert "C0" not in summary  # no child id


def test_template_zip_has_every_csv_table(monkeypatch):
    from optimiser.app.page_data import template_zip

    with zipfile.ZipFile(io.BytesIO(template_zip())) as zf:
        names = zf.namelist()
        settings = pd.read_csv(io.BytesIO(zf.read("settings.csv")))
    assert {"settings.csv", "children.csv", "places.csv", "packages.csv"} <= set(names)
    assert {"dataset.xlsx", "README.md"} <= set(names)
    assert {"setting_id", "easting", "northing"} <= set(settings.columns)


def test_cli_app_serves_locally_and_refuses_a_bad_folder(tmp_path):
    cmd = streamlit_command(tmp_path, 8599)
    assert "--server.address=127.0.0.1" in cmd and "--browser.gatherUsageStats=false" in cmd
    assert cmd[-1] == str(tmp_path.resolve()) and Path(cmd[4]).name == "main.py"
    result = CliRunner().invoke(cli_app, ["app", str(tmp_path / "missing"), "--no-browser"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_futures_page_runs_and_publish_mode_rounds(monkeypatch):
    at = _go(_app(monkeypatch), "Futures")
    next(n for n in at.number_input if n.label == "Futures").set_value(8)
    next(n for n in at.number_input if n.label == "Years ahead").set_value(2)
    next(t for t in at.text_input if t.label == "Run on").set_value("serial")
    next(b for b in at.button if b.label == "Run the futures").click().run()
    assert not at.exception, at.exception
    decisions = at.dataframe[0].value
    assert len(decisions) == 1  # the baseline alone: no option was built
    assert any("expected" in c.lower() for c in decisions.columns), list(decisions.columns)
    bands = at.dataframe[1].value
    assert len(bands) == 3  # the baseline, years 0-2
    at.sidebar.toggle(key="publish").set_value(True).run()
    bands = at.dataframe[1].value
    values = [v for col in bands.columns[2:] for v in bands[col]]
    assert all(isinstance(v, str) or float(v) % 100 == 0 for v in values)  # £ to the £100


def test_names_are_shown_as_typed_never_as_markup(monkeypatch):
    from optimiser.app.ui import plain

    hostile = "**Bold** [click](javascript:alert(1)) ![x](http://e.invalid/t.png) <b>x</b>"
    assert all(f"\\{ch}" in plain(hostile) for ch in "*[]()!<>")
    at = _go(_app(monkeypatch), "Options")
    at.text_input[0].set_value(hostile)
    at.button[0].click().run()
    assert not at.exception, at.exception
    heading = next(h.value for h in at.subheader if "changes" in h.value)
    assert heading.startswith(plain(hostile))
    picker = (Path(__file__).parents[1] / "optimiser/app/assets/picker.html").read_text()
    assert "tip.textContent = p.tip" in picker and "bindTooltip(p.tip" not in picker
