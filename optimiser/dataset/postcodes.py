"""Postcode → British National Grid lookups: the dataset folder's own, else the embedded ONSPD.

A lookup file is either the simple layout (``postcode`` with ``easting``/``northing`` or
``lon``/``lat``) or the ONS Postcode Directory (ONSPD) as ONS publishes it (``pcds``,
``oseast1m``, ``osnrth1m``, ``lsoa21``, ``lat``, ``long`` …; the newer ``pcd7``/``pcd8``,
``east1m``/``north1m``, ``lsoa21cd`` spellings too), in either case of header.
:func:`read_postcode_file` reads both.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.dataset.paths import data_dir
from optimiser.geography import bng_from_lonlat
from optimiser.problems import Problem, raise_problems

#: Lookup field → the headers that hold it (ONSPD's own first, then the simple layout's),
#: matched ignoring case. The first header present wins.
POSTCODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "postcode": ("pcds", "pcd", "pcd2", "pcd7", "pcd8", "postcode"),
    "easting": ("oseast1m", "east1m", "easting"),
    "northing": ("osnrth1m", "north1m", "nrth1m", "northing"),
    "lsoa_code": ("lsoa21", "lsoa21cd", "lsoa_code"),
    "lon": ("long", "lon"),
    "lat": ("lat",),
}


def _find_columns(header: list[str]) -> dict[str, str]:
    """Lookup field → the file's header holding it (fields the file lacks are left out)."""
    lower = {h.strip().lower(): h for h in header}
    found = {}
    for field, names in POSTCODE_COLUMNS.items():
        for name in names:
            if name in lower:
                found[field] = lower[name]
                break
    return found


def normalise_postcodes(codes: pd.Series) -> pd.Series:
    """:func:`optimiser.geography.normalise_postcode` of each cell, vectorised."""
    compact = codes.astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    spaced = compact.str[:-3] + " " + compact.str[-3:]
    return spaced.where(compact.str.len() > 3, compact)


#: Rows of a postcode file read at a time (the full ONSPD has about 2.7 million).
CHUNK_ROWS = 250_000


def read_postcode_file(path: str | Path, keep: Collection[str] | None = None) -> pd.DataFrame:
    """A postcode lookup in ONSPD's own layout or the simple one.

    Parameters
    ----------
    path : CSV file (an ONSPD extract as downloaded, or ``postcode,easting,northing``).
    keep : normalised postcodes to keep (default: all). The file is read
        :data:`CHUNK_ROWS` rows at a time and only these rows are kept, so the whole UK
        ONSPD can be given for a few thousand homes.

    Returns
    -------
    DataFrame with ``postcode`` (normalised: upper case, one space before the inward code),
    ``easting`` and ``northing`` [m, EPSG:27700; NaN where the file gives no grid
    reference, as ONSPD does for some non-geographic postcodes] and ``lsoa_code`` (GSS LSOA
    2021 code, "" when the file has none). Grid references come from the easting/northing
    columns, else from lat/long.

    Raises
    ------
    DataValidationError
        when the file has no postcode column or no coordinates (file, row 1, the fix).
    """
    path = Path(path)
    header = list(pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns)
    cols = _find_columns([str(h) for h in header])
    has_en = {"easting", "northing"} <= set(cols)
    has_ll = {"lon", "lat"} <= set(cols)
    if "postcode" not in cols or not (has_en or has_ll):
        raise_problems(
            [
                Problem(
                    path.name,
                    1,
                    "",
                    "no postcode column" if "postcode" not in cols else "no coordinate columns",
                    "an ONSPD extract (pcds, oseast1m, osnrth1m, lsoa21, …) or the columns "
                    "postcode, easting, northing (or postcode, lon, lat)",
                    "give the ONS Postcode Directory CSV as ONS publishes it, or rename the "
                    "header cells",
                )
            ]
        )
    wanted = None if keep is None else pd.Index(list(keep))
    parts = []
    with pd.read_csv(
        path,
        usecols=list(cols.values()),
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        chunksize=CHUNK_ROWS,
    ) as reader:
        for chunk in reader:
            chunk = chunk.rename(columns={v: k for k, v in cols.items()})
            chunk["postcode"] = normalise_postcodes(chunk["postcode"])
            parts.append(chunk if wanted is None else chunk[chunk["postcode"].isin(wanted)])
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(cols))
    easting = pd.to_numeric(frame["easting"], errors="coerce") if has_en else None
    northing = pd.to_numeric(frame["northing"], errors="coerce") if has_en else None
    if has_ll:
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)  # ONSPD: 99.999999 = none
        e, n = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        if ok.any():
            e[ok], n[ok] = bng_from_lonlat(lon[ok], lat[ok])
        if easting is None or northing is None:
            easting, northing = pd.Series(e), pd.Series(n)
        else:  # grid reference where given, else from lon/lat
            easting = easting.fillna(pd.Series(e, index=easting.index))
            northing = northing.fillna(pd.Series(n, index=northing.index))
    assert easting is not None and northing is not None
    return pd.DataFrame(
        {
            "postcode": frame["postcode"].to_numpy(str),
            "easting": easting.to_numpy(float),
            "northing": northing.to_numpy(float),
            "lsoa_code": frame["lsoa_code"].str.strip().to_numpy(str)
            if "lsoa_code" in frame
            else "",
        }
    )


def _read_lookup(path: str) -> pd.DataFrame:
    stat = Path(path).stat()
    return _read_lookup_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_lookup_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    frame = read_postcode_file(path)
    frame = frame[np.isfinite(frame["easting"]) & np.isfinite(frame["northing"])]
    return frame[["postcode", "easting", "northing"]].reset_index(drop=True)


def postcode_lookup(folder: Path | None = None) -> pd.DataFrame:
    """Postcode → easting/northing: the folder's postcodes.csv, else the embedded Trafford ONSPD."""
    if folder is not None and (Path(folder) / "postcodes.csv").exists():
        return _read_lookup(str(Path(folder) / "postcodes.csv"))
    return _read_lookup(str(data_dir() / "sources" / "trafford_postcodes_onspd_feb2025.csv"))
