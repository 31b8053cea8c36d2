"""Snapshot every output of ``optimiser.allocate`` on fixed cases, and compare two snapshots.

Usage (from the repository root)::

    python benchmarks/allocation_snapshot.py save OLD.pkl        # with the code before a change
    python benchmarks/allocation_snapshot.py save NEW.pkl        # with the code after it
    python benchmarks/allocation_snapshot.py compare OLD.pkl NEW.pkl [--placements-may-differ]

Cases: the default data (``optimiser.load_default``), the five example scenarios in
``examples/*.yaml`` applied to it, synth areas of 3,000, 7,000 ("la") and 20,000 children
(built as ``bench_allocation.py`` builds them), a national-builder instance of 20,000
children, and policy edge cases (INMSS cap, continuity free, honour-preference weights,
halved places with an INMSS cap of 5).

Outputs compared value by value and dtype by dtype: placements, unplaced (with reasons and
costs), objective, kpis, sufficiency, options, warnings, unplaced rates, duty weight and
unplaced penalty. Exit status 1 on any difference.

``--placements-may-differ`` is for a change of solver path that may pick another of several
tied optima: the objective, kpis and options must still be identical, and differing frames
are reported (not failed) — each is also re-checked by the independent checker at save time
(``allocate`` raises otherwise).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import optimiser  # noqa: E402

FRAMES = ("placements", "unplaced", "sufficiency", "options", "unplaced_rates")
SCALARS = ("objective", "kpis", "warnings", "duty_weight_gbp", "unplaced_penalty_gbp")


def _synth(n_children: int, n_settings: int) -> Callable[[], optimiser.Dataset]:
    def build() -> optimiser.Dataset:
        from national import dataset_from_tables

        from optimiser.synth.benchmark import synth_area

        tables = synth_area(n_children=n_children, n_settings=n_settings, seed=1)
        return dataset_from_tables(tables, name=f"synth{n_children}")

    return build


def _national(n_children: int) -> Callable[[], optimiser.Dataset]:
    def build() -> optimiser.Dataset:
        import national

        return national.dataset_from_tables(
            national.national_tables(n_children=n_children), name=f"national{n_children}"
        )

    return build


def _pol(pol: optimiser.Policy, **changes: object) -> optimiser.Policy:
    return pol.model_copy(update=changes)


def cases(quick: bool = False) -> Iterator[tuple[str, optimiser.Dataset]]:
    """(name, dataset with any scenario applied) of every case, built one at a time."""
    ds = optimiser.load_default()
    yield "default", ds
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        yield f"default+{path.stem}", optimiser.load_scenario(path).apply(ds)
    pol = ds.policy
    yield "default/inmss-cap-20", ds.replace(policy=_pol(pol, inmss_max_places=20))
    yield "default/continuity-free", ds.replace(policy=_pol(pol, continuity="free"))
    yield (
        "default/honour-1000",
        ds.replace(policy=_pol(pol, honour_preference_below_gbp=1000.0)),
    )
    half = ds.places.assign(places=(ds.places["places"] // 2))
    yield (
        "default/half-places-inmss-5",
        ds.replace(places=half, policy=_pol(pol, inmss_max_places=5)),
    )
    sizes = [(3_000, 150)] if quick else [(3_000, 150), (7_000, 300), (20_000, 400)]
    for n, s in sizes:
        yield f"synth{n}", _synth(n, s)()
    if not quick:
        yield "national20000", _national(20_000)()


def snapshot(ds: optimiser.Dataset) -> dict[str, object]:
    """Every output of one allocate (checked) as plain picklable values."""
    res = optimiser.allocate(ds)
    out: dict[str, object] = {name: getattr(res, name) for name in FRAMES}
    out.update({name: getattr(res, name) for name in SCALARS})
    return out


def save(path: Path, quick: bool = False) -> None:
    snaps = {}
    for name, ds in cases(quick):
        snaps[name] = snapshot(ds)
        print(f"{name}: objective {snaps[name]['objective']!r}", flush=True)
    path.write_bytes(pickle.dumps(snaps))


def _frame_diff(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    if list(a.columns) != list(b.columns):
        return f"columns {list(a.columns)} != {list(b.columns)}"
    for col in a.columns:
        if a[col].dtype != b[col].dtype:
            return f"column {col}: dtype {a[col].dtype} != {b[col].dtype}"
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError as e:
        return str(e).splitlines()[0] + " " + " ".join(str(e).splitlines()[1:4])
    return None


def _value_diff(a: object, b: object) -> str | None:
    if type(a) is not type(b):
        return f"type {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert isinstance(b, dict)
        if list(a) != list(b):
            return f"keys {list(a)} != {list(b)}"
        for k in a:
            d = _value_diff(a[k], b[k])
            if d:
                return f"[{k}] {d}"
        return None
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return None
    return None if a == b else f"{a!r} != {b!r}"


def compare(old: Path, new: Path, placements_may_differ: bool = False) -> int:
    a, b = pickle.loads(old.read_bytes()), pickle.loads(new.read_bytes())
    bad = 0
    if list(a) != list(b):
        print(f"cases differ: {list(a)} vs {list(b)}")
        return 1
    soft = {"placements", "unplaced", "sufficiency", "unplaced_rates", "warnings"}
    for case in a:
        diffs = []
        for name in FRAMES:
            d = _frame_diff(a[case][name], b[case][name])
            if d:
                diffs.append((name, d))
        for name in SCALARS:
            d = _value_diff(a[case][name], b[case][name])
            if d:
                diffs.append((name, d))
        hard = [x for x in diffs if not (placements_may_differ and x[0] in soft)]
        bad += bool(hard)
        status = "DIFFERENT" if hard else ("tied optimum differs" if diffs else "identical")
        print(f"{case}: {status}")
        for name, d in diffs:
            print(f"    {name}: {d[:300]}")
    print("all identical" if not bad else f"{bad} case(s) differ")
    return int(bool(bad))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("path", type=Path)
    s.add_argument("--quick", action="store_true", help="skip the 7k, 20k and national cases")
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--placements-may-differ", action="store_true")
    args = p.parse_args(argv)
    if args.cmd == "save":
        save(args.path, args.quick)
        return 0
    return compare(args.old, args.new, args.placements_may_differ)


if __name__ == "__main__":
    raise SystemExit(main())
