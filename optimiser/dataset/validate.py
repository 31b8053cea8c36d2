"""Validation rules for a Dataset: one ``check_*`` function per rule.

Each check returns a list of :class:`Problem` (errors and warnings); ``validate``
runs them all and raises one :class:`DataValidationError` listing every error.
Soft problems (e.g. a child whose package no setting offers) are warnings.
Rows are spreadsheet rows (header = row 1). No check changes the data, and no
message quotes a child's personal details (ids only).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from optimiser.dataset.coerce import ABSENT_ATTR, TOO_BIG_FIX, found_text, misspelt_columns
from optimiser.dataset.model import Dataset
from optimiser.geography import ENGLAND_E, ENGLAND_N, grid_reference_fault
from optimiser.geography import in_england as _in_england
from optimiser.policy import HOST_RULES
from optimiser.problems import Problem, raise_problems
from optimiser.schema._columns import Column, Table
from optimiser.schema.tables import INMSS_TYPES, TABLES


class DataWarning(UserWarning):
    """A soft problem in the input data: the run goes on, but the planner should look."""


def _frames(ds: Dataset) -> list[tuple[Table, pd.DataFrame]]:
    pairs = [
        (TABLES["packages"], ds.packages),
        (TABLES["settings"], ds.settings),
        (TABLES["places"], ds.places),
        (TABLES["children"], ds.children),
    ]
    if ds.costing is not None:
        pairs.append((TABLES["costing_framework"], ds.costing))
    if ds.candidates is not None:
        pairs.append((TABLES["candidates"], ds.candidates))
    return pairs


def _rows(mask: ArrayLike) -> list[int]:
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask, bool))]


def check_not_empty(ds: Dataset) -> list[Problem]:
    """Packages and settings need at least one row (children may be none)."""
    return [
        Problem(
            t.file,
            None,
            "",
            "no data rows",
            f"at least one {t.row_is}",
            "add the rows under the header",
        )
        for t, f in _frames(ds)[:3]
        if len(f) == 0
    ]


def check_suspicious_values(ds: Dataset) -> list[Problem]:
    """Warnings for values that may be right but usually are a slip.

    No children at all (every figure 0); a child aged under 2 (often a blank typed as
    0); a £0 fee at an independent or non-maintained special school or a specialist
    post-16 institution (their places are never free, and a £0 fee makes every saving
    from them vanish). Rows are named,
    never a child's values.
    """
    out = []
    if len(ds.children) == 0:
        out.append(
            Problem(
                "children.csv",
                None,
                "",
                "no children (a header only)",
                "one row per child with a Specialist Provision Package",
                "add the children; with none every figure is 0",
                "warning",
            )
        )
    ages = (
        pd.to_numeric(ds.children["age"], errors="coerce").to_numpy(float, na_value=np.nan)
        if "age" in ds.children
        else np.zeros(0)
    )
    young = _rows(ages < 2)
    if young:
        out.append(
            Problem(
                "children.csv",
                young[0],
                "age",
                f"an age under 2 on {len(young)} row(s): {_row_list(young)}",
                "the child's age in whole years (2-25)",
                "check these rows: a blank age typed as 0?",
                "warning",
            )
        )
    kinds = ds.settings.drop_duplicates("setting_id").set_index("setting_id")["setting_type"]
    fee_charging = (*INMSS_TYPES, "post16_specialist")  # independent providers' own fees
    inmss = ds.places["setting_id"].map(kinds).isin(fee_charging).to_numpy(bool)
    fee = pd.to_numeric(ds.places["annual_cost_gbp"], errors="coerce").to_numpy(
        float, na_value=np.nan
    )
    free = _rows(inmss & (fee == 0))
    if free:
        out.append(
            Problem(
                "places.csv",
                free[0],
                "annual_cost_gbp",
                f"a £0 fee at an INMSS or specialist post-16 setting on {len(free)} row(s): "
                f"{_row_list(free)}",
                "the setting's annual fee per place [£]",
                "give the fee (or leave it blank for the national costing framework)",
                "warning",
            )
        )
    return out


def _row_list(rows: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def check_unique_ids(ds: Dataset) -> list[Problem]:
    """Id columns (package_id, setting_id, child_id, site_id) hold no duplicates."""
    out = []
    for table, frame in _frames(ds):
        key = table.key
        if key is None or key not in frame.columns:
            continue
        ids = frame[key].astype(str)
        dup = ids.duplicated(keep="first") & (ids != "")
        out += [
            Problem(
                table.file,
                r,
                key,
                repr(ids.iloc[r - 2]) + " again",
                f"each {key} once",
                "give this row its own id or remove the duplicate",
            )
            for r in _rows(dup)
        ]
    dup = ds.places.duplicated(["setting_id", "package_id"])
    out += [
        Problem(
            "places.csv",
            r,
            "package_id",
            f"{cast(str, ds.places.at[r - 2, 'setting_id'])} × "
            f"{cast(str, ds.places.at[r - 2, 'package_id'])} again",
            "one row per setting × package",
            "merge the two rows into one",
        )
        for r in _rows(dup)
    ]
    return out


def _fk(file: str, frame: pd.DataFrame, col: str, valid: set[str], target: str) -> list[Problem]:
    values = frame[col].astype(str)
    bad = ~values.isin(valid) & (values != "")
    return [
        Problem(
            file,
            r,
            col,
            repr(values.iloc[r - 2]),
            f"an id listed in {target}",
            f"correct the id or add it to {target}",
        )
        for r in _rows(bad)
    ]


def check_foreign_keys(ds: Dataset) -> list[Problem]:
    """Foreign keys: places → settings, packages; children → packages; preferences → settings."""
    settings = set(ds.settings["setting_id"].astype(str))
    packages = set(ds.packages["package_id"].astype(str))
    out = _fk("places.csv", ds.places, "setting_id", settings, "settings.csv")
    out += _fk("places.csv", ds.places, "package_id", packages, "packages.csv")
    out += _fk("children.csv", ds.children, "package_id", packages, "packages.csv")
    out += _fk("children.csv", ds.children, "current_setting_id", settings, "settings.csv")
    if ds.costing is not None:
        out += _fk("costing_framework.csv", ds.costing, "package_id", packages, "packages.csv")
    for pos, prefs in enumerate(ds.children["preferences"]):
        for sid in prefs:
            if sid not in settings:
                out.append(
                    Problem(
                        "children.csv",
                        pos + 2,
                        "preferences",
                        repr(sid),
                        "setting_ids listed in settings.csv, separated by ';'",
                        "correct the id or add the setting to settings.csv",
                    )
                )
        if len(set(prefs)) < len(prefs):
            out.append(
                Problem(
                    "children.csv",
                    pos + 2,
                    "preferences",
                    "a setting named twice",
                    "each preferred setting once",
                    "remove the repeat",
                )
            )
    if ds.candidates is not None:
        for pos, pkgs in enumerate(ds.candidates["packages"]):
            out += [
                Problem(
                    "candidates.csv",
                    pos + 2,
                    "packages",
                    repr(p),
                    "package_ids listed in packages.csv",
                    "correct the package id",
                )
                for p in pkgs
                if p not in packages
            ]
    return out


def check_ranges(ds: Dataset) -> list[Problem]:
    """Numbers within the schema's range: places ≥ 0, ages 0-25, costs ≥ 0, coordinates in GB."""
    out = []
    for table, frame in _frames(ds):
        for col in table.columns:
            if col.dtype not in ("int", "float") or col.name not in frame.columns:
                continue
            values = pd.to_numeric(frame[col.name], errors="coerce").astype(float)
            low = values < col.min if col.min is not None else np.zeros(len(values), bool)
            high = values > col.max if col.max is not None else np.zeros(len(values), bool)
            if col.name in ("easting", "northing"):  # degrees: check_coordinates says so
                low = np.asarray(low) & ~_small_pair(frame)
            out += [
                Problem(
                    table.file,
                    r,
                    col.name,
                    found_text(col, values.iloc[r - 2]),
                    col.expected(),
                    _range_fix(col.name, high=bool(np.asarray(high)[r - 2])),
                )
                for r in _rows(np.asarray(low) | np.asarray(high))
            ]
    return out


