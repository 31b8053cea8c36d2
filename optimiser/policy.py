"""Policy: the LA's rules and rates, loaded from ``policy.yaml``.

Every default below is sourced (see ``shared/research/domain-facts.md`` and
``data/README.md``); an LA overrides any of them in its own ``policy.yaml``.
Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import yaml
from numpy.typing import ArrayLike
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from optimiser._errors import DataValidationError
from optimiser._la_codes import LA_CODES
from optimiser.problems import Problem, load_yaml, raise_problems

#: How far over its cap a journey may be and still count as within it [min]: absorbs
#: floating-point noise, so a journey of exactly the cap (e.g. 45.0 min) is within it.
JOURNEY_CAP_TOL_MIN = 1e-6
#: Largest objective weight [GBP/yr]: far above any placement, and small enough that the
#: solver's integer costs stay exact (a weight of 1e30 would swamp every real cost).
MAX_PENALTY_GBP = 1e9
_TOO_BIG = "a larger weight is a typo and breaks the solver's arithmetic"
#: The school phases, youngest first (``phase_age`` sets where they start).
PHASE_NAMES = ("primary", "secondary", "post16")
#: Upper bounds that catch typos (1e30 places, £4.5m for £45,000.50), one per quantity,
#: shared by the input tables (schema) and a scenario's changes.
MAX_PLACES = 10_000  # per setting and package: England's largest special schools have < 1,000
MAX_PLACE_COST_GBP = 5_000_000.0  # a year: the dearest residential placements are < £1m
MAX_CAPITAL_GBP = 1_000_000_000.0  # a new special school costs tens of millions


def over_journey_cap(travel_min: ArrayLike, cap_min: ArrayLike) -> np.ndarray:
    """Whether each journey is over its cap: travel_min > cap_min + JOURNEY_CAP_TOL_MIN [min].

    The one rule every part of the package uses (arcs, transport, KPIs, siting, routes,
    the independent check), so they never disagree about a journey at the cap.
    """
    return np.asarray(travel_min, float) > np.asarray(cap_min, float) + JOURNEY_CAP_TOL_MIN


class _Frozen(BaseModel):
    # nan and inf are never a rate, a cap or a weight: they would poison every cost
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class TravelCaps(_Frozen):
    """Maximum journey time each way by phase [min] (DfE guidance: 45 primary, 75 secondary)."""

    primary: float = Field(45.0, gt=0, le=300)
    secondary: float = Field(75.0, gt=0, le=300)
    post16: float = Field(75.0, gt=0, le=300)


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

    under_8: float = Field(2.0, ge=0, le=50)
    from_8: float = Field(3.0, ge=0, le=50)


class ModeRate(_Frozen):
    """Cost of one pupil's travel by a mode: per day = fixed + per mile × 2 × road miles.

    ``gbp_per_mile`` is per mile of the pupil's own home-school road distance,
    counted in both directions (morning and afternoon); annual cost = the daily
    cost × ``school_days_per_year``. Sources and calibration: docs/transport.md.
    """

    fixed_gbp_per_day: float = Field(0.0, ge=0, le=10_000)
    gbp_per_mile: float = Field(0.0, ge=0, le=1_000)


class VehicleRate(ModeRate):
    """A shared mode: per-pupil rates (for arc costs) and the vehicle (for route estimates).

    A vehicle costs ``vehicle_gbp_per_day`` (driver, passenger assistant, vehicle)
    plus ``vehicle_gbp_per_mile`` × its loaded miles, both runs of the day.
    """

    seats: int = Field(1, ge=1, le=100, description="Seated pupils per vehicle")
    wheelchair_spaces: int = Field(0, ge=0, le=100, description="Wheelchair spaces per vehicle")
    vehicle_gbp_per_day: float = Field(0.0, ge=0, le=10_000)
    vehicle_gbp_per_mile: float = Field(0.0, ge=0, le=1_000)


class TransportPolicy(_Frozen):
    """Home-to-school transport: eligibility rules and the rate model of each mode.

    Defaults are the Trafford calibration (docs/transport.md; domain-facts §2):
    mean £8,000-9,500 per transported child on the default data.
    """

    post16_eligible: bool = Field(
        True,
        description=("Post-16 transport is discretionary [S5]; true = the LA funds it like pre-16"),
    )
    cannot_walk_packages: tuple[str, ...] | None = Field(
        None,
        description=(
            "Packages whose children are taken as unable to walk (eligible at any distance); "
            "blank = every package"
        ),
    )
    stop_min: float = Field(
        2.0,
        ge=0,
        le=30,
        description=("Boarding time at each pick-up in a shared route [min] (assumption)"),
    )
    personal_budget: ModeRate = Field(
        ModeRate(gbp_per_mile=0.45),
        description=("Personal travel budget: mileage 45p/mile [S9][S13]"),
    )
    minibus: VehicleRate = Field(
        VehicleRate(
            fixed_gbp_per_day=34.0,
            gbp_per_mile=0.85,
            seats=12,
            wheelchair_spaces=2,
            vehicle_gbp_per_day=200.0,
            vehicle_gbp_per_mile=2.0,
        ),
        description=(
            "Shared minibus with passenger assistant: per pupil, and the vehicle (a round "
            "≈ £219 a day [S10])"
        ),
    )
    shared_taxi: VehicleRate = Field(
        VehicleRate(
            fixed_gbp_per_day=27.0,
            gbp_per_mile=1.15,
            seats=4,
            wheelchair_spaces=0,
            vehicle_gbp_per_day=80.0,
            vehicle_gbp_per_mile=2.0,
        ),
        description=(
            "Shared taxi with passenger assistant: per pupil (≈ £8,700 a pupil [S9]), and the "
            "vehicle (the solo taxi's rates)"
        ),
    )
    solo_taxi: ModeRate = Field(
        ModeRate(fixed_gbp_per_day=80.0, gbp_per_mile=2.0),
        description=(
            "Taxi with passenger assistant for one pupil (£10,920-£19,110 a year in 2018-19 [S11])"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_unset_rates(cls, data: object) -> object:
        """A mode given in part keeps the defaults of the rates it leaves out."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name in ("personal_budget", "minibus", "shared_taxi", "solo_taxi"):
            if isinstance(merged.get(name), dict):
                merged[name] = {**cls.model_fields[name].default.model_dump(), **merged[name]}
        return merged


