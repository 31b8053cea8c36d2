"""The change types a scenario may hold, as validated pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimiser.geography import grid_reference_fault
from optimiser.policy import MAX_CAPITAL_GBP, MAX_PLACE_COST_GBP, MAX_PLACES
from optimiser.schema.tables import INMSS_TYPES, SETTING_TYPES

#: Upper bounds that catch typos: places, costs and capital share the input tables' bounds
#: (optimiser.policy); growth is a scenario's own.
MAX_GROWTH_FACTOR = 10.0  # demand × 10 in one scenario is a typo, not a forecast


class _Change(BaseModel):
    # nan and inf are never places, costs or growth factors
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    from_year: int = Field(0, ge=0, description="First horizon year the change applies in")

    @property
    def kind(self) -> str:
        """The change's YAML key."""
        return next(k for k, v in CHANGE_TYPES.items() if v is type(self))


class AddSetting(_Change):
    """A new setting (e.g. an inclusion base) with places and costs per package."""

    setting_id: str
    name: str
    setting_type: str
    easting: float = Field(ge=0, le=700_000)
    northing: float = Field(ge=0, le=1_300_000)
    age_min: int = Field(ge=0, le=25)
    age_max: int = Field(ge=0, le=25)
    places: dict[str, int]
    annual_cost_gbp: dict[str, float] = {}
    total_places: int | None = Field(None, ge=0, le=MAX_PLACES)
    urn: int | None = None
    la_code: int | None = None
    in_area: bool = True
    ward_code: str = ""
    capital_cost_gbp: float = Field(0.0, ge=0, le=MAX_CAPITAL_GBP)

    @field_validator("setting_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in SETTING_TYPES:
            msg = f"setting_type must be one of {', '.join(SETTING_TYPES)}"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _in_england(self) -> AddSetting:
        e, n = self.easting, self.northing
        fault = grid_reference_fault(e, n)
        if fault in ("placeholder", "degrees"):
            msg = (
                "easting and northing under 1,000 m are longitude/latitude or a 0, 0 "
                "placeholder; give British National Grid metres"
            )
            raise ValueError(msg)
        if fault is not None:
            hint = "swap them" if fault == "swapped" else "a new setting is built in England"
            msg = f"easting {e:g}, northing {n:g} is outside England ({hint})"
            raise ValueError(msg)
        return self

    @field_validator("places")
    @classmethod
    def _non_negative(cls, v: dict[str, int]) -> dict[str, int]:
        if any(n < 0 for n in v.values()):
            msg = "places must not be negative"
            raise ValueError(msg)
        if any(n > MAX_PLACES for n in v.values()):
            msg = f"places must be at most {MAX_PLACES:,} per package (larger is a typo)"
            raise ValueError(msg)
        return v

    @field_validator("annual_cost_gbp")
    @classmethod
    def _sane_costs(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= c <= MAX_PLACE_COST_GBP for c in v.values()):
            msg = f"annual_cost_gbp must be from 0 to {MAX_PLACE_COST_GBP:,.0f} a place"
            raise ValueError(msg)
        return v


class SetPlaces(_Change):
    """Set the places (and optionally the cost) of one package at a setting; total follows."""

    setting_id: str
    package_id: str
    places: int = Field(ge=0, le=MAX_PLACES)
    annual_cost_gbp: float | None = Field(None, ge=0, le=MAX_PLACE_COST_GBP)
    capital_cost_gbp: float = Field(0.0, ge=0, le=MAX_CAPITAL_GBP)


class CloseSetting(_Change):
    """Close a setting: it takes no children and its pupils are re-placed."""

    setting_id: str


class CapFees(_Change):
    """Cap annual place costs (an INMSS price band) by setting type and/or package."""

    setting_type: str | list[str] | None = None
    package_id: str | None = None
    max_annual_cost_gbp: float = Field(ge=0, le=MAX_PLACE_COST_GBP)

    @property
    def setting_types(self) -> tuple[str, ...]:
        """The setting types capped (INMSS when none named)."""
        if self.setting_type is None:
            return INMSS_TYPES
        return (
            (self.setting_type,) if isinstance(self.setting_type, str) else tuple(self.setting_type)
        )


class PolicyChange(_Change):
    """Override policy keys (journey caps, weights, continuity, transport rates …)."""

    overrides: dict[str, Any]


class DemandGrowth(_Change):
    """Scale demand of children still to place by package, phase or ward: {key: factor}."""

    factors: dict[str, float]

    @field_validator("factors")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        if any(f < 0 for f in v.values()):
            msg = "growth factors must not be negative"
            raise ValueError(msg)
        if any(f > MAX_GROWTH_FACTOR for f in v.values()):
            msg = f"growth factors must be at most {MAX_GROWTH_FACTOR:g} (larger is a typo)"
            raise ValueError(msg)
        return v


Change = AddSetting | SetPlaces | CloseSetting | CapFees | PolicyChange | DemandGrowth

CHANGE_TYPES: dict[str, type[Change]] = {
    "add_setting": AddSetting,
    "set_places": SetPlaces,
    "close_setting": CloseSetting,
    "cap_fees": CapFees,
    "policy": PolicyChange,
    "transport": PolicyChange,
    "demand_growth": DemandGrowth,
}


def parse_change(item: object) -> Change:
    """One change from its YAML form ``{kind: {fields}}``.

    Raises ValueError or pydantic's ValidationError when it is malformed.
    """
    if not isinstance(item, dict) or len(item) != 1:
        msg = "each change is one 'kind: {fields}' entry"
        raise ValueError(msg)
    ((kind, body),) = item.items()
    if kind not in CHANGE_TYPES:
        msg = f"unknown change {kind!r}"
        raise ValueError(msg)
    body = dict(body or {})
    if kind in ("policy", "transport"):
        year = body.pop("from_year", 0)
        overrides = {"transport": body} if kind == "transport" else body
        return PolicyChange(overrides=overrides, from_year=year)
    if kind == "demand_growth":
        year = body.pop("from_year", 0)
        return DemandGrowth(factors=body, from_year=year)
    return CHANGE_TYPES[kind](**body)
