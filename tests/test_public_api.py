"""The public API of DESIGN.md §4 resolves, every ``__all__`` is honest, the entry points run.

What this file checks
---------------------
* Every §4 name that exists today is an attribute of :mod:`optimiser` (or of
  :mod:`optimiser.siting`) and is listed in that module's ``__all__``; the names §4 adds
  in a later round are expected to be missing (``xfail(strict=True)``, so each test
  flips to a failure the day its name lands, and the mark is then removed).
* ``solve_facility_location`` keeps its documented signature.
* Every entry of every ``__all__`` in every module and package under ``optimiser/``
  resolves (``__main__`` modules are not imported: importing one runs the command).
* Every subpackage has a docstring and a non-empty ``__all__``.
* ``python -m optimiser``, ``python -m optimiser.cli`` and ``python -m optimiser.schema``
  run (as subprocesses, started together), and the ``optimiser`` console script in
  ``pyproject.toml`` resolves to a callable.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path
from types import ModuleType

import pytest

import optimiser

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "optimiser"

#: §4 names on ``optimiser`` today.
API_NAMES = [
    "load_default",
    "load_dataset",
    "validate",
    "options",
    "allocate",
    "check_allocation",
    "load_scenario",
    "compare",
    "site",
    "siting",
    "init_la",
    "calibration",
    "explain",
    "futures",
    "Dataset",
    "AllocationResult",
    "Scenario",
    "SitingResult",
    "Policy",
    "DataValidationError",
]
#: §4 names on ``optimiser.siting``.
SITING_NAMES = ["solve_facility_location", "FacilityLocationSolution"]
#: §4 names "added in the second round": not there yet.
LATER_NAMES: list[str] = []

SUBPACKAGES = [
    "dataset",
    "transport",
    "transport.routes",
    "allocation",
    "scenarios",
    "siting",
    "siting.cflp",
    "reports",
    "maps",
    "cli",
    "synth",
    "schema",
    "_solver",
]


def _module_names() -> list[str]:
    """Dotted names of every module and package under ``optimiser/`` except ``__main__``s."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if "__pycache__" in parts or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _subpackages() -> list[str]:
    """The subpackages listed above, plus any found on disk (so a new one is checked too)."""
    found = {
        ".".join(p.parent.relative_to(PACKAGE_DIR).parts)
        for p in PACKAGE_DIR.rglob("__init__.py")
        if p.parent != PACKAGE_DIR and "__pycache__" not in p.parts
    }
    return [*SUBPACKAGES, *sorted(found - set(SUBPACKAGES))]


# --- §4 names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", API_NAMES)
def test_design_name_resolves(name: str) -> None:
    assert hasattr(optimiser, name), f"optimiser.{name} is missing (DESIGN.md §4)"
    assert name in optimiser.__all__, f"optimiser.{name} exists but is not in optimiser.__all__"


@pytest.mark.parametrize("name", SITING_NAMES)
def test_design_siting_name_resolves(name: str) -> None:
    assert isinstance(optimiser.siting, ModuleType)
    assert hasattr(optimiser.siting, name), f"optimiser.siting.{name} is missing (DESIGN.md §4)"
    assert name in optimiser.siting.__all__, f"{name} is not in optimiser.siting.__all__"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="added in a later issue"))
        for name in LATER_NAMES
    ],
)
def test_later_design_name_resolves(name: str) -> None:
    assert callable(getattr(optimiser, name, None)), f"optimiser.{name} is not there yet"
    assert name in optimiser.__all__


