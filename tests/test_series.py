"""Tests of daq.series: the one series type."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daq.events import NoteAdded, with_time
from daq.series import PlateSeries, concat_series, glitch_free


def _series(n: int = 100, rate_hz: float = 100.0) -> PlateSeries:
    t = np.arange(n) / rate_hz
    return PlateSeries.from_arrays(
        t,
        np.full(n, 700.0),
        np.column_stack([np.zeros(n), np.linspace(-10, 10, n)]),
        np.full((n, 4), 175.0),
        events=(with_time(NoteAdded(text="a", sample_index=10), t[10]),
                with_time(NoteAdded(text="b", sample_index=60), t[60])),
    )


def test_slices_are_views_with_their_events() -> None:
    s = _series()
    part = s.slice(20, 80)
    assert len(part) == 60
    assert part.t_s.base is s.t_s or np.shares_memory(part.t_s, s.t_s)
    assert [e.text for e in part.events] == ["b"]
    assert [e.text for e in s.between(0.0, 0.5).events] == ["a"]
    assert len(s.between(0.2, 0.3)) == 10
    assert s.slice(-5, 1000).t_s.shape[0] == 100


def test_rate_ignores_gaps_and_rounded_stamps() -> None:
    t = np.round(np.arange(300) / 30.0, 3)  # printed with three decimals
    t[150:] += 5.0  # a reconnect gap
    s = PlateSeries.from_arrays(t, np.ones(300), np.zeros((300, 2)))
    assert s.rate_hz == pytest.approx(30.0, rel=1e-3)
    assert np.isnan(PlateSeries.from_arrays([0.0], [1.0], [[0, 0]]).rate_hz)
    assert s.duration_s == pytest.approx(t[-1])


def test_concat_keeps_order_and_events() -> None:
    s = _series()
    joined = concat_series([s.slice(0, 30), s.slice(30, 100)])
    np.testing.assert_array_equal(joined.t_s, s.t_s)
    assert [e.text for e in joined.events] == ["a", "b"]
    assert len(concat_series([])) == 0


def test_glitch_values_are_found() -> None:
    counts = np.array([[1, 2, 3, 4], [0x7FFFFF, 2, 3, 4], [1, -1, 3, 4], [1, 2, -0x800000, 4]])
    assert glitch_free(counts).tolist() == [True, False, False, False]


def test_from_arrays_shapes() -> None:
    s = PlateSeries.from_arrays([0, 1, 2], [1, 2, 3], [[0, 0], [1, 1], [2, 2]])
    assert s.n_cells == 0
    assert s.valid.all()
    assert s.cop_mm.dtype == np.float64
    assert PlateSeries.empty(8).n_cells == 8


@settings(max_examples=100, deadline=None)
@given(
    rows=st.integers(0, 70_000),
    cells=st.integers(1, 9),
    dtype=st.sampled_from([np.int32, np.int64, np.float64]),
    strided=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_glitch_free_marks_exactly_the_rows_with_a_glitch_value(
    rows: int, cells: int, dtype: type, strided: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.integers(-3, 3, (rows, cells)).astype(np.int64)
    for value in (0x7FFFFF, -1, -0x800000):
        counts[rng.random((rows, cells)) < 0.02] = value
    counts = counts.astype(dtype)
    if strided and cells > 1:
        counts = counts[:, ::2]  # a column subset: not contiguous
    # The definition: no cell of the row at a glitch or saturation value.
    want = ~np.isin(counts, (0x7FFFFF, -1, -0x800000)).any(axis=1)
    np.testing.assert_array_equal(glitch_free(counts), want)
