"""A plain `pip install .` ships the embedded Trafford data and the national open data.

The wheel is built from a copy of the checkout (so no build/ or *.egg-info lands in the
source tree), installed with ``pip install --target``, and imported from a subprocess whose
working directory is outside the checkout, so only the installed package can be found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SKIP_DIRS = (
    ".git",
    "build",
    "dist",
    "tests",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".venv",
    "node_modules",
    "*.egg-info",
    ".hypothesis",
)

_PROBE = """
import json, optimiser
from optimiser.dataset.paths import data_dir
ds = optimiser.load_default()
from optimiser.dataset import sen2_placements
sen2 = int(sen2_placements("358").loc[202425, "specialist"])
camden = optimiser.load_dataset(optimiser.init_la("202", out="camden_init"))
print(json.dumps({"module": optimiser.__file__, "data": str(data_dir()),
                  "sen2": sen2, "camden": len(camden.children),
                  "children": len(ds.children), "settings": len(ds.settings),
                  "places": len(ds.places), "packages": len(ds.packages)}))
"""


def _pip(*args: str, cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_wheel_ships_the_default_data(tmp_path, default_ds):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*_SKIP_DIRS))
    _pip("wheel", ".", "--no-deps", "-w", str(tmp_path / "wheels"), "-q", cwd=src)
    wheels = list((tmp_path / "wheels").glob("optimiser-*.whl"))
    assert len(wheels) == 1, wheels
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheels[0]), "-q", cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])

    assert Path(got["module"]).resolve().is_relative_to(site.resolve()), got["module"]
    assert Path(got["data"]).resolve().is_relative_to(site.resolve()), got["data"]
    assert (got["children"], got["settings"], got["places"], got["packages"]) == (
        len(default_ds.children),
        len(default_ds.settings),
        len(default_ds.places),
        len(default_ds.packages),
    )
    assert got["children"] > 0 and got["settings"] > 0
    # the national open data ships too: init works from the installed package alone
    assert got["sen2"] == 1164 and got["camden"] > 0
