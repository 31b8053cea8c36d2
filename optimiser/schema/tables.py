"""The tables of the dataset folder (DESIGN.md §4): one :class:`Table` per file."""

from __future__ import annotations

from optimiser.policy import MAX_CAPITAL_GBP, MAX_PLACE_COST_GBP, MAX_PLACES
from optimiser.schema._columns import Column, Table

SETTING_TYPES: tuple[str, ...] = (
    "maintained_special",
    "academy_special",
    "inclusion_base",
    "mainstream",
    "nmss",
    "independent_special",
    "post16_specialist",
)
INMSS_TYPES: tuple[str, ...] = ("nmss", "independent_special")
MAINSTREAM_TYPES: tuple[str, ...] = ("mainstream", "inclusion_base")
# GIAS gender of a school: Boys and Girls are single-sex (policy host_exclusions).
HOST_GENDERS: tuple[str, ...] = ("Mixed", "Boys", "Girls", "Not applicable")
# Home-to-school travel modes (optimiser.transport; rates in policy.yaml `transport`).
TRAVEL_MODES: tuple[str, ...] = ("personal_budget", "minibus", "shared_taxi", "solo_taxi")
#: SEN2 primary-need codes (DfE "Education, health and care plans"; ``unknown`` = not recorded).
PRIMARY_NEEDS: tuple[str, ...] = (
    "asd", "hi", "mld", "msi", "oth", "pd", "pmld", "semh", "slcn", "sld", "spld", "vi", "unknown",
)  # fmt: skip

# British National Grid extent [m]: the grid covers Great Britain within these bounds.
_E_MAX, _N_MAX = 700_000, 1_300_000


def _easting(required: bool = True, personal: bool = False) -> Column:
    return Column(
        "easting",
        "float",
        "m, EPSG:27700",
        required=required,
        min=0,
        max=_E_MAX,
        description="British National Grid easting; or give lon/lat or postcode instead",
        personal=personal,
    )


def _northing(required: bool = True, personal: bool = False) -> Column:
    return Column(
        "northing",
        "float",
        "m, EPSG:27700",
        required=required,
        min=0,
        max=_N_MAX,
        description="British National Grid northing; or give lon/lat or postcode instead",
        personal=personal,
    )


def _urn(description: str) -> Column:
    return Column(
        "urn",
        "int",
        required=False,
        default=None,
        min=100000,
        max=999999,
        description=description,
    )


def _age(name: str, description: str, personal: bool = False) -> Column:
    return Column(name, "int", "years", min=0, max=25, description=description, personal=personal)


PACKAGES = Table(
    name="packages",
    file="packages.csv",
    row_is="Specialist Provision Package (SPP)",
    description="The national list of packages. It is not final: names and ids are data.",
    columns=(
        Column("package_id", "str", unique=True, description="Package id, e.g. SPP3"),
        Column("name", "str", description="Package name"),
        Column("group", "str", required=False, default="", description="Broad type of package"),
        Column("description", "str", required=False, default="", description="What the package is"),
        Column(
            "placeholder",
            "bool",
            required=False,
            default=False,
            description="true while the package is a placeholder pending the DfE list",
        ),
    ),
)

COSTING = Table(
    name="costing_framework",
    file="costing_framework.csv",
    row_is="package × setting type",
    required_file=False,
    description="National costing framework: the annual cost of a place by package and setting "
    "type. places.csv rows with a blank annual_cost_gbp take their cost from here.",
    columns=(
        Column("package_id", "str", description="Package id (packages.csv)"),
        Column("setting_type", "str", allowed=SETTING_TYPES, description="Setting type"),
        Column(
            "annual_cost_gbp",
            "float",
            "GBP/yr",
            min=0,
            max=MAX_PLACE_COST_GBP,
            description="Annual cost of one place",
        ),
    ),
)

SETTINGS = Table(
    name="settings",
    file="settings.csv",
    row_is="setting (school, inclusion base, college)",
    columns=(
        Column("setting_id", "str", unique=True, description="Setting id, e.g. S001"),
        Column("name", "str", description="Setting name"),
        Column(
            "setting_type",
            "str",
            allowed=SETTING_TYPES,
            description="Type; nmss + independent_special = INMSS",
        ),
        _urn("GIAS Unique Reference Number"),
        Column(
            "la_code",
            "int",
            required=False,
            default=None,
            min=200,
            max=999,
            description="Old-style LA code of the setting, e.g. 358",
        ),
        _easting(),
        _northing(),
        _age("age_min", "Youngest age the setting takes"),
        _age(
            "age_max",
            "Oldest age the setting takes, as age at the start of the school year "
            "(a primary is 4-10, a secondary 11-15 or 11-17)",
        ),
        Column(
            "total_places",
            "int",
            "places",
            min=0,
            max=MAX_PLACES,
            description="All places at the setting open to the LA, across packages",
        ),
        Column(
            "in_area",
            "bool",
            required=False,
            default=True,
            description="true when the setting is in the LA's own area",
        ),
        Column("ward_code", "str", required=False, default="", description="GSS ward code (E05…)"),
        Column(
            "closed",
            "bool",
            required=False,
            default=False,
            description="true when the setting takes no children (its pupils are re-placed)",
        ),
        Column(
            "assumption",
            "str",
            required=False,
            default="",
            description="Which fields are assumed rather than published, and why",
        ),
    ),
)

