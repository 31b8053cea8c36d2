"""End-to-end round trip of the LA-data imports on a made-up LA, as a planner would run it.

Usage::

    python scripts/import_roundtrip.py OUT_DIR [--la 857] [--seed 857]

It writes, in ``OUT_DIR/inputs/``, made-up files in their sources' real layouts for one LA
(default Rutland, 857):

* ``edubasealldata20250524.csv``: GIAS's full-download header, Windows-1252, one row per
  setting of ``optimiser init``'s folder with a URN (resourced-provision / SEN-unit
  capacities for the bases, SEN provision types, ages, gender, admissions policy), one closed
  school and one bad row (a matched school without ``Easting``);
  ``edubasealldata20250524_fixed.csv`` is the same file with that row corrected;
* ``capita_caseload.csv``: a Capita One-style EHCP caseload export
  (``examples/import_mappings/capita_one.yaml``), ~60 made-up children with UPN-like ids,
  dates of birth, local need labels, current settings by URN, postcodes, preferences, and
  three bad rows (an unknown URN, an unknown postcode, a missing date of birth);
* ``ONSPD_FEB_2025_extract.csv``: an ONSPD extract in ONSPD's own layout holding the
  export's (made-up) postcodes, at the LA's LSOA 2021 centroids nudged by a few metres;
* ``oproad_gb.gpkg``: an OS Open Roads-layout GeoPackage, a 1 km grid of links with mixed
  road classes and kinks over the LA's box;

and the pseudonymisation key in ``OUT_DIR/secure/la.key`` (outside the dataset folder).
It then runs the CLI (``python -m optimiser`` in a subprocess) in order: ``init`` →
``import gias --dry-run`` (the file as downloaded: exits 1 on the bad row) → ``import gias
--dry-run`` (fixed) → ``import gias`` → ``import children`` → ``roads`` → ``validate`` →
``allocate``, and writes ``OUT_DIR/ROUNDTRIP.md`` with each command, its exit code, its key
output lines and its wall time. The dataset folder is ``OUT_DIR/<la>/``.

Every input is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same
files byte for byte. No UPN, name, postcode or date of birth of the export is ever printed
or written to ROUNDTRIP.md: the script checks every captured output for them and exits 1 if
one is found.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.dataset.imports.homes import lsoa_table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from import_files import GIAS_HEADER, open_roads_gpkg, write_gias  # noqa: E402

MAPPING = ROOT / "examples" / "import_mappings" / "capita_one.yaml"
AS_OF = "2026-01-15"  # academic year 2025/26: ages on 31 August 2025
GIAS_FILE = "edubasealldata20250524.csv"


#: GIAS's SEN provision type names, by the package whose places a setting holds.
SEN_BY_PACKAGE = {
    "SPP1": "PMLD - Profound and Multiple Learning Difficulty",
    "SPP2": "SLD - Severe Learning Difficulty",
    "SPP3": "ASD - Autistic Spectrum Disorder",
    "SPP4": "SEMH - Social, Emotional and Mental Health",
    "SPP5": "HI - Hearing Impairment",
    "SPP6": "VI - Visual Impairment",
    "SPP7": "PD - Physical Disability",
}
GIAS_TYPE = {
    "maintained_special": "Community special school",
    "academy_special": "Academy special converter",
    "independent_special": "Other independent special school",
    "nmss": "Non-maintained special school",
    "post16_specialist": "Special post 16 institution",
}
#: Capita-style need labels (capita_one.yaml's need_values) and the package each leads to.
NEED_LABELS = {
    "Autistic Spectrum Disorder": "SPP3",
    "Autism": "SPP3",
    "Social, Emotional and Mental Health": "SPP4",
    "Severe Learning Difficulty": "SPP2",
    "Moderate Learning Difficulty": "SPP2",
    "Profound & Multiple Learning Difficulty": "SPP1",
    "Hearing Impairment": "SPP5",
    "Physical Disability": "SPP7",
}
ONSPD_HEADER = (
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,"
    "osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,lsoa11,msoa11,lat,long,lsoa21,msoa21"
)
#: Postcode districts to make postcodes up in (made-up sectors and units within them).
DISTRICTS = {"857": ["LE15", "PE9"]}
#: ONS codes of the LAs the script knows (ONSPD's oslaua); others get a dummy code.
ONS_CODE = {"857": "E06000017"}
N_CHILDREN = 60


# --------------------------------------------------------------------------- inputs


def read_table(path: Path) -> list[dict[str, str]]:
    """A CSV table of the dataset folder as rows of strings."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def gias_rows(folder: Path, la: str, rng: np.random.Generator) -> tuple[list[dict], int]:
    """GIAS rows for the init folder's settings with a URN, a closed school and a bad row.

    Returns the rows as downloaded and the spreadsheet row of the bad one (header = row 1).
    """
    offered: dict[str, list[str]] = {}
    per_setting: dict[str, int] = {}
    for p in read_table(folder / "places.csv"):
        offered.setdefault(p["setting_id"], []).append(p["package_id"])
        per_setting[p["setting_id"]] = per_setting.get(p["setting_id"], 0) + int(p["places"])
    rows = []
    for s in (r for r in read_table(folder / "settings.csv") if r["urn"]):
        kind = s["setting_type"]
        row = dict.fromkeys(GIAS_HEADER, "")
        row.update({
            "URN": s["urn"], "LA (code)": s["la_code"], "LA (name)": "",
            "EstablishmentName": s["name"].replace(" (inclusion base)", "").replace("'", "\u2019"),
            "EstablishmentStatus (code)": "1",
            "EstablishmentStatus (name)": "Open", "Gender (name)": "Mixed",
            "TypeOfResourcedProvision (name)": "Not applicable", "AdmissionsPolicy (name)":
            "Not applicable", "Country (name)": "United Kingdom", "Easting": s["easting"],
            "Northing": s["northing"], "SchoolCapacity": str(int(rng.integers(40, 120))),
        })  # fmt: skip
        if kind in ("mainstream", "inclusion_base"):
            secondary = int(s["age_min"]) >= 11
            row.update({
                "TypeOfEstablishment (name)": "Academy converter",
                "PhaseOfEducation (name)": "Secondary" if secondary else "Primary",
                "StatutoryLowAge": "11" if secondary else "4",
                "StatutoryHighAge": "16" if secondary else "11",
                "SchoolCapacity": str(int(rng.integers(8, 14)) * (100 if secondary else 15)),
                "AdmissionsPolicy (name)": "Non-selective",
            })  # fmt: skip
        else:
            row.update({
                "TypeOfEstablishment (name)": GIAS_TYPE.get(kind, "Community special school"),
                "PhaseOfEducation (name)": "16 plus" if kind == "post16_specialist"
                else "Not applicable",
                "StatutoryLowAge": "16" if kind == "post16_specialist" else "4",
                "StatutoryHighAge": "25" if kind == "post16_specialist" else "19",
            })  # fmt: skip
        if kind != "mainstream":
            for i, pkg in enumerate(sorted(set(offered.get(s["setting_id"], [])) - {"SPP7"})):
                row[f"SEN{i + 1} (name)"] = SEN_BY_PACKAGE[pkg]
        if kind == "inclusion_base":
            rp = int(per_setting.get(s["setting_id"], 0))
            row.update({"TypeOfResourcedProvision (name)": "Resourced provision",
                        "ResourcedProvisionCapacity": str(rp + int(rng.integers(0, 3))),
                        "ResourcedProvisionOnRoll": str(max(rp - 2, 0))})  # fmt: skip
        rows.append(row)
    # a mainstream school of the dataset GIAS now lists as closed (a warning, not an error)
    shut = max(i for i, r in enumerate(rows) if r["AdmissionsPolicy (name)"] == "Non-selective")
    rows[shut].update({
        "EstablishmentStatus (code)": "2", "EstablishmentStatus (name)": "Closed",
        "ReasonEstablishmentClosed (name)": "Academy converter", "CloseDate": "31-08-2025",
    })  # fmt: skip
    # the bad row: a matched mainstream school downloaded without its grid reference
    bad = next(i for i, r in enumerate(rows) if r["AdmissionsPolicy (name)"] == "Non-selective")
    rows[bad] = {**rows[bad], "Easting": "", "Northing": ""}
    # one selective, single-sex school (candidates: policy host_exclusions)
    other = next(i for i, r in enumerate(rows) if i > bad and r["PhaseOfEducation (name)"])
    rows[other].update({"Gender (name)": "Girls", "AdmissionsPolicy (name)": "Selective"})
    return rows, bad + 2


