"""Hostile-input tally (issue 12): try ~100 broken inputs on the CLI and count the outcomes.

Each case is a copy of the default dataset folder (or a scenario YAML, a policy.yaml or
CLI arguments) with ONE realistic mistake or attack. The CLI runs on it in a subprocess
(timeout, memory limit): ``validate DIR`` then, when that passes, ``allocate DIR --out``
with the KPIs recorded from the API result inside that same process; scenario and
argument cases run their own command. Each case is classified:

- ``clear error``: non-zero exit, no traceback, the message names the file (and the
  row/column where the case has one);
- ``unclear error``: non-zero exit, no traceback, but the message does not name them;
- ``warning``: exit 0 with a warning naming the file;
- ``traceback``: "Traceback" in the output, a crash, a timeout or out of memory;
- ``silent wrong answer``: exit 0, nothing said, and the answer is wrong: the KPIs differ
  from the clean baseline's (or the input should have been refused, or its intended
  change was dropped);
- ``accepted, same answer``: exit 0, nothing said, the KPIs unchanged (or, for a
  legitimate argument, the command did its job);
- ``accepted, plausible change``: exit 0, nothing said, KPIs changed, but the data is
  plausibly right (a 2-year-old, a closed setting whose pupils are re-placed).

Usage::

    python scripts/hostile_tally.py [--out results.csv] [--only NAME] [--jobs 2]

Messages are stored without child data: child ids become <child>, long digit runs
(grid references) <number>, postcodes <postcode>.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "trafford"
TIMEOUT_S = 60
MEMORY_BYTES = 4 << 30
KPI_KEYS = ("total_cost_gbp", "unplaced_children", "inmss_children", "placed_children")

OUTCOMES = (
    "clear error",
    "unclear error",
    "warning",
    "traceback",
    "silent wrong answer",
    "accepted, same answer",
    "accepted, plausible change",
)

#: ``python -c RUNNER KPI_FILE CMD...``: runs ``python -m optimiser CMD...`` in this process
#: and writes the allocation's KPIs (from the API result the CLI got) to KPI_FILE. With
#: ``--then`` in CMD it runs the first command and, when that exits 0, the second (one
#: interpreter start for validate + allocate: the import alone takes ~3 s).
RUNNER = r"""
import json, sys, traceback
kpi_file, args = sys.argv[1], sys.argv[2:]
import optimiser.allocation.solve as solve
from optimiser.cli.app import app
_allocate = solve.allocate
def _recorded(*a, **k):
    res = _allocate(*a, **k)
    kpis = {key: float(v) for key, v in res.kpis.items() if isinstance(v, (int, float))}
    kpis["objective"] = float(res.objective)
    with open(kpi_file, "w", encoding="utf-8") as fh:
        json.dump(kpis, fh)
    return res
solve.allocate = _recorded
commands = [args]
if "--then" in args:
    i = args.index("--then")
    commands = [args[:i], args[i + 1 :]]
code = 0
for n, cmd in enumerate(commands):
    if n:
        print("@@then@@", flush=True)
        print("@@then@@", file=sys.stderr, flush=True)
    try:
        app(cmd, prog_name="optimiser")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    if code != 0:
        break
sys.exit(code)
"""


# --- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    """One hostile input.

    ``expect``: ``same`` — the right answer is the clean one (refusing is fine too);
    ``refuse`` — any answer without an error or warning is wrong; ``plausible`` — the
    answer may legitimately change; ``ok`` — a legitimate command that should run.
    ``names``: what a clear message must contain (file, ``row N``, column).
    """

    name: str
    family: str
    description: str
    names: tuple[str, ...]
    mutate: Callable[[Path], None] | None = None  # dataset case: edits the folder copy
    args: Callable[[Path, Path], list[str]] | None = None  # command case: (case dir, data)
    expect: str = "same"
    extra: dict = field(default_factory=dict)


def _read(folder: Path, file: str) -> list[list[str]]:
    with (folder / file).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _write(folder: Path, file: str, rows: list[list[str]], **kw) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=kw.pop("lineterminator", "\n"), **kw).writerows(rows)
    (folder / file).write_text(buf.getvalue(), encoding="utf-8")


def cell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell (spreadsheet row: header = 1)."""

    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        rows[row - 1][rows[0].index(column)] = value
        _write(folder, file, rows)

    return edit