#: Speed on each road class when the roads are not congested [km/h], for ``optimiser roads``:
#: OpenStreetMap ``highway`` values and OS Open Roads ``road_classification`` values.
#: Assumptions (typical free-flow speeds of a car or minibus on English roads, below the
#: speed limits: 70 mph motorway, 60 mph single carriageway, 30 mph built-up); calibrate them
#: against the LA's own journey logs (docs/imports_roads.md).
ROAD_SPEEDS_KMH: dict[str, float] = {
    # OpenStreetMap highway=*
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 55.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 45.0,
    "tertiary_link": 35.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 15.0,
    "service": 15.0,
    "road": 30.0,
    # OS Open Roads road_classification
    "Motorway": 100.0,
    "A Road": 55.0,
    "B Road": 45.0,
    "Classified Unnumbered": 40.0,
    "Unclassified": 35.0,
    "Not Classified": 25.0,
    "Unknown": 25.0,
}


class RoadsPolicy(_Frozen):
    """How ``optimiser roads`` turns a road network into journey times.

    Minutes on an edge = length ÷ speed of its class × ``peak_factor``; the graph
    stores the peak speed (class speed ÷ peak factor) as ``speed_kph``, so rerun
    ``optimiser roads`` after changing these.
    """

    speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: dict(ROAD_SPEEDS_KMH),
        description=(
            "Uncongested speed by road class [km/h]: OpenStreetMap highway values and OS Open "
            "Roads road_classification values (assumptions, docs/imports_roads.md); a class "
            "given here replaces its default, the others keep theirs"
        ),
    )
    other_kmh: float = Field(
        25.0,
        gt=0,
        le=130,
        description="Uncongested speed of a road class speeds_kmh does not list [km/h]",
    )
    peak_factor: float = Field(
        1.3,
        ge=1.0,
        le=5.0,
        description=(
            "School-run journey time ÷ uncongested journey time (assumption: morning peak; "
            "docs/imports_roads.md)"
        ),
    )
    margin_km: float = Field(
        10.0,
        ge=0,
        le=100,
        description=(
            "Roads kept around the box of the dataset's children, in-area settings and "
            "candidates [km]: routes may leave the LA, and settings near it are on the roads"
        ),
    )

    @field_validator("speeds_kmh", mode="before")
    @classmethod
    def _keep_unset_speeds(cls, value: object) -> object:
        """A class given replaces its default; the classes left out keep theirs."""
        if value is None:
            return dict(ROAD_SPEEDS_KMH)
        if isinstance(value, dict):
            return {**ROAD_SPEEDS_KMH, **value}
        return value

    @field_validator("speeds_kmh", mode="after")
    @classmethod
    def _speeds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for name, kmh in value.items():
            if not 0 < kmh <= 130:
                msg = f"speeds_kmh.{name} must be above 0 and at most 130 [km/h], found {kmh!r}"
                raise ValueError(msg)
        return value

    def speed_kmh(self, road_class: str) -> float:
        """Uncongested speed [km/h] of ``road_class`` (``other_kmh`` when not listed)."""
        return float(self.speeds_kmh.get(road_class, self.other_kmh))

    def peak_speed_kmh(self, road_class: str) -> float:
        """School-run speed [km/h] of ``road_class``: its speed ÷ ``peak_factor``."""
        return self.speed_kmh(road_class) / self.peak_factor