@dataclass
class Export:
    """The made-up export and what the round trip must never print."""

    path: Path
    onspd: Path
    secrets: list[str] = field(default_factory=list)
    bad_rows: dict[int, str] = field(default_factory=dict)


def _born(age: int, rng: np.random.Generator) -> dt.date:
    """A date of birth making a child ``age`` on 31 August 2025."""
    return dt.date(2024 - age, 9, 1) + dt.timedelta(days=int(rng.integers(0, 365)))


def make_export(folder: Path, inputs: Path, la: str, rng: np.random.Generator) -> Export:
    """The ONSPD extract and the Capita-style caseload export (~60 children, 3 bad rows)."""
    centroid: dict[str, dict[str, str]] = lsoa_table().to_dict("index")  # type: ignore[assignment]
    lsoas = sorted({c["lsoa_code"] for c in read_table(folder / "children.csv")} & set(centroid))
    districts = DISTRICTS.get(la, ["ZZ1", "ZZ2"])
    codes: list[str] = []
    while len(codes) < N_CHILDREN:
        d = districts[int(rng.integers(len(districts)))]
        sector = int(rng.integers(1, 10))
        unit = "".join(rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), 2))
        pc = f"{d} {sector}{unit}"
        if pc not in codes:
            codes.append(pc)
    lines = [ONSPD_HEADER]
    oslaua = ONS_CODE.get(la, "E99999999")
    for i, pc in enumerate(codes):
        ls = lsoas[i % len(lsoas)]
        e = float(centroid[ls]["easting"]) + int(rng.integers(-40, 41))
        n = float(centroid[ls]["northing"]) + int(rng.integers(-40, 41))
        lines.append(
            f"{pc[:-3]:<4}{pc[-3:]},{pc.replace(' ', '')},{pc},202001,,E99999999,E99999999,"
            f"{oslaua},{centroid[ls]['ward24_code']},E43000001,0,{e:.0f},{n:.0f},1,E18000002,"
            "E40000010,"
            f"E92000001,E12000004,E01000000,E02000000,52.6,-0.7,{ls},E02000000"
        )
    onspd = inputs / "ONSPD_FEB_2025_extract.csv"
    onspd.write_text("\n".join(lines) + "\n", encoding="utf-8")

    special = {
        s["setting_id"]: s
        for s in read_table(folder / "settings.csv")
        if s["setting_type"] != "mainstream"
    }
    places = read_table(folder / "places.csv")
    by_pkg = {
        p: sorted({r["setting_id"] for r in places if r["package_id"] == p} & set(special))
        for p in SEN_BY_PACKAGE
    }
    labels = list(NEED_LABELS)
    rows = []
    for i in range(N_CHILDREN):
        label = labels[int(rng.integers(len(labels)))]
        pkg = NEED_LABELS[label]
        age = int(rng.integers(5, 16))
        where = [
            sid
            for sid in by_pkg.get(pkg, [])
            if int(special[sid]["age_min"]) <= age <= int(special[sid]["age_max"])
        ]
        current, prefs = "", ["", "", ""]
        if where and rng.random() < 0.4:
            current = special[where[int(rng.integers(len(where)))]]["urn"]
        elif where and rng.random() < 0.5:  # a child to place: the parents' preferences
            pick = [where[int(k)] for k in rng.permutation(len(where))[:2]]
            names = [special[s]["name"] if j == 0 else special[s]["urn"]
                     for j, s in enumerate(pick)]  # fmt: skip
            prefs = [*names, "", "", ""][:3]
        rows.append({
            "UPN": f"{'ABCDEFGHJKLMNPQRTUVWXYZ'[i % 23]}{la}{int(rng.integers(10**8, 10**9)):09d}",
            "Surname": f"Madeup{i}", "Forename": ["Alex", "Sam", "Jo", "Kit"][i % 4],
            "Date of Birth": _born(age, rng).strftime("%d/%m/%Y"), "Primary Need": label,
            "Current Establishment DfE URN": current, "Home Postcode":
            codes[i].lower().replace(" ", "") if i % 9 == 4 else codes[i],
            "Parental Preference 1": prefs[0], "Parental Preference 2": prefs[1],
            "Parental Preference 3": prefs[2],
            "Solo Transport Required": "Y" if rng.random() < 0.1 else "N",
            "Wheelchair User": "Y" if pkg == "SPP7" else "", "Specialist Provision": "Yes",
        })  # fmt: skip
    # the planted mistakes (spreadsheet rows: header = 1)
    bad = {
        7: ("Current Establishment DfE URN", "999999", "a setting not in settings.csv"),
        19: ("Home Postcode", f"{districts[0]} 0ZZ", "a postcode not in the lookup"),
        33: ("Date of Birth", "", "a blank date of birth"),
    }
    for row, (col, value, _) in bad.items():
        rows[row - 2][col] = value
    path = inputs / "capita_caseload.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="cp1252")
    secrets = []
    for r in rows:
        secrets += [r["UPN"], r["Surname"]]
        if r["Date of Birth"]:
            born = dt.datetime.strptime(r["Date of Birth"], "%d/%m/%Y").date()
            secrets += [r["Date of Birth"], born.isoformat()]
    secrets += codes + [c.replace(" ", "") for c in codes] + [bad[19][1]]
    return Export(path, onspd, secrets, {r: w for r, (_, _, w) in bad.items()})


