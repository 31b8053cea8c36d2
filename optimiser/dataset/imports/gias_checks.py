"""Checks of a GIAS download against a dataset: which rows can be used, and what to warn of.

:func:`parse_rows` turns the GIAS rows the dataset holds (by URN) into typed records and
reports each cell that cannot be used as an error naming the file, row, column and fix;
:func:`cross_checks` compares GIAS with the dataset and returns warnings.
"""

from __future__ import annotations

import pandas as pd

from optimiser.dataset.imports.gias import FIELDS, provision_codes
from optimiser.dataset.init.national import LocalAuthority
from optimiser.dataset.init.supply import GIAS_TYPE
from optimiser.problems import Problem
from optimiser.schema.tables import HOST_GENDERS

__all__ = ["cross_checks", "dataset_urns", "parse_rows", "unknown_codes"]

#: GIAS statuses of an establishment that takes pupils.
OPEN_STATUSES = ("open", "open, but proposed to close")
#: Oldest age_max the schema allows [years]; GIAS's high age is one more.
MAX_AGE = 25
_NO_PROVISION = ("", "not applicable", "not recorded")
_FIX_ROW = "correct the cell in the GIAS file, or delete the row to leave the setting unchanged"


def _urn(text: str) -> int | None:
    text = str(text).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() and 100000 <= int(text) <= 999999 else None


def dataset_urns(settings: pd.DataFrame, candidates: pd.DataFrame | None) -> set[int]:
    """URNs of the settings and candidate sites (blank and malformed URNs left out)."""
    frames = [settings] + ([candidates] if candidates is not None else [])
    return {u for f in frames if "urn" in f for u in map(_urn, f["urn"]) if u is not None}


def _col(gias: pd.DataFrame, field: str) -> str:
    return str(gias.attrs.get("columns", {}).get(field, FIELDS[field][0]))


class _Row:
    """Typed cells of one GIAS row; each bad cell becomes an error."""

    def __init__(self, gias: pd.DataFrame, rec: dict, file: str, problems: list[Problem]):
        self.gias, self.rec, self.file, self.problems = gias, rec, file, problems

    def text(self, field: str) -> str:
        return str(self.rec.get(field, ""))

    def bad(self, field: str, expected: str, fix: str = _FIX_ROW) -> None:
        name = self.rec.get("name", "")
        found = f"{self.text(field)!r}" + (f" ({name})" if name else "")
        self.problems.append(
            Problem(self.file, int(self.rec["row"]), _col(self.gias, field), found, expected, fix)
        )

    def count(self, field: str) -> int | None:
        """A whole number >= 0, None when blank or the column is absent."""
        text = self.text(field)
        if text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if value < 0 or not value.is_integer():
            self.bad(field, "a whole number of places (or blank)")
            return None
        return int(value)

    def ages(self) -> tuple[int, int] | None:
        """(age_min, age_max) in the dataset's convention: StatutoryHighAge − 1."""
        low, high = self.text("low_age"), self.text("high_age")
        if low == "" and high == "":
            return None
        values = []
        for field, text in (("low_age", low), ("high_age", high)):
            if not text.isdigit() or int(text) > MAX_AGE + 1:
                self.bad(field, f"a whole number of years from 0 to {MAX_AGE + 1}")
                return None
            values.append(int(text))
        if values[0] >= values[1]:
            self.bad(
                "low_age",
                f"StatutoryLowAge below StatutoryHighAge (found high age {high})",
                "swap or correct the ages in the GIAS file, or delete the row",
            )
            return None
        return values[0], values[1] - 1

    def grid(self) -> tuple[int, int] | None:
        """(easting, northing) [m]; missing coordinates are an error."""
        if "easting" not in self.rec or "northing" not in self.rec:
            return None
        out = []
        for field, top in (("easting", 700_000), ("northing", 1_300_000)):
            try:
                value = float(self.text(field))
            except ValueError:
                value = 0.0
            if not 0 < value <= top:
                self.bad(
                    field,
                    f"British National Grid metres from 1 to {top} (GIAS leaves it blank "
                    "when it has no grid reference)",
                    "add the setting's Easting and Northing to the row (from its postcode), "
                    "or delete the row to leave the setting unchanged",
                )
                return None
            out.append(round(value))
        return out[0], out[1]


