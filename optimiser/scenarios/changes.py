"""The change types a scenario may hold, as validated pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from optimiser.schema.tables import INMSS_TYPES, SETTING_TYPES


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
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
    total_places: int | None = Field(None, ge=0)
    urn: int | None = None
    la_code: int | None = None
    in_area: bool = True
    ward_code: str = ""
    capital_cost_gbp: float = Field(0.0, ge=0)

    @field_validator("setting_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in SETTING_TYPES:
            msg = f"setting_type must be one of {', '.join(SETTING_TYPES)}"
            raise ValueError(msg)
        return v

    @field_validator("places")
    @classmethod
    def _non_negative(cls, v: dict[str, int]) -> dict[str, int]:
        if any(n < 0 for n in v.values()):
            msg = "places must not be negative"
            raise ValueError(msg)
        return v


class SetPlaces(_Change):
    """Set the places (and optionally the cost) of one package at a setting; total follows."""

    setting_id: str
    package_id: str
    places: int = Field(ge=0)
    annual_cost_gbp: float | None = Field(None, ge=0)
    capital_cost_gbp: float = Field(0.0, ge=0)


class CloseSetting(_Change):
    """Close a setting: it takes no children and its pupils are re-placed."""

    setting_id: str


class CapFees(_Change):
    """Cap annual place costs (an INMSS price band) by setting type and/or package."""

    setting_type: str | list[str] | None = None
    package_id: str | None = None
    max_annual_cost_gbp: float = Field(ge=0)

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
