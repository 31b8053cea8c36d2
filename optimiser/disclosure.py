"""Statistical disclosure control for anything published (members' packs, publish-mode maps).

Rules (``shared/research/ecosystem.md`` §2.1, following DfE/ONS practice for
small-area counts of children):

* a count of 1-7 is suppressed and shown as ``"c"``;
* every other count is rounded to the nearest 5 (0 stays 0; halves round up);
* a derived figure (share, mean, £ per child) is withheld (``"c"``) when the
  count it is based on is 1-7; otherwise it is computed from the *unrounded*
  figures and shown as is.

Published tables therefore never hold a count in 1-7 and every count is a
multiple of 5. Functions here never modify their input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

SUPPRESSED = "c"
SMALL_MAX = 7
ROUND_TO = 5


def is_small(n: float) -> bool:
    """True for a count that must be suppressed (1-7)."""
    return 0 < n <= SMALL_MAX


def publish_count(n: float) -> int | str:
    """A count as published: 0 → 0, 1-7 → "c", else rounded to the nearest 5."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return SUPPRESSED
    if n < 0:
        msg = f"a count cannot be negative; found {n}"
        raise ValueError(msg)
    if n == 0:
        return 0
    if is_small(n):
        return SUPPRESSED
    return int(math.floor(n / ROUND_TO + 0.5) * ROUND_TO)


def publish_derived(value: float, base: float) -> float | str:
    """A derived figure (share, mean, £ per child) as published: withheld when its base is 1-7."""
    if base is None or is_small(base) or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    return value


def publish_table(frame: pd.DataFrame, *, counts: Iterable[str],
                  derived: Mapping[str, str] | None = None,
                  keep: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of ``frame`` fit to publish.

    Parameters
    ----------
    counts : columns of counts of children (suppressed and rounded).
    derived : {column: base count column} for shares, means and £ per child.
    keep : other public columns kept as they are (names, codes, £ totals over
        more than 7 children must be listed in ``derived`` to be checked).

    Every column not named is dropped, so nothing private reaches a published
    output by accident.
    """
    counts = list(counts)
    derived = dict(derived or {})
    out = frame[list(keep)].copy()
    for col, base in derived.items():
        out[col] = [publish_derived(v, b) for v, b in zip(frame[col], frame[base], strict=True)]
    for col in counts:
        out[col] = [publish_count(v) for v in frame[col]]
    return out
