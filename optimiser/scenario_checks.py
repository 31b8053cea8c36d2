"""Check a scenario's changes against the base data before they are applied.

Unknown setting, package and ward ids, clashing new ids, new places without a
cost, unknown setting types and invalid policy overrides are each reported as a
Problem naming the scenario file (the one holding the change, through
``extends``) and the change's number and kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimiser._errors import DataValidationError
from optimiser.datamodel import Dataset
from optimiser.policy import policy_from_mapping
from optimiser.problems import Problem
from optimiser.scenario_apply import merge_overrides
from optimiser.scenario_changes import (
    AddSetting,
    CapFees,
    CloseSetting,
    DemandGrowth,
    PolicyChange,
    SetPlaces,
)
from optimiser.schema import SETTING_TYPES

if TYPE_CHECKING:
    from optimiser.scenarios import Scenario


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
                    merge_overrides(ds.policy.model_dump(), change.overrides), file=scenario.source
                )
            except DataValidationError as exc:
                out += [
                    Problem(file, None, f"{where} {p.column}", p.found, p.expected, p.fix)
                    for p in exc.problems
                ]
    return out
