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
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from optimiser.dataset.ons import ONSPD_COLUMNS, find_columns
from optimiser.dataset.paths import data_dir
from optimiser.geography import bng_from_lonlat
from optimiser.problems import Problem, raise_problems

#: Lookup field → the headers that hold it (ONSPD's own first, then the simple layout's),
#: matched ignoring case. The first header present wins.
POSTCODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "postcode": (*ONSPD_COLUMNS["postcode"], "postcode"),
    "easting": (*ONSPD_COLUMNS["easting"], "easting"),
    "northing": (*ONSPD_COLUMNS["northing"], "northing"),
    "lsoa_code": (*ONSPD_COLUMNS["lsoa21"], "lsoa_code"),
    "lon": ONSPD_COLUMNS["lon"],
    "lat": ONSPD_COLUMNS["lat"],
}


def _find_columns(header: list[str]) -> dict[str, str]:
    """Lookup field → the file's header holding it (fields the file lacks are left out)."""
    return find_columns(header, POSTCODE_COLUMNS)


def normalise_postcodes(codes: pd.Series) -> pd.Series:
    """:func:`optimiser.geography.normalise_postcode` of each cell, vectorised."""
    compact = codes.astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    spaced = compact.str[:-3] + " " + compact.str[-3:]
    return spaced.where(compact.str.len() > 3, compact)


def _normalise_arrow(codes: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`normalise_postcodes` in Arrow (a whole batch at once, no Python per row)."""
    compact = pc.utf8_upper(pc.replace_substring_regex(codes, r"\s+", ""))
    spaced = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(compact, 0, -3), pc.utf8_slice_codeunits(compact, -3), " "
    )
    return pc.if_else(pc.greater(pc.utf8_length(compact), 3), spaced, compact)


#: Bytes of a postcode file parsed at a time (the full ONSPD is about 1.3 GB).
BLOCK_BYTES = 1 << 24


def _read_columns(
    path: Path, header: list[str], cols: dict[str, str], keep: Collection[str] | None
) -> pd.DataFrame:
    """The lookup's columns (renamed to its fields) as text, postcodes normalised, only the
    rows of ``keep``; streamed with pyarrow's CSV reader, :data:`BLOCK_BYTES` at a time."""
    names = list(cols.values())
    wanted = None if keep is None else pa.array(sorted(keep), type=pa.string())
    parts = []
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=BLOCK_BYTES
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=names,
                column_types={c: pa.string() for c in names},
                strings_can_be_null=False,
            ),
        )
        for batch in reader:
            code = _normalise_arrow(batch.column(cols["postcode"]))
            if wanted is not None:
                mask = pc.is_in(code, value_set=wanted)
                batch, code = batch.filter(mask), code.filter(mask)
            part = batch.to_pandas().rename(columns={v: k for k, v in cols.items()})
            part["postcode"] = code.to_pandas()
            parts.append(part)
    except pa.ArrowInvalid:
        raise_problems(
            [
                Problem(
                    path.name,
                    None,
                    "",
                    "malformed CSV (a row with more or fewer cells than the header)",
                    "comma-separated rows with as many cells as the header",
                    "download the ONSPD extract again (or re-save it as CSV)",
                )
            ]
        )
    if not parts:
        return pd.DataFrame({field: pd.Series(dtype=str) for field in cols})
    return pd.concat(parts, ignore_index=True)


def read_postcode_file(path: str | Path, keep: Collection[str] | None = None) -> pd.DataFrame:
    """A postcode lookup in ONSPD's own layout or the simple one.

    Parameters
    ----------
    path : CSV file (an ONSPD extract as downloaded, or ``postcode,easting,northing``).
    keep : normalised postcodes to keep (default: all). The file is streamed and only
        these rows are kept, so the whole UK ONSPD (about 2.7 million rows) can be given
        for a few thousand homes.

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
    try:
        header = list(pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns)
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError):
        raise_problems(
            [
                Problem(
                    path.name,
                    1,
                    "",
                    "no readable header row (an empty file, or not UTF-8 text)",
                    "an ONSPD extract as CSV",
                    "download the ONSPD extract again as CSV",
                )
            ]
        )
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
    frame = _read_columns(path, [str(h) for h in header], cols, keep)
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
