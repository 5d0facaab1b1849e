"""HDF5 session recording: raw samples exactly as received, written at least once a second.

The layout is a public format, documented in docs/file-format.md. Every dataset is created
before SWMR (single-writer, multiple-reader) mode is switched on, so another process can read
the file while it grows, and a crash or ``kill -9`` leaves a file that opens with everything up
to the last flush (at most one second old).
"""

from __future__ import annotations

import collections
import ctypes
import errno
import json
import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np

from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.events import RecordedEvent, event_to_json
from daq.samples import SampleBlock

FORMAT_NAME = "midfoot-session"
FORMAT_VERSION = 1
FLUSH_INTERVAL_S = 1.0
# The recorder stops cleanly while the disk still has room for this many seconds of the
# stream (at the rate the file actually grows), never letting HDF5 reach a full disk: after
# a failed write HDF5's metadata cache is inconsistent, and closing a dataset then frees it
# twice (H5D_close from the second H5Idec_ref: the segfault of issue 9 at reserve 0).
RESERVE_SECONDS = 30.0
# ... and never less than this floor (MIDFOOT_DISK_RESERVE_MB sets the floor) ...
DEFAULT_RESERVE_FLOOR_MB = 2.0
_CHUNK_SAMPLES = 4096
# Held samples are written once this many have gathered, even between flushes, so what is
# held stays within one chunk set at any rate (at 1 kHz the flush comes first).
_HELD_SAMPLES = _CHUNK_SAMPLES
# ... nor less than what one flush can write at worst: every sample dataset's cached chunk
# rewritten whole (a compressed chunk that grew moves), plus the metadata, four times over.
_HARD_MIN_CHUNK_SETS = 4
_METADATA_BYTES = 256 * 1024
_STR = h5py.string_dtype("utf-8")
# HDF5's chunk cache, per dataset: two chunks of the widest dataset (counts). Chunks are only
# appended to and a write of held samples spans at most two, so older chunks are never
# touched again; the default (8 MB for each of the 11 datasets with HDF5 2.0, 1 MB before)
# kept them in memory until it filled, which takes the narrow datasets far longer than the
# ring (seq: 8 MB is 1,024 chunks, 70 min at 1 kHz): the RSS that grew after the ring filled
# (issue 9). w0 = 1 evicts fully written chunks first.
_CHUNK_CACHE_CHUNKS = 2
_CHUNK_CACHE_W0 = 1.0
# Handles of files whose write failed: they are kept, never closed or freed, because HDF5
# cannot close them safely after an I/O error (see RESERVE_SECONDS). The bytes flushed
# before the failure stay readable on disk.
_BROKEN_HANDLES: list[object] = []


def chunk_cache_bytes(n_channels: int) -> int:
    """Bytes of HDF5 chunk cache each dataset of an ``n_channels`` recording may hold."""
    return _CHUNK_CACHE_CHUNKS * _CHUNK_SAMPLES * 4 * n_channels


def disk_free_bytes(path: Path) -> int:
    """Free bytes on the filesystem holding ``path``."""
    return shutil.disk_usage(path.parent).free


def _silence_h5py_teardown() -> None:
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if "h5py" not in repr(unraisable.object) and "ObjectID" not in repr(unraisable.object):
            previous(unraisable)

    sys.unraisablehook = hook


def _flatten(obj: object) -> list[object]:
    if isinstance(obj, tuple | list):
        return [x for item in obj for x in _flatten(item)]
    if isinstance(obj, dict):
        return [x for item in obj.values() for x in _flatten(item)]
    return [] if obj is None else [obj]


def _reserve_floor_bytes() -> int:
    text = os.environ.get("MIDFOOT_DISK_RESERVE_MB", "")
    try:
        mb = float(text) if text else DEFAULT_RESERVE_FLOOR_MB
    except ValueError:
        mb = DEFAULT_RESERVE_FLOOR_MB
    return int(max(mb, 0.0) * 1e6) if math.isfinite(mb) else int(DEFAULT_RESERVE_FLOOR_MB * 1e6)


