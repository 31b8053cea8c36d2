"""Postcode → British National Grid lookups: the dataset folder's own, else the embedded ONSPD.

The folder's ``postcodes.csv`` may be in the dataset's layout (postcode, easting, northing
or postcode, lon, lat) or an ONS Postcode Directory extract as ONS publishes it (``pcds``,
``oseast1m``, ``osnrth1m``, …: :func:`optimiser.dataset.ons.postcode_table`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from optimiser.dataset.ons import onspd_columns, postcode_table
from optimiser.dataset.paths import data_dir


def _read_lookup(path: str) -> pd.DataFrame:
    stat = Path(path).stat()
    return _read_lookup_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_lookup_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    onspd = {} if "postcode" in header else onspd_columns(header)
    usecols = list(onspd.values()) or None  # ONSPD has ~50 columns: read only these
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=usecols)
    return postcode_table(frame)[["postcode", "easting", "northing"]]


def postcode_lookup(folder: Path | None = None) -> pd.DataFrame:
    """Postcode → easting/northing: the folder's postcodes.csv, else the embedded Trafford ONSPD."""
    if folder is not None and (Path(folder) / "postcodes.csv").exists():
        return _read_lookup(str(Path(folder) / "postcodes.csv"))
    return _read_lookup(str(data_dir() / "sources" / "trafford_postcodes_onspd_feb2025.csv"))
