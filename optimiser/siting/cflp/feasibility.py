"""Why a facility-location instance has no solution: causes provable without solving.

:func:`infeasibility_causes` lists every cause it can prove from the data (a customer no
facility may serve, too little capacity, k or budget too small); :func:`raise_infeasible`
turns causes, or the solver's proof, into one :class:`~optimiser._errors.InfeasibleError`.
"""

from __future__ import annotations

import numpy as np

from optimiser._errors import InfeasibleError
from optimiser.siting.cflp.instance import FacilityInstance, family_capacity

__all__ = ["infeasibility_causes", "raise_infeasible"]


def _fixed_cost_lower_bound(inst: FacilityInstance) -> float:
    """Least fixed cost of enough capacity for all demand (fractional knapsack)."""
    need = inst.demand.sum()
    order = np.lexsort(
        (np.arange(inst.capacity.size), inst.fixed_cost / np.maximum(inst.capacity, 1e-300))
    )
    cost, got = 0.0, 0.0
    for i in order:
        if got >= need or inst.capacity[i] <= 0:
            continue
        take = min(1.0, (need - got) / inst.capacity[i])
        cost += take * inst.fixed_cost[i]
        got += take * inst.capacity[i]
    return cost


def infeasibility_causes(
    inst: FacilityInstance,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: object = None,
) -> list[str]:
    """Return reasons, each provable without solving, why no solution exists."""
    causes = []
    served = np.zeros(inst.demand.size, bool)
    served[inst.pair_j] = True
    if not served.all():
        lonely = np.flatnonzero(~served)
        rule = "a finite assign_cost" + (" and capacity >= its demand" if single_source else "")
        causes.append(
            f"customer(s) {lonely[:10].tolist()} have no facility with {rule}; "
            "allow at least one facility for each customer"
        )
    total_cap, total_dem = family_capacity(inst).sum(), inst.demand.sum()
    if total_cap < total_dem:
        causes.append(
            f"total capacity {total_cap:g} < total demand {total_dem:g}; "
            "add capacity or reduce demand"
        )
    if k is not None:
        top = np.sort(family_capacity(inst))[::-1][:k].sum()
        if k == 0 or top < total_dem:
            causes.append(
                f"k={k} facilities offer at most {top:g} capacity for total demand "
                f"{total_dem:g} (and at least one must open); raise k"
            )
    if budget is not None:
        need = max(_fixed_cost_lower_bound(inst), inst.fixed_cost.min())
        if need > budget * (1 + 1e-12):
            causes.append(
                f"budget={budget:g} is below {need:g}, the least fixed cost of "
                f"facilities able to cover total demand {total_dem:g}; raise budget"
            )
    return causes


def raise_infeasible(
    causes: list[str],
    *,
    proven_by_solver: bool,
    single_source: bool,
    budget: float | None,
    k: int | None,
    groups: object = None,
) -> None:
    """Raise InfeasibleError naming the causes (or, when the solver proved it, the rules)."""
    if not causes and proven_by_solver:
        causes = [
            f"no set of open facilities meets capacity, budget={budget}, k={k}"
            f"{', the groups' if groups else ''}"
            f"{' and single sourcing' if single_source else ''} together; relax the "
            "budget or k, add capacity" + (", or allow split demand" if single_source else "")
        ]
    if causes:
        msg = "facility location is infeasible: " + "; ".join(causes) + "."
        raise InfeasibleError(msg)
