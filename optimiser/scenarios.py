"""Scenarios: a named set of changes applied to a base Dataset (never mutating it).

A scenario file (YAML)::

    name: Autism base at Sale High + INMSS fee cap
    extends: base_option.yaml          # optional: that scenario's changes come first
    seed: 0                            # optional: seeds demand growth sampling
    changes:
      - add_setting: {setting_id: NEW1, name: Sale High ASD base, setting_type: inclusion_base,
                      easting: 377400, northing: 392000, age_min: 11, age_max: 16,
                      places: {SPP3: 16}, annual_cost_gbp: {SPP3: 15000}, capital_cost_gbp: 320000}
      - set_places: {setting_id: S042, package_id: SPP4, places: 24}
      - close_setting: {setting_id: S017}
      - cap_fees: {setting_type: independent_special, max_annual_cost_gbp: 55000}
      - policy: {max_travel_min: {primary: 45, secondary: 75}}
      - transport: {...}               # same as policy: {transport: {...}}
      - demand_growth: {SPP3: 1.10}    # keys: package ids, phases or ward codes

Every change may carry ``from_year`` (default 0): the multi-year horizon applies
it from that year on; a single-year run applies every change. Each change is
checked against the base data; problems name the scenario file and the change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from optimiser._errors import DataValidationError
from optimiser.datamodel import Dataset, derive_place_costs
from optimiser.policy import policy_from_mapping
from optimiser.problems import Problem, raise_problems
from optimiser.scenario_changes import (
    CHANGE_TYPES,
    AddSetting,
    CapFees,
    Change,
    CloseSetting,
    DemandGrowth,
    PolicyChange,
    SetPlaces,
    parse_change,
)
from optimiser.schema import SETTING_TYPES

__all__ = ["CHANGE_TYPES", "Scenario", "load_scenario", "scenario_from_mapping"]


@dataclass(frozen=True)
class Scenario:
    """A named set of changes over a base dataset.

    Attributes
    ----------
    name : label used in comparisons.
    changes : the changes in order (those of an extended scenario first).
    description : free text.
    seed : seed for demand-growth sampling (explicit, so runs repeat exactly).
    source : file the scenario came from (for messages).
    origins : (file, change number in that file) of each change, so a problem in a
        change inherited through ``extends`` names the file that holds it.
    """

    name: str
    changes: tuple[Change, ...] = ()
    description: str = ""
    seed: int = 0
    source: str = "<scenario>"
    origins: tuple[tuple[str, int], ...] = ()

    def origin(self, index: int) -> tuple[str, int]:
        """(file, number in that file) of change ``index`` (1-based)."""
        if len(self.origins) == len(self.changes):
            return self.origins[index - 1]
        return self.source, index

    def apply(self, ds: Dataset, *, year: int | None = None) -> Dataset:
        """A new Dataset with the changes applied (those with ``from_year`` ≤ ``year``)."""
        problems = check_scenario(self, ds)
        if problems:
            raise_problems(problems)
        for i, change in enumerate(self.changes, 1):
            if year is None or change.from_year <= year:
                ds = _APPLY[type(change)](ds, change, seed=_seed(self.seed, i))
        return ds.replace(places=derive_place_costs(ds), name=f"{ds.name} + {self.name}")

    @property
    def capital_cost_gbp(self) -> float:
        """Capital the scenario needs [GBP]: the sum of its changes' capital_cost_gbp."""
        return float(sum(getattr(c, "capital_cost_gbp", 0.0) or 0.0 for c in self.changes))