def road_box(folder: Path, margin_m: float = 15_000.0) -> tuple[float, float, float, float]:
    """The box of the folder's in-area settings and candidates, grown and snapped to 5 km."""
    s = pd.read_csv(folder / "settings.csv", dtype=str, keep_default_na=False)
    c = pd.read_csv(folder / "candidates.csv", dtype=str, keep_default_na=False)
    s = s[s["in_area"].str.lower() == "true"]
    e = pd.concat([s["easting"], c["easting"]]).astype(float)
    n = pd.concat([s["northing"], c["northing"]]).astype(float)
    lo = lambda v: float(np.floor((v - margin_m) / 5000) * 5000)  # noqa: E731
    hi = lambda v: float(np.ceil((v + margin_m) / 5000) * 5000)  # noqa: E731
    return lo(e.min()), lo(n.min()), hi(e.max()), hi(n.max())


# --------------------------------------------------------------------------- the run


@dataclass
class Step:
    """One CLI command of the round trip."""

    title: str
    args: list[str]
    expect: int = 0
    code: int = -1
    seconds: float = 0.0
    output: str = ""
    key: list[str] = field(default_factory=list)


def run(step: Step, out: Path) -> Step:
    """Run ``python -m optimiser ARGS`` in ``out`` and record its exit code, output, time."""
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "optimiser", *step.args],
        cwd=out, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    step.seconds = time.perf_counter() - start
    step.code = proc.returncode
    step.output = proc.stdout + proc.stderr
    return step


