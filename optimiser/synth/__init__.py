"""Seeded generators of synthetic children and of large benchmark areas.

This module is the one place the rest of the code imports the generators from;
each lives in a module of its own:

* :func:`synth_children` (:mod:`optimiser.synth.cohort`) draws a synthetic
  cohort of children needing a Specialist Provision Package (SPP) for a real
  area, from single-year-of-age population by LSOA, real postcode centroids and
  a need mix. It is used by ``scripts/build_default_data.py`` to build the
  embedded Trafford data set.
* :func:`synth_area` (:mod:`optimiser.synth.benchmark`) draws a whole synthetic
  area (packages, costing framework, settings, places and children) in the
  dataset format, for benchmarks of any size.
* :func:`synth_facility_location` (:mod:`optimiser.synth.facility`) draws a
  random capacitated facility-location instance as plain arrays.
* The placeholder packages, need mix, default costs and column orders they share
  are in :mod:`optimiser.synth.tables`.

Nothing here reads or writes files: callers do the I/O. Every function takes an
explicit ``seed`` or ``rng``; the global NumPy random state is never used, so the
same arguments always give the same frames.
"""

from __future__ import annotations

from optimiser.synth.benchmark import synth_area
from optimiser.synth.cohort import TO_PLACE_AGE_FACTORS, TO_PLACE_AGE_WEIGHTS, synth_children
from optimiser.synth.facility import synth_facility_location
from optimiser.synth.tables import (
    ELIGIBLE_SETTING_TYPES,
    ENGLAND_NEED_PC,
    PLACEHOLDER_NEED_WEIGHTS,
    PLACEHOLDER_PACKAGES,
    SETTING_COLUMNS,
    SETTING_TYPE_COST_GBP,
    STATE_SPECIAL_COST_GBP,
    default_costing_framework,
    need_mix_from_primary_need,
    placeholder_packages,
)

__all__ = [
    "ELIGIBLE_SETTING_TYPES",
    "ENGLAND_NEED_PC",
    "PLACEHOLDER_NEED_WEIGHTS",
    "PLACEHOLDER_PACKAGES",
    "SETTING_COLUMNS",
    "SETTING_TYPE_COST_GBP",
    "STATE_SPECIAL_COST_GBP",
    "TO_PLACE_AGE_FACTORS",
    "TO_PLACE_AGE_WEIGHTS",
    "default_costing_framework",
    "need_mix_from_primary_need",
    "placeholder_packages",
    "synth_area",
    "synth_children",
    "synth_facility_location",
]
