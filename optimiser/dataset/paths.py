"""Where the embedded data lives: a checkout's ``data/`` or the installed ``optimiser/_data``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from optimiser._errors import DataNotFoundError

DEFAULT_AREA = "trafford"


def data_dir() -> Path:
    """Folder of the embedded data (source checkout or installed package)."""
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / DEFAULT_AREA / "settings.csv").exists():
        return checkout
    installed = Path(str(resources.files("optimiser") / "_data"))
    if (installed / DEFAULT_AREA / "settings.csv").exists():
        return installed
    msg = (
        "the embedded data folder was not found; reinstall optimiser with "
        "`pip install .` from a full clone (data/ must be present)"
    )
    raise DataNotFoundError(msg)


def default_path(area: str = DEFAULT_AREA) -> Path:
    """Dataset folder of an embedded area."""
    return data_dir() / area
