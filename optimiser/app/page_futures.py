"""Futures page: bands of demand, cost and INMSS across seeded demand futures."""

from __future__ import annotations

import streamlit as st

import optimiser
from optimiser.app import state


def render() -> None:
    """Draw the page."""
    st.header("Futures")
    run = getattr(optimiser, "futures", None)
    if run is None:
        st.info("Demand futures are not in this version of optimiser.")
        return
    path, sig = state.current()
    st.write(run, path, sig)
