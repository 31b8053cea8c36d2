"""Outputs are never overwritten: one check shared by every writer and command."""

from __future__ import annotations

from pathlib import Path


def refuse_existing(*paths: str | Path) -> None:
    """Raise FileExistsError naming every path that already exists (nothing is written)."""
    clash = [str(p) for p in paths if Path(p).exists()]
    if clash:
        verb = "already exists" if len(clash) == 1 else "already exist"
        msg = f"{', '.join(clash)} {verb}; choose another name so nothing is overwritten"
        raise FileExistsError(msg)
