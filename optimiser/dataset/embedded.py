"""The embedded default data: Trafford (real schools and boundaries, synthetic children)."""

from __future__ import annotations

from optimiser.dataset.load import load_dataset
from optimiser.dataset.model import Dataset
from optimiser.dataset.paths import default_path


def load_default() -> Dataset:
    """The embedded Trafford dataset (real GIAS schools and ONS wards; synthetic children)."""
    return load_dataset(default_path())
