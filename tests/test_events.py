"""Tests of daq.events (recorded events) and analysis.events (what analysers say)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.events import AnalysisEvent, HoldUpdated, RepCompleted
from analysis.reps import Rep
from daq.events import (
    EVENT_CLASSES,
    STANCES,
    CalibrationChanged,
    ChannelsChanged,
    Disconnected,
    FramesRejected,
    NoteAdded,
    Reconnected,
    RepMarked,
    StanceChanged,
    Tared,
    UnknownEvent,
    WeighedIn,
    _Event,
    event_from_json,
    event_kind,
    event_to_json,
    register_event,
    with_time,
)

EXAMPLES = [
    CalibrationChanged(calibration={"offset_counts": [1.0, 2.0]}),
    Tared(automatic=True),
    StanceChanged(stance="kickstand-left", foot_length_mm=260.0, heel_y_mm=-60.0, told=False),
    WeighedIn(body_mass_kg=71.5),
    RepMarked(index=2, start_s=1.0, bottom_s=2.0, lockout_s=3.0, faults=("heel_shift",)),
    Disconnected(message="unplugged"),
    Reconnected(),
    ChannelsChanged(n_channels=8, recording_channels=4, dropped_frames=3),
    FramesRejected(count=5, reason="a LOG frame with a NUL byte"),
    NoteAdded(text="felt good"),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_kind_round_trips(event) -> None:
    text = event_to_json(event, 1234)
    back = event_from_json(text)
    assert back == replace(event, sample_index=1234)
    assert back.sample_index == 1234
    assert with_time(back, 5.0).t_s == 5.0
    assert json.loads(text)["kind"] == event_kind(event)


def test_every_class_is_in_the_table() -> None:
    # Other layers register their own kinds (C3D events, drills, review edits) beside these.
    assert {type(e) for e in EXAMPLES} <= set(EVENT_CLASSES.values())
    assert len(STANCES) == 3


def test_unknown_kinds_are_kept_not_dropped() -> None:
    event = event_from_json('{"kind": "drill-target", "sample_index": 7, "side": "left"}')
    assert isinstance(event, UnknownEvent)
    assert event.kind == "drill-target"
    assert event.data == {"side": "left"}
    assert event_from_json(event_to_json(event, 7)) == event


def test_a_new_kind_can_be_registered() -> None:
    @register_event
    @dataclass(frozen=True)
    class Probe(_Event):
        value: float
        KIND = "probe-test"

    assert event_from_json(event_to_json(Probe(value=2.5), 3)) == Probe(value=2.5, sample_index=3)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '"a string"',
        "null",
        '{"sample_index": 3}',
        '{"kind": 5}',
        '{"kind": "stance"}',  # no stance given
        '{"kind": "stance", "stance": "x", "told": "yes"}',
        '{"kind": "weigh-in", "body_mass_kg": "heavy"}',
        '{"kind": "rep", "index": 1e300, "start_s": 0, "bottom_s": 0, "lockout_s": 0}',
        '{"kind": "tare", "sample_index": "x"}',
        '{"kind": "tare", "sample_index": NaN}',
        "[" * 100_000 + "]" * 100_000,
        '{"kind": "note", "text": "' + "x" * 2_000_000 + '"}',
    ],
)
def test_hostile_text_gives_none_never_an_exception(text: str) -> None:
    assert event_from_json(text) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_random_text_never_raises(text) -> None:
    event = event_from_json(text)
    assert event is None or isinstance(event, _Event)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["kind", "sample_index", "stance", "told", "index", "text", "x"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
                  st.lists(st.integers(), max_size=3)),
    )
)
def test_random_objects_never_raise(data: dict) -> None:
    event = event_from_json(json.dumps(data))
    assert event is None or isinstance(event, _Event)


def test_analysis_events_are_typed() -> None:
    rep = Rep(
        index=0, start_s=0.0, bottom_s=1.0, lockout_s=2.0, end_s=2.0, stance="bilateral",
        zone_at_bottom="midfoot", zone_fractions={}, lateral_shift_mm=None,
        lockout_shift_mm=0.0, lockout_hold_s=None, load_kg=None,
    )
    events: list[AnalysisEvent] = [RepCompleted(rep, 2.1), HoldUpdated(3.0, 0, 0.9, rep)]
    kinds = []
    for event in events:
        match event:
            case RepCompleted(rep=r):
                kinds.append(("done", r.index))
            case HoldUpdated(hold_s=h):
                kinds.append(("hold", h))
    assert kinds == [("done", 0), ("hold", 0.9)]
