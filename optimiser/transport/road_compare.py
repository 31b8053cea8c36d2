"""Road network times against straight line × detour, on one dataset's home → setting pairs.

The pairs are every child with every open setting that offers the child's package
and takes the child's age, within the straight-line reach of the child's journey
cap under either model (the union of both pruning radii, so no pair that either
model could put within the cap is left out). For each pair the ratio of the
network figure to the straight-line × ``detour_factor`` figure is taken (km and
min); the report gives their median and 90th percentile, and counts the pairs
whose eligibility under the journey caps changes.

Only counts and ratios are reported: no child, home or pair appears.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from optimiser.dataset.model import Dataset
from optimiser.policy import over_journey_cap
from optimiser.transport.travel import max_straight_km, pairs_within, road_km_and_min


@dataclass(frozen=True)
class RoadComparison:
    """Network journeys against straight line × detour on a dataset's pairs.

    Attributes
    ----------
    pairs : home → setting pairs compared
    unreachable : pairs the road graph does not join (left out of the ratios)
    km_ratio_median, km_ratio_p90 : network km ÷ (straight km × detour factor)
    min_ratio_median, min_ratio_p90 : network min ÷ straight-line model min
    within_straight, within_roads : pairs within their journey cap under each model
    now_within : pairs over the cap by straight line × detour, within it by road
    now_over : pairs within the cap by straight line × detour, over it by road
    detour_factor, speed_kmh : the straight-line model's policy values
    """

    pairs: int
    unreachable: int
    km_ratio_median: float
    km_ratio_p90: float
    min_ratio_median: float
    min_ratio_p90: float
    within_straight: int
    within_roads: int
    now_within: int
    now_over: int
    detour_factor: float
    speed_kmh: float

    def markdown(self, *, title: str) -> str:
        """The comparison as a short Markdown report."""
        return "\n".join(
            [
                f"# Road journeys against straight line × detour: {title}",
                "",
                f"{self.pairs} home → setting pairs (each child with every open setting "
                "offering their package and age, in reach under either model); "
                f"{self.unreachable} not joined by the roads.",
                "",
                "| ratio: road network ÷ straight line × detour | median | P90 |",
                "|---|---:|---:|",
                f"| distance (km) | {self.km_ratio_median:.3f} | {self.km_ratio_p90:.3f} |",
                f"| journey time (min) | {self.min_ratio_median:.3f} | {self.min_ratio_p90:.3f} |",
                "",
                f"Straight-line model: detour factor {self.detour_factor:g}, "
                f"{self.speed_kmh:g} km/h door to door.",
                "",
                "| within the journey cap | pairs |",
                "|---|---:|",
                f"| straight line × detour | {self.within_straight} |",
                f"| road network | {self.within_roads} |",
                f"| over by straight line, within by road | {self.now_within} |",
                f"| within by straight line, over by road | {self.now_over} |",
                "",
            ]
        )


def compare_road_times(ds: Dataset, graph: nx.Graph) -> RoadComparison:
    """Compare ``graph``'s journey times with straight line × detour on ``ds``'s pairs."""
    home, sett, cap = _pairs(ds, graph)
    pol = ds.policy
    km_s, min_s = road_km_and_min(home, sett, policy=pol)
    km_r, min_r = road_km_and_min(home, sett, policy=pol, graph=graph)
    reach = np.isfinite(min_r) & np.isfinite(km_r)
    moved = reach & (km_s > 0)
    within_s = ~over_journey_cap(min_s, cap)
    within_r = reach & ~over_journey_cap(min_r, cap)

    def q(values: np.ndarray, p: float) -> float:
        return float(np.quantile(values, p)) if len(values) else float("nan")

    km_ratio = km_r[moved] / km_s[moved]
    min_ratio = min_r[moved] / min_s[moved]
    return RoadComparison(
        pairs=len(home),
        unreachable=int((~reach).sum()),
        km_ratio_median=q(km_ratio, 0.5),
        km_ratio_p90=q(km_ratio, 0.9),
        min_ratio_median=q(min_ratio, 0.5),
        min_ratio_p90=q(min_ratio, 0.9),
        within_straight=int(within_s.sum()),
        within_roads=int(within_r.sum()),
        now_within=int((~within_s & within_r).sum()),
        now_over=int((within_s & ~within_r).sum()),
        detour_factor=float(pol.detour_factor),
        speed_kmh=float(pol.speed_kmh),
    )


def _pairs(ds: Dataset, graph: nx.Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home xy, setting xy, cap [min]) of every pair compared, child then setting order."""
    kids = ds.children.reset_index(drop=True)
    settings = ds.settings.drop_duplicates("setting_id").reset_index(drop=True)
    cap = ds.policy.travel_caps_min(kids["age"].to_numpy(float))
    radius = np.maximum(
        max_straight_km(cap, policy=ds.policy), max_straight_km(cap, policy=ds.policy, graph=graph)
    )
    hxy = kids[["easting", "northing"]].to_numpy(float)
    sxy = settings[["easting", "northing"]].to_numpy(float)
    c, s = pairs_within(hxy, sxy, radius)
    offers = set(zip(ds.places["setting_id"], ds.places["package_id"], strict=True))
    sid = settings["setting_id"].to_numpy()[s]
    pkg = kids["package_id"].to_numpy()[c]
    age = kids["age"].to_numpy(float)[c]
    open_ = ~settings.get("closed", pd.Series(False, index=settings.index)).fillna(False)
    keep = np.fromiter(((a, b) in offers for a, b in zip(sid, pkg, strict=True)), bool, len(c))
    keep &= settings["age_min"].to_numpy(float)[s] <= age
    keep &= age <= settings["age_max"].to_numpy(float)[s]
    keep &= open_.to_numpy(bool)[s]
    c, s = c[keep], s[keep]
    return hxy[c], sxy[s], cap[c]
