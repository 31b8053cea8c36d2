"""Status strings and engine names shared by the solver wrappers."""

from __future__ import annotations

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
UNKNOWN = "unknown"

ENGINES = ("highs", "highspy", "scip", "cp_sat")

# Largest magnitude CP-SAT accepts safely for integer data (its own limit is 2**62,
# and sums of many terms must not overflow).
_CP_SAT_MAX_COEFF = 2**40

_SCIP_PARAMETERS = "limits/gap = 0\nlimits/absgap = 0\nrandomization/randomseedshift = 0"
