"""Seeded random instances of capacitated facility location, as plain arrays.

The instances follow Cornuejols, Sridharan & Thizy (1991): sites and customers
uniform in the unit square, demand U{5..35}, capacities scaled so that total
capacity = ``capacity_ratio`` × total demand, fixed cost ~ 100 sqrt(capacity),
and assignment cost = 10 × distance × demand. They feed
:func:`optimiser.siting.solve_facility_location` in its tests and benchmarks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["synth_facility_location"]


def synth_facility_location(
    *,
    n_sites: int,
    n_customers: int,
    seed: int,
    capacity_ratio: float = 3.0,
    forbid_share: float = 0.0,
    cost_decimals: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A Cornuejols-style random capacitated facility-location instance.

    Parameters
    ----------
    n_sites : number of candidate sites (m).
    n_customers : number of customers (n).
    seed : seed of the random generator.
    capacity_ratio : total capacity per unit of total demand.
    forbid_share : chance that a (site, customer) pair is forbidden (``np.inf``
        cost); each customer's nearest site is always allowed.
    cost_decimals : decimals the assignment costs are rounded to (0: whole numbers).

    Returns
    -------
    (fixed_cost, capacity, demand, assign_cost): arrays of shape (m,), (m,), (n,)
    and (m, n), in the order :func:`~optimiser.siting.solve_facility_location` takes them.
    """
    m, n = n_sites, n_customers
    rng = np.random.default_rng(seed)
    sites, customers = rng.random((m, 2)), rng.random((n, 2))
    demand = rng.integers(5, 36, n).astype(float)
    capacity = rng.integers(10, 161, m).astype(float)
    capacity = np.round(capacity * capacity_ratio * demand.sum() / capacity.sum())
    fixed = np.round(rng.uniform(0, 90, m) + rng.uniform(100, 110, m) * np.sqrt(capacity))
    dist = np.linalg.norm(sites[:, None, :] - customers[None, :, :], axis=2)
    cost = np.round(10 * dist * demand[None, :], cost_decimals)
    cost[rng.random((m, n)) < forbid_share] = np.inf
    nearest = np.argmin(dist, axis=0)
    cost[nearest, np.arange(n)] = np.round(10 * dist.min(axis=0) * demand, cost_decimals)
    return fixed, capacity, demand, cost
