"""``import_gias``: update a dataset's settings and candidates from a GIAS download.

The national extract ``optimiser init`` builds from has no age ranges, capacities,
resourced-provision details, SEN provision types, gender or admissions policy. A GIAS
"all establishment data" download has them all; this import matches its rows to
``settings.csv`` and ``candidates.csv`` by URN and writes, for each match:

=================== ============================= ==========================================
field               settings.csv                  candidates.csv
=================== ============================= ==========================================
easting, northing   GIAS Easting, Northing [m]    same
age_min, age_max    StatutoryLowAge, High − 1     same (bases: at least 4, school age)
total_places        inclusion bases: RP + unit    —
                    capacity [places]
school_capacity     SchoolCapacity [places]       same
gender, admissions  Gender, AdmissionsPolicy      same
provision_type      TypeOfResourcedProvision      —
sen_provision       SEN1..SEN13 codes (ASD;SLCN)  same
packages            packages the provision types  replaced when GIAS lists provision types
                    map to (the mapping file)
phase, type         —                             PhaseOfEducation, TypeOfEstablishment
=================== ============================= ==========================================

``age_max`` is the oldest age at the start of a school year (data/README.md): GIAS's
StatutoryHighAge − 1. Every cell the import does not change is written back as it was;
a setting's ``assumption`` cell gets "; from GIAS: <fields>" naming the fields GIAS gave.
Rows it cannot use are errors (nothing is written): a matched row with ages that are not
whole numbers or are the wrong way round, without coordinates, or with a capacity that is
not a whole number; a URN that is not a number. What it notices but need not stop for is a
warning: a setting of the LA the file does not hold, a special school or resourced
provision of the LA the dataset lacks, an assumed inclusion base GIAS gives no provision,
a closed establishment, places for a package GIAS's provision types do not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from optimiser.dataset.imports import gias_checks as checks
from optimiser.dataset.imports.folder import (
    check_folder,
    check_updated,
    problems_or_none,
    read_table_text,
    replace_tables,
    table_text,
)
from optimiser.dataset.imports.gias import load_provision_mapping, read_gias
from optimiser.dataset.init.national import LocalAuthority, resolve_la
from optimiser.problems import Problem

__all__ = ["CHANGE_COLUMNS", "GiasImport", "import_gias"]

#: Columns of :attr:`GiasImport.changes`.
CHANGE_COLUMNS = ("file", "row", "id", "name", "urn", "field", "old", "new")
#: Youngest age an inclusion base (a unit in a mainstream school) takes [years].
SCHOOL_AGE = 4
#: Fields written to each table, in this order (new columns are added at the end).
SETTINGS_FIELDS = (
    "easting", "northing", "age_min", "age_max", "total_places", "school_capacity", "gender",
    "admissions_policy", "provision_type", "sen_provision", "packages",
)  # fmt: skip
CANDIDATE_FIELDS = (
    "easting", "northing", "age_min", "age_max", "phase", "establishment_type",
    "school_capacity", "gender", "admissions_policy", "sen_provision", "packages",
)  # fmt: skip
_PHASES = {
    "primary": "Primary",
    "middle deemed primary": "Primary",
    "secondary": "Secondary",
    "middle deemed secondary": "Secondary",
    "all-through": "All-through",
}


@dataclass(frozen=True)
class GiasImport:
    """What an import changed (or would change).

    Attributes
    ----------
    changes : one row per changed cell: file, row (spreadsheet row), id (setting_id or
        site_id), name, urn, field, old, new.
    problems : warnings (errors raise instead).
    matched : settings and candidates rows the file holds (by URN).
    backup : folder holding the replaced files; None when nothing was written.
    la : the LA asked for.
    encoding : the file's encoding as read.
    """

    changes: pd.DataFrame
    problems: list[Problem]
    matched: int
    backup: Path | None
    la: LocalAuthority
    encoding: str

    def counts(self) -> pd.Series:
        """Changed cells per field (fields in the order first changed)."""
        return self.changes.groupby("field", sort=False).size().rename("changed")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _same(old: str, new: str) -> bool:
    a, b = _number(old), _number(new)
    if a is not None and b is not None:
        return a == b
    return old.strip() == new.strip()


def _new_values(
    rec: dict, *, kind: str, packages: list[str], mapping: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    """The values GIAS gives for one matched row (a field GIAS leaves blank is absent)."""
    out: dict[str, str] = {}
    if rec["easting"] is not None:
        out["easting"], out["northing"] = str(rec["easting"]), str(rec["northing"])
    if rec["ages"] is not None:
        low, high = rec["ages"]
        if kind in ("inclusion_base", "candidate") and high > SCHOOL_AGE:
            low = max(low, SCHOOL_AGE)
        out["age_min"], out["age_max"] = str(low), str(high)
    if kind == "inclusion_base" and rec["unit_places"] is not None:
        out["total_places"] = str(rec["unit_places"])
    for field, key in (("school_capacity", "capacity"), ("gender", "gender")):
        if rec[key] not in (None, ""):
            out[field] = str(rec[key])
    if rec["admissions"]:
        out["admissions_policy"] = rec["admissions"]
    if kind != "candidate" and rec["rp_type"]:
        out["provision_type"] = rec["rp_type"]
    if kind == "candidate":
        if rec["phase"] in _PHASES:
            out["phase"] = _PHASES[rec["phase"]]
        if rec["type"]:
            out["establishment_type"] = rec["type"]
    codes = rec["codes"]
    if codes:
        out["sen_provision"] = ";".join(codes)
        wanted = {p for c in codes for p in mapping.get(c.upper(), ())}
        mapped = ";".join(p for p in packages if p in wanted)
        if mapped or kind != "candidate":
            out["packages"] = mapped
    return out


def _apply(
    frame: pd.DataFrame,
    records: dict[int, dict],
    *,
    file: str,
    fields: tuple[str, ...],
    id_col: str,
    packages: list[str],
    mapping: dict[str, tuple[str, ...]],
) -> tuple[pd.DataFrame, list[tuple], int]:
    """``frame`` with GIAS's values; the changes; the number of rows matched."""
    out = frame.copy()
    changes: list[tuple] = []
    matched = 0
    for pos, urn_text in enumerate(out["urn"] if "urn" in out else []):
        urn = _number(urn_text)
        if urn is None or int(urn) not in records:
            continue
        matched += 1
        kind = "candidate" if file == "candidates.csv" else str(out.at[pos, "setting_type"])
        new = _new_values(records[int(urn)], kind=kind, packages=packages, mapping=mapping)
        done: list[str] = []
        for field in fields:
            if field not in new:
                continue
            if field not in out.columns:
                out[field] = ""
            old = str(out.at[pos, field])
            if _same(old, new[field]):
                continue
            out.at[pos, field] = new[field]
            done.append(field)
            changes.append(
                (file, pos + 2, out.at[pos, id_col], out.at[pos, "name"], int(urn), field, old,
                 new[field])
            )  # fmt: skip
        if done and "assumption" in out.columns:
            old = str(out.at[pos, "assumption"])
            out.at[pos, "assumption"] = noted(old, done)
            changes.append(
                (file, pos + 2, out.at[pos, id_col], out.at[pos, "name"], int(urn), "assumption",
                 old, out.at[pos, "assumption"])
            )  # fmt: skip
    return out, changes, matched


