"""Schema of the dataset folder: one table per input file.

Each :class:`Table` lists its columns with dtype, unit, whether required, the
default used when the column is absent or blank, the allowed range and a
description. The same tables drive loading (type coercion and defaults),
validation (``optimiser.validate``) and the generated documentation
(``docs/data-format.md``, rebuilt by ``python -m optimiser.schema``).
"""

from __future__ import annotations

from optimiser.schema._columns import Column, Table
from optimiser.schema.tables import INMSS_TYPES, MAINSTREAM_TYPES, SETTING_TYPES, TABLES

__all__ = ["INMSS_TYPES", "MAINSTREAM_TYPES", "SETTING_TYPES", "TABLES", "Column", "Table"]
