"""An option built in the app without YAML: a list of changes, and its Scenario.

The app's Options page edits an :class:`OptionDraft`; each change is held in the same
shape as a scenario YAML file's ``changes:`` list (``{"add_setting": {...}}``), so a
draft is saved as, and loaded from, exactly the file a planner would hand-write
(:func:`optimiser.load_scenario` reads it back). Every change is validated by the
scenario code itself when the draft becomes a :class:`~optimiser.scenarios.scenario.Scenario`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import yaml

from optimiser._errors import DataValidationError
from optimiser.dataset.model import Dataset
from optimiser.problems import Problem, raise_problems
from optimiser.scenarios.changes import Change, DemandGrowth, PolicyChange
from optimiser.scenarios.scenario import Scenario, scenario_from_mapping

PHASES = ("primary", "secondary", "post16")
#: Ages of a base by the host's phase (school-age bases; post-16 through an all-through host).
PHASE_AGES = {"primary": (4, 10), "secondary": (11, 16), "all-through": (4, 16)}


@dataclass(frozen=True)
class OptionDraft:
    """A named option under construction: changes in scenario-file form.

    Attributes
    ----------
    name : the option's name (its column in Compare).
    description : free text saved with it.
    changes : the changes, each ``{kind: {field: value}}`` as in a scenario YAML file.
    """

    name: str
    description: str = ""
    changes: tuple[dict[str, dict[str, Any]], ...] = field(default_factory=tuple)

    def mapping(self) -> dict[str, Any]:
        """The scenario file's content as a mapping."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["changes"] = [dict(c) for c in self.changes]
        return out

    def to_yaml(self) -> str:
        """The scenario YAML text (what Save writes and Load reads)."""
        return yaml.safe_dump(self.mapping(), sort_keys=False, allow_unicode=True)

    def scenario(self) -> Scenario:
        """The Scenario; raises DataValidationError naming each bad change."""
        return scenario_from_mapping(self.mapping(), source=f"option {self.name!r}")

    def with_change(self, change: dict[str, dict[str, Any]]) -> OptionDraft:
        """A copy with ``change`` appended."""
        return replace(self, changes=(*self.changes, change))

    def without(self, index: int) -> OptionDraft:
        """A copy without change number ``index`` (0-based)."""
        return replace(self, changes=self.changes[:index] + self.changes[index + 1 :])

    def summary(self) -> list[str]:
        """One plain sentence per change, in order."""
        return [describe_change(c) for c in self.changes]

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "scenario.yaml") -> OptionDraft:
        """A draft from scenario YAML text; raises DataValidationError on a bad file.

        ``extends`` is not followed (the app has no folder to resolve it against): such a
        file is refused with the fix.
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            row = None if mark is None else mark.line + 1
            problem = Problem(source, row, "", "text that is not YAML", "a scenario file", str(exc))
            raise_problems([problem])
        if isinstance(data, dict) and data.get("extends"):
            problem = Problem(
                source,
                None,
                "key extends",
                str(data["extends"]),
                "a file with every change in it",
                "load the extended file too, or copy its changes into this one",
            )
            raise_problems([problem])
        scenario = scenario_from_mapping(data, source=source)  # validates every change
        changes = tuple(_change_mapping(c) for c in scenario.changes)
        return cls(name=scenario.name, description=scenario.description, changes=changes)


def _change_mapping(change: Change) -> dict[str, dict[str, Any]]:
    """A parsed change back in its YAML form (policy and growth keys sit in the body)."""
    year = {"from_year": change.from_year} if change.from_year else {}
    if isinstance(change, PolicyChange):
        return {"policy": {**change.overrides, **year}}
    if isinstance(change, DemandGrowth):
        return {"demand_growth": {**change.factors, **year}}
    return {change.kind: change.model_dump(exclude_defaults=True, mode="json")}


def describe_change(change: dict[str, dict[str, Any]]) -> str:
    """A plain-English sentence for one change (the Options page's list)."""
    kind, body = next(iter(change.items()))
    year = f" from year {body['from_year']}" if body.get("from_year") else ""
    if kind == "add_setting":
        places = ", ".join(f"{n} {p}" for p, n in body.get("places", {}).items())
        capital = body.get("capital_cost_gbp") or 0
        name = body.get("name", body.get("setting_id"))
        return f"Add {name}: {places} (capital £{capital:,.0f}){year}"
    if kind == "set_places":
        return f"Set {body['package_id']} places at {body['setting_id']} to {body['places']}{year}"
    if kind == "close_setting":
        return f"Close {body['setting_id']}{year}"
    if kind == "cap_fees":
        who = body.get("package_id") or "every package"
        return f"Cap independent fees at £{body['max_annual_cost_gbp']:,.0f} a year ({who}){year}"
    rest = {k: v for k, v in body.items() if k != "from_year"}
    if kind in ("policy", "transport"):
        keys = ", ".join(f"{k} = {v}" for k, v in rest.items())
        return f"{'Transport' if kind == 'transport' else 'Policy'}: {keys}{year}"
    if kind == "demand_growth":
        keys = ", ".join(f"{k} × {float(v):g}" for k, v in rest.items())
        return f"Demand growth: {keys}{year}"
    return f"{kind}: {body}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").upper()[:24] or "BASE"


