"""Plain-English labels and number formats for KPIs (CLI and workbook)."""

from __future__ import annotations

from collections.abc import Mapping

_KPI_LABELS = {
    "placed_children": ("children placed", "{:,.0f}"),
    "continuing_children": ("  of whom continuing placements", "{:,.0f}"),
    "new_placements": ("  of whom newly placed", "{:,.0f}"),
    "unplaced_children": ("children without a suitable place", "{:,.0f}"),
    "total_cost_gbp": ("total cost a year (place + transport + unplaced)", "£{:,.0f}"),
    "place_cost_gbp": ("  place cost", "£{:,.0f}"),
    "transport_cost_gbp": ("  transport cost", "£{:,.0f}"),
    "unplaced_cost_gbp": ("  unplaced children's cost (INMSS proxy)", "£{:,.0f}"),
    "transported_children": ("children transported", "{:,.0f}"),
    "transport_cost_per_transported_child_gbp": (
        "  transport cost per child transported",
        "£{:,.0f}",
    ),
    "travelling_alone_share": ("  travelling alone (solo taxi)", "{:.1%}"),
    "personal_budget_children": ("  on a personal travel budget", "{:,.0f}"),
    "transported_over_journey_cap": ("  transported over the journey cap", "{:,.0f}"),
    "inmss_children": ("children in INMSS", "{:,.0f}"),
    "inmss_share": ("INMSS share of placements", "{:.1%}"),
    "inmss_cost_gbp": ("INMSS place cost a year", "£{:,.0f}"),
    "first_preference_share": ("first preference met (of those who ranked)", "{:.1%}"),
    "mainstream_preference_met_share": ("mainstream preference met", "{:.1%}"),
    "mean_travel_min": ("mean journey (min)", "{:.1f}"),
    "max_travel_min": ("longest journey (min)", "{:.1f}"),
    "children_over_journey_cap": ("children over the journey cap", "{:,.0f}"),
}


def format_kpis(kpis: Mapping[str, float | str]) -> list[tuple[str, str]]:
    """(label, formatted value) pairs for display, in a reading order.

    NaN shows as n/a; a string (a withheld figure, "c") is shown as it is.
    """
    out = []
    for key, (label, fmt) in _KPI_LABELS.items():
        if key in kpis:
            value = kpis[key]
            if isinstance(value, str):
                out.append((label, value))
            else:
                out.append((label, "n/a" if value != value else fmt.format(value)))
    return out


def format_value(key: str, value: float, *, delta: bool = False) -> str:
    """A KPI value formatted by its unit (from its name): £, %, minutes or a count."""
    if value != value:
        return "n/a"
    sign = "+" if delta and value > 0 else ""
    if key.endswith("_gbp"):
        return f"{sign}£{value:,.0f}" if value >= 0 else f"-£{-value:,.0f}"
    if key.endswith("_share"):
        return f"{sign}{value * 100:.1f}" + (" pts" if delta else "%")
    if key.endswith("_min"):
        return f"{sign}{value:.1f}"
    return f"{sign}{value:,.0f}"


# --- units and plain-English names for tables (workbook sheets, terminal tables, CSV) ------

#: Column names shown in the workbook and terminal tables (a name not listed gets
#: :func:`column_label`'s rule: words, with its unit in brackets).
COLUMN_LABELS = {
    "measure": "Measure",
    "value": "Value",
    "package_id": "Package",
    "package_name": "Package name",
    "phase": "Phase",
    "setting_id": "Setting id",
    "setting_name": "Setting name",
    "name": "Setting",
    "setting_type": "Setting type",
    "ward_code": "Ward code",
    "ward_name": "Ward",
    "child_id": "Child id (pseudonymous)",
    "reason": "Reason",
    "year": "Year",
    "academic_year": "Academic year",
    "places": "Places",
    "shortfall": "Shortfall (places)",
    "spare_places": "Spare places",
    "demand_children": "Demand (children)",
    "placed_children": "Placed (children)",
    "inmss_children": "In INMSS (children)",
    "unplaced_children": "Without a place (children)",
    "shortfall_children": "Shortfall (children)",
    "new_ehcp_children": "New EHCPs (children)",
    "leavers_children": "Leavers (children)",
    "transfer_children": "Phase transfers (children)",
    "inmss_share": "INMSS share (%)",
    "total_cost_gbp": "Total cost a year (£)",
    "place_cost_gbp": "Place cost a year (£)",
    "transport_cost_gbp": "Transport cost a year (£)",
    "transport_gbp_per_child": "Transport per child a year (£)",
    "fee_gbp": "Fee a year (£)",
    "mean_travel_min": "Mean journey (min)",
    "travel_min": "Journey (min)",
    "distance_km": "Distance (km)",
    "preference_rank": "Preference rank",
    "arc_cost": "Objective cost (£-equivalent)",
    "continuing": "Continuing placement",
    "section": "Section",
    "sen2": "SEN2 return",
    "model": "Model",
    "difference": "Difference",
    "difference_pct": "Difference (%)",
    "flag": "Flag",
}

_UNIT_WORDS = (("_gbp", "£"), ("_share", "%"), ("_min", "min"), ("_children", "children"))


def column_label(column: str) -> str:
    """The plain-English name of a table column: ``demand_children`` → ``Demand (children)``."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column.startswith("change: "):
        return column
    words, unit = column, ""
    for suffix, name in _UNIT_WORDS:
        if suffix in words:
            words, unit = words.replace(suffix, ""), name
            break
    text = words.replace("_", " ").strip().capitalize() or column
    return f"{text} ({unit})" if unit else text


def kpi_unit(key: str) -> str:
    """The unit of a KPI (or column) from its name: "gbp", "share", "min" or "count"."""
    if key.endswith("_gbp") or "_gbp_" in key:
        return "gbp"
    if key.endswith(("_share", "_pct")):
        return "share"
    if key.endswith("_min"):
        return "min"
    return "count"


_PACKAGE_KPIS = {
    "placed_children_": "children placed",
    "unplaced_children_": "children without a suitable place",
}


def kpi_label(key: str) -> str:
    """The plain-English name of a KPI (Summary and Comparison rows, ``compare``)."""
    if key in _KPI_LABELS:
        return _KPI_LABELS[key][0].strip()
    if key == "capital_cost_gbp":
        return "capital cost of the option"
    for prefix, label in _PACKAGE_KPIS.items():
        if key.startswith(prefix):
            package, _, phase = key.removeprefix(prefix).rpartition("_")
            return f"{label}: {package} {phase}"
    return column_label(key)


def kpi_rows(kpis: Mapping[str, float | str]) -> list[tuple[str, str, float | str]]:
    """(key, label, value) of the headline KPIs in :func:`format_kpis`' reading order.

    Values stay numbers (NaN where undefined) or a withheld figure's text ("c").
    """
    return [(key, label, kpis[key]) for key, (label, _fmt) in _KPI_LABELS.items() if key in kpis]
