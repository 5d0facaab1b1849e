"""Events recorded beside the samples: what happened to the plate, the person and the file.

Each kind is a frozen dataclass; :data:`RecordedEvent` is their union, handled with
``match``/``isinstance``. In a session file an event is one JSON object in ``/events/text``
(docs/file-format.md): ``kind``, ``sample_index`` (samples written before it) and the
fields of its class. :func:`event_to_json` writes that form and :func:`event_from_json`
reads it back; an event a newer midfoot wrote (or anything not understood) is kept as
:class:`UnknownEvent` rather than dropped, and a malformed one is skipped.

``t_s`` is filled in by the reader from ``sample_index`` (the time of the sample the event
precedes); events made live carry the plate time they happened at.

This module also holds the vocabulary every layer shares: :data:`STANCES`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

# The three stances midfoot coaches (docs/analysis-methods.md): both feet flat, or the
# kickstand stance with the named foot leading and the other on its toes.
STANCES = ("bilateral", "kickstand-left", "kickstand-right")
# A JSON event nested deeper than this is not one midfoot wrote.
MAX_EVENT_BYTES = 1 << 20


@dataclass(frozen=True)
class _Event:
    """Fields every event has.

    Attributes
    ----------
    sample_index : int
        Samples recorded before the event (-1 when not known yet).
    t_s : float
        Series time of the event (NaN until a reader or the live session sets it).
    """

    sample_index: int = field(default=-1, kw_only=True)
    t_s: float = field(default=math.nan, kw_only=True)


@dataclass(frozen=True)
class CalibrationChanged(_Event):
    """New offsets and gains apply from this sample on (a tare, a re-calibration).

    ``calibration`` is the :meth:`daq.calibration.Calibration.to_dict` form.
    """

    calibration: dict[str, Any]
    KIND = "calibration"


@dataclass(frozen=True)
class Tared(_Event):
    """The plate was tared (the :class:`CalibrationChanged` before it holds the offsets)."""

    automatic: bool = False
    KIND = "tare"


@dataclass(frozen=True)
class StanceChanged(_Event):
    """The person stands in ``stance`` from here on, with this foot setup.

    ``told`` is True when a person said so (a key, a menu, a review edit) and False when
    midfoot inferred it from the data.
    """

    stance: str
    foot_length_mm: float | None = None
    heel_y_mm: float | None = None
    stance_width_mm: float | None = None
    told: bool = True
    KIND = "stance"


@dataclass(frozen=True)
class WeighedIn(_Event):
    """The person was weighed standing still: ``body_mass_kg``."""

    body_mass_kg: float
    KIND = "weigh-in"


@dataclass(frozen=True)
class RepMarked(_Event):
    """The live analyser counted a rep (the analysis of the file itself is the truth)."""

    index: int
    start_s: float
    bottom_s: float
    lockout_s: float
    zone_at_bottom: str = ""
    faults: tuple[str, ...] = ()
    KIND = "rep"


@dataclass(frozen=True)
class Disconnected(_Event):
    """The plate stopped answering; ``message`` says how."""

    message: str = ""
    KIND = "disconnect"


@dataclass(frozen=True)
class Reconnected(_Event):
    """The plate is back: its clock and sequence restart at this sample."""

    KIND = "reconnect"


@dataclass(frozen=True)
class ChannelsChanged(_Event):
    """The plate began sending ``n_channels`` channels per sample.

    Frames with another count than the recording's are not stored (``dropped_frames`` so
    far).
    """

    n_channels: int
    recording_channels: int
    dropped_frames: int = 0
    KIND = "channels"


@dataclass(frozen=True)
class FramesRejected(_Event):
    """Frames the recorder could not store as they came (counted, then the stream goes on)."""

    count: int
    reason: str
    KIND = "rejected"


@dataclass(frozen=True)
class NoteAdded(_Event):
    """A free-text note about the session at this moment."""

    text: str
    KIND = "note"


@dataclass(frozen=True)
class UnknownEvent(_Event):
    """An event of a kind this version does not know, kept as it was stored."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    KIND = ""


