"""Siting: where new inclusion bases should go, within a capital budget.

:func:`site` (:mod:`~optimiser.siting.plan`) reads as its steps: build the
instance (:mod:`~.instance`, candidate bases from :mod:`~.candidates`),
solve the facility-location core (:mod:`~optimiser.siting.cflp`, also usable
on plain arrays through :func:`solve_facility_location`), read the plan and
confirm it by a full allocation (:mod:`~.confirm`). :func:`robust_site`
(:mod:`~.robust`) chooses bases and opening years against sampled futures.
"""

from __future__ import annotations

from optimiser.siting.cflp.solution import FacilityLocationSolution as FacilityLocationSolution
from optimiser.siting.cflp.solution import check_facility_location as check_facility_location
from optimiser.siting.cflp.solve import solve_facility_location as solve_facility_location
from optimiser.siting.plan import SitingResult as SitingResult
from optimiser.siting.plan import annuity_factor as annuity_factor
from optimiser.siting.plan import budget_curve as budget_curve
from optimiser.siting.plan import site as site
from optimiser.siting.robust import RobustSiting as RobustSiting
from optimiser.siting.robust import robust_site as robust_site

__all__ = [
    "FacilityLocationSolution",
    "RobustSiting",
    "SitingResult",
    "annuity_factor",
    "budget_curve",
    "check_facility_location",
    "robust_site",
    "site",
    "solve_facility_location",
]
