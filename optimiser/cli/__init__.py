"""Command line: ``optimiser ...``, a thin layer over the public API (:mod:`~.app`)."""

from __future__ import annotations

from optimiser.cli.app import app as app
from optimiser.cli.app import main as main

__all__ = ["app", "main"]
