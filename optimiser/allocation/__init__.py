"""Allocation: every eligible arc, the min-cost flow, the independent check and the KPIs.

:mod:`~optimiser.allocation.arcs` builds the (child, setting, package) arcs and
their costs; :mod:`~optimiser.allocation.network` the flow network, one
function per constraint family; :mod:`~optimiser.allocation.solve` solves it
(:func:`allocate`, :func:`options`); :mod:`~optimiser.allocation.check`
re-checks every result independently; :mod:`~optimiser.allocation.kpis` and
:mod:`~optimiser.allocation.unplaced` report it; :mod:`~optimiser.allocation.explain`
says why one child went where they did and :mod:`~optimiser.allocation.preferences`
audits the parental preferences the optimum did not meet, both by exact re-solves
(:mod:`~optimiser.allocation.whatif`).
"""

from __future__ import annotations

from optimiser.allocation.check import allocation_warnings as allocation_warnings
from optimiser.allocation.check import check_allocation as check_allocation
from optimiser.allocation.network import FlowNetwork as FlowNetwork
from optimiser.allocation.network import build_flow_network as build_flow_network
from optimiser.allocation.preferences import audit_summary as audit_summary
from optimiser.allocation.preferences import preference_audit as preference_audit
from optimiser.allocation.solve import AllocationResult as AllocationResult
from optimiser.allocation.solve import allocate as allocate
from optimiser.allocation.solve import options as options

__all__ = [
    "AllocationResult",
    "FlowNetwork",
    "allocate",
    "allocation_warnings",
    "audit_summary",
    "build_flow_network",
    "check_allocation",
    "options",
    "preference_audit",
]
