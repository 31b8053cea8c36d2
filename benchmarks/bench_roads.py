"""Road journeys on the embedded Trafford data with a grid of OS-layout roads: cache miss, hit.

    nice -n 10 python benchmarks/bench_roads.py [--step 250] [--old OLD_TRAVEL_PY]

Writes a grid GeoPackage (``tests/test_roads.py::_open_roads_gpkg``) over Trafford's
children, runs ``import_roads`` into a copy of the data, then times the journeys of
``allocate``'s candidate pairs: first run (computed, cached) and second (from the cache).
``--old`` takes a copy of an earlier ``optimiser/transport/travel.py`` (e.g.
``git show f49b320:optimiser/transport/travel.py > /tmp/old_travel.py``) and times its
``_graph_km_and_min`` on the same pairs, checking the results agree.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_roads import _open_roads_gpkg  # noqa: E402

import optimiser  # noqa: E402
from optimiser.allocation.arcs import _candidate_pairs, child_frame  # noqa: E402
from optimiser.dataset.imports.roads import import_roads  # noqa: E402
from optimiser.dataset.paths import default_path  # noqa: E402
from optimiser.transport import journeys  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", type=float, default=250.0, help="grid spacing [m]")
    parser.add_argument("--old", type=Path, default=None, help="an earlier travel.py to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "trafford"
        shutil.copytree(default_path(), folder)
        gpkg = _open_roads_gpkg(
            Path(tmp) / "grid.gpkg", (365000, 380000, 389000, 402000), args.step
        )
        t = time.perf_counter()
        built = import_roads(gpkg, folder)
        took = time.perf_counter() - t
        print(f"import_roads: {built.nodes} nodes, {built.edges} edges, {took:.1f} s")
        ds = optimiser.load_dataset(folder)
        kids = child_frame(ds)
        settings = ds.settings.reset_index(drop=True)
        a = _candidate_pairs(kids, settings, ds.places.reset_index(drop=True), ds)
        home = kids[["x", "y"]].to_numpy(float)[a["c"]]
        sett = settings[["easting", "northing"]].to_numpy(float)[a["s"]]
        assert ds.roads is not None
        timed = []
        for _ in range(2):
            t = time.perf_counter()
            km, mins = journeys.graph_km_and_min(home, sett, graph=ds.roads, policy=ds.policy)
            timed.append(time.perf_counter() - t)
        print(f"{len(home)} pairs: cache miss {timed[0]:.2f} s, cache hit {timed[1]:.2f} s")
        if args.old is not None:
            spec = importlib.util.spec_from_file_location("old_travel", args.old)
            assert spec is not None and spec.loader is not None
            old = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(old)
            plain = ds.roads.copy()
            plain.graph.pop("cache_dir", None)
            t = time.perf_counter()
            km0, min0 = old._graph_km_and_min(home, sett, graph=plain, policy=ds.policy)
            print(
                f"old code {time.perf_counter() - t:.1f} s; largest difference "
                f"{np.abs(min0 - mins).max():.2e} min, {np.abs(km0 - km).max():.2e} km"
            )


if __name__ == "__main__":
    main()
