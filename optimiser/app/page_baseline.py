"""Baseline page: headline KPIs, sufficiency, INMSS reliance, transport, the map, the unplaced."""

from __future__ import annotations

import streamlit as st

from optimiser.app import state, ui

MAP_HEIGHT = 640


def render() -> None:
    """Draw the page."""
    st.header("Baseline")
    path, sig = state.current()
    publish = state.publish()
    tables = state.tables(path, sig, publish)
    st.caption(
        "The allocation of today's children to today's places at least total cost, "
        "checked independently. Total cost = place + transport + the cost of each child "
        "left without a suitable place."
    )
    ui.kpi_cards(ui.summary_values(tables.summary))
    tabs = st.tabs(
        ["Map", "Sufficiency", "INMSS reliance", "Transport", "Unplaced", "All measures"]
    )
    with tabs[0]:
        st.iframe(state.map_page(path, sig, publish), height=MAP_HEIGHT)
        st.caption("The same map as `optimiser map` (layers: top right).")
    with tabs[1]:
        st.caption("Demand, places, placed and shortfall by package × phase.")
        ui.table(tables.sufficiency)
    with tabs[2]:
        st.caption("Children in independent and non-maintained special schools, by setting.")
        ui.table(tables.inmss, empty="No child is placed in an INMSS setting.")
    with tabs[3]:
        st.caption("Home-to-school transport by setting type.")
        ui.table(tables.transport)
    with tabs[4]:
        st.caption("Children without a suitable place, by package and reason.")
        ui.table(tables.unplaced, empty="Every child is placed.")
    with tabs[5]:
        ui.table(tables.summary.drop(columns="kpi"))