def _seed(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "little")


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file (following ``extends`` chains); raise DataValidationError."""
    return _load(Path(path), seen=())


def _load(path: Path, seen: tuple[Path, ...]) -> Scenario:
    if path.resolve() in seen:
        raise_problems(
            [
                Problem(
                    path.name,
                    None,
                    "key extends",
                    "a cycle of extends",
                    "a chain that ends",
                    "remove the circular extends",
                )
            ]
        )
    if not path.exists():
        raise_problems(
            [Problem(str(path), None, "", "no such file", "a scenario YAML file", "check the path")]
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise_problems(
            [
                Problem(
                    path.name,
                    None if mark is None else mark.line + 1,
                    "",
                    "malformed YAML",
                    "valid YAML",
                    f"fix the syntax ({exc})".replace("\n", " "),
                )
            ]
        )
    base = None
    if isinstance(data, dict) and data.get("extends"):
        base = _load(path.parent / str(data["extends"]), seen=(*seen, path.resolve()))
    return scenario_from_mapping(data, source=path.name, base=base)


def scenario_from_mapping(
    data: object, *, source: str = "<scenario>", base: Scenario | None = None
) -> Scenario:
    """Build a Scenario from parsed YAML; every malformed change is reported at once."""
    if not isinstance(data, dict) or not data.get("name"):
        raise_problems(
            [
                Problem(
                    source,
                    None,
                    "key name",
                    repr(data)[:40],
                    "a mapping with name: and changes:",
                    "add a name and a list of changes (see optimiser/scenarios.py)",
                )
            ]
        )
    unknown = set(data) - {"name", "description", "changes", "extends", "seed"}
    problems = [
        Problem(
            source,
            None,
            f"key {k}",
            "an unknown key",
            "name, description, extends, seed, changes",
            "remove or rename it",
        )
        for k in sorted(unknown)
    ]
    raw = data.get("changes") or []
    if not isinstance(raw, list):
        problems.append(
            Problem(
                source,
                None,
                "key changes",
                type(raw).__name__,
                "a list of changes ('- add_setting: {...}')",
                "make it a list",
            )
        )
        raw = []
    changes = []
    for i, item in enumerate(raw, 1):
        try:
            changes.append(parse_change(item))
        except (ValueError, ValidationError) as exc:
            problems.append(_change_problem(source, i, item, exc))
    if problems:
        raise_problems(problems)
    inherited = base.changes if base else ()
    origins = tuple(base.origin(i) for i in range(1, len(inherited) + 1)) if base else ()
    origins += tuple((source, i) for i in range(1, len(changes) + 1))
    return Scenario(
        name=str(data["name"]),
        changes=(*inherited, *changes),
        description=str(data.get("description", "")),
        seed=int(data.get("seed", 0)),
        source=source,
        origins=origins,
    )


def _change_problem(source: str, i: int, item: object, exc: Exception) -> Problem:
    kind = next(iter(item), "?") if isinstance(item, dict) and len(item) == 1 else "?"
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return Problem(
            source,
            None,
            f"change {i} ({kind}) {where}",
            repr(err.get("input"))[:60],
            err["msg"],
            "correct this field of the change",
        )
    return Problem(
        source,
        None,
        f"change {i}",
        repr(item)[:60],
        str(exc),
        f"use one of: {', '.join(CHANGE_TYPES)}",
    )


def check_scenario(scenario: Scenario, ds: Dataset) -> list[Problem]:
    """Problems with the scenario's changes against the base data (unknown ids, clashes)."""
    settings = set(ds.settings["setting_id"])
    packages = set(ds.packages["package_id"])
    wards = set(ds.children["ward_code"]) | set(ds.settings["ward_code"])
    types = dict(zip(ds.settings["setting_id"], ds.settings["setting_type"], strict=True))
    priced = (
        set()
        if ds.costing is None
        else set(zip(ds.costing["package_id"], ds.costing["setting_type"], strict=True))
    )
    existing = set(zip(ds.places["setting_id"], ds.places["package_id"], strict=True))
    out: list[Problem] = []
    for i, change in enumerate(scenario.changes, 1):
        file, number = scenario.origin(i)
        where = f"change {number} ({change.kind})"

        def bad(
            field: str,
            found: object,
            expected: str,
            fix: str,
            where: str = where,
            file: str = file,
            out: list[Problem] = out,
        ) -> None:
            out.append(Problem(file, None, f"{where} {field}", repr(found), expected, fix))

        if isinstance(change, AddSetting):
            if change.setting_id in settings:
                bad("setting_id", change.setting_id, "a new setting id", "choose an unused id")
            settings.add(change.setting_id)
            types[change.setting_id] = change.setting_type
            for pkg in [*change.places, *change.annual_cost_gbp]:
                if pkg not in packages:
                    bad("places", pkg, "a package id in packages.csv", "correct the package id")
                elif pkg not in change.annual_cost_gbp and (pkg, change.setting_type) not in priced:
                    bad(
                        "annual_cost_gbp",
                        pkg,
                        f"a cost for {pkg}, or a costing-framework row "
                        f"for {pkg} × {change.setting_type}",
                        "give annual_cost_gbp for it",
                    )
        elif isinstance(change, (SetPlaces, CloseSetting)):
            if change.setting_id not in settings:
                bad(
                    "setting_id",
                    change.setting_id,
                    "a setting id in settings.csv",
                    "correct the id (or add the setting first with add_setting)",
                )
            if isinstance(change, SetPlaces) and change.package_id not in packages:
                bad(
                    "package_id",
                    change.package_id,
                    "a package id in packages.csv",
                    "correct the package id",
                )
            elif (
                isinstance(change, SetPlaces)
                and change.annual_cost_gbp is None
                and (change.setting_id, change.package_id) not in existing
                and (change.package_id, types.get(change.setting_id)) not in priced
                and change.setting_id in settings
            ):
                bad(
                    "annual_cost_gbp",
                    None,
                    f"a cost: no costing-framework row for "
                    f"{change.package_id} × {types.get(change.setting_id)}",
                    "give annual_cost_gbp for the new places",
                )
        elif isinstance(change, CapFees):
            for stype in change.setting_types:
                if stype not in SETTING_TYPES:
                    bad(
                        "setting_type",
                        stype,
                        "one of " + ", ".join(SETTING_TYPES),
                        "correct the setting type",
                    )
            if change.package_id and change.package_id not in packages:
                bad("package_id", change.package_id, "a package id in packages.csv", "correct it")
        elif isinstance(change, DemandGrowth):
            phases = {"primary", "secondary", "post16"}
            for key in change.factors:
                if key not in packages | phases | wards:
                    bad(key, key, "a package id, a phase or a ward code", "correct the key")
        elif isinstance(change, PolicyChange):
            try:
                policy_from_mapping(
                    _merge(ds.policy.model_dump(), change.overrides), file=scenario.source
                )
            except DataValidationError as exc:
                out += [
                    Problem(file, None, f"{where} {p.column}", p.found, p.expected, p.fix)
                    for p in exc.problems
                ]
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _add_setting(ds: Dataset, ch: AddSetting, *, seed: int) -> Dataset:
    row: dict[str, object] = dict.fromkeys(ds.settings.columns)
    row.update(
        setting_id=ch.setting_id,
        name=ch.name,
        setting_type=ch.setting_type,
        urn=ch.urn,
        la_code=ch.la_code,
        easting=ch.easting,
        northing=ch.northing,
        age_min=ch.age_min,
        age_max=ch.age_max,
        total_places=ch.total_places or sum(ch.places.values()),
        in_area=ch.in_area,
        ward_code=ch.ward_code,
        closed=False,
        assumption="added by scenario",
    )
    settings = pd.concat(
        [ds.settings, pd.DataFrame([row]).astype(ds.settings.dtypes.to_dict())], ignore_index=True
    )
    new = pd.DataFrame(
        {
            "setting_id": ch.setting_id,
            "package_id": list(ch.places),
            "places": list(ch.places.values()),
            "annual_cost_gbp": [ch.annual_cost_gbp.get(p, np.nan) for p in ch.places],
        }
    )
    places = pd.concat(
        [ds.places.drop(columns="cost_source", errors="ignore"), new.astype({"places": "Int64"})],
        ignore_index=True,
    )
    return ds.replace(settings=settings, places=places)


