"""Outputs: checked before any work, written atomically, never overwritten, inert in CSV.

Every file the tool writes goes through this module (DESIGN.md §8, "Atomic outputs"):

* :func:`check_outputs` runs before any work: it refuses a path that exists
  (:class:`~optimiser._errors.OutputExistsError`, a FileExistsError) and a path whose
  folder cannot be written (:class:`~optimiser._errors.OutputError`), naming the path
  and the fix. Missing folders are created when the file is written, as before, so the
  check looks at the nearest folder that exists.
* :func:`atomic_outputs` (and :func:`write_text_output`, :func:`write_csv_output`)
  lets a writer write to temporary files in the same folders, fsyncs them and then
  publishes each one exclusively: ``os.link(tmp, final)`` fails when ``final`` exists,
  so of two runs writing the same path exactly one succeeds (where hard links are not
  supported the file is created with ``O_CREAT | O_EXCL`` and copied in). The
  temporary files are removed on any error or KeyboardInterrupt, so an interrupted run
  leaves nothing behind and a rerun succeeds. OS errors (read-only folder, disk full)
  become an :class:`~optimiser._errors.OutputError` naming the path and the fix.
* :func:`inert_frame` neutralises text cells a spreadsheet would run as a formula
  (OWASP's rule: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'``); numeric columns are left as numbers.
"""

from __future__ import annotations

import csv
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from optimiser._errors import OptimiserError, OutputError, OutputExistsError

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.EOPNOTSUPP}
_FIXES = {
    errno.ENOSPC: "free some disk space or choose a folder on another disk",
    errno.EDQUOT: "free some of your disk quota or choose another folder",
    errno.EACCES: "choose a folder you can write to (or ask for write access)",
    errno.EPERM: "choose a folder you can write to (or ask for write access)",
    errno.EROFS: "the disk is read-only; choose a folder on a writable disk",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
    errno.ENAMETOOLONG: "choose a shorter name",
}


#: xlsxwriter options under which every string stays a string: never a formula, URL or number
#: (user-supplied names such as "=HYPERLINK(...)" stay inert; DESIGN §8).
XLSX_TEXT_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def refuse_existing(*paths: str | Path) -> None:
    """Raise OutputExistsError (a FileExistsError) naming every path that already exists."""
    clash = [str(p) for p in paths if Path(p).exists()]
    if clash:
        verb = "already exists" if len(clash) == 1 else "already exist"
        msg = f"{', '.join(clash)} {verb}; choose another name so nothing is overwritten"
        raise OutputExistsError(msg)


def check_outputs(*paths: str | Path) -> None:
    """Check, before any work, that every path can be written as a new file.

    Raises OutputExistsError when a path exists (nothing is overwritten) and
    OutputError when its folder is a file, or exists but is not writable; a folder
    that does not exist yet is created on writing, so its nearest existing parent
    must be a writable folder. The same path given twice is refused too.
    """
    refuse_existing(*paths)
    seen: set[Path] = set()
    for p in map(Path, paths):
        full = Path(os.path.abspath(p))
        if full in seen:
            msg = f"{p} is given for two outputs; give each output its own file"
            raise OutputError(msg)
        seen.add(full)
        _check_folder(p, full.parent)


def _check_folder(path: Path, folder: Path) -> None:
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        msg = (
            f"cannot write {path}: {folder} is a file, not a folder; "
            "choose an output path inside a folder"
        )
        raise OutputError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = (
            f"cannot write {path}: the folder {folder} is not writable; "
            "choose a folder you can write to (or ask for write access)"
        )
        raise OutputError(msg)


def output_error(path: str | Path, exc: OSError) -> OutputError:
    """An OutputError for ``exc`` raised while writing ``path``: what went wrong and the fix."""
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, FileExistsError):
        msg = (
            f"{path} already exists (another run wrote it while this one was working); "
            "choose another name so nothing is overwritten"
        )
        return OutputExistsError(msg)
    what = exc.strerror or str(exc) or type(exc).__name__
    fix = _FIXES.get(exc.errno or 0, "check the folder and the free disk space, then rerun")
    msg = f"cannot write {path}: {what}; {fix}. Nothing was written"
    return OutputError(msg)


def _temporary(path: Path) -> Path:
    """A fresh hidden name in ``path``'s folder, keeping its suffix for writers that look."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.stem}.tmp-{token}{path.suffix}")


@contextmanager
def atomic_outputs(*paths: str | Path) -> Iterator[list[Path]]:
    """Yield temporary paths, one for each of ``paths``; publish them all when the block ends.

    The block writes each temporary file (which it may also leave unwritten for an
    optional output: an unwritten one is not published). On a clean exit every file
    is fsynced and published exclusively (never over an existing file); if publishing
    one fails, the ones already published by this call are removed again. On any
    error or KeyboardInterrupt every temporary file is removed. OS errors are raised
    as OutputError naming the path.
    """
    finals = [Path(p) for p in paths]
    check_outputs(*finals)
    temps = [_temporary(p) for p in finals]
    published: list[Path] = []
    current = finals[0] if finals else Path()
    try:
        for final in finals:
            current = final
            final.parent.mkdir(parents=True, exist_ok=True)
        current = finals[0] if finals else Path()
        yield temps
        for tmp, final in zip(temps, finals, strict=True):
            current = final
            if tmp.exists():
                _fsync(tmp)
                _publish(tmp, final)
                published.append(final)
    except OptimiserError:
        _undo(published)
        raise
    except OSError as exc:
        _undo(published)
        raise output_error(current, exc) from exc
    except BaseException:
        _undo(published)
        raise
    finally:
        for tmp in temps:
            _remove(tmp)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """:func:`atomic_outputs` for one file: yield its temporary path."""
    with atomic_outputs(path) as (tmp,):
        yield tmp


def write_text_output(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to a new file at ``path`` atomically; never overwrites."""
    with atomic_output(path) as tmp:
        _write_bytes(tmp, text.encode(encoding))
    return Path(path)


def write_csv_output(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as a new CSV at ``path`` (no index, ``\\n`` lines), inert and atomic.

    A table with a carriage return inside a text cell is written with every text cell
    quoted (the csv module quotes only for the line terminator ``\\n``, so a bare ``\\r``
    would split the row in a spreadsheet); other tables are written as before.
    """
    inert = inert_frame(frame)
    if _has_carriage_return(inert):
        text = inert.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    else:
        text = inert.to_csv(index=False, lineterminator="\n")
    return write_text_output(path, text)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    cells = (
        v
        for col in range(frame.shape[1])
        if not pd.api.types.is_numeric_dtype(frame.iloc[:, col])
        for v in frame.iloc[:, col]
    )
    return any(isinstance(v, str) and "\r" in v for v in (*frame.columns, *cells))


def _write_bytes(path: Path, data: bytes) -> None:
    """The low-level write (tests replace it to simulate a full disk or an interrupt)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path) -> None:
    """Make ``tmp``'s content appear at ``final``; FileExistsError if ``final`` exists."""
    try:
        os.link(tmp, final)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # no hard links here
    try:
        with os.fdopen(fd, "wb") as dst, tmp.open("rb") as src:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        _remove(final)
        raise


def _undo(published: list[Path]) -> None:
    for final in published:
        _remove(final)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def inert_text(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot become formulas (numeric columns untouched).

    Only object and string columns are changed; numbers (including negative ones) in
    numeric columns stay numbers.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[col] = series.map(inert_text)
    out.columns = pd.Index([inert_text(c) for c in out.columns])
    return out
