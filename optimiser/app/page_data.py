"""Data page: open a folder or workbook, or build an LA; every problem; calibration; templates."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

import optimiser
from optimiser._errors import DataValidationError, OptimiserError
from optimiser.app import state, ui
from optimiser.dataset.model import Dataset
from optimiser.dataset.template import write_template


def render() -> None:
    """Draw the page."""
    st.header("Data")
    path, sig = state.current()
    st.markdown(f"In use: **{ui.plain(state.source_label(path))}**")
    _open_form(path)
    _init_form()
    try:
        ds = state.dataset(path, sig)
    except DataValidationError as exc:
        ui.problems(exc.problems or [exc], title=f"{state.source_label(path)} cannot be used")
        return
    except (OptimiserError, OSError) as exc:
        st.error(str(exc))
        return
    _summary(ds)
    _validation(ds)
    _calibration(path, sig)
    _templates()


def _open_form(path: str) -> None:
    with st.form("open"):
        new = st.text_input(
            "Dataset folder or .xlsx workbook (blank: the embedded default data)",
            value=path,
            help="A folder of CSV files (settings.csv, children.csv, …) or one workbook.",
        )
        if st.form_submit_button("Open"):
            new = new.strip()
            if new and not Path(new).exists():
                st.error(
                    f"{ui.plain(new)} does not exist; give the folder or workbook's full path."
                )
            else:
                st.session_state["data_path"] = new
                st.rerun()


def _init_form() -> None:
    with st.expander("Build a dataset for any English LA from national open data (init)"):
        with st.form("init"):
            la = st.text_input("LA: DfE code (356), ONS code (E08000007) or name (Stockport)")
            out = st.text_input("Folder to create (must not exist)")
            if st.form_submit_button("Build"):
                try:
                    with st.spinner(f"Building {la} from national open data…"):
                        built = optimiser.init_la(la.strip(), out.strip())
                except (OptimiserError, FileExistsError, OSError, ValueError) as exc:
                    st.error(str(exc))
                else:
                    st.session_state["data_path"] = str(built)
                    st.rerun()


def _summary(ds: Dataset) -> None:
    cols = st.columns(4)
    cols[0].metric("Children with an SPP", f"{len(ds.children):,}")
    cols[1].metric("Settings", f"{len(ds.settings):,}")
    cols[2].metric("Places offered", f"{int(ds.places['places'].sum()):,}")
    n_cand = 0 if ds.candidates is None else len(ds.candidates)
    cols[3].metric("Candidate sites for a base", f"{n_cand:,}")


def _validation(ds: Dataset) -> None:
    st.subheader("Validation")
    try:
        optimiser.validate(ds)
    except DataValidationError as exc:
        ui.problems(exc.problems or [exc], title="The data breaks the format")
        return
    st.success("Every file passes validation: no problems found.")


def _calibration(path: str, sig: tuple) -> None:
    st.subheader("The baseline beside the LA's SEN2 return")
    try:  # the workbook's Calibration sheet (cached, shared with the Baseline page)
        table = state.tables(path, sig, state.publish()).calibration
    except (OptimiserError, ValueError, KeyError) as exc:
        st.info(f"No calibration for this data: {exc}")
        return
    ui.table(table, empty="No SEN2 figures for this LA (the policy names no la_code).")


def template_zip() -> bytes:
    """``optimiser template``'s files, zipped: headed CSVs, the commented workbook, README."""
    buf = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as tmp,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        for f in write_template(Path(tmp) / "template"):
            zf.write(f, f.name)
    return buf.getvalue()


def _templates() -> None:
    st.subheader("Templates")
    st.download_button(
        "Download the templates (zip): headed CSVs and a workbook with every column described",
        data=template_zip(),
        file_name="optimiser-templates.zip",
        mime="application/zip",
    )
