"""What the app keeps between reruns: the dataset, the options, and every solved result.

Streamlit reruns the page script on each click. Loading, solving, comparing, siting
and drawing are cached here (``st.cache_resource``, bounded), keyed by the dataset
folder, a signature of its files (name, size, modification time: an edited file is
reloaded) and the options' scenario YAML text, so changing page never re-solves and
an option is solved once however often it is shown.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import streamlit as st

import optimiser
from optimiser.allocation.solve import AllocationResult
from optimiser.app.draft import OptionDraft
from optimiser.dataset.model import Dataset
from optimiser.dataset.validate import DataWarning
from optimiser.maps.build import map_allocation
from optimiser.maps.page import render_html
from optimiser.reports.workbook import WorkbookTables, build_tables
from optimiser.reports.workbook import comparison_table as workbook_comparison_table
from optimiser.scenarios.compare import Comparison
from optimiser.scenarios.scenario import Scenario
from optimiser.siting.plan import SitingResult

ENV_DIR = "OPTIMISER_APP_DIR"
CACHE = 24  # results kept per cached function (oldest dropped)


def initial_path() -> str:
    """The folder the app opens: ``optimiser app DIR``'s DIR, else $OPTIMISER_APP_DIR, else ""."""
    ours = Path(sys.argv[0]).resolve() == Path(__file__).with_name("main.py").resolve()
    args = [a for a in sys.argv[1:] if not a.startswith("-")] if ours else []
    return args[0] if args else os.environ.get(ENV_DIR, "")


def signature(path: str) -> tuple:
    """(name, size, mtime) of each file of a dataset folder or workbook; () for the default."""
    if not path:
        return ()
    p = Path(path)
    files = sorted(p.iterdir()) if p.is_dir() else [p]
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


def source_label(path: str) -> str:
    """How the data is named on screen."""
    return path or "the embedded default data (Trafford)"


@st.cache_resource(max_entries=CACHE, show_spinner="Loading the data…")
def dataset(path: str, sig: tuple) -> Dataset:
    """The dataset (raises DataValidationError listing every problem)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return optimiser.load_dataset(path) if path else optimiser.load_default()


def scenario_of(text: str) -> Scenario:
    """The Scenario of an option's YAML text."""
    return OptionDraft.from_yaml(text, source="option").scenario()


@st.cache_resource(max_entries=CACHE, show_spinner="Solving the allocation…")
def allocation(path: str, sig: tuple, option_yaml: str = "") -> AllocationResult:
    """The allocation of the baseline ("") or of one option (its YAML text)."""
    if not option_yaml:
        return optimiser.allocate(dataset(path, sig))
    return optimiser.allocate(option_data(path, sig, option_yaml))  # applied once, cached


@st.cache_resource(max_entries=CACHE, show_spinner="Applying the option…")
def option_data(path: str, sig: tuple, option_yaml: str) -> Dataset:
    """The dataset with an option applied (the settings it adds, expands, closes)."""
    return scenario_of(option_yaml).apply(dataset(path, sig))


@st.cache_resource(max_entries=CACHE, show_spinner="Comparing the options…")
def comparison(path: str, sig: tuple, option_yamls: tuple[str, ...]) -> Comparison:
    """The baseline and the options side by side (solves reused from :func:`allocation`)."""
    ds = dataset(path, sig)
    scenarios = [scenario_of(t) for t in option_yamls]
    solved = {"baseline": allocation(path, sig)}
    solved.update(
        {sc.name: allocation(path, sig, t) for sc, t in zip(scenarios, option_yamls, strict=True)}
    )
    return optimiser.compare_scenarios(ds, scenarios, solved=solved)


@st.cache_resource(max_entries=CACHE, show_spinner="Comparing with the baseline…")
def comparison_table(
    path: str, sig: tuple, publish: bool, option_yamls: tuple[str, ...]
) -> pd.DataFrame:
    """The Comparison table alone (publish mode: through the disclosure release)."""
    cmp = comparison(path, sig, option_yamls)
    return workbook_comparison_table(dataset(path, sig), cmp, publish=publish)


@st.cache_resource(max_entries=CACHE, show_spinner="Building the tables…")
def tables(
    path: str, sig: tuple, publish: bool, option_yamls: tuple[str, ...] = ()
) -> WorkbookTables:
    """The workbook's tables (publish mode: every figure through the disclosure release)."""
    ds = dataset(path, sig)
    cmp = comparison(path, sig, option_yamls) if option_yamls else None
    return build_tables(ds, allocation(path, sig), publish=publish, comparison=cmp)


@st.cache_resource(max_entries=CACHE, show_spinner="Drawing the map…")
def map_page(
    path: str,
    sig: tuple,
    publish: bool,
    option_yamls: tuple[str, ...] = (),
    siting_key: tuple | None = None,
) -> str:
    """The self-contained map page (the layers of ``optimiser map``), as HTML text."""
    ds = dataset(path, sig)
    cmp = comparison(path, sig, option_yamls) if option_yamls else None
    plan = siting(path, sig, *siting_key) if siting_key else None
    res = allocation(path, sig)
    return render_html(map_allocation(ds, res, publish=publish, compare=cmp, siting=plan))


@st.cache_resource(max_entries=8, show_spinner="Choosing sites…")
def siting(path: str, sig: tuple, budget_gbp: float, time_limit_s: float) -> SitingResult:
    """A siting plan within ``budget_gbp``."""
    return optimiser.site(dataset(path, sig), budget_gbp=budget_gbp, time_limit_s=time_limit_s)


@st.cache_resource(max_entries=8, show_spinner="Drawing the budget curve…")
def budget_curve(
    path: str, sig: tuple, budgets: tuple[float, ...], time_limit_s: float
) -> pd.DataFrame:
    """Saving and capital at each budget (one siting plan per budget)."""
    return optimiser.siting.budget_curve(
        dataset(path, sig), list(budgets), time_limit_s=time_limit_s
    )


def options() -> dict[str, OptionDraft]:
    """The options built or loaded in this session, by name."""
    return st.session_state.setdefault("options", {})


def option_yamls(names: Sequence[str]) -> tuple[str, ...]:
    """The YAML text of the named options (the cache keys of their results)."""
    drafts = options()
    return tuple(drafts[n].to_yaml() for n in names if n in drafts)


def publish() -> bool:
    """Whether publish mode is on (the sidebar switch)."""
    return bool(st.session_state.get("publish", False))


def current() -> tuple[str, tuple]:
    """(path, signature) of the data in use."""
    path = st.session_state.get("data_path", "")
    return path, signature(path)


@st.cache_resource(max_entries=8, show_spinner="Auditing preferences…")
def preference_audit(path: str, sig: tuple) -> pd.DataFrame:
    """The baseline's preference audit (re-solves per preference: cached)."""
    return optimiser.preference_audit(dataset(path, sig), allocation(path, sig))
