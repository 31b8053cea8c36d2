"""National open data for any English LA: code lookup and SEN2 placements and needs.

Reads the compact extracts shipped in the package (``data/england/*.csv.gz``, installed as
``optimiser/_data/england/``; provenance and licence in ``data/england/SOURCES.md``):

* ``la_codes.csv.gz``: the 153 education LAs: DfE 3-digit code, name, the code SEN2
  publishes, the ONS CTYUA24 code (used by the boundary files), region.
* ``sen2_placements.csv.gz``: SEN2 EHC plans by placement type, every LA, Jan 2019-Jan 2025.
* ``sen2_needs.csv.gz``: SEN2 primary need by LA and placement type, Jan 2025.

SEN2 suppresses small or unreliable cells with ``x`` (also ``c``, ``z``, ``u`` in DfE's
conventions): every such cell is read as missing (NaN), never as zero.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from optimiser._errors import OptimiserError
from optimiser.dataset.paths import data_dir
from optimiser.schema.tables import PRIMARY_NEEDS

#: SEN2's markers for a suppressed or not-applicable cell: read as missing, never as zero.
SUPPRESSED = ("x", "c", "z", "u", "low", ":")
_MISSING = np.array([*SUPPRESSED, ""], dtype=object)

#: Specialist placement groups → the SEN2 placement columns summed into each.
PLACEMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "state_special": ("special_la_maintained", "special_academy_free"),
    "inmss": ("special_independent", "special_non_maintained"),
    "rp_units": (
        "mainstream_la_maintained_resourced_provision",
        "mainstream_la_maintained_senunit",
        "mainstream_academy_resourced_provision",
        "mainstream_academy_senunit",
        "mainstream_free_school_resourced_provision",
        "mainstream_free_school_senunit",
    ),
    "spi": ("specialist_post_16_institutions",),
}
#: The tool's ``setting_type`` → the placement group SEN2 counts it in (mainstream: none).
SETTING_GROUP: dict[str, str] = {
    "maintained_special": "state_special",
    "academy_special": "state_special",
    "independent_special": "inmss",
    "nmss": "inmss",
    "inclusion_base": "rp_units",
    "post16_specialist": "spi",
}
#: The SEN2 need file's "Type of placement" rows in each group.
NEED_PLACEMENT_ROWS: dict[str, tuple[str, ...]] = {
    "state_special": ("Special - LA maintained", "Special - Academy/free schools"),
    "inmss": ("Special - independent", "Special - non-maintained"),
    "rp_units": tuple(
        f"Mainstream - {kind} ({unit})"
        for kind in ("LA maintained", "academy", "free school")
        for unit in ("resourced provision", "SEN unit")
    ),
    "spi": ("FE - specialist post-16 institutions",),
}
#: Primary needs, in SEN2's order (``unknown`` = need not recorded).
NEEDS = PRIMARY_NEEDS
LAKind = Literal["london_borough", "metropolitan_borough", "unitary", "county"]
_KIND_OF_PREFIX: dict[str, LAKind] = {
    "E09": "london_borough",
    "E08": "metropolitan_borough",
    "E06": "unitary",
    "E10": "county",
}


@dataclass(frozen=True)
class LocalAuthority:
    """An English education (upper-tier) local authority.

    Attributes
    ----------
    code : DfE 3-digit LA code, e.g. ``"356"`` (GIAS ``la_code``, SEN2 ``old_la_code``).
    name : LA name as SEN2 publishes it, e.g. ``"Stockport"``.
    ons_code : ONS CTYUA24 code, e.g. ``"E08000007"`` (the boundary files' code).
    sen2_code : the ``new_la_code`` SEN2 publishes (differs from ``ons_code`` for
        Buckinghamshire, North Yorkshire and Somerset, which SEN2 still codes E10).
    region : region name, e.g. ``"North West"``.
    kind : ``london_borough``, ``metropolitan_borough``, ``unitary`` or ``county``, from
        the ONS code prefix (E09, E08, E06, E10).
    """

    code: str
    name: str
    ons_code: str
    sen2_code: str
    region: str
    kind: LAKind


def national_dir() -> Path:
    """Folder of the shipped national extracts (``data/england``)."""
    return data_dir() / "england"


@functools.cache
def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(national_dir() / f"{name}.csv.gz", dtype=str, keep_default_na=False)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ")).strip()


@functools.cache
def all_las() -> tuple[LocalAuthority, ...]:
    """The 153 English education LAs, sorted by DfE code."""
    cw = _table("la_codes")
    return tuple(
        LocalAuthority(
            code=str(r["old_la_code"]),
            name=str(r["la_name"]),
            ons_code=str(r["ctyua24_code"]),
            sen2_code=str(r["dfe_new_la_code_ehcp2025"]),
            region=str(r["region_name"]),
            kind=_KIND_OF_PREFIX[str(r["ctyua24_code"])[:3]],
        )
        for r in cw.sort_values("old_la_code").to_dict("records")
    )


def resolve_la(code_or_name: str | LocalAuthority) -> LocalAuthority:
    """The LA named by a DfE code (``"356"``), an ONS or SEN2 code (``"E08000007"``) or a name.

    Names match ignoring case, spaces and punctuation (``"stockport"``, ``"St. Helens"``,
    ``"kingston upon hull, city of"``).

    Raises
    ------
    OptimiserError
        When nothing matches; the message suggests the closest names and codes.
    """
    if isinstance(code_or_name, LocalAuthority):
        return code_or_name
    key = str(code_or_name).strip()
    las = all_las()
    by_key: dict[str, LocalAuthority] = {}
    for la in las:
        for k in (la.code, la.ons_code.upper(), la.sen2_code.upper(), _norm(la.name)):
            by_key.setdefault(k, la)
    for k in (key, key.upper(), _norm(key)):
        if k in by_key:
            return by_key[k]
    names = {_norm(la.name): la for la in las}
    close = difflib.get_close_matches(_norm(key), list(names), n=3, cutoff=0.6)
    words = [n for n in names if _norm(key) and f" {_norm(key)} " in f" {n} "]
    close = list(dict.fromkeys([*words, *close]))[:3]  # a whole word ("hull") first
    hint = (
        "did you mean " + ", ".join(f"{names[c].name} ({names[c].code})" for c in close) + "?"
        if close
        else "give a DfE 3-digit code (e.g. 356), an ONS code (E08000007) or an LA name"
    )
    msg = f"unknown local authority {code_or_name!r}: not one of England's 153 LAs; {hint}"
    raise OptimiserError(msg)


def _numeric(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Columns as floats; SEN2's suppression markers (and blanks) become NaN.

    The markers are masked on the cells as one object array (one ``isin``, one
    ``to_numeric``), not with ``DataFrame.replace`` and a ``to_numeric`` per column, which
    cost ~30 ms a call on pandas 3 text; the frame is the same (test_init.py checks it on
    every row of the shipped tables).
    """
    cells = df[cols].to_numpy(dtype=object)
    cells[np.isin(cells, _MISSING)] = np.nan
    flat = pd.to_numeric(pd.Series(cells.ravel(), dtype=object), errors="raise")
    values = flat.to_numpy(dtype=float).reshape(cells.shape)
    return pd.DataFrame(values, index=df.index, columns=cols)


def sen2_years() -> list[int]:
    """SEN2 years in the shipped placement file (``time_period``, e.g. 202425), ascending."""
    return sorted({int(t) for t in _table("sen2_placements").time_period})


def sen2_placements(la: str | LocalAuthority) -> pd.DataFrame:
    """SEN2 specialist placements of one LA, one row per year (January census).

    Returns
    -------
    DataFrame indexed by ``time_period`` (int, e.g. 202425 = January 2025), ascending,
    with columns ``state_special``, ``inmss``, ``rp_units``, ``spi`` (see
    :data:`PLACEMENT_GROUPS`), ``specialist`` (their sum) and ``ehcplans`` (all EHC plans)
    [children]. A group is NaN when any of its SEN2 cells is suppressed (``x``): missing,
    not zero; ``specialist`` is then NaN too. ``attrs["suppressed"]`` lists
    ``(time_period, column)`` of every suppressed SEN2 cell that was read.
    """
    la = resolve_la(la)
    raw = _table("sen2_placements")
    raw = raw[raw.old_la_code == la.code].sort_values("time_period")
    cols = [c for cs in PLACEMENT_GROUPS.values() for c in cs]
    num = _numeric(raw, [*cols, "ehcplans"])
    num.index = raw.time_period.astype(int).to_numpy()
    num.index.name = "time_period"
    # sums on plain arrays: NaN when any term is (pandas' min_count = all terms)
    groups = {g: num[list(cs)].to_numpy().sum(axis=1) for g, cs in PLACEMENT_GROUPS.items()}
    out = pd.DataFrame(groups, index=num.index)
    out["specialist"] = out[list(PLACEMENT_GROUPS)].to_numpy().sum(axis=1)
    out["ehcplans"] = num["ehcplans"]
    missing = np.isnan(num[cols].to_numpy())
    out.attrs["suppressed"] = [
        (t, cols[j]) for i, t in enumerate(num.index.tolist()) for j in np.flatnonzero(missing[i])
    ]
    out.attrs["la_code"] = la.code
    return out


def sen2_needs_by_group(la: str | LocalAuthority) -> pd.DataFrame:
    """Primary-need counts of one LA's specialist cohort by placement group, Jan 2025.

    Like :func:`sen2_needs`, one row per group of :data:`NEED_PLACEMENT_ROWS` (columns
    :data:`NEEDS`); ``attrs["fallback"]`` lists the placement types split by the LA's
    All-EHC-plans shares because their need counts are suppressed.
    """
    la = resolve_la(la)
    raw = _table("sen2_needs")
    raw = raw[raw.old_la_code == la.code].set_index("breakdown")
    num = _numeric(raw, ["ehc_plans", *[n if n != "unknown" else "need_unknown" for n in NEEDS]])
    num.columns = ["ehc_plans", *NEEDS]
    # the rows as plain arrays (SEN2 has one row per LA and breakdown): pandas .loc per
    # row and group cost most of an every-LA loop
    by_row = dict(zip(num.index, num[list(NEEDS)].to_numpy(dtype=float), strict=True))
    all_row = by_row["All EHC plans"]
    shares = all_row / np.nansum(all_row)
    sums = {group: np.zeros(len(NEEDS)) for group in NEED_PLACEMENT_ROWS}
    fallback: list[str] = []
    plans = num["ehc_plans"].to_dict()
    for group, rows in NEED_PLACEMENT_ROWS.items():
        for row in rows:
            if row not in by_row:
                continue
            counts = by_row[row]
            if np.isnan(counts).any():
                fallback.append(row)
                counts = shares * float(plans[row])
            sums[group] = sums[group] + counts
    # A group whose need rows hold under half its SEN2 children (rows missing or
    # suppressed away, e.g. North East Lincolnshire 2025: 20 of 589) takes the LA's
    # All-EHC-plans shares x its latest known SEN2 count instead.
    last = sen2_placements(la)[list(PLACEMENT_GROUPS)].ffill().iloc[-1].fillna(0.0)
    known = {str(k): float(v) for k, v in last.items()}
    for group in NEED_PLACEMENT_ROWS:
        have, want = float(sums[group].sum()), known.get(group, 0.0)
        if have < 0.5 * want:
            sums[group] = shares * want
            fallback.append(
                f"{group}: SEN2 need rows hold {have:.0f} of its {want:.0f} children, so "
                "All EHC plans shares x SEN2 placements"
            )
    out = pd.DataFrame(
        np.vstack([sums[g] for g in NEED_PLACEMENT_ROWS]),
        index=list(NEED_PLACEMENT_ROWS),
        columns=list(NEEDS),
    )
    out.attrs = {
        "time_period": int(raw.time_period.iloc[0]),
        "fallback": fallback,
        "la_code": la.code,
    }
    return out


def sen2_needs(la: str | LocalAuthority) -> pd.Series:
    """Primary-need counts of one LA's specialist cohort in the latest SEN2 year (Jan 2025).

    The sum, over the placement types of :data:`NEED_PLACEMENT_ROWS`, of SEN2's "Type of
    placement" need counts [children]. A type with no row has no children. Where a type's
    need counts are suppressed, its children are split by the LA's All-EHC-plans need
    shares instead; those types are listed in ``attrs["fallback"]`` (empty when none).

    Returns
    -------
    Series indexed by :data:`NEEDS` (float counts; fallback rows may be fractional), with
    ``attrs`` ``time_period``, ``fallback`` and ``la_code``.
    """
    by_group = sen2_needs_by_group(la)
    total = by_group.sum(axis=0)
    total.name = "children"
    total.attrs = dict(by_group.attrs)
    return total