def require_room(path: Path | str, n_channels: int = 8) -> None:
    """MidfootError now if the disk holding ``path`` has less than the recorder's floor free.

    Called before a recording is armed, so a disk that is already full is said at once.
    """
    target = Path(path)
    chunk_set = _CHUNK_SAMPLES * (2 + 4 + 1 + 4 * n_channels + 8)
    need = max(_reserve_floor_bytes(), _HARD_MIN_CHUNK_SETS * chunk_set + _METADATA_BYTES)
    try:
        free = disk_free_bytes(target)
    except OSError:
        return  # the folder does not exist yet: creating the file says what is wrong
    if free < need:
        raise MidfootError(
            f"there is no room to record on the disk holding {target} ({free / 1e6:.1f} MB "
            f"free; midfoot keeps at least {need / 1e6:.1f} MB free): free some space or "
            "record to another disk"
        )


def _disk_message(path: Path, exc: Exception, kept: int) -> str:
    text = str(exc).lower()
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(
        word in text for word in ("space", "too large", "errno = 28", "errno = 27")
    ):
        detail = f" ({exc.strerror})" if isinstance(exc, OSError) and "midfoot keeps" in str(
            exc.strerror
        ) else ""
        return (
            f"the disk is full while writing {path}{detail}: the {kept} samples recorded so "
            "far are safe in that file; free some space and start a new recording"
        )
    return (
        f"writing {path} failed ({exc}): the {kept} samples recorded so far are safe in that "
        "file; check the disk and start a new recording"
    )


