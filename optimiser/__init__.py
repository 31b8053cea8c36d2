"""optimiser: placement sufficiency and commissioning for children with SPPs.

SPPs are the national Specialist Provision Packages (SEND, England).

Public API (stable names; see DESIGN.md §4)::

    ds = optimiser.load_default()
    ds = optimiser.load_dataset("path/to/folder")
    optimiser.validate(ds)
    res = optimiser.allocate(ds)          # AllocationResult
    optimiser.check_allocation(ds, res)   # [] when valid
    optimiser.init_la("356", out="stockport/")  # any English LA from national open data
    optimiser.calibration(ds)             # the baseline beside the LA's SEN2 return
    optimiser.explain(ds, "C00190")       # why this child went there (one row per setting)
    optimiser.preference_audit(ds, res)   # ranked preferences not met, and their cost
"""

from __future__ import annotations

__version__ = "0.1.0"

from optimiser import siting
from optimiser._errors import DataValidationError, InfeasibleError, OptimiserError, SolverError
from optimiser.allocation.check import check_allocation
from optimiser.allocation.explain import explain
from optimiser.allocation.preferences import preference_audit
from optimiser.allocation.solve import AllocationResult, allocate, options
from optimiser.dataset.embedded import load_default
from optimiser.dataset.init.build import init_la
from optimiser.dataset.load import load_dataset
from optimiser.dataset.model import Dataset
from optimiser.dataset.save import save_dataset
from optimiser.dataset.validate import DataWarning, validate
from optimiser.policy import Policy, load_policy
from optimiser.problems import Problem
from optimiser.reports.calibration import calibration
from optimiser.scenarios.compare import Comparison, compare, compare_scenarios
from optimiser.scenarios.futures import FuturesResult, futures
from optimiser.scenarios.scenario import Scenario, load_scenario
from optimiser.siting.plan import SitingResult, site

__all__ = [
    "AllocationResult",
    "Comparison",
    "DataValidationError",
    "DataWarning",
    "Dataset",
    "FuturesResult",
    "InfeasibleError",
    "OptimiserError",
    "Policy",
    "Problem",
    "Scenario",
    "SitingResult",
    "SolverError",
    "__version__",
    "allocate",
    "calibration",
    "check_allocation",
    "compare",
    "compare_scenarios",
    "explain",
    "futures",
    "init_la",
    "load_dataset",
    "load_default",
    "load_policy",
    "load_scenario",
    "options",
    "preference_audit",
    "save_dataset",
    "site",
    "siting",
    "validate",
]
