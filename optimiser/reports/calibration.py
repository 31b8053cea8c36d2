"""The baseline beside the LA's real SEN2 return: placements by group, INMSS use, growth, need.

Every saving the tool reports is credited against the baseline, so a baseline that
over-uses INMSS overstates them all. :func:`calibration` puts the model's baseline
(the allocation of the dataset as it stands) beside the LA's own SEN2 figures
(``optimiser/data/england``, DfE "Education, health and care plans", OGL v3) and
flags every difference past ±5% (counts) or ±5 points (shares):

* placements by group — state special (LA maintained + academy / free), INMSS
  (independent + non-maintained special), resourced provision and SEN units,
  specialist post-16 institutions — and the specialist cohort in all;
* the INMSS share of the cohort, and of *new* placements (SEN2: the change in
  INMSS over the change in the cohort, last year and over the whole series);
* the cohort's annual growth (SEN2 trend) beside the growth the horizon uses;
* primary need groups of the cohort (SEN2's needs with a known need, beside the
  children's ``primary_need`` where the dataset holds it, else the share of children in
  the packages that serve them, labelled as that proxy).
"""

from __future__ import annotations

import math

import pandas as pd

from optimiser._errors import OptimiserError
from optimiser.allocation.solve import AllocationResult, allocate
from optimiser.dataset.init.national import (
    SETTING_GROUP,
    LocalAuthority,
    resolve_la,
    sen2_needs,
    sen2_placements,
)
from optimiser.dataset.model import Dataset
from optimiser.disclosure import SUPPRESSED
from optimiser.reports.release import BASELINE, Release
from optimiser.scenarios.horizon import national_growth_rate

__all__ = ["GROUP_LABELS", "NEED_GROUPS", "calibration", "calibration_for_workbook"]

GROUP_LABELS = {
    "state_special": "state special schools (LA maintained, academy, free)",
    "inmss": "INMSS (independent and non-maintained special)",
    "rp_units": "resourced provision and SEN units",
    "spi": "specialist post-16 institutions",
    "specialist": "specialist cohort (all four groups)",
}
#: Need groups compared: SEN2 primary-need codes beside the packages that serve them
#: (the model's children carry a package, not a need).
NEED_GROUPS = {
    "autism and SLCN": (("asd", "slcn"), ("SPP3",)),
    "SEMH": (("semh",), ("SPP4",)),
    "learning (PMLD, SLD, MLD, SpLD)": (("pmld", "sld", "mld", "spld"), ("SPP1", "SPP2")),
    "sensory and physical (HI, VI, MSI, PD)": (("hi", "vi", "msi", "pd"), ("SPP5", "SPP6", "SPP7")),
}
#: Needs left out of the shares on both sides (SEN2 "other" and not recorded).
_UNCOUNTED = ("oth", "unknown")
#: A count differs materially past this share; a share past this many points.
COUNT_TOLERANCE = 0.05
SHARE_TOLERANCE = 0.05
_COLUMNS = ["section", "measure", "sen2", "model", "difference", "difference_pct", "flag"]


def _row(section: str, measure: str, sen2: float, model: float, *, share: bool) -> dict:
    diff = model - sen2 if not (math.isnan(sen2) or math.isnan(model)) else math.nan
    pct = diff / sen2 if sen2 and not math.isnan(diff) and not share else math.nan
    if math.isnan(diff):
        flag = ""
    elif share:
        flag = "off" if abs(diff) > SHARE_TOLERANCE + 1e-12 else "ok"
    else:
        flag = "off" if abs(pct if sen2 else diff) > COUNT_TOLERANCE + 1e-12 else "ok"
    return {
        "section": section,
        "measure": measure,
        "sen2": sen2,
        "model": model,
        "difference": diff,
        "difference_pct": pct,
        "flag": flag,
    }


