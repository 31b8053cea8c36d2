"""CRS policy and coordinate conversion.

All computation is in British National Grid (EPSG:27700) metres. EPSG:4326
(lon/lat) is used only at the map boundary. Input tables may give ``lon``/``lat``
or ``postcode`` instead of ``easting``/``northing``; this module fills the grid
coordinates on load (lon/lat by pyproj; postcodes from a lookup table).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from optimiser.problems import Problem

if TYPE_CHECKING:
    from pyproj import Transformer

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@cache
def _transformer(source: str, target: str) -> Transformer:
    """pyproj's transformer, made on first use (pyproj: 12 MB a process need not hold)."""
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


PostcodeLookup = Callable[[], pd.DataFrame]

#: England's extent in British National Grid metres, with a 10 km margin: Bishop Rock
#: (Isles of Scilly) ≈ E 80,000 to Lowestoft Ness ≈ E 655,000; the Scillies ≈ N 5,000 to
#: Marshall Meadows (Berwick) ≈ N 657,000. Wales lies inside this box.
ENGLAND_E = (70_000.0, 666_000.0)
ENGLAND_N = (0.0, 668_000.0)


def in_england(easting: float, northing: float) -> bool:
    """Whether a grid reference [m] lies in England's extent (:data:`ENGLAND_E`, ``_N``)."""
    return ENGLAND_E[0] <= easting <= ENGLAND_E[1] and ENGLAND_N[0] <= northing <= ENGLAND_N[1]


#: What can be wrong with a grid reference for England (:func:`grid_reference_fault`).
GridFault = Literal["placeholder", "degrees", "swapped", "outside"]


def grid_reference_fault(easting: float, northing: float) -> GridFault | None:
    """What is wrong with a grid reference [m] for a place in England, or None.

    "placeholder": (0, 0); "degrees": both under 1,000 m (longitude/latitude typed into
    metre columns); "swapped": outside England but inside it with easting and northing
    exchanged; "outside": outside England's extent. The one rule the loader's check and
    a scenario's new setting share.
    """
    if abs(easting) < 1000 and abs(northing) < 1000:
        return "placeholder" if easting == 0 and northing == 0 else "degrees"
    if in_england(easting, northing):
        return None
    if min(easting, northing) >= 1000 and in_england(northing, easting):
        return "swapped"
    return "outside"


def bng_from_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Easting, northing [m] from lon, lat [degrees, WGS84]."""
    return _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))


def lonlat_from_bng(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon, lat [degrees, WGS84] from easting, northing [m]."""
    return _transformer(BNG, WGS84).transform(
        np.asarray(easting, float), np.asarray(northing, float)
    )


