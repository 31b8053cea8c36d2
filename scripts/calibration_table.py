"""Calibration table of `optimiser init`: SEN2 vs model per group, unplaced, build time.

    python scripts/calibration_table.py 358 306 886 801 330 908 815

Each LA: ``init_la`` into a temporary folder, ``load_dataset`` (validates), ``allocate``;
placements counted by SEN2 placement group (``optimiser.dataset.SETTING_GROUP``). Prints a
Markdown table (docs/init.md holds the measured one).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import optimiser
from optimiser.dataset import SETTING_GROUP, resolve_la, sen2_placements

GROUPS = ("state_special", "inmss", "rp_units", "spi")


def row(code: str) -> str:
    """One Markdown row for an LA."""
    la = resolve_la(code)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        optimiser.init_la(code, out=Path(tmp) / "ds")
        build_s = time.perf_counter() - t
        ds = optimiser.load_dataset(Path(tmp) / "ds")
    t = time.perf_counter()
    res = optimiser.allocate(ds)
    alloc_s = time.perf_counter() - t
    st = ds.settings.set_index("setting_id")["setting_type"]
    got = res.placements["setting_id"].map(st).map(SETTING_GROUP).value_counts()
    sen2 = sen2_placements(la).iloc[-1]
    cells = []
    for g in GROUPS:
        want, have = sen2[g], int(got.get(g, 0))
        cells.append(f"{want:.0f} / {have} ({(have / want - 1) * 100:+.1f}%)" if want else "-")
    up = len(res.unplaced)
    return (
        f"| {la.name} {la.code} ({la.kind.replace('_', ' ')}) | {ds.policy.speed_kmh:g} | "
        f"{len(ds.children):,} | " + " | ".join(cells) + f" | {up} ({up / len(ds.children):.1%}) "
        f"| {build_s:.1f} | {alloc_s:.1f} |"
    )


def main(codes: list[str]) -> None:
    """Print the table for ``codes``."""
    print(
        "| LA (kind) | speed km/h | children | state special SEN2 / model | INMSS | RP + units "
        "| SPI | unplaced | build s | allocate s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for code in codes:
        print(row(code), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["358", "306", "886", "801", "330", "908", "815"])