def _set_places(ds: Dataset, ch: SetPlaces, *, seed: int) -> Dataset:
    places = ds.places.copy()
    hit = (places["setting_id"] == ch.setting_id) & (places["package_id"] == ch.package_id)
    old = int(places.loc[hit, "places"].sum())
    if hit.any():
        places.loc[hit, "places"] = ch.places
        if ch.annual_cost_gbp is not None:
            places.loc[hit, "annual_cost_gbp"] = ch.annual_cost_gbp
    else:
        extra = pd.DataFrame(
            {
                "setting_id": [ch.setting_id],
                "package_id": [ch.package_id],
                "places": [ch.places],
                "annual_cost_gbp": [ch.annual_cost_gbp],
            }
        )
        places = pd.concat(
            [places, extra.astype({"places": "Int64", "annual_cost_gbp": float})], ignore_index=True
        )
    settings = ds.settings.copy()
    at = settings["setting_id"] == ch.setting_id
    settings.loc[at, "total_places"] = (settings.loc[at, "total_places"] + ch.places - old).clip(
        lower=0
    )
    return ds.replace(places=places.drop(columns="cost_source", errors="ignore"), settings=settings)


def _close_setting(ds: Dataset, ch: CloseSetting, *, seed: int) -> Dataset:
    settings = ds.settings.copy()
    settings.loc[settings["setting_id"] == ch.setting_id, "closed"] = True
    return ds.replace(settings=settings)


