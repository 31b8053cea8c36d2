"""Datasets: the typed tables a run needs, loaded, validated and saved.

``load_dataset`` reads a folder of CSV files or one XLSX workbook
(:mod:`~optimiser.dataset.load`); ``validate`` lists every problem
(:mod:`~optimiser.dataset.validate`; the function is ``optimiser.validate``, not
re-exported here so that it does not hide its own module); ``load_default`` is the embedded Trafford
data (:mod:`~optimiser.dataset.embedded`); ``resolve_la``, ``sen2_placements`` and
``sen2_needs`` read the national open data for any English LA (:mod:`~optimiser.dataset.init`).
"""

from __future__ import annotations

from optimiser.dataset.embedded import load_default as load_default
from optimiser.dataset.init.national import PLACEMENT_GROUPS as PLACEMENT_GROUPS
from optimiser.dataset.init.national import SETTING_GROUP as SETTING_GROUP
from optimiser.dataset.init.national import LocalAuthority as LocalAuthority
from optimiser.dataset.init.national import resolve_la as resolve_la
from optimiser.dataset.init.national import sen2_needs as sen2_needs
from optimiser.dataset.init.national import sen2_placements as sen2_placements
from optimiser.dataset.load import load_dataset as load_dataset
from optimiser.dataset.model import Dataset as Dataset
from optimiser.dataset.model import derive_place_costs as derive_place_costs
from optimiser.dataset.paths import data_dir as data_dir
from optimiser.dataset.paths import default_path as default_path
from optimiser.dataset.postcodes import postcode_lookup as postcode_lookup
from optimiser.dataset.save import save_dataset as save_dataset
from optimiser.dataset.validate import DataWarning as DataWarning

__all__ = [
    "PLACEMENT_GROUPS",
    "SETTING_GROUP",
    "DataWarning",
    "Dataset",
    "LocalAuthority",
    "data_dir",
    "default_path",
    "derive_place_costs",
    "load_dataset",
    "load_default",
    "postcode_lookup",
    "resolve_la",
    "save_dataset",
    "sen2_needs",
    "sen2_placements",
]
