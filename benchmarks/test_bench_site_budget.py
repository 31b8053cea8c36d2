"""Slow check: ``optimiser.site(..., time_limit_s=...)`` keeps to its wall-clock budget at scale.

Run with ``pytest -m slow benchmarks/test_bench_site_budget.py``. A seeded synthetic area
(:func:`optimiser.synth.synth_area`) of 20,000 children with a candidate site beside each
non-INMSS setting is sited at a £3m budget with a 10 s limit; the whole run (instance,
solve, confirmation) must end within the limit plus the fixed allowance (the solve's 1 s
minimum, one confirming allocation, the instance build when it alone exceeds the limit).
The per-stage times are printed (``-s``). Before the limit covered the whole run, a 10 s
limit took 66 s at 200,000 children.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

import optimiser
from optimiser.schema import INMSS_TYPES
from optimiser.synth import synth_area

pytestmark = pytest.mark.slow

N_CHILDREN, LIMIT_S = 20_000, 10.0


def _area(folder: Path, n_children: int) -> optimiser.Dataset:
    frames = synth_area(n_children=n_children, n_settings=max(20, n_children // 60), seed=2)
    near = frames["settings"][~frames["settings"]["setting_type"].isin(INMSS_TYPES)]
    frames["candidates"] = pd.DataFrame(
        {
            "site_id": [f"N{i:03d}" for i in range(len(near))],
            "name": "candidate",
            "urn": "",
            "easting": near["easting"].to_numpy() + 500,
            "northing": near["northing"].to_numpy(),
            "age_min": 4,
            "age_max": 18,
            "packages": ";".join(frames["packages"]["package_id"]),
            "max_places": 16,
            "capital_cost_gbp_per_place": 20000,
        }
    )
    folder.mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return optimiser.load_dataset(folder)


def test_site_keeps_to_its_time_limit_at_20k(tmp_path: Path) -> None:
    ds = _area(tmp_path / "area", N_CHILDREN)
    start = time.perf_counter()
    res = optimiser.site(ds, budget_gbp=3_000_000, time_limit_s=LIMIT_S)
    wall = time.perf_counter() - start
    t = res.timings_s
    print(f"\n{N_CHILDREN} children, limit {LIMIT_S:g} s: wall {wall:.1f} s, stages {t}")
    print("notes:", res.notes)
    # the allowance: 1 s solve minimum + one confirming allocation + the instance build
    # beyond the limit (it cannot be cut short) + 5 s for a loaded machine
    allowance = 1.0 + t["confirm"] + max(t["instance"] - LIMIT_S, 0.0) + 5.0
    assert wall <= LIMIT_S + allowance
