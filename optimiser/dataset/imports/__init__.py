"""The LA's own data in, as LAs hold it: GIAS downloads, case-management exports, ONS files, roads.

Each importer reads a file in the layout its source publishes and updates a dataset folder,
reporting every row it could not use as a problem (file, row, column, fix).
"""

from optimiser.dataset.imports.roads import import_roads as import_roads

__all__ = ["import_roads"]
