"""Policy: the LA's rules and rates, loaded from ``policy.yaml``.

Every default below is sourced (see ``shared/research/domain-facts.md`` and
``data/README.md``); an LA overrides any of them in its own ``policy.yaml``.
Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimiser._errors import DataValidationError
from optimiser.problems import Problem, raise_problems


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TravelCaps(_Frozen):
    """Maximum journey time each way by phase [min] (DfE guidance: 45 primary, 75 secondary)."""

    primary: float = Field(45.0, gt=0)
    secondary: float = Field(75.0, gt=0)
    post16: float = Field(75.0, gt=0)


class PhaseAges(_Frozen):
    """Ages at which phases start [years]: primary below ``secondary_from``."""

    secondary_from: int = Field(11, ge=0, le=25)
    post16_from: int = Field(16, ge=0, le=25)

    @model_validator(mode="after")
    def _ordered(self) -> PhaseAges:
        if self.secondary_from > self.post16_from:
            msg = "secondary_from must not be above post16_from"
            raise ValueError(msg)
        return self


class WalkingDistances(_Frozen):
    """Statutory walking distances [miles] (s444(5) Education Act 1996)."""

    under_8: float = Field(2.0, ge=0)
    from_8: float = Field(3.0, ge=0)


class TransportRates(_Frozen):
    """Transport cost per pupil-mile [GBP] (derived calibration, domain-facts §2.2)."""

    shared: float = Field(2.6, ge=0)
    solo: float = Field(3.5, ge=0)


class Policy(_Frozen):
    """The LA's placement policy: journey caps, travel model, rates and objective weights.

    Objective weights are in £-equivalent per year so that they add to costs.
    """

    max_travel_min: TravelCaps = Field(TravelCaps(), description=(
        "Journey-time cap each way by phase [min]; DfE guidance 45 primary, 75 secondary"))
    phase_age: PhaseAges = Field(PhaseAges(), description=(
        "Age at which secondary and post-16 start [years]"))
    detour_factor: float = Field(1.3, ge=1.0, le=5.0, description=(
        "Road distance ÷ straight-line distance (domain-facts §2.2)"))
    speed_kmh: float = Field(24.0, gt=0, le=130, description=(
        "Average door-to-door speed of SEND transport [km/h] (assumption, metropolitan area)"))
    school_days_per_year: int = Field(190, gt=0, le=366, description="School days a year")
    walking_distance_miles: WalkingDistances = Field(WalkingDistances(), description=(
        "Statutory walking distance [miles]: 2 under 8, 3 from 8 (s444(5) EA 1996)"))
    transport_gbp_per_pupil_mile: TransportRates = Field(TransportRates(), description=(
        "Transport cost per pupil-mile [GBP], shared and solo (derived, domain-facts §2.2)"))
    preference_penalty_gbp: tuple[float, ...] = Field((0.0, 3000.0, 6000.0), description=(
        "£-equivalent penalty by preference rank 1, 2, 3 … [GBP/yr]"))
    unranked_penalty_gbp: float = Field(10000.0, ge=0, description=(
        "Penalty for a setting the parent did not rank, when they ranked some [GBP/yr]"))
    mainstream_duty_gbp: float = Field(50000.0, ge=0, description=(
        "Penalty for a non-mainstream place when the parent prefers mainstream and one is "
        "eligible [GBP/yr]"))
    unplaced_penalty_gbp: float = Field(1_000_000.0, gt=0, description=(
        "Penalty for leaving a child unplaced; raised automatically above any placement [GBP/yr]"))
    continuity: Literal["keep", "free"] = Field("keep", description=(
        "keep: continuing placements stay; free: everyone may be re-placed"))
    inmss_max_places: int | None = Field(None, ge=0, description=(
        "Cap on INMSS places used in total (blank = no cap)"))

    @model_validator(mode="after")
    def _ranks_rise(self) -> Policy:
        pens = self.preference_penalty_gbp
        if any(b < a for a, b in zip(pens, pens[1:], strict=False)) or any(p < 0 for p in pens):
            msg = "preference_penalty_gbp must be non-negative and rise with rank"
            raise ValueError(msg)
        if pens and self.unranked_penalty_gbp < pens[-1]:
            msg = "unranked_penalty_gbp must be at least the last preference_penalty_gbp"
            raise ValueError(msg)
        return self

    def phase_of_age(self, age: int) -> str:
        """Phase name (primary, secondary, post16) for an age [years]."""
        if age >= self.phase_age.post16_from:
            return "post16"
        if age >= self.phase_age.secondary_from:
            return "secondary"
        return "primary"


def policy_from_mapping(data: object, *, file: str = "policy.yaml") -> Policy:
    """Build a :class:`Policy` from parsed YAML, turning every pydantic error into a Problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise_problems([Problem(file, None, "", type(data).__name__, "a mapping of key: value",
                                "write policy.yaml as 'key: value' lines")])
    try:
        return Policy(**data)
    except ValidationError as exc:
        problems = [
            Problem(file, None, "key " + (".".join(str(p) for p in err["loc"]) or "(top level)"),
                    repr(err.get("input"))[:60], err["msg"],
                    "correct or remove this key (see docs/data-format.md, Policy)")
            for err in exc.errors()
        ]
        raise_problems(problems)
    raise AssertionError("unreachable")  # pragma: no cover


def load_policy(path: str | Path) -> Policy:
    """Load ``policy.yaml``; raise :class:`DataValidationError` naming each bad key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise_problems([Problem(path.name, None, "", "bytes that are not UTF-8", "UTF-8 text",
                                "save the file as UTF-8")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise_problems([Problem(path.name, row, "", "malformed YAML", "valid YAML 'key: value'",
                                f"fix the YAML syntax ({getattr(exc, 'problem', exc)})")])
    return policy_from_mapping(data, file=path.name)


def save_policy(policy: Policy, path: str | Path) -> None:
    """Write ``policy`` to YAML (all keys, so the file documents itself)."""
    Path(path).write_text(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False),
                          encoding="utf-8")


__all__ = ["Policy", "load_policy", "save_policy", "policy_from_mapping", "DataValidationError"]