def cells(file: str, row: int, values: dict[str, str]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        for column, value in values.items():
            rows[row - 1][rows[0].index(column)] = value
        _write(folder, file, rows)

    return edit


def header(file: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        rows[0][rows[0].index(old)] = new
        _write(folder, file, rows)

    return edit


def drop_column(file: str, column: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        i = rows[0].index(column)
        _write(folder, file, [r[:i] + r[i + 1 :] for r in rows])

    return edit


def add_column(file: str, column: str, value: Callable[[int], str]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        _write(
            folder, file, [rows[0] + [column]] + [[*r, value(i)] for i, r in enumerate(rows[1:])]
        )

    return edit


def reorder(file: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        order = list(range(len(rows[0])))[::-1]
        _write(folder, file, [[r[i] for i in order] for r in rows])

    return edit


def rows_edit(
    file: str, fn: Callable[[list[list[str]]], list[list[str]]]
) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        _write(folder, file, fn(_read(folder, file)))

    return edit


def column_map(file: str, columns: tuple[str, ...], fn: Callable[[str], str]):
    def change(rows: list[list[str]]) -> list[list[str]]:
        idx = [rows[0].index(c) for c in columns]
        for r in rows[1:]:
            for i in idx:
                r[i] = fn(r[i])
        return rows

    return rows_edit(file, change)


def delimiter(file: str, sep: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        _write(folder, file, _read(folder, file), delimiter=sep)

    return edit


def raw(file: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / file
        data = path.read_bytes() if path.is_file() else b""
        if path.is_dir():
            shutil.rmtree(path)
        path.write_bytes(fn(data))

    return edit


def make_dir(file: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / file).unlink()
        (folder / file).mkdir()

    return edit


def remove(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def policy_append(text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        with (folder / "policy.yaml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + text + "\n")

    return edit


def policy_replace(old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / "policy.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    return edit


def utf16(data: bytes) -> bytes:
    return data.decode("utf-8").encode("utf-16")


def cp1252_names(data: bytes) -> bytes:
    text = data.decode("utf-8").replace("Acre Hall", "Acre Hallé’s", 1)
    return text.encode("cp1252")


def name_cell(value: str) -> Callable[[Path], None]:
    return cell("settings.csv", 2, "name", value)


BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]" for a, b in zip("abcdef", "bcdefg", strict=True)]
)

# Row 3 is child C00002 (still to place); row 2 is C00001 (continuing at S005).
# Settings row 2 is S001; places row 2 is S001 × SPP3.
KID = 3


def _inmss_place_row(folder: Path) -> int:
    rows = _read(folder, "places.csv")
    cost = rows[0].index("annual_cost_gbp")
    return next(i + 1 for i, r in enumerate(rows) if i and r[cost])


def inmss_fee(value: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        row = _inmss_place_row(folder)
        cell("places.csv", row, "annual_cost_gbp", value)(folder)

    return edit


def inmss_fee_fmt(fmt: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, "places.csv")
        row = _inmss_place_row(folder)
        col = rows[0].index("annual_cost_gbp")
        rows[row - 1][col] = fmt(rows[row - 1][col])
        _write(folder, "places.csv", rows)

    return edit


def thousands(value: str) -> str:
    return f"{int(float(value)):,}"


def swap_coords(file: str, row: int) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = _read(folder, file)
        e, n = rows[0].index("easting"), rows[0].index("northing")
        rows[row - 1][e], rows[row - 1][n] = rows[row - 1][n], rows[row - 1][e]
        _write(folder, file, rows)

    return edit


def closed_current(folder: Path) -> None:
    rows = _read(folder, "settings.csv")
    rows[0].append("closed")
    for r in rows[1:]:
        r.append("true" if r[0] == "S005" else "false")
    _write(folder, "settings.csv", rows)


def dataset_cases() -> list[Case]:
    C, S, P, K = "children.csv", "settings.csv", "places.csv", "packages.csv"
    yes_no = {"true": "yes", "false": "no"}
    bools = ("prefers_mainstream", "solo_transport")
    return [
        # headers
        Case(
            "children_misspelt_required",
            "headers",
            "children.csv header 'pakage_id'",
            (C, "package_id"),
            header(C, "package_id", "pakage_id"),
            expect="refuse",
        ),
        Case(
            "settings_misspelt_required",
            "headers",
            "settings.csv header 'eastings'",
            (S, "easting"),
            header(S, "easting", "eastings"),
            expect="refuse",
        ),
        Case(
            "places_misspelt_required",
            "headers",
            "places.csv header 'place'",
            (P, "places"),
            header(P, "places", "place"),
            expect="refuse",
        ),
        Case(
            "packages_misspelt_required",
            "headers",
            "packages.csv header 'packageid'",
            (K, "package_id"),
            header(K, "package_id", "packageid"),
            expect="refuse",
        ),
        Case(
            "children_misspelt_optional",
            "headers",
            "children.csv 'current_setting' header",
            (C, "current_setting"),
            header(C, "current_setting_id", "current_setting"),
        ),
        Case(
            "places_misspelt_optional",
            "headers",
            "places.csv 'annual_cost' header (INMSS fees)",
            (P, "annual_cost"),
            header(P, "annual_cost_gbp", "annual_cost"),
        ),
        Case(
            "children_missing_age",
            "headers",
            "children.csv without its age column",
            (C, "age"),
            drop_column(C, "age"),
            expect="refuse",
        ),
        Case(
            "settings_missing_total_places",
            "headers",
            "settings.csv without total_places",
            (S, "total_places"),
            drop_column(S, "total_places"),
            expect="refuse",
        ),
        Case(
            "settings_duplicated_header",
            "headers",
            "settings.csv with 'easting' twice (the second holds northings)",
            (S, "northing"),
            header(S, "northing", "easting"),
            expect="refuse",
        ),
        Case(
            "children_duplicated_header",
            "headers",
            "children.csv header 'age' twice (second is the ward column)",
            (C,),
            header(C, "ward_code", "age"),
        ),
        Case(
            "children_reordered",
            "headers",
            "children.csv columns in reverse order",
            (C,),
            reorder(C),
        ),
        Case(
            "settings_reordered",
            "headers",
            "settings.csv columns in reverse order",
            (S,),
            reorder(S),
        ),
        Case(
            "places_header_capitals",
            "headers",
            "places.csv header 'Places'",
            (P, "places"),
            header(P, "places", "Places"),
        ),
        Case(
            "children_header_spaces",
            "headers",
            "children.csv header ' age '",
            (C,),
            header(C, "age", " age "),
        ),
        # delimiters and encodings
        Case(
            "children_semicolons",
            "encoding",
            "children.csv separated by ';'",
            (C,),
            delimiter(C, ";"),
            expect="refuse",
        ),
        Case(
            "settings_tabs",
            "encoding",
            "settings.csv separated by tabs",
            (S,),
            delimiter(S, "\t"),
            expect="refuse",
        ),
        Case(
            "places_semicolons",
            "encoding",
            "places.csv separated by ';'",
            (P,),
            delimiter(P, ";"),
            expect="refuse",
        ),
        Case(
            "children_bom",
            "encoding",
            "children.csv with a UTF-8 BOM",
            (C,),
            raw(C, lambda b: b"\xef\xbb\xbf" + b),
        ),
        Case(
            "settings_utf16",
            "encoding",
            "settings.csv saved as UTF-16",
            (S,),
            raw(S, utf16),
            expect="refuse",
        ),
        Case(
            "settings_cp1252",
            "encoding",
            "settings.csv saved as Windows-1252 (é, ’ in a name)",
            (S,),
            raw(S, cp1252_names),
            expect="refuse",
        ),
        Case(
            "children_trailing_blank_rows",
            "encoding",
            "children.csv ends in blank lines",
            (C,),
            raw(C, lambda b: b + b"\n\n\n"),
        ),
        Case(
            "children_trailing_comma_rows",
            "encoding",
            "children.csv ends in ',,,,' rows (Excel)",
            (C,),
            raw(C, lambda b: b + b",,,,,,,,,,\n" * 3),
        ),
        Case(
            "settings_crlf",
            "encoding",
            "settings.csv with Windows line endings",
            (S,),
            raw(S, lambda b: b.replace(b"\n", b"\r\n")),
        ),
        Case(
            "places_quoted_numbers",
            "encoding",
            "places.csv with every cell quoted",
            (P,),
            lambda f: _write(f, P, _read(f, P), quoting=csv.QUOTE_ALL),
        ),
        Case(
            "children_nul_bytes",
            "encoding",
            "children.csv with NUL bytes in a row",
            (C,),
            raw(C, lambda b: b.replace(b"C00002", b"C00\x0002", 1)),
            expect="refuse",
        ),
        # blank and malformed cells
        Case(
            "children_blank_package",
            "cells",
            "children.csv blank package_id",
            (C, f"row {KID}", "package_id"),
            cell(C, KID, "package_id", ""),
            expect="refuse",
        ),
        Case(
            "children_blank_age",
            "cells",
            "children.csv blank age",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", ""),
            expect="refuse",
        ),
        Case(
            "settings_blank_easting",
            "cells",
            "settings.csv blank easting",
            (S, "row 2", "easting"),
            cell(S, 2, "easting", ""),
            expect="refuse",
        ),
        Case(
            "places_blank_places",
            "cells",
            "places.csv blank places",
            (P, "row 2", "places"),
            cell(P, 2, "places", ""),
            expect="refuse",
        ),
        Case(
            "children_text_age",
            "cells",
            "children.csv age 'ten'",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "ten"),
            expect="refuse",
        ),
        Case(
            "places_text_places",
            "cells",
            "places.csv places 'twelve'",
            (P, "row 2", "places"),
            cell(P, 2, "places", "twelve"),
            expect="refuse",
        ),
        Case(
            "places_fee_text",
            "cells",
            "places.csv INMSS fee '£63k'",
            (P, "annual_cost_gbp"),
            inmss_fee("£63k"),
            expect="refuse",
        ),
        Case(
            "places_fee_decimal_comma",
            "cells",
            "places.csv INMSS fee '63000,50'",
            (P, "annual_cost_gbp"),
            inmss_fee_fmt(lambda v: v + ",50"),
            expect="refuse",
        ),
        Case(
            "settings_places_decimal_comma",
            "cells",
            "settings.csv total_places '10,5'",
            (S, "row 2", "total_places"),
            cell(S, 2, "total_places", "10,5"),
            expect="refuse",
        ),
        Case(
            "places_fee_thousands",
            "cells",
            "places.csv INMSS fee with thousands separator",
            (P,),
            inmss_fee_fmt(thousands),
        ),
        Case(
            "places_fee_pound_sign",
            "cells",
            "places.csv INMSS fee '£63000'",
            (P,),
            inmss_fee_fmt(lambda v: "£" + v),
        ),
        Case(
            "settings_easting_thousands",
            "cells",
            "settings.csv easting '373,922'",
            (S,),
            column_map(S, ("easting",), thousands),
        ),
        Case(
            "children_age_spaces",
            "cells",
            "children.csv age ' 12 ' with spaces",
            (C,),
            column_map(C, ("age",), lambda v: f" {v} "),
        ),
        # numbers
        Case(
            "places_negative",
            "numbers",
            "places.csv places -5",
            (P, "row 2", "places"),
            cell(P, 2, "places", "-5"),
            expect="refuse",
        ),
        Case(
            "places_huge",
            "numbers",
            "places.csv places 1e30",
            (P, "row 2", "places"),
            cell(P, 2, "places", "1e30"),
            expect="refuse",
        ),
        Case(
            "places_fee_huge",
            "numbers",
            "places.csv INMSS fee 1e30",
            (P, "annual_cost_gbp"),
            inmss_fee("1e30"),
            expect="refuse",
        ),
        Case(
            "places_fee_nan",
            "numbers",
            "places.csv INMSS fee 'nan'",
            (P, "annual_cost_gbp"),
            inmss_fee("nan"),
            expect="refuse",
        ),
        Case(
            "places_fee_inf",
            "numbers",
            "places.csv INMSS fee 'inf'",
            (P, "annual_cost_gbp"),
            inmss_fee("inf"),
            expect="refuse",
        ),
        Case(
            "places_fee_zero",
            "numbers",
            "places.csv INMSS fee 0 (free INMSS place)",
            (P, "annual_cost_gbp"),
            inmss_fee("0"),
        ),
        Case(
            "places_fee_negative",
            "numbers",
            "places.csv INMSS fee -63000",
            (P, "annual_cost_gbp"),
            inmss_fee("-63000"),
            expect="refuse",
        ),
        Case(
            "settings_total_negative",
            "numbers",
            "settings.csv total_places -10",
            (S, "row 2", "total_places"),
            cell(S, 2, "total_places", "-10"),
            expect="refuse",
        ),
        Case(
            "settings_total_huge",
            "numbers",
            "settings.csv total_places 1e30",
            (S, "row 2", "total_places"),
            cell(S, 2, "total_places", "1e30"),
            expect="refuse",
        ),
        Case(
            "children_age_negative",
            "numbers",
            "children.csv age -1",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "-1"),
            expect="refuse",
        ),
        Case(
            "children_age_0",
            "numbers",
            "children.csv age 0 (blank typed as 0)",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "0"),
        ),
        Case(
            "children_age_2",
            "numbers",
            "children.csv age 2 (below school age)",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "2"),
            expect="plausible",
        ),
        Case(
            "children_age_25",
            "numbers",
            "children.csv age 25 (top of the EHCP range)",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "25"),
            expect="plausible",
        ),
        Case(
            "children_age_26",
            "numbers",
            "children.csv age 26",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "26"),
            expect="refuse",
        ),
        Case(
            "children_age_fraction",
            "numbers",
            "children.csv age 10.5",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "10.5"),
            expect="refuse",
        ),
        Case(
            "children_age_huge",
            "numbers",
            "children.csv age 1e30",
            (C, f"row {KID}", "age"),
            cell(C, KID, "age", "1e30"),
            expect="refuse",
        ),
        Case(
            "settings_age_min_above_max",
            "numbers",
            "settings.csv age_min 16, age_max 11",
            (S, "row 2", "age_min"),
            cells(S, 2, {"age_min": "16", "age_max": "11"}),
            expect="refuse",
        ),
        Case(
            "children_easting_nan",
            "numbers",
            "children.csv easting 'nan'",
            (C, f"row {KID}", "easting"),
            cell(C, KID, "easting", "nan"),
            expect="refuse",
        ),
        Case(
            "children_easting_inf",
            "numbers",
            "children.csv easting 'inf'",
            (C, f"row {KID}", "easting"),
            cell(C, KID, "easting", "inf"),
            expect="refuse",
        ),
        Case(
            "children_easting_negative",
            "numbers",
            "children.csv easting negative",
            (C, f"row {KID}", "easting"),
            cell(C, KID, "easting", "-376981"),
            expect="refuse",
        ),
        Case(
            "children_easting_huge",
            "numbers",
            "children.csv easting 1e30",
            (C, f"row {KID}", "easting"),
            cell(C, KID, "easting", "1e30"),
            expect="refuse",
        ),
        Case(
            "settings_northing_inf",
            "numbers",
            "settings.csv northing '-inf'",
            (S, "row 2", "northing"),
            cell(S, 2, "northing", "-inf"),
            expect="refuse",
        ),
        # coordinates
        Case(
            "settings_swapped",
            "coordinates",
            "settings.csv easting and northing swapped",
            (S, "row 2", "easting"),
            swap_coords(S, 2),
            expect="refuse",
        ),
        Case(
            "children_swapped",
            "coordinates",
            "children.csv easting and northing swapped",
            (C, f"row {KID}", "easting"),
            swap_coords(C, KID),
            expect="refuse",
        ),
        Case(
            "children_lonlat_in_metres",
            "coordinates",
            "children.csv lon/lat in easting/northing",
            (C, f"row {KID}", "easting"),
            cells(C, KID, {"easting": "-2.31", "northing": "53.42"}),
            expect="refuse",
        ),
        Case(
            "settings_lonlat_in_metres",
            "coordinates",
            "settings.csv lon/lat in easting/northing",
            (S, "row 2", "easting"),
            cells(S, 2, {"easting": "-2.31", "northing": "53.45"}),
            expect="refuse",
        ),
        Case(
            "children_zero_zero",
            "coordinates",
            "children.csv at (0, 0)",
            (C, f"row {KID}", "easting"),
            cells(C, KID, {"easting": "0", "northing": "0"}),
            expect="refuse",
        ),
        Case(
            "settings_zero_zero",
            "coordinates",
            "settings.csv at (0, 0)",
            (S, "row 2", "easting"),
            cells(S, 2, {"easting": "0", "northing": "0"}),
            expect="refuse",
        ),
        Case(
            "children_in_scotland",
            "coordinates",
            "children.csv home in Edinburgh",
            (C, f"row {KID}", "easting"),
            cells(C, KID, {"easting": "325000", "northing": "673000"}),
            expect="refuse",
        ),
        Case(
            "settings_in_scotland",
            "coordinates",
            "settings.csv school in Edinburgh (a placement in Scotland may be real)",
            (S, "row 2", "easting"),
            cells(S, 2, {"easting": "325000", "northing": "673000"}),
            expect="plausible",
        ),
        Case(
            "children_in_france",
            "coordinates",
            "children.csv home in Paris (off the grid)",
            (C, f"row {KID}", "northing"),
            cells(C, KID, {"easting": "820000", "northing": "-160000"}),
            expect="refuse",
        ),
        Case(
            "settings_in_the_sea",
            "coordinates",
            "settings.csv in the North Sea (700000, 400000)",
            (S, "row 2", "easting"),
            cells(S, 2, {"easting": "700000", "northing": "400000"}),
            expect="refuse",
        ),
        # ids and references
        Case(
            "children_duplicate_id",
            "references",
            "children.csv child id repeated",
            (C, f"row {KID}", "child_id"),
            cell(C, KID, "child_id", "C00001"),
            expect="refuse",
        ),
        Case(
            "settings_duplicate_id",
            "references",
            "settings.csv setting id repeated",
            (S, "row 3", "setting_id"),
            cell(S, 3, "setting_id", "S001"),
            expect="refuse",
        ),
        Case(
            "packages_duplicate_id",
            "references",
            "packages.csv package id repeated",
            (K, "row 3", "package_id"),
            cell(K, 3, "package_id", "SPP1"),
            expect="refuse",
        ),
        Case(
            "places_duplicate_row",
            "references",
            "places.csv setting × package twice",
            (P, "package_id"),
            rows_edit(P, lambda r: [*r, r[1]]),
            expect="refuse",
        ),
        Case(
            "places_unknown_setting",
            "references",
            "places.csv setting S999",
            (P, "row 2", "setting_id"),
            cell(P, 2, "setting_id", "S999"),
            expect="refuse",
        ),
        Case(
            "places_unknown_package",
            "references",
            "places.csv package SPP9",
            (P, "row 2", "package_id"),
            cell(P, 2, "package_id", "SPP9"),
            expect="refuse",
        ),
        Case(
            "children_unknown_package",
            "references",
            "children.csv package SPP9",
            (C, f"row {KID}", "package_id"),
            cell(C, KID, "package_id", "SPP9"),
            expect="refuse",
        ),
        Case(
            "children_unknown_current",
            "references",
            "children.csv current_setting_id S999",
            (C, "row 2", "current_setting_id"),
            cell(C, 2, "current_setting_id", "S999"),
            expect="refuse",
        ),
        Case(
            "children_current_lowercase",
            "references",
            "children.csv current_setting_id 's005'",
            (C, "row 2", "current_setting_id"),
            cell(C, 2, "current_setting_id", "s005"),
            expect="refuse",
        ),
        Case(
            "children_current_closed",
            "references",
            "settings.csv closes S005, where children continue (they are re-placed)",
            (S, "S005"),
            closed_current,
            expect="plausible",
        ),
        Case(
            "children_id_padded",
            "references",
            "children.csv child id with spaces",
            (C,),
            cell(C, KID, "child_id", " C00002 "),
        ),
        Case(
            "places_setting_padded",
            "references",
            "places.csv setting id ' S001 '",
            (P,),
            cell(P, 2, "setting_id", " S001 "),
        ),
        Case(
            "children_pref_unknown",
            "references",
            "children.csv preferences 'S999'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S999"),
            expect="refuse",
        ),
        Case(
            "children_pref_commas",
            "references",
            "children.csv preferences 'S001,S002'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S001,S002"),
        ),
        Case(
            "children_pref_spaces",
            "references",
            "children.csv preferences 'S001 S002'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S001 S002"),
        ),
        Case(
            "children_pref_pipes",
            "references",
            "children.csv preferences 'S001|S002'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S001|S002"),
        ),
        Case(
            "children_pref_repeated",
            "references",
            "children.csv preferences 'S001;S001'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S001;S001"),
            expect="refuse",
        ),
        Case(
            "children_pref_trailing_sep",
            "references",
            "children.csv preferences 'S001;'",
            (C, f"row {KID}", "preferences"),
            cell(C, KID, "preferences", "S001;"),
            expect="plausible",
        ),
        Case(
            "costing_unknown_package",
            "references",
            "costing_framework.csv package SPP9",
            ("costing_framework.csv", "row 2", "package_id"),
            cell("costing_framework.csv", 2, "package_id", "SPP9"),
            expect="refuse",
        ),
        Case(
            "costing_unknown_type",
            "references",
            "costing_framework.csv type 'special'",
            ("costing_framework.csv", "row 2", "setting_type"),
            cell("costing_framework.csv", 2, "setting_type", "special"),
            expect="refuse",
        ),
        Case(
            "settings_unknown_type",
            "references",
            "settings.csv setting_type 'special'",
            (S, "row 2", "setting_type"),
            cell(S, 2, "setting_type", "special"),
            expect="refuse",
        ),
        Case(
            "settings_type_capitals",
            "references",
            "settings.csv setting_type 'Inclusion_Base'",
            (S, "row 2", "setting_type"),
            cell(S, 2, "setting_type", "Inclusion_Base"),
        ),
        # booleans
        Case(
            "children_bool_yes_no",
            "booleans",
            "children.csv booleans as yes/no",
            (C,),
            column_map(C, bools, lambda v: yes_no.get(v, v)),
        ),
        Case(
            "children_bool_Y_N",
            "booleans",
            "children.csv booleans as Y/N",
            (C,),
            column_map(C, bools, lambda v: {"true": "Y", "false": "N"}.get(v, v)),
        ),
        Case(
            "children_bool_1_0",
            "booleans",
            "children.csv booleans as 1/0",
            (C,),
            column_map(C, bools, lambda v: {"true": "1", "false": "0"}.get(v, v)),
        ),
        Case(
            "children_bool_TRUE_FALSE",
            "booleans",
            "children.csv booleans as TRUE/FALSE",
            (C,),
            column_map(C, bools, str.upper),
        ),
        Case(
            "settings_bool_text",
            "booleans",
            "settings.csv in_area 'maybe'",
            (S, "row 2", "in_area"),
            cell(S, 2, "in_area", "maybe"),
            expect="refuse",
        ),
        Case(
            "children_bool_tick",
            "booleans",
            "children.csv solo_transport '✓'",
            (C, f"row {KID}", "solo_transport"),
            cell(C, KID, "solo_transport", "✓"),
            expect="refuse",
        ),
        # files
        Case(
            "children_empty_file",
            "files",
            "children.csv empty (0 bytes)",
            (C,),
            raw(C, lambda b: b""),
            expect="refuse",
        ),
        Case(
            "settings_empty_file",
            "files",
            "settings.csv empty (0 bytes)",
            (S,),
            raw(S, lambda b: b""),
            expect="refuse",
        ),
        Case(
            "children_header_only",
            "files",
            "children.csv header only (export lost rows)",
            (C,),
            rows_edit(C, lambda r: r[:1]),
        ),
        Case(
            "places_header_only",
            "files",
            "places.csv header only",
            (P,),
            rows_edit(P, lambda r: r[:1]),
            expect="refuse",
        ),
        Case(
            "children_is_directory",
            "files",
            "children.csv is a folder",
            (C,),
            make_dir(C),
            expect="refuse",
        ),
        Case(
            "policy_is_directory",
            "files",
            "policy.yaml is a folder",
            ("policy.yaml",),
            make_dir("policy.yaml"),
            expect="refuse",
        ),
        Case("children_missing", "files", "no children.csv", (C,), remove(C), expect="refuse"),
        Case("packages_missing", "files", "no packages.csv", (K,), remove(K), expect="refuse"),
        Case(
            "children_binary",
            "files",
            "children.csv holds random bytes",
            (C,),
            raw(C, lambda b: os.urandom(4096)),
            expect="refuse",
        ),
        Case(
            "wards_garbage",
            "files",
            "wards.geojson is not JSON",
            ("wards.geojson",),
            raw("wards.geojson", lambda b: b"not json {"),
            expect="refuse",
        ),
        Case(
            "children_unclosed_quote",
            "files",
            "children.csv with an unclosed quote",
            (C,),
            raw(C, lambda b: b.replace(b"C00002,", b'"C00002,', 1)),
            expect="refuse",
        ),
        # legitimate text
        Case(
            "settings_name_html",
            "text",
            "settings.csv name with <script> HTML",
            (S,),
            name_cell("<script>alert('x')</script> & <b>School</b>"),
        ),
        Case(
            "settings_name_formula",
            "text",
            "settings.csv name '=HYPERLINK(...)'",
            (S,),
            name_cell('=HYPERLINK("http://evil.example","click")'),
        ),
        Case(
            "packages_name_formula",
            "text",
            "packages.csv name '+SUM(A1:A9)'",
            (K,),
            cell(K, 2, "name", "+SUM(A1:A9)"),
        ),
        Case(
            "settings_name_unicode",
            "text",
            "settings.csv name with emoji and RTL marks",
            (S,),
            name_cell("Ysgol \u202e\u200f😀 Ñandú"),
        ),
        Case(
            "settings_name_newline",
            "text",
            "settings.csv name with an embedded newline",
            (S,),
            name_cell("Acre Hall\nPrimary"),
        ),
        Case(
            "settings_name_long",
            "text",
            "settings.csv name of 100,000 characters",
            (S,),
            name_cell("A" * 100_000),
        ),
        Case(
            "children_extra_column",
            "text",
            "children.csv extra 'notes' column",
            (C,),
            add_column(C, "notes", lambda i: "see file" if i % 2 else ""),
        ),
        # policy.yaml
        Case(
            "policy_unknown_key",
            "policy",
            "policy.yaml 'max_travel_minutes' (misspelt key)",
            ("policy.yaml", "max_travel_minutes"),
            policy_append("max_travel_minutes: {primary: 30, secondary: 40, post16: 40}"),
            expect="refuse",
        ),
        Case(
            "policy_wrong_type",
            "policy",
            "policy.yaml speed_kmh: fast",
            ("policy.yaml", "speed_kmh"),
            policy_replace("speed_kmh: 24", "speed_kmh: fast"),
            expect="refuse",
        ),
        Case(
            "policy_nan",
            "policy",
            "policy.yaml detour_factor: .nan",
            ("policy.yaml", "detour_factor"),
            policy_replace("detour_factor: 1.3", "detour_factor: .nan"),
            expect="refuse",
        ),
        Case(
            "policy_inf",
            "policy",
            "policy.yaml unplaced_penalty_gbp: .inf",
            ("policy.yaml", "unplaced_penalty_gbp"),
            policy_replace("unplaced_penalty_gbp: 1000000", "unplaced_penalty_gbp: .inf"),
            expect="refuse",
        ),
        Case(
            "policy_negative_cap",
            "policy",
            "policy.yaml max_travel_min primary -45",
            ("policy.yaml", "max_travel_min"),
            policy_replace("primary: 45", "primary: -45"),
            expect="refuse",
        ),
        Case(
            "policy_zero_speed",
            "policy",
            "policy.yaml speed_kmh: 0",
            ("policy.yaml", "speed_kmh"),
            policy_replace("speed_kmh: 24", "speed_kmh: 0"),
            expect="refuse",
        ),
        Case(
            "policy_negative_inmss_cap",
            "policy",
            "policy.yaml inmss_max_places: -1",
            ("policy.yaml", "inmss_max_places"),
            policy_replace("inmss_max_places: null", "inmss_max_places: -1"),
            expect="refuse",
        ),
        Case(
            "policy_continuity_word",
            "policy",
            "policy.yaml continuity: maybe",
            ("policy.yaml", "continuity"),
            policy_replace("continuity: keep", "continuity: maybe"),
            expect="refuse",
        ),
        Case(
            "policy_alias_bomb",
            "policy",
            "policy.yaml YAML alias bomb (small)",
            ("policy.yaml",),
            raw("policy.yaml", lambda b: BOMB.encode()),
            expect="refuse",
        ),
        Case(
            "policy_python_tag",
            "policy",
            "policy.yaml !!python/object tag",
            ("policy.yaml",),
            policy_append("speed_kmh: !!python/object/apply:os.system ['echo pwned']"),
            expect="refuse",
        ),
        Case(
            "policy_malformed",
            "policy",
            "policy.yaml with an unclosed brace",
            ("policy.yaml",),
            policy_replace("post16: 75}", "post16: 75"),
            expect="refuse",
        ),
        Case(
            "policy_list",
            "policy",
            "policy.yaml is a list, not a mapping",
            ("policy.yaml",),
            raw("policy.yaml", lambda b: b"- speed_kmh\n- 24\n"),
            expect="refuse",
        ),
        Case(
            "policy_string_penalties",
            "policy",
            "policy.yaml preference penalties as text",
            ("policy.yaml", "preference_penalty_gbp"),
            policy_replace("[0, 3000, 6000]", "'0, 3000, 6000'"),
            expect="refuse",
        ),
    ]


