"""Capacitated facility location on plain arrays: the exact core of siting.

:mod:`~.instance` validates the arrays, :mod:`~.feasibility` diagnoses an
infeasible instance before solving, :mod:`~.model` builds the MIP one
numbered constraint family at a time, :mod:`~.solve` solves it and
:mod:`~.solution` reads and checks the plan.
"""

from __future__ import annotations

from optimiser.siting.cflp.solution import FacilityLocationSolution as FacilityLocationSolution
from optimiser.siting.cflp.solution import check_facility_location as check_facility_location
from optimiser.siting.cflp.solve import solve_facility_location as solve_facility_location

__all__ = ["FacilityLocationSolution", "check_facility_location", "solve_facility_location"]
