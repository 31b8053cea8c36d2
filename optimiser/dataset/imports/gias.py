"""Read a GIAS "all establishment data" download as GIAS writes it.

GIAS (Get Information About Schools, DfE) publishes ``edubasealldata<date>.csv`` and
``edubaseallstatefunded<date>.csv``: about 50,000 rows, Windows-1252 encoded, with its own
column names (``URN``, ``LA (code)``, ``TypeOfEstablishment (name)``, ``SEN1 (name)`` …).
:func:`read_gias` reads either (Windows-1252 or UTF-8; headers with or without the
``" (name)"`` / ``" (code)"`` suffixes; any column order; extra columns ignored) into one
row per establishment with the fields the import uses, each cell still text and the
spreadsheet row of each (the header is row 1) for problems.

:func:`load_provision_mapping` reads the editable mapping from GIAS's SEN provision types
(``ASD``, ``SEMH`` …) to the dataset's packages (``gias_provision_packages.csv`` shipped
beside this module; ``optimiser import gias --mapping FILE`` gives another).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from optimiser.problems import Problem

__all__ = [
    "DEFAULT_MAPPING",
    "FIELDS",
    "load_provision_mapping",
    "provision_codes",
    "read_gias",
]

#: The default provision type -> package mapping shipped with the package.
DEFAULT_MAPPING = Path(__file__).with_name("gias_provision_packages.csv")

#: Field the import uses -> GIAS headers accepted for it (first = the current download's).
FIELDS: dict[str, tuple[str, ...]] = {
    "urn": ("URN",),
    "la_code": ("LA (code)", "LA code", "LACode", "LA"),
    "name": ("EstablishmentName",),
    "type": ("TypeOfEstablishment (name)", "TypeOfEstablishment"),
    "status": ("EstablishmentStatus (name)", "EstablishmentStatus"),
    "phase": ("PhaseOfEducation (name)", "PhaseOfEducation"),
    "low_age": ("StatutoryLowAge",),
    "high_age": ("StatutoryHighAge",),
    "gender": ("Gender (name)", "Gender"),
    "admissions": ("AdmissionsPolicy (name)", "AdmissionsPolicy"),
    "capacity": ("SchoolCapacity",),
    "rp_type": ("TypeOfResourcedProvision (name)", "TypeOfResourcedProvision"),
    "rp_capacity": ("ResourcedProvisionCapacity",),
    "unit_capacity": ("SenUnitCapacity",),
    "easting": ("Easting",),
    "northing": ("Northing",),
    **{f"sen{i}": (f"SEN{i} (name)", f"SEN{i}") for i in range(1, 14)},
}
REQUIRED = ("urn", "la_code")
_DOWNLOAD_FIX = (
    "give the CSV as downloaded from GIAS (get-information-schools.service.gov.uk/Downloads, "
    "'All establishment data' or 'State-funded establishments'), header row first"
)


def _key(header: str) -> str:
    """A header compared ignoring case, spaces and punctuation: 'LA (code)' -> 'lacode'."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


#: Python's codec for each encoding :func:`encoding_of` names.
_CODECS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252", "latin-1": "latin-1"}


def encoding_of(data: bytes) -> str:
    """ "utf-8" (with or without BOM) when ``data`` decodes as UTF-8, else "windows-1252"
    (GIAS's own), or "latin-1" when a byte Windows-1252 leaves undefined occurs."""
    for name in ("utf-8", "windows-1252"):
        try:
            data.decode(_CODECS[name])
        except UnicodeDecodeError:
            continue
        return name
    return "latin-1"


def _columns(header: list[str]) -> dict[str, str]:
    """Field -> the file's header for it (the first accepted name the file has)."""
    keys = {_key(h): h for h in reversed(header)}  # the first of two equal keys wins
    out = {}
    for field, names in FIELDS.items():
        for name in names:
            if _key(name) in keys:
                out[field] = keys[_key(name)]
                break
    return out