RecordedEvent = (
    CalibrationChanged
    | Tared
    | StanceChanged
    | WeighedIn
    | RepMarked
    | Disconnected
    | Reconnected
    | ChannelsChanged
    | FramesRejected
    | NoteAdded
    | UnknownEvent
)

EVENT_CLASSES: dict[str, type] = {
    cls.KIND: cls
    for cls in (
        CalibrationChanged,
        Tared,
        StanceChanged,
        WeighedIn,
        RepMarked,
        Disconnected,
        Reconnected,
        ChannelsChanged,
        FramesRejected,
        NoteAdded,
    )
}


def register_event(cls: type) -> type:
    """Make an event class of another layer (drills, review edits) readable by kind.

    Parameters
    ----------
    cls : type
        A frozen dataclass derived from one of this module's events' base, with a ``KIND``.

    Returns
    -------
    type
        ``cls``, so this works as a decorator.
    """
    EVENT_CLASSES[cls.KIND] = cls
    return cls


# -- drills (analysis/drills.py): each event carries ``text`` in words, so a review or a
# report that knows nothing of drills can still list what happened.


@register_event
@dataclass(frozen=True)
class DrillStarted(_Event):
    """A drill began at plate time ``start_s`` with these (resolved) ``settings``."""

    drill: str
    settings: dict[str, Any] = field(default_factory=dict)
    stance: str = ""
    start_s: float = math.nan
    text: str = ""
    KIND = "drill-start"


@register_event
@dataclass(frozen=True)
class DrillTargetShown(_Event):
    """A drill instruction or target appeared (``shown_s``) until ``until_s`` (plate time).

    ``centre_mm`` and ``half_width_mm`` place a target band along the drill's axis, from
    the person's standing baseline (+ right or forward); NaN where there is no band.
    ``direction_deg`` is the lean direction of a limits trial (0 forward, 90 right).
    """

    drill: str
    index: int
    phase: str
    label: str
    shown_s: float
    until_s: float
    centre_mm: float = math.nan
    half_width_mm: float = math.nan
    direction_deg: float = math.nan
    text: str = ""
    KIND = "drill-shown"


@register_event
@dataclass(frozen=True)
class DrillTargetHit(_Event):
    """The person held a drill target for the whole hold time (at ``held_s``)."""

    drill: str
    index: int
    label: str
    entered_s: float
    held_s: float
    text: str = ""
    KIND = "drill-hit"


@register_event
@dataclass(frozen=True)
class DrillTrialScored(_Event):
    """The scores of one drill trial (a target, a pace, a direction): ``scores`` by name."""

    drill: str
    index: int
    label: str
    scores: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    KIND = "drill-trial"


@register_event
@dataclass(frozen=True)
class DrillScored(_Event):
    """The drill ended: its whole result (``analysis.drills.DrillResult.to_dict``)."""

    drill: str
    result: dict[str, Any] = field(default_factory=dict)
    completed: bool = True
    text: str = ""
    KIND = "drill-score"


def event_kind(event: object) -> str:
    """The ``kind`` string an event is stored under."""
    if isinstance(event, UnknownEvent):
        return event.kind
    return str(type(event).KIND)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_to_json(event: object, sample_index: int) -> str:
    """The JSON text stored for ``event`` recorded after ``sample_index`` samples.

    Parameters
    ----------
    event : RecordedEvent
        Any recorded event.
    sample_index : int
        Samples written before it.

    Returns
    -------
    str
        One JSON object: ``kind``, ``sample_index`` and the event's own fields.
    """
    if isinstance(event, UnknownEvent):
        body = dict(event.data)
    else:
        body = {k: _plain(v) for k, v in asdict(event).items() if k not in ("sample_index", "t_s")}
    return json.dumps(
        {"kind": event_kind(event), "sample_index": int(sample_index), **body},
        allow_nan=False,
        default=str,
    )