def test_solve_facility_location_signature() -> None:
    sig = inspect.signature(optimiser.siting.solve_facility_location)
    params = sig.parameters
    positional = [
        n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional == ["fixed_cost", "capacity", "demand", "assign_cost"], sig
    expected = {"single_source": False, "budget": None, "time_limit_s": 60.0}
    for name, default in expected.items():
        assert name in params, f"solve_facility_location has no {name!r}: {sig}"
        param = params[name]
        assert param.kind is param.KEYWORD_ONLY, f"{name} is not keyword-only: {sig}"
        assert type(param.default) is type(default) and param.default == default, (
            f"{name} defaults to {param.default!r}, not {default!r}: {sig}"
        )


# --- every __all__ -------------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", _module_names())
def test_all_entries_resolve(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    assert isinstance(exported, list | tuple), f"{module_name}.__all__ is a {type(exported)}"
    assert all(isinstance(n, str) for n in exported), f"{module_name}.__all__: {exported!r}"
    duplicates = sorted({n for n in exported if list(exported).count(n) > 1})
    assert not duplicates, f"{module_name}.__all__ lists twice: {duplicates}"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{module_name}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("subpackage", _subpackages())
def test_subpackage_has_docstring_and_all(subpackage: str) -> None:
    name = f"optimiser.{subpackage}"
    init = PACKAGE_DIR.joinpath(*subpackage.split("."), "__init__.py")
    assert init.is_file(), f"{name} has no __init__.py"
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no docstring"
    assert getattr(module, "__all__", None), f"{name} has no (or an empty) __all__"


# --- entry points --------------------------------------------------------------------------------

_RUNS = {
    "optimiser": ["-m", "optimiser", "--help"],
    "optimiser.cli": ["-m", "optimiser.cli", "--help"],
}


@pytest.fixture(scope="module")
def entry_point_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the three ``python -m`` entry points at once (each takes ~2 s to import)."""
    work = tmp_path_factory.mktemp("entry_points")
    # Wide, plain output so Rich does not wrap or colour the command table.
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    argv = {
        **_RUNS,
        # ``python -m optimiser.schema [OUT]`` writes the data-format docs to OUT
        "optimiser.schema": ["-m", "optimiser.schema", str(work / "data-format.md")],
    }
    procs = {
        key: subprocess.Popen(
            [sys.executable, *args],
            cwd=work,  # outside the checkout: nothing can land in docs/
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
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        runs[key] = subprocess.CompletedProcess(argv[key], proc.returncode, out, err)
    return runs


def _command_names() -> list[str]:
    import typer

    from optimiser.cli.app import app

    return sorted(typer.main.get_command(app).commands)


#: The CLI commands DESIGN.md §4 lists that exist today.
DESIGN_COMMANDS = ["demo", "validate", "allocate", "compare", "site", "map", "report", "init"]


@pytest.mark.parametrize("key", list(_RUNS))
def test_python_m_help_names_the_commands(
    key: str, entry_point_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    run = entry_point_runs[key]
    assert run.returncode == 0, f"python -m {key} --help exited {run.returncode}:\n{run.stderr}"
    commands = _command_names()
    assert set(DESIGN_COMMANDS) <= set(commands), commands
    missing = [c for c in commands if c not in run.stdout]
    assert not missing, f"python -m {key} --help does not name {missing}:\n{run.stdout}"


def test_python_m_schema_writes_the_docs(
    entry_point_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    run = entry_point_runs["optimiser.schema"]
    assert run.returncode == 0, f"python -m optimiser.schema exited {run.returncode}:\n{run.stderr}"
    out = Path(run.args[-1])
    assert f"wrote {out}" in run.stdout, run.stdout
    text = out.read_text(encoding="utf-8")
    from optimiser.schema import TABLES

    missing = [table.file for table in TABLES.values() if f"`{table.file}`" not in text]
    assert not missing, f"the generated docs do not name the tables {missing}"


def test_console_script_resolves_to_a_callable() -> None:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    assert scripts.get("optimiser") == "optimiser.cli:main", scripts
    main = EntryPoint(name="optimiser", value=scripts["optimiser"], group="console_scripts").load()
    assert callable(main)
    from optimiser.cli.app import main as app_main

    assert main is app_main


#: A facade name that is also its own submodule's name; ``optimiser.cli.app`` is the Typer
#: app (``from optimiser.cli.app import app`` still finds the module through sys.modules).
SHADOWING_ALLOWED = {("optimiser.cli", "app")}


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_facades_do_not_hide_their_own_modules(package: str) -> None:
    # `import optimiser.dataset.validate as m` must give the module, not a re-exported
    # function of the same name (monkeypatch paths and importers rely on it).
    pkg = importlib.import_module(f"optimiser.{package}")
    for info in pkgutil.iter_modules(pkg.__path__):
        if (pkg.__name__, info.name) in SHADOWING_ALLOWED:
            continue
        attr = getattr(pkg, info.name, None)
        assert attr is None or isinstance(attr, ModuleType), (
            f"{pkg.__name__}.{info.name} is {type(attr).__name__}, not the submodule"
        )
