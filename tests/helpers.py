"""Constants and fakes shared by several test modules (imported as ``from helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Debian's Chromium and the flags it needs as root, headless, offline (browser tests).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]


class FakeSiting:
    """Duck-typed siting result: the first three candidates, two of them chosen."""

    def __init__(self, ds):
        c = ds.candidates.head(3)
        self.sites = pd.DataFrame(
            {
                "site_id": c["site_id"],
                "name": c["name"],
                "easting": c["easting"],
                "northing": c["northing"],
                "places": [16, 0, 8],
                "saving_gbp": [120000.4, 0.0, 5000.0],
            }
        )


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
