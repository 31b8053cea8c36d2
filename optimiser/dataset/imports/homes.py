"""Homes on the map: a postcode through an ONSPD extract, else the centroid of the LSOA.

Postcode lookups are read by :func:`optimiser.dataset.postcodes.read_postcode_file` (ONSPD's
own layout or the simple one); LSOA 2021 centroids and their 2024 wards come from the
national table shipped with the package (``data/england/lsoas.csv.gz``, as ``optimiser
init`` reads it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.dataset.imports.export import RowLog
from optimiser.dataset.init.national import national_dir
from optimiser.dataset.postcodes import normalise_postcodes, read_postcode_file
from optimiser.geography import normalise_postcode
from optimiser.problems import Problem, raise_problems

#: A UK postcode (after normalising): outward code, space, inward code.
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")


@functools.cache
def lsoa_table() -> pd.DataFrame:
    """England's LSOA 2021 centroids: lsoa21_code → easting, northing [m], ward24_code."""
    frame = pd.read_csv(national_dir() / "lsoas.csv.gz", dtype=str, keep_default_na=False)
    frame = frame[["lsoa21_code", "ward24_code", "easting", "northing"]].copy()
    frame[["easting", "northing"]] = frame[["easting", "northing"]].astype(float)
    return frame.set_index("lsoa21_code")


def postcode_index(
    postcodes: str | Path | None, folder: Path, homes: pd.Series
) -> dict[str, tuple[float, float, str]] | None:
    """Normalised postcode → (easting, northing [m], LSOA 2021 code) of the export's homes.

    ``postcodes``: the ONSPD extract given (an error if it is missing), else the folder's
    postcodes.csv, else None (no lookup). Only the postcodes in ``homes`` (the export's
    column, as typed) are kept, and only those with a grid reference.
    """
    path = Path(postcodes) if postcodes is not None else folder / "postcodes.csv"
    if not path.exists():
        if postcodes is not None:
            raise_problems(
                [
                    Problem(
                        path.name,
                        None,
                        "",
                        "no such file",
                        "an ONSPD extract",
                        f"check the path {path}",
                    )
                ]
            )
        return None
    table = read_postcode_file(path, keep=set(normalise_postcodes(homes)))
    return {
        p: (float(e), float(n), str(ls))
        for p, e, n, ls in zip(
            table["postcode"], table["easting"], table["northing"], table["lsoa_code"], strict=True
        )
        if np.isfinite(e) and np.isfinite(n)
    }


def home_location(
    cell: pd.Series,
    row: int,
    pc_col: str | None,
    lsoa_col: str | None,
    lookup: dict[str, tuple[float, float, str]] | None,
    lsoas: pd.DataFrame,
    log: RowLog,
    count: Callable[[str], None],
) -> dict[str, object] | None:
    """easting, northing, lsoa_code, ward_code of the home; None (and a problem) if none."""
    lsoa = str(cell[lsoa_col]).strip().upper() if lsoa_col else ""
    if lsoa and lsoa not in lsoas.index:
        lsoa_bad = True
    else:
        lsoa_bad = False
    pc_problem: tuple[str, str] | None = None
    if pc_col and lookup is not None:
        text = str(cell[pc_col]).strip()
        code = normalise_postcode(text) if text else ""
        hit = lookup.get(code) if code else None
        if hit is not None:
            e, n, from_lookup = hit
            home_lsoa = (
                from_lookup if from_lookup in lsoas.index else (lsoa if not lsoa_bad else "")
            )
            count("home_postcode")
            return _place(e, n, home_lsoa, lsoas)
        if text:
            pc_problem = (
                ("a postcode not in the lookup", "check it or give the LSOA")
                if POSTCODE_RE.match(code)
                else ("text that is not a postcode", "correct it or give the LSOA")
            )
    if lsoa and not lsoa_bad:
        if pc_problem is not None:
            log.warn(
                row,
                str(pc_col),
                pc_problem[0],
                "a postcode in the lookup",
                "check it; the home is placed at its LSOA's centroid meanwhile",
            )
        count("home_lsoa_centroid")
        centroid = lsoas.loc[lsoa, ["easting", "northing"]].to_numpy(float)
        return _place(float(centroid[0]), float(centroid[1]), lsoa, lsoas)
    if pc_problem is not None:
        log.leave_out(row, str(pc_col), pc_problem[0], "a postcode in the lookup", pc_problem[1])
    elif lsoa_bad:
        log.leave_out(
            row,
            str(lsoa_col),
            "an LSOA code not in the LSOA 2021 list",
            "a GSS LSOA 2021 code (E01…)",
            "correct the LSOA code",
        )
    else:
        col = pc_col if pc_col else str(lsoa_col)
        log.leave_out(
            row,
            col,
            "no home location (blank)",
            "a home postcode or LSOA",
            "fill in the postcode (or the LSOA)",
        )
    return None


def _place(e: float, n: float, lsoa: str, lsoas: pd.DataFrame) -> dict[str, object]:
    ward = str(lsoas.at[lsoa, "ward24_code"]) if lsoa in lsoas.index else ""
    return {"easting": round(e, 1), "northing": round(n, 1), "lsoa_code": lsoa, "ward_code": ward}
