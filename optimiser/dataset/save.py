"""Save a Dataset as a folder of CSV files or one XLSX workbook, never over existing files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from optimiser._outputs import XLSX_TEXT_OPTIONS, atomic_outputs, check_outputs
from optimiser.dataset.load import ATTRIBUTION_FILE
from optimiser.dataset.model import Dataset
from optimiser.policy import Policy, save_policy

if TYPE_CHECKING:
    import geopandas as gpd


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
    book = path.suffix.lower() == ".xlsx"
    files: dict[str, Path] = {"workbook": path} if book else {f: path / f for f in tables}
    if not book:
        files["policy.yaml"] = path / "policy.yaml"
        if ds.attribution:
            files[ATTRIBUTION_FILE] = path / ATTRIBUTION_FILE
    if ds.wards is not None:
        files["wards.geojson"] = wards_path
    check_outputs(*files.values())
    # Every file goes to a temporary file first; all are published together at the end.
    # The cells are written as they are, NOT made formula-inert (as the CLI's CSV outputs
    # are): a dataset folder must load back to the same values.
    with atomic_outputs(*files.values()) as temps:
        tmp = dict(zip(files, temps, strict=True))
        if book:
            _save_workbook(tables, ds.policy, tmp["workbook"])
        else:
            for file, frame in tables.items():
                frame.to_csv(tmp[file], index=False, lineterminator="\n")
            save_policy(ds.policy, tmp["policy.yaml"])
            if ds.attribution:
                tmp[ATTRIBUTION_FILE].write_text(ds.attribution + "\n", encoding="utf-8")
        if ds.wards is not None:
            wards = cast("gpd.GeoDataFrame", ds.wards)  # a Dataset's wards are a GeoDataFrame
            wards.to_crs("EPSG:4326").to_file(tmp["wards.geojson"], driver="GeoJSON")
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
    with pd.ExcelWriter(
        path, engine="xlsxwriter", engine_kwargs={"options": XLSX_TEXT_OPTIONS}
    ) as writer:
        for file, frame in tables.items():
            frame.to_excel(writer, sheet_name=file.removesuffix(".csv"), index=False)
        items = policy.model_dump(mode="json")
        pd.DataFrame(
            {"key": list(items), "value": [_yaml_inline(v) for v in items.values()]}
        ).to_excel(writer, sheet_name="policy", index=False)


def _yaml_inline(value: object) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