def scenario_file(text: str, name: str = "s.yaml") -> Callable[[Path, Path], list[str]]:
    def build(case_dir: Path, data: Path) -> list[str]:
        (case_dir / "secret.yaml").write_text("TOP-SECRET: 1\nname: leaked\n", encoding="utf-8")
        folder = case_dir / "scenarios"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        return ["compare", str(data), str(folder / name)]

    return build


def horizon_scenario(text: str) -> Callable[[Path, Path], list[str]]:
    def build(case_dir: Path, data: Path) -> list[str]:
        path = case_dir / "s.yaml"
        path.write_text(text, encoding="utf-8")
        return ["horizon", str(data), "--years", "2", "--scenario", str(path)]

    return build


def command(*args: str) -> Callable[[Path, Path], list[str]]:
    def build(case_dir: Path, data: Path) -> list[str]:
        return [a.replace("{case}", str(case_dir)).replace("{data}", str(data)) for a in args]

    return build


def existing(*args: str, file: str) -> Callable[[Path, Path], list[str]]:
    def build(case_dir: Path, data: Path) -> list[str]:
        (case_dir / file).write_text("keep me\n", encoding="utf-8")
        return command(*args)(case_dir, data)

    return build


def out_is_dir(case_dir: Path, data: Path) -> list[str]:
    (case_dir / "out.csv").mkdir()
    return ["allocate", str(data), "--out", str(case_dir / "out.csv")]


