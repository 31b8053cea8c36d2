"""Constants and fakes shared by several test modules (imported as ``from helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimiser.reports.labels import _KPI_LABELS, COLUMN_LABELS, kpi_label

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


# --- reading a workbook back ----------------------------------------------------------------

#: The workbook's plain-English headers back to the tables' column names.
COLUMN_OF = {label: key for key, label in COLUMN_LABELS.items()} | {"Baseline": "baseline"}
_KPI_OF = {kpi_label(k): k for k in [*_KPI_LABELS, "capital_cost_gbp"]}


def kpi_key(label: str) -> str:
    """The KPI key of a Summary or Comparison row label (``kpi_label`` read backwards)."""
    label = str(label).strip()
    if label in _KPI_OF:
        return _KPI_OF[label]
    for prefix, measure in (
        ("children placed: ", "placed"),
        ("children without a suitable place: ", "unplaced"),
    ):
        if label.startswith(prefix):
            package, phase = label.removeprefix(prefix).split(" ")
            return f"{measure}_children_{package}_{phase}"
    return label


def workbook_rows(book, name: str, *, header_row: int = 3, keys: bool = True) -> list[dict]:
    """Data rows of a sheet as dicts keyed by column name (headers read back to names).

    With ``keys`` the Comparison sheet's measures are read back to KPI keys too.
    """
    rows = list(book[name].iter_rows(min_row=header_row, values_only=True))
    header = [COLUMN_OF.get(str(h), h) for h in rows[0]]
    out = [dict(zip(header, r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]
    if keys and name == "Comparison":
        for r in out:
            r["measure"] = kpi_key(r["measure"])
    return out
