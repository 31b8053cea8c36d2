"""Futures page: bands of demand, cost and INMSS across seeded demand futures.

Runs :func:`optimiser.futures` (serially, on a local Dask cluster, or on a scheduler's
address: the same tables either way) for the baseline and the chosen options, then shows
each option's expected cost, the chance it beats the baseline, its regret, and P10-P50-P90
bands by year. Publish mode: child counts rounded to 5 (1-7 withheld), £ to the nearest
£100: the futures are projections, but year 0 is today's children.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

import optimiser
from optimiser._errors import OptimiserError
from optimiser.app import state, ui
from optimiser.disclosure import publish_count, round_gbp
from optimiser.reports.futures import write_futures
from optimiser.scenarios.futures.result import FuturesResult

MEASURES = {
    "total_cost_gbp": "Total cost a year [£] (place + transport + unplaced)",
    "demand_children": "Children with an SPP",
    "inmss_children": "Children in INMSS",
    "unplaced_children": "Children without a suitable place",
    "shortfall_children": "Shortfall of places (children)",
}
QUANTILES = ("p10", "p50", "p90", "mean")


def run(
    path: str,
    sig: tuple,
    option_yamls: tuple[str, ...],
    n: int,
    seed: int,
    years: int,
    how: str,
    progress: Callable[[int], None] | None = None,
) -> FuturesResult:
    """The futures, kept for the session (the scheduler changes where they run, not the result).

    Not an ``st.cache_resource``: the progress bar it updates lives on the page.
    """
    kept = st.session_state.setdefault("futures_results", {})
    key = (path, sig, option_yamls, n, seed, years)
    if key in kept:
        return kept[key]
    ds = state.dataset(path, sig)
    scenarios = [state.scenario_of(t) for t in option_yamls]
    kept[key] = optimiser.futures(
        ds, scenarios, n=n, seed=seed, years=years, scheduler=how or None, progress=progress
    )
    return kept[key]


def published(frame: pd.DataFrame, columns: tuple[str, ...], measure: pd.Series) -> pd.DataFrame:
    """Counts rounded to 5 (1-7 withheld) and £ to the nearest £100, by each row's measure."""
    out = frame.copy()
    money = measure.str.endswith("_gbp")
    for col in columns:
        out[col] = [
            round_gbp(v) if m else publish_count(v) for v, m in zip(frame[col], money, strict=True)
        ]
    return out


def render() -> None:
    """Draw the page."""
    st.header("Futures")
    path, sig = state.current()
    publish = state.publish()
    drafts = state.options()
    usable = [n for n, d in drafts.items() if d.changes]
    c1, c2, c3, c4 = st.columns(4)
    n = int(c1.number_input("Futures", 8, 5_000, 100, 50))
    years = int(c2.number_input("Years ahead", 1, 15, 5))
    seed = int(c3.number_input("Seed", 0, 10**9, 1))
    how = c4.text_input(
        "Run on",
        "",
        help="blank: a local Dask cluster from 64 futures (else one process); "
        "'serial'; or a Dask scheduler's address, e.g. tcp://10.0.0.5:8786",
    ).strip()
    chosen = st.multiselect("Options", usable, default=usable)
    yamls = state.option_yamls(chosen)
    key = (yamls, n, seed, years)
    if st.button("Run the futures", type="primary"):
        st.session_state["futures_key"] = key
    if st.session_state.get("futures_key") != key:
        st.caption(
            "Each future draws demand growth by package from the LA's own SEN2 history, "
            "need-mix drift, INMSS fee inflation and places lost or opened late "
            "(docs/futures.md), then allocates every year for the baseline and each option."
        )
        return
    bar = st.progress(0.0, text=f"Rolling {n} futures forward…")

    def progress(done: int) -> None:
        bar.progress(min(done / n, 1.0), text=f"{done} of {n} futures done")

    try:
        res = run(path, sig, yamls, n, seed, years, how, progress)
    except (OptimiserError, ValueError, OSError) as exc:
        st.error(str(exc))
        return
    finally:
        bar.empty()
    _decisions(res, publish)
    _bands(res, publish)
    _download(res, publish)


def _decisions(res: FuturesResult, publish: bool) -> None:
    st.subheader("Which option holds up")
    table = res.decisions.copy()
    if publish:
        money = [c for c in table.columns if c.endswith("_gbp")]
        for c in money:
            table[c] = [round_gbp(v) for v in table[c]]
        table = table.drop(columns=[c for c in table.columns if "child" in c])
    ui.table(table)
    st.caption(
        "Expected cost over the horizon; the share of futures in which the option costs less "
        "than the baseline; regret = the option's cost minus the cheapest option's in the "
        "same future."
    )


def _bands(res: FuturesResult, publish: bool) -> None:
    st.subheader("Bands by year (P10-P90, line at P50)")
    measure = st.selectbox("Measure", list(MEASURES), format_func=lambda k: MEASURES[k])
    packages = ["all", *sorted(p for p in res.bands["package_id"].unique() if p != "all")]
    package = st.selectbox("Package", packages)
    b = res.bands[(res.bands["measure"] == measure) & (res.bands["package_id"] == package)]
    base = alt.Chart(b).encode(x=alt.X("year:O", title="year"), color="option:N")
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("p10:Q", title=MEASURES[measure]), y2="p90")
    st.altair_chart(band + base.mark_line().encode(y="p50:Q"), width="stretch")
    shown = b[["option", "year", *QUANTILES]]
    if publish:
        shown = published(shown, QUANTILES, pd.Series(measure, index=shown.index))
    ui.table(shown)


def _download(res: FuturesResult, publish: bool) -> None:
    if publish:
        st.caption("The futures workbook holds unrounded figures: working mode only.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = write_futures(res, Path(tmp) / "futures.xlsx").read_bytes()
    st.download_button(
        "Download the futures workbook (bands, decisions, charts)",
        data,
        "optimiser-futures.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