#: The host rules of :class:`HostExclusions`: what each keeps out, for the docs and notes.
HOST_RULES: dict[str, str] = {
    "selective": "admissions_policy Selective (a grammar school)",
    "single_sex": "gender Boys or Girls (a single-sex school)",
}


class HostExclusions(_Frozen):
    """Candidate hosts kept out of siting, by package: each rule lists the packages it bars.

    A candidate whose host matches a rule hosts no base of the packages the rule lists;
    it may still host the others. A blank attribute in candidates.csv is unknown and
    never matches. Package ids must be in packages.csv (checked when the dataset loads).
    """

    selective: tuple[str, ...] = Field(
        (),
        description=(
            "Packages no selective host (candidates.csv admissions_policy Selective) may "
            "offer a base for"
        ),
    )
    single_sex: tuple[str, ...] = Field(
        (),
        description=(
            "Packages no single-sex host (candidates.csv gender Boys or Girls) may offer a base for"
        ),
    )

    @field_validator("selective", "single_sex", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """A rule left blank in YAML (``single_sex:``) bars no package."""
        return () if value is None else value

    def packages(self) -> set[str]:
        """Every package id any rule names."""
        return {p for rule in HOST_RULES for p in getattr(self, rule)}


class FuturesPolicy(_Frozen):
    """How ``optimiser futures`` samples demand futures (docs/futures.md).

    Growth is sampled in log terms: a future's cohort growth a year is
    exp(L + D_p + E_y) − 1, L its level, D_p its package's drift and E_y the year's noise.
    """

    growth_mean: float | None = Field(
        None,
        ge=-0.5,
        le=1.0,
        description=(
            "Centre of the cohort's growth a year, e.g. 0.07 (blank = the LA's SEN2 "
            "specialist trend, shrunk to the national spread across LAs)"
        ),
    )
    growth_level_sd: float | None = Field(
        None,
        ge=0,
        le=1.0,
        description="Uncertainty of a future's growth level (log, a year; blank = from SEN2)",
    )
    growth_year_sd: float | None = Field(
        None,
        ge=0,
        le=1.0,
        description="Year-to-year noise in growth (log; blank = the LA's SEN2 year-to-year spread)",
    )
    need_mix_drift_sd: float = Field(
        0.02,
        ge=0,
        le=0.5,
        description="Spread of each package's growth about the cohort's (log, a year; assumption)",
    )
    inmss_inflation_mean: float = Field(
        0.04, ge=-0.2, le=0.5, description="INMSS fee inflation a year (assumption)"
    )
    inmss_inflation_sd: float = Field(
        0.02, ge=0, le=0.5, description="Spread of INMSS fee inflation across futures"
    )
    places_lost_probability: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Chance a year that a setting loses part of its places (assumption)",
    )
    places_lost_share: float = Field(
        0.25, ge=0, le=1, description="Share of its places a setting loses when it does"
    )
    delay_probability: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Chance that an option's new places (add/set places) open late (assumption)",
    )
    delay_max_years: int = Field(
        2, ge=0, le=10, description="Latest a late opening is [years] (1 to this, uniform)"
    )
    leave_age: int = Field(19, ge=4, le=25, description="Children older than this leave [years]")


