"""The embedded default data: Trafford (real schools and boundaries, synthetic children)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import pandas as pd

from optimiser._errors import DataNotFoundError
from optimiser.datamodel import Dataset, load_dataset

DEFAULT_AREA = "trafford"


def data_dir() -> Path:
    """Folder of the embedded data (source checkout or installed package)."""
    checkout = Path(__file__).resolve().parent.parent / "data"
    if (checkout / DEFAULT_AREA / "settings.csv").exists():
        return checkout
    installed = Path(str(resources.files("optimiser") / "_data"))
    if (installed / DEFAULT_AREA / "settings.csv").exists():
        return installed
    msg = (
        "the embedded data folder was not found; reinstall optimiser with "
        "`pip install .` from a full clone (data/ must be present)"
    )
    raise DataNotFoundError(msg)


def default_path(area: str = DEFAULT_AREA) -> Path:
    """Dataset folder of an embedded area."""
    return data_dir() / area


def load_default() -> Dataset:
    """The embedded Trafford dataset (real GIAS schools and ONS wards; synthetic children)."""
    return load_dataset(default_path())


def _read_lookup(path: str) -> pd.DataFrame:
    stat = Path(path).stat()
    return _read_lookup_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_lookup_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"postcode": str})
    if {"easting", "northing"} <= set(frame.columns):
        return frame[["postcode", "easting", "northing"]]
    from optimiser.geography import bng_from_lonlat

    e, n = bng_from_lonlat(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return pd.DataFrame({"postcode": frame["postcode"], "easting": e, "northing": n})


def postcode_lookup(folder: Path | None = None) -> pd.DataFrame:
    """Postcode → easting/northing: the folder's postcodes.csv, else the embedded Trafford ONSPD."""
    if folder is not None and (Path(folder) / "postcodes.csv").exists():
        return _read_lookup(str(Path(folder) / "postcodes.csv"))
    return _read_lookup(str(data_dir() / "sources" / "trafford_postcodes_onspd_feb2025.csv"))
