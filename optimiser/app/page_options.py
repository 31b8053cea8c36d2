"""Options page: build an option by clicking and typing (no YAML), see its KPIs and map.

Click a candidate site on the map to add an inclusion base there, or a setting to change
its places or close it; cap INMSS fees, change journey caps or demand. Each change is
checked against the data as it is added (a change the data cannot take is refused with
the problems). Save writes the scenario YAML that ``optimiser compare`` reads; Load reads
one back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from optimiser._errors import DataValidationError, OptimiserError
from optimiser.app import state, ui
from optimiser.app.draft import (
    OptionDraft,
    add_base,
    cap_fees,
    close_setting,
    demand_growth,
    journey_caps,
    set_places,
)
from optimiser.app.picker import pick, picker_points
from optimiser.dataset.model import Dataset

KINDS = (
    "Add an inclusion base",
    "Change places at a setting",
    "Close a setting",
    "Cap INMSS fees",
    "Journey caps",
    "Demand growth",
)


def render() -> None:
    """Draw the page."""
    st.header("Options")
    path, sig = state.current()
    ds = state.dataset(path, sig)
    draft = _choose_option()
    if draft is None:
        st.info("Name a new option (or load a saved one) to start.")
        return
    text = draft.to_yaml()
    try:
        option_ds = state.option_data(path, sig, text) if draft.changes else ds
    except DataValidationError as exc:
        ui.problems(exc.problems or [exc], title=f"{draft.name} cannot be applied")
        _change_list(draft)
        return
    res = state.allocation(path, sig, text) if draft.changes else state.allocation(path, sig)
    left, right = st.columns([3, 2])
    with left:
        points = picker_points(
            option_ds,
            res,
            base=ds,
            selected=st.session_state.get("picked_id"),
            publish=state.publish(),
        )
        clicked = pick(points, key=f"picker-{draft.name}")
        _take_click(clicked)
    with right:
        _editor(ds, draft)
    _change_list(draft)
    _results(path, sig, draft)


def _choose_option() -> OptionDraft | None:
    drafts = state.options()
    names = list(drafts)
    c1, c2, c3 = st.columns([2, 2, 2])
    with c1:
        if names:
            current = st.session_state.get("option")
            index = names.index(current) if current in names else len(names) - 1
            st.session_state["option"] = st.selectbox("Option", names, index=index)
    with c2, st.form("new-option", clear_on_submit=True):
        name = st.text_input("New option's name", placeholder="e.g. Autism base at Stretford")
        if st.form_submit_button("Create") and name.strip():
            name = name.strip()
            if name == "baseline" or name in drafts:
                st.error(f"{ui.plain(repr(name))} is taken; give the option a name of its own.")
            else:
                drafts[name] = OptionDraft(name=name)
                st.session_state["option"] = name
                st.rerun()
    with c3:
        up = st.file_uploader("Load a saved option (scenario YAML)", type=["yaml", "yml"])
        if up is not None and st.session_state.get("loaded") != (up.name, up.size):
            st.session_state["loaded"] = (up.name, up.size)
            try:
                loaded = OptionDraft.from_yaml(up.getvalue().decode("utf-8"), source=up.name)
            except (DataValidationError, UnicodeDecodeError) as exc:
                ui.problems(getattr(exc, "problems", None) or [exc], title=f"{up.name}")
            else:
                drafts[loaded.name] = loaded
                st.session_state["option"] = loaded.name
                st.rerun()
    chosen = st.session_state.get("option")
    return drafts.get(chosen) if chosen else None


def _take_click(clicked: dict | None) -> None:
    if not clicked or st.session_state.get("last_click") == clicked:
        return
    st.session_state["last_click"] = clicked
    st.session_state["picked_id"] = clicked["id"]
    if clicked["kind"] == "candidate":
        st.session_state["change_kind"] = KINDS[0]
        st.session_state["base_site"] = clicked["id"]
    else:
        st.session_state["change_kind"] = KINDS[1]
        st.session_state["places_setting"] = clicked["id"]
    st.rerun()


def _add(draft: OptionDraft, change: dict) -> None:
    """Append a change if the data takes it, else show why."""
    path, sig = state.current()
    new = draft.with_change(change)
    try:
        state.option_data(path, sig, new.to_yaml())
    except DataValidationError as exc:
        ui.problems(exc.problems or [exc], title="That change was not added")
        return
    state.options()[draft.name] = new
    st.rerun()


def _editor(ds: Dataset, draft: OptionDraft) -> None:
    kind = st.radio("Change", KINDS, key="change_kind")
    if kind == KINDS[0]:
        _base_form(ds, draft)
    elif kind == KINDS[1]:
        _places_form(ds, draft)
    elif kind == KINDS[2]:
        _close_form(ds, draft)
    elif kind == KINDS[3]:
        with st.form("cap"):
            cap = st.number_input("Most a year per INMSS place [£]", 0, 500_000, 55_000, 1_000)
            pkg = st.selectbox("Package", ["every package", *ds.packages["package_id"]])
            if st.form_submit_button("Add the cap"):
                _add(draft, cap_fees(cap, None if pkg == "every package" else pkg))
    elif kind == KINDS[4]:
        caps = ds.policy.max_travel_min
        with st.form("caps"):
            p = st.number_input("Primary [min each way]", 5, 300, int(caps.primary))
            s = st.number_input("Secondary [min]", 5, 300, int(caps.secondary))
            p16 = st.number_input("Post-16 [min]", 5, 300, int(caps.post16))
            if st.form_submit_button("Set the caps"):
                _add(draft, journey_caps(p, s, p16))
    else:
        with st.form("growth"):
            factor = st.number_input("Children still to place × factor", 0.0, 5.0, 1.1, 0.05)
            key = st.selectbox("Of", ["every child still to place", *ds.packages["package_id"]])
            if st.form_submit_button("Add the growth"):
                _add(draft, demand_growth(factor, None if key.startswith("every") else key))


def _choose(label: str, labels: dict[str, str], picked_key: str) -> str | None:
    """A selectbox of ids shown by label, starting at the one last clicked on the map."""
    ids = list(labels)
    chosen = st.session_state.get(picked_key)
    return st.selectbox(
        label,
        ids,
        index=ids.index(chosen) if chosen in ids else 0,
        format_func=lambda k: labels[k],
    )


def _packages(value: object) -> list[str]:
    """A candidate's packages: a tuple once loaded ("SPP2;SPP3" in the file)."""
    if isinstance(value, str):
        return [p for p in value.split(";") if p]
    return [str(p) for p in value] if isinstance(value, (list, tuple)) else []


