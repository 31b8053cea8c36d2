"""The Dataset: typed tables of children, settings, places and packages, plus the Policy.

``load_dataset`` reads a dataset folder (CSV files) or one XLSX workbook with a
sheet per table, converts lon/lat or postcodes to British National Grid, fills
defaults from the schema, derives place costs from the national costing
framework where a setting gives no fee, and validates everything, raising one
:class:`DataValidationError` that lists every problem. Inputs are never modified.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.coerce import coerce_table
from optimiser.geography import fill_coordinates
from optimiser.policy import Policy, load_policy, policy_from_mapping, save_policy
from optimiser.problems import Problem, raise_problems
from optimiser.readers import read_folder, read_workbook
from optimiser.schema import TABLES

_COORD_TABLES = ("settings", "children", "candidates")


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
    """

    children: pd.DataFrame
    settings: pd.DataFrame
    places: pd.DataFrame
    packages: pd.DataFrame
    policy: Policy = dataclasses.field(default_factory=Policy)
    costing: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None
    wards: pd.DataFrame | None = None
    roads: object | None = None
    name: str = "dataset"

    @property
    def setting_types(self) -> pd.Series:
        """setting_type by setting_id (the first row of a duplicated id)."""
        return self.settings.drop_duplicates("setting_id").set_index("setting_id")["setting_type"]

    def replace(self, **changes: object) -> Dataset:
        """A copy with some fields replaced (the original is untouched)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.children)} children, {len(self.settings)} "
            f"settings, {len(self.places)} place rows, {len(self.packages)} packages)"
        )


def load_dataset(path: str | Path, *, validate: bool = True) -> Dataset:
    """Load a dataset folder of CSV files, or one XLSX workbook.

    Parameters
    ----------
    path : folder holding packages.csv, settings.csv, places.csv, children.csv
        (and optional policy.yaml, costing_framework.csv, candidates.csv,
        wards.geojson, postcodes.csv), or an .xlsx workbook with one sheet per table.
    validate : run every check of :mod:`optimiser.validate` (default True).

    Raises
    ------
    DataValidationError
        listing every problem: file, row, column, value found, expected, fix.
    """
    path = Path(path)
    problems: list[Problem] = []
    if not path.exists():
        raise_problems(
            [
                Problem(
                    str(path),
                    None,
                    "",
                    "nothing at this path",
                    "a dataset folder or an .xlsx workbook",
                    "check the path (see docs/data-format.md)",
                )
            ]
        )
    folder = path if path.is_dir() else path.parent
    if path.is_dir():
        raw = read_folder(path, problems)
        policy_path = path / "policy.yaml"
        policy = _policy_or_problems(
            lambda: load_policy(policy_path) if policy_path.exists() else Policy(), problems
        )
    else:
        raw, mapping = read_workbook(path, problems)
        policy = _policy_or_problems(
            lambda: policy_from_mapping(mapping, file=path.name + ":policy"), problems
        )
    frames = _typed_frames(raw, folder, problems)
    ds = Dataset(
        children=frames["children"],
        settings=frames["settings"],
        places=frames["places"],
        packages=frames["packages"],
        policy=policy or Policy(),
        costing=frames["costing_framework"],
        candidates=frames.get("candidates"),
        wards=_load_wards(folder, problems),
        roads=_load_roads(folder, problems),
        name=path.stem if path.is_file() else path.name,
    )
    ds = ds.replace(places=derive_place_costs(ds))
    if validate:
        from optimiser.validate import collect_problems

        unreadable = {p.file for p in problems if not p.column}
        problems += [
            p
            for p in collect_problems(ds)
            if not (p.file in unreadable and p.found == "no data rows")
        ]
    if any(p.severity == "error" for p in problems):
        raise_problems(problems)
    return ds


def _policy_or_problems(make, problems: list[Problem]) -> Policy | None:
    from optimiser._errors import DataValidationError

    try:
        return make()
    except DataValidationError as exc:
        problems.extend(exc.problems)
        return None


def _typed_frames(
    raw: dict[str, pd.DataFrame], folder: Path, problems: list[Problem]
) -> dict[str, pd.DataFrame | None]:
    from optimiser.datasets import postcode_lookup

    frames: dict[str, pd.DataFrame | None] = {}
    for name, table in TABLES.items():
        if name == "wards":
            continue
        frame = raw.get(name)
        if frame is None:
            frame = pd.DataFrame({c: pd.Series(dtype=str) for c in table.names})
            if not table.required_file:
                frames[name] = None if name == "candidates" else coerce_table(table, frame, [])
                continue
        if name in _COORD_TABLES:
            frame = fill_coordinates(
                frame,
                file=table.file,
                problems=problems,
                lookup=lambda: postcode_lookup(folder),
                personal=name == "children",
            )
        frames[name] = coerce_table(table, frame, problems)
    return frames


def _load_wards(folder: Path, problems: list[Problem]):
    path = folder / "wards.geojson"
    if not path.exists():
        return None
    import geopandas as gpd

    try:
        wards = gpd.read_file(path)
    except Exception as exc:
        problems.append(
            Problem(
                "wards.geojson",
                None,
                "",
                f"an unreadable file ({exc})",
                "GeoJSON polygons with ward_code, ward_name",
                "export the wards again as GeoJSON",
            )
        )
        return None
    missing = [c for c in ("ward_code", "ward_name") if c not in wards.columns]
    for col in missing:
        problems.append(
            Problem(
                "wards.geojson",
                None,
                col,
                "no such property",
                f"a property {col!r} on every ward",
                f"add {col} to each feature",
            )
        )
    if wards.crs is None:
        wards = wards.set_crs("EPSG:4326")
    return wards.to_crs("EPSG:27700")


def _load_roads(folder: Path, problems: list[Problem]):
    path = folder / "roads.graphml"
    if not path.exists():
        return None
    import networkx as nx

    try:
        graph = nx.read_graphml(path)
    except Exception as exc:
        problems.append(
            Problem(
                "roads.graphml",
                None,
                "",
                f"an unreadable file ({exc})",
                "GraphML with node x, y and edge length",
                "export it again",
            )
        )
        return None
    for node, data in graph.nodes(data=True):
        try:
            data["x"], data["y"] = float(data["x"]), float(data["y"])
        except (KeyError, ValueError):
            problems.append(
                Problem(
                    "roads.graphml",
                    None,
                    "x, y",
                    f"node {node!r} without numeric x, y",
                    "BNG metres on every node",
                    "add x and y (EPSG:27700) to every node",
                )
            )
            return None
    for a, b, data in graph.edges(data=True):
        if "length" not in data:
            problems.append(
                Problem(
                    "roads.graphml",
                    None,
                    "length",
                    f"edge {a}-{b} without length",
                    "length [m] on every edge",
                    "add a length to every edge",
                )
            )
            return None
        data["length"] = float(data["length"])
        if "speed_kph" in data:
            data["speed_kph"] = float(data["speed_kph"])
    return graph


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


def save_dataset(ds: Dataset, path: str | Path) -> Path:
    """Write ``ds`` as a dataset folder (or an .xlsx workbook when ``path`` ends in .xlsx).

    Refuses to overwrite an existing non-empty folder or file, so nothing is lost.
    Costs derived from the framework are written blank, as a planner would.
    """
    path = Path(path)
    if path.exists() and (path.is_file() or any(path.iterdir())):
        msg = f"{path} already exists and is not empty; choose a new path so nothing is overwritten"
        raise FileExistsError(msg)
    wards_path = (path.parent if path.suffix.lower() == ".xlsx" else path) / "wards.geojson"
    if ds.wards is not None and wards_path.exists():
        msg = f"{wards_path} already exists; choose a new folder so nothing is overwritten"
        raise FileExistsError(msg)
    tables = _tables_for_saving(ds)
    if path.suffix.lower() == ".xlsx":
        _save_workbook(tables, ds.policy, path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for file, frame in tables.items():
            frame.to_csv(path / file, index=False, lineterminator="\n")
        save_policy(ds.policy, path / "policy.yaml")
    if ds.wards is not None:
        target = path.parent if path.suffix.lower() == ".xlsx" else path
        ds.wards.to_crs("EPSG:4326").to_file(target / "wards.geojson", driver="GeoJSON")
    return path


def _tables_for_saving(ds: Dataset) -> dict[str, pd.DataFrame]:
    places = ds.places.copy()
    if "cost_source" in places.columns:
        places.loc[places["cost_source"] == "framework", "annual_cost_gbp"] = np.nan
        places = places.drop(columns="cost_source")
    frames = {
        "packages.csv": ds.packages,
        "settings.csv": ds.settings,
        "places.csv": places,
        "children.csv": ds.children,
    }
    if ds.costing is not None and len(ds.costing):
        frames["costing_framework.csv"] = ds.costing
    if ds.candidates is not None:
        frames["candidates.csv"] = ds.candidates
    return {f: _to_text(fr) for f, fr in frames.items()}


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        first = next((v for v in out[col] if isinstance(v, tuple)), None)
        if first is not None or col in ("preferences", "packages"):
            out[col] = [";".join(v) if isinstance(v, tuple) else v for v in out[col]]
        elif out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    return out


def _save_workbook(tables: dict[str, pd.DataFrame], policy: Policy, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for file, frame in tables.items():
            frame.to_excel(writer, sheet_name=file.removesuffix(".csv"), index=False)
        items = policy.model_dump(mode="json")
        pd.DataFrame(
            {"key": list(items), "value": [_yaml_inline(v) for v in items.values()]}
        ).to_excel(writer, sheet_name="policy", index=False)


def _yaml_inline(value: object) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
