"""Load a dataset folder (CSV files) or one XLSX workbook into a typed, validated Dataset.

``load_dataset`` converts lon/lat or postcodes to British National Grid, fills
defaults from the schema, derives place costs from the national costing
framework where a setting gives no fee, and validates everything, raising one
:class:`DataValidationError` that lists every problem. Inputs are never modified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from optimiser._errors import DataValidationError
from optimiser.dataset.coerce import coerce_table
from optimiser.dataset.model import Dataset, derive_place_costs
from optimiser.dataset.ons import ward_columns
from optimiser.dataset.postcodes import postcode_lookup
from optimiser.dataset.readers import ReadNotes, read_folder, read_workbook
from optimiser.dataset.validate import collect_problems
from optimiser.geography import fill_coordinates
from optimiser.policy import Policy, load_policy, policy_from_mapping
from optimiser.problems import Problem, raise_problems
from optimiser.schema.tables import TABLES

_COORD_TABLES = ("settings", "children", "candidates")
#: Optional file of a dataset folder: the sources and licences its outputs must credit.
ATTRIBUTION_FILE = "attribution.txt"


def load_dataset(path: str | Path, *, validate: bool = True) -> Dataset:
    """Load a dataset folder of CSV files, or one XLSX workbook.

    Parameters
    ----------
    path : folder holding packages.csv, settings.csv, places.csv, children.csv
        (and optional policy.yaml, costing_framework.csv, candidates.csv,
        wards.geojson, postcodes.csv, roads.graphml, attribution.txt), or an .xlsx
        workbook with one sheet per table.
    validate : run every check of :mod:`optimiser.dataset.validate` (default True).

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
    notes = ReadNotes()  # rows kept where blank rows went between; cells already reported
    if path.is_dir():
        if folders := _folders_not_files(path):
            raise_problems(problems + folders)
        raw = read_folder(path, problems, notes)
        policy_path = path / "policy.yaml"
        policy = _policy_or_problems(
            lambda: load_policy(policy_path) if policy_path.exists() else Policy(), problems
        )
    else:
        raw, mapping = read_workbook(path, problems, notes)
        policy = _policy_or_problems(
            lambda: policy_from_mapping(mapping, file=path.name + ":policy"), problems
        )
    read = len(problems)  # problems after this one count rows of the compacted tables
    frames = _typed_frames(raw, folder, problems)
    ds = Dataset(
        children=_required(frames, "children"),
        settings=_required(frames, "settings"),
        places=_required(frames, "places"),
        packages=_required(frames, "packages"),
        policy=policy or Policy(),
        costing=frames["costing_framework"],
        candidates=frames.get("candidates"),
        wards=_load_wards(folder, problems),
        roads=_load_roads(folder, problems),
        name=path.stem if path.is_file() else path.name,
        attribution=_read_attribution(path),
    )
    ds = ds.replace(places=derive_place_costs(ds))
    if validate:
        problems += collect_problems(ds, absent=_absent_columns(raw))
    if any(p.severity == "error" for p in problems):
        later = [_spreadsheet_row(p, notes.rows) for p in problems[read:]]
        raise_problems(problems[:read] + [p for p in later if not _reported(p, notes.cells)])
    return ds


def _reported(problem: Problem, cells: set[tuple[str, int, str]]) -> bool:
    """Whether ``problem`` is about a cell the reader already reported (merged, formula)."""
    if problem.row is None:
        return False
    return any((problem.file, problem.row, c) in cells for c in problem.column.split(", "))


def _spreadsheet_row(problem: Problem, rows: dict[str, list[int]]) -> Problem:
    """``problem`` with its row counted as in the file, blank rows between included."""
    kept = rows.get(problem.file)
    if kept is None or problem.row is None or not 2 <= problem.row < len(kept) + 2:
        return problem
    return dataclasses.replace(problem, row=kept[problem.row - 2])


def _absent_columns(raw: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    """(file, column) of each required column the input lacks; (file, "") for a missing file.

    Checks leave out what only follows from these (one problem per cause): the reader or
    :func:`coerce_table` has already reported each once.
    """
    out: set[tuple[str, str]] = set()
    for name, table in TABLES.items():
        frame = raw.get(name)
        if frame is None:
            if table.required_file:
                out |= {(table.file, ""), *((table.file, c) for c in table.names)}
            continue
        columns = set(map(str, frame.columns))
        if name in _COORD_TABLES and ({"lon", "lat"} <= columns or "postcode" in columns):
            columns |= {"easting", "northing"}
        out |= {(table.file, c.name) for c in table.columns if c.required and c.name not in columns}
    return out


def _folders_not_files(folder: Path) -> list[Problem]:
    """A folder where the dataset expects one of its files (read as a file, it would crash)."""
    names = [t.file for t in TABLES.values()]
    names += ["policy.yaml", "wards.geojson", "roads.graphml", ATTRIBUTION_FILE]
    return [
        Problem(
            name,
            None,
            "",
            f"a folder named {name} in {folder.name}",
            f"{name} as a file",
            f"move the folder away and put the {name} file there (see docs/data-format.md)",
        )
        for name in dict.fromkeys(names)
        if (folder / name).is_dir()
    ]


def _read_attribution(path: Path) -> str:
    """The folder's ``attribution.txt`` (sources and licences of the data), "" when absent."""
    file = path / ATTRIBUTION_FILE if path.is_dir() else None
    if file is None or not file.is_file():
        return ""
    return " ".join(file.read_text(encoding="utf-8", errors="replace").split())


def _required(frames: dict[str, pd.DataFrame | None], name: str) -> pd.DataFrame:
    frame = frames[name]
    assert frame is not None, name  # a required table comes back typed, empty when absent
    return frame


def _policy_or_problems(make: Callable[[], Policy], problems: list[Problem]) -> Policy | None:
    try:
        return make()
    except DataValidationError as exc:
        problems.extend(exc.problems)
        return None


def _typed_frames(
    raw: dict[str, pd.DataFrame], folder: Path, problems: list[Problem]
) -> dict[str, pd.DataFrame | None]:
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
        reported: set[int | None] = set()
        if name in _COORD_TABLES:
            start = len(problems)
            frame = fill_coordinates(
                frame,
                file=table.file,
                problems=problems,
                lookup=lambda: postcode_lookup(folder),
                personal=name == "children",
            )
            reported = {p.row for p in problems[start:]}
        start = len(problems)
        frames[name] = coerce_table(table, frame, problems)
        # a row whose lon/lat or postcode is already a problem is not blamed again for the
        # easting, northing they would have filled (one problem per cause)
        problems[start:] = [
            p
            for p in problems[start:]
            if not (p.column in ("easting", "northing") and ({p.row, None} & reported))
        ]
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
    wards = _ons_ward_names(wards)
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


def _ons_ward_names(wards):
    """ONS's ward columns of any vintage (WD24CD, WD24NM; WD23CD …) as ward_code, ward_name."""
    if "ward_code" in wards.columns:
        return wards
    found = ward_columns(wards.columns)
    if found is None:
        return wards
    code, name = found
    renames = {code: "ward_code"} | ({name: "ward_name"} if name else {})
    return wards.rename(columns=renames)


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
    graph.graph["cache_dir"] = str(folder / ".cache")  # journey times (transport.journeys)
    return graph