def _candidate_label(cand: pd.DataFrame) -> dict[str, str]:
    return {
        str(r["site_id"]): (
            f"{r['name']} ({r['site_id']}; {r['phase']}; "
            f"packages {', '.join(_packages(r['packages']))})"
        )
        for r in cand.to_dict("records")
    }


def _base_form(ds: Dataset, draft: OptionDraft) -> None:
    cand = ds.candidates
    if cand is None or cand.empty:
        st.info("The data has no candidate sites (candidates.csv).")
        return
    site = _choose("Host school (or click one on the map)", _candidate_label(cand), "base_site")
    row = cand[cand["site_id"] == site].iloc[0]
    offered = _packages(row["packages"])
    with st.form("base"):
        pkgs = st.multiselect("Packages", offered, default=offered[:1])
        places = st.number_input("Places per package", 1, int(row.get("max_places", 40) or 40), 8)
        per_place = row.get("capital_cost_gbp_per_place")
        per_place = 0.0 if pd.isna(per_place) else float(per_place)
        capital = st.number_input(
            f"Capital [£] (blank: places × £{per_place:,.0f} a place at this site)",
            0.0,
            50_000_000.0,
            None,
            10_000.0,
        )
        fee = st.number_input(
            "Place cost [£ a year] (0 = the national costing framework)", 0, 200_000, 0, 500
        )
        year = st.number_input("Opens in horizon year", 0, 20, 0)
        if st.form_submit_button("Add the base") and pkgs and site is not None:
            _add(
                draft,
                add_base(
                    ds,
                    site,
                    dict.fromkeys(pkgs, int(places)),
                    capital_cost_gbp=None if capital is None else float(capital),
                    annual_cost_gbp=dict.fromkeys(pkgs, float(fee)) if fee else None,
                    from_year=int(year),
                ),
            )