_BOX = re.compile(r"^[\s\u2500-\u257f]*$")


def key_lines(step: Step) -> list[str]:
    """The lines of a step's output worth quoting (table borders dropped)."""
    lines = [ln.rstrip() for ln in step.output.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _BOX.match(ln)]
    name = step.args[0] if step.args[0] != "import" else " ".join(step.args[:2])
    if name == "allocate":
        end = next((i for i, ln in enumerate(lines) if ln.startswith("Sufficiency")), len(lines))
        return lines[:end]
    if name == "import gias":
        # the changes table is long: keep its totals by field, and every message
        by_field = lines.index("Changed cells by field") if "Changed cells by field" in lines else 0
        out = []
        for i, ln in enumerate(lines):
            if ln.startswith("┃"):
                continue
            if ln.startswith("│"):
                if i > by_field > 0:
                    out.append("  " + ": ".join(c.strip() for c in ln.strip("│┃ ").split("│")))
            else:
                out.append(ln)
        return out[:60]
    if name == "roads":
        keep = [ln for ln in lines if "|" in ln or "wrote" in ln.lower() or "road" in ln.lower()]
        return keep[:40]
    return lines[:60]


def display(args: list[str], out: Path) -> str:
    """The command as typed in ``out`` (paths relative to it)."""
    rel = [
        a if not os.path.isabs(a)
        else os.path.relpath(a, ROOT) if Path(a).is_relative_to(ROOT)
        else os.path.relpath(a, out)
        for a in args
    ]  # fmt: skip
    return "optimiser " + " ".join(rel)


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, run the round trip, write ROUNDTRIP.md; 0 when all went as planned."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="an empty or new folder")
    parser.add_argument("--la", default="857", help="DfE LA code (default 857 Rutland)")
    parser.add_argument("--seed", type=int, default=857)
    a = parser.parse_args(argv)
    out: Path = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        print(f"{out} is not empty: give a new folder", file=sys.stderr)
        return 2
    rng = np.random.default_rng(a.seed)
    inputs, secure, folder = out / "inputs", out / "secure", out / f"la{a.la}"
    inputs.mkdir()
    secure.mkdir()
    key = secure / "la.key"
    key.write_text(rng.bytes(32).hex() + "\n")
    total = time.perf_counter()
    steps: list[Step] = []

    def go(step: Step) -> Step:
        steps.append(run(step, out))
        print(f"[{step.code}] {display(step.args, out)} ({step.seconds:.1f} s)", flush=True)
        return step

    go(Step("init: the open-data baseline", ["init", "--la", a.la, "--out", str(folder)]))
    if steps[-1].code != 0:
        return finish(out, steps, None, total)
    build = time.perf_counter()
    rows, bad_row = gias_rows(folder, a.la, rng)
    raw = write_gias(inputs / GIAS_FILE, rows)
    fixed_rows = [dict(r) for r in rows]
    src = pd.read_csv(folder / "settings.csv", dtype=str, keep_default_na=False)
    at = src.set_index("urn").loc[fixed_rows[bad_row - 2]["URN"]]
    fixed_rows[bad_row - 2].update({"Easting": at["easting"], "Northing": at["northing"]})
    fixed = write_gias(inputs / GIAS_FILE.replace(".csv", "_fixed.csv"), fixed_rows)
    export = make_export(folder, inputs, a.la, rng)
    gpkg = open_roads_gpkg(inputs / "oproad_gb.gpkg", road_box(folder), kink_m=150.0)
    build_s = time.perf_counter() - build
    print(f"inputs written in {build_s:.1f} s", flush=True)

    gias = ["import", "gias"]
    go(Step(f"GIAS dry run, the file as downloaded (row {bad_row} has no Easting)",
            [*gias, str(raw), "--la", a.la, "--into", str(folder), "--dry-run"],
            expect=1))  # fmt: skip
    go(Step(f"GIAS dry run, row {bad_row} fixed",
            [*gias, str(fixed), "--la", a.la, "--into", str(folder), "--dry-run"]))  # fmt: skip
    go(Step("GIAS import", [*gias, str(fixed), "--la", a.la, "--into", str(folder)]))
    go(Step("children from the Capita-style export", [
        "import", "children", str(export.path), "--map", str(MAPPING), "--into", str(folder),
        "--key-file", str(key), "--postcodes", str(export.onspd), "--as-of", AS_OF, "--force",
    ]))  # fmt: skip
    go(Step("roads from the OS Open Roads-layout GeoPackage",
            ["roads", str(gpkg), "--into", str(folder)]))  # fmt: skip
    go(Step("validate", ["validate", str(folder)]))
    go(Step("allocate", ["allocate", str(folder)]))
    meta = {"bad_gias_row": bad_row, "bad_export_rows": export.bad_rows, "inputs_s": build_s}
    (secure / "roundtrip.json").write_text(json.dumps(meta, indent=1))
    return finish(out, steps, export, total, bad_row=bad_row, inputs_s=build_s)


