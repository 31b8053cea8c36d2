"""Shared fixtures: the tiny hand-solvable dataset, mutable copies of it, and the default data.

Fixtures
--------
tiny_path : Path of ``tests/data/tiny`` (3 settings, 6 children). Never write to it.
tiny : the tiny Dataset, a fresh deep copy of one session load for each test (safe to modify).
broken_copy : factory ``broken_copy(src=None, *, name="tiny") -> Path`` copying a dataset
    folder (the tiny one by default) into ``tmp_path`` so a test can break it.
set_cell : ``set_cell(folder, file, row, column, value)``; ``row`` is the spreadsheet row
    (header = row 1), the same numbering as ``Problem.row``. A new column is added if needed.
edit_csv : ``edit_csv(folder, file, fn)``; ``fn`` takes and returns the table as text.
default_ds : the embedded Trafford Dataset (``optimiser.load_default()``); skipped only while
    ``data/trafford/settings.csv`` does not exist yet.
browser : one headless Chromium (Playwright) for the whole session, shared by the browser
    tests (test_app_browser, test_map_browser, test_injection); each test opens its own
    page or context and closes it. Skipped where playwright or Chromium is missing.
default_routes : ``(allocation, route plan)`` of the default data as ``optimiser transport``
    makes them (PyVRP, 10 s safety cap), computed once per session. Read only.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS

import optimiser
from optimiser.transport.routes.estimate import RoutePlan, estimate_routes

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
TRAFFORD_SETTINGS = ROOT / "data" / "trafford" / "settings.csv"


def _read_text_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_text_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """Folder of the tiny hand-solvable dataset (read only)."""
    assert (TINY / "settings.csv").exists(), f"tiny fixture missing at {TINY}"
    return TINY


@pytest.fixture(scope="session")
def _tiny_loaded(tiny_path: Path) -> optimiser.Dataset:
    """The tiny Dataset as loaded once per session; never handed to a test (see ``tiny``)."""
    return optimiser.load_dataset(tiny_path)


@pytest.fixture
def tiny(_tiny_loaded: optimiser.Dataset) -> optimiser.Dataset:
    """The tiny Dataset, a fresh deep copy of one load for each test (safe to modify).

    Equal to ``optimiser.load_dataset(tiny_path)`` field by field (frames, dtypes, attrs,
    policy; test_datamodel.py checks it) at ~0.5 ms instead of ~200 ms a load; its cells
    hold only str, numbers and tuples, so no test can reach the session's copy.
    """
    return copy.deepcopy(_tiny_loaded)


@pytest.fixture
def broken_copy(tmp_path: Path, tiny_path: Path) -> Callable[..., Path]:
    """Factory: copy a dataset folder (default: tiny) into tmp_path and return the copy."""

    def make(src: Path | None = None, *, name: str = "tiny") -> Path:
        dst = tmp_path / name
        shutil.copytree(src or tiny_path, dst)
        return dst

    return make


@pytest.fixture
def edit_csv() -> Callable[[Path, str, Callable[[pd.DataFrame], pd.DataFrame]], Path]:
    """Rewrite ``folder/file`` through ``fn`` (cells are text, blanks are '')."""

    def edit(folder: Path, file: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
        path = Path(folder) / file
        _write_text_table(fn(_read_text_table(path)), path)
        return path

    return edit


@pytest.fixture
def set_cell() -> Callable[[Path, str, int, str, str], Path]:
    """Set one cell of ``folder/file``; ``row`` is the spreadsheet row (header = row 1)."""

    def set_(folder: Path, file: str, row: int, column: str, value: str) -> Path:
        path = Path(folder) / file
        frame = _read_text_table(path)
        assert 2 <= row <= len(frame) + 1, f"{file} has no spreadsheet row {row}"
        if column not in frame.columns:
            frame[column] = ""
        frame.loc[row - 2, column] = value
        _write_text_table(frame, path)
        return path

    return set_


@pytest.fixture(scope="session")
def default_ds() -> optimiser.Dataset:
    """The embedded Trafford data; skipped only while it has not been generated yet."""
    if not TRAFFORD_SETTINGS.exists():
        pytest.skip("embedded Trafford data not generated yet (data/trafford/settings.csv)")
    return optimiser.load_default()


@pytest.fixture(scope="session")
def default_routes(
    default_ds: optimiser.Dataset,
) -> tuple[optimiser.AllocationResult, RoutePlan]:
    """The default allocation and its shared-route estimate (the CLI's defaults), run once.

    The route search takes seconds; the tests that only read the plan share this one run
    (test_routes, and test_run_fixes compares a CLI run against it byte for byte).
    """
    res = optimiser.allocate(default_ds)
    return res, estimate_routes(default_ds, res, time_limit_s=10)


@pytest.fixture(scope="session")
def _chromium():
    """One headless Chromium for the session (launching one takes seconds); see ``browser``."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    exe = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if exe is None:
        pytest.skip("headless Chromium (/usr/bin/chromium) not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def browser(_chromium):
    """The session's Chromium; every context (and page) a test opens is closed after it,
    passed or failed, so no page, cookie or open connection outlives its test."""
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()
