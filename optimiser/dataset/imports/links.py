"""Road links as every road source is read: nodes with x, y and links between them.

The readers (:mod:`~optimiser.dataset.imports.osm`,
:mod:`~optimiser.dataset.imports.os_open_roads`) return :class:`RoadLinks`;
:mod:`~optimiser.dataset.imports.roads` turns them into the dataset's road graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pandas as pd

from optimiser.problems import Problem, raise_problems

#: Columns of :attr:`RoadLinks.links`.
LINK_COLUMNS = ("u", "v", "length_m", "road_class", "oneway")


@dataclass(frozen=True)
class RoadLinks:
    """Road links read from a source, before they become a graph.

    Attributes
    ----------
    nodes : DataFrame indexed by node id (str): x, y [m, in the reader's CRS]
    links : DataFrame: u, v (node ids), length_m [m], road_class (the source's class
        name, the key of policy ``roads.speeds_kmh``), oneway (True: u → v only)
    source : the file's name, for the graph's notes
    """

    nodes: pd.DataFrame
    links: pd.DataFrame
    source: str


def import_problem(path: Path, found: str, expected: str, fix: str, column: str = "") -> NoReturn:
    """Raise a DataValidationError about the road file ``path`` (named in the message)."""
    raise_problems([Problem(str(path), None, column, found, expected, fix)])
