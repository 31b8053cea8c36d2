"""Shared home-to-school routes: instance, search, costing and the plan.

:func:`estimate_routes` (:mod:`~optimiser.transport.routes.estimate`) puts the
parts together: :mod:`~.instance` builds one routing instance per setting,
:mod:`~.search` solves it, :mod:`~.costing` prices the routes and
:mod:`~.plan` assembles the :class:`RoutePlan`.
"""

from __future__ import annotations

from optimiser.transport.routes.estimate import METHODS as METHODS
from optimiser.transport.routes.estimate import VEHICLES as VEHICLES
from optimiser.transport.routes.estimate import RoutePlan as RoutePlan
from optimiser.transport.routes.estimate import estimate_routes as estimate_routes

__all__ = ["METHODS", "VEHICLES", "RoutePlan", "estimate_routes"]
