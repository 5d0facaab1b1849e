"""Ring buffer: chunked appends, zero-copy newest window, readers that fall behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from daq.ring import Column, SampleRing


def make_ring(capacity: int = 100) -> SampleRing:
    return SampleRing(capacity, {"i": Column(np.int64), "v": Column(np.float32, (2,))})


def block(start: int, n: int) -> dict[str, np.ndarray]:
    i = np.arange(start, start + n)
    return {"i": i, "v": np.stack([i, -i], axis=1).astype(np.float32)}


def test_latest_is_a_contiguous_zero_copy_view_across_the_wrap():
    ring = make_ring(100)
    for start in range(0, 1000, 37):
        ring.append(block(start, 37))
    view, end = ring.latest(60)
    assert view["i"].base is not None  # a view into the ring's storage, not a copy
    assert view["i"].flags["C_CONTIGUOUS"]
    assert list(view["i"]) == list(range(end - 60, end))
    assert np.array_equal(view["v"][:, 1], -view["i"])
    assert ring.intact(end, 60)


def test_latest_before_full_and_oversized_request():
    ring = make_ring(100)
    ring.append(block(0, 10))
    view, _ = ring.latest(50)
    assert list(view["i"]) == list(range(10))
    ring.append(block(10, 500))  # bigger than capacity: only the newest 100 are kept
    view, end = ring.latest(1000)
    assert end == 510
    assert list(view["i"]) == list(range(410, 510))


def test_intact_reports_when_a_view_was_overwritten():
    ring = make_ring(100)
    ring.append(block(0, 100))
    view, end = ring.latest(30)
    ring.append(block(100, 70))
    assert ring.intact(end, 30)
    ring.append(block(170, 1))
    assert not ring.intact(end, 30)


def test_reader_reads_everything_once_and_is_told_what_it_missed():
    ring = make_ring(100)
    fast, slow = ring.reader(), ring.reader()
    seen = []
    for start in range(0, 300, 25):
        ring.append(block(start, 25))
        data, missed = fast.read()
        assert missed == 0
        seen += list(data["i"])
    assert seen == list(range(300))
    data, missed = slow.read()
    assert missed == 200
    assert list(data["i"]) == list(range(200, 300))
    assert slow.missed_total == 200


def test_reader_with_max_samples():
    ring = make_ring(100)
    reader = ring.reader()
    ring.append(block(0, 50))
    first, _ = reader.read(max_samples=20)
    second, _ = reader.read()
    assert list(first["i"]) + list(second["i"]) == list(range(50))


def test_mismatched_columns_are_refused():
    ring = make_ring()
    with pytest.raises(ValueError, match="same length"):
        ring.append({"i": np.arange(3), "v": np.zeros((2, 2))})


def test_concurrent_readers_never_see_torn_samples():
    """A producer thread appends while readers check every sample's columns agree."""
    ring = make_ring(512)
    stop = threading.Event()
    errors: list[str] = []

    def produce() -> None:
        start = 0
        while not stop.is_set() and start < 400_000:
            ring.append(block(start, 64))
            start += 64

    def consume() -> None:
        reader = ring.reader()
        last = reader.position - 1
        while not stop.is_set():
            data, missed = reader.read()
            i = data["i"]
            if i.size:
                if not np.array_equal(data["v"][:, 0], i) or not np.array_equal(
                    data["v"][:, 1], -i
                ):
                    errors.append("torn sample")
                if i[0] != last + 1 + missed or np.any(np.diff(i) != 1):
                    errors.append(f"out of order at {i[0]} after {last} (missed {missed})")
                last = int(i[-1])
            view, end = ring.latest(100)
            snap = view["i"].copy()
            if ring.intact(end, 100) and snap.size and np.any(np.diff(snap) != 1):
                errors.append("window not contiguous")

    threads = [threading.Thread(target=produce)] + [
        threading.Thread(target=consume) for _ in range(3)
    ]
    for t in threads:
        t.start()
    threads[0].join(timeout=30)
    stop.set()
    for t in threads[1:]:
        t.join(timeout=5)
    assert not errors, errors[:5]


def test_span_and_at_read_by_global_index_and_refuse_what_is_gone():
    """The analyser's own reads: [g0, g1) clipped to what is kept, and one sample by index."""
    ring = make_ring(100)
    with pytest.raises(IndexError):
        ring.at("i", 0)  # nothing written yet
    for start in range(0, 537, 37):
        ring.append(block(start, 37))
        written = ring.written
        oldest = max(written - 100, 0)
        assert list(ring.span("i", oldest - 50, written + 50)) == list(range(oldest, written))
        assert list(ring.span("i", written - 10, written - 3)) == list(range(written - 10,
                                                                                written - 3))
        for g in (oldest, (oldest + written) // 2, written - 1):
            assert int(ring.at("i", g)) == g
            assert ring.at("v", g)[1] == -g
        for gone in (oldest - 1, written):
            if gone >= 0:
                with pytest.raises(IndexError):
                    ring.at("i", gone)