#: The grid itself (Great Britain): values outside it are check_ranges' errors.
_GRID_E, _GRID_N = 700_000.0, 1_300_000.0
_COORD_FIX = "give British National Grid metres (EPSG:27700), or lon/lat or postcode columns"


def _coords(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    e = pd.to_numeric(frame["easting"], errors="coerce").to_numpy(float)
    n = pd.to_numeric(frame["northing"], errors="coerce").to_numpy(float)
    return e, n


def _small_pair(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose easting and northing are both under 1,000 m: degrees, or a (0, 0) blank."""
    if not {"easting", "northing"} <= set(frame.columns):
        return np.zeros(len(frame), bool)
    e, n = _coords(frame)
    return np.asarray((np.abs(e) < 1000) & (np.abs(n) < 1000), bool)


def check_coordinates(ds: Dataset) -> list[Problem]:
    """Grid references that are in Great Britain's grid but cannot be right for England.

    (0, 0), longitude/latitude typed into easting/northing, easting and northing swapped,
    and places outside England (``ENGLAND_E``, ``ENGLAND_N``) are errors; a setting
    outside England is a warning (a placement in Scotland may be real). Values outside
    the grid itself are :func:`check_ranges`' errors. A child's coordinates are never
    quoted: the row and columns say where to look.
    """
    out = []
    local = _LocalArea.of(ds.children)
    for table, frame in _frames(ds):
        if table.name not in ("settings", "children", "candidates"):
            continue
        if not {"easting", "northing"} <= set(frame.columns):
            continue
        personal = table.column("easting").personal
        e, n = _coords(frame)
        whole = _degrees_file(table, e, n)
        if whole is not None:
            out.append(whole)
            continue
        # an out-of-area setting is meant to be far from the children: no swap test for it
        local_row = (
            frame["in_area"].fillna(True).astype(bool).to_numpy()
            if "in_area" in frame.columns
            else np.ones(len(frame), bool)
        )
        for pos in np.flatnonzero(np.isfinite(e) & np.isfinite(n)):
            problem = _coordinate_problem(table.name, personal, float(e[pos]), float(n[pos]))
            if (
                problem is None
                and local is not None
                and local_row[pos]
                and local.looks_swapped(e[pos], n[pos])
            ):
                problem = _swapped(personal, float(e[pos]), float(n[pos]))
            if problem is None:
                continue
            found, fix, severity = problem
            out.append(
                Problem(
                    table.file,
                    int(pos) + 2,
                    "easting, northing",
                    found,
                    "a location in England in British National Grid metres "
                    f"(easting {ENGLAND_E[0]:,.0f}-{ENGLAND_E[1]:,.0f}, "
                    f"northing {ENGLAND_N[0]:,.0f}-{ENGLAND_N[1]:,.0f})",
                    fix,
                    severity,
                )
            )
    return out


_PYPROJ = (
    "pyproj.Transformer.from_crs('EPSG:4326', 'EPSG:27700', always_xy=True).transform(lon, lat)"
)


def _degrees_file(table: Table, e: np.ndarray, n: np.ndarray) -> Problem | None:
    """One problem for a file whose easting, northing are longitude/latitude on most rows.

    Degrees typed into the metre columns is one cause (an export in WGS84), so it is one
    problem for the file with the fix, not one per row. A few such rows among grid
    references stay each row's own problem (:func:`check_coordinates`).
    """
    given = np.isfinite(e) & np.isfinite(n)
    degrees = given & (np.abs(e) < 1000) & (np.abs(n) < 1000) & ~((e == 0) & (n == 0))
    if degrees.sum() < 2 or degrees.sum() * 2 < given.sum():
        return None
    lat_first = bool(np.median(np.abs(e[degrees])) > np.median(np.abs(n[degrees])))
    lon_col, lat_col = ("northing", "easting") if lat_first else ("easting", "northing")
    return Problem(
        table.file,
        None,
        "easting, northing",
        f"values that look like longitude and latitude in degrees on {int(degrees.sum())} "
        f"of {int(given.sum())} rows ({lon_col} holds longitudes, {lat_col} latitudes)",
        "British National Grid metres (EPSG:27700): easting "
        f"{ENGLAND_E[0]:,.0f}-{ENGLAND_E[1]:,.0f}, northing "
        f"{ENGLAND_N[0]:,.0f}-{ENGLAND_N[1]:,.0f} in England",
        f"rename column {lon_col} to lon and {lat_col} to lat (the loader converts lon/lat "
        f"to the grid), or convert them to EPSG:27700 yourself, e.g. {_PYPROJ}",
    )


def _swapped(personal: bool, e: float, n: float) -> tuple[str, str, Literal["error"]]:
    shown = "coordinates (not shown: personal data)" if personal else f"{e:g}, {n:g}"
    return (
        f"{shown} that look like easting and northing swapped",
        "swap the easting and northing cells",
        "error",
    )


#: Widest spread of children [m] (twice their median distance from the median home) for
#: which that home is a meaningful centre for the swap test; wider is a region or England,
#: where the test flags real homes (9 false errors on the national benchmark cohort).
_LOCAL_RADIUS_MAX_M = 60_000.0


@dataclass(frozen=True)
class _LocalArea:
    """Where the LA's children live: their median home and twice their median distance [m].

    A grid reference over 10 km from that centre whose swap (northing, easting) falls
    within the radius and is three times nearer is almost certainly typed the wrong way
    round: both are in England, so the box alone cannot tell (a Trafford home swapped
    moves 21 km, to Stockport). Medians, so a few bad rows do not move the area.
    """

    e: float
    n: float
    radius: float

    @classmethod
    def of(cls, children: pd.DataFrame) -> _LocalArea | None:
        if not {"easting", "northing"} <= set(children.columns):
            return None
        e, n = _coords(children)
        ok = np.isfinite(e) & np.isfinite(n)
        ok &= np.array([_in_england(a, b) for a, b in zip(e, n, strict=True)], bool)
        if ok.sum() < 5:
            return None
        ce, cn = float(np.median(e[ok])), float(np.median(n[ok]))
        radius = 2 * float(np.median(np.hypot(e[ok] - ce, n[ok] - cn)))
        if radius > _LOCAL_RADIUS_MAX_M:
            return None  # children spread wider than one LA (a region, England): no local test
        return cls(ce, cn, max(radius, 2000.0))

    def looks_swapped(self, e: float, n: float) -> bool:
        here = float(np.hypot(e - self.e, n - self.n))
        swapped = float(np.hypot(n - self.e, e - self.n))
        # outside where the children live, and its swap well inside: near the line
        # easting = northing a swap moves a point little, and real places lie by the
        # mirror image of the centre (11 LAs' real schools and homes were flagged)
        return here > max(10_000.0, self.radius) and swapped <= self.radius and here > 3 * swapped


def _coordinate_problem(
    table: str, personal: bool, e: float, n: float
) -> tuple[str, str, Literal["error", "warning"]] | None:
    """(found, fix, severity) for one grid reference, or None when it is plausible."""
    fault = grid_reference_fault(e, n)
    off_grid = not (0 <= e <= _GRID_E and 0 <= n <= _GRID_N)
    if fault is None or (off_grid and fault not in ("placeholder", "degrees")):
        return None  # plausible, or off the grid itself (check_ranges' error)
    shown = "coordinates (not shown: personal data)" if personal else f"{e:g}, {n:g}"
    if fault == "placeholder":
        return (
            f"{shown} at 0, 0: a placeholder, not a place"
            if not personal
            else f"{shown} that are a placeholder, not a place",
            "give the real location, or leave the cells blank and give lon/lat or postcode",
            "error",
        )
    if fault == "degrees":
        return (
            f"{shown} under 1,000 m: they look like longitude and latitude in degrees",
            "move them into columns lon and lat and leave easting and northing blank",
            "error",
        )
    if fault == "swapped":
        return _swapped(personal, e, n)
    if table == "settings":
        return (
            f"{shown}: a place outside England",
            "check the coordinates; keep them if the setting really is outside England",
            "warning",
        )
    return (f"{shown}: a place outside England", _COORD_FIX, "error")


def _range_fix(column: str, *, high: bool = False) -> str:
    if column in ("easting", "northing"):
        return "give British National Grid metres (EPSG:27700), or lon/lat columns instead"
    return TOO_BIG_FIX if high else "correct the value"


def check_allowed_values(ds: Dataset) -> list[Problem]:
    """Text columns with a fixed vocabulary (setting_type) hold only allowed values."""
    out = []
    for table, frame in _frames(ds):
        for col in table.columns:
            if not col.allowed or col.name not in frame.columns:
                continue
            values = frame[col.name].astype(str)
            bad = ~values.isin(col.allowed) & (values != "")
            out += [
                Problem(
                    table.file,
                    r,
                    col.name,
                    repr(values.iloc[r - 2]),
                    col.expected(),
                    "use one of the listed words",
                )
                for r in _rows(bad)
            ]
    return out


def check_age_ranges(ds: Dataset) -> list[Problem]:
    """age_min ≤ age_max for settings and candidates."""
    out = []
    for table, frame in _frames(ds):
        if {"age_min", "age_max"} <= set(frame.columns):
            bad = (frame["age_min"] > frame["age_max"]).fillna(False)
            out += [
                Problem(
                    table.file,
                    r,
                    "age_min",
                    f"{cast(float, frame.at[r - 2, 'age_min'])} above age_max "
                    f"{cast(float, frame.at[r - 2, 'age_max'])}",
                    "age_min ≤ age_max",
                    "swap or correct the two ages",
                )
                for r in _rows(bad)
            ]
    return out


def check_place_costs(ds: Dataset) -> list[Problem]:
    """Every place has a cost: its own fee or a costing-framework row for package × setting type."""
    if "cost_source" not in ds.places.columns:
        return []
    types = ds.places["setting_id"].map(ds.setting_types)
    bad = (ds.places["cost_source"] == "missing") & types.notna()
    if ds.costing is not None and len(ds.costing):
        # a framework row whose cost cell is unreadable is that cell's error, not each place's
        c = ds.costing
        blank = set(zip(c["package_id"], c["setting_type"], strict=True)) - set(
            zip(
                c.loc[c["annual_cost_gbp"].notna(), "package_id"],
                c.loc[c["annual_cost_gbp"].notna(), "setting_type"],
                strict=True,
            )
        )
        pairs = zip(ds.places["package_id"], types, strict=True)
        bad &= ~np.array([pair in blank for pair in pairs], bool)
    return [
        Problem(
            "places.csv",
            r,
            "annual_cost_gbp",
            "a blank cost with no framework row for "
            f"{cast(str, ds.places.at[r - 2, 'package_id'])} × {cast(object, types.iloc[r - 2])}",
            "a fee, or a matching row in costing_framework.csv",
            "fill in annual_cost_gbp or add the framework row",
        )
        for r in _rows(bad)
    ]


def check_continuing_placements(ds: Dataset) -> list[Problem]:
    """Warn when a continuing placement's setting does not list the child's package."""
    offered = set(zip(ds.places["setting_id"], ds.places["package_id"], strict=True))
    kids = ds.children
    bad = [
        (cs != "") and (cs, p) not in offered
        for cs, p in zip(kids["current_setting_id"], kids["package_id"], strict=True)
    ]
    return [
        Problem(
            "children.csv",
            r,
            "current_setting_id",
            f"{cast(str, kids.at[r - 2, 'current_setting_id'])} "
            f"(no {cast(str, kids.at[r - 2, 'package_id'])} places listed)",
            "a setting with a places.csv row for the child's package",
            "add the places row or correct the setting",
            "warning",
        )
        for r in _rows(bad)
    ]


def check_continuing_over_places(ds: Dataset) -> list[Problem]:
    """Warn when continuing placements (policy ``keep``) exceed a setting × package's places.

    The children stay where they are, so the allocation keeps them over the places; the
    warning names the setting, package and excess, never a child.
    """
    if ds.policy.continuity != "keep":
        return []
    kids = ds.children
    closed = set(ds.settings.loc[ds.settings["closed"].astype(bool), "setting_id"])
    current = kids["current_setting_id"].astype(str)
    keep = (current != "") & ~current.isin(closed)
    counts = Counter(zip(current[keep], kids.loc[keep, "package_id"], strict=True))
    places = ds.places
    rows: dict[tuple[str, str], int] = {}
    for r, pair in enumerate(zip(places["setting_id"], places["package_id"], strict=True)):
        rows.setdefault(pair, r)  # the first row of a pair (a repeat is an id error)
    values = pd.to_numeric(places["places"], errors="coerce").fillna(0.0).to_numpy(float)
    out = []
    for (sid, pkg), n in sorted(counts.items()):
        if (sid, pkg) not in rows:
            continue  # no places row at all: check_continuing_placements warns of it
        r = rows[(sid, pkg)]
        n_places = float(values[r])
        if n > n_places:
            out.append(
                Problem(
                    "places.csv",
                    r + 2,
                    "places",
                    f"{n} continuing placements at {sid} × {pkg} in {n_places:.0f} places "
                    f"({n - n_places:.0f} over)",
                    "no more continuing placements than places",
                    "raise the places to the children already there (they stay), "
                    "or check current_setting_id in children.csv",
                    "warning",
                )
            )
    return out


def check_packages_offered(ds: Dataset) -> list[Problem]:
    """Warn when children need a package that no setting offers (they cannot be placed)."""
    offered = set(ds.places.loc[ds.places["places"].fillna(0) > 0, "package_id"])
    counts = ds.children.loc[~ds.children["package_id"].isin(offered), "package_id"].value_counts()
    return [
        Problem(
            "children.csv",
            None,
            "package_id",
            f"{n} child(ren) needing {pkg}",
            "at least one setting with places for it",
            "add places for the package, or expect these children to be unplaced",
            "warning",
        )
        for pkg, n in sorted(counts.items())
    ]


def _all_default(col: Column, values: pd.Series) -> bool:
    """Whether every value of a typed column is its blank (the column was absent or empty)."""
    if col.dtype == "id_list":
        return bool(values.map(len).eq(0).all())
    if col.dtype == "str":
        return bool(values.astype(str).isin(["", str(col.default or "")]).all())
    if col.dtype == "bool":
        return bool(values.eq(bool(col.default)).all())
    numbers = pd.to_numeric(values, errors="coerce")
    return bool((numbers.isna() | (numbers == col.default)).all())


def check_misspelt_columns(ds: Dataset) -> list[Problem]:
    """Warn of an extra column that looks like a misspelt optional column left blank.

    ``current_setting`` for ``current_setting_id`` would otherwise drop every continuing
    placement without a word. Extra columns resembling no column stay allowed.
    """
    out = []
    for table, frame in _frames(ds):
        extras = [str(c) for c in frame.columns if c not in table.names]
        if not extras or len(frame) == 0:
            continue
        # optional columns only: a missing required column is already coerce's error
        absent = set(frame.attrs.get(ABSENT_ATTR, ()))
        blank = [
            c.name
            for c in table.columns
            if not c.required and (c.name in absent or _all_default(c, frame[c.name]))
        ]
        for right, wrong in misspelt_columns(table, extras, blank).items():
            out.append(
                Problem(
                    table.file,
                    None,
                    wrong,
                    f"unknown column {wrong!r} in {table.file} — did you mean {right!r}?",
                    f"a column {right!r}: {table.column(right).description}",
                    f"rename column {wrong!r} to {right}, or its values are ignored",
                    "warning",
                )
            )
    return out


def check_costing_conflicts(ds: Dataset) -> list[Problem]:
    """The costing framework gives one cost per package × setting type.

    Two rows for the same pair with different costs are an error (the first would win
    silently); a repeated identical row is harmless.
    """
    frame = ds.costing
    if frame is None or len(frame) == 0:
        return []
    out = []
    first: dict[tuple[str, str], tuple[int, float]] = {}
    for pos, (pkg, kind, cost) in enumerate(
        zip(frame["package_id"], frame["setting_type"], frame["annual_cost_gbp"], strict=True)
    ):
        if pd.isna(cost):
            continue
        key = (str(pkg), str(kind))
        if key not in first:
            first[key] = (pos + 2, float(cost))
            continue
        row, seen = first[key]
        if float(cost) != seen:
            out.append(
                Problem(
                    "costing_framework.csv",
                    pos + 2,
                    "annual_cost_gbp",
                    f"{float(cost):g} for {pkg} × {kind}, but row {row} gives {seen:g}",
                    "one cost per package_id × setting_type",
                    "keep the right cost and delete the other row",
                )
            )
    return out


def check_policy_packages(ds: Dataset) -> list[Problem]:
    """Package ids in policy ``host_exclusions`` and ``unplaced_cost_gbp`` are in packages.csv
    (a typo bars nothing, or costs nobody)."""
    packages = set(ds.packages["package_id"].astype(str))
    listed = ", ".join(sorted(packages)[:12])
    rules = ds.policy.host_exclusions
    rates = ds.policy.unplaced_cost_gbp
    costed = set(rates) if isinstance(rates, dict) else set()
    return [
        Problem(
            "policy.yaml",
            None,
            f"key host_exclusions.{rule}",
            repr(p),
            f"package_ids listed in packages.csv ({listed})",
            f"correct the package id {p!r} in host_exclusions.{rule} or remove it",
        )
        for rule in HOST_RULES
        for p in getattr(rules, rule)
        if p not in packages
    ] + [
        Problem(
            "policy.yaml",
            None,
            "key unplaced_cost_gbp",
            repr(p),
            f"package_ids listed in packages.csv ({listed})",
            f"correct the package id {p!r} in unplaced_cost_gbp or remove it",
        )
        for p in sorted(costed)
        if p not in packages
    ]


CHECKS = (
    check_not_empty,
    check_suspicious_values,
    check_unique_ids,
    check_foreign_keys,
    check_ranges,
    check_coordinates,
    check_allowed_values,
    check_age_ranges,
    check_place_costs,
    check_continuing_placements,
    check_continuing_over_places,
    check_packages_offered,
    check_misspelt_columns,
    check_costing_conflicts,
    check_policy_packages,
)


#: What each absent column (file, column) makes a check report in its place: (check, file,
#: column) of problems that follow from the absence, not from the cells they name. A
#: misspelt ``setting_id`` header in settings.csv would otherwise blame every row of
#: places.csv; one problem per cause is the header's.
_FOLLOWS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("settings.csv", "setting_id"): (
        ("check_foreign_keys", "places.csv", "setting_id"),
        ("check_foreign_keys", "children.csv", "current_setting_id"),
        ("check_foreign_keys", "children.csv", "preferences"),
    ),
    ("settings.csv", "setting_type"): (("check_place_costs", "places.csv", "annual_cost_gbp"),),
    ("packages.csv", "package_id"): (
        ("check_foreign_keys", "places.csv", "package_id"),
        ("check_foreign_keys", "children.csv", "package_id"),
        ("check_foreign_keys", "costing_framework.csv", "package_id"),
        ("check_foreign_keys", "candidates.csv", "packages"),
        *(("check_policy_packages", "policy.yaml", f"key host_exclusions.{r}") for r in HOST_RULES),
        ("check_policy_packages", "policy.yaml", "key unplaced_cost_gbp"),
    ),
    ("places.csv", "setting_id"): (
        ("check_unique_ids", "places.csv", "package_id"),
        ("check_continuing_placements", "children.csv", "current_setting_id"),
    ),
    ("places.csv", "package_id"): (
        ("check_unique_ids", "places.csv", "package_id"),
        ("check_continuing_placements", "children.csv", "current_setting_id"),
        ("check_packages_offered", "children.csv", "package_id"),
    ),
    ("places.csv", "places"): (
        ("check_packages_offered", "children.csv", "package_id"),
        ("check_continuing_over_places", "places.csv", "places"),
    ),
    ("children.csv", "package_id"): (
        ("check_continuing_placements", "children.csv", "current_setting_id"),
        ("check_packages_offered", "children.csv", "package_id"),
    ),
    **{
        ("costing_framework.csv", c): (("check_place_costs", "places.csv", "annual_cost_gbp"),)
        for c in ("package_id", "setting_type", "annual_cost_gbp")
    },
}


def collect_problems(ds: Dataset, *, absent: Collection[tuple[str, str]] = ()) -> list[Problem]:
    """Every problem every check finds, errors and warnings.

    ``absent`` names required columns (file, column) the input did not have (the loader
    has reported each once): problems that only follow from their absence are left out.
    """
    follows = {f for a in absent for f in _FOLLOWS.get(a, ())}
    files = {file for file, column in absent if column == ""}  # whole files missing
    return [
        p
        for check in CHECKS
        for p in check(ds)
        if (check.__name__, p.file, p.column) not in follows
        and not (p.file in files and check in (check_not_empty, check_suspicious_values))
    ]


def validate(ds: Dataset) -> list[Problem]:
    """Check ``ds``; raise DataValidationError listing every error, return the warnings.

    Warnings are also issued as :class:`DataWarning`.
    """
    problems = collect_problems(ds)
    if any(p.severity == "error" for p in problems):
        raise_problems(problems)
    soft = [p for p in problems if p.severity == "warning"]
    for p in soft:
        warnings.warn(str(p), DataWarning, stacklevel=2)
    return soft