def parse_rows(
    gias: pd.DataFrame,
    file: str,
    *,
    wanted: set[int],
    la: LocalAuthority,
    problems: list[Problem],
) -> dict[int, dict]:
    """URN -> typed record for each GIAS row whose URN the dataset holds.

    Errors: the file holds no establishment of ``la``; a row of the LA whose URN is not a
    6-digit number; a URN twice; in a matched row, ages, coordinates or capacities that
    cannot be used. Gender outside Mixed/Boys/Girls/Not applicable is a warning.
    """
    la_rows = gias["la_code"].str.removesuffix(".0") == la.code
    if not la_rows.any():
        problems.append(
            Problem(
                file,
                None,
                _col(gias, "la_code"),
                f"no establishment with LA code {la.code} ({la.name}) in {len(gias)} rows",
                f"the rows of {la.name} (GIAS's 3-digit LA code {la.code})",
                "check --la, or download the full file (not a search export of another area)",
            )
        )
    out: dict[int, dict] = {}
    seen: dict[int, int] = {}
    # only the LA's rows and the dataset's URNs are looked at, row by row (50,000 rows)
    looked = la_rows | gias["urn"].str.removesuffix(".0").isin({str(u) for u in wanted})
    for rec, in_la in zip(gias[looked].to_dict("records"), la_rows[looked], strict=True):
        row = _Row(gias, rec, file, problems)
        urn = _urn(rec["urn"])
        if urn is None:
            if in_la:
                row.bad("urn", "GIAS's 6-digit URN", "correct the URN, or delete the row")
            continue
        if urn not in wanted:
            continue
        if urn in seen:
            row.bad("urn", f"each URN once (also on row {seen[urn]})", "delete the repeated row")
            continue
        seen[urn] = int(rec["row"])
        gender = row.text("gender")
        if gender and gender not in HOST_GENDERS:
            problems.append(
                Problem(file, int(rec["row"]), _col(gias, "gender"), repr(gender),
                        ", ".join(HOST_GENDERS), "left unchanged; correct it in the file",
                        "warning")
            )  # fmt: skip
            gender = ""
        rp, unit = row.count("rp_capacity"), row.count("unit_capacity")
        given = [v for v in (rp, unit) if v is not None]
        out[urn] = {
            "row": int(rec["row"]),
            "name": row.text("name"),
            "la_code": row.text("la_code").removesuffix(".0"),
            "easting": None,
            "northing": None,
            "ages": row.ages(),
            "capacity": row.count("capacity"),
            "unit_places": sum(given) if given and sum(given) > 0 else None,
            "gender": gender,
            "admissions": row.text("admissions"),
            "rp_type": row.text("rp_type"),
            "type": row.text("type"),
            "status": row.text("status"),
            "phase": row.text("phase").lower(),
            "codes": provision_codes([row.text(f"sen{i}") for i in range(1, 14)]),
        }
        grid = row.grid()
        if grid is not None:
            out[urn]["easting"], out[urn]["northing"] = grid
    return out


def unknown_codes(
    records: dict[int, dict], mapping: dict[str, tuple[str, ...]], *, file: str
) -> list[Problem]:
    """A warning for each SEN provision code of the matched rows that the mapping lacks."""
    first: dict[str, tuple[int, int]] = {}
    for rec in records.values():
        for code in rec["codes"]:
            row, n = first.get(code, (rec["row"], 0))
            first[code] = (min(row, rec["row"]), n + 1)
    return [
        Problem(
            file,
            row,
            "SEN1 (name)..SEN13 (name)",
            f"SEN provision type {code!r} on {n} matched row(s)",
            f"a provision type of the mapping ({', '.join(sorted(mapping))})",
            f"add a row for {code} to the mapping (--mapping FILE); until then it names no package",
            "warning",
        )
        for code, (row, n) in sorted(first.items())
        if code.upper() not in mapping
    ]


def _warn(file: str, row: int | None, column: str, found: str, expected: str, fix: str) -> Problem:
    return Problem(file, row, column, found, expected, fix, "warning")


def _missing_from_file(
    frame: pd.DataFrame, file: str, gias_file: str, records: dict, la: LocalAuthority
) -> list[Problem]:
    """One warning for the rows of the LA whose URN the file does not hold (left unchanged)."""
    rows = []
    for pos, r in enumerate(frame.to_dict("records")):
        urn = _urn(r.get("urn", ""))
        of_la = file == "candidates.csv" or str(r.get("la_code", "")).removesuffix(".0") == la.code
        if urn is not None and urn not in records and of_la:
            rows.append(pos + 2)
    if not rows:
        return []
    shown = ", ".join(map(str, rows[:12])) + (
        f" and {len(rows) - 12} more" if len(rows) > 12 else ""
    )
    return [
        _warn(file, None, "urn", f"{len(rows)} row(s) of {la.name} whose URN is not in "
              f"{gias_file} (row {shown})", f"every establishment of {la.name} in the GIAS file",
              "these rows are left unchanged; check their URNs, or that the file is the full "
              "GIAS download")
    ]  # fmt: skip


