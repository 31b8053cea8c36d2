"""Benchmark: how fast the planner's app answers, on the default data.

Targets (issue: the planner's app): from a warm process (Python, Streamlit, OR-Tools
imported; nothing cached) the first page renders in < 5 s, and an option change
re-solves and redraws in < 1.5 s.

Measured with Streamlit's AppTest, which runs the page script exactly as the server
does (every solve, table and map the page draws), without the browser's own
drawing (Leaflet draws the option map in tens of milliseconds). Each option change is
a change not seen before (so nothing is cached): places of one package at one setting.
Alongside, in the same run, the bare ``optimiser.allocate`` of the same option, so the
app's overhead over the solve is a ratio.

Run::

    python benchmarks/bench_app.py            # writes benchmarks/results/app.md
    python benchmarks/bench_app.py --out /tmp/app.md --changes 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

import optimiser
from optimiser.app import draft as drafts
from optimiser.app import page_compare, page_data, page_options  # noqa: F401  (warm process)
from optimiser.cli.webapp import script_path

FIRST_PAGE_S = 5.0
OPTION_CHANGE_S = 1.5
RESULTS = Path(__file__).resolve().parent / "results"


def _run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(at.exception)
    return time.perf_counter() - t


def measure(n_changes: int = 6) -> dict[str, object]:
    """Time the first page, the Baseline page and ``n_changes`` option changes."""
    st.cache_resource.clear()
    os.environ.pop("OPTIMISER_APP_DIR", None)
    at = AppTest.from_file(str(script_path()), default_timeout=600)
    first = _run(at)  # the Data page: load, validate, baseline allocation, calibration
    at.sidebar.radio(key="page").set_value("Baseline")
    baseline = _run(at)  # KPIs, tables and the full map
    ds = optimiser.load_default()
    settings = ds.places.drop_duplicates("setting_id").head(n_changes)
    option = drafts.OptionDraft("Bench")
    at.session_state["options"] = {"Bench": option}
    at.session_state["option"] = "Bench"
    at.sidebar.radio(key="page").set_value("Options")
    _run(at)
    app_s, solve_s = [], []
    for row in settings.itertuples():
        change = drafts.set_places(str(row.setting_id), str(row.package_id), int(row.places) + 4)
        option = option.with_change(change)
        at.session_state["options"] = {"Bench": option}
        app_s.append(_run(at))
        t = time.perf_counter()
        optimiser.allocate(ds, option.scenario())
        solve_s.append(time.perf_counter() - t)
    return {
        "first_page_s": first,
        "baseline_page_s": baseline,
        "option_change_s": app_s,
        "allocate_s": solve_s,
        "option_change_median_s": statistics.median(app_s),
        "allocate_median_s": statistics.median(solve_s),
    }


def report(m: dict[str, object], command: str) -> str:
    """The results as Markdown."""
    load = os.getloadavg()[0]
    med, solve, first = m["option_change_median_s"], m["allocate_median_s"], m["first_page_s"]
    assert isinstance(med, float) and isinstance(solve, float) and isinstance(first, float)
    changes = ", ".join(f"{x:.2f}" for x in m["option_change_s"])  # type: ignore[attr-defined]
    ok = lambda v, t: "met" if v < t else "NOT met"  # noqa: E731
    return "\n".join(
        [
            "# App speed benchmark",
            "",
            f"{time.strftime('%Y-%m-%d')} · {platform.platform()} · Python "
            f"{platform.python_version()} · {os.cpu_count()} CPUs · load {load:.1f} · `{command}`",
            "",
            "| measure | seconds | target | |",
            "|---|---:|---:|---|",
            "| first page (Data: load, validate, solve, calibration), warm process | "
            f"{first:.2f} | < {FIRST_PAGE_S:g} | {ok(first, FIRST_PAGE_S)} |",
            f"| Baseline page (KPIs, tables, full map) | {m['baseline_page_s']:.2f} | | |",
            f"| option change: re-solve and redraw (median of {len(m['option_change_s'])}) | "  # type: ignore[arg-type]
            f"{med:.2f} | < {OPTION_CHANGE_S:g} | {ok(med, OPTION_CHANGE_S)} |",
            f"| bare `optimiser.allocate` of the same option (median) | {solve:.2f} | | |",
            f"| app ÷ bare allocate | {med / solve:.2f} | | |",
            "",
            f"Each option change [s]: {changes}.",
            "",
        ]
    )


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=RESULTS / "app.md")
    ap.add_argument("--changes", type=int, default=6)
    args = ap.parse_args()
    m = measure(args.changes)
    text = report(m, "python benchmarks/bench_app.py")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