def command_cases() -> list[Case]:
    sp = "name: x\nchanges:\n  - "
    return [
        Case(
            "scenario_unknown_setting",
            "scenario",
            "set_places on setting S999",
            ("s.yaml", "S999"),
            args=scenario_file(
                sp + "set_places: {setting_id: S999, package_id: SPP3, places: 10}\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_negative_places",
            "scenario",
            "set_places places -10",
            ("s.yaml", "change 1"),
            args=scenario_file(
                sp + "set_places: {setting_id: S001, package_id: SPP3, places: -10}\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_close_unknown",
            "scenario",
            "close_setting S999",
            ("s.yaml", "S999"),
            args=scenario_file(sp + "close_setting: {setting_id: S999}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_unknown_change",
            "scenario",
            "change type 'open_school'",
            ("s.yaml", "open_school"),
            args=scenario_file(sp + "open_school: {setting_id: S001}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_extends_outside",
            "scenario",
            "extends: ../secret.yaml",
            ("s.yaml", "extends"),
            args=scenario_file("name: x\nextends: ../secret.yaml\nchanges: []\n"),
            expect="refuse",
        ),
        Case(
            "scenario_extends_missing",
            "scenario",
            "extends: a file that does not exist",
            ("s.yaml", "extends"),
            args=scenario_file("name: x\nextends: nothing.yaml\nchanges: []\n"),
            expect="refuse",
        ),
        Case(
            "scenario_extends_itself",
            "scenario",
            "extends: itself (a cycle)",
            ("s.yaml", "extends"),
            args=scenario_file("name: x\nextends: s.yaml\nchanges: []\n"),
            expect="refuse",
        ),
        Case(
            "scenario_from_year_negative",
            "scenario",
            "from_year: -1",
            ("s.yaml", "from_year"),
            args=scenario_file(sp + "close_setting: {setting_id: S001, from_year: -1}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_from_year_text",
            "scenario",
            "from_year: two (horizon)",
            ("s.yaml", "from_year"),
            args=horizon_scenario(sp + "close_setting: {setting_id: S001, from_year: two}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_from_year_beyond",
            "scenario",
            "from_year: 99 in a 2-year horizon",
            ("s.yaml",),
            args=horizon_scenario(sp + "close_setting: {setting_id: S001, from_year: 99}\n"),
            expect="ok",
        ),
        Case(
            "scenario_huge_growth",
            "scenario",
            "demand_growth {SPP3: 1e6}",
            ("s.yaml", "change 1"),
            args=scenario_file(sp + "demand_growth: {SPP3: 1.0e+6}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_growth_unknown_key",
            "scenario",
            "demand_growth {SPP99: 1.1}",
            ("s.yaml", "SPP99"),
            args=scenario_file(sp + "demand_growth: {SPP99: 1.1}\n"),
            expect="refuse",
        ),
        Case(
            "scenario_add_existing_id",
            "scenario",
            "add_setting with the id of S001",
            ("s.yaml", "S001"),
            args=scenario_file(
                sp + "add_setting: {setting_id: S001, name: N, setting_type: "
                "inclusion_base, easting: 380000, northing: 395000, age_min: 4,"
                " age_max: 10, places: {SPP3: 8}}\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_add_unknown_package",
            "scenario",
            "add_setting with places for SPP9",
            ("s.yaml", "SPP9"),
            args=scenario_file(
                sp + "add_setting: {setting_id: NEW1, name: N, setting_type: "
                "inclusion_base, easting: 380000, northing: 395000, age_min: 4,"
                " age_max: 10, places: {SPP9: 8}}\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_negative_fee_cap",
            "scenario",
            "cap_fees max -1",
            ("s.yaml", "change 1"),
            args=scenario_file(
                sp + "cap_fees: {setting_type: independent_special, max_annual_cost_gbp: -1}\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_alias",
            "scenario",
            "scenario with a YAML alias",
            ("s.yaml",),
            args=scenario_file(
                "name: x\nchanges:\n  - close_setting: &c {setting_id: S001}\n"
                "  - close_setting: *c\n"
            ),
            expect="refuse",
        ),
        Case(
            "scenario_empty",
            "scenario",
            "scenario file empty",
            ("s.yaml",),
            args=scenario_file(""),
            expect="refuse",
        ),
        Case(
            "scenario_not_yaml",
            "scenario",
            "scenario file is a CSV",
            ("s.yaml",),
            args=scenario_file("a,b,c\n1,2,3\n"),
            expect="refuse",
        ),
        Case(
            "scenario_missing_file",
            "scenario",
            "compare with a scenario path that is absent",
            ("missing.yaml",),
            args=command("compare", "{data}", "{case}/missing.yaml"),
            expect="refuse",
        ),
        Case(
            "compare_no_scenario",
            "cli",
            "compare with DIR and no scenario",
            ("scenario",),
            args=command("compare", "{data}"),
            expect="refuse",
        ),
        Case(
            "horizon_growth_nan",
            "cli",
            "horizon --growth nan",
            ("--growth",),
            args=command("horizon", "{data}", "--years", "1", "--growth", "nan"),
            expect="refuse",
        ),
        Case(
            "horizon_growth_huge",
            "cli",
            "horizon --growth 1e6",
            ("--growth",),
            args=command("horizon", "{data}", "--years", "1", "--growth", "1e6"),
            expect="refuse",
        ),
        Case(
            "horizon_years_negative",
            "cli",
            "horizon --years -1",
            ("--years",),
            args=command("horizon", "{data}", "--years", "-1"),
            expect="refuse",
        ),
        Case(
            "site_budget_negative",
            "cli",
            "site --budget -1",
            ("--budget",),
            args=command("site", "{data}", "--budget", "-1"),
            expect="refuse",
        ),
        Case(
            "site_budget_nan",
            "cli",
            "site --budget nan",
            ("--budget",),
            args=command("site", "{data}", "--budget", "nan", "--time-limit", "5"),
            expect="refuse",
        ),
        Case(
            "site_time_limit_zero",
            "cli",
            "site --time-limit 0",
            ("--time-limit",),
            args=command("site", "{data}", "--time-limit", "0"),
            expect="refuse",
        ),
        Case(
            "site_unknown_package",
            "cli",
            "site --package SPP9",
            ("SPP9",),
            args=command("site", "{data}", "--package", "SPP9", "--time-limit", "5"),
            expect="refuse",
        ),
        Case(
            "transport_time_limit_zero",
            "cli",
            "transport --time-limit 0",
            ("--time-limit",),
            args=command("transport", "{data}", "--time-limit", "0"),
            expect="refuse",
        ),
        Case(
            "allocate_out_missing_folder",
            "cli",
            "allocate --out in a folder not yet made",
            ("out.csv",),
            args=command("allocate", "{data}", "--out", "{case}/new/sub/out.csv"),
            expect="ok",
        ),
        Case(
            "allocate_out_read_only",
            "cli",
            "allocate --out on a read-only file system (/proc)",
            ("/proc/optimiser-out.csv",),
            args=command("allocate", "{data}", "--out", "/proc/optimiser-out.csv"),
            expect="refuse",
        ),
        Case(
            "allocate_out_existing",
            "cli",
            "allocate --out an existing file",
            ("out.csv",),
            args=existing("allocate", "{data}", "--out", "{case}/out.csv", file="out.csv"),
            expect="refuse",
        ),
        Case(
            "allocate_out_is_folder",
            "cli",
            "allocate --out names a folder",
            ("out.csv",),
            args=out_is_dir,
            expect="refuse",
        ),
        Case(
            "allocate_same_out_twice",
            "cli",
            "allocate --out X --unplaced-out X",
            ("x.csv",),
            args=command(
                "allocate", "{data}", "--out", "{case}/x.csv", "--unplaced-out", "{case}/x.csv"
            ),
            expect="refuse",
        ),
        Case(
            "report_xlsx_existing",
            "cli",
            "report --xlsx an existing file",
            ("r.xlsx",),
            args=existing("report", "{data}", "--xlsx", "{case}/r.xlsx", file="r.xlsx"),
            expect="refuse",
        ),
        Case(
            "map_out_under_a_file",
            "cli",
            "map --out inside a path that is a file",
            ("map.html",),
            args=existing("map", "{data}", "--out", "{case}/f.txt/map.html", file="f.txt"),
            expect="refuse",
        ),
        Case(
            "validate_missing_dir",
            "cli",
            "validate a folder that does not exist",
            ("nowhere",),
            args=command("validate", "{case}/nowhere"),
            expect="refuse",
        ),
        Case(
            "validate_a_csv_file",
            "cli",
            "validate DIR given as children.csv itself",
            ("children.csv",),
            args=command("validate", "{data}/children.csv"),
            expect="refuse",
        ),
        Case(
            "validate_fake_xlsx",
            "cli",
            "validate a .xlsx that is a text file",
            ("book.xlsx",),
            args=existing("validate", "{case}/book.xlsx", file="book.xlsx"),
            expect="refuse",
        ),
    ]


def all_cases() -> list[Case]:
    return [Case("clean", "baseline", "the default data, unchanged", ())] + (
        dataset_cases() + command_cases()
    )


# --- running -------------------------------------------------------------------------------


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


@dataclass
class Run:
    argv: list[str]
    code: int | None  # None: timeout
    out: str
    seconds: float


def _run(argv: list[str], cwd: Path) -> Run:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="150", NO_COLOR="1")
    start = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=TIMEOUT_S,
            preexec_fn=_limit,  # one subprocess at a time per pool worker: no threads
        )
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode("utf-8", "replace") + (exc.stderr or b"").decode(
            "utf-8", "replace"
        )
        return Run(argv, None, text, time.perf_counter() - start)
    text = p.stdout.decode("utf-8", "replace") + "\n" + p.stderr.decode("utf-8", "replace")
    return Run(argv, p.returncode, text, time.perf_counter() - start)


def execute(case: Case, work: Path) -> dict:
    """Build the case in its own folder under ``work``, run it, return the raw result."""
    case_dir = work / case.name
    case_dir.mkdir(parents=True)
    kpis = None
    if case.args is None:
        folder = case_dir / "data"
        shutil.copytree(DATA, folder)
        if case.mutate is not None:
            case.mutate(folder)
        kpi_file = case_dir / "kpis.json"
        validate = ["validate", str(folder)]
        allocate = ["allocate", str(folder), "--out", str(case_dir / "placements.csv")]
        run = _run(["-c", RUNNER, str(kpi_file), *validate, "--then", *allocate], case_dir)
        both = "@@then@@" in run.out
        run.out = run.out.replace("@@then@@", "")
        run.argv = ["-m", "optimiser", *validate]
        if both:
            run.argv += [";", "python", "-m", "optimiser", *allocate]
        if kpi_file.exists():
            kpis = json.loads(kpi_file.read_text(encoding="utf-8"))
    else:
        run = _run(["-m", "optimiser", *case.args(case_dir, DATA)], case_dir)
    return {"runs": [run], "kpis": kpis, "case_dir": str(case_dir)}


# --- classifying ---------------------------------------------------------------------------

_CHILD = re.compile(r"\bC\d{4,}\b")
_NUMBER = re.compile(r"\b\d{6,}(?:\.\d+)?\b")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


def scrub(text: str, case_dir: str) -> str:
    """No child data in what is stored: ids, grid references, postcodes; paths shortened."""
    if case_dir:
        text = text.replace(case_dir + "/data", "DIR").replace(case_dir, "CASE")
    text = text.replace(str(DATA), "DATA")
    text = _CHILD.sub("<child>", text)
    text = _NUMBER.sub("<number>", text)
    return _POSTCODE.sub("<postcode>", text)


def _flat(text: str) -> str:
    return " ".join(text.split())


def kpi_change(kpis: dict | None, base: dict | None) -> str:
    """'' when the key KPIs match the baseline's, else what changed."""
    if kpis is None or base is None:
        return ""
    out = []
    for key in KPI_KEYS:
        a, b = kpis.get(key), base.get(key)
        if a is None or b is None:
            continue
        same = abs(a - b) <= max(1.0, 1e-9 * abs(b)) if key.endswith("_gbp") else a == b
        if not same:
            out.append(f"{key} {b:,.0f} -> {a:,.0f}")
    return "; ".join(out)


def _message(case: Case, text: str) -> str:
    lines = [ln.strip(" │╭╮╰╯─") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if "Traceback" in text:
        errs = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", ln)]
        return errs[-1] if errs else lines[-1]
    said = [ln for ln in lines if not ln.startswith(("Cannot use", "OK:"))]
    for needle in (*case.names, "warning", "Error", "error"):
        hits = [ln for ln in said if needle and needle in ln]
        if hits:
            return hits[0]
    return said[-1] if said else (lines[0] if lines else "")


def classify(case: Case, result: dict, base: dict | None) -> tuple[str, str, str]:
    """(outcome, message, kpi change)."""
    runs: list[Run] = result["runs"]
    text = "\n".join(r.out for r in runs)
    last = runs[-1]
    message = _message(case, text)
    flat = _flat(text)
    named = all(n in flat for n in case.names)
    if last.code is None:
        return "traceback", f"timeout after {TIMEOUT_S} s", ""
    if "Traceback" in text or last.code < 0 or "MemoryError" in text:
        return "traceback", message or f"killed by signal {-last.code}", ""
    if last.code != 0:
        return ("clear error" if named else "unclear error"), message, ""
    change = kpi_change(result["kpis"], base)
    warned = bool(case.names) and case.names[0] in flat and re.search(r"\bwarning", flat, re.I)
    if warned:
        return "warning", message, change
    if case.expect == "refuse":
        return "silent wrong answer", message, change
    if case.expect == "ok" or case.args is not None:
        return "accepted, same answer", message, ""
    if result["kpis"] is None:
        return "silent wrong answer", "exit 0 but no allocation", ""
    if not change:
        return "accepted, same answer", "", ""
    if case.expect == "plausible":
        return "accepted, plausible change", "", change
    return "silent wrong answer", "", change


def _work(args: tuple[str, str]) -> dict:
    """Pool task: cases hold closures, so the worker looks its case up by name."""
    name, work = args
    case = next(c for c in all_cases() if c.name == name)
    return execute(case, Path(work))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("hostile_tally.csv"), help="results CSV")
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    opts = ap.parse_args(argv)
    cases = all_cases()
    if opts.only:
        unknown = set(opts.only) - {c.name for c in cases}
        if unknown:
            ap.error(f"unknown case(s): {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c.name in opts.only or c.name == "clean"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        clean = execute(cases[0], Path(tmp))
        base = clean["kpis"]
        if base is None:
            print("the clean baseline did not allocate:\n" + clean["runs"][-1].out[-2000:])
            return 2
        rest = cases[1:]
        with ProcessPoolExecutor(max_workers=opts.jobs) as pool:
            results = list(pool.map(_work, [(c.name, tmp) for c in rest]))
        rows = []
        for case, result in zip(cases, [clean, *results], strict=True):
            outcome, message, change = classify(case, result, base)
            runs = result["runs"]
            rows.append(
                {
                    "case": case.name,
                    "family": case.family,
                    "description": case.description,
                    "command": scrub("python " + " ".join(runs[-1].argv), result["case_dir"]),
                    "exit_code": "timeout" if runs[-1].code is None else runs[-1].code,
                    "outcome": outcome,
                    "message": scrub(message, result["case_dir"])[:300],
                    "kpi_change": change,
                    "seconds": f"{sum(r.seconds for r in runs):.1f}",
                }
            )
    with opts.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tried = rows[1:]  # the clean baseline is not a hostile input
    counts = Counter(r["outcome"] for r in tried)
    print(f"\nHostile-input tally ({len(tried)} cases, {time.perf_counter() - start:.0f} s)")
    print(f"  {'tried':<28} {len(tried):>4}")
    labels = ("clear errors", "unclear errors", "warnings", "tracebacks", "silent wrong answers")
    for outcome, label in zip(OUTCOMES, (*labels, *OUTCOMES[5:]), strict=True):
        print(f"  {label:<28} {counts[outcome]:>4}")
    if rows[0]["outcome"] != "accepted, same answer":
        print(f"  ! the clean baseline itself classified as {rows[0]['outcome']}")
    for outcome in ("traceback", "silent wrong answer", "unclear error"):
        hits = [r for r in tried if r["outcome"] == outcome]
        if hits:
            print(f"\n{outcome}s:")
            for r in hits:
                detail = r["kpi_change"] or r["message"]
                print(f"  {r['case']}: {r['description']} — {detail}")
    print(f"\nwrote {opts.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