def read_gias(path: str | Path, problems: list[Problem]) -> pd.DataFrame | None:
    """One row per establishment of a GIAS download, with the fields of :data:`FIELDS`.

    Returns a text frame with a column per field found (stripped text, blank = ``""``),
    ``row`` (the spreadsheet row: header = 1) and ``attrs["columns"]`` (field -> the
    file's header, for messages) and ``attrs["encoding"]``; None (with a problem added)
    when the file cannot be read or lacks URN or LA (code).
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        problems.append(Problem(name, None, "", "no such file", "a GIAS CSV", _DOWNLOAD_FIX))
        return None
    data = path.read_bytes()
    encoding = encoding_of(data)
    header_line = data.split(b"\n", 1)[0].decode(_CODECS[encoding], errors="replace")
    del data  # pandas reads the file itself, only the columns used (a download is ~60 MB)
    try:
        header = [str(h) for h in pd.read_csv(io.StringIO(header_line), nrows=0).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        header = []
    cols = _columns(header)
    missing = [f for f in REQUIRED if f not in cols]
    if missing:
        shown = ", ".join(header[:6]) + (", …" if len(header) > 6 else "")
        for field in missing:
            problems.append(
                Problem(
                    name,
                    1,
                    FIELDS[field][0],
                    f"no such column (the header has {len(header)} columns: {shown})",
                    f"GIAS's column {FIELDS[field][0]!r}",
                    _DOWNLOAD_FIX,
                )
            )
        return None
    try:
        frame = pd.read_csv(
            path,
            encoding=_CODECS[encoding],
            dtype=str,
            keep_default_na=False,
            usecols=list(cols.values()),
        )
    except (pd.errors.ParserError, ValueError) as exc:
        problems.append(
            Problem(
                name, None, "", f"malformed CSV ({exc})".replace("\n", " "), "CSV", _DOWNLOAD_FIX
            )
        )
        return None
    out = pd.DataFrame({field: frame[col].astype(str).str.strip() for field, col in cols.items()})
    out["row"] = range(2, len(out) + 2)
    out.attrs["columns"] = cols
    out.attrs["encoding"] = encoding
    return out


def provision_codes(cells: list[str]) -> list[str]:
    """GIAS SEN provision cells -> their codes: 'ASD - Autistic Spectrum Disorder' -> 'ASD'.

    Blank and 'Not Applicable' cells are left out; each code once, in the file's order.
    """
    out: list[str] = []
    for cell in cells:
        text = str(cell).strip()
        if not text or text.lower() in ("not applicable", "n/a"):
            continue
        code = text.split(" - ", 1)[0].strip()
        if code not in out:
            out.append(code)
    return out


def load_provision_mapping(
    path: str | Path | None, *, packages: list[str], problems: list[Problem]
) -> dict[str, tuple[str, ...]]:
    """Provision code (upper case) -> the packages a setting with it can deliver.

    ``path``: a CSV with columns ``sen_provision`` (GIAS's code, e.g. ASD) and
    ``package_id`` (blank = no package; several rows for one code = several packages);
    None = :data:`DEFAULT_MAPPING`. A package not in ``packages`` (the dataset's
    packages.csv) is a problem naming the mapping's row.
    """
    file = Path(path) if path is not None else DEFAULT_MAPPING
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        problems.append(
            Problem(
                file.name,
                None,
                "",
                f"an unreadable file ({exc})",
                "a CSV with columns sen_provision, package_id",
                "copy the default mapping (see docs/imports.md) and edit it",
            )
        )
        return {}
    for col in ("sen_provision", "package_id"):
        if col not in frame.columns:
            problems.append(
                Problem(
                    file.name,
                    1,
                    col,
                    "no such column",
                    "columns sen_provision, package_id (why is optional)",
                    f"add a {col} column",
                )
            )
            return {}
    known = set(packages)
    out: dict[str, tuple[str, ...]] = {}
    for i, (code, pkgs) in enumerate(zip(frame["sen_provision"], frame["package_id"], strict=True)):
        code = code.strip().upper()
        if not code:
            continue
        ids = [p.strip() for p in pkgs.split(";") if p.strip()]
        bad = [p for p in ids if p not in known]
        if bad:
            problems.append(
                Problem(
                    file.name,
                    i + 2,
                    "package_id",
                    ", ".join(bad),
                    f"package ids of the dataset's packages.csv ({', '.join(packages)})",
                    "correct the package id, or leave the cell blank for no package",
                )
            )
        good = tuple(p for p in ids if p in known)
        out[code] = tuple(dict.fromkeys(out.get(code, ()) + good))
    return out