def _la_of(ds: Dataset, la: str | LocalAuthority | None) -> LocalAuthority:
    if isinstance(la, LocalAuthority):
        return la
    code = la if la is not None else getattr(ds.policy, "la_code", None)
    if code is None:
        msg = (
            f'{ds.name}: the dataset does not say which LA it is; add `la_code: "358"` (the '
            "DfE code) to its policy.yaml, or pass la= to calibration"
        )
        raise OptimiserError(msg)
    return resolve_la(str(code))


def _new_share(frame: pd.DataFrame) -> float:
    """INMSS share of the growth between the first and last rows (nan without growth)."""
    grow = float(frame["specialist"].iloc[-1] - frame["specialist"].iloc[0])
    if grow <= 0 or len(frame) < 2:
        return math.nan
    return float(frame["inmss"].iloc[-1] - frame["inmss"].iloc[0]) / grow


def calibration(
    ds: Dataset,
    res: AllocationResult | None = None,
    *,
    la: str | LocalAuthority | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """The model's baseline beside the LA's SEN2 return (see the module docstring).

    Parameters
    ----------
    ds : the dataset (its policy's ``la_code`` names the LA unless ``la`` is given).
    res : its allocation (solved here when not given).
    la : the LA (code, ONS code or name) to compare with.
    year : the SEN2 year (``time_period``, e.g. 202425); default the latest.

    Returns
    -------
    One row per measure: section, measure, sen2, model, difference (model − SEN2),
    difference_pct (counts), flag ("ok", "off" past ±5% or ±5 points, "" when
    SEN2 has no figure).
    """
    authority = _la_of(ds, la)
    res = res if res is not None else allocate(ds)
    series = sen2_placements(authority).sort_index().rename_axis("time_period").reset_index()
    if year is not None:
        series = series[series["time_period"] <= year]
        if series.empty:
            msg = f"SEN2 has no figures for {authority.name} up to {year}"
            raise ValueError(msg)
    latest = series.iloc[-1]
    pl = res.placements
    group = pl["setting_type"].map(SETTING_GROUP)
    model = group.value_counts()
    rows = []
    for g, label in GROUP_LABELS.items():
        if g == "specialist":
            value = float(model.sum())
        else:
            value = float(model.get(g, 0))
        rows.append(_row("placements", label, float(latest[g]), value, share=False))
    n_mainstream = float(group.isna().sum())
    rows.append(
        _row(
            "placements",
            "mainstream with support (not a SEN2 group)",
            math.nan,
            n_mainstream,
            share=False,
        )
    )
    n_unplaced = float(len(res.unplaced))
    rows.append(_row("placements", "not placed (model only)", math.nan, n_unplaced, share=False))
    specialist = float(model.sum())
    rows.append(
        _row(
            "INMSS",
            "INMSS share of the specialist cohort",
            float(latest["inmss"]) / float(latest["specialist"]),
            float(model.get("inmss", 0)) / specialist if specialist else math.nan,
            share=True,
        )
    )
    new = pl[~pl["continuing"].astype(bool)]
    new_group = new["setting_type"].map(SETTING_GROUP)
    n_new = float(new_group.notna().sum())
    model_new = float((new_group == "inmss").sum()) / n_new if n_new else math.nan
    rows.append(
        _row(
            "INMSS",
            "INMSS share of new placements (last year)",
            _new_share(series.tail(2)),
            model_new,
            share=True,
        )
    )
    first = int(series["time_period"].iloc[0])
    rows.append(
        _row(
            "INMSS",
            f"INMSS share of new placements (since {first // 100})",
            _new_share(series),
            model_new,
            share=True,
        )
    )
    years = len(series) - 1
    cagr = (
        (float(latest["specialist"]) / float(series["specialist"].iloc[0])) ** (1 / years) - 1
        if years > 0 and series["specialist"].iloc[0] > 0
        else math.nan
    )
    last = (
        float(latest["specialist"]) / float(series["specialist"].iloc[-2]) - 1
        if years > 0
        else math.nan
    )
    own = ds.policy.demand_growth_per_year  # what the horizon uses; else the national trend
    model_growth = float(own) if own is not None else national_growth_rate()
    rows.append(
        _row(
            "growth",
            f"specialist cohort growth a year (since {first // 100})",
            cagr,
            model_growth,
            share=True,
        )
    )
    rows.append(
        _row("growth", "specialist cohort growth (last year)", last, model_growth, share=True)
    )
    rows += _need_rows(ds, authority)
    return pd.DataFrame(rows, columns=_COLUMNS)


def _need_rows(ds: Dataset, authority: LocalAuthority) -> list[dict]:
    needs = sen2_needs(authority)
    known = float(needs.drop(list(_UNCOUNTED), errors="ignore").sum())
    kids = ds.children
    need = (
        kids["primary_need"].astype(str).str.strip().str.lower()
        if "primary_need" in kids.columns
        else pd.Series("", index=kids.index)
    )
    by_need = bool((need != "").any())
    counted = need[(need != "") & ~need.isin(_UNCOUNTED)]
    packages = kids["package_id"].astype(str)
    rows = []
    for label, (codes, pkgs) in NEED_GROUPS.items():
        sen2 = float(needs.reindex(list(codes)).fillna(0).sum()) / known if known else math.nan
        if by_need:
            model = float(counted.isin(codes).mean()) if len(counted) else math.nan
            name = f"{label}: share of the cohort (primary need)"
        else:
            model = float(packages.isin(pkgs).mean()) if len(packages) else math.nan
            name = f"{label} ({', '.join(pkgs)}, no primary_need held): share of the cohort"
        rows.append(_row("need", name, sen2, model, share=True))
    return rows


#: setting types whose published placed counts make up each group (publish mode).
_GROUP_TYPES = {
    g: tuple(t for t, gg in SETTING_GROUP.items() if gg == g)
    for g in ("state_special", "inmss", "rp_units", "spi")
}
WITHHELD = "withheld in publish mode"


def calibration_for_workbook(
    ds: Dataset, res: AllocationResult, release: Release | None = None
) -> pd.DataFrame | None:
    """The workbook's Calibration sheet, or None when the dataset names no LA.

    Working mode (``release`` None): :func:`calibration` as it is. Publish mode: the
    model's counts are sums of the release's published placed counts by setting type
    (so they add nothing a reader cannot already sum); shares of new placements and the
    need mix, which rest on counts the release does not publish, are withheld.
    """
    try:
        cal = calibration(ds, res)
    except (OptimiserError, ValueError):
        return None
    if release is None:
        return cal
    rel = release
    placed = rel.table(BASELINE, "type").get("placed", pd.Series(dtype=object))

    def total(types: tuple[str, ...]) -> float | str:
        vals = [placed.get(t, 0) for t in types]
        if any(v == SUPPRESSED for v in vals):
            return SUPPRESSED
        return float(sum(float(v) for v in vals))

    groups = {g: total(ts) for g, ts in _GROUP_TYPES.items()}
    groups["specialist"] = total(tuple(t for ts in _GROUP_TYPES.values() for t in ts))
    label_group = {label: g for g, label in GROUP_LABELS.items()}
    out = []
    for r in cal.to_dict("records"):
        m = r["measure"]
        if m in label_group:
            value = groups[label_group[m]]
        elif m == "mainstream with support (not a SEN2 group)":
            value = total(("mainstream",))
        elif m == "not placed (model only)":
            value = rel.table(BASELINE, "la").iloc[0].get("unplaced", WITHHELD)
            value = value if value == SUPPRESSED else float(value)
        elif m == "INMSS share of the specialist cohort":
            value = rel.share(groups["inmss"], groups["specialist"])
        elif r["section"] == "growth":
            out.append(r)
            continue
        else:
            value = WITHHELD
        if isinstance(value, str):
            out.append({**r, "model": value, "difference": "", "difference_pct": "", "flag": ""})
        else:
            out.append(
                _row(r["section"], m, r["sen2"], float(value), share=r["section"] != "placements")
            )
    return pd.DataFrame(out, columns=_COLUMNS)
