"""Benchmark of the frame decoder: frames/s on a recorded-like byte stream.

The stream is 2,000,000 four-channel SAMPLE frames (1 kHz, a person standing with sway and
HX711-like noise, t_us wrapping once, seq wrapping many times) with an INFO frame at the start
and every 100,000 samples, a LOG frame every 250,000 samples and a few single-byte corruptions
(about one per 100,000 frames, as a noisy cable gives). It is cut into 4 KiB and 64 KiB chunks,
as a serial reader's ``read(in_waiting)`` hands them over, and fed to
:class:`daq.decoder.FrameDecoder`.

In the same run a straightforward baseline decoder written here (a per-frame Python loop: find
SYNC, ``struct.unpack`` the header and payload, ``binascii.crc_hqx``) decodes a smaller slice,
and both decoders must agree on that slice: frames, samples, INFO/LOG frames, CRC errors and
checksums of seq and counts. The script exits non-zero if they do not. Timing is only printed,
never asserted.

Usage: python bench/bench_decode.py [--frames 2000000] [--baseline-frames 200000]
"""

from __future__ import annotations

import argparse
import binascii
import struct
import sys
import time
from dataclasses import dataclass

import numpy as np
from machine import machine_header

from daq.decoder import FrameDecoder
from daq.frames import (
    CRC_BYTES,
    HEADER_BYTES,
    MAX_CHANNELS,
    SAMPLE_FIXED_BYTES,
    SYNC0,
    SYNC1,
    TYPE_INFO,
    TYPE_LOG,
    TYPE_SAMPLE,
    encode_info,
    encode_log,
    encode_samples,
    sample_frame_bytes,
)

CHANNELS = 4
RATE_HZ = 1000
INFO_EVERY = 100_000
LOG_EVERY = 250_000
CORRUPT_EVERY = 100_000
CHUNK_SIZES = (4096, 65536)
TARGET_FPS = 2_000_000
TARGET_SPEEDUP = 10.0


