"""Colour classes of map figures, built from the figures *as shown*.

In publish mode the figures are disclosure-controlled before they are
classed, so no class edge or label can reveal an unrounded count. "c"
(suppressed) and "no figure" get their own colours; ColorBrewer schemes come
from :mod:`branca.colormap`, Fisher-Jenks breaks from :mod:`mapclassify`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.disclosure import SUPPRESSED


@dataclass(frozen=True)
class Classes:
    """Colour classes of a map variable.

    codes : class of each row (-1: "c", suppressed; -2: no figure).
    colours, labels : one per class, lightest / lowest first.
    """

    codes: np.ndarray
    colours: list[str]
    labels: list[str]


SUPPRESSED_COLOUR = "#bdbdbd"
NO_DATA_COLOUR = "#ffffff"


def palette(name: str, k: int) -> list[str]:
    """``k`` hex colours of a ColorBrewer scheme from :mod:`branca.colormap` (e.g. "YlOrRd")."""
    from branca.colormap import linear

    if k <= 0:
        return []
    scheme = getattr(linear, f"{name}_{max(k, 3):02d}")
    picks = {1: [1], 2: [0, 2]}.get(k, list(range(k)))
    return [scheme.rgb_hex_str(scheme.index[i]) for i in picks]


def sequential_classes(
    values: pd.Series, *, k: int = 5, scheme: str = "YlOrRd", fmt: Callable[[float], str] = str
) -> Classes:
    """Classes of the figures *as shown*: Fisher-Jenks (mapclassify), or one per distinct value.

    Classes are built from the shown figures only, so in publish mode no class
    edge can reveal an unrounded count. Labels give the lowest and highest
    figure in each class.
    """
    import mapclassify

    nums, codes = _numeric(values)
    ok = codes == 0
    uniq = np.unique(nums[ok])
    if len(uniq) == 0:
        return Classes(codes, [], [])
    if len(uniq) <= k:
        cls = np.searchsorted(uniq, nums[ok])
    else:
        cls = np.asarray(mapclassify.FisherJenks(nums[ok], k=k).yb)
    used = np.unique(cls)
    cls = np.searchsorted(used, cls)
    codes[ok] = cls
    labels = []
    for c in range(len(used)):
        lo, hi = nums[ok][cls == c].min(), nums[ok][cls == c].max()
        labels.append(fmt(lo) if lo == hi else f"{fmt(lo)} – {fmt(hi)}")
    return Classes(codes, palette(scheme, len(used)), labels)


def change_classes(values: pd.Series, *, fmt: Callable[[float], str] = str) -> Classes:
    """Up to five diverging classes around no change: big fall, fall, none, rise, big rise.

    "Big" is at least the median size of the non-zero changes. Falls are blue
    (good news for INMSS reliance and cost), rises red. Only classes that occur
    are returned; labels give the range of changes in each.
    """
    nums, codes = _numeric(values)
    ok = codes == 0
    v = nums[ok]
    size = np.abs(v[v != 0])
    step = float(np.median(size)) if len(size) else 0.0
    raw = np.select([v <= -step, v < 0, v == 0, v < step], [0, 1, 2, 3], 4)
    raw[v == 0] = 2
    used = np.unique(raw)
    codes[ok] = np.searchsorted(used, raw)
    colours = palette("RdBu", 5)[::-1]
    labels = []
    for c in used:
        lo, hi = v[raw == c].min(), v[raw == c].max()
        word = "no change" if c == 2 else ("fall" if c < 2 else "rise")
        span = fmt(lo) if lo == hi else f"{fmt(lo)} to {fmt(hi)}"
        labels.append(word if c == 2 else f"{word}: {span}")
    return Classes(codes, [colours[c] for c in used], labels)


def _numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (NaN where none) and codes: 0 = a number, -1 = "c", -2 = no figure."""
    vals = list(values)
    codes = np.array(
        [
            -1 if v == SUPPRESSED else (-2 if is_missing(v) or isinstance(v, str) else 0)
            for v in vals
        ],
        dtype=int,
    )
    nums = np.array([float(v) if c == 0 else np.nan for v, c in zip(vals, codes, strict=True)])
    return nums, codes


def is_missing(value: object) -> bool:
    """True when there is no figure: None or NaN."""
    return value is None or (isinstance(value, float) and np.isnan(value))
