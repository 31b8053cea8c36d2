"""Home-to-school transport: the annual cost of taking a child to a setting.

Current model (a simple distance-based estimate; the transport issue refines it
behind this same function): every child with a Specialist Provision Package is
assumed eligible for transport (SEND children are commonly eligible regardless
of distance). Annual cost [GBP/yr] = 2 journeys × road miles × school days ×
rate per pupil-mile, the rate being the policy's ``solo`` rate for children who
must travel alone and the ``shared`` rate otherwise (domain-facts §2.2:
£8,900 ÷ 3,420 pupil-miles ≈ £2.60 per pupil-mile).
"""

from __future__ import annotations

import numpy as np

from optimiser.policy import Policy
from optimiser.travel import KM_PER_MILE


def transport_cost_gbp(road_km: np.ndarray, solo: np.ndarray, *, policy: Policy) -> np.ndarray:
    """Annual transport cost [GBP/yr] for each (road distance [km], travels alone) pair."""
    miles = np.asarray(road_km, float) / KM_PER_MILE
    rates = policy.transport_gbp_per_pupil_mile
    rate = np.where(np.asarray(solo, bool), rates.solo, rates.shared)
    return 2.0 * miles * policy.school_days_per_year * rate