# -- the recorded-like stream ---------------------------------------------------------------
def realistic_counts(rng: np.random.Generator, n: int, n_channels: int) -> np.ndarray:
    """(n, n_channels) int32 counts: tare offsets, a ~75 kg person swaying, HX711 noise."""
    t = np.arange(n) / RATE_HZ
    offsets = rng.integers(-150_000, 150_000, n_channels)
    per_cell = 184.0 * 2000.0  # ~184 N per cell at the nominal 1/2000 N per count
    # Sway: a slow random walk in AP and ML shifts load between the cells.
    walk = np.cumsum(rng.normal(0.0, 0.002, (n, 2)), axis=0)
    sway_x = 0.08 * np.sin(2 * np.pi * 0.3 * t) + np.tanh(walk[:, 0]) * 0.1
    sway_y = 0.12 * np.sin(2 * np.pi * 0.17 * t + 1.0) + np.tanh(walk[:, 1]) * 0.1
    # Cell order: front-left, front-right, back-right, back-left (and a second plate).
    sx = np.array([-1.0, 1.0, 1.0, -1.0] * (MAX_CHANNELS // 4))[:n_channels]
    sy = np.array([1.0, 1.0, -1.0, -1.0] * (MAX_CHANNELS // 4))[:n_channels]
    share = 1.0 + sx[None, :] * sway_x[:, None] + sy[None, :] * sway_y[:, None]
    counts = offsets[None, :] + per_cell * share + rng.normal(0.0, 40.0, (n, n_channels))
    return np.clip(np.rint(counts), -0x800000, 0x7FFFFF).astype(np.int32)


@dataclass
class Stream:
    """The bytes of a recorded-like stream and what is in it."""

    data: bytes
    sample_frames: int
    info_frames: int
    log_frames: int
    corrupted: int


def build_stream(n_frames: int, n_channels: int = CHANNELS, seed: int = 7) -> Stream:
    """SAMPLE frames in blocks, INFO/LOG frames between blocks, a few corrupted bytes."""
    rng = np.random.default_rng(seed)
    t0_us = (1 << 32) - 300_000_000  # t_us wraps 300 s into the stream
    info = encode_info(
        {
            "proto": 1,
            "fw": "bench",
            "board": "uno",
            "adc": "hx711",
            "channels": n_channels,
            "rate_hz": RATE_HZ,
            "baud": 1000000,
            "plate_id": "bench-plate",
        }
    )
    parts: list[bytes] = [info]
    infos, logs, corrupted = 1, 0, 0
    block = 50_000
    fbytes = sample_frame_bytes(n_channels)
    for start in range(0, n_frames, block):
        n = min(block, n_frames - start)
        seq = np.arange(start, start + n)
        t_us = t0_us + seq * (1_000_000 // RATE_HZ) + rng.integers(-20, 20, n)
        stale = np.where(rng.random(n) < 0.02, 1 << rng.integers(0, n_channels, n), 0)
        raw = bytearray(encode_samples(seq, t_us, stale, realistic_counts(rng, n, n_channels)))
        # Flip one byte inside a few frames' payloads: those frames must fail their CRC.
        for first in range(start, start + n):
            if first % CORRUPT_EVERY == CORRUPT_EVERY // 2:
                pos = (first - start) * fbytes + HEADER_BYTES + 3
                raw[pos] ^= 0x10
                corrupted += 1
        parts.append(bytes(raw))
        end = start + n
        if end % LOG_EVERY == 0:
            parts.append(encode_log(f"channel 2 slow to answer after {end} samples"))
            logs += 1
        if end % INFO_EVERY == 0 and end < n_frames:
            parts.append(info)
            infos += 1
    return Stream(b"".join(parts), n_frames - corrupted, infos, logs, corrupted)


def chunked(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into ``size``-byte chunks (bytes, as ``serial.read`` returns)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- what a decoder found -------------------------------------------------------------------
@dataclass
class Tally:
    """Counts and checksums a decoder's output is compared on."""

    sample_frames: int = 0
    info_frames: int = 0
    log_frames: int = 0
    crc_errors: int = 0
    seq_sum: int = 0
    counts_sum: int = 0

    def add_samples(self, seq16: np.ndarray, counts: np.ndarray) -> None:
        """Account a block of decoded samples (seq as on the wire, mod 2**16)."""
        self.sample_frames += int(seq16.shape[0])
        self.seq_sum += int(np.sum(seq16 & 0xFFFF, dtype=np.int64))
        self.counts_sum += int(np.sum(counts, dtype=np.int64))


@dataclass
class Run:
    """One decoder over one chunked byte string: what it found and what it cost."""

    tally: Tally
    wall_s: float
    cpu_s: float
    chunks: int
    n_bytes: int

    @property
    def frames(self) -> int:
        """Frames of every type that passed their CRC."""
        t = self.tally
        return t.sample_frames + t.info_frames + t.log_frames


def run_frame_decoder(chunks: list[bytes]) -> Run:
    """Feed every chunk to a fresh :class:`FrameDecoder`; its tally and its cost."""
    dec = FrameDecoder()
    outs = []
    c0, t0 = time.process_time(), time.perf_counter()
    for chunk in chunks:
        outs.append(dec.feed(chunk))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tally = Tally(crc_errors=dec.stats.crc_errors)
    for out in outs:
        if len(out.samples):
            tally.add_samples(out.samples.seq, out.samples.counts)
        tally.info_frames += len(out.infos)
        tally.log_frames += len(out.logs)
    return Run(tally, wall, cpu, len(chunks), sum(map(len, chunks)))


# -- the baseline: a per-frame Python loop --------------------------------------------------
class BaselineDecoder:
    """The obvious decoder: one Python iteration per frame (what the vectorised one replaces).

    Same rules as PROTOCOL.md and :class:`FrameDecoder`: a frame counts only when its CRC
    matches; after a bad CRC or an impossible LEN the search resumes at the byte after the
    false SYNC0; an unfinished frame waits for the next chunk. It hands out numpy arrays per
    chunk, as the real decoder does, so the comparison is like for like.
    """

    SYNC = bytes((SYNC0, SYNC1))

    def __init__(self) -> None:
        self.buf = b""
        self.crc_errors = 0
        self.bad_len = 0
        self._formats = {
            SAMPLE_FIXED_BYTES + 4 * n: struct.Struct(f"<HIB{n}i")
            for n in range(1, MAX_CHANNELS + 1)
        }

    def feed(self, chunk: bytes) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        """seq16 (N,), counts (N, n), INFO texts and LOG texts found in ``buf + chunk``."""
        buf = self.buf + chunk
        n = len(buf)
        pos = 0
        seqs: list[int] = []
        rows: list[tuple[int, ...]] = []
        infos: list[str] = []
        logs: list[str] = []
        header = struct.Struct("<BB")
        crc_field = struct.Struct("<H")
        while True:
            i = buf.find(self.SYNC, pos)
            if i < 0:
                pos = n - 1 if n and buf[-1] == SYNC0 else n
                break
            if i + HEADER_BYTES > n:
                pos = i
                break
            typ, ln = header.unpack_from(buf, i + 2)
            fmt = self._formats.get(ln)
            if typ not in (TYPE_SAMPLE, TYPE_INFO, TYPE_LOG) or (
                typ == TYPE_SAMPLE and fmt is None
            ):
                self.bad_len += typ == TYPE_SAMPLE
                pos = i + 1
                continue
            end = i + HEADER_BYTES + ln + CRC_BYTES
            if end > n:
                pos = i
                break
            (crc,) = crc_field.unpack_from(buf, end - CRC_BYTES)
            if binascii.crc_hqx(buf[i + 2 : end - CRC_BYTES], 0xFFFF) != crc:
                self.crc_errors += 1
                pos = i + 1
                continue
            if typ == TYPE_SAMPLE:
                assert fmt is not None
                seq, _t_us, _stale, *counts = fmt.unpack_from(buf, i + HEADER_BYTES)
                seqs.append(seq)
                rows.append(tuple(counts))
            else:
                text = buf[i + HEADER_BYTES : i + HEADER_BYTES + ln].decode("utf-8", "replace")
                (infos if typ == TYPE_INFO else logs).append(text)
            pos = end
        self.buf = buf[pos:]
        seq_arr = np.array(seqs, dtype=np.int64)
        counts_arr = np.array(rows, dtype=np.int32) if rows else np.zeros((0, 0), np.int32)
        return seq_arr, counts_arr, infos, logs


def run_baseline(chunks: list[bytes]) -> Run:
    """Feed every chunk to a fresh :class:`BaselineDecoder`; its tally and its cost."""
    dec = BaselineDecoder()
    outs = []
    c0, t0 = time.process_time(), time.perf_counter()
    for chunk in chunks:
        outs.append(dec.feed(chunk))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tally = Tally(crc_errors=dec.crc_errors)
    for seq, counts, infos, logs in outs:
        if seq.shape[0]:
            tally.add_samples(seq, counts)
        tally.info_frames += len(infos)
        tally.log_frames += len(logs)
    return Run(tally, wall, cpu, len(chunks), sum(map(len, chunks)))


def slice_for(stream: Stream, n_frames: int) -> bytes:
    """The head of the stream holding about ``n_frames`` frames, cut mid-frame on purpose."""
    fbytes = sample_frame_bytes(CHANNELS)
    return stream.data[: n_frames * fbytes + fbytes // 2]


def row(name: str, chunk: str, run: Run) -> str:
    """One line of the table."""
    return (
        f"{name:<32} {chunk:>8} {run.frames:>10,} {run.wall_s:7.2f} {run.cpu_s:7.2f} "
        f"{run.frames / run.wall_s:11,.0f} {run.frames / max(run.cpu_s, 1e-9):11,.0f} "
        f"{run.n_bytes / run.wall_s / 1e6:6.1f} {run.wall_s / run.chunks * 1e6:9.1f} "
        f"{run.tally.crc_errors:>7}"
    )


def main(argv: list[str] | None = None) -> int:
    """Decode the stream in both chunk sizes, run the baseline, compare, print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=2_000_000, help="SAMPLE frames in the stream")
    p.add_argument(
        "--baseline-frames", type=int, default=200_000, help="frames in the common slice"
    )
    p.add_argument(
        "--live-frames",
        type=int,
        default=5_000,
        help="frames decoded one read per frame (a 1 kHz plate read as it arrives)",
    )
    args = p.parse_args(argv)

    print(machine_header())
    t0 = time.perf_counter()
    stream = build_stream(args.frames)
    expected = (stream.sample_frames, stream.info_frames, stream.log_frames)
    print(
        f"decode: {args.frames:,} SAMPLE frames x {CHANNELS} channels "
        f"({stream.corrupted} corrupted), {stream.info_frames} INFO, {stream.log_frames} LOG; "
        f"{len(stream.data) / 1e6:.1f} MB (built in {time.perf_counter() - t0:.1f} s). "
        "fr/s = frames/s; cpu = this process's CPU time (wall > cpu: the cores were shared)"
    )
    print(
        f"{'decoder':<32} {'chunk':>8} {'frames':>10} {'wall s':>7} {'cpu s':>7} "
        f"{'fr/s wall':>11} {'fr/s cpu':>11} {'MB/s':>6} {'us/chunk':>9} {'crc err':>7}"
    )

    ok = True
    full_fps: list[tuple[str, float]] = []
    for size in CHUNK_SIZES:
        chunks = chunked(stream.data, size)
        run = run_frame_decoder(chunks)
        del chunks
        full_fps.append((f"{size // 1024} KiB", run.frames / run.wall_s))
        print(row("FrameDecoder (daq, vectorised)", f"{size // 1024} KiB", run), flush=True)
        t = run.tally
        got = (t.sample_frames, t.info_frames, t.log_frames)
        if got != expected or t.crc_errors != stream.corrupted:
            print(
                f"MISMATCH: FrameDecoder found {got} and {t.crc_errors} CRC errors, the stream "
                f"holds {expected} and {stream.corrupted} corrupted frames"
            )
            ok = False

    # Same bytes, same chunking, both decoders: speed and agreement.
    fbytes = sample_frame_bytes(CHANNELS)
    head = slice_for(stream, args.baseline_frames)
    cases = [(f"{size // 1024} KiB", chunked(head, size)) for size in CHUNK_SIZES]
    live = slice_for(stream, args.live_frames)
    cases.append((f"{fbytes} B", chunked(live, fbytes)))
    print(
        f"common slices: the first {args.baseline_frames:,} frames in 4/64 KiB chunks, the "
        f"first {args.live_frames:,} one frame ({fbytes} B) per read"
    )
    ratios = []
    for label, chunks in cases:
        base = run_baseline(chunks)
        fast = run_frame_decoder(chunks)
        print(row("baseline (per-frame Python)", label, base))
        print(row("FrameDecoder (daq, vectorised)", label, fast), flush=True)
        ratios.append((label, base.wall_s / fast.wall_s, base.cpu_s / max(fast.cpu_s, 1e-9)))
        if base.tally != fast.tally:
            print(f"MISMATCH ({label} chunks):\n  baseline {base.tally}\n  daq      {fast.tally}")
            ok = False

    print(
        "speed-up FrameDecoder / baseline (wall, cpu): "
        + "; ".join(f"{label}: {w:.2f}x, {c:.2f}x" for label, w, c in ratios)
    )
    agree = "identical" if ok else "DIFFERENT"
    print(
        f"agreement on the common slices: {agree} frames, samples, INFO/LOG, CRC errors, "
        "seq and counts checksums"
    )
    bulk = [w for label, w, _ in ratios if label.endswith("KiB")]
    print(
        f"targets: >= {TARGET_FPS:,} frames/s ("
        + ", ".join(
            f"{label}: {fps:,.0f} {'met' if fps >= TARGET_FPS else 'MISSED'}"
            for label, fps in full_fps
        )
        + f"); speed-up >= {TARGET_SPEEDUP:g}x in 4/64 KiB chunks (here {min(bulk):.1f}x-"
        f"{max(bulk):.1f}x: {'met' if min(bulk) >= TARGET_SPEEDUP else 'MISSED'})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