def _coerce(cls: type, name: str, value: object) -> object:
    """A stored field value as the dataclass field wants it; ValueError if it cannot be."""
    wanted = {f.name: f.type for f in fields(cls)}[name]
    text = str(wanted)
    if value is None:
        if "None" in text:
            return None
        if "float" in text:
            return math.nan
        raise ValueError(name)
    if text.startswith("tuple"):
        if not isinstance(value, list | tuple):
            raise ValueError(name)
        return tuple(str(v) for v in value)
    if text.startswith("dict"):
        if not isinstance(value, dict):
            raise ValueError(name)
        return value
    if text.startswith("bool"):
        if not isinstance(value, bool):
            raise ValueError(name)
        return value
    if text.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(name)
        if not math.isfinite(value) or abs(value) > 2**62:
            raise ValueError(name)
        return int(value)
    if text.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(name)
        return float(value)
    if text.startswith("str"):
        return str(value)
    return value


def event_from_json(text: str | bytes) -> RecordedEvent | None:
    """Parse one stored event; None when it is not an event at all.

    Never raises: hostile text (not JSON, not an object, nested thousands deep, wrong field
    types) gives None, and a well-formed event of an unknown kind an :class:`UnknownEvent`.

    Parameters
    ----------
    text : str or bytes
        One entry of ``/events/text``.

    Returns
    -------
    RecordedEvent or None
        The event with ``sample_index`` set (``t_s`` still NaN).
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if len(text) > MAX_EVENT_BYTES:
            return None
        data = json.loads(text)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    index = data.get("sample_index", -1)
    if isinstance(index, bool) or not isinstance(index, int | float) or not math.isfinite(index):
        return None
    index = int(index)
    kind = data["kind"]
    cls = EVENT_CLASSES.get(kind)
    rest = {k: v for k, v in data.items() if k not in ("kind", "sample_index", "t_s")}
    if cls is None:
        return UnknownEvent(kind=kind, data=rest, sample_index=index)
    names = {f.name for f in fields(cls)} - {"sample_index", "t_s"}
    try:
        kwargs = {k: _coerce(cls, k, v) for k, v in rest.items() if k in names}
        return cls(**kwargs, sample_index=index)
    except (TypeError, ValueError):
        return None


def with_time(event: RecordedEvent, t_s: float) -> RecordedEvent:
    """A copy of ``event`` at series time ``t_s``."""
    return replace(event, t_s=float(t_s))


# -- review edits ---------------------------------------------------------------------------
# A person's corrections made while reviewing a closed recording (``midfoot review``). They
# are appended to the file's events (the samples are never rewritten) and carry an
# ``edit_id`` so a later :class:`EditUndone` can take one back; the detector's own result is
# what the file gives without them (analysis/edits.py applies them).


@register_event
@dataclass(frozen=True)
class AthleteSet(_Event):
    """The recording is of ``athlete`` (wins over the name it was recorded with)."""

    athlete: str
    edit_id: str = ""
    KIND = "athlete"


@register_event
@dataclass(frozen=True)
class RepAdded(_Event):
    """A rep the detector missed, timed by a person (series seconds)."""

    start_s: float
    bottom_s: float
    lockout_s: float
    edit_id: str = ""
    KIND = "rep-added"


@register_event
@dataclass(frozen=True)
class RepRemoved(_Event):
    """The rep whose start-to-lockout span holds ``at_s`` is not a rep (or is two merged)."""

    at_s: float
    edit_id: str = ""
    KIND = "rep-removed"


@register_event
@dataclass(frozen=True)
class StanceEdited(_Event):
    """From ``start_s`` to ``end_s`` (series seconds) the person stood in ``stance``."""

    start_s: float
    end_s: float
    stance: str
    edit_id: str = ""
    KIND = "stance-edited"


@register_event
@dataclass(frozen=True)
class EditUndone(_Event):
    """The edit with ``edit_id`` (a note: ``note:<sample_index>:<text>``) is taken back."""

    edit_id: str
    KIND = "undo"
