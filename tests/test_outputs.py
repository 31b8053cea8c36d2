"""Outputs (DESIGN.md §8): checked before any work, atomic, never overwritten, inert in CSV."""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import optimiser
from optimiser import _outputs
from optimiser._errors import OptimiserError, OutputError, OutputExistsError
from optimiser._outputs import (
    atomic_outputs,
    check_outputs,
    inert_frame,
    write_csv_output,
    write_text_output,
)
from optimiser.cli.app import app
from optimiser.maps.pack import write_pack

solve_module = importlib.import_module("optimiser.allocation.solve")

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def leftovers(folder: Path) -> list[str]:
    """Temporary files left in ``folder`` (there must never be any)."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.fixture
def no_solve(monkeypatch):
    """Make allocate fail loudly: a command that refuses before any work never reaches it."""
    # Import first what the commands import lazily, so none binds the failing stand-in.
    for name in (
        "optimiser.reports.workbook",
        "optimiser.maps.build",
        "optimiser.maps.pack",
        "optimiser.siting.plan",
        "optimiser.scenarios.compare",
        "optimiser.transport.routes.estimate",
        "optimiser.transport.tables",
    ):
        importlib.import_module(name)

    def boom(*_args, **_kwargs):
        raise AssertionError("the solve ran before the output paths were checked")

    monkeypatch.setattr(solve_module, "allocate", boom)


# --- refused before any work -------------------------------------------------------------


def test_allocate_refuses_an_existing_unplaced_out_before_solving(tiny_path, tmp_path, no_solve):
    (tmp_path / "unplaced.csv").write_text("keep me\n")
    result = invoke(
        "allocate",
        tiny_path,
        "--out",
        tmp_path / "placements.csv",
        "--unplaced-out",
        tmp_path / "unplaced.csv",
    )
    assert result.exit_code == 1
    assert "unplaced.csv already exists" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "placements.csv").exists()  # neither file written
    assert (tmp_path / "unplaced.csv").read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("command", "option"),
    [("transport", "--out"), ("report", "--xlsx"), ("map", "--out"), ("site", "--out")],
)
def test_commands_refuse_an_existing_output_before_solving(
    tiny_path, tmp_path, no_solve, command, option
):
    target = tmp_path / "exists.out"
    target.write_text("keep me\n")
    result = invoke(command, tiny_path, option, target)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text() == "keep me\n"


def test_compare_refuses_an_existing_moves_out_before_solving(tiny_path, tmp_path, monkeypatch):
    compare_module = importlib.import_module("optimiser.scenarios.compare")

    def boom(*_a, **_k):
        raise AssertionError("solved before checking --moves-out")

    monkeypatch.setattr(compare_module, "compare_scenarios", boom)
    sc = tmp_path / "one.yaml"
    sc.write_text(
        "name: one\nchanges:\n  - set_places: {setting_id: S2, package_id: P1, places: 3}\n"
    )
    (tmp_path / "moves.csv").write_text("x\n")
    result = invoke("compare", tiny_path, sc, "--moves-out", tmp_path / "moves.csv")
    assert result.exit_code == 1 and "moves.csv already exists" in result.output


def test_the_same_path_for_two_outputs_is_refused(tiny_path, tmp_path, no_solve):
    out = tmp_path / "both.csv"
    result = invoke("allocate", tiny_path, "--out", out, "--unplaced-out", out)
    assert result.exit_code == 1 and "two outputs" in result.output
    assert not out.exists()


# --- folders that cannot be written --------------------------------------------------------


def test_a_folder_that_is_a_file_gives_a_clear_message_before_solving(
    tiny_path, tmp_path, no_solve
):
    (tmp_path / "afile").write_text("not a folder\n")
    target = tmp_path / "afile" / "placements.csv"
    result = invoke("allocate", tiny_path, "--out", target)
    assert result.exit_code == 1
    assert str(target) in result.output and "not a folder" in result.output
    assert "Traceback" not in result.output


def test_a_read_only_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(_outputs.os, "access", lambda *_a, **_k: False)
    with pytest.raises(OutputError, match=r"not writable; choose a folder you can write to"):
        check_outputs(tmp_path / "x.csv")


def test_missing_folders_are_created_on_writing(tmp_path):
    target = tmp_path / "new" / "deeper" / "x.csv"
    check_outputs(target)
    write_csv_output(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "a\n1\n"


@pytest.mark.parametrize(
    ("code", "fix"),
    [(errno.ENOSPC, "free some disk space"), (errno.EACCES, "choose a folder you can write")],
)
def test_os_errors_while_writing_name_the_path_and_leave_nothing(
    tiny_path, tmp_path, monkeypatch, code, fix
):
    def fail(path, data):
        Path(path).write_bytes(data[: len(data) // 2])  # a half-written temporary file
        raise OSError(code, "simulated")

    monkeypatch.setattr(_outputs, "_write_bytes", fail)
    target = tmp_path / "placements.csv"
    result = invoke("allocate", tiny_path, "--out", target)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"cannot write {target}: simulated; {fix}" in result.output.replace("\n", "")
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary file


def test_a_permission_error_becomes_an_output_error(tmp_path, monkeypatch):
    def fail(path, data):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_outputs, "_write_bytes", fail)
    with pytest.raises(OutputError, match=r"x\.html: Permission denied") as info:
        write_text_output(tmp_path / "x.html", "<p>")
    assert isinstance(info.value, OptimiserError) and isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


# --- interrupts ----------------------------------------------------------------------------


def test_an_interrupt_mid_write_leaves_no_file_and_a_rerun_succeeds(
    tiny_path, tmp_path, monkeypatch
):
    real = _outputs._write_bytes

    def interrupted(path, data):
        Path(path).write_bytes(data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(_outputs, "_write_bytes", interrupted)
    target = tmp_path / "placements.csv"
    with pytest.raises(KeyboardInterrupt):
        write_csv_output(pd.DataFrame({"child_id": ["C1"], "x": [1.5]}), target)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(_outputs, "_write_bytes", real)
    result = invoke("allocate", tiny_path, "--out", target)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(target)["child_id"].tolist()[:1] == ["C1"]


def test_an_interrupt_while_writing_a_workbook_leaves_nothing(tiny, tmp_path, monkeypatch):
    import optimiser.reports.workbook as workbook

    def interrupted(tables, path, **_k):
        Path(path).write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(workbook, "write_tables", interrupted)
    with pytest.raises(KeyboardInterrupt):
        workbook.write_workbook(tiny, tmp_path / "book.xlsx", years=0)
    assert list(tmp_path.iterdir()) == []


def test_the_pack_publishes_both_files_or_neither(tiny, tmp_path, monkeypatch):
    res = optimiser.allocate(tiny)
    real = _outputs._publish
    calls = []

    def second_fails(tmp, final):
        calls.append(final)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(tmp, final)

    monkeypatch.setattr(_outputs, "_publish", second_fails)
    with pytest.raises(OutputError, match=r"summary\.html: No space left on device; free some"):
        write_pack(tiny, res, tmp_path / "pack")
    assert list((tmp_path / "pack").iterdir()) == []
    monkeypatch.setattr(_outputs, "_publish", real)
    files = write_pack(tiny, res, tmp_path / "pack")
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == sorted(p.name for p in files)


def test_saved_datasets_leave_no_temporary_files_and_round_trip(tiny, tmp_path):
    out = optimiser.save_dataset(tiny, tmp_path / "copy")
    assert leftovers(out) == []
    back = optimiser.load_dataset(out)
    pd.testing.assert_frame_equal(back.children, tiny.children)


# --- concurrent runs -----------------------------------------------------------------------


def test_two_concurrent_publishes_to_one_path_exactly_one_succeeds(tmp_path):
    target = tmp_path / "out.csv"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(text: str) -> None:
        try:
            with atomic_outputs(target) as (tmp,):
                tmp.write_text(text)
                barrier.wait(timeout=10)  # both have passed the check and written
            outcomes.append(text)
        except OutputExistsError:
            outcomes.append("refused")

    threads = [threading.Thread(target=run, args=(t,)) for t in ("first\n", "second\n")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    winner = next(o for o in outcomes if o != "refused")
    assert target.read_text() == winner
    assert leftovers(tmp_path) == []


def test_publish_without_hard_links_is_still_exclusive(tmp_path, monkeypatch):
    def no_links(*_a):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(_outputs.os, "link", no_links)
    target = write_text_output(tmp_path / "x.txt", "one")
    assert target.read_text() == "one"
    with pytest.raises(OutputExistsError, match="already exists"):
        with atomic_outputs(tmp_path / "y.txt") as (tmp,):
            tmp.write_text("two")
            (tmp_path / "y.txt").write_text("someone else")
    assert (tmp_path / "y.txt").read_text() == "someone else"
    assert leftovers(tmp_path) == []


# --- CSV formula injection -----------------------------------------------------------------

NASTY = {
    "C1": '=HYPERLINK("http://evil.example","click")',
    "C2": "@SUM(A1)",
    "C3": "+1",
    "C4": "-1 text",
    "C5": "\tTAB",
    "C6": "\rCR",
}


def test_inert_frame_prefixes_formula_text_and_leaves_numbers():
    frame = pd.DataFrame(
        {"text": [*NASTY.values(), "plain"], "cost_gbp": [-45000.0, -1, 0, 1, 2, 3, 4.5]}
    )
    out = inert_frame(frame)
    assert out["text"].tolist() == [*("'" + v for v in NASTY.values()), "plain"]
    assert out["cost_gbp"].tolist() == frame["cost_gbp"].tolist()
    assert frame["text"].iloc[0].startswith("=")  # the input is not changed


def test_placements_csv_is_inert(broken_copy, edit_csv, tmp_path):
    folder = broken_copy()

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        # The loader strips surrounding whitespace from ids, so tab/CR are tested on moves.
        frame["child_id"] = frame["child_id"].map(lambda c: NASTY.get(c, c) if c < "C5" else c)
        return frame

    edit_csv(folder, "children.csv", rename)
    out = tmp_path / "placements.csv"
    result = invoke("allocate", folder, "--out", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, keep_default_na=False)
    for cell in written["child_id"]:
        assert cell in ("C5", "C6") or (cell.startswith("'") and cell[1:] in NASTY.values())
    assert (written["child_id"].str.startswith("'")).sum() >= 2
    expected = optimiser.allocate(optimiser.load_dataset(folder)).placements
    for col in ("place_cost_gbp", "transport_cost_gbp", "distance_km", "arc_cost"):
        assert pd.api.types.is_numeric_dtype(written[col])
        # rounded by unit: pence, 10 m
        assert written[col].tolist() == pytest.approx(expected[col].tolist(), abs=0.005)


@pytest.mark.parametrize(
    ("yaml_name", "name"),
    [
        ('\'=HYPERLINK("http://evil.example","x")\'', '=HYPERLINK("http://evil.example","x")'),
        ("'@SUM(A1)'", "@SUM(A1)"),
        ("'+1'", "+1"),
        ("'-1 text'", "-1 text"),
        ('"\\tTAB"', "\tTAB"),
        ('"\\rCR"', "\rCR"),
    ],
)
def test_moves_csv_is_inert_and_negative_numbers_stay_numbers(tiny_path, tmp_path, yaml_name, name):
    sc = tmp_path / "evil.yaml"
    sc.write_text(
        f"name: {yaml_name}\n"
        "changes:\n  - set_places: {setting_id: S2, package_id: P1, places: 3}\n"
    )
    out = tmp_path / "moves.csv"
    result = invoke("compare", tiny_path, sc, "--moves-out", out)
    assert result.exit_code == 0, result.output
    moves = pd.read_csv(out, keep_default_na=False)
    assert moves["scenario"].tolist() == ["'" + name]
    assert moves["place_change_gbp"].tolist() == [-45000]
    assert pd.api.types.is_numeric_dtype(moves["total_change_gbp"])
    assert moves["total_change_gbp"].iloc[0] < 0


def test_two_concurrent_allocate_runs_to_one_out_exactly_one_exits_0(tiny_path, tmp_path):
    """Two processes, one --out: one writes it, the other exits 1 with a message."""
    target = tmp_path / "placements.csv"
    env = {**os.environ, "PYTHONPATH": str(Path(optimiser.__file__).parents[1])}
    cmd = [sys.executable, "-m", "optimiser", "allocate", str(tiny_path), "--out", str(target)]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert sorted(rc for _, _, rc in outs) == [0, 1], outs
    loser = next(err for _, err, rc in outs if rc == 1)
    assert "already exists" in loser and "Traceback" not in loser
    assert pd.read_csv(target)["child_id"].iloc[0] == "C1"
    assert leftovers(tmp_path) == []
