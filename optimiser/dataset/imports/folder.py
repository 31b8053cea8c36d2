"""Updating a dataset folder in place: read its tables as text, check, back up, replace.

An importer reads the tables it changes as text (:func:`read_table_text`), so every cell it
does not change is written back as it was; :func:`check_updated` loads a copy of the folder
with the new tables and raises when it would not validate (nothing is written then);
:func:`replace_tables` copies the old files into a new ``backups/<tag>-NNN/`` folder first
and then replaces each file by a rename, so nothing is ever lost or half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from optimiser._errors import DataNotFoundError, DataValidationError
from optimiser._outputs import atomic_output, atomic_outputs, output_error
from optimiser.dataset.load import load_dataset
from optimiser.dataset.validate import DataWarning
from optimiser.problems import Problem, raise_problems

__all__ = [
    "BACKUPS",
    "check_folder",
    "check_updated",
    "problems_or_none",
    "read_table_text",
    "replace_tables",
    "table_text",
]

#: Folder (inside the dataset folder) holding the files each import replaced.
BACKUPS = "backups"


def check_folder(folder: str | Path) -> Path:
    """``folder`` as a Path when it is a dataset folder (settings.csv in it), else an error."""
    path = Path(folder)
    if not path.is_dir() or not (path / "settings.csv").is_file():
        what = "a file" if path.is_file() else "not a dataset folder" if path.exists() else "absent"
        msg = (
            f"--into {path}: {what}; give a dataset folder holding settings.csv "
            "(one `optimiser init --la CODE --out DIR` writes)"
        )
        raise DataNotFoundError(msg)
    return path


def read_table_text(path: Path) -> pd.DataFrame:
    """A dataset CSV as text cells exactly as written (blank = ``""``)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def table_text(frame: pd.DataFrame) -> str:
    """CSV text of a text frame: UTF-8, ``\\n`` line ends, no index (as the dataset writes)."""
    return frame.to_csv(index=False, lineterminator="\n")


def check_updated(folder: Path, texts: dict[str, str], *, source: str) -> None:
    """Load a copy of ``folder`` with ``texts`` (file name -> new content) and validate it.

    Raises
    ------
    DataValidationError
        listing every error the updated folder would have; ``source`` names the import in
        the message. The folder itself is not touched.
    """
    with tempfile.TemporaryDirectory(prefix=".check-") as tmp:
        copy = Path(tmp) / folder.name
        copy.mkdir()
        for item in folder.iterdir():
            if item.is_file() and item.name not in texts:
                _link_or_copy(item.resolve(), copy / item.name)
        for name, text in texts.items():
            (copy / name).write_text(text, encoding="utf-8")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                load_dataset(copy)
        except DataValidationError as exc:
            msg = (
                f"after the {source} update the folder would not validate, so nothing was "
                f"written:\n{exc}"
            )
            raise DataValidationError(msg, exc.problems) from None


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a symbolic link to ``src`` (a road graph may be large), else a copy."""
    try:
        dst.symlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


def _backup_dir(folder: Path, tag: str) -> Path:
    root = folder / BACKUPS
    n = 1
    while (root / f"{tag}-{n:03d}").exists():
        n += 1
    return root / f"{tag}-{n:03d}"


def replace_tables(
    folder: Path, texts: dict[str, str], *, tag: str
) -> tuple[list[str], Path | None]:
    """Replace the files named in ``texts`` inside ``folder``, keeping a backup of each.

    The old files are first copied into a new folder ``folder/backups/<tag>-NNN/``
    (written atomically, never over an existing file); each new file is then written to a
    temporary file and renamed over the old one. Files whose text is unchanged are left
    alone. Returns the names written and the backup folder (None when no file was replaced).
    """
    changed = {
        name: text
        for name, text in texts.items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    }
    if not changed:
        return [], None
    backup = _backup_dir(folder, tag)
    olds = [name for name in changed if (folder / name).is_file()]
    with atomic_outputs(*(backup / name for name in olds)) as temps:
        for name, tmp in zip(olds, temps, strict=True):
            shutil.copyfile(folder / name, tmp)
    for name, text in changed.items():
        final = folder / name
        staged = folder / f".{name}.{tag}-new-{os.getpid()}"
        with atomic_output(staged) as tmp:
            tmp.write_text(text, encoding="utf-8")
        try:
            os.replace(staged, final)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise output_error(final, exc) from exc
    return list(changed), backup if olds else None


def problems_or_none(problems: list[Problem]) -> None:
    """Raise one DataValidationError when ``problems`` hold an error (warnings pass)."""
    if any(p.severity == "error" for p in problems):
        raise_problems(problems)
