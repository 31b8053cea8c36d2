"""Statistical disclosure control for anything published (members' packs, publish-mode maps).

Rules (``shared/research/ecosystem.md`` §2.1, following DfE/ONS practice for
small-area counts of children):

* a count of 1-7 is suppressed and shown as ``"c"``;
* every other count is rounded to the nearest 5 (0 stays 0; halves round up);
* a derived figure (share, mean, £ per child) is withheld (``"c"``) when the
  count it is based on is 1-7; otherwise it is computed from the *unrounded*
  figures and shown as is. A share is also withheld when its numerator or its
  complement is 1-7 (:func:`publish_share`), so it cannot be multiplied back
  into a small count;
* a change between two published figures is computed from the published
  figures (:func:`publish_change`), never from the exact ones;
* shares are published as whole percentages (:func:`round_share`), £ per
  child to the nearest £10 and £ totals to the nearest £100
  (:func:`round_gbp`).

Tables with totals also need secondary suppression and an audit
(:mod:`optimiser.suppression`, ``docs/disclosure.md``).

Published tables therefore never hold a count in 1-7 and every count is a
multiple of 5. Functions here never modify their input.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import cast

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


def publish_derived(value: float, base: float | Iterable[float]) -> float | str:
    """A derived figure (share, mean, £ per child) as published: withheld when its base is 1-7.

    ``base`` may be several counts (e.g. a share's numerator, denominator and
    complement): the figure is withheld when *any* of them is 1-7, so a share
    cannot be multiplied back into a small count.
    """
    bases = [base] if base is None or not isinstance(base, Iterable) else list(base)
    if any(b is None or is_small(b) for b in bases) or (
        isinstance(value, float) and math.isnan(value)
    ):
        return SUPPRESSED
    return value


def publish_share(numerator: float, denominator: float) -> float | str:
    """A share as published: ``numerator / denominator`` from the unrounded counts.

    Withheld (``"c"``) when the denominator, the numerator or the complement
    (denominator - numerator) is 1-7, and when the denominator is 0.
    """
    if not denominator:
        return SUPPRESSED
    return publish_derived(
        numerator / denominator, (numerator, denominator, denominator - numerator)
    )


def publish_change(after: int | float | str, before: int | float | str) -> int | float | str:
    """The change between two *published* figures: ``after - before``, or "c" if either is.

    Working from published figures means a change never reveals more than the
    two published figures it is computed from.
    """
    if after == SUPPRESSED or before == SUPPRESSED:
        return SUPPRESSED
    return cast(float, after) - cast(float, before)  # neither is "c": both are numbers


def round_share(value: float | str) -> float | str:
    """A share (0-1) as published: rounded to a whole percentage; "c" stays "c"."""
    if value == SUPPRESSED:
        return SUPPRESSED
    number = cast(float, value)
    if math.isnan(number):
        return SUPPRESSED
    return math.floor(number * 100 + 0.5) / 100


def round_gbp(value: float | str, step: int = 100) -> float | str:
    """A money figure as published: rounded to the nearest ``step`` pounds; "c" stays "c"."""
    if value == SUPPRESSED:
        return SUPPRESSED
    number = cast(float, value)
    if math.isnan(number):
        return SUPPRESSED
    return int(math.floor(number / step + 0.5) * step)


def is_publishable_count(value: object) -> bool:
    """True for a value a published count may take: "c", 0 or a multiple of 5 above 7."""
    if value == SUPPRESSED:
        return True
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    number = cast(float, value)  # a Real; numbers.Real declares no comparison with int
    return number == 0 or (number > SMALL_MAX and number % ROUND_TO == 0)


def check_publishable(frame: pd.DataFrame, *, counts: Iterable[str] | None = None) -> None:
    """Raise ValueError unless every count column holds only publishable values.

    ``counts`` defaults to every column named ``*_children`` (the naming rule
    for counts of children in published outputs). A last guard before data
    leaves the working area.
    """
    cols = (
        [c for c in frame.columns if str(c).endswith("_children")]
        if counts is None
        else list(counts)
    )
    for col in cols:
        bad = [v for v in frame[col] if not is_publishable_count(v)]
        if bad:
            msg = (
                f"column {col!r} is not disclosure-controlled: found {len(bad)} value(s) that "
                "are neither 'c', 0 nor a multiple of 5 above 7; pass it through "
                "optimiser.disclosure.publish_table first"
            )
            raise ValueError(msg)


def publish_table(
    frame: pd.DataFrame,
    *,
    counts: Iterable[str],
    derived: Mapping[str, str | tuple[str, ...]] | None = None,
    keep: Iterable[str] = (),
) -> pd.DataFrame:
    """A copy of ``frame`` fit to publish.

    Parameters
    ----------
    counts : columns of counts of children (suppressed and rounded).
    derived : {column: base count column} for shares, means and £ per child;
        the base may be a tuple of count columns (withheld when any is 1-7).
    keep : other public columns kept as they are (names, codes, £ totals over
        more than 7 children must be listed in ``derived`` to be checked).

    Every column not named is dropped, so nothing private reaches a published
    output by accident.
    """
    counts = list(counts)
    derived = dict(derived or {})
    out = frame[list(keep)].copy()
    for col, base in derived.items():
        cols = [base] if isinstance(base, str) else list(base)
        bases = zip(*(frame[b] for b in cols), strict=True)
        out[col] = [publish_derived(v, b) for v, b in zip(frame[col], bases, strict=True)]
    for col in counts:
        out[col] = [publish_count(v) for v in frame[col]]
    return out
