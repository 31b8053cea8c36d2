"""Command line: `optimiser validate`, `optimiser demo`, help, and the installed entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import optimiser
from optimiser.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


def test_validate_tiny_prints_one_ok_line(tiny_path):
    result = invoke("validate", str(tiny_path))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("OK")
    for part in ("tiny", "6 children", "3 settings", "5 place rows", "2 packages", "0 warning"):
        assert part in lines[0]


def test_validate_workbook(tiny, tmp_path):
    book = optimiser.save_dataset(tiny, tmp_path / "plan.xlsx")
    result = invoke("validate", str(book))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: plan is valid")


def test_validate_lists_warnings_but_succeeds(broken_copy, edit_csv):
    folder = broken_copy()
    edit_csv(folder, "places.csv", lambda f: f.drop(index=1))  # C4 continues at S1 without P2
    result = invoke("validate", str(folder))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("OK") and "1 warning(s)" in lines[0]
    assert lines[1].strip().startswith("warning: children.csv row 5, column current_setting_id")


def test_validate_broken_copy_lists_every_problem_and_exits_1(broken_copy, set_cell):
    folder = broken_copy()
    set_cell(folder, "places.csv", 2, "places", "-1")
    set_cell(folder, "children.csv", 3, "age", "31")
    set_cell(folder, "settings.csv", 4, "setting_type", "academy")
    result = invoke("validate", str(folder))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    out = result.output
    assert "3 problem(s)" in out
    for where in (
        "places.csv row 2, column places",
        "children.csv row 3, column age",
        "settings.csv row 4, column setting_type",
    ):
        assert where in out
    assert "Traceback" not in out
    assert "OK" not in out
    assert "31" not in out.replace(str(folder), "")  # the child's age is personal data


def test_validate_nonexistent_path(tmp_path):
    missing = tmp_path / "no_such_folder"
    result = invoke("validate", str(missing))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "no_such_folder" in result.output
    assert "nothing at this path" in result.output
    assert "Traceback" not in result.output


def test_validate_bad_policy_exits_1(broken_copy):
    folder = broken_copy()
    (folder / "policy.yaml").write_text("detour_factor: 1.3\n speed: : x\n", encoding="utf-8")
    result = invoke("validate", str(folder))
    assert result.exit_code == 1
    assert "policy.yaml" in result.output
    assert "Traceback" not in result.output


def test_app_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert {"validate", "demo"} <= set(command_names())
    for name in command_names():
        assert name in result.output


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help(name):
    result = invoke(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and name in result.output
    doc = typer.main.get_command(app).commands[name].help or ""
    assert doc.split()[0] in result.output  # the command's own description is shown


def test_demo_runs_on_the_default_data(default_ds):
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert f"{len(default_ds.children)} children" in result.output
    for pid in default_ds.packages["package_id"]:
        assert str(pid) in result.output
    assert "Traceback" not in result.output


def test_validate_without_path_uses_default_data(default_ds):
    result = invoke("validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")
    assert f"{len(default_ds.children)} children" in result.output


@pytest.mark.parametrize("args", [["demo"], ["validate"]])
def test_missing_embedded_data_is_a_clean_error(monkeypatch, args):
    def no_data(area: str = "trafford") -> Path:
        msg = "the embedded data folder was not found; reinstall optimiser"
        raise FileNotFoundError(msg)

    monkeypatch.setattr("optimiser.cli.common.default_path", no_data)
    result = invoke(*args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "embedded data" in result.output


def test_console_script_is_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["scripts"]["optimiser"] == "optimiser.cli:main"
    from optimiser.cli.app import main

    assert callable(main)


def _console_script() -> str:
    """The installed ``optimiser`` script (skip when not installed)."""
    local = Path(sys.executable).with_name("optimiser")
    script = str(local) if local.exists() else shutil.which("optimiser")
    if script is None:
        pytest.skip("console script `optimiser` not installed (run `pip install -e .`)")
    return script


@pytest.fixture(scope="module")
def console_runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """The console-script runs the tests below read, started together from the checkout.

    Each spends ~4 s importing the package; run side by side they take the time of one
    on a 2-core machine. Keys: ``tiny`` (validate tests/data/tiny), ``nope`` (validate a
    path that does not exist).
    """
    script = _console_script()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    argv = {
        "tiny": ["validate", "tests/data/tiny"],
        "nope": ["validate", str(tmp_path_factory.mktemp("console") / "nope")],
    }
    procs = {
        key: subprocess.Popen(
            [script, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, args in argv.items()
    }
    runs = {}
    for key, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        runs[key] = subprocess.CompletedProcess([script, *argv[key]], proc.returncode, out, err)
    return runs


def test_console_script_validates_tiny(console_runs):
    proc = console_runs["tiny"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: tiny is valid")
    assert "Traceback" not in proc.stderr


def test_console_script_fails_cleanly(console_runs):
    proc = console_runs["nope"]
    assert proc.returncode == 1
    assert "nothing at this path" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_map_and_pack_write_default_files_and_never_overwrite(tiny_path, tmp_path, monkeypatch):
    """DESIGN's `optimiser map DIR --publish` needs no --out: it writes into the current folder."""
    monkeypatch.chdir(tmp_path)
    result = invoke("map", str(tiny_path), "--publish")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "optimiser-map-publish.html").stat().st_size > 10_000
    again = invoke("map", str(tiny_path), "--publish")
    assert again.exit_code == 1 and "already exists" in again.output
    result = invoke("pack", str(tiny_path))
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "members-pack").iterdir()} == {"map.html", "summary.html"}


def test_no_help_text_holds_what_rich_would_take_for_markup():
    """'[s]' or '[years]' in a help text is a Rich tag to Typer's help: it vanishes."""
    import re

    import typer

    tag = re.compile(r"\[[a-z#/@][^\]]*\]")

    def walk(cmd, name: str):
        yield name, cmd.help or ""
        for p in cmd.params:
            yield f"{name} {p.name}", getattr(p, "help", None) or ""
        for sub_name, sub in getattr(cmd, "commands", {}).items():  # a group's commands
            yield from walk(sub, f"{name} {sub_name}")

    texts = list(walk(typer.main.get_command(app), "optimiser"))
    assert len(texts) > 100  # every command and option was read
    assert [(n, h) for n, h in texts if tag.search(h)] == []


def test_table_cells_and_titles_are_text_never_markup():
    import io

    import pandas as pd
    from rich.console import Console

    from optimiser.cli.common import frame_table

    name = "[bold]Evil[/bold] [link=http://e.invalid]x[/link] Oops[/b]"
    frame = pd.DataFrame({"name": [name], "v": [1.0]})
    table = frame_table(f"Area {name}", frame, ["name", "v"], heading=str, cell=lambda c, v: str(v))
    out = Console(file=io.StringIO(), width=200, highlight=False)
    out.print(table)  # a stray closing tag as markup would raise MarkupError
    text = out.file.getvalue()
    assert text.count(name) == 2  # the title and the cell, as typed
