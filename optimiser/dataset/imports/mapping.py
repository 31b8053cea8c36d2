"""The mapping file of a case-management import: which export column holds what.

An LA's EHCP caseload export (Capita One, Synergy, Liquid Logic, Mosaic, a SEN2 person-level
return) has its own headers. ``mapping.yaml`` names, for the export at hand, the column of
each field ``optimiser import children`` reads, and how local labels translate to the
tool's codes (``need_values: {Autism: ASD}``). Unknown keys are errors, so a typo never
passes silently. Examples: ``examples/import_mappings/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from optimiser.problems import Problem, load_yaml, raise_problems
from optimiser.schema.tables import PRIMARY_NEEDS

#: SEN2 primary-need codes as DfE writes them (upper case); ``NSA`` = "no specialist
#: assessment" (need not recorded), read as the schema's ``unknown``.
SEN2_NEED_CODES: dict[str, str] = {
    **{code.upper(): code for code in PRIMARY_NEEDS if code != "unknown"},
    "NSA": "unknown",
    "UNKNOWN": "unknown",
}
#: Cell values read as "yes" in a flag column unless the mapping gives its own.
YES_VALUES = ("y", "yes", "true", "1", "x")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChildrenColumns(_Strict):
    """Export column (its header, as written in row ``header_row``) of each field.

    ``pupil_id`` is pseudonymised on import; give one of ``date_of_birth`` / ``age``, one
    or both of ``postcode`` / ``lsoa`` (the LSOA is the fallback when a postcode is not in
    the lookup), and ``primary_need`` or ``package`` (or both).
    """

    pupil_id: str = Field(description="pupil id (UPN): pseudonymised, never written")
    date_of_birth: str | None = Field(None, description="date of birth; age at 31 August")
    age: str | None = Field(None, description="age in whole years at the start of the year")
    primary_need: str | None = Field(None, description="primary need (SEN2 code or label)")
    package: str | None = Field(None, description="Specialist Provision Package, if held")
    current_setting: str | None = Field(None, description="current setting: URN or name")
    postcode: str | None = Field(None, description="home postcode")
    lsoa: str | None = Field(None, description="home LSOA 2021 code (E01…)")
    preferences: list[str] = Field(
        default_factory=list,
        description="preference columns, first preference first (URN or name; a cell may "
        "hold several separated by ';')",
    )
    prefers_mainstream: str | None = None
    solo_transport: str | None = None
    wheelchair: str | None = None
    cannot_walk: str | None = None

    @field_validator("preferences", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _enough(self) -> ChildrenColumns:
        if (self.date_of_birth is None) == (self.age is None):
            msg = "give exactly one of date_of_birth and age"
            raise ValueError(msg)
        if self.postcode is None and self.lsoa is None:
            msg = "give postcode or lsoa (or both) so each home can be put on the map"
            raise ValueError(msg)
        if self.primary_need is None and self.package is None:
            msg = "give primary_need or package (or both) so each child gets a package"
            raise ValueError(msg)
        return self

    def used(self) -> list[str]:
        """Every export column the mapping reads, in field order, once each."""
        out: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            for col in value if isinstance(value, list) else [value]:
                if col is not None and col not in out:
                    out.append(col)
        return out


class ChildrenMapping(_Strict):
    """How to read one layout of EHCP caseload export (``mapping.yaml``).

    Attributes
    ----------
    source : what the layout is, e.g. "Capita One EHCP caseload report" (shown only).
    sheet : worksheet of an .xlsx export (default: the first).
    header_row : spreadsheet row holding the column headers (1 = first); rows above it
        (report titles) are skipped. Row numbers in messages stay the spreadsheet's.
    columns : :class:`ChildrenColumns`.
    date_format : strftime format of the date of birth (e.g. ``"%d/%m/%Y"``); default:
        ISO (2015-03-31) or UK day-first (31/03/2015, 31-03-2015, 31.03.2015); never
        month-first.
    need_values : local need label → SEN2 code (ASD, SLCN, SEMH, MLD, SLD, PMLD, SPLD, HI,
        VI, MSI, PD, OTH, NSA); labels match ignoring case and spaces. SEN2 codes
        themselves are always understood.
    package_values : local package label → package_id (packages.csv).
    setting_values : local setting name → URN or setting_id (settings.csv), for names the
        export spells differently from settings.csv.
    yes_values : cell values read as true in the flag columns (case ignored).
    only_rows : keep only rows whose column holds one of the values (e.g. the plans with
        a specialist placement): ``{column: [values]}``; other rows are skipped and counted.
    """

    source: str = ""
    sheet: str | None = None
    header_row: int = Field(1, ge=1, le=1000)
    columns: ChildrenColumns
    date_format: str | None = None
    need_values: dict[str, str] = Field(default_factory=dict)
    package_values: dict[str, str] = Field(default_factory=dict)
    setting_values: dict[str, str] = Field(default_factory=dict)
    yes_values: list[str] = Field(default_factory=lambda: list(YES_VALUES))
    only_rows: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("need_values")
    @classmethod
    def _sen2_codes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [
            f"{k!r}: {v!r}"
            for k, v in value.items()
            if str(v).strip().upper() not in SEN2_NEED_CODES
        ]
        if bad:
            codes = ", ".join(c for c in SEN2_NEED_CODES if c != "UNKNOWN")
            msg = f"{'; '.join(bad)} is not a SEN2 primary-need code ({codes})"
            raise ValueError(msg)
        return {str(k): str(v).strip().upper() for k, v in value.items()}

    @field_validator("only_rows", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def used_columns(self) -> list[str]:
        """Every export column the mapping reads (fields, then the only_rows columns)."""
        return list(dict.fromkeys([*self.columns.used(), *self.only_rows]))


def load_mapping(path: str | Path) -> ChildrenMapping:
    """Read ``mapping.yaml``.

    Raises
    ------
    DataValidationError
        naming the file and each bad key (unknown key, missing column, a need label mapped
        to something that is not a SEN2 code), with the fix.
    """
    path = Path(path)
    file = path.name
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), file=file)
    except FileNotFoundError:
        raise_problems(
            [Problem(file, None, "", "no such file", "a mapping.yaml", f"check the path {path}")]
        )
    except UnicodeDecodeError:
        raise_problems(
            [Problem(file, None, "", "bytes that are not UTF-8", "UTF-8 text", "save as UTF-8")]
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise_problems(
            [
                Problem(
                    file,
                    None if mark is None else mark.line + 1,
                    "",
                    "malformed YAML",
                    "valid YAML 'key: value'",
                    f"fix the YAML syntax ({getattr(exc, 'problem', exc)})",
                )
            ]
        )
    if not isinstance(data, dict):
        raise_problems(
            [
                Problem(
                    file,
                    None,
                    "",
                    type(data).__name__,
                    "a mapping with a 'columns:' section",
                    "start from one of examples/import_mappings/*.yaml",
                )
            ]
        )
    try:
        return ChildrenMapping(**data)
    except ValidationError as exc:
        raise_problems(
            [
                Problem(
                    file,
                    None,
                    "key " + (".".join(str(p) for p in err["loc"]) or "(top level)"),
                    "missing" if err["type"] == "missing" else repr(err.get("input"))[:60],
                    str(err["msg"]).removeprefix("Value error, "),
                    "correct or remove this key (see docs/imports_children.md)",
                )
                for err in exc.errors()
            ]
        )
    raise AssertionError("unreachable")  # pragma: no cover