def _lacking(gias: pd.DataFrame, file: str, la: LocalAuthority, urns: set[int]) -> list[Problem]:
    """The LA's open special schools and resourced provisions that the dataset lacks."""
    out = []
    of_la = gias[gias["la_code"].str.removesuffix(".0") == la.code]
    for rec in of_la.to_dict("records"):
        status = str(rec.get("status", "open")).lower() or "open"
        special = rec.get("type", "") in GIAS_TYPE
        unit = str(rec.get("rp_type", "")).strip().lower() not in _NO_PROVISION
        urn = _urn(rec["urn"])
        if urn is None or urn in urns or status not in OPEN_STATUSES or not (special or unit):
            continue
        what = rec.get("type", "") if special else rec.get("rp_type", "")
        out.append(
            _warn(file, int(rec["row"]), _col(gias, "urn"), f"URN {urn} {rec.get('name', '')} "
                  f"({what}) not in settings.csv or candidates.csv",
                  f"each open special school and resourced provision of {la.name} in the dataset",
                  "add it to settings.csv (and its places to places.csv) if the LA places "
                  "children there")
        )  # fmt: skip
    return out


def cross_checks(
    gias: pd.DataFrame,
    records: dict[int, dict],
    file: str,
    *,
    la: LocalAuthority,
    settings: pd.DataFrame,
    candidates: pd.DataFrame | None,
    places: pd.DataFrame,
) -> list[Problem]:
    """Warnings: what GIAS and the (updated) dataset disagree about."""
    out = _missing_from_file(settings, "settings.csv", file, records, la)
    if candidates is not None:
        out += _missing_from_file(candidates, "candidates.csv", file, records, la)
    out += _lacking(gias, file, la, dataset_urns(settings, candidates))
    offered: dict[str, list[tuple[int, str, int]]] = {}
    for pos, (sid, pkg, n) in enumerate(
        zip(places["setting_id"], places["package_id"], places["places"], strict=True)
    ):
        offered.setdefault(sid, []).append((pos + 2, pkg, int(float(n or 0))))
    frames = [("settings.csv", settings)] + (
        [("candidates.csv", candidates)] if candidates is not None else []
    )
    for file_name, frame in frames:
        for pos, r in enumerate(frame.to_dict("records")):
            urn = _urn(r.get("urn", ""))
            if urn is None or urn not in records:
                continue
            out += _row_checks(file_name, pos + 2, r, records[urn], offered)
    return out


def _row_checks(
    file: str, row: int, r: dict, rec: dict, offered: dict[str, list[tuple[int, str, int]]]
) -> list[Problem]:
    out = []
    kind = r.get("setting_type", "candidate")
    name = r.get("name", "")
    has_unit = rec["rp_type"].strip().lower() not in _NO_PROVISION
    status = rec["status"].strip().lower()
    if status and status not in OPEN_STATUSES:
        out.append(
            _warn(file, row, "urn", f"{name} is {rec['status']!r} in GIAS", "an open establishment",
                  "set closed to true in settings.csv, or remove the row, if it no longer "
                  "takes pupils")
        )  # fmt: skip
    if kind == "inclusion_base" and not has_unit and rec["unit_places"] is None:
        out.append(
            _warn(file, row, "setting_type", f"inclusion_base at {name}, but GIAS lists no "
                  "resourced provision or SEN unit there", "a base GIAS knows",
                  "check the base is real (init assumes its bases); make the row mainstream or "
                  "remove it and its places if not")
        )  # fmt: skip
    if kind in ("mainstream", "candidate") and has_unit:
        cap = "" if rec["unit_places"] is None else f", {rec['unit_places']} places"
        out.append(
            _warn(file, row, "urn", f"{name} has a {rec['rp_type']}{cap} in GIAS",
                  "inclusion bases listed as settings of type inclusion_base",
                  "add the base to settings.csv as an inclusion_base with its places "
                  "(and drop the candidate row, if it is one)")
        )  # fmt: skip
    sid = str(r.get("setting_id", ""))
    rows = offered.get(sid, [])
    pkgs = set(filter(None, str(r.get("packages", "")).split(";")))
    if kind in ("inclusion_base", "maintained_special", "academy_special") and pkgs:
        for prow, pkg, _ in rows:
            if pkg not in pkgs:
                out.append(
                    _warn("places.csv", prow, "package_id", f"{pkg} at {sid} {name}",
                          "the packages its GIAS provision types map to "
                          f"({';'.join(sorted(pkgs))})",
                          "check the places row; edit the mapping if the provision delivers it")
                )  # fmt: skip
    if kind == "inclusion_base" and rec["unit_places"] is not None:
        total = sum(n for _, _, n in rows)
        if total > rec["unit_places"]:
            out.append(
                _warn("places.csv", rows[0][0] if rows else None, "places",
                      f"{total} places at {sid} {name}, over its GIAS capacity "
                      f"{rec['unit_places']}", "places within the base's capacity",
                      "lower the places rows to the base's capacity (the allocation caps at "
                      "total_places)")
            )  # fmt: skip
    return out
