"""Reports: the planner's workbook and the labels figures are shown with.

:func:`write_workbook` (:mod:`~optimiser.reports.workbook`) builds the tables
and writes them through :mod:`~.xlsx`; :mod:`~.labels` formats KPIs.
"""

from __future__ import annotations

from optimiser.reports.labels import format_kpis as format_kpis
from optimiser.reports.labels import format_value as format_value
from optimiser.reports.workbook import WorkbookTables as WorkbookTables
from optimiser.reports.workbook import build_tables as build_tables
from optimiser.reports.workbook import write_workbook as write_workbook

__all__ = ["WorkbookTables", "build_tables", "format_kpis", "format_value", "write_workbook"]
