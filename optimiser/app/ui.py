"""Pieces every page uses: the mode banner, KPI cards, labelled tables, problem lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import pandas as pd
import streamlit as st

from optimiser.reports.labels import column_label, format_value, kpi_label

#: The headline cards, in reading order.
HEADLINE = (
    "total_cost_gbp",
    "place_cost_gbp",
    "transport_cost_gbp",
    "unplaced_cost_gbp",
    "inmss_children",
    "inmss_share",
    "unplaced_children",
    "mean_travel_min",
)
WITHHELD = "c"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """``text`` with Markdown's special characters escaped: a school or option name full of
    ``**``, ``[link](…)``, ``![img](…)`` or ``<tags>`` shows as typed, never as markup."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def banner(publish: bool) -> None:
    """The mode, on every page: what may be shown and shared."""
    if publish:
        st.success(
            "**Publish mode**: disclosure-controlled figures only (small counts shown as "
            "'c', no child-level rows or points). Safe for members and committee papers.",
            icon="🔒",
        )
    else:
        st.warning(
            "**Working mode**: child-level detail (pseudonymous ids, homes on the map). "
            "For the planning team only; switch to publish mode before sharing a screen.",
            icon="⚠️",
        )


def value_text(key: str, value: object, *, delta: bool = False) -> str:
    """A KPI value as shown: formatted by its unit, or 'c (withheld)'."""
    if isinstance(value, str):
        return f"{value} (withheld)" if value == WITHHELD else value
    if value is None:
        return "n/a"
    number = float(value)  # type: ignore[arg-type]
    if number != number:  # NaN: undefined (e.g. a share of nobody)
        return "n/a"
    return format_value(key, number, delta=delta)


def kpi_cards(
    values: dict[str, object],
    deltas: dict[str, object] | None = None,
    keys: Sequence[str] = HEADLINE,
) -> None:
    """A row of metric cards (four a row); deltas shown under each when given.

    A lower cost, fewer INMSS or unplaced children and shorter journeys show green.
    """
    shown = [k for k in keys if k in values]
    for start in range(0, len(shown), 4):
        cols = st.columns(4)
        for col, key in zip(cols, shown[start : start + 4], strict=False):
            delta = None if deltas is None else deltas.get(key)
            delta_text: str | None = None
            arrow: Literal["auto", "off"] = "auto"
            if delta is not None and not (isinstance(delta, float) and pd.isna(delta)):
                delta_text = value_text(key, delta, delta=True)
                if not isinstance(delta, str) and float(delta) == 0:  # type: ignore[arg-type]
                    arrow = "off"  # no change: no arrow, no colour
                if delta == WITHHELD:
                    arrow = "off"
            col.metric(
                kpi_label(key),
                value_text(key, values[key]),
                delta=delta_text,
                delta_color="off" if arrow == "off" else "inverse",
                delta_arrow=arrow,
            )


def summary_values(summary: pd.DataFrame) -> dict[str, object]:
    """kpi → value from a workbook Summary table (numbers, or 'c' when withheld)."""
    return dict(zip(summary["kpi"], summary["value"], strict=True))


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with plain-English column names (as in the workbook)."""
    return frame.rename(columns={c: column_label(str(c)) for c in frame.columns})


def table(frame: pd.DataFrame | None, *, empty: str = "Nothing to show.") -> None:
    """A labelled table, every row (never cut), or a sentence when it is empty."""
    if frame is None or frame.empty:
        st.caption(empty)
        return
    st.dataframe(labelled(frame), hide_index=True, width="stretch")


def problems(items: Sequence[object], *, title: str) -> None:
    """Every problem: file, row, column, what was found and expected, and the fix."""
    st.error(f"{plain(title)}: {len(items)} problem{'s' if len(items) != 1 else ''}")
    st.dataframe(problem_table(items), hide_index=True, width="stretch")


def problem_table(items: Sequence[object]) -> pd.DataFrame:
    """Problems as a table: file, row, column, found, expected, fix."""
    cols = ["file", "row", "column", "found", "expected", "fix"]
    out = pd.DataFrame([[getattr(p, c, "") for c in cols] for p in items], columns=cols)
    out["row"] = out["row"].astype("Int64")
    return out


def comparison_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A Comparison table (measure, baseline, options, changes) as text, each by its unit."""
    out = pd.DataFrame({"Measure": [kpi_label(k) for k in frame["measure"]]})
    for col in frame.columns.drop("measure"):
        delta = str(col).startswith("change: ")
        out[str(col)] = [
            value_text(k, v, delta=delta) for k, v in zip(frame["measure"], frame[col], strict=True)
        ]
    return out
