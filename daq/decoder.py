"""Streaming decoder: serial bytes in arbitrary chunks -> sample blocks, INFO and LOG.

Two vectorised paths, both giving exactly what a byte-by-byte receiver would:

* the steady state: the buffer starts at a frame and holds back-to-back SAMPLE frames of the
  known length. They are viewed in place as a structured array, headers compared as one u32
  each and CRCs checked in a few numpy calls; the run ends at the first frame that fails.
* everything else (start-up, INFO/LOG, garbage, corruption): find every SYNC pair, check
  every candidate's CRC at once, keep the frames a sequential receiver would keep, and
  slice the fields out.

Python loops run only over INFO/LOG frames, over CRCs of a few frames (where
binascii beats numpy's call overhead), and where two CRC-valid candidates overlap.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

import numpy as np

from daq.frames import (
    CRC_BYTES,
    HEADER_BYTES,
    KNOWN_TYPES,
    MAX_CHANNELS,
    SAMPLE_FIXED_BYTES,
    SYNC0,
    SYNC1,
    TYPE_INFO,
    TYPE_LOG,
    TYPE_SAMPLE,
    crc16_rows,
    device_text,
    parse_info,
)
from daq.samples import SampleBlock

TEXT_FALLBACK_BYTES = 256
_VALID_SAMPLE_LEN = np.zeros(256, dtype=bool)
_VALID_SAMPLE_LEN[[SAMPLE_FIXED_BYTES + 4 * n for n in range(1, MAX_CHANNELS + 1)]] = True
_KNOWN_TYPE = np.zeros(256, dtype=bool)
_KNOWN_TYPE[list(KNOWN_TYPES)] = True
_TEXT_SPLIT = re.compile(r"[,\t ]+")
# A text-mode line longer than this is not one an HX711 sketch prints.
_MAX_TEXT_LINE = 200
# Counts are 24-bit readings; t_ms a millisecond clock. Beyond these a line is junk.
_COUNT_LIMIT = 1 << 31
_T_MS_LIMIT = 1 << 52


@dataclass
class DecoderStats:
    """Running totals since the decoder was made."""

    frames: int = 0
    samples: int = 0
    crc_errors: int = 0
    bad_len: int = 0
    skipped_bytes: int = 0
    dropped: int = 0
    duplicates: int = 0
    wrong_channels: int = 0
    bad_lines: int = 0


@dataclass
class Decoded:
    """What one :meth:`FrameDecoder.feed` call produced."""

    samples: SampleBlock
    infos: list[dict[str, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    # CRC-valid SAMPLE frames with another channel count than the stream's: count by n.
    other_channels: dict[int, int] = field(default_factory=dict)


# Up to this many frames per read, plain Python (binascii.crc_hqx, int arithmetic) beats
# numpy's per-call overhead for the CRC check and the seq/t_us unwrap.
_SMALL_READ_FRAMES = 8


def _sample_dtype(n_channels: int) -> np.dtype:
    return np.dtype(
        [("seq", "<u2"), ("t_us", "<u4"), ("stale", "u1"), ("counts", "<i4", (n_channels,))]
    )


def _frame_dtype(n_channels: int) -> np.dtype:
    """A whole SAMPLE frame as one record: SYNC, TYPE and LEN read as one little-endian u32."""
    return np.dtype(
        [
            ("hdr", "<u4"),
            ("seq", "<u2"),
            ("t_us", "<u4"),
            ("stale", "u1"),
            ("counts", "<i4", (n_channels,)),
            ("crc", "<u2"),
        ]
    )


class FrameDecoder:
    """Decode PROTOCOL.md v1 from a byte stream split anywhere.

    Feed it whatever ``read()`` returned; it keeps the tail of an unfinished frame for the
    next call. seq and t_us are unwrapped into monotonic int64 counters, gaps in seq are
    counted as dropped samples. If the first 256 bytes hold no valid frame it falls back to
    the plain-text lines of common HX711 sketches and says so in :attr:`fallback_message`.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self.n_channels: int | None = None
        self.text_mode = False
        self.fallback_message: str | None = None
        self._buf = b""
        self._seen_frame = False
        self._run_dtype: np.dtype | None = None
        self._run_header = b""
        self._run_header_u32 = 0
        self._detect_bytes = b""
        self._last_seq16: int | None = None
        self._last_seq = -1
        self._last_t32: int | None = None
        self._last_t = 0
        self._text_seq = 0

    def reset_sequence(self) -> None:
        """Forget seq/t_us history, e.g. after the plate rebooted on a reconnect."""
        self._last_seq16 = None
        self._last_t32 = None
        self._buf = b""

    # -- public -------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> Decoded:
        """Decode ``chunk`` together with what was left from the previous call."""
        if self.text_mode:
            return self._feed_text(chunk)
        if not self._seen_frame:
            self._detect_bytes += chunk
        out, frames_found = self._feed_binary(chunk)
        if frames_found:
            self._seen_frame = True
            self._detect_bytes = b""
        elif not self._seen_frame and len(self._detect_bytes) >= TEXT_FALLBACK_BYTES:
            self.text_mode = True
            self.fallback_message = (
                f"no valid frame in the first {TEXT_FALLBACK_BYTES} bytes: reading plain-text "
                "lines (c0,c1,c2,c3 or t_ms,c0,c1,c2,c3) without seq or stale flags"
            )
            # The binary pass counted these as skipped; the text pass re-reads them.
            self.stats.skipped_bytes = 0
            self.stats.crc_errors = 0
            self.stats.bad_len = 0
            detect, self._detect_bytes, self._buf = self._detect_bytes, b"", b""
            return self._feed_text(detect)
        return out

    # -- binary -------------------------------------------------------------------------
    def _feed_binary(self, chunk: bytes) -> tuple[Decoded, int]:
        buf = self._buf + chunk if self._buf else bytes(chunk)
        run, used = self._sample_run(buf)
        if used == len(buf):
            self._buf = b""
            return Decoded(run), len(run)
        rest = buf[used:] if used else buf
        if self._run_dtype is not None and len(rest) < self._run_dtype.itemsize and (
            self._run_header.startswith(rest[:4])
        ):
            # The start of the next sample frame: a sequential receiver waits for the rest.
            self._buf = rest
            return Decoded(run), len(run)
        out, found = self._feed_general(rest)
        if used:
            out.samples = SampleBlock.concat([run, out.samples]) if len(out.samples) else run
        return out, found + len(run)

    def _sample_run(self, buf: bytes) -> tuple[SampleBlock, int]:
        """Back-to-back valid SAMPLE frames from the start of ``buf``: (samples, bytes used)."""
        dtype = self._run_dtype
        if dtype is None or len(buf) < dtype.itemsize or buf[0] != SYNC0:
            return SampleBlock.empty(self.n_channels or 4), 0
        size = dtype.itemsize
        n = len(buf) // size
        rec = np.frombuffer(buf, dtype=dtype, count=n)
        ok = rec["hdr"] == self._run_header_u32
        if n <= _SMALL_READ_FRAMES:
            crc = [
                binascii.crc_hqx(buf[i * size + 2 : (i + 1) * size - 2], 0xFFFF)
                for i in range(n)
            ]
            ok &= np.array(crc, dtype=np.uint16) == rec["crc"]
        else:
            rows = np.frombuffer(buf, dtype=np.uint8, count=n * size).reshape(n, size)
            ok &= crc16_rows(rows[:, 2 : size - 2]) == rec["crc"]
        if not ok.all():
            n = int(np.argmin(ok))
            rec = rec[:n]
        if n == 0:
            return SampleBlock.empty(self.n_channels or 4), 0
        self.stats.frames += n
        return self._block(rec), n * size

    def _feed_general(self, buf: bytes) -> tuple[Decoded, int]:
        a = np.frombuffer(buf, dtype=np.uint8)
        n = a.shape[0]
        if n < 2:
            self._buf = buf
            return Decoded(SampleBlock.empty(self.n_channels or 4)), 0

        cand = np.flatnonzero((a[:-1] == SYNC0) & (a[1:] == SYNC1))
        # A trailing SYNC0 may be the first half of a SYNC pair still on its way.
        trailing_sync0 = a[-1] == SYNC0

        has_hdr = cand + HEADER_BYTES <= n
        typ = np.zeros(cand.shape[0], dtype=np.uint8)
        ln = np.zeros(cand.shape[0], dtype=np.int64)
        typ[has_hdr] = a[cand[has_hdr] + 2]
        ln[has_hdr] = a[cand[has_hdr] + 3]
        end = cand + HEADER_BYTES + ln + CRC_BYTES
        plausible = has_hdr & _KNOWN_TYPE[typ] & ((typ != TYPE_SAMPLE) | _VALID_SAMPLE_LEN[ln])
        bad_len = has_hdr & (typ == TYPE_SAMPLE) & ~_VALID_SAMPLE_LEN[ln]
        pending = ~has_hdr | (plausible & (end > n))
        checkable = plausible & (end <= n)

        valid = np.zeros(cand.shape[0], dtype=bool)
        for length in np.unique(ln[checkable]):
            sel = np.flatnonzero(checkable & (ln == length))
            starts = cand[sel]
            cols = np.arange(2, HEADER_BYTES + int(length))
            rows = a[starts[:, None] + cols]
            crc_rx = a[starts + HEADER_BYTES + length].astype(np.uint16) | (
                a[starts + HEADER_BYTES + length + 1].astype(np.uint16) << 8
            )
            valid[sel] = crc16_rows(rows) == crc_rx

        v_idx = np.flatnonzero(valid)
        v_start, v_end = cand[v_idx], end[v_idx]
        if v_idx.size > 1 and np.any(v_start[1:] < v_end[:-1]):
            accepted = self._greedy_accept(v_start, v_end)
            v_idx, v_start, v_end = v_idx[accepted], v_start[accepted], v_end[accepted]

        # The first unfinished candidate not inside an accepted frame stops this pass:
        # a byte-by-byte receiver would still be waiting on it.
        p_pos = cand[pending]
        if trailing_sync0:
            p_pos = np.append(p_pos, n - 1)
        stop = n
        if p_pos.size:
            if v_start.size:
                j = np.searchsorted(v_start, p_pos, side="right") - 1
                covered = (j >= 0) & (p_pos < v_end[np.maximum(j, 0)])
                p_pos = p_pos[~covered]
            if p_pos.size:
                stop = int(p_pos[0])
        keep = v_start < stop
        v_idx, v_start, v_end = v_idx[keep], v_start[keep], v_end[keep]

        # Count failures only for candidates a sequential receiver would have tried.
        decided = cand < stop
        j = np.searchsorted(v_start, cand, side="right") - 1
        inside = (
            (j >= 0) & (cand > v_start[np.maximum(j, 0)]) & (cand < v_end[np.maximum(j, 0)])
            if v_start.size
            else np.zeros(cand.shape[0], dtype=bool)
        )
        tried = decided & ~inside
        self.stats.crc_errors += int(np.count_nonzero(tried & checkable & ~valid))
        self.stats.bad_len += int(np.count_nonzero(tried & bad_len))
        frame_bytes = int(np.sum(v_end - v_start))
        self.stats.skipped_bytes += stop - frame_bytes
        self.stats.frames += int(v_idx.size)
        self._buf = buf[stop:]

        out = Decoded(SampleBlock.empty(self.n_channels or 4))
        if v_idx.size == 0:
            return out, 0
        v_typ = typ[v_idx]
        s_sel = v_typ == TYPE_SAMPLE
        if s_sel.any():
            out.samples = self._samples_from(
                a, v_start[s_sel], ln[v_idx][s_sel], out.other_channels
            )
        for k in np.flatnonzero(~s_sel):
            start, length = int(v_start[k]), int(ln[v_idx[k]])
            text = device_text(buf[start + HEADER_BYTES : start + HEADER_BYTES + length])
            if v_typ[k] == TYPE_INFO:
                out.infos.append(parse_info(text))
            elif v_typ[k] == TYPE_LOG:
                out.logs.append(text)
        return out, int(v_idx.size)

    @staticmethod
    def _greedy_accept(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which of several CRC-valid, overlapping candidates a sequential receiver keeps."""
        keep = np.zeros(starts.shape[0], dtype=bool)
        pos = -1
        for i in range(starts.shape[0]):
            if starts[i] >= pos:
                keep[i] = True
                pos = ends[i]
        return keep

    def _samples_from(
        self, a: np.ndarray, starts: np.ndarray, lens: np.ndarray, other: dict[int, int]
    ) -> SampleBlock:
        if self.n_channels is None:
            self._set_channels(int((lens[0] - SAMPLE_FIXED_BYTES) // 4))
        assert self.n_channels is not None
        want = SAMPLE_FIXED_BYTES + 4 * self.n_channels
        same = lens == want
        if not same.all():
            # The stream's channel count is fixed by its first frame (the ring and the file
            # are shaped by it); frames of another count are counted and reported, not kept.
            wrong = lens[~same]
            self.stats.wrong_channels += int(wrong.shape[0])
            for length, count in zip(*np.unique(wrong, return_counts=True), strict=True):
                n = int((length - SAMPLE_FIXED_BYTES) // 4)
                other[n] = other.get(n, 0) + int(count)
            starts = starts[same]
            if starts.shape[0] == 0:
                return SampleBlock.empty(self.n_channels)
        payload = a[starts[:, None] + np.arange(HEADER_BYTES, HEADER_BYTES + want)]
        rec = np.ascontiguousarray(payload).view(_sample_dtype(self.n_channels)).reshape(-1)
        return self._block(rec)

    def _set_channels(self, n_channels: int) -> None:
        self.n_channels = n_channels
        self._run_dtype = _frame_dtype(n_channels)
        self._run_header = bytes((SYNC0, SYNC1, TYPE_SAMPLE, SAMPLE_FIXED_BYTES + 4 * n_channels))
        self._run_header_u32 = int.from_bytes(self._run_header, "little")

    def _block(self, rec: np.ndarray) -> SampleBlock:
        """Samples from records with seq, t_us, stale and counts fields (copied out)."""
        seq = self._unwrap_seq(rec["seq"].astype(np.int64))
        t_us = self._unwrap_t(rec["t_us"].astype(np.int64))
        self.stats.samples += int(seq.shape[0])
        return SampleBlock(
            seq=seq, t_us=t_us, stale=rec["stale"].copy(), counts=rec["counts"].copy()
        )

    def _unwrap_seq(self, seq16: np.ndarray) -> np.ndarray:
        first = self._last_seq16 is None
        seq, steps = _unwrap(seq16, self._last_seq16, self._last_seq, 1 << 16)
        if first:
            steps = steps[1:]  # the first sample ever has no predecessor to gap from
        if steps.shape[0] and (steps.min() != 1 or steps.max() != 1):
            self.stats.dropped += int(np.sum(np.maximum(steps - 1, 0)))
            self.stats.duplicates += int(np.count_nonzero(steps == 0))
        self._last_seq16, self._last_seq = int(seq16[-1]), int(seq[-1])
        return seq

    def _unwrap_t(self, t32: np.ndarray) -> np.ndarray:
        t, _ = _unwrap(t32, self._last_t32, self._last_t, 1 << 32)
        self._last_t32, self._last_t = int(t32[-1]), int(t[-1])
        return t

    # -- plain text -----------------------------------------------------------------------
    def _feed_text(self, chunk: bytes) -> Decoded:
        buf = self._buf + chunk
        *lines, self._buf = buf.split(b"\n")
        if len(self._buf) > _MAX_TEXT_LINE:
            # A "line" that never ends is junk: drop it now rather than hold it in memory.
            self.stats.bad_lines += 1
            self.stats.skipped_bytes += len(self._buf)
            self._buf = b""
        t_us: list[int] = []
        rows: list[list[int]] = []
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            values: list[int] = []
            if len(line) <= _MAX_TEXT_LINE:
                try:
                    values = [int(v) for v in _TEXT_SPLIT.split(line.decode("ascii"))]
                except (UnicodeDecodeError, ValueError):
                    values = []
            counts_part = values[-4:]
            if any(abs(v) >= _COUNT_LIMIT for v in counts_part) or (
                len(values) == 5 and not 0 <= values[0] < _T_MS_LIMIT
            ):
                values = []  # a number no HX711 sketch prints: a rejected line, not a crash
            if len(values) == 4:
                t_us.append(-1)
                rows.append(values)
            elif len(values) == 5:
                t_us.append(values[0] * 1000)
                rows.append(values[1:])
            else:
                self.stats.bad_lines += 1
                self.stats.skipped_bytes += len(raw) + 1
        if not rows:
            return Decoded(SampleBlock.empty(4))
        self.n_channels = 4
        count = len(rows)
        seq = np.arange(self._text_seq, self._text_seq + count, dtype=np.int64)
        self._text_seq += count
        self.stats.samples += count
        counts = np.array(rows, dtype=np.int64)
        return Decoded(
            SampleBlock(
                seq=seq,
                t_us=np.array(t_us, dtype=np.int64),
                stale=np.zeros(count, dtype=np.uint8),
                counts=counts.astype(np.int32),
            )
        )


def _unwrap(
    raw: np.ndarray, last_raw: int | None, last_value: int, modulus: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrap a counter that wraps at ``modulus``, continuing from the previous block.

    Returns the monotonic values and the step from each sample's predecessor (int64).
    """
    prev = int(raw[0]) if last_raw is None else last_raw
    start = int(raw[0]) if last_raw is None else last_value
    if raw.shape[0] <= _SMALL_READ_FRAMES:
        # A frame or two per read (a 1 kHz plate read live): Python ints beat numpy calls.
        steps_list = []
        values = []
        value = start
        for r in raw.tolist():
            step = (r - prev) % modulus
            value += step
            prev = r
            steps_list.append(step)
            values.append(value)
        return np.array(values, dtype=np.int64), np.array(steps_list, dtype=np.int64)
    steps = np.empty(raw.shape[0], dtype=np.int64)
    steps[0] = raw[0] - prev
    np.subtract(raw[1:], raw[:-1], out=steps[1:])
    steps %= modulus
    return start + np.cumsum(steps), steps
