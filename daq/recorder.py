"""HDF5 session recording: raw samples exactly as received, written as they arrive.

The layout is a public format, documented in docs/file-format.md. Every dataset is created
before SWMR (single-writer, multiple-reader) mode is switched on, so another process can read
the file while it grows, and a crash or ``kill -9`` leaves a file that opens with everything up
to the last flush (at most one second old).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
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
# Stop cleanly while the disk still has this much room, rather than let HDF5 hit the wall
# mid-write; MIDFOOT_DISK_RESERVE_MB overrides it (0 = write until the disk is truly full).
DEFAULT_RESERVE_MB = 16.0
_CHUNK_SAMPLES = 4096
_STR = h5py.string_dtype("utf-8")


def disk_free_bytes(path: Path) -> int:
    """Free bytes on the filesystem holding ``path``."""
    return shutil.disk_usage(path.parent).free


def _silence_h5py_teardown() -> None:
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if "h5py" not in repr(unraisable.object) and "ObjectID" not in repr(unraisable.object):
            previous(unraisable)

    sys.unraisablehook = hook


def _disk_message(path: Path, exc: Exception, kept: int) -> str:
    text = str(exc).lower()
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(
        word in text for word in ("space", "too large", "errno = 28", "errno = 27")
    ):
        return (
            f"the disk is full while writing {path}: the {kept} samples recorded so far are "
            "safe in that file; free some space and start a new recording"
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
        self.reserve_bytes = int(
            float(os.environ.get("MIDFOOT_DISK_RESERVE_MB", DEFAULT_RESERVE_MB)) * 1e6
        )
        self.samples_written = 0
        self.failed: str | None = None
        if self.path.exists():
            raise MidfootError(
                f"{self.path} already exists: choose another file name so no recording is lost"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self.path, "w", libver="latest")
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
        f.flush()

    # -- writing ----------------------------------------------------------------------------
    def write(self, block: SampleBlock, host_t_s: np.ndarray | float) -> None:
        """Append a block of samples as received (seq and t_us as their wire values)."""
        if self.failed or len(block) == 0:
            return
        n = len(block)
        host = np.broadcast_to(np.asarray(host_t_s, dtype=np.float64), (n,))
        values = {
            "seq": (block.seq & 0xFFFF).astype(np.uint16),
            "t_us": (block.t_us & 0xFFFFFFFF).astype(np.uint32),
            "stale": block.stale,
            "counts": block.counts,
            "host_t_s": host,
        }
        try:
            for name, ds in self._ds.items():
                ds.resize(self.samples_written + n, axis=0)
                ds[self.samples_written :] = values[name]
            self.samples_written += n
            self.maybe_flush()
        except (OSError, RuntimeError) as exc:
            self._fail(exc)

    def add_text(self, kind: str, text: str, host_t_s: float | None = None) -> None:
        """Append one INFO text (``info``), device LOG line (``log``) or event (``events``)."""
        if self.failed:
            return
        # HDF5 strings end at NUL: keep it visible instead (device text is already escaped).
        text = str(text).replace("\x00", "\\x00")
        t_ds, s_ds = self._text[kind]
        k = t_ds.shape[0]
        try:
            t_ds.resize(k + 1, axis=0)
            s_ds.resize(k + 1, axis=0)
            t_ds[k] = time.time() if host_t_s is None else host_t_s
            s_ds[k] = text
            self.maybe_flush()
        except (OSError, RuntimeError) as exc:
            self._fail(exc)
        except (ValueError, TypeError, UnicodeError):
            # Text HDF5 will not take (lone surrogates): store its escaped form in its place.
            s_ds[k] = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")

    def add_event(self, event: RecordedEvent, host_t_s: float | None = None) -> None:
        """Append an event (stance change, tare, rep mark, note, gap) before the next sample.

        Stored as the JSON of :func:`daq.events.event_to_json`.
        """
        self.add_text("events", event_to_json(event, self.samples_written), host_t_s)

    def maybe_flush(self, force: bool = False) -> None:
        """Flush to disk if a second has passed since the last flush (or ``force``)."""
        if self.failed:
            return
        now = time.monotonic()
        if force or now - self._last_flush >= FLUSH_INTERVAL_S:
            try:
                if disk_free_bytes(self.path) < self.reserve_bytes:
                    raise OSError(errno.ENOSPC, "less free space than the reserve")
                self._file.flush()
            except (OSError, RuntimeError) as exc:
                self._fail(exc)
            self._last_flush = now

    def _fail(self, exc: Exception) -> None:
        self.failed = _disk_message(self.path, exc, self.samples_written)
        # HDF5 cannot carry on after a failed write: let go of every handle now, so the part
        # already flushed stays a valid file, and keep h5py's complaints about the half-written
        # tail (printed while its objects are freed) off the user's screen.
        _silence_h5py_teardown()
        self._ds, self._text = {}, {}
        file, self._file = self._file, None
        try:
            if file is not None:
                file.close()
        except Exception:  # noqa: BLE001 - the file is already failed; closing is best effort
            pass

    def close(self) -> None:
        """Flush and close; safe to call twice and after a failure."""
        if self._file is None:
            return
        try:
            self._file.flush()
            self._file.close()
            self._file = None
        except (OSError, RuntimeError, ValueError) as exc:
            self._fail(exc)

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
