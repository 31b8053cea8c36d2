"""Scenarios: named changes over a dataset, compared side by side and rolled forward.

:mod:`~optimiser.scenarios.scenario` loads them (YAML), :mod:`~.changes` is
the change vocabulary, :mod:`~.checks` checks them against a dataset,
:mod:`~.apply` applies them, :mod:`~.compare` compares options
(``compare_scenarios``; ``optimiser.compare`` is not re-exported here, so that it
does not hide its own module) and :mod:`~.horizon` rolls the cohort forward.
"""

from __future__ import annotations

from optimiser.scenarios.compare import Comparison as Comparison
from optimiser.scenarios.compare import compare_scenarios as compare_scenarios
from optimiser.scenarios.compare import who_moves as who_moves
from optimiser.scenarios.horizon import HorizonResult as HorizonResult
from optimiser.scenarios.horizon import roll_forward as roll_forward
from optimiser.scenarios.scenario import Scenario as Scenario
from optimiser.scenarios.scenario import load_scenario as load_scenario
from optimiser.scenarios.scenario import scenario_from_mapping as scenario_from_mapping

__all__ = [
    "Comparison",
    "HorizonResult",
    "Scenario",
    "compare_scenarios",
    "load_scenario",
    "roll_forward",
    "scenario_from_mapping",
    "who_moves",
]
