"""ONS files as ONS publishes them: the column names of each vintage, mapped to the dataset's.

* Ward boundaries carry ``WD<yy>CD`` / ``WD<yy>NM`` (``WD24CD`` for May 2024, ``WD23CD``,
  ``WD22CD`` …); :func:`ward_columns` finds them (the latest vintage when a file has several).
* LSOA files carry ``LSOA<yy>CD`` / ``LSOA<yy>NM`` (2021: ``LSOA21CD``; 2011: ``LSOA11CD``);
  :func:`lsoa_columns` finds them.
* The ONS Postcode Directory (ONSPD) names its columns ``pcd`` / ``pcd7`` / ``pcd8`` /
  ``pcds`` (the postcode), ``oseast1m`` / ``osnrth1m`` (British National Grid [m], blank when
  ONS has no grid reference), ``lat`` / ``long``, ``lsoa21`` / ``lsoa11``, ``osward``,
  ``oslaua``, ``oscty``; :func:`postcode_table` turns it (or the dataset's own
  ``postcode, easting, northing`` / ``postcode, lon, lat`` layout) into one frame.

Column names match ignoring case, as ONS has written both ``WD24CD`` and ``wd24cd``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from optimiser.geography import bng_from_lonlat

__all__ = [
    "ONSPD_COLUMNS",
    "ONSPD_POSTCODE",
    "find_columns",
    "lsoa_columns",
    "onspd_columns",
    "postcode_table",
    "vintage_columns",
    "ward_columns",
]

#: ONSPD's headers of each field, preferred first, matched ignoring case (``pcds`` is
#: "M1 1AE"; the other postcode columns are padded). :mod:`optimiser.dataset.postcodes`
#: reads the same headers.
ONSPD_COLUMNS: dict[str, tuple[str, ...]] = {
    "postcode": ("pcds", "pcd", "pcd2", "pcd7", "pcd8"),
    "easting": ("oseast1m", "east1m"),
    "northing": ("osnrth1m", "north1m", "nrth1m"),
    "lat": ("lat",),
    "lon": ("long", "lon"),
    "lsoa21": ("lsoa21", "lsoa21cd"),
    "lsoa11": ("lsoa11", "lsoa11cd"),
    "ward": ("osward",),
    "lad": ("oslaua",),
    "county": ("oscty",),
}
ONSPD_POSTCODE = ONSPD_COLUMNS["postcode"]


def find_columns(columns: Iterable[str], table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Field -> the column holding it: the first of ``table[field]`` in ``columns``.

    Headers match ignoring case and surrounding spaces; fields without a column are left out.
    """
    lower = {str(c).strip().lower(): str(c) for c in columns}
    out: dict[str, str] = {}
    for field, names in table.items():
        hit = next((lower[name] for name in names if name in lower), None)
        if hit is not None:
            out[field] = hit
    return out


def vintage_columns(columns: Iterable[str], prefix: str) -> tuple[str, str | None] | None:
    """(code column, name column or None) of the latest ``<prefix><yy>CD`` in ``columns``."""
    found: dict[int, str] = {}
    names: dict[int, str] = {}
    for col in map(str, columns):
        m = re.fullmatch(rf"{prefix}(\d\d)(CD|NM)", col, flags=re.IGNORECASE)
        if m:
            (found if m.group(2).upper() == "CD" else names)[int(m.group(1))] = col
    if not found:
        return None
    year = max(found)
    return found[year], names.get(year)


def ward_columns(columns: Iterable[str]) -> tuple[str, str | None] | None:
    """The ward code and name columns of an ONS ward file (``WD24CD``, ``WD24NM``)."""
    return vintage_columns(columns, "WD")


def lsoa_columns(columns: Iterable[str]) -> tuple[str, str | None] | None:
    """The LSOA code and name columns of an ONS LSOA file (``LSOA21CD``, ``LSOA21NM``)."""
    return vintage_columns(columns, "LSOA")


def onspd_columns(columns: Iterable[str]) -> dict[str, str]:
    """Field -> column of an ONSPD file: postcode, easting, northing, lat, lon, lsoa (2021,
    else 2011), ward, lad, county (the fields the file has; {} when it has no ONSPD postcode
    column)."""
    lsoa = ONSPD_COLUMNS["lsoa21"] + ONSPD_COLUMNS["lsoa11"]
    table = {k: v for k, v in ONSPD_COLUMNS.items() if not k.startswith("lsoa")}
    out = find_columns(columns, {**table, "lsoa": lsoa})
    return out if "postcode" in out else {}


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.astype(str).str.strip(), errors="coerce")


def postcode_table(frame: pd.DataFrame) -> pd.DataFrame:
    """postcode, easting, northing [m] (+ lsoa_code, ward_code when given) from a lookup.

    Accepts the dataset's layout (``postcode`` with ``easting``/``northing`` or
    ``lon``/``lat``) and ONSPD's (``pcds`` …, ``oseast1m``/``osnrth1m``, else
    ``lat``/``long``). Postcodes ONS gives no grid reference (blank, or ONSPD's
    ``0``/``1``-metre placeholders for no location) are left out; the index is the
    input rows' (so other columns of ``frame`` can be joined on it).
    """
    cols = {c.lower(): c for c in map(str, frame.columns)}
    onspd = {} if "postcode" in cols else onspd_columns(frame.columns)
    pc = cols.get("postcode") or onspd.get("postcode")
    if pc is None:
        msg = "a postcode lookup needs a postcode column (postcode, or ONSPD's pcds/pcd)"
        raise KeyError(msg)
    e_col = cols.get("easting") or onspd.get("easting")
    n_col = cols.get("northing") or onspd.get("northing")
    out = pd.DataFrame({"postcode": frame[pc].astype(str).str.strip()})
    if e_col and n_col:
        out["easting"], out["northing"] = _numbers(frame[e_col]), _numbers(frame[n_col])
    else:
        lon = cols.get("lon") or onspd.get("lon") or cols.get("long")
        lat = cols.get("lat") or onspd.get("lat")
        if lon is None or lat is None:
            msg = "a postcode lookup needs easting, northing (or oseast1m, osnrth1m) or lon, lat"
            raise KeyError(msg)
        e, n = bng_from_lonlat(_numbers(frame[lon]).to_numpy(), _numbers(frame[lat]).to_numpy())
        out["easting"], out["northing"] = e, n
    for field, name in (("lsoa", "lsoa_code"), ("ward", "ward_code")):
        src = cols.get(name) or onspd.get(field)
        if src is not None:
            out[name] = frame[src].astype(str).str.strip()
    located = (out["easting"] > 1) & (out["northing"] > 1) & (out["postcode"] != "")
    # ONSPD gives a postcode without a grid reference as blank or 0 (north 99999999 for
    # the Channel Islands and Isle of Man): neither is a place in Great Britain
    located &= (out["easting"] <= 700_000) & (out["northing"] <= 1_300_000)
    return out[located.fillna(False)]