def add_base(
    ds: Dataset,
    site_id: str,
    places: dict[str, int],
    *,
    capital_cost_gbp: float | None = None,
    annual_cost_gbp: dict[str, float] | None = None,
    from_year: int = 0,
) -> dict[str, dict[str, Any]]:
    """An ``add_setting`` change: an inclusion base at candidate ``site_id``.

    Ages follow the candidate (its ``age_min``/``age_max``); capital defaults to places
    × the candidate's ``capital_cost_gbp_per_place``; place costs default to the
    national costing framework (left out, so the scenario derives them).
    """
    cand = ds.candidates
    if cand is None or site_id not in set(cand["site_id"]):
        msg = f"{site_id} is not a candidate site in {ds.name} (candidates.csv)"
        raise DataValidationError(
            msg, [Problem("candidates.csv", None, "site_id", site_id, "a candidate", "pick one")]
        )
    row = cand[cand["site_id"] == site_id].iloc[0]
    places = {p: int(n) for p, n in places.items() if int(n) > 0}
    if capital_cost_gbp is None:
        per_place = row.get("capital_cost_gbp_per_place")
        per_place = 0.0 if pd.isna(per_place) else float(per_place)
        capital_cost_gbp = per_place * sum(places.values())
    body = base_setting(
        f"NEW-{_slug(site_id)}",
        f"{row['name']} inclusion base",
        row,
        places,
        capital_cost_gbp=capital_cost_gbp,
    )
    la_code = ds.policy.la_code
    if la_code:
        body["la_code"] = int(la_code)
    if annual_cost_gbp:
        body["annual_cost_gbp"] = {p: float(c) for p, c in annual_cost_gbp.items()}
    if from_year:
        body["from_year"] = int(from_year)
    return {"add_setting": body}


def base_setting(
    setting_id: str,
    name: str,
    where: Mapping[Any, Any] | pd.Series,
    places: dict[str, int],
    *,
    capital_cost_gbp: float,
) -> dict[str, Any]:
    """The body of an ``add_setting`` change for an inclusion base.

    ``where`` holds easting, northing, age_min, age_max and (optionally) urn: a
    candidate site's row, or a siting plan's site.
    """
    body: dict[str, Any] = {
        "setting_id": setting_id,
        "name": name,
        "setting_type": "inclusion_base",
        "easting": float(where["easting"]),
        "northing": float(where["northing"]),
        "age_min": int(where["age_min"]),
        "age_max": int(where["age_max"]),
        "places": places,
        "capital_cost_gbp": float(capital_cost_gbp),
    }
    urn = where.get("urn")
    if urn is not None and pd.notna(urn):
        body["urn"] = int(urn)
    return body


def set_places(
    setting_id: str, package_id: str, places: int, *, from_year: int = 0
) -> dict[str, dict[str, Any]]:
    """A ``set_places`` change (expand or shrink one package at a setting)."""
    body: dict[str, Any] = {"setting_id": setting_id, "package_id": package_id}
    body["places"] = int(places)
    if from_year:
        body["from_year"] = int(from_year)
    return {"set_places": body}


def close_setting(setting_id: str, *, from_year: int = 0) -> dict[str, dict[str, Any]]:
    """A ``close_setting`` change."""
    body: dict[str, Any] = {"setting_id": setting_id}
    if from_year:
        body["from_year"] = int(from_year)
    return {"close_setting": body}


def cap_fees(max_gbp: float, package_id: str | None = None) -> dict[str, dict[str, Any]]:
    """A ``cap_fees`` change: an INMSS price cap [GBP/yr a place] (one package or all)."""
    body: dict[str, Any] = {"max_annual_cost_gbp": float(max_gbp)}
    if package_id:
        body["package_id"] = package_id
    return {"cap_fees": body}


def journey_caps(primary: float, secondary: float, post16: float) -> dict[str, dict[str, Any]]:
    """A ``policy`` change of the journey-time caps each way by phase [min]."""
    caps = {"primary": float(primary), "secondary": float(secondary), "post16": float(post16)}
    return {"policy": {"max_travel_min": caps}}


def demand_growth(factor: float, key: str | None = None) -> dict[str, dict[str, Any]]:
    """A ``demand_growth`` change: children still to place × ``factor`` (one key or all)."""
    keys = (key,) if key else PHASES
    return {"demand_growth": {k: float(factor) for k in keys}}
