"""Export page: the planner's workbook and the members' pack, with the publish rules shown."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from optimiser._errors import OptimiserError
from optimiser.app import state
from optimiser.disclosure import ROUND_TO, SMALL_MAX
from optimiser.maps.pack import write_pack
from optimiser.reports.workbook import write_workbook

RULES = f"""
Every figure in publish mode passes the disclosure rules (`docs/disclosure.md`):

- a count of 1-{SMALL_MAX} children is suppressed and shown as **c**;
- every other count is rounded to the nearest {ROUND_TO};
- a share, mean or £ per child is withheld when the count behind it is 1-{SMALL_MAX};
- totals are sums of their published parts, and a total that would let a reader
  subtract back to a suppressed cell is suppressed too (secondary suppression, audited);
- changes between options are computed from the published figures;
- no child-level row, id, home point or postcode appears.
"""


@st.cache_resource(max_entries=8, show_spinner="Writing the workbook…")
def workbook_bytes(
    path: str, sig: tuple, option_yamls: tuple[str, ...], publish: bool, years: int
) -> bytes:
    """The workbook, as the bytes of an .xlsx file."""
    ds = state.dataset(path, sig)
    scenarios = [state.scenario_of(t) for t in option_yamls]
    with tempfile.TemporaryDirectory() as tmp:
        out = write_workbook(
            ds, Path(tmp) / "optimiser.xlsx", scenarios=scenarios, years=years, publish=publish
        )
        return out.read_bytes()


@st.cache_resource(max_entries=8, show_spinner="Writing the members' pack…")
def pack_bytes(path: str, sig: tuple, option_yamls: tuple[str, ...]) -> bytes:
    """The members' pack (map.html + summary.html, always publish mode), zipped."""
    ds = state.dataset(path, sig)
    res = state.allocation(path, sig)
    cmp = state.comparison(path, sig, option_yamls) if option_yamls else None
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_pack(ds, res, Path(tmp) / "pack", compare=cmp)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f.name)
    return buf.getvalue()


def render() -> None:
    """Draw the page."""
    st.header("Export")
    path, sig = state.current()
    publish = state.publish()
    drafts = state.options()
    usable = [n for n, d in drafts.items() if d.changes]
    chosen = st.multiselect("Options to include", usable, default=usable)
    yamls = state.option_yamls(chosen)
    years = st.number_input("Horizon years in the workbook", 1, 15, 5)
    st.subheader(f"Workbook ({'publish' if publish else 'working'} mode)")
    if not publish:
        st.caption(
            "Working mode holds child-level rows (Placements): for the planning team only. "
            "Switch publish mode on (sidebar) for a workbook you can share."
        )
    if st.button("Build the workbook"):
        st.session_state["workbook"] = (yamls, publish, int(years))
    if st.session_state.get("workbook") == (yamls, publish, int(years)):
        try:
            data = workbook_bytes(path, sig, yamls, publish, int(years))
        except (OptimiserError, OSError) as exc:
            st.error(str(exc))
        else:
            mode = "publish" if publish else "working"
            st.download_button(
                f"Download the {mode} workbook",
                data,
                f"optimiser-{mode}.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
    st.subheader("Members' pack (always publish mode)")
    st.caption("A map and a one-page summary for elected members: no child can be identified.")
    if st.button("Build the members' pack"):
        st.session_state["pack"] = yamls
    if st.session_state.get("pack") == yamls:
        try:
            data = pack_bytes(path, sig, yamls)
        except (OptimiserError, OSError) as exc:
            st.error(str(exc))
        else:
            st.download_button(
                "Download the pack (zip)", data, "members-pack.zip", "application/zip"
            )
    st.subheader("The publish rules")
    st.markdown(RULES)