class Policy(_Frozen):
    """The LA's placement policy: journey caps, travel model, rates and objective weights.

    Objective weights are in £-equivalent per year so that they add to costs.
    """

    max_travel_min: TravelCaps = Field(
        TravelCaps(),
        description=(
            "Journey-time cap each way by phase [min]; DfE guidance 45 primary, 75 secondary"
        ),
    )
    phase_age: PhaseAges = Field(
        PhaseAges(), description=("Age at which secondary and post-16 start [years]")
    )
    detour_factor: float = Field(
        1.3,
        ge=1.0,
        le=5.0,
        description=("Road distance ÷ straight-line distance (domain-facts §2.2)"),
    )
    speed_kmh: float = Field(
        24.0,
        gt=0,
        le=130,
        description=(
            "Average door-to-door speed of SEND transport [km/h] (assumption, metropolitan area)"
        ),
    )
    roads: RoadsPolicy = Field(
        RoadsPolicy(),
        description=(
            "Road journey times for `optimiser roads`: speeds_kmh by road class [km/h], "
            "other_kmh, peak_factor, margin_km (docs/imports_roads.md)"
        ),
    )
    school_days_per_year: int = Field(190, gt=0, le=366, description="School days a year")
    walking_distance_miles: WalkingDistances = Field(
        WalkingDistances(),
        description=("Statutory walking distance [miles]: 2 under 8, 3 from 8 (s444(5) EA 1996)"),
    )
    transport: TransportPolicy = Field(
        TransportPolicy(),
        description=(
            "Home-to-school transport: eligibility switches and rates by mode "
            "[GBP/day, GBP/mile] (docs/transport.md)"
        ),
    )
    preference_penalty_gbp: tuple[float, ...] = Field(
        (0.0, 3000.0, 6000.0),
        description=("£-equivalent penalty by preference rank 1, 2, 3 … [GBP/yr]"),
    )
    unranked_penalty_gbp: float = Field(
        10000.0,
        ge=0,
        le=MAX_PENALTY_GBP,
        description=(
            "Penalty for a setting the parent did not rank, when they ranked some [GBP/yr]"
        ),
    )
    honour_preference_below_gbp: float | None = Field(
        None,
        ge=0,
        le=MAX_PENALTY_GBP,
        description=(
            "Honour a parent's ranked preference whenever it costs less than this much more "
            "a year (place + transport) than the placement the model would otherwise make and "
            "has a place: each step down the parent's ranking weighs this much more [GBP/yr] "
            "(blank = off; docs/explain.md)"
        ),
    )
    mainstream_duty_gbp: float = Field(
        50000.0,
        ge=0,
        le=MAX_PENALTY_GBP,
        description=(
            "Penalty for a non-mainstream place when the parent prefers mainstream and one is "
            "eligible [GBP/yr]"
        ),
    )
    unplaced_penalty_gbp: float = Field(
        1_000_000.0,
        gt=0,
        le=MAX_PENALTY_GBP,
        description=(
            "Penalty for leaving a child unplaced; raised automatically above any "
            "placement [GBP/yr]"
        ),
    )
    unplaced_cost_gbp: float | dict[str, float | dict[str, float]] | None = Field(
        None,
        description=(
            "What each unplaced child costs the LA a year in reports [GBP/yr] (the duty "
            "remains: a spot-purchased or otherwise-educated place): blank = derived from the "
            "data (mean INMSS fee of the package + mean INMSS transport, docs/measures.md); a "
            "number for every child; or by package, optionally by phase, e.g. {SPP4: 70000} "
            "or {SPP4: {primary: 60000, secondary: 75000}}. Not the objective's penalty"
        ),
    )
    continuity: Literal["keep", "free"] = Field(
        "keep", description=("keep: continuing placements stay; free: everyone may be re-placed")
    )
    area_name: str | None = Field(
        None,
        max_length=100,
        description=(
            "The area's name as every output shows it, e.g. 'Trafford' (blank = the "
            "folder's name); `optimiser init` writes the LA's name"
        ),
    )
    data_notice: str | None = Field(
        None,
        max_length=600,
        description=(
            "A notice every output (map, pack, workbook, CLI) carries about the data, e.g. "
            "that the children are synthetic (blank = none); the embedded data and "
            "`optimiser init` say so"
        ),
    )
    la_code: str | None = Field(
        None,
        description=(
            "DfE 3-digit code of the LA this dataset is for, e.g. '358' (blank = not "
            "recorded); `optimiser init` writes it, calibration reads the LA's SEN2 by it"
        ),
    )
    demand_growth_per_year: float | None = Field(
        None,
        ge=-0.5,
        le=1.0,
        description=(
            "The LA's own specialist-cohort growth a year, e.g. 0.072 = +7.2%/yr (SEN2 trend; "
            "written by `optimiser init`; blank = not recorded)"
        ),
    )
    inmss_max_places: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description=("Cap on INMSS places used in total (blank = no cap)"),
    )
    futures: FuturesPolicy = Field(
        FuturesPolicy(),
        description=(
            "How `optimiser futures` samples demand: growth (blank = from SEN2), need-mix "
            "drift, INMSS fee inflation, places lost, late openings (docs/futures.md)"
        ),
    )
    host_exclusions: HostExclusions = Field(
        HostExclusions(),
        description=(
            "Candidate hosts kept out of siting by package: `selective` and `single_sex` "
            "each list the packages those hosts may not offer a base for (candidates.csv "
            "admissions_policy, gender; blank = unknown, kept in). Default none; the "
            "embedded and `optimiser init` policies set it"
        ),
    )

    @field_validator("area_name", "data_notice", mode="before")
    @classmethod
    def _text_or_blank(cls, value: object) -> object:
        if value is None or not isinstance(value, str):
            return value  # a number or a list is pydantic's to refuse
        text = " ".join(value.split())  # one line: outputs show it in a title or a box
        return text or None

    @field_validator("unplaced_cost_gbp", mode="after")
    @classmethod
    def _unplaced_costs(cls, value: object) -> object:
        """Every rate a finite £ a year in range; phases by name (package ids: validate)."""

        def check(rate: float, where: str) -> None:
            if not (0 <= rate <= MAX_PLACE_COST_GBP):
                msg = (
                    f"unplaced_cost_gbp{where} must be from 0 to {MAX_PLACE_COST_GBP:,.0f} "
                    f"[GBP/yr], found {rate!r}"
                )
                raise ValueError(msg)

        if isinstance(value, dict):
            for pkg, rate in value.items():
                if isinstance(rate, dict):
                    bad = sorted(set(rate) - set(PHASE_NAMES))
                    if bad or not rate:
                        msg = (
                            f"unplaced_cost_gbp.{pkg} by phase must name phases "
                            f"{', '.join(PHASE_NAMES)}; found {bad or 'none'}"
                        )
                        raise ValueError(msg)
                    for ph, r in rate.items():
                        check(r, f".{pkg}.{ph}")
                else:
                    check(rate, f".{pkg}")
        elif value is not None:
            check(float(cast(float, value)), "")
        return value

    @field_validator("la_code", mode="before")
    @classmethod
    def _known_la(cls, value: object) -> object:
        if value is None:
            return None
        code = str(value).strip()
        if isinstance(value, int) and not isinstance(value, bool):
            code = f"{value:03d}"
        if code not in LA_CODES:
            msg = (
                f"la_code must be the DfE 3-digit code of an English LA (e.g. '358'), "
                f'found {value!r}; quote it in YAML: la_code: "358"'
            )
            raise ValueError(msg)
        return code

    @model_validator(mode="after")
    def _ranks_rise(self) -> Policy:
        pens = self.preference_penalty_gbp
        if any(b < a for a, b in itertools.pairwise(pens)) or any(p < 0 for p in pens):
            msg = "preference_penalty_gbp must be non-negative and rise with rank"
            raise ValueError(msg)
        if any(p > MAX_PENALTY_GBP for p in pens):
            msg = f"preference_penalty_gbp must be at most {MAX_PENALTY_GBP:,.0f} ({_TOO_BIG})"
            raise ValueError(msg)
        if pens and self.unranked_penalty_gbp < pens[-1]:
            msg = "unranked_penalty_gbp must be at least the last preference_penalty_gbp"
            raise ValueError(msg)
        return self

    def phase_of_age(self, age: int) -> str:
        """Phase name (primary, secondary, post16) for an age [years]."""
        return str(self.phases_of_ages([age])[0])

    def phases_of_ages(self, ages: ArrayLike) -> np.ndarray:
        """:meth:`phase_of_age` of each age in an array (object array of phase names)."""
        a = np.asarray(ages, float)
        pa = self.phase_age
        return np.where(
            a >= pa.post16_from, "post16", np.where(a >= pa.secondary_from, "secondary", "primary")
        ).astype(object)

    def travel_caps_min(self, ages: ArrayLike) -> np.ndarray:
        """Journey-time cap [min] of each age in an array, by its phase."""
        a = np.asarray(ages, float)
        pa, caps = self.phase_age, self.max_travel_min
        return np.where(
            a >= pa.post16_from,
            float(caps.post16),
            np.where(a >= pa.secondary_from, float(caps.secondary), float(caps.primary)),
        )


