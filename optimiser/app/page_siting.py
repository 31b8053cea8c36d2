"""Siting page: the budget, the plan, the budget curve, the sites on the map, send to Compare."""

from __future__ import annotations

import streamlit as st

from optimiser._errors import OptimiserError
from optimiser.app import state, ui
from optimiser.app.draft import OptionDraft, base_setting
from optimiser.app.page_baseline import MAP_HEIGHT
from optimiser.siting.plan import SitingResult

#: Columns that count children: working mode only (a small count could single one out).
CHILD_COUNTS = ("modelled_children", "children_served")
SITE_COLUMNS = (
    "rank",
    "name",
    "package_id",
    "places",
    "capital_cost_gbp",
    "annual_saving_gbp",
    "marginal_saving_gbp",
    *CHILD_COUNTS,
)


def render() -> None:
    """Draw the page."""
    st.header("Siting new inclusion bases")
    path, sig = state.current()
    publish = state.publish()
    c1, c2 = st.columns([3, 1])
    budget = c1.slider("Capital budget [£]", 0, 10_000_000, 1_500_000, 100_000)
    limit = c2.number_input("Solver time limit [s]", 5, 600, 30)
    if st.button("Choose sites", type="primary"):
        st.session_state["siting_key"] = (float(budget), float(limit))
    key = st.session_state.get("siting_key")
    if key is None:
        st.caption("Choose a budget and press Choose sites (about 10-30 s on the default data).")
        return
    try:
        plan = state.siting(path, sig, *key)
    except (OptimiserError, ValueError) as exc:
        st.error(str(exc))
        return
    _plan(plan, publish)
    tabs = st.tabs(["Map", "Budget curve"])
    with tabs[0]:
        st.iframe(state.map_page(path, sig, publish, siting_key=key), height=MAP_HEIGHT)
    with tabs[1]:
        _curve(path, sig, key, publish)
    if plan.sites.empty:
        return
    name = st.text_input("Send to Compare as", f"Siting plan £{key[0]:,.0f}")
    if st.button("Send to Compare"):
        drafts = state.options()
        if name in drafts or name == "baseline":
            st.error(f"{ui.plain(repr(name))} is taken; give the plan a name of its own.")
        else:
            drafts[name] = plan_option(plan, name)
            st.session_state["option"] = name
            st.success(f"{ui.plain(name)} is on the Options and Compare pages.")


def _plan(plan: SitingResult, publish: bool) -> None:
    st.subheader(f"{len(plan.sites)} bases, £{plan.capital_cost_gbp:,.0f} capital")
    cols = st.columns(4)
    cols[0].metric("Saving a year (confirmed)", f"£{plan.annual_saving_gbp:,.0f}")
    cols[1].metric("Capital used", f"£{plan.capital_cost_gbp:,.0f}")
    cols[2].metric("Solver", f"{plan.status} (gap {plan.gap:.2%})")
    if not publish:
        cols[3].metric("INMSS places avoided", f"{plan.inmss_places_avoided:,}")
    for note in plan.notes:
        st.caption(note)
    shown = [c for c in SITE_COLUMNS if c in plan.sites and not (publish and c in CHILD_COUNTS)]
    ui.table(plan.sites[shown], empty="No base pays for itself within this budget.")


def _curve(path: str, sig: tuple, key: tuple, publish: bool) -> None:
    budget, limit = key
    steps = tuple(float(b) for b in sorted({budget * f for f in (0.25, 0.5, 1.0, 1.5, 2.0)}))
    if st.button("Draw the budget curve (one plan per budget)"):
        st.session_state["curve"] = (steps, limit)
    if "curve" not in st.session_state:
        return
    curve = state.budget_curve(path, sig, *st.session_state["curve"])
    st.line_chart(curve.set_index("capital_cost_gbp")[["annual_saving_gbp"]])
    cols = ["budget_gbp", "capital_cost_gbp", "sites", "places", "annual_saving_gbp", "status"]
    if not publish:
        cols.insert(5, "inmss_places_avoided")
    ui.table(curve[[c for c in cols if c in curve]])


def plan_option(plan: SitingResult, name: str) -> OptionDraft:
    """The plan as an option: one ``add_setting`` per chosen base."""
    changes = []
    for row in plan.sites.to_dict("records"):
        body = base_setting(
            str(row["setting_id"]),
            f"{row['name']} inclusion base",
            row,
            {str(row["package_id"]): int(row["places"])},
            capital_cost_gbp=float(row["capital_cost_gbp"]),
        )
        changes.append({"add_setting": body})
    return OptionDraft(
        name=name,
        description=f"Sites chosen by optimiser site within £{plan.budget_gbp:,.0f}",
        changes=tuple(changes),
    )
