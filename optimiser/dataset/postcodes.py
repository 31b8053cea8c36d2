"""Postcode → British National Grid lookups: the dataset folder's own, else the embedded ONSPD."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from optimiser.dataset.paths import data_dir
from optimiser.geography import bng_from_lonlat


def _read_lookup(path: str) -> pd.DataFrame:
    stat = Path(path).stat()
    return _read_lookup_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_lookup_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"postcode": str})
    if {"easting", "northing"} <= set(frame.columns):
        return frame[["postcode", "easting", "northing"]]
    e, n = bng_from_lonlat(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return pd.DataFrame({"postcode": frame["postcode"], "easting": e, "northing": n})


def postcode_lookup(folder: Path | None = None) -> pd.DataFrame:
    """Postcode → easting/northing: the folder's postcodes.csv, else the embedded Trafford ONSPD."""
    if folder is not None and (Path(folder) / "postcodes.csv").exists():
        return _read_lookup(str(Path(folder) / "postcodes.csv"))
    return _read_lookup(str(data_dir() / "sources" / "trafford_postcodes_onspd_feb2025.csv"))