def finish(
    out: Path,
    steps: list[Step],
    export: Export | None,
    total: float,
    *,
    bad_row: int = 0,
    inputs_s: float = 0.0,
) -> int:
    """Write ROUNDTRIP.md; check no personal value reached it; the exit code."""
    lines = [
        "# Import round trip",
        "",
        "Made-up inputs in their sources' real layouts (`scripts/import_roundtrip.py`); every",
        "command run as `python -m optimiser` in this folder. No UPN, name, postcode or date of",
        "birth of the export appears below (checked by the script).",
        "",
        f"Inputs written in {inputs_s:.1f} s.",
        "",
        "| # | step | exit (expected) | seconds |",
        "|---|---|---|---:|",
    ]
    for i, s in enumerate(steps, 1):
        lines.append(f"| {i} | {s.title} | {s.code} ({s.expect}) | {s.seconds:.1f} |")
    lines.append(f"| | total (inputs included) | | {time.perf_counter() - total:.1f} |")
    for i, s in enumerate(steps, 1):
        lines += ["", f"## {i}. {s.title}", "", "```text", f"$ {display(s.args, out)}"]
        lines += [ln.replace(f"{out}/", "").replace(str(out), ".") for ln in key_lines(s)]
        lines += [f"# exit {s.code}, {s.seconds:.1f} s", "```"]
    text = "\n".join(lines) + "\n"
    leaked = []
    if export is not None:
        everything = text + "".join(s.output for s in steps)
        low = everything.lower()
        leaked = [x for x in export.secrets if x and x.lower() in low]
    if leaked:
        (out / "ROUNDTRIP.md").write_text("# Import round trip\n\nREFUSED: personal data leaked\n")
        print(f"FAIL: {len(leaked)} personal value(s) of the export in the output", file=sys.stderr)
        return 1
    (out / "ROUNDTRIP.md").write_text(text, encoding="utf-8")
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    for i, s in enumerate(steps, 1):
        slug = "-".join(a for a in s.args[:2] if not a.startswith("-") and "/" not in a)
        (logs / f"{i:02d}-{slug}.txt").write_text(s.output, encoding="utf-8")
    print(f"wrote {out / 'ROUNDTRIP.md'}")
    ok = export is not None and all(s.code == s.expect for s in steps)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
