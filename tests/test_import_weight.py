"""``import optimiser`` leaves the geometry, graph and workbook libraries for first use.

geopandas, shapely, pyproj, networkx and openpyxl hold about 50 MB of a process's memory
once imported; an allocation needs none of them, and a national allocate's two processes
share what the parent imported (issue 18: national < 1.5 GB). They load where a dataset
has wards or roads, an LA is initialised, or a workbook is read.
"""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ("geopandas", "shapely", "pyproj", "networkx", "openpyxl")


def test_import_optimiser_loads_no_geometry_graph_or_workbook_library() -> None:
    code = (
        "import json, sys, optimiser\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_coordinates_still_convert_both_ways() -> None:
    import numpy as np

    from optimiser.geography import bng_from_lonlat, lonlat_from_bng

    e, n = bng_from_lonlat(np.array([-2.3]), np.array([53.45]))  # Trafford: pyproj on first use
    assert 375_000 < float(e[0]) < 385_000 and 390_000 < float(n[0]) < 400_000
    lon, lat = lonlat_from_bng(e, n)
    assert abs(float(lon[0]) + 2.3) < 1e-6 and abs(float(lat[0]) - 53.45) < 1e-6
