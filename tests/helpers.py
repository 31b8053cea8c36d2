"""Constants shared by several test modules (imported as ``from helpers import ...``)."""

from __future__ import annotations

#: The KPI names DESIGN.md §4 promises in ``AllocationResult.kpis`` (restated here, not
#: imported from the package, so that a rename in the code fails the tests).
DESIGN_KPIS = [
    "total_cost_gbp",
    "place_cost_gbp",
    "transport_cost_gbp",
    "inmss_children",
    "inmss_share",
    "inmss_cost_gbp",
    "unplaced_children",
    "first_preference_share",
    "mean_travel_min",
    "max_travel_min",
]

#: Flat per-pupil-mile transport (everyone eligible, no fixed charge): £2.60 shared, £3.50
#: solo, so annual cost = 190 days × rate × 2 × road miles and hand sums stay simple.
FLAT_TRANSPORT = {
    "cannot_walk_packages": None,
    "post16_eligible": True,
    "minibus": {"fixed_gbp_per_day": 0.0, "gbp_per_mile": 2.6},
    "shared_taxi": {"fixed_gbp_per_day": 0.0, "gbp_per_mile": 2.6},
    "solo_taxi": {"fixed_gbp_per_day": 0.0, "gbp_per_mile": 3.5},
}