PLACES = Table(
    name="places",
    file="places.csv",
    row_is="setting × package it delivers",
    columns=(
        Column("setting_id", "str", description="Setting id (settings.csv)"),
        Column("package_id", "str", description="Package id (packages.csv)"),
        Column(
            "places", "int", "places", min=0, max=MAX_PLACES, description="Places for this package"
        ),
        Column(
            "annual_cost_gbp",
            "float",
            "GBP/yr",
            required=False,
            default=None,
            min=0,
            max=MAX_PLACE_COST_GBP,
            description="Annual cost of a place; blank = national costing framework "
            "(give the fee for INMSS)",
        ),
    ),
)

CHILDREN = Table(
    name="children",
    file="children.csv",
    row_is="child needing an SPP placement (pseudonymous; synthetic in the default data)",
    columns=(
        Column("child_id", "str", unique=True, description="Pseudonymous id; never a name or UPN"),
        Column("package_id", "str", description="Package the child's EHCP names (packages.csv)"),
        _age("age", "Age at the start of the school year", personal=True),
        _easting(personal=True),
        _northing(personal=True),
        Column(
            "lsoa_code",
            "str",
            required=False,
            default="",
            personal=True,
            description="GSS LSOA 2021 code of home (E01…)",
        ),
        Column(
            "ward_code",
            "str",
            required=False,
            default="",
            personal=True,
            description="GSS ward code of home (E05…)",
        ),
        Column(
            "primary_need",
            "str",
            required=False,
            default="",
            personal=True,
            allowed=PRIMARY_NEEDS,
            description="SEN2 primary need code (asd, slcn, semh, mld, sld, pmld, spld, hi, "
            "vi, msi, pd, oth, unknown); blank = not held. Used only to compare the cohort "
            "with SEN2 (optimiser calibrate); placement goes by package_id",
        ),
        Column(
            "preferences",
            "id_list",
            required=False,
            default="",
            description="Parental preferences: ranked setting_ids separated by ';'",
        ),
        Column(
            "prefers_mainstream",
            "bool",
            required=False,
            default=False,
            description="true when the parent prefers mainstream (strong duty)",
        ),
        Column(
            "current_setting_id",
            "str",
            required=False,
            default="",
            description="Setting of a continuing placement; blank = still to place",
        ),
        Column(
            "solo_transport",
            "bool",
            required=False,
            default=False,
            description="true when the child must travel alone (solo taxi + assistant)",
        ),
        Column(
            "cannot_walk",
            "bool",
            required=False,
            default=False,
            description="true when the child's SEND means they cannot walk to school: "
            "eligible for transport at any distance (policy transport.cannot_walk_packages "
            "marks whole packages)",
        ),
        Column(
            "wheelchair",
            "bool",
            required=False,
            default=False,
            description="true when the child travels in a wheelchair (needs a wheelchair space)",
        ),
        Column(
            "travel_mode",
            "str",
            required=False,
            default="",
            allowed=TRAVEL_MODES,
            description="Agreed travel mode; blank = by policy rules (solo_transport → "
            "solo_taxi, else the cheapest suitable shared mode)",
        ),
    ),
)

CANDIDATES = Table(
    name="candidates",
    file="candidates.csv",
    row_is="possible new inclusion base",
    required_file=False,
    columns=(
        Column("site_id", "str", unique=True, description="Candidate site id, e.g. N001"),
        Column("name", "str", description="Host school name"),
        _urn("GIAS URN of the host school"),
        _easting(),
        _northing(),
        _age("age_min", "Youngest age the base would take"),
        _age("age_max", "Oldest age the base would take"),
        Column("packages", "id_list", description="Packages the base could offer, ';'-separated"),
        Column(
            "max_places",
            "int",
            "places",
            min=0,
            max=MAX_PLACES,
            description="Largest base the site can host",
        ),
        Column(
            "capital_cost_gbp_per_place",
            "float",
            "GBP/place",
            required=False,
            default=20000.0,
            min=0,
            max=MAX_CAPITAL_GBP,
            description="Capital cost of one new place",
        ),
        Column(
            "phase",
            "str",
            required=False,
            default="",
            description="Host school's phase, e.g. Primary, Secondary, All-through (GIAS)",
        ),
        Column(
            "establishment_type",
            "str",
            required=False,
            default="",
            description="Host school's GIAS establishment type, e.g. Academy converter",
        ),
        Column(
            "gender",
            "str",
            required=False,
            default="",
            allowed=HOST_GENDERS,
            description="Host school's GIAS gender; Boys or Girls = single-sex (policy "
            "host_exclusions.single_sex); blank = unknown",
        ),
        Column(
            "admissions_policy",
            "str",
            required=False,
            default="",
            description="Host school's GIAS admissions policy, e.g. Selective, Non-selective; "
            "Selective = a grammar school (policy host_exclusions.selective); blank = unknown",
        ),
    ),
)

WARDS = Table(
    name="wards",
    file="wards.geojson",
    row_is="ward (polygon)",
    required_file=False,
    columns=(
        Column("ward_code", "str", unique=True, description="GSS ward code (E05…)"),
        Column("ward_name", "str", description="Ward name"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (PACKAGES, COSTING, SETTINGS, PLACES, CHILDREN, CANDIDATES, WARDS)
}
