"""optimiser: placement sufficiency and commissioning for children with Specialist Provision Packages.

Public API (stable names; see DESIGN.md §4)::

    ds = optimiser.load_default()
    ds = optimiser.load_dataset("path/to/folder")
    optimiser.validate(ds)
    res = optimiser.allocate(ds)          # AllocationResult
    optimiser.check_allocation(ds, res)   # [] when valid
"""

from __future__ import annotations

__version__ = "0.1.0"

from optimiser.allocation import AllocationResult, allocate, options
from optimiser import siting
from optimiser.check import check_allocation
from optimiser.comparison import Comparison, compare, compare_scenarios
from optimiser.scenarios import Scenario, load_scenario
from optimiser.site_planning import SitingResult, site
from optimiser._errors import DataValidationError, InfeasibleError, OptimiserError, SolverError
from optimiser.datamodel import Dataset, load_dataset, save_dataset
from optimiser.datasets import load_default
from optimiser.policy import Policy, load_policy
from optimiser.problems import Problem
from optimiser.validate import DataWarning, validate

__all__ = [
    "AllocationResult",
    "allocate",
    "check_allocation",
    "siting",
    "site",
    "SitingResult",
    "compare",
    "compare_scenarios",
    "Comparison",
    "load_scenario",
    "Scenario",
    "options",
    "DataValidationError",
    "DataWarning",
    "Dataset",
    "InfeasibleError",
    "OptimiserError",
    "Policy",
    "Problem",
    "SolverError",
    "__version__",
    "load_dataset",
    "load_default",
    "load_policy",
    "save_dataset",
    "validate",
]
