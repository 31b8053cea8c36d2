"""Futures: reused-arc allocation equals ``allocate``; seeds; bands; Dask = serial; the CLI.

The Dask tests start real worker processes: a LocalCluster (2 processes) and, for the CLI,
``dask scheduler`` / ``dask worker`` subprocesses on 127.0.0.1 at a free port.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser._errors import DataValidationError
from optimiser.allocation.reuse import ArcBank
from optimiser.cli.app import app
from optimiser.dataset.model import derive_place_costs
from optimiser.scenarios.changes import AddSetting
from optimiser.scenarios.futures import engine, malloc
from optimiser.scenarios.futures.engine import batches, resolve_scheduler
from optimiser.scenarios.futures.sampling import future_rng, sen2_growth
from optimiser.scenarios.scenario import scenario_from_mapping
from optimiser.schema.tables import INMSS_TYPES
from optimiser.siting.robust import fits, phase, robust_site

ROOT = Path(__file__).resolve().parents[1]
OPTION = ROOT / "examples" / "autism_base_stretford_high.yaml"
runner = CliRunner()
N, YEARS, SEED = 8, 2, 5


@pytest.fixture(scope="module")
def option() -> optimiser.Scenario:
    return optimiser.load_scenario(OPTION)


@pytest.fixture(scope="module")
def serial(default_ds, option) -> optimiser.FuturesResult:
    return optimiser.futures(default_ds, [option], n=N, seed=SEED, years=YEARS, scheduler="serial")


# ---------------------------------------------------------------- reused arcs are exact


def _cohort(ds: optimiser.Dataset, rng: np.random.Generator):
    """A year-on cohort: a year older, some placements ended, some preferences dropped."""
    ids = pd.Index(ds.settings["setting_id"])
    kids = ds.children.reset_index(drop=True)
    n = len(kids)
    age = kids["age"].to_numpy() + 1
    keep = np.flatnonzero(age <= 19)
    cur = np.where(
        kids["current_setting_id"] != "", ids.get_indexer(kids["current_setting_id"]), -1
    )
    cur = np.where(rng.random(n) < 0.3, -1, cur)
    prefs = rng.integers(0, 2, n)
    t = keep
    frame = kids.iloc[keep].copy()
    frame["age"] = age[keep]
    frame["current_setting_id"] = np.where(
        cur[keep] >= 0, ids.to_numpy(object)[np.maximum(cur[keep], 0)], ""
    )
    frame["preferences"] = [
        p if k else () for p, k in zip(frame["preferences"], prefs[keep], strict=True)
    ]
    return ids, (t, age[keep], prefs[keep], cur[keep]), frame.reset_index(drop=True)


def test_reused_arcs_give_allocates_objective_and_cost(default_ds):
    ds = default_ds.replace(places=derive_place_costs(default_ds))
    ids, (t, age, prefs, cur), frame = _cohort(ds, np.random.default_rng(1))
    bank = ArcBank(ds, ids)
    n = len(ds.children)
    base = bank.solve(np.arange(n), ds.children["age"], np.ones(n, int), cur_of(ds, ids))
    res0 = optimiser.allocate(default_ds)
    assert base.objective == res0.objective
    assert base.total_cost_gbp == pytest.approx(res0.kpis["total_cost_gbp"], rel=1e-12)
    sol = bank.solve(t, age, prefs, cur)
    res = optimiser.allocate(ds.replace(children=frame))
    assert sol.objective == res.objective
    assert int((sol.setting < 0).sum()) == len(res.unplaced)
    # tied optima may place children differently at the same objective: price the bank's
    # own placements with allocate's arcs (place + transport of each child's arc)
    placed = sol.setting >= 0
    mine = pd.DataFrame(
        {"child_id": frame["child_id"][placed], "setting_id": ids.to_numpy()[sol.setting[placed]]}
    ).merge(res.options, on=["child_id", "setting_id"], how="left", validate="1:1")
    assert mine["place_cost_gbp"].notna().all()  # every placement is one of allocate's arcs
    assert sol.place_gbp.sum() == pytest.approx(mine["place_cost_gbp"].sum(), rel=1e-12)
    assert sol.transport_gbp.sum() == pytest.approx(mine["transport_cost_gbp"].sum(), rel=1e-12)
    assert bank.n_keys > 0


def cur_of(ds, ids):
    cur = ds.children["current_setting_id"]
    return np.where(cur != "", ids.get_indexer(cur), -1)


def test_reused_arcs_with_fee_inflation_and_places_lost_equal_allocate(default_ds):
    ds = default_ds.replace(places=derive_place_costs(default_ds))
    ids, cohort, frame = _cohort(ds, np.random.default_rng(2))
    bank = ArcBank(ds, ids)
    lost = np.zeros(len(ds.places))
    lost[::7] = 3  # three places lost from every seventh places row
    sol = bank.solve(*cohort, inmss_factor=1.25, places_lost=lost)
    inmss = ds.places["setting_id"].map(ds.setting_types).isin(INMSS_TYPES)
    places = ds.places.copy()
    places["annual_cost_gbp"] = np.where(
        inmss, places["annual_cost_gbp"] * 1.25, places["annual_cost_gbp"]
    )
    places["places"] = (places["places"].astype(float) - lost).clip(lower=0).astype("Int64")
    settings = ds.settings.copy()
    by_setting = pd.Series(lost, index=ds.places["setting_id"]).groupby(level=0).sum()
    settings["total_places"] = settings["total_places"] - settings["setting_id"].map(
        by_setting
    ).fillna(0)
    res = optimiser.allocate(ds.replace(children=frame, places=places, settings=settings))
    assert sol.objective == res.objective
    assert int((sol.setting < 0).sum()) == len(res.unplaced)
    assert bank.places_by_package(lost).sum() == pytest.approx(
        places.loc[
            ~places["setting_id"].map(ds.settings.set_index("setting_id")["closed"]), "places"
        ]
        .astype(float)
        .sum()
    )


# ---------------------------------------------------------------- sampling and seeds


def test_seed_per_future_not_per_run(default_ds, serial, option):
    again = optimiser.futures(default_ds, [option], n=3, seed=SEED, years=YEARS, scheduler="serial")
    first3 = serial.per_future[serial.per_future["future"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.per_future, first3)
    other = optimiser.futures(
        default_ds, [option], n=3, seed=SEED + 1, years=YEARS, scheduler="serial"
    )
    assert not np.allclose(other.per_future["total_cost_gbp"], first3["total_cost_gbp"])
    a, b = future_rng(1, 4).random(3), future_rng(1, 4).random(3)
    assert np.array_equal(a, b) and not np.array_equal(a, future_rng(1, 5).random(3))


def test_growth_prior_from_sen2():
    own = sen2_growth("358")  # Trafford: 767 → 1,164 specialist placements, Jan 2019-2025
    raw = np.log(1164 / 767) / 6
    national = sen2_growth(None)
    assert own.own_years == 6
    assert min(raw, national.mean) <= own.mean <= max(raw, national.mean)  # shrunk to prior
    assert own.level_sd < national.level_sd


def test_bands_ordered_and_consistent(serial):
    b = serial.bands
    assert (b["p10"] <= b["p50"] + 1e-9).all() and (b["p50"] <= b["p90"] + 1e-9).all()
    assert set(b["option"]) == {"baseline", "Autism base at Stretford High"}
    assert set(b["year"]) == set(range(YEARS + 1))
    year0 = b[(b["year"] == 0) & (b["option"] == "baseline") & (b["package_id"] == "all")]
    demand = year0.set_index("measure").loc["demand_children"]
    assert demand["p10"] == demand["p90"] == 1164  # year 0 is the base data in every future
    cost = year0.set_index("measure").loc["total_cost_gbp", "mean"]
    assert cost == pytest.approx(
        optimiser.allocate(optimiser.load_default()).kpis["total_cost_gbp"]
    )
    d = serial.decisions.set_index("option")
    assert (d["expected_regret_gbp"] >= 0).all()
    assert serial.beats.shape == (2, 2) and (np.diag(serial.beats) == 0).all()
    beats = serial.beats.to_numpy()
    assert np.all(beats + beats.T <= 1 + 1e-12)
    pf = serial.per_future
    assert len(pf) == N * 2 and (pf.groupby("future")["regret_gbp"].min() == 0).all()


def test_bad_arguments_are_clear_errors(default_ds):
    with pytest.raises(DataValidationError, match="--futures"):
        optimiser.futures(default_ds, n=0, scheduler="serial")
    with pytest.raises(DataValidationError, match="--years"):
        optimiser.futures(default_ds, n=2, years=-1, scheduler="serial")
    with pytest.raises(ValueError, match="tcp://"):
        resolve_scheduler("my-cluster", 10)
    assert resolve_scheduler(None, 10) == "serial" and resolve_scheduler(None, 500) == "local"
    assert batches(10, 4) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    grow = scenario_from_mapping(
        {"name": "More autism", "changes": [{"demand_growth": {"SPP3": 1.1}}]}, source="more.yaml"
    )
    with pytest.raises(DataValidationError, match=r"more.yaml, change 1 .*futures sample demand"):
        optimiser.futures(default_ds, [grow], n=2, scheduler="serial")


# ---------------------------------------------------------------- Dask: same tables


def test_local_cluster_gives_the_serial_tables(default_ds, option, serial, monkeypatch):
    seen: dict = {}  # the workers' environment, read on the cluster the run starts
    real = engine.run_on_client

    def spy(model, n, client, **kw):
        seen.update(client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_"))
        return real(model, n, client, **kw)

    monkeypatch.setattr(engine, "run_on_client", spy)
    dask = optimiser.futures(default_ds, [option], n=N, seed=SEED, years=YEARS, scheduler="local")
    assert dask.settings["scheduler"] == "local"
    assert len(seen) == 2 and set(seen.values()) == {None}  # glibc keeps its own trim rule
    for name in ("bands", "decisions", "beats", "per_future", "draws"):
        pd.testing.assert_frame_equal(getattr(dask, name), getattr(serial, name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(request):
    """A ``dask scheduler`` and one ``dask worker`` on 127.0.0.1 (killed at the end)."""
    dask = shutil.which("dask") or str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]

    def stop():
        for p in reversed(procs):
            p.kill()
            p.wait(timeout=30)

    request.addfinalizer(stop)
    procs.append(
        subprocess.Popen(
            [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    )
    from dask.distributed import Client

    deadline = time.monotonic() + 120
    while True:
        try:
            with Client(address, timeout=5) as client:
                client.wait_for_workers(1, timeout=5)
                break
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                pytest.fail("the dask scheduler and worker did not start in 120 s")
            time.sleep(0.5)
    return address


def test_cli_runs_on_a_real_scheduler(dask_cluster, serial, tmp_path):
    out = tmp_path / "bands.csv"
    args = ["futures", "--futures", str(N), "--seed", str(SEED), "--years", str(YEARS)]
    args += ["--scenario", str(OPTION), "--out", str(out), "--scheduler", dask_cluster]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Options across the futures" in result.output
    assert "address" in result.output  # the scheduler kind, never the host
    written = pd.read_csv(out, dtype={"package_id": str})
    keys = ["option", "year", "package_id", "measure"]
    assert written[keys].astype(str).equals(serial.bands[keys].astype(str))
    for col in ("mean", "p10", "p50", "p90"):  # the CSV rounds money to pence
        assert np.allclose(written[col], serial.bands[col], atol=0.01, rtol=0)
    from dask.distributed import Client

    with Client(dask_cluster, timeout=10) as client:  # the nanny's trim threshold relaxed
        env = client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_")
        relaxed = client.run(malloc.relaxed)
    assert list(env.values()) == ["65536"] and list(relaxed.values()) == [True]


def test_small_trim_threshold_relaxed_once_and_only_where_asked(monkeypatch):
    monkeypatch.setattr(malloc, "_relaxed", False)
    for asked in (None, "4000000", "not a number"):
        monkeypatch.setattr(malloc, "_done", False)
        if asked is None:
            monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
        else:
            monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", asked)
        assert malloc.relax_trim() is False, asked
    monkeypatch.setattr(malloc, "_done", False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    glibc = platform.libc_ver()[0] == "glibc"
    assert malloc.relax_trim() is glibc and malloc.relaxed() is glibc
    assert malloc.relax_trim() is False  # once per process


# ---------------------------------------------------------------- CLI errors


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--futures", "0"], "--futures"),
        (["--futures", "2", "--scheduler", "nowhere"], "tcp://"),
        (["--futures", "2", "--out", "bands.txt"], ".csv"),
        (["--futures", "2", "--scenario", "missing.yaml"], "missing.yaml"),
        pytest.param(  # dask retries the connection for its 10 s timeout
            ["--futures", "2", "--scheduler", "tcp://127.0.0.1:9"],
            "127.0.0.1:9",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_cli_errors_are_clear(args, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["futures", *args])
    assert result.exit_code != 0
    assert says in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_to_overwrite(tmp_path):
    out = tmp_path / "bands.csv"
    out.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["futures", "--futures", "2", "--out", str(out)])
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8") == "keep me"


# ---------------------------------------------------------------- workbook


def test_workbook_sheets_and_chart_read_back(serial, tmp_path):
    import openpyxl

    from optimiser.reports.futures import write_futures

    path = write_futures(serial, tmp_path / "futures.xlsx", title="Trafford futures")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Futures", "Futures bands", "Futures chart"]
    decisions = book["Futures"]
    assert decisions["A1"].value == "Trafford futures"
    header = [c.value for c in decisions[3]]
    assert header[:2] == ["option", "expected_cost_gbp"]
    assert decisions["A4"].value == "baseline"
    expected = float(serial.decisions.loc[0, "expected_cost_gbp"])
    assert decisions["B4"].value == pytest.approx(expected)
    bands = book["Futures bands"]
    assert bands.max_row == len(serial.bands) + 1
    assert [c.value for c in bands[1]] == list(serial.bands.columns)
    charts = book["Futures chart"]._charts
    assert len(charts) == 2  # total cost and unplaced children
    assert len(charts[0].series) == 3 * 2  # P10, P50, P90 × 2 options
    with pytest.raises(FileExistsError):
        write_futures(serial, path)


# ---------------------------------------------------------------- robust siting


def _base(sid: str, capital: float) -> AddSetting:
    return AddSetting(
        setting_id=sid,
        name=sid,
        setting_type="inclusion_base",
        easting=378000,
        northing=392000,
        age_min=11,
        age_max=16,
        places={"SPP3": 8},
        capital_cost_gbp=capital,
    )


def test_phasing_keeps_each_years_capital_within_budget():
    a, b, c = _base("A", 300_000), _base("B", 300_000), _base("C", 500_000)
    plan = phase([a, b, c], lead_years=2, years=5, budget_gbp_per_year=600_000)
    assert [(x.setting_id, y) for x, y in plan] == [("A", 2), ("B", 2), ("C", 3)]
    assert fits(plan, lead_years=2, budget_gbp_per_year=600_000)
    assert not fits([(a, 2), (b, 2), (c, 2)], lead_years=2, budget_gbp_per_year=600_000)
    assert phase([_base("D", 700_000)], lead_years=1, years=3, budget_gbp_per_year=600_000) == []


@pytest.mark.slow  # site() twice, then futures for every trial plan: minutes on 2 cores
def test_robust_plan_compared_with_single_line_on_held_out_futures(default_ds):
    r = robust_site(
        default_ds,
        budget_gbp_per_year=400_000,
        years=2,
        lead_years=1,
        n_train=4,
        n_test=4,
        max_bases=2,
    )
    assert list(r.comparison["plan"]) == ["robust", "single-line", "baseline"]
    assert r.parameters["held_out_seed"] != r.parameters["seed"]
    for plan in (r.plan, r.single_line):
        assert (plan["from_year"] >= 1).all() and (plan["from_year"] <= 2).all()
        spend = plan.groupby("build_year")["capital_cost_gbp"].sum()
        assert (spend <= 400_000 + 1e-6).all()
    assert len(r.plan) == len(r.steps)


# ---------------------------------------------------------------- optimiser robust-site


def test_robust_site_cli_prints_both_plans_and_writes_a_loadable_plan(tmp_path):
    out = tmp_path / "robust.yaml"
    args = ["robust-site", "--budget-per-year", "400000", "--years", "2", "--lead-years", "1"]
    args += ["--train", "2", "--test", "2", "--max-bases", "1", "--scheduler", "serial"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("Robust plan", "Single-line plan", "held-out futures", "P(beats single"):
        assert text in result.output
    sc = optimiser.load_scenario(out)
    assert sc.name == "robust" and len(sc.changes) == 1
    assert all(isinstance(c, AddSetting) and 1 <= c.from_year <= 2 for c in sc.changes)
    assert "robust siting" in sc.description
    again = runner.invoke(app, [*args, "--out", str(out)])  # never overwritten
    assert again.exit_code == 1 and "exists" in again.output
    assert optimiser.load_scenario(out) == sc


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--criterion", "cheapest"], "'expected' or 'regret'"),
        (["--years", "2", "--lead-years", "3"], "never open"),
        (["--scheduler", "nowhere"], "tcp://"),
        (["--out", "plan.txt"], ".yaml"),
    ],
)
def test_robust_site_cli_errors_are_clear(args, says):
    result = runner.invoke(app, ["robust-site", *args])
    assert result.exit_code == 1
    assert says in result.output and "Traceback" not in result.output
