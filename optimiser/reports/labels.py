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
