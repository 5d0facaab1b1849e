"""Appending events to a closed session file: review edits, notes, the athlete's name.

A recording's samples are never rewritten. An edit is one more JSON entry at the end of
``/events/text`` (with its host time in ``/events/host_t_s``), in the layout the recorder
writes (docs/file-format.md), so any reader that knows the file knows the edit and one that
does not keeps it as an unknown event. A file still held by a recorder (or left flagged by
one that was killed) is not touched: HDF5 allows one writer only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from daq.errors import MidfootError
from daq.events import event_to_json
from daq.session import FORMAT_NAME, read_superblock

_STR = h5py.string_dtype("utf-8")
_WRITE_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)


def writable_reason(path: str | Path) -> str | None:
    """Why edits cannot be saved to ``path`` (one sentence), or None when they can.

    Parameters
    ----------
    path : str or Path
        A recording.
    """
    path = Path(path)
    block = read_superblock(path)
    if block is None:
        return (
            f"{path.name} is not a midfoot session (.h5): edits are stored in session files "
            "only, so record to HDF5 or use export to make one"
        )
    if block.writer_flags:
        return (
            f"{path.name} is still being recorded (or its recorder was stopped by force): "
            "edits can be saved once the recording has ended"
        )
    if block.stored_eof > path.stat().st_size:
        return f"{path.name} is cut short: edits are not written into a damaged file"
    return None


def append_events(
    path: str | Path,
    events: Sequence[tuple[object, int]],
    host_t_s: float | None = None,
) -> None:
    """Append events to a closed session file.

    Parameters
    ----------
    path : str or Path
        A midfoot session (.h5) no recorder has open.
    events : sequence of (event, int)
        Each event with the ``sample_index`` it is stored under (the samples before it).
    host_t_s : float, optional
        Host clock stored beside them (default: now).

    Raises
    ------
    MidfootError
        The file is not a closed midfoot session, or cannot be written.
    """
    path = Path(path)
    if not path.is_file():
        raise MidfootError(f"{path} does not exist: check the file name")
    reason = writable_reason(path)
    if reason is not None:
        raise MidfootError(reason)
    texts = [event_to_json(event, int(index)) for event, index in events]
    if not texts:
        return
    stamp = time.time() if host_t_s is None else float(host_t_s)
    try:
        with h5py.File(path, "r+", locking=False) as f:
            if f.attrs.get("format") != FORMAT_NAME:
                raise MidfootError(
                    f"{path.name} is an HDF5 file but not a midfoot session: edits are stored "
                    "in recordings made by midfoot"
                )
            group = f.require_group("events")
            if "text" not in group:
                # A session from before events existed: give it the recorder's layout.
                group.create_dataset("host_t_s", (0,), maxshape=(None,), dtype="<f8", chunks=(256,))
                group.create_dataset("text", (0,), maxshape=(None,), dtype=_STR, chunks=(256,))
            t_ds, s_ds = group["host_t_s"], group["text"]
            k = min(t_ds.shape[0], s_ds.shape[0])
            t_ds.resize(k + len(texts), axis=0)
            s_ds.resize(k + len(texts), axis=0)
            t_ds[k:] = np.full(len(texts), stamp)
            s_ds[k:] = np.array(texts, dtype=object)
    except MidfootError:
        raise
    except _WRITE_ERRORS as exc:
        raise MidfootError(
            f"cannot save the edit to {path.name} ({exc}): check the file is yours to write "
            "and not open in another program"
        ) from exc
