"""Datasets: the typed tables a run needs, loaded, validated and saved.

``load_dataset`` reads a folder of CSV files or one XLSX workbook
(:mod:`~optimiser.dataset.load`); ``validate`` lists every problem
(:mod:`~optimiser.dataset.validate`; the function is ``optimiser.validate``, not
re-exported here so that it does not hide its own module); ``load_default`` is the embedded Trafford
data (:mod:`~optimiser.dataset.embedded`).
"""

from __future__ import annotations

from optimiser.dataset.embedded import load_default as load_default
from optimiser.dataset.load import load_dataset as load_dataset
from optimiser.dataset.model import Dataset as Dataset
from optimiser.dataset.model import derive_place_costs as derive_place_costs
from optimiser.dataset.paths import data_dir as data_dir
from optimiser.dataset.paths import default_path as default_path
from optimiser.dataset.postcodes import postcode_lookup as postcode_lookup
from optimiser.dataset.save import save_dataset as save_dataset
from optimiser.dataset.validate import DataWarning as DataWarning

__all__ = [
    "DataWarning",
    "Dataset",
    "data_dir",
    "default_path",
    "derive_place_costs",
    "load_dataset",
    "load_default",
    "postcode_lookup",
    "save_dataset",
]
