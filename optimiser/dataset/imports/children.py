"""Children from a case-management export: an LA's EHCP caseload → ``children.csv``.

The export (CSV or XLSX, in the layout of Capita One, Synergy, Liquid Logic, Mosaic or a SEN2
person-level return) is read through a mapping (:mod:`~optimiser.dataset.imports.mapping`)
that names its columns. Each row becomes one child:

* ``child_id``: a keyed HMAC-SHA256 of the pupil id (UPN), ``P`` + 16 hex digits. The key
  is the LA's (a file or an environment variable, at least 16 bytes); it is never written
  with the data or printed. The same key gives the same ids in every import; without the
  key the ids cannot be turned back into UPNs or recomputed from them.
* ``age``: the age on 31 August at the start of the academic year holding ``as_of``
  (from the date of birth), or the export's age.
* ``package_id``: the export's package, else from the primary need through the folder's
  ``need_packages.csv`` (``optimiser init`` writes it; the defaults of
  :data:`optimiser.dataset.init.cohort.NEED_PACKAGES` otherwise). A need feeding several
  packages picks one by their shares, with a draw keyed like the id: stable for a child
  from one import to the next.
* ``easting``/``northing``: the home postcode through an ONSPD extract
  (:func:`optimiser.dataset.postcodes.read_postcode_file`), else the centroid of the home
  LSOA (``data/england/lsoas.csv.gz``); ``lsoa_code`` and ``ward_code`` (ward 2024) with it.
* ``current_setting_id``, ``preferences``: URNs, setting ids or names matched against
  ``settings.csv``.

Nothing of the export but these derived fields reaches the folder, and no message carries
a pupil id, postcode, date of birth, need or setting of a child: a problem names the file,
row, column and fix only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser._errors import DataValidationError, OptimiserError, OutputError, OutputExistsError
from optimiser._outputs import output_error, write_csv_output, write_text_output
from optimiser.dataset.imports.export import (
    RowLog,
    age_on,
    folder_table,
    norm_label,
    parse_date,
    read_export,
    year_start,
)
from optimiser.dataset.imports.homes import home_location, lsoa_table, postcode_index
from optimiser.dataset.imports.mapping import SEN2_NEED_CODES, ChildrenMapping, load_mapping
from optimiser.dataset.imports.pseudonyms import MIN_KEY_BYTES, keyed_fraction, pseudonym
from optimiser.dataset.init.cohort import need_packages_table
from optimiser.dataset.load import load_dataset
from optimiser.dataset.paths import default_path
from optimiser.dataset.validate import DataWarning, collect_problems
from optimiser.problems import Problem, format_problems, raise_problems
from optimiser.schema.tables import CHILDREN

_NO_VALUES = ("", "n", "no", "false", "0")
_CHILD_COLUMNS = CHILDREN.names


# --------------------------------------------------------------------------- settings


@dataclasses.dataclass(frozen=True)
class _Settings:
    """settings.csv (and places.csv) of the folder, for matching URNs, ids and names."""

    by_key: dict[str, tuple[str, ...]]
    offers: frozenset[tuple[str, str]]
    aliases: dict[str, str]

    @classmethod
    def read(cls, folder: Path, aliases: dict[str, str]) -> _Settings:
        s = folder_table(folder, "settings.csv", ("setting_id", "name"))
        by_key: dict[str, list[str]] = {}
        for sid, urn, name in zip(s["setting_id"], s.get("urn", ""), s["name"], strict=True):
            keys = {"id:" + sid.strip().upper(), "name:" + norm_label(name)}
            if str(urn).strip():
                keys.add("urn:" + str(urn).strip().removesuffix(".0"))
            for k in keys:
                by_key.setdefault(k, []).append(sid.strip())
        offers: frozenset[tuple[str, str]] = frozenset()
        if (folder / "places.csv").exists():
            p = folder_table(folder, "places.csv", ("setting_id", "package_id"))
            offers = frozenset(
                zip(p["setting_id"].str.strip(), p["package_id"].str.strip(), strict=True)
            )
        return cls(
            {k: tuple(dict.fromkeys(v)) for k, v in by_key.items()},
            offers,
            {norm_label(k): str(v) for k, v in aliases.items()},
        )

    def match(self, value: str, package_id: str) -> tuple[str | None, int]:
        """(setting_id, how many settings matched) for a URN, setting id or name.

        Several matches (a URN shared by a school and its base) are narrowed to those
        offering the child's package; still several, or none: no setting_id.
        """
        text = self.aliases.get(norm_label(value), value).strip()
        digits = text.removesuffix(".0")
        for key in ("urn:" + digits, "id:" + text.upper(), "name:" + norm_label(text)):
            hits = self.by_key.get(key)
            if hits:
                break
        else:
            return None, 0
        if len(hits) > 1:
            offering = [h for h in hits if (h, package_id) in self.offers]
            hits = tuple(offering) if offering else hits
        return (hits[0], 1) if len(hits) == 1 else (None, len(hits))


# --------------------------------------------------------------------------- result


@dataclasses.dataclass(frozen=True)
class ChildrenImport:
    """What an import made of an export (no personal data: counts and row problems).

    Attributes
    ----------
    children : the children.csv table (one row per child kept, sorted by child_id).
    rows_read : data rows in the export (blank rows not counted).
    skipped : rows the mapping's ``only_rows`` leaves out (not problems).
    left_out : one problem per row that could not be used (no id, age, package or home),
        naming the export's file, row, column and the fix.
    warnings : rows kept with a field left blank (current setting or a preference not in
        settings.csv, a need label not mapped, a postcode placed at its LSOA centroid).
    counts : how each field was filled, e.g. ``home_postcode``, ``home_lsoa_centroid``,
        ``package_from_need``, ``package_from_export``, ``continuing``.
    census_date : the 31 August the ages are taken at.
    source_rows : the export row of each child of ``children``, in its order.
    validation : the warnings ``optimiser validate`` gives the folder with the new
        children.csv (its rows told as the export's; set once written).
    notices : the folder's files whose "synthetic children" notice was replaced
        (:func:`mark_real_children`).
    path, backup : children.csv written and the copy of the file it replaced (None when
        not written / nothing was replaced).
    """

    children: pd.DataFrame
    rows_read: int
    skipped: int
    left_out: list[Problem]
    warnings: list[Problem]
    counts: dict[str, int]
    census_date: dt.date
    source_rows: tuple[int, ...] = ()
    validation: list[Problem] = dataclasses.field(default_factory=list)
    notices: tuple[str, ...] = ()
    path: Path | None = None
    backup: Path | None = None

    @property
    def problems(self) -> list[Problem]:
        """Every problem, rows left out first."""
        return [*self.left_out, *self.warnings]

    def summary(self) -> str:
        """Counts, one line each, then the problems (file, row, column, fix; no values)."""
        c = self.counts
        lines = [
            f"{self.rows_read} rows read; {len(self.children)} children kept, "
            f"{len(self.left_out)} rows left out, {self.skipped} skipped by only_rows",
            f"ages on {self.census_date:%d %B %Y} (start of the academic year "
            f"{self.census_date.year}/{(self.census_date.year + 1) % 100:02d})",
            f"homes: {c.get('home_postcode', 0)} by postcode, "
            f"{c.get('home_lsoa_centroid', 0)} at their LSOA's centroid",
            f"packages: {c.get('package_from_export', 0)} from the export, "
            f"{c.get('package_from_need', 0)} from the primary need (need_packages.csv)",
            f"{c.get('continuing', 0)} continuing placements matched, "
            f"{c.get('with_preferences', 0)} children with preferences",
        ]
        if self.problems:
            lines.append(
                format_problems(self.problems).replace(
                    "problem(s) in the input data", "row(s) left out"
                )
            )
        if self.validation:
            lines.append(f"{len(self.validation)} warning(s) from optimiser validate:")
            lines += [f"  - {p}" for p in self.validation]
        return "\n".join(lines)


# --------------------------------------------------------------------------- building


def _need_packages(folder: Path, packages: set[str]) -> dict[str, list[tuple[str, float]]]:
    """need → [(package_id, share)] from the folder's need_packages.csv, else init's."""
    if (folder / "need_packages.csv").exists():
        table = folder_table(folder, "need_packages.csv", ("need", "package_id", "share"))
    else:
        table = need_packages_table()
    shares = pd.to_numeric(table["share"], errors="coerce").to_numpy(float)
    bad = [i + 2 for i, v in enumerate(shares) if not (np.isfinite(v) and v >= 0)]
    if bad:
        raise_problems(
            [
                Problem(
                    "need_packages.csv",
                    r,
                    "share",
                    "a share that is not a number >= 0",
                    "the share of the need's children in this package (0-1)",
                    "correct the share",
                )
                for r in bad
            ]
        )
    out: dict[str, list[tuple[str, float]]] = {}
    for need, pkg, share in zip(table["need"], table["package_id"], shares, strict=True):
        if str(pkg).strip() in packages and share > 0:
            out.setdefault(str(need).strip().lower(), []).append((str(pkg).strip(), float(share)))
    return {k: sorted(v) for k, v in out.items()}


def _pick(shares: list[tuple[str, float]], u: float) -> str:
    total = sum(s for _, s in shares)
    edge = 0.0
    for pkg, share in shares:
        edge += share / total
        if u < edge:
            return pkg
    return shares[-1][0]


def build_children(
    export: str | Path,
    mapping: ChildrenMapping,
    folder: str | Path,
    *,
    key: bytes,
    postcodes: str | Path | None = None,
    as_of: dt.date | None = None,
) -> ChildrenImport:
    """The children.csv table of an export, and what could not be matched (writes nothing).

    Parameters
    ----------
    export : the case-management export (.csv or .xlsx).
    mapping : its :class:`~optimiser.dataset.imports.mapping.ChildrenMapping`.
    folder : dataset folder whose settings.csv, packages.csv, places.csv (and optional
        need_packages.csv, postcodes.csv) the children are matched against.
    key : the LA's pseudonymisation key (:func:`read_key`), at least 16 bytes.
    postcodes : ONSPD extract (or simple postcode lookup); default: the folder's
        postcodes.csv when there is one.
    as_of : a day in the academic year the ages are for (default: today); ages are taken
        on the 31 August before it.
    """
    if len(key) < MIN_KEY_BYTES:
        msg = f"the key has {len(key)} bytes; a key needs at least {MIN_KEY_BYTES}"
        raise OptimiserError(msg)
    export, folder = Path(export), Path(folder)
    census = year_start(as_of or dt.date.today())
    frame, rows = read_export(export, mapping)
    cols = mapping.columns
    log = RowLog(export.name, cols.primary_need or "")
    counts: dict[str, int] = {}
    packages = set(folder_table(folder, "packages.csv", ("package_id",))["package_id"])
    by_upper = {p.upper(): p for p in packages}
    need_pk = _need_packages(folder, packages) if cols.primary_need else {}
    need_of = {norm_label(k): v for k, v in mapping.need_values.items()}
    package_of = {norm_label(k): v for k, v in mapping.package_values.items()}
    settings = _Settings.read(folder, mapping.setting_values)
    yes = {v.strip().lower() for v in mapping.yes_values}
    lookup = postcode_index(postcodes, folder, frame[cols.postcode]) if cols.postcode else None
    if cols.postcode and lookup is None and cols.lsoa is None:
        raise_problems(
            [
                Problem(
                    export.name,
                    None,
                    cols.postcode,
                    "home postcodes but no postcode lookup",
                    "an ONSPD extract for the area",
                    "give --postcodes ONSPD.csv (the ONS Postcode Directory extract), or map "
                    "an lsoa column",
                )
            ]
        )
    lsoas = lsoa_table()
    keep = np.ones(len(frame), bool)
    for col, values in mapping.only_rows.items():
        wanted = {norm_label(v) for v in values}
        keep &= frame[col].map(norm_label).isin(wanted).to_numpy(bool)
    skipped = int((~keep).sum())
    seen: dict[str, int] = {}
    records = []
    for pos in np.flatnonzero(keep):
        cell = frame.iloc[pos]
        row = rows[pos]
        filled: list[str] = []  # how this row's fields were filled (counted if it is kept)
        count = filled.append
        raw_id = str(cell[cols.pupil_id]).strip()
        if not raw_id:
            log.leave_out(row, cols.pupil_id, "a blank pupil id", "the pupil's UPN", "fill it in")
            continue
        child_id = pseudonym(raw_id, key)
        if child_id in seen:
            log.leave_out(
                row,
                cols.pupil_id,
                f"the same pupil as row {seen[child_id]}",
                "one row per child",
                "remove the repeated row (the first is kept)",
            )
            continue
        age = _age(cell, row, cols.date_of_birth, cols.age, mapping.date_format, census, log)
        if age is None:
            continue
        need, need_ok = _need(cell, cols.primary_need, need_of)
        package_id = _package(
            cell,
            row,
            cols.package,
            need,
            need_ok,
            package_of,
            by_upper,
            need_pk,
            log,
            count,
            keyed_fraction(raw_id, key),
        )
        if package_id is None:
            continue
        home = home_location(cell, row, cols.postcode, cols.lsoa, lookup, lsoas, log, count)
        if home is None:
            continue
        seen[child_id] = row
        current = ""
        if cols.current_setting and str(cell[cols.current_setting]).strip():
            sid, n = settings.match(str(cell[cols.current_setting]), package_id)
            if sid is None:
                log.warn(
                    row,
                    cols.current_setting,
                    _unmatched(n),
                    "a setting in settings.csv",
                    _SETTING_FIX + "; the child is treated as still to place",
                )
            else:
                current = sid
                count("continuing")
        prefs: list[str] = []
        for col in cols.preferences:
            for token in (t for t in str(cell[col]).split(";") if t.strip()):
                sid, n = settings.match(token, package_id)
                if sid is None:
                    log.warn(
                        row,
                        col,
                        "a preference " + _unmatched(n)[2:],
                        "a setting in settings.csv",
                        _SETTING_FIX + "; the preference is left out",
                    )
                elif sid not in prefs:
                    prefs.append(sid)
        if prefs:
            count("with_preferences")
        flags = {
            f: _flag(cell, row, getattr(cols, f), yes, log)
            for f in ("prefers_mainstream", "solo_transport", "wheelchair", "cannot_walk")
        }
        records.append(
            {
                "child_id": child_id,
                "package_id": package_id,
                "age": age,
                **home,
                "primary_need": need,
                "preferences": ";".join(prefs),
                "current_setting_id": current,
                **flags,
                "_row": row,
            }
        )
        for what in filled:
            counts[what] = counts.get(what, 0) + 1
    children = _table(records)
    gone = {p.row for p in log.left_out}  # a row left out needs no warnings besides
    return ChildrenImport(
        children=children.drop(columns="_row"),
        rows_read=len(frame),
        skipped=skipped,
        left_out=log.left_out,
        warnings=[w for w in log.warnings if w.row not in gone],
        counts=counts,
        census_date=census,
        source_rows=tuple(int(r) for r in children["_row"]),
    )


_SETTING_FIX = "give its URN, or add the name to setting_values in the mapping"


def _unmatched(n: int) -> str:
    return (
        "a setting not in settings.csv (by URN, setting_id or name)"
        if n == 0
        else f"a setting name matching {n} settings in settings.csv"
    )


def _age(
    cell: pd.Series,
    row: int,
    dob_col: str | None,
    age_col: str | None,
    fmt: str | None,
    census: dt.date,
    log: RowLog,
) -> int | None:
    if dob_col is not None:
        text = str(cell[dob_col]).strip()
        born = parse_date(text, fmt)
        if born is None:
            log.leave_out(
                row,
                dob_col,
                "a blank date of birth" if not text else "a date of birth that is not a date",
                "a date (31/03/2015 or 2015-03-31)" if fmt is None else f"a date as {fmt}",
                "fill in or correct the date of birth (or set date_format in the mapping)",
            )
            return None
        age, col = age_on(born, census), dob_col
    else:
        assert age_col is not None
        text = str(cell[age_col]).strip().removesuffix(".0")
        if not text.isdigit():
            log.leave_out(
                row,
                age_col,
                "a blank age" if not text else "an age that is not a whole number",
                "the age in whole years",
                "fill in the age",
            )
            return None
        age, col = int(text), age_col
    lo, hi = CHILDREN.column("age").min, CHILDREN.column("age").max
    if not (lo is not None and hi is not None and lo <= age <= hi):
        log.leave_out(
            row,
            col,
            f"an age outside {lo}-{hi} on {census:%d/%m/%Y}",
            f"an age of {lo}-{hi} (EHC plans run to 25)",
            "check the date of birth (and --as-of)",
        )
        return None
    return age


def _need(cell: pd.Series, col: str | None, need_of: dict[str, str]) -> tuple[str, bool]:
    """(schema need code, whether the label was understood); blank = 'unknown'."""
    if col is None:
        return "", True
    label = str(cell[col]).strip()
    if not label:
        return "unknown", True
    code = need_of.get(norm_label(label), label.upper().replace(" ", ""))
    if code in SEN2_NEED_CODES:
        return SEN2_NEED_CODES[code], True
    return "", False


def _package(
    cell: pd.Series,
    row: int,
    col: str | None,
    need: str,
    need_ok: bool,
    package_of: dict[str, str],
    by_upper: dict[str, str],
    need_pk: dict[str, list[tuple[str, float]]],
    log: RowLog,
    count: Callable[[str], None],
    u: float,
) -> str | None:
    label = str(cell[col]).strip() if col else ""
    if label:
        pkg = by_upper.get(package_of.get(norm_label(label), label).strip().upper())
        if pkg is None:
            log.leave_out(
                row,
                str(col),
                "a package not in packages.csv",
                "a package_id (SPP1…) or a label in the mapping's package_values",
                "add the label to package_values in the mapping",
            )
            return None
        count("package_from_export")
        if not need_ok:
            _need_warning(row, log)
        return pkg
    if not need_ok:
        _need_warning(row, log, left_out=True)
        return None
    if need == "":
        log.leave_out(
            row,
            str(col),
            "a blank package",
            "the child's package (SPP1…)",
            "fill it in, or map a primary_need column",
        )
        return None
    shares = need_pk.get(need)
    if not shares:
        log.leave_out(
            row,
            log.need_col,
            "a primary need with no package in need_packages.csv",
            "a need_packages.csv row for each need",
            "add rows to need_packages.csv in the dataset folder (need, package_id, share)",
        )
        return None
    count("package_from_need")
    return _pick(shares, u)


def _need_warning(row: int, log: RowLog, *, left_out: bool = False) -> None:
    args = (
        "a need label not in the mapping",
        "a SEN2 code (ASD, SLCN, SEMH, MLD, SLD, PMLD, SPLD, HI, VI, MSI, PD, OTH, NSA) or a "
        "label in need_values",
        "add the label to need_values in the mapping",
    )
    col = log.need_col
    (log.leave_out if left_out else log.warn)(row, col, *args)


def _flag(cell: pd.Series, row: int, col: str | None, yes: set[str], log: RowLog) -> bool:
    if col is None:
        return False
    value = str(cell[col]).strip().lower()
    if value in yes:
        return True
    if value not in _NO_VALUES:
        log.warn(
            row,
            col,
            "a value that is neither yes nor no",
            f"one of {sorted(yes)} or blank",
            "correct it, or list it in yes_values in the mapping; read as no",
        )
    return False


def _table(records: list[dict[str, object]]) -> pd.DataFrame:
    """children.csv's columns in schema order, sorted by child_id (not the export's order)."""
    frame = pd.DataFrame(records, columns=[*_CHILD_COLUMNS, "_row"])
    for c in ("travel_mode",):
        frame[c] = ""
    for c in ("prefers_mainstream", "solo_transport", "wheelchair", "cannot_walk"):
        frame[c] = frame[c].fillna(False).astype(bool)
    return frame.sort_values("child_id", ignore_index=True)


# --------------------------------------------------------------------------- writing


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _backup_path(target: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = target.with_name(f"{target.name}.{stamp}.bak")
    i = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.name}.{stamp}-{i}.bak")
        i += 1
    return candidate


def _csv_frame(children: pd.DataFrame) -> pd.DataFrame:
    out = children.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = np.where(out[c], "true", "false")
    return out


def _validate_staged(
    result: ChildrenImport, folder: Path, export: str
) -> tuple[Path, list[Problem]]:
    """A staging folder in ``folder`` (its files linked in, the new children.csv written),
    loaded and validated as ``optimiser validate`` would, and the validator's warnings.

    Errors are raised, and warnings returned, with each children.csv row turned into the
    export's row (:func:`_to_export_row`).
    """
    stage = folder / f".children-import-{os.getpid()}-{secrets.token_hex(4)}"
    stage.mkdir()
    try:
        for item in folder.iterdir():
            if item.is_file() and item.name != "children.csv" and not item.name.endswith(".bak"):
                try:
                    os.link(item, stage / item.name)
                except OSError:
                    shutil.copy2(item, stage / item.name)
        write_csv_output(_csv_frame(result.children), stage / "children.csv")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                ds = load_dataset(stage)
        except DataValidationError as exc:
            problems = [_to_export_row(p, result.source_rows, export) for p in exc.problems]
            raise_problems(problems or [Problem(folder.name, None, "", str(exc), "", "")])
        soft = [
            _to_export_row(p, result.source_rows, export)
            for p in collect_problems(ds)
            if p.severity == "warning"
        ]
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage, soft


def _to_export_row(p: Problem, rows: tuple[int, ...], export: str) -> Problem:
    """A validator's problem on a children.csv row, told as the export's row.

    What it found is not repeated (it may quote the child's setting or package): the row,
    column, what was expected and the fix say where to look.
    """
    if p.file != "children.csv" or p.row is None or not 2 <= p.row < len(rows) + 2:
        return p
    column = f"{p.column} (children.csv row {p.row})"
    found = "a value optimiser validate flags" if p.severity == "warning" else "a bad value"
    return dataclasses.replace(p, file=export, row=rows[p.row - 2], column=column, found=found)


def real_children_notice(census: dt.date) -> str:
    """The data notice of a folder whose children come from the LA's own records."""
    return (
        "The children are the LA's own records (a case-management export imported by "
        f"optimiser import children, pupil ids pseudonymised; ages at {census:%d %B %Y})."
    )


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        write_text_output(tmp, text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def mark_real_children(folder: Path, census: dt.date) -> list[str]:
    """Take the "synthetic children" notices out of a folder whose children are now real.

    ``optimiser init`` (and the embedded data) say in policy.yaml's ``data_notice`` and in
    attribution.txt that the children are synthetic; every output repeats it. The notice
    and the attribution's sentence about synthetic children are replaced by
    :func:`real_children_notice`; nothing else in either file changes.

    Returns
    -------
    The files changed, by name.
    """
    changed = []
    notice = real_children_notice(census)
    policy = folder / "policy.yaml"
    if policy.is_file():
        lines = policy.read_text(encoding="utf-8").splitlines()
        out: list[str] = []
        block: list[str] = []
        for line in lines:
            if block and line.startswith("  "):
                block.append(line)
                continue
            if block:
                out += _notice_block(block, notice)
                block = []
            if line.startswith("data_notice:"):
                block = [line]
            else:
                out.append(line)
        if block:
            out += _notice_block(block, notice)
        if out != lines:
            _replace_text(policy, "\n".join(out) + "\n")
            changed.append(policy.name)
    attribution = folder / "attribution.txt"
    if attribution.is_file():
        text = attribution.read_text(encoding="utf-8")
        sentences = re.split(r"(?<=\.)\s+", text.strip())
        kept = [x for x in sentences if not ("synthetic" in x.lower() and "children" in x.lower())]
        if len(kept) < len(sentences):
            _replace_text(attribution, " ".join([*kept, notice]) + "\n")
            changed.append(attribution.name)
    return changed


def _notice_block(block: list[str], notice: str) -> list[str]:
    """The data_notice lines, replaced by ``notice`` when they say the children are synthetic."""
    if "synthetic" not in " ".join(block).lower():
        return block
    return [f"data_notice: {json.dumps(notice, ensure_ascii=False)}"]


def import_children(
    export: str | Path,
    mapping: str | Path | ChildrenMapping,
    into: str | Path,
    *,
    key: bytes,
    postcodes: str | Path | None = None,
    as_of: dt.date | None = None,
    strict: bool = False,
    force: bool = False,
) -> ChildrenImport:
    """Import a case-management export as the dataset folder's children.csv.

    Parameters
    ----------
    export, key, postcodes, as_of : as for :func:`build_children`.
    mapping : mapping.yaml (path) or a loaded :class:`ChildrenMapping`.
    into : the dataset folder (from ``optimiser init`` or built by hand); its settings.csv
        and packages.csv must exist. The export and the key file must live outside it.
    strict : fail, writing nothing, when any row is left out or any field could not be
        matched (default: leave out the rows that cannot be placed, count them, and write
        the rest; every problem is in the result).
    force : replace an existing children.csv, keeping the old one as
        ``children.csv.<UTC time>.bak`` beside it (default: refuse to replace it).

    Returns
    -------
    :class:`ChildrenImport` with ``path`` (and ``backup``) set.

    Raises
    ------
    DataValidationError
        listing the problems (file, row, column, fix) when ``strict`` finds any, when no
        child is left, or when the folder with the new children.csv fails validation.
    OutputExistsError
        when children.csv exists and ``force`` is not given (checked before any work).
    """
    export, folder = Path(export), Path(into)
    target = folder / "children.csv"
    if not folder.is_dir() or not (folder / "settings.csv").exists():
        msg = (
            f"{folder} is not a dataset folder (no settings.csv); make one with "
            f"`optimiser init --la CODE --out {folder}` first"
        )
        raise OptimiserError(msg)
    if folder.resolve() == default_path().resolve():
        msg = (
            f"{folder} is the embedded Trafford data, which is never changed; copy it, or "
            "make a folder with `optimiser init --la CODE --out DIR`, and import into that"
        )
        raise OptimiserError(msg)
    if target.exists() and not force:
        msg = (
            f"{target} already exists; add --force to replace it (the old file is kept as "
            "children.csv.<time>.bak beside it)"
        )
        raise OutputExistsError(msg)
    if _inside(export, folder):
        msg = (
            f"the export {export.name} is inside the dataset folder {folder}; move it out "
            "(the raw file must never be kept with the dataset)"
        )
        raise OptimiserError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"cannot write {target}: the folder {folder} is not writable; choose another"
        raise OutputError(msg)
    if not isinstance(mapping, ChildrenMapping):
        mapping = load_mapping(mapping)
    result = build_children(export, mapping, folder, key=key, postcodes=postcodes, as_of=as_of)
    if strict and result.problems:
        raise_problems([dataclasses.replace(p, severity="error") for p in result.problems])
    if result.children.empty:
        raise_problems(
            [
                *result.left_out,
                Problem(
                    export.name,
                    None,
                    "",
                    "no row that could be used",
                    "at least one child with an id, age, package and home",
                    "fix the rows listed (or the mapping)",
                ),
            ]
        )
    stage, checked = _validate_staged(result, folder, export.name)
    backup = None
    try:
        staged = stage / "children.csv"
        if force and target.exists():
            backup = _backup_path(target)
            try:
                os.link(target, backup)  # exclusive: never over another file
            except FileExistsError:
                raise
            except OSError:  # no hard links on this file system
                shutil.copy2(target, backup)
            os.replace(staged, target)
        else:
            write_csv_output(_csv_frame(result.children), target)  # atomic, never over a file
    except OptimiserError:
        raise
    except OSError as exc:
        raise output_error(target, exc) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    notes = mark_real_children(folder, result.census_date)
    return dataclasses.replace(
        result, path=target, backup=backup, validation=checked, notices=tuple(notes)
    )