def _setting_labels(ds: Dataset) -> dict[str, str]:
    s = ds.settings.drop_duplicates("setting_id")
    return {
        str(r.setting_id): f"{r.name} ({r.setting_id}, {str(r.setting_type).replace('_', ' ')})"
        for r in s.itertuples()
    }


def _places_form(ds: Dataset, draft: OptionDraft) -> None:
    sid = _choose("Setting (or click one on the map)", _setting_labels(ds), "places_setting")
    if sid is None:
        return
    offered = ds.places[ds.places["setting_id"] == sid].set_index("package_id")["places"]
    st.caption("Places now: " + (", ".join(f"{p} {int(n)}" for p, n in offered.items()) or "none"))
    with st.form("places"):
        pkg = st.selectbox("Package", list(ds.packages["package_id"]))
        now = int(offered.get(pkg, 0)) if pkg in offered.index else 0
        places = st.number_input("Places", 0, 2_000, now)
        capital = st.number_input("Capital [£]", 0.0, 50_000_000.0, 0.0, 10_000.0)
        if st.form_submit_button("Set the places"):
            change = set_places(sid, pkg, int(places))
            change["set_places"]["capital_cost_gbp"] = float(capital)
            _add(draft, change)


def _close_form(ds: Dataset, draft: OptionDraft) -> None:
    with st.form("close"):
        sid = _choose("Setting to close", _setting_labels(ds), "places_setting")
        if st.form_submit_button("Close it") and sid is not None:
            _add(draft, close_setting(sid))


def _change_list(draft: OptionDraft) -> None:
    st.subheader(
        f"{ui.plain(draft.name)}: {len(draft.changes)} change{'s' * (len(draft.changes) != 1)}"
    )
    for i, sentence in enumerate(draft.summary()):
        c1, c2 = st.columns([10, 1])
        c1.markdown(f"{i + 1}\\. {ui.plain(sentence)}")
        if c2.button("Remove", key=f"rm-{draft.name}-{i}"):
            state.options()[draft.name] = draft.without(i)
            st.rerun()
    c1, c2, c3 = st.columns(3)
    file_name = re.sub(r"[^A-Za-z0-9]+", "_", draft.name).strip("_").lower() or "option"
    c1.download_button(
        "Save as scenario YAML", draft.to_yaml(), f"{file_name}.yaml", "application/x-yaml"
    )
    path, _ = state.current()
    if path and Path(path).is_dir():
        target = Path(path) / "scenarios" / f"{file_name}.yaml"
        if c2.button(f"Save into the data folder ({target.relative_to(path)})"):
            _save(target, draft.to_yaml())
    if c3.button("Delete this option"):
        state.options().pop(draft.name, None)
        st.session_state.pop("option", None)
        st.rerun()


def _save(target: Path, text: str) -> None:
    if target.exists():
        st.error(f"{target} exists; it is not overwritten. Rename the option or move the file.")
        return
    try:
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        st.error(f"Could not write {target}: {exc}")
        return
    st.success(f"Saved {ui.plain(target)}")


def _results(path: str, sig: tuple, draft: OptionDraft) -> None:
    if not draft.changes:
        return
    st.subheader("The option against the baseline")
    try:
        cmp = state.comparison_table(path, sig, state.publish(), (draft.to_yaml(),))
    except (OptimiserError, ValueError) as exc:
        st.error(str(exc))
        return
    values = dict(zip(cmp["measure"], cmp[draft.name], strict=True))
    deltas = dict(zip(cmp["measure"], cmp[f"change: {draft.name}"], strict=True))
    ui.kpi_cards(values, deltas, keys=(*ui.HEADLINE, "capital_cost_gbp"))
