"""The app's script (``streamlit run``): the sidebar, the mode switch, and the chosen page.

``optimiser app [DIR]`` runs it; every page is a module ``page_<name>`` with a
``render()``; what is slow is cached in :mod:`optimiser.app.state`.
"""

from __future__ import annotations

import streamlit as st

from optimiser import __version__
from optimiser._errors import DataValidationError, OptimiserError
from optimiser.app import (
    page_baseline,
    page_compare,
    page_data,
    page_export,
    page_futures,
    page_options,
    page_siting,
    state,
    ui,
)

PAGES = {
    "Data": page_data.render,
    "Baseline": page_baseline.render,
    "Options": page_options.render,
    "Compare": page_compare.render,
    "Siting": page_siting.render,
    "Futures": page_futures.render,
    "Export": page_export.render,
}


def main() -> None:
    """Draw the sidebar and the page chosen in it."""
    st.set_page_config(page_title="optimiser: SEND place planning", page_icon="🧭", layout="wide")
    if "data_path" not in st.session_state:
        st.session_state["data_path"] = state.initial_path()
    with st.sidebar:
        st.title("optimiser")
        st.caption(f"SEND place planning · v{__version__}")
        page = st.radio("Page", list(PAGES), key="page")
        st.toggle(
            "Publish mode",
            key="publish",
            help="Disclosure-controlled figures only: small counts suppressed, nothing "
            "child-level. Use it before sharing a screen or a file.",
        )
        path, _ = state.current()
        st.caption(f"Data: {ui.plain(state.source_label(path))}")
        n = len([d for d in state.options().values() if d.changes])
        st.caption(f"Options built: {n}")
    mode = "publish" if state.publish() else "working"
    # keyed by page and mode: a switch replaces the page at once (no faded figures of the
    # other mode or page left on screen while the new one is computed)
    with st.container(key=f"page-{page}-{mode}"):
        ui.banner(state.publish())
        if page != "Data":
            try:
                state.dataset(*state.current())
            except (DataValidationError, OptimiserError, OSError):
                st.error("The data cannot be used: open the Data page for every problem.")
                return
        PAGES[page]()


main()