_NOTE = re.compile(r"(?:^|; )from GIAS: ([a-z_, ]+)$")


def noted(assumption: str, fields: list[str]) -> str:
    """``assumption`` ending "; from GIAS: <fields>" (the fields of earlier imports kept).

    The ``assumption`` column says which figures are not published ones; a field GIAS
    now gives is named so a reader knows it no longer is an assumption.
    """
    m = _NOTE.search(assumption)
    before = assumption[: m.start()] if m else assumption
    have = [f.strip() for f in m.group(1).split(",")] if m else []
    note = "from GIAS: " + ", ".join(dict.fromkeys(have + fields))
    return f"{before}; {note}" if before else note


def import_gias(
    file: str | Path,
    *,
    la: str | LocalAuthority,
    into: str | Path,
    mapping: str | Path | None = None,
    dry_run: bool = False,
) -> GiasImport:
    """Update ``into``'s settings.csv and candidates.csv from a GIAS download.

    Parameters
    ----------
    file : ``edubasealldata*.csv`` / ``edubaseallstatefunded*.csv`` as downloaded
        (Windows-1252 or UTF-8).
    la : the LA (DfE code "358", ONS code or name) whose establishments the dataset plans;
        its settings the file lacks and its specialist establishments the dataset lacks
        are warnings.
    into : the dataset folder (as ``optimiser init`` writes); updated in place, the old
        files kept in ``into/backups/gias-NNN/``.
    mapping : CSV of SEN provision type -> package_id (default: the shipped
        ``gias_provision_packages.csv``).
    dry_run : work out and return the changes but write nothing.

    Raises
    ------
    DataValidationError
        listing every row of ``file`` that cannot be used (file, row, column, fix), or
        every error the updated folder would have; nothing is written then.
    """
    la = resolve_la(la)
    folder = check_folder(into)
    problems: list[Problem] = []
    gias = read_gias(file, problems)
    packages = read_table_text(folder / "packages.csv")["package_id"].tolist()
    provision = load_provision_mapping(mapping, packages=packages, problems=problems)
    problems_or_none(problems)
    assert gias is not None  # read_gias reports a problem when it returns None
    name = Path(file).name
    settings = read_table_text(folder / "settings.csv")
    has_candidates = (folder / "candidates.csv").is_file()
    candidates = read_table_text(folder / "candidates.csv") if has_candidates else None
    wanted = checks.dataset_urns(settings, candidates)
    records = checks.parse_rows(gias, name, wanted=wanted, la=la, problems=problems)
    problems += checks.unknown_codes(records, provision, file=name)
    problems_or_none(problems)
    new_s, changes, matched = _apply(
        settings, records, file="settings.csv", fields=SETTINGS_FIELDS, id_col="setting_id",
        packages=packages, mapping=provision,
    )  # fmt: skip
    texts = {"settings.csv": table_text(new_s)}
    if candidates is not None:
        new_c, more, n = _apply(
            candidates, records, file="candidates.csv", fields=CANDIDATE_FIELDS,
            id_col="site_id", packages=packages, mapping=provision,
        )  # fmt: skip
        changes, matched = changes + more, matched + n
        texts["candidates.csv"] = table_text(new_c)
    places = read_table_text(folder / "places.csv")
    problems += checks.cross_checks(
        gias, records, name, la=la, settings=new_s, candidates=candidates, places=places
    )
    check_updated(folder, texts, source=f"GIAS ({name})")
    backup = None if dry_run else replace_tables(folder, texts, tag="gias")[1]
    return GiasImport(
        changes=pd.DataFrame(changes, columns=list(CHANGE_COLUMNS)),
        problems=sorted(
            problems, key=lambda p: (p.row is None, p.file != name, p.file, p.row or 0)
        ),
        matched=matched,
        backup=backup,
        la=la,
        encoding=str(gias.attrs.get("encoding", "")),
    )