def _cap_fees(ds: Dataset, ch: CapFees, *, seed: int) -> Dataset:
    places = derive_place_costs(ds)
    types = places["setting_id"].map(ds.setting_types)
    hit = types.isin(ch.setting_types) if ch.setting_types else pd.Series(True, places.index)
    if ch.package_id:
        hit &= places["package_id"] == ch.package_id
    capped = places["annual_cost_gbp"].clip(upper=ch.max_annual_cost_gbp)
    places["annual_cost_gbp"] = np.where(hit, capped, places["annual_cost_gbp"])
    places.loc[hit & (places["cost_source"] == "framework"), "cost_source"] = "setting"
    own = places["cost_source"] == "setting"
    places.loc[~own, "annual_cost_gbp"] = np.nan
    return ds.replace(places=places.drop(columns="cost_source"))


def _policy(ds: Dataset, ch: PolicyChange, *, seed: int) -> Dataset:
    merged = _merge(ds.policy.model_dump(), ch.overrides)
    return ds.replace(policy=policy_from_mapping(merged))


def _demand_growth(ds: Dataset, ch: DemandGrowth, *, seed: int) -> Dataset:
    """Scale the children still to place in each group by its factor (seeded sample)."""
    rng = np.random.default_rng(seed)
    kids = ds.children
    phase = pd.Series(ds.policy.phases_of_ages(kids["age"].fillna(0)), index=kids.index)
    to_place = kids["current_setting_id"] == ""
    keep = pd.Series(True, index=kids.index)
    added = []
    for k, (key, factor) in enumerate(ch.factors.items(), 1):
        group = to_place & (
            (kids["package_id"] == key) | (phase == key) | (kids["ward_code"] == key)
        )
        idx = np.flatnonzero(group.to_numpy())
        if factor < 1:
            drop = rng.choice(idx, size=round(len(idx) * (1 - factor)), replace=False)
            keep.iloc[drop] = False
        elif len(idx):
            picks = rng.choice(idx, size=round(len(idx) * (factor - 1)), replace=True)
            clones = kids.iloc[np.sort(picks)].copy()
            clones["child_id"] = [f"{c}-g{k}.{i}" for i, c in enumerate(clones["child_id"], 1)]
            clones["preferences"] = [()] * len(clones)
            added.append(clones)
    children = pd.concat([kids[keep], *added], ignore_index=True)
    return ds.replace(children=children)


_APPLY = {
    AddSetting: _add_setting,
    SetPlaces: _set_places,
    CloseSetting: _close_setting,
    CapFees: _cap_fees,
    PolicyChange: _policy,
    DemandGrowth: _demand_growth,
}
