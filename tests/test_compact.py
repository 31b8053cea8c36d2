"""Columns held compactly while the flow solves come back bit for bit (allocation.compact).

Inside :func:`compacted` the frame lacks the columns it packed; on leaving, even on an
exception, every column is back in its place with its dtype and every bit (NaN, −0.0,
values a sample did not see). ``allocate`` on a network large enough to pack gives
exactly the result it gives with nothing packed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.allocation import compact
from optimiser.allocation.compact import compacted


@pytest.fixture(autouse=True)
def _small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compact, "MIN_ROWS", 0)


def _frame(n: int = 50_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    few = rng.choice(np.array([0.0, -0.0, np.nan, 2.5, -7e9]), n)
    pence = np.round(rng.uniform(-500, 9_000, n), 2)
    wide = rng.integers(-(2**40), 2**40, n)
    return pd.DataFrame(
        {
            "small": rng.integers(-128, 128, n),  # int8 range
            "mid": rng.integers(0, 6_500, n),  # int16
            "wide": wide,  # beyond int32: stays int64
            "flag": rng.random(n) < 0.5,
            "few": few,  # codes, with NaN and both zeros
            "pence": pence,  # whole pence
            "km": rng.random(n) * 40,  # continuous: stays
            "text": pd.Series([f"<b>{i}</b>" for i in range(n)], dtype=object),
            "code8": rng.integers(-1, 4, n).astype(np.int8),
        }
    )


def _bits(frame: pd.DataFrame) -> dict[str, tuple[object, object]]:
    out: dict[str, tuple[object, object]] = {}
    for name in frame.columns:
        v = frame[name].to_numpy()
        out[name] = (frame[name].dtype, v.tobytes() if v.dtype != object else tuple(v))
    return out


def test_columns_come_back_in_place_with_every_bit() -> None:
    frame = _frame()
    before, columns, mid = _bits(frame), list(frame.columns), frame["mid"].to_numpy().copy()
    with compacted(frame) as held:
        assert held.names == ["small", "mid", "few", "pence"]
        np.testing.assert_array_equal(held.ints("mid"), mid)
        assert held.ints("mid").dtype == np.int16
        assert held.ints("wide") is not None and held.ints("wide").dtype == np.int64
        with pytest.raises(TypeError, match="held as codes"):
            held.ints("few")
        assert list(frame.columns) == ["wide", "flag", "km", "text", "code8"]
    assert list(frame.columns) == columns
    assert _bits(frame) == before


def test_held_columns_take_fewer_bytes() -> None:
    frame = _frame()
    held = compact._hold(frame)
    want = {"small": np.int8, "mid": np.int16, "few": np.int8, "pence": np.int32}
    assert {h.name: h.data.dtype for h in held} == {k: np.dtype(v) for k, v in want.items()}
    assert sum(h.data.nbytes for h in held) < len(frame) * 8 * 4 / 2


def test_columns_no_form_shrinks_stay_in_place() -> None:
    frame = _frame()[["wide", "flag", "km", "text", "code8"]]
    km = frame["km"].to_numpy()
    with compacted(frame) as held:
        assert held.names == []
        assert list(frame.columns) == ["wide", "flag", "km", "text", "code8"]
        assert np.shares_memory(frame["km"].to_numpy(), km)
        assert held.ints("wide") is frame["wide"].to_numpy() or np.shares_memory(
            held.ints("wide"), frame["wide"].to_numpy()
        )


def test_columns_come_back_after_an_exception() -> None:
    frame = _frame()
    before = _bits(frame)
    with pytest.raises(RuntimeError, match="solver died"), compacted(frame):
        raise RuntimeError("solver died")
    assert _bits(frame) == before


def test_values_the_sample_missed_keep_the_column_whole() -> None:
    """A sample of few values or of whole pence is only a hint: the whole column decides."""
    n = 40_000
    step = max(n // compact.SAMPLE, 1)
    many = np.arange(n, dtype=float) + 0.5  # 40,000 distinct values > MAX_CODES ...
    many[::step] = 1.0  # ... but every sampled one the same
    almost = np.round(np.linspace(0, 100, n), 2)
    almost[1] = 0.1 + 0.2  # 0.30000000000000004: not a whole number of pence
    rare = np.zeros(n)
    rare[7] = 3.25  # a value no sample holds: still given back
    frame = pd.DataFrame({"many": many, "almost": almost, "rare": rare})
    before = _bits(frame)
    with compacted(frame) as held:
        assert held.names == ["rare"]
    assert _bits(frame) == before


def test_short_frames_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compact, "MIN_ROWS", 100_000)
    frame = _frame(n=1_000)
    with compacted(frame) as held:
        assert held.names == []
        assert frame.shape[1] == 9


def test_allocate_packed_is_allocate_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every output identical with the arcs frame packed during the solve and without."""
    ds = optimiser.load_default()
    packed = optimiser.allocate(ds)
    monkeypatch.setattr(compact, "MIN_ROWS", 10**12)
    whole = optimiser.allocate(ds)
    for name in ("placements", "unplaced", "options", "sufficiency", "unplaced_rates"):
        pd.testing.assert_frame_equal(getattr(packed, name), getattr(whole, name), check_exact=True)
    assert packed.objective == whole.objective
    assert packed.kpis == whole.kpis
    assert packed.warnings == whole.warnings


def test_allocate_packs_the_columns_the_solve_does_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    real = compact.compacted

    @contextlib.contextmanager
    def spy(frame: pd.DataFrame) -> Iterator[compact.Held]:
        with real(frame) as held:  # inside the block, as the solve sees the frame
            seen.append(held.names)
            assert all(name not in frame for name in held.names)
            yield held

    from optimiser.allocation import solve

    monkeypatch.setattr(solve, "compacted", spy)
    optimiser.allocate(optimiser.load_default())
    # the network reads c, p (and arc_cost, where −W fits int32 as here) narrowed
    assert seen and {"c", "p", "arc_cost", "s", "duty_term_gbp", "preference_rank"} <= set(seen[0])


def test_heap_is_given_back_after_packing_and_before_unpacking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Freed pages go back to the system on entering (before a fork shares them) and on
    leaving (what the solve freed, before the columns come back); nothing held: no trim."""
    calls: list[int] = []
    monkeypatch.setattr(compact, "trim_heap", lambda: calls.append(len(frame.columns)))
    frame = _frame()
    with compacted(frame):
        assert calls == [5]  # after the held columns left the frame
    assert calls == [5, 5]  # before they came back
    calls.clear()
    frame = frame[["flag", "km"]]
    with compacted(frame):
        pass
    assert calls == []  # packing found nothing: nothing freed, no trim
    monkeypatch.undo()
    compact.trim_heap()  # the real one runs (glibc) or does nothing: no error either way