def normalise_postcode(text: str) -> str:
    """Upper case, single space before the inward code: ' m33 7xb' → 'M33 7XB'."""
    compact = "".join(str(text).split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def fill_coordinates(
    raw: pd.DataFrame, *, file: str, lookup: PostcodeLookup, problems: list[Problem], personal: bool
) -> pd.DataFrame:
    """Copy of ``raw`` with blank easting/northing filled from lon/lat or postcode.

    Rows that already have easting and northing are left alone. ``lookup``
    is called only when a postcode is needed; it returns a frame with columns
    postcode, easting, northing.
    """
    has_en = {"easting", "northing"} <= set(raw.columns)
    has_lonlat = {"lon", "lat"} <= set(raw.columns)
    if not (has_lonlat or "postcode" in raw.columns):
        return raw  # nothing to fill from: a missing column is one problem, not a blank per row
    need = np.ones(len(raw), bool)
    if has_en:
        need = np.array(
            (raw["easting"].str.strip() == "") | (raw["northing"].str.strip() == ""), dtype=bool
        )
    if not need.any():
        return raw
    out = raw.copy()
    for col in ("easting", "northing"):
        if col not in out.columns:  # never blank a column the user gave
            out[col] = ""
    if has_lonlat:
        need = _fill_from_lonlat(out, need, file=file, problems=problems, personal=personal)
    if need.any() and "postcode" in raw.columns:
        need = _fill_from_postcode(
            out, need, file=file, lookup=lookup, problems=problems, personal=personal
        )
    return out


#: Longitude and latitude [degrees, WGS84] of Great Britain with a margin: a lon/lat outside
#: this box is a typo or a place the grid does not cover.
GB_LON = (-9.0, 2.5)
GB_LAT = (49.0, 61.0)
_LONLAT_EXPECTED = (
    f"longitude {GB_LON[0]:g} to {GB_LON[1]:g} and latitude {GB_LAT[0]:g} to {GB_LAT[1]:g} "
    "(degrees, WGS84, in Great Britain)"
)


def in_gb_lonlat(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Whether each lon, lat [degrees] lies in Great Britain's box (:data:`GB_LON`, ``_LAT``)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return np.asarray(
        (GB_LON[0] <= lon) & (lon <= GB_LON[1]) & (GB_LAT[0] <= lat) & (lat <= GB_LAT[1]), bool
    )


def _fill_from_lonlat(
    out: pd.DataFrame, need: np.ndarray, *, file: str, problems: list[Problem], personal: bool
) -> np.ndarray:
    """Fill the rows in ``need`` whose lon, lat are in Great Britain; one problem per bad cause.

    lon and lat the wrong way round on most rows is one problem for the file (swap the
    headers); a single bad row is that row's problem, on the lon, lat columns the user
    gave, never on easting, northing.
    """
    lon = pd.to_numeric(out["lon"], errors="coerce").to_numpy()
    lat = pd.to_numeric(out["lat"], errors="coerce").to_numpy()
    typed = need & ((out["lon"].str.strip() != "") | (out["lat"].str.strip() != "")).to_numpy()
    good = np.isfinite(lon) & np.isfinite(lat) & in_gb_lonlat(lon, lat)
    bad = typed & ~good
    swapped = bad & in_gb_lonlat(lat, lon)
    if swapped.sum() >= 2 and swapped.sum() * 2 >= typed.sum():
        problems.append(
            Problem(
                file,
                None,
                "lon, lat",
                f"lon and lat the wrong way round on {int(swapped.sum())} of {int(typed.sum())} "
                "rows (lon holds latitudes, lat holds longitudes)",
                _LONLAT_EXPECTED,
                "swap the headers of the lon and lat columns",
            )
        )
        return need & ~typed  # every typed row is this problem's; none is guessed
    for pos in np.flatnonzero(bad):
        shown = (
            "a longitude and latitude (not shown: personal data)"
            if personal
            else f"{out.at[pos, 'lon']!r}, {out.at[pos, 'lat']!r}"
        )
        problems.append(
            Problem(
                file,
                int(pos) + 2,
                "lon, lat",
                shown + (" the wrong way round" if swapped[pos] else " outside Great Britain")
                if np.isfinite(lon[pos]) and np.isfinite(lat[pos])
                else shown + " that are not two numbers",
                _LONLAT_EXPECTED,
                "swap the lon and lat cells"
                if swapped[pos]
                else "correct the cells, or give easting and northing in British National Grid",
            )
        )
    ok = need & good
    if ok.any():
        e, n = bng_from_lonlat(lon[ok], lat[ok])
        out.loc[ok, "easting"] = [f"{v:.1f}" for v in e]
        out.loc[ok, "northing"] = [f"{v:.1f}" for v in n]
    return need & ~ok & ~bad


def _fill_from_postcode(
    out: pd.DataFrame,
    need: np.ndarray,
    *,
    file: str,
    lookup: PostcodeLookup,
    problems: list[Problem],
    personal: bool,
) -> np.ndarray:
    table = lookup()
    index = dict(
        zip(
            table["postcode"].map(normalise_postcode),
            zip(table["easting"], table["northing"], strict=True),
            strict=True,
        )
    )
    for pos in np.flatnonzero(need):
        code = str(out.at[pos, "postcode"]).strip()
        if not code:
            continue
        hit = index.get(normalise_postcode(code))
        if hit is None:
            shown = "a postcode (not shown: personal data)" if personal else repr(code)
            problems.append(
                Problem(
                    file,
                    int(pos) + 2,
                    "postcode",
                    shown + " not in the lookup",
                    "a current postcode in postcodes.csv",
                    "correct the postcode, or give easting/northing",
                )
            )
            continue
        out.at[pos, "easting"], out.at[pos, "northing"] = f"{hit[0]:.1f}", f"{hit[1]:.1f}"
        need[pos] = False
    return need