class SessionRecorder:
    """Append samples, INFO, LOG and events to one HDF5 session file.

    Parameters
    ----------
    path : Path
        The .h5 file to create (an existing file is not overwritten).
    calibration : Calibration
        Offsets, gains and plate geometry in force when recording starts.
    n_channels : int
        Channels per sample.
    metadata : dict
        Stored as root attributes: e.g. ``stance``, ``athlete``, ``source``, ``plate_id``,
        ``foot_length_mm``, ``heel_y_mm``, ``stance_width_mm``, ``body_mass_kg``.
    """

    def __init__(
        self,
        path: Path | str,
        calibration: Calibration,
        n_channels: int,
        metadata: dict[str, object] | None = None,
    ) -> None:
        self.path = Path(path)
        self.n_channels = n_channels
        # Uncompressed bytes of one chunk of every sample dataset (seq, t_us, stale, counts,
        # host_t_s), the most one flush can rewrite per chunk set.
        self._chunk_set_bytes = _CHUNK_SAMPLES * (2 + 4 + 1 + 4 * n_channels + 8)
        self.min_reserve_bytes = _HARD_MIN_CHUNK_SETS * self._chunk_set_bytes + _METADATA_BYTES
        self.reserve_floor_bytes = max(_reserve_floor_bytes(), self.min_reserve_bytes)
        self.byte_rate = 0.0  # how fast the file grows, bytes/s (measured at each flush)
        self._rate_mark: tuple[float, int, int] | None = None  # (time, file size, samples)
        self.samples_written = 0  # received, including those held for the next write
        self.samples_flushed = 0  # on disk for sure: written before the last good flush
        self._stored = 0  # in the file's sample datasets
        # Blocks and texts received since the last write, in their order; written together
        # (samples first, so an event never reaches the disk before the samples it follows).
        self._held_blocks: list[tuple[SampleBlock, np.ndarray | float]] = []
        self._held_n = 0
        self._held_text: dict[str, list[tuple[float, str]]] = {
            "info": [], "log": [], "events": []
        }
        self.failed: str | None = None
        if self.path.exists():
            raise MidfootError(
                f"{self.path} already exists: choose another file name so no recording is lost"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(
                self.path,
                "w",
                libver="latest",
                rdcc_nbytes=chunk_cache_bytes(n_channels),
                rdcc_w0=_CHUNK_CACHE_W0,
            )
        except OSError as exc:
            raise MidfootError(
                f"cannot create {self.path} ({exc.strerror or exc}): choose a folder you can "
                "write to"
            ) from exc
        f = self._file
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["created_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        f.attrs["n_channels"] = n_channels
        for key, value in (metadata or {}).items():
            if value is not None:
                f.attrs[key] = value
        f.attrs["calibration_json"] = json.dumps(calibration.to_dict())
        f.attrs["plate_json"] = json.dumps(calibration.plate.to_dict())

        s = f.create_group("samples")
        opts = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
        self._ds = {
            "seq": s.create_dataset(
                "seq", (0,), maxshape=(None,), dtype="<u2", chunks=(_CHUNK_SAMPLES,), **opts
            ),
            "t_us": s.create_dataset(
                "t_us", (0,), maxshape=(None,), dtype="<u4", chunks=(_CHUNK_SAMPLES,), **opts
            ),
            "stale": s.create_dataset(
                "stale", (0,), maxshape=(None,), dtype="u1", chunks=(_CHUNK_SAMPLES,), **opts
            ),
            "counts": s.create_dataset(
                "counts",
                (0, n_channels),
                maxshape=(None, n_channels),
                dtype="<i4",
                chunks=(_CHUNK_SAMPLES, n_channels),
                **opts,
            ),
            "host_t_s": s.create_dataset(
                "host_t_s", (0,), maxshape=(None,), dtype="<f8", chunks=(_CHUNK_SAMPLES,), **opts
            ),
        }
        self._text = {}
        for name in ("info", "log", "events"):
            g = f.create_group(name)
            self._text[name] = (
                g.create_dataset("host_t_s", (0,), maxshape=(None,), dtype="<f8", chunks=(256,)),
                g.create_dataset("text", (0,), maxshape=(None,), dtype=_STR, chunks=(256,)),
            )
        f.swmr_mode = True
        self._last_flush = time.monotonic()
        try:
            self._check_room()
        except OSError as exc:
            self._file = None
            f.close()
            self.path.unlink(missing_ok=True)
            raise MidfootError(
                f"there is no room to record on the disk holding {self.path} ({exc.strerror}): "
                "free some space or record to another disk"
            ) from exc
        f.flush()

    # -- writing ----------------------------------------------------------------------------
    def write(self, block: SampleBlock, host_t_s: np.ndarray | float) -> None:
        """Append a block of samples as received (seq and t_us as their wire values).

        Blocks are held in memory and written to HDF5 together before each flush (every
        ``FLUSH_INTERVAL_S``, or sooner once ``_HELD_SAMPLES`` have gathered): at 1 kHz a
        block is one to three samples, and resizing and writing five datasets per block cost
        more than everything else the acquisition does. A crash loses what it lost before,
        the samples since the last flush.
        """
        if self.failed or len(block) == 0:
            return
        if block.n_channels != self.n_channels:
            raise ValueError(
                f"a {block.n_channels}-channel block cannot go into a {self.n_channels}-channel "
                "recording"
            )
        self._held_blocks.append((block, host_t_s))
        self._held_n += len(block)
        self.samples_written += len(block)
        if self._held_n >= _HELD_SAMPLES:
            self._write_held()
        self.maybe_flush()

    def add_text(self, kind: str, text: str, host_t_s: float | None = None) -> None:
        """Append one INFO text (``info``), device LOG line (``log``) or event (``events``)."""
        if self.failed:
            return
        # HDF5 strings end at NUL: keep it visible instead (device text is already escaped).
        text = str(text).replace("\x00", "\\x00")
        try:
            text.encode("utf-8")
        except UnicodeError:
            # Text HDF5 will not take (lone surrogates): store its escaped form in its place.
            text = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        self._held_text[kind].append((time.time() if host_t_s is None else host_t_s, text))
        self.maybe_flush()

    def add_event(self, event: RecordedEvent, host_t_s: float | None = None) -> None:
        """Append an event (stance change, tare, rep mark, note, gap) before the next sample.

        Stored as the JSON of :func:`daq.events.event_to_json`.
        """
        self.add_text("events", event_to_json(event, self.samples_written), host_t_s)

    def _held_bytes(self) -> int:
        """Uncompressed bytes the held samples will add to the file (texts are negligible)."""
        return self._held_n * self._chunk_set_bytes // _CHUNK_SAMPLES

    def _write_held(self) -> None:
        """Write the held blocks, then the held texts (one resize and write per dataset).

        The disk must keep its reserve on top of what is written; if it would not, the
        recording stops (the held samples go into the file as it closes, within the reserve).
        """
        if self.failed or (not self._held_blocks and not any(self._held_text.values())):
            return
        try:
            self._check_room(self._held_bytes())
        except OSError as exc:
            self._stop_before_full(exc)
            return
        self._store_held()

    def _store_held(self) -> None:
        """Put what is held into the datasets; a failed write is handled by ``_fail``."""
        held, self._held_blocks, n = self._held_blocks, [], self._held_n
        self._held_n = 0
        texts = {kind: lines for kind, lines in self._held_text.items() if lines}
        self._held_text = {kind: [] for kind in self._held_text}
        bad_data: Exception | None = None
        try:
            values = self._held_values(held) if held else {}
        except (ValueError, TypeError) as exc:
            # Data the file cannot take, found before HDF5 was touched: the file is sound,
            # so the texts still go in and the recording stops closed, not left open as
            # after a disk error.
            bad_data, held, values = exc, [], {}
        try:
            if held:
                for name, ds in self._ds.items():
                    ds.resize(self._stored + n, axis=0)
                    ds[self._stored :] = values[name]
                self._stored += n
            for kind, lines in texts.items():
                t_ds, s_ds = self._text[kind]
                k = t_ds.shape[0]
                t_ds.resize(k + len(lines), axis=0)
                s_ds.resize(k + len(lines), axis=0)
                t_ds[k:] = np.array([t for t, _ in lines], dtype=np.float64)
                s_ds[k:] = np.array([text for _, text in lines], dtype=_STR)
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            # (ValueError/TypeError: data the file cannot take; the recording stops with a
            # sentence rather than taking the acquisition thread with it.)
            self._fail(exc)
            return
        if bad_data is not None:
            self._stop_on_bad_data(bad_data)

    @staticmethod
    def _held_values(held: list[tuple[SampleBlock, np.ndarray | float]]) -> dict[str, np.ndarray]:
        """The held blocks as one array per sample dataset, in the file's types."""
        merged = SampleBlock.concat([b for b, _ in held])
        return {
            "seq": (merged.seq & 0xFFFF).astype(np.uint16),
            "t_us": (merged.t_us & 0xFFFFFFFF).astype(np.uint32),
            "stale": merged.stale,
            "counts": merged.counts,
            "host_t_s": np.concatenate(
                [np.broadcast_to(np.asarray(h, dtype=np.float64), (len(b),)) for b, h in held]
            ),
        }

    def _stop_on_bad_data(self, exc: Exception) -> None:
        """Stop the recording over data it cannot store; flush and close what it holds."""
        self.failed = (
            f"the recording to {self.path} stopped: samples it could not store ({exc}); the "
            f"{self._stored} samples before are safe in that file: this is a bug in midfoot, "
            "please report it"
        )
        self._held_blocks, self._held_n = [], 0
        self._held_text = {kind: [] for kind in self._held_text}
        file, self._file = self._file, None
        self._ds, self._text = {}, {}
        if file is None:
            return
        try:
            file.flush()
            self.samples_flushed = self._stored
            file.close()
        except (OSError, RuntimeError, ValueError) as close_exc:
            self._keep_broken(file)  # the disk failed too: as after any failed write
            self.failed += f" (closing it failed too: {close_exc})"

    def maybe_flush(self, force: bool = False) -> None:
        """Flush to disk if a second has passed since the last flush (or ``force``)."""
        if self.failed:
            return
        now = time.monotonic()
        if force or now - self._last_flush >= FLUSH_INTERVAL_S:
            self._write_held()
            if self.failed:
                return
            try:
                self._check_room()
            except OSError as exc:
                self._stop_before_full(exc)
                return
            try:
                self._file.flush()
            except (OSError, RuntimeError) as exc:
                self._fail(exc)
                return
            self.samples_flushed = self._stored
            self._last_flush = now
            self._measure_byte_rate(now)

    # -- the disk -----------------------------------------------------------------------------
    @property
    def reserve_bytes(self) -> int:
        """Free bytes the disk must keep: RESERVE_SECONDS of the stream, at least the floor."""
        return int(max(self.reserve_floor_bytes, RESERVE_SECONDS * self.byte_rate))

    def _measure_byte_rate(self, now: float) -> None:
        """How fast the file grows (bytes/s): the larger of its growth and the raw data rate."""
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return
        mark, self._rate_mark = self._rate_mark, (now, size, self.samples_written)
        if mark is None or now - mark[0] <= 0:
            return
        dt = now - mark[0]
        growth = max(size - mark[1], 0) / dt
        raw = (self.samples_written - mark[2]) * (self._chunk_set_bytes / _CHUNK_SAMPLES) / dt
        rate = max(growth, raw)
        # Quick to rise (a faster plate), slow to fall (a pause in the stream).
        self.byte_rate = rate if rate > self.byte_rate else 0.9 * self.byte_rate + 0.1 * rate

    def _check_room(self, to_write_bytes: int = 0) -> None:
        """OSError(ENOSPC) while the disk still has the reserve, before HDF5 can hit the wall.

        ``to_write_bytes`` is what is about to be written: the reserve must be left after it.
        """
        free = disk_free_bytes(self.path) - to_write_bytes
        if free < self.reserve_bytes:
            raise OSError(
                errno.ENOSPC,
                f"{free / 1e6:.1f} MB free; midfoot keeps {self.reserve_bytes / 1e6:.1f} MB "
                f"free, about {RESERVE_SECONDS:g} s of this stream",
            )

    def _stop_before_full(self, exc: OSError) -> None:
        """The reserve is reached: close the file normally (no write failed), keep everything.

        What is held (at most a second or one chunk set) is written first: the reserve is
        there for it, being never less than what one flush can write.
        """
        self._store_held()
        if self.failed:
            return
        file, self._file = self._file, None
        self._ds, self._text = {}, {}
        try:
            if file is not None:
                file.close()
        except (OSError, RuntimeError) as close_exc:
            self._keep_broken(file)
            exc = OSError(errno.ENOSPC, str(close_exc))
        self.samples_written = self._stored  # what arrived after the stop is not in the file
        self.failed = _disk_message(self.path, exc, self._stored)

    def _keep_broken(self, handles: object) -> None:
        """Keep HDF5 objects after a failed write alive for good (they cannot be closed)."""
        _silence_h5py_teardown()
        _BROKEN_HANDLES.append(handles)
        ids = []
        for obj in _flatten(handles):
            ids.append(obj)
            if getattr(obj, "id", None) is not None:
                ids.append(obj.id)
        for obj in ids:
            # One reference never given back: neither the running program nor the
            # interpreter's shutdown frees (and so closes) them.
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))

    def _fail(self, exc: Exception) -> None:
        """A write failed (the disk filled under another program, an I/O error).

        HDF5 cannot close objects safely after that (see RESERVE_SECONDS): the handles are
        kept, never closed, so nothing frees a dataset twice; what was flushed before stays
        a readable file.
        """
        self.failed = _disk_message(self.path, exc, self.samples_flushed)
        self._held_blocks, self._held_n = [], 0
        self._held_text = {kind: [] for kind in self._held_text}
        self._keep_broken((self._file, self._ds, self._text))
        self._ds, self._text = {}, {}
        self._file = None

    def close(self) -> None:
        """Write what is held, flush and close; safe to call twice and after a failure."""
        if self._file is None:
            return
        self._write_held()
        if self._file is None:
            return
        try:
            self._check_room()
        except OSError:
            # Not enough room to flush safely: stop here; the last flush is on disk.
            self._stop_before_full(OSError(errno.ENOSPC, "no room to flush the last second"))
            return
        try:
            self._file.flush()
            self.samples_flushed = self._stored
            self._file.close()
            self._file = None
        except (OSError, RuntimeError, ValueError) as exc:
            self._fail(exc)

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class RecorderThread:
    """A :class:`SessionRecorder` fed from a queue by its own thread.

    The acquisition thread must read the port on time: a pty or USB buffer holds about a
    second of a 1 kHz 8-channel stream, and a flush that waits for a busy disk (dirty-page
    write-back can block ``write()`` for seconds) would make the plate drop frames while the
    reader sits in HDF5. So ``write``, ``add_text``, ``add_event`` and ``maybe_flush`` only
    append to a queue, in their order, and return; the thread below does the HDF5 work
    every ``WRITER_INTERVAL_S``, flushing each ``FLUSH_INTERVAL_S`` as before. A kill -9
    loses what it lost before plus at most one interval: the samples since the last flush.

    Parameters are those of :class:`SessionRecorder`; creating the file (and its errors)
    happens here, in the caller's thread, so a bad path is said at once.
    """

    WRITER_INTERVAL_S = 0.05

    def __init__(
        self,
        path: Path | str,
        calibration: Calibration,
        n_channels: int,
        metadata: dict[str, object] | None = None,
    ) -> None:
        self._recorder = SessionRecorder(path, calibration, n_channels, metadata)
        self.path = self._recorder.path
        self.n_channels = n_channels
        self.samples_written = 0  # received (the recorder's own count once closed)
        self._ops: collections.deque[tuple[str, tuple[object, ...]]] = collections.deque()
        self._wake = threading.Event()
        self._closing = False
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="midfoot-recorder", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> str | None:
        """The recorder's sentence once it stopped (disk full, I/O error), else None."""
        return self._recorder.failed or self._error

    @property
    def samples_flushed(self) -> int:
        """Samples on disk for sure (before the writer's last good flush)."""
        return self._recorder.samples_flushed

    def write(self, block: SampleBlock, host_t_s: np.ndarray | float) -> None:
        """Queue a block of samples (see :meth:`SessionRecorder.write`)."""
        if block.n_channels != self.n_channels:
            # Said here, in the caller's thread, as the recorder itself would.
            raise ValueError(
                f"a {block.n_channels}-channel block cannot go into a {self.n_channels}-channel "
                "recording"
            )
        if self.failed or len(block) == 0:
            return
        self.samples_written += len(block)
        self._ops.append(("write", (block, host_t_s)))

    def add_text(self, kind: str, text: str, host_t_s: float | None = None) -> None:
        """Queue an INFO text, LOG line or event text (see :meth:`SessionRecorder.add_text`)."""
        if self.failed:
            return  # the writer has stopped: nothing would ever take it off the queue
        self._ops.append(("text", (kind, text, time.time() if host_t_s is None else host_t_s)))

    def add_event(self, event: RecordedEvent, host_t_s: float | None = None) -> None:
        """Queue an event; it lands before the samples that follow it, as with the recorder."""
        if self.failed:
            return
        self._ops.append(("event", (event, time.time() if host_t_s is None else host_t_s)))

    def maybe_flush(self, force: bool = False) -> None:
        """Ask for a flush now (``force``); else the thread flushes on its own schedule."""
        if force:
            self._ops.append(("flush", ()))
            self._wake.set()

    def close(self) -> None:
        """Write everything queued, flush and close the file; waits for the thread."""
        if not self._closing:
            self._closing = True
            self._wake.set()
        self._thread.join()
        self.samples_written = self._recorder.samples_written

    def _run(self) -> None:
        rec = self._recorder
        try:
            while True:
                self._wake.wait(self.WRITER_INTERVAL_S)
                self._wake.clear()
                closing = self._closing  # read before draining: nothing queued is left
                while self._ops:
                    what, args = self._ops.popleft()
                    if what == "write":
                        rec.write(*args)  # type: ignore[arg-type]
                    elif what == "text":
                        rec.add_text(*args)  # type: ignore[arg-type]
                    elif what == "event":
                        rec.add_event(*args)  # type: ignore[arg-type]
                    else:
                        rec.maybe_flush(force=True)
                if closing:
                    rec.close()
                    return
                rec.maybe_flush()
        except Exception as exc:  # noqa: BLE001 - said through ``failed``, never silent
            self._error = (
                f"the recording to {self.path} stopped ({type(exc).__name__}: {exc}); what "
                "was flushed before is kept: this is a bug in midfoot, please report it"
            )
            self._ops.clear()
            try:
                rec.close()
            except Exception:  # noqa: BLE001 - already failing; the sentence above says it
                pass
