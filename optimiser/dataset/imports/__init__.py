"""The LA's own data in, as LAs hold it: GIAS downloads, case-management exports, ONS files, roads.

Each importer reads a file in the layout its source publishes and updates a dataset folder,
reporting every row it could not use as a problem (file, row, column, fix).
"""

from optimiser.dataset.imports.children import ChildrenImport as ChildrenImport
from optimiser.dataset.imports.children import build_children as build_children
from optimiser.dataset.imports.children import import_children as import_children
from optimiser.dataset.imports.gias import load_provision_mapping as load_provision_mapping
from optimiser.dataset.imports.gias import read_gias as read_gias
from optimiser.dataset.imports.gias_update import GiasImport as GiasImport
from optimiser.dataset.imports.gias_update import import_gias as import_gias
from optimiser.dataset.imports.mapping import ChildrenMapping as ChildrenMapping
from optimiser.dataset.imports.mapping import load_mapping as load_mapping
from optimiser.dataset.imports.ons import OnsImport as OnsImport
from optimiser.dataset.imports.ons import import_ons as import_ons
from optimiser.dataset.imports.ons import read_ons as read_ons
from optimiser.dataset.imports.pseudonyms import pseudonym as pseudonym
from optimiser.dataset.imports.pseudonyms import read_key as read_key
from optimiser.dataset.imports.roads import import_roads as import_roads

__all__ = [
    "ChildrenImport",
    "ChildrenMapping",
    "GiasImport",
    "OnsImport",
    "build_children",
    "import_children",
    "import_gias",
    "import_ons",
    "import_roads",
    "load_mapping",
    "load_provision_mapping",
    "pseudonym",
    "read_gias",
    "read_key",
    "read_ons",
]
