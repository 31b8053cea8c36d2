"""The Dataset: typed tables of children, settings, places and packages, plus the Policy.

:func:`derive_place_costs` fills the place costs a setting does not give from the
national costing framework.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from optimiser.policy import Policy

if TYPE_CHECKING:  # geopandas and networkx load only when a dataset has wards or roads
    import geopandas as gpd
    import networkx as nx

_T = TypeVar("_T")


@dataclass(frozen=True)
class Dataset:
    """Everything a run needs. Frames follow ``optimiser.schema.TABLES``.

    Attributes
    ----------
    children, settings, places, packages : DataFrame
    policy : Policy
    costing : DataFrame, national costing framework (package_id, setting_type, annual_cost_gbp)
    candidates : DataFrame or None, possible new inclusion bases
    wards : GeoDataFrame or None, ward polygons in EPSG:27700
    roads : networkx graph or None, road network (``roads.graphml``: nodes with x, y in
        EPSG:27700 metres; edges with length [m] and optional speed_kph); when given,
        journeys follow it instead of straight line × detour factor
    name : label of the data set (folder or workbook name)
    attribution : the sources and licences of the data, as its folder's ``attribution.txt``
        says ("" when it has none); outputs show :attr:`credit`
    """

    children: pd.DataFrame
    settings: pd.DataFrame
    places: pd.DataFrame
    packages: pd.DataFrame
    policy: Policy = dataclasses.field(default_factory=Policy)
    costing: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None
    wards: gpd.GeoDataFrame | None = None
    roads: nx.Graph | None = None
    name: str = "dataset"
    attribution: str = ""

    @property
    def setting_types(self) -> pd.Series:
        """setting_type by setting_id (the first row of a duplicated id); built once."""
        return self.derived(
            "setting_types",
            lambda: self.settings.drop_duplicates("setting_id").set_index("setting_id")[
                "setting_type"
            ],
        )

    def derived(self, key: str, build: Callable[[], _T]) -> _T:
        """A table derived from this dataset's fields alone, built on first use and kept.

        The Dataset is frozen and :meth:`replace` makes a new one (with an empty store),
        so a derived table never outlives the data it came from; treat what it returns
        as read-only. ``key`` names the table (one name per kind of table).
        """
        store = self.__dict__.setdefault("_derived", {})  # frozen: not through __setattr__
        if key not in store:
            store[key] = build()
        return store[key]

    @property
    def credit(self) -> str:
        """The attribution every output carries: the dataset's own, else a neutral line.

        Never claims a source or "synthetic children" the dataset does not state.
        """
        return self.attribution or f"Data: the {self.name} dataset (no attribution.txt given)."

    @property
    def area_name(self) -> str:
        """The area's name as outputs show it: policy ``area_name``, else the folder's name."""
        return self.policy.area_name or self.name

    @property
    def data_notice(self) -> str:
        """What every output must say about the data (policy ``data_notice``; "" when none).

        For the embedded and ``optimiser init`` data: that the children are synthetic.
        """
        return self.policy.data_notice or ""

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the fields only: derived tables are rebuilt where they are needed."""
        return {k: v for k, v in self.__dict__.items() if k != "_derived"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)  # frozen: not through __setattr__

    def replace(self, **changes: Any) -> Dataset:
        """A copy with some fields replaced (the original is untouched)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.children)} children, {len(self.settings)} "
            f"settings, {len(self.places)} place rows, {len(self.packages)} packages)"
        )


def derive_place_costs(ds: Dataset) -> pd.DataFrame:
    """Places with blank ``annual_cost_gbp`` filled from the costing framework.

    Adds ``cost_source``: "setting" (own fee given), "framework" (derived), or
    "missing" (no framework row for the package × setting type: a validation error).
    """
    places = ds.places.copy()
    given = places["annual_cost_gbp"].notna()
    framework = (
        ds.costing
        if ds.costing is not None
        else pd.DataFrame(columns=["package_id", "setting_type", "annual_cost_gbp"])
    )
    types = places["setting_id"].map(ds.setting_types)
    lookup = framework.drop_duplicates(["package_id", "setting_type"]).set_index(
        ["package_id", "setting_type"]
    )["annual_cost_gbp"]
    keys = pd.MultiIndex.from_arrays([places["package_id"], types])
    derived = lookup.reindex(keys).to_numpy()
    places["annual_cost_gbp"] = np.where(given, places["annual_cost_gbp"], derived)
    places["cost_source"] = np.where(
        given, "setting", np.where(np.isnan(derived.astype(float)), "missing", "framework")
    )
    return places
