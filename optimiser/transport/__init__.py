"""Transport: journeys, eligibility, mode and annual cost, reports and shared routes.

:mod:`~optimiser.transport.travel` measures journeys (straight line × detour,
or a road graph); :mod:`~optimiser.transport.rules` decides eligibility, mode
and annual cost; :mod:`~optimiser.transport.tables` reports them after an
allocation; :mod:`~optimiser.transport.routes` estimates shared routes.
"""

from __future__ import annotations

from optimiser.transport.routes.estimate import RoutePlan as RoutePlan
from optimiser.transport.routes.estimate import estimate_routes as estimate_routes
from optimiser.transport.rules import assess as assess
from optimiser.transport.rules import is_eligible as is_eligible
from optimiser.transport.rules import mode_cost_gbp as mode_cost_gbp
from optimiser.transport.rules import placement_transport as placement_transport
from optimiser.transport.rules import transport_cost_gbp as transport_cost_gbp
from optimiser.transport.rules import walking_limit_miles as walking_limit_miles
from optimiser.transport.tables import transport_kpis as transport_kpis
from optimiser.transport.tables import transport_tables as transport_tables
from optimiser.transport.travel import road_km_and_min as road_km_and_min
from optimiser.transport.travel import straight_km as straight_km

__all__ = [
    "RoutePlan",
    "assess",
    "estimate_routes",
    "is_eligible",
    "mode_cost_gbp",
    "placement_transport",
    "road_km_and_min",
    "straight_km",
    "transport_cost_gbp",
    "transport_kpis",
    "transport_tables",
    "walking_limit_miles",
]
