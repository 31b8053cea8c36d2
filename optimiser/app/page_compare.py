"""Compare page: options side by side, their deltas, who moves and why, the preference audit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import optimiser
from optimiser._errors import DataValidationError, OptimiserError
from optimiser.app import state, ui
from optimiser.app.page_baseline import MAP_HEIGHT
from optimiser.reports.labels import kpi_label

VIEWS = ("Every measure", "Chart", "Map", "Who moves", "Why (explain)", "Preferences")
CHART_KPIS = ("total_cost_gbp", "place_cost_gbp", "transport_cost_gbp", "unplaced_cost_gbp")


def render() -> None:
    """Draw the page."""
    st.header("Compare")
    path, sig = state.current()
    drafts = state.options()
    usable = [n for n, d in drafts.items() if d.changes]
    if not usable:
        st.info("Build an option on the Options page (or send a siting plan here) first.")
        return
    chosen = st.multiselect("Options", usable, default=st.session_state.get("compare", usable))
    st.session_state["compare"] = chosen
    if not chosen:
        return
    yamls = state.option_yamls(chosen)
    publish = state.publish()
    try:
        tables = state.tables(path, sig, publish, yamls)
        cmp = state.comparison(path, sig, yamls)
    except DataValidationError as exc:
        ui.problems(exc.problems or [exc], title="The options cannot be compared")
        return
    table = tables.comparison
    assert table is not None  # options were given
    _headline(table, chosen)
    # one view at a time (not tabs): a map in a hidden tab has no size to fit itself to,
    # and a view not shown is not computed
    view = st.radio("View", VIEWS, horizontal=True, key="compare_view")
    if view == "Every measure":
        st.dataframe(ui.comparison_text(table), hide_index=True, width="stretch")
    elif view == "Chart":
        _chart(table, chosen)
    elif view == "Map":
        st.iframe(state.map_page(path, sig, publish, yamls), height=MAP_HEIGHT)
        st.caption("Each option's change by ward is a layer (top right).")
    elif view == "Who moves":
        _moves(cmp.moves, publish)
    elif view == "Why (explain)":
        _explain(path, sig, chosen, publish)
    else:
        _audit(path, sig, publish)


def _headline(table: pd.DataFrame, chosen: list[str]) -> None:
    for name in chosen:
        st.markdown(f"**{ui.plain(name)}** against the baseline")
        values = dict(zip(table["measure"], table[name], strict=True))
        deltas = dict(zip(table["measure"], table[f"change: {name}"], strict=True))
        ui.kpi_cards(values, deltas, keys=(*ui.HEADLINE, "capital_cost_gbp"))


def _chart(table: pd.DataFrame, chosen: list[str]) -> None:
    rows = table[table["measure"].isin(CHART_KPIS)].set_index("measure")
    data = rows[["baseline", *chosen]].apply(pd.to_numeric, errors="coerce")
    withheld = data.isna().any(axis=1)
    data = data[~withheld]
    data.index = [kpi_label(k) for k in data.index]
    if not data.empty:
        st.caption("Cost a year [£] by option")
        st.bar_chart(data.T, stack=False)
    if withheld.any():
        st.caption(
            "Withheld in publish mode (a count behind it is suppressed): "
            + ", ".join(kpi_label(k) for k in withheld[withheld].index)
        )


def _moves(moves: pd.DataFrame, publish: bool) -> None:
    st.caption("Who changes setting type in each option, with the change in cost.")
    if publish:
        st.info("Shown in working mode only: the moves table counts small groups of children.")
        return
    ui.table(moves, empty="Nobody moves.")


def _explain(path: str, sig: tuple, chosen: list[str], publish: bool) -> None:
    if publish:
        st.info("Explanations are about one child: working mode only.")
        return
    ds = state.dataset(path, sig)
    option = st.selectbox("In", ["baseline", *chosen], key="explain_in")
    text = state.option_yamls([option])[0] if option != "baseline" else ""
    res = state.allocation(path, sig, text)
    ids = sorted(set(res.placements["child_id"]) | set(res.unplaced["child_id"]))
    unplaced = set(res.unplaced["child_id"])
    child = st.selectbox(
        "Child (pseudonymous id; unplaced first)",
        sorted(ids, key=lambda c: (c not in unplaced, c)),
        key="explain_child",
    )
    if not child:
        return
    scenario = state.scenario_of(text) if text else None
    try:
        why = optimiser.explain(ds, child, scenario)
    except (OptimiserError, KeyError, ValueError) as exc:
        st.error(str(exc))
        return
    for sentence in why.attrs.get("summary", []):
        st.write(sentence)
    ui.table(why)


def _audit(path: str, sig: tuple, publish: bool) -> None:
    if publish:
        st.info("The preference audit lists children: working mode only.")
        return
    audit = state.preference_audit(path, sig)
    st.caption("Every ranked preference above a child's placement, its cost and the verdict.")
    ui.table(audit, empty="Every child with ranked preferences has their first.")
