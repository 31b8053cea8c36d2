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
it from that year on (a ``demand_growth`` once, in that year: the children it adds
stay); a single-year run applies every change. Each change is
checked against the base data; problems name the scenario file and the change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from optimiser._outputs import check_outputs, write_text_output
from optimiser.dataset.model import Dataset, derive_place_costs
from optimiser.problems import Problem, load_yaml, raise_problems
from optimiser.scenarios.apply import apply_change
from optimiser.scenarios.changes import CHANGE_TYPES, Change, DemandGrowth, parse_change
from optimiser.scenarios.checks import check_scenario

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
        """A new Dataset with the changes applied (with a ``year``: those in force then).

        Without a ``year`` (a single-year run) every change applies. With one (the
        multi-year horizon, which rebuilds settings, places and policy from the base data
        each year) a change to settings, places or policy applies in every year from its
        ``from_year`` on; a ``demand_growth`` change adds or removes children, so it
        applies once, in its ``from_year``, and the horizon carries those children on.
        """
        problems = check_scenario(self, ds)
        if problems:
            raise_problems(problems)
        for i, change in enumerate(self.changes, 1):
            once = isinstance(change, DemandGrowth)
            if year is None or (change.from_year == year if once else change.from_year <= year):
                ds = apply_change(ds, change, seed=_seed(self.seed, i))
        return ds.replace(places=derive_place_costs(ds), name=f"{ds.name} + {self.name}")

    def mapping(self) -> dict:
        """The scenario as the YAML mapping :func:`load_scenario` reads (changes in order)."""
        out: dict = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.seed:
            out["seed"] = self.seed
        out["changes"] = [
            {c.kind: c.model_dump(mode="json", exclude_defaults=True)} for c in self.changes
        ]
        return out

    def save(self, path: str | Path) -> Path:
        """Write :meth:`mapping` as YAML at ``path`` (never over an existing file)."""
        path = Path(path)
        check_outputs(path)
        text = yaml.safe_dump(self.mapping(), sort_keys=False, allow_unicode=True)
        return write_text_output(path, text)

    @property
    def capital_cost_gbp(self) -> float:
        """Capital the scenario needs [GBP]: the sum of its changes' capital_cost_gbp."""
        return float(sum(getattr(c, "capital_cost_gbp", 0.0) or 0.0 for c in self.changes))


def _seed(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "little")


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file (following ``extends`` chains); raise DataValidationError."""
    path = Path(path)
    return _load(path, seen=(), root=path.resolve().parent)


def _extends_target(path: Path, extends: object, root: Path) -> Path:
    """The file ``extends`` names, confined to ``root`` (the first scenario's folder) and below.

    The message never quotes the target's contents: a scenario must not be a way to
    read other files on the machine.
    """
    target = (path.parent / str(extends)).resolve()
    fix = "name a scenario file in the scenario's own folder (or below), e.g. base.yaml"
    if not target.is_relative_to(root):
        found = "a path outside the scenario's folder"
    elif target.is_dir():
        found = "a folder"
    elif not target.exists():
        found = f"{target.name}, which does not exist beside {path.name}"
    else:
        return target
    raise_problems([Problem(path.name, None, "key extends", found, "a scenario YAML file", fix)])


def _load(path: Path, seen: tuple[Path, ...], root: Path) -> Scenario:
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
        data = load_yaml(path.read_text(encoding="utf-8"), file=path.name)
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
                    # the parser's own message quotes the file: never echo its contents
                    f"fix the syntax ({getattr(exc, 'problem', None) or 'UTF-8 text'})",
                )
            ]
        )
    base = None
    if isinstance(data, dict) and data.get("extends"):
        target = _extends_target(path, data["extends"], root)
        base = _load(target, seen=(*seen, path.resolve()), root=root)
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
                    # the type only: the file may not be a scenario at all
                    f"a {type(data).__name__}" if data else "no name",
                    "a mapping with name: and changes:",
                    "add a name and a list of changes (see optimiser/scenarios.py)",
                )
            ]
        )
    unknown = set(data) - {"name", "description", "changes", "extends", "seed"}
    seed = data.get("seed", 0)
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
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(
            Problem(source, None, "key seed", type(seed).__name__, "a whole number", "e.g. seed: 0")
        )
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
        seed=int(seed),
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