def policy_from_mapping(data: object, *, file: str = "policy.yaml") -> Policy:
    """Build a :class:`Policy` from parsed YAML, turning every pydantic error into a Problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise_problems(
            [
                Problem(
                    file,
                    None,
                    "",
                    type(data).__name__,
                    "a mapping of key: value",
                    "write policy.yaml as 'key: value' lines",
                )
            ]
        )
    try:
        return Policy(**data)
    except ValidationError as exc:
        problems = [
            Problem(
                file,
                None,
                "key " + (".".join(str(p) for p in err["loc"]) or "(top level)"),
                repr(err.get("input"))[:60],
                _reason(err),
                "correct or remove this key (see docs/data-format.md, Policy)",
            )
            for err in exc.errors()
        ]
        raise_problems(problems)
    raise AssertionError("unreachable")  # pragma: no cover


def _reason(err: Any) -> str:
    """Pydantic's message, with the reason when a bound or finiteness was broken."""
    msg = str(err["msg"])
    if err["type"] == "finite_number":
        return msg + " (nan and inf are not numbers a plan can use)"
    if err["type"] in ("less_than_equal", "less_than"):
        return msg + " (a larger value is almost certainly a typo)"
    return msg


def load_policy(path: str | Path) -> Policy:
    """Load ``policy.yaml``; raise :class:`DataValidationError` naming each bad key."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), file=path.name)
    except UnicodeDecodeError:
        raise_problems(
            [
                Problem(
                    path.name,
                    None,
                    "",
                    "bytes that are not UTF-8",
                    "UTF-8 text",
                    "save the file as UTF-8",
                )
            ]
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise_problems(
            [
                Problem(
                    path.name,
                    row,
                    "",
                    "malformed YAML",
                    "valid YAML 'key: value'",
                    f"fix the YAML syntax ({getattr(exc, 'problem', exc)})",
                )
            ]
        )
    return policy_from_mapping(data, file=path.name)


def save_policy(policy: Policy, path: str | Path) -> None:
    """Write ``policy`` to YAML (all keys, so the file documents itself)."""
    Path(path).write_text(
        yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )


__all__ = [
    "DataValidationError",
    "HostExclusions",
    "Policy",
    "RoadsPolicy",
    "load_policy",
    "policy_from_mapping",
    "save_policy",
]
