"""Check a scenario's changes against the base data before they are applied.

Unknown setting, package and ward ids, clashing new ids, new places without a
cost, unknown setting types and invalid policy overrides are each reported as a
Problem naming the scenario file (the one holding the change, through
``extends``) and the change's number and kind.

Each change kind has its own checker; :class:`_Known` holds what the changes may
refer to and grows as ``add_setting`` changes are seen, so a later change may name
a setting added by an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimiser._errors import DataValidationError
from optimiser.dataset.model import Dataset
from optimiser.policy import policy_from_mapping
from optimiser.problems import Problem
from optimiser.scenarios.apply import merge_overrides
from optimiser.scenarios.changes import (
    AddSetting,
    CapFees,
    CloseSetting,
    DemandGrowth,
    PolicyChange,
    SetPlaces,
)
from optimiser.schema.tables import SETTING_TYPES

if TYPE_CHECKING:
    from optimiser.policy import Policy
    from optimiser.scenarios.scenario import Scenario

_A_PACKAGE = "a package id in packages.csv"
_PHASES = {"primary", "secondary", "post16"}


@dataclass
class _Known:
    """What a scenario's changes may refer to: the base data, plus settings added so far.

    ``priced`` holds the (package_id, setting_type) pairs with a costing-framework
    row and ``existing`` the (setting_id, package_id) pairs with a places row: the
    base data's, then those earlier ``add_setting`` and ``set_places`` changes
    create (a later ``set_places`` on such a row keeps its cost).
    ``source`` is the scenario's file, for the policy loader's messages.
    """

    settings: set[str]
    packages: set[str]
    wards: set[str]
    setting_types: dict[str, str]
    priced: set[tuple[str, str]]
    existing: set[tuple[str, str]]
    policy: Policy
    source: str

    @classmethod
    def from_dataset(cls, ds: Dataset, *, source: str) -> _Known:
        """The ids, types and costed places of ``ds``."""
        costing = ds.costing
        return cls(
            settings=set(ds.settings["setting_id"]),
            packages=set(ds.packages["package_id"]),
            wards=set(ds.children["ward_code"]) | set(ds.settings["ward_code"]),
            setting_types=dict(
                zip(ds.settings["setting_id"], ds.settings["setting_type"], strict=True)
            ),
            priced=(
                set()
                if costing is None
                else set(zip(costing["package_id"], costing["setting_type"], strict=True))
            ),
            existing=set(zip(ds.places["setting_id"], ds.places["package_id"], strict=True)),
            policy=ds.policy,
            source=source,
        )

    def note(self, change: object) -> None:
        """Note the settings and places rows a change creates, so later changes may use them."""
        if isinstance(change, AddSetting):
            self.settings.add(change.setting_id)
            self.setting_types[change.setting_id] = change.setting_type
            self.existing |= {(change.setting_id, pkg) for pkg in change.places}
        elif isinstance(change, SetPlaces):
            self.existing.add((change.setting_id, change.package_id))

    def has_cost(self, setting_id: str, package_id: str) -> bool:
        """True when the setting already has places of the package or the framework prices it."""
        framework_row = (package_id, self.setting_types.get(setting_id))
        return (setting_id, package_id) in self.existing or framework_row in self.priced


@dataclass(frozen=True)
class _At:
    """Where a change is: its scenario file and its label, e.g. ``change 2 (set_places)``."""

    file: str
    label: str

    def problem(self, field: str, found: object, expected: str, fix: str) -> Problem:
        """A problem with one field of the change (``found`` shown as its repr)."""
        return Problem(self.file, None, f"{self.label} {field}", repr(found), expected, fix)


def check_scenario(scenario: Scenario, ds: Dataset) -> list[Problem]:
    """Problems with the scenario's changes against the base data (unknown ids, clashes)."""
    known = _Known.from_dataset(ds, source=scenario.source)
    out: list[Problem] = []
    for i, change in enumerate(scenario.changes, 1):
        file, number = scenario.origin(i)
        at = _At(file, f"change {number} ({change.kind})")
        out += _CHECKERS[type(change)](change, known, at)
        known.note(change)
    return out


def _check_add_setting(change: AddSetting, known: _Known, at: _At) -> list[Problem]:
    out: list[Problem] = []
    if change.setting_id in known.settings:
        out.append(
            at.problem("setting_id", change.setting_id, "a new setting id", "choose an unused id")
        )
    for pkg in [*change.places, *change.annual_cost_gbp]:
        if pkg not in known.packages:
            out.append(at.problem("places", pkg, _A_PACKAGE, "correct the package id"))
        elif pkg not in change.annual_cost_gbp and (pkg, change.setting_type) not in known.priced:
            expected = (
                f"a cost for {pkg}, or a costing-framework row for {pkg} × {change.setting_type}"
            )
            out.append(at.problem("annual_cost_gbp", pkg, expected, "give annual_cost_gbp for it"))
    return out


def _unknown_setting(setting_id: str, known: _Known, at: _At) -> list[Problem]:
    if setting_id in known.settings:
        return []
    fix = "correct the id (or add the setting first with add_setting)"
    return [at.problem("setting_id", setting_id, "a setting id in settings.csv", fix)]


def _check_close_setting(change: CloseSetting, known: _Known, at: _At) -> list[Problem]:
    return _unknown_setting(change.setting_id, known, at)


def _check_set_places(change: SetPlaces, known: _Known, at: _At) -> list[Problem]:
    out = _unknown_setting(change.setting_id, known, at)
    if change.package_id not in known.packages:
        out.append(
            at.problem("package_id", change.package_id, _A_PACKAGE, "correct the package id")
        )
    elif (
        change.annual_cost_gbp is None
        and change.setting_id in known.settings
        and not known.has_cost(change.setting_id, change.package_id)
    ):
        setting_type = known.setting_types.get(change.setting_id)
        expected = f"a cost: no costing-framework row for {change.package_id} × {setting_type}"
        out.append(
            at.problem("annual_cost_gbp", None, expected, "give annual_cost_gbp for the new places")
        )
    return out


def _check_cap_fees(change: CapFees, known: _Known, at: _At) -> list[Problem]:
    expected = "one of " + ", ".join(SETTING_TYPES)
    out = [
        at.problem("setting_type", stype, expected, "correct the setting type")
        for stype in change.setting_types
        if stype not in SETTING_TYPES
    ]
    if change.package_id and change.package_id not in known.packages:
        out.append(at.problem("package_id", change.package_id, _A_PACKAGE, "correct it"))
    return out


def _check_demand_growth(change: DemandGrowth, known: _Known, at: _At) -> list[Problem]:
    keys = known.packages | _PHASES | known.wards
    expected = "a package id, a phase or a ward code"
    return [
        at.problem(key, key, expected, "correct the key")
        for key in change.factors
        if key not in keys
    ]


def _check_policy(change: PolicyChange, known: _Known, at: _At) -> list[Problem]:
    try:
        merged = merge_overrides(known.policy.model_dump(), change.overrides)
        policy_from_mapping(merged, file=known.source)
    except DataValidationError as exc:
        return [
            Problem(at.file, None, f"{at.label} {p.column}", p.found, p.expected, p.fix)
            for p in exc.problems
        ]
    return []


_CHECKERS: dict[type, Callable[[Any, _Known, _At], list[Problem]]] = {
    AddSetting: _check_add_setting,
    SetPlaces: _check_set_places,
    CloseSetting: _check_close_setting,
    CapFees: _check_cap_fees,
    DemandGrowth: _check_demand_growth,
    PolicyChange: _check_policy,
}
