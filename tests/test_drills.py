"""Drills scored against the scripted truth of virtual-plate drill people.

The pipeline tests run the real thing: a drill person on the virtual plate (sim://) read by
the acquisition thread of a live session, tared at start-up, the drill a block tap of that
session. Plate time runs faster than the wall clock (``speed``) so the file stays short.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.drills import (
    DrillRun,
    DrillSettings,
    drill_plan,
    foot_shares_pct,
    result_from_dict,
    score_series,
    theoretical_limit_mm,
)
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.events import (
    DrillScored,
    DrillStarted,
    DrillTargetHit,
    DrillTargetShown,
    DrillTrialScored,
    event_from_json,
    event_to_json,
)
from daq.reader import read_recording
from daq.series import PlateSeries
from gui.drill_session import DrillSession
from gui.session import LiveSession, virtual_plate_url
from hardware.drill_people import (
    DRILL_PERSON_NAMES,
    behaviour,
    forget_screen,
    make_drill_person,
    watch_screen,
)

SPEED = 4.0
REACTION_TOLERANCE_S = 0.1


def run_drills(specs: list[tuple[str, str, str, int]], record: Path | None = None):
    """Drill people through sim:// -> acquisition -> live session -> drill, side by side.

    ``specs`` are (drill, behaviour, settings text, seed); each plays on its own virtual
    plate at SPEED x real time (a busy machine must not stall a reader past the plate's
    2 s buffer, which would lose samples as a full serial port does). The first records
    into ``record`` when given. Returns [(result, truth)] in the order given.
    """
    runs = []
    for i, (drill, how, text, seed) in enumerate(specs):
        settings = DrillSettings.from_text(text)
        name = f"drill-{drill}-{how}"
        person = make_drill_person(name, settings, seed=seed)
        url = virtual_plate_url(name, 80, seed=seed, speed=SPEED,
                                extra={"drill": settings.to_text()})
        session = LiveSession(url, StanceSetup("bilateral"))
        if record is not None and i == 0:
            session.start_recording(str(record))
        drill_session = DrillSession(session, settings)
        # The person watches the drill's screen (registered before the plate opens).
        drill_session.watchers.append(watch_screen(url).see)
        runs.append((session, drill_session, person))
    longest = max(person.scenario.duration_s for _, _, person in runs)
    out = []
    try:
        for session, _, _ in runs:
            session.start()
        deadline = time.monotonic() + longest / SPEED + 30.0
        while not all(d.finished for _, d, _ in runs):
            assert time.monotonic() < deadline, "the drill people did not finish in time"
            for session, _, _ in runs:
                session.poll()
            time.sleep(0.05)
        for session, d, person in runs:
            result = d.finish()
            if session.status.recording_path:
                session.stop_recording()
            out.append((result, person.truth))
    finally:
        for session, _, _ in runs:
            session.stop()
            forget_screen(session.url)
    for (session, _, person), (result, _) in zip(runs, out, strict=True):
        assert session.status.dropped == 0, person.truth.name
        assert result.completed
    return out


def _close(a: object, b: object) -> bool:
    """Equal, floats to 1e-9 relative (live sums in another order than offline)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


# -- lateral ------------------------------------------------------------------------------------

LATERAL = "drill=lateral,targets=4"
LATERAL_PEOPLE = ("perfect", "late", "overshooting", "weak-left", "drifting")


@pytest.fixture(scope="module")
def lateral(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The five lateral people, side by side; the perfect one recorded."""
    path = tmp_path_factory.mktemp("lateral") / "lateral.h5"
    got = run_drills([("lateral", how, LATERAL, 11 + i) for i, how in enumerate(LATERAL_PEOPLE)],
                     record=path)
    return {"path": path, **dict(zip(LATERAL_PEOPLE, got, strict=True))}


def test_lateral_perfect_person_recorded_and_rescored_offline(lateral: dict) -> None:
    path = lateral["path"]
    result, truth = lateral["perfect"]
    s = result.scores
    assert s["success"] == 1.0
    assert s["asymmetry"]["weaker_side"] is None
    assert s["drift_outs"] == 0
    assert s["overshoot_pct"] < 10.0
    # The measured range is the person's own reach (sway adds a few mm).
    assert result.range_mm == pytest.approx((truth.reach_mm["left"], truth.reach_mm["right"]),
                                            abs=8.0)
    for trial, scripted in zip(result.trials, truth.trials, strict=True):
        assert trial["label"] == scripted.label
        assert abs(trial["reaction_time_s"] - scripted.reaction_s) < REACTION_TOLERANCE_S

    recording = read_recording(path)
    kinds = [type(e) for e in recording.events]
    assert kinds.count(DrillStarted) == 1
    plan = drill_plan(DrillSettings.from_text(LATERAL))
    assert kinds.count(DrillTargetShown) == len(plan)
    assert kinds.count(DrillTrialScored) == 4
    assert kinds.count(DrillTargetHit) == 4
    scored = [e for e in recording.events if isinstance(e, DrillScored)]
    assert len(scored) == 1
    assert scored[0].completed
    assert _close(scored[0].result, result.to_dict())
    targets = [e for e in recording.events if isinstance(e, DrillTargetShown)
               and e.phase == "target"]
    assert [t.label for t in targets] == ["left", "right", "left", "right"]
    assert all(t.centre_mm < 0 for t in targets[::2])
    assert all(t.centre_mm > 0 for t in targets[1::2])
    assert all(t.text for t in recording.events if isinstance(t, DrillTargetShown))
    # The same drill scored on the whole recorded series: the same result.
    offline = score_series(recording)
    assert _close(offline.to_dict(), result.to_dict())


@pytest.mark.parametrize(("drill", "text"), [
    ("lateral", "drill=lateral,targets=2"),
    # The rhythmic drill with a given range tracks from its first seconds (no range to
    # measure first): a late start once showed the target and the cursor out of step.
    ("rhythmic", "drill=rhythmic,range_left_mm=90,range_right_mm=90,cycle_s=2,cycles=3"),
])
def test_a_drill_that_starts_late_is_followed_and_rescored_as_it_ran(
    tmp_path: Path, drill: str, text: str
) -> None:
    """A drill that first sees the plate late (a busy machine, a slow start-up tare).

    Its person starts when its screen shows the drill started, so the scripted reaction
    (and tracking lag) holds; and rescoring the file starts the drill where it started
    live, so both give the same scores from the same samples (found again from the
    samples, the start would be where an idle machine would have started: 2 s after the
    person stepped on).
    """
    settings = DrillSettings.from_text(text)
    name = f"drill-{drill}-late"
    url = virtual_plate_url(name, 80, seed=21, speed=SPEED,
                            extra={"drill": settings.to_text(), "loop": "0"})
    person = make_drill_person(name, settings, seed=21)
    screen = watch_screen(url)
    session = LiveSession(url, StanceSetup("bilateral"))
    path = tmp_path / "late-start.h5"
    session.start_recording(str(path))
    seen: list[float] = []
    session.add_tap(lambda block: seen.append(float(block.t_s[-1])) if len(block) else None)
    late_s = person.truth.start_s + 2.5
    try:
        session.start()
        deadline = time.monotonic() + 30.0
        # The drill opens only once the person has stood well past its usual start.
        while not seen or seen[-1] < late_s:
            assert time.monotonic() < deadline, "the plate sent nothing"
            session.poll()
            time.sleep(0.02)
        live = DrillSession(session, settings)
        live.watchers.append(screen.see)
        deadline = time.monotonic() + person.scenario.duration_s / SPEED + 30.0
        while not live.finished:
            assert time.monotonic() < deadline, "the drill did not finish in time"
            session.poll()
            time.sleep(0.05)
        result = live.finish()
        session.stop_recording()
    finally:
        session.stop()
        forget_screen(url)
    assert session.status.dropped == 0
    assert result.start_s > late_s
    assert screen.start_s == result.start_s
    late = behaviour("late")
    if drill == "lateral":
        reactions = [t["reaction_time_s"] for t in result.trials]
        assert len(reactions) == 2
        assert all(abs(r - late.reaction_s) < REACTION_TOLERANCE_S for r in reactions)
        assert result.scores["success"] == 1.0
    else:
        (pace,) = result.trials
        assert pace["lag_s"] == pytest.approx(late.lag_s, abs=0.1)
        assert pace["amplitude_pct"] == pytest.approx(100.0, abs=15.0)
        assert pace["directional_control_pct"] > 80.0
    recording = read_recording(path)
    stored = [e for e in recording.events if isinstance(e, DrillScored)]
    rescored = score_series(dataclasses.replace(
        recording, events=tuple(e for e in recording.events if e not in stored)))
    assert _close(rescored.to_dict(), result.to_dict())
    # The cause: found again from the samples, the start is the idle machine's.
    again = DrillRun(settings, StanceSetup("bilateral"))
    again.feed(recording)
    assert again.start_s == pytest.approx(person.truth.start_s, abs=0.05)


def test_lateral_late_person_reaction_time_is_the_scripted_delay(lateral: dict) -> None:
    result, truth = lateral["late"]
    assert truth.behaviour.reaction_s == pytest.approx(0.8)
    for trial, scripted in zip(result.trials, truth.trials, strict=True):
        assert abs(trial["reaction_time_s"] - scripted.reaction_s) < REACTION_TOLERANCE_S
    assert result.scores["success"] == 1.0
    assert result.scores["time_to_target_s"] > result.scores["reaction_time_s"] + 0.3


def test_lateral_overshooting_person_overshoot_measured(lateral: dict) -> None:
    result, truth = lateral["overshooting"]
    for trial, scripted in zip(result.trials, truth.trials, strict=True):
        want_mm = scripted.peak_mm - scripted.aim_mm
        assert trial["overshoot_mm"] == pytest.approx(want_mm, abs=0.2 * want_mm + 3.0)
        assert trial["overshoot_pct"] == pytest.approx(
            100 * truth.behaviour.overshoot_frac, abs=10.0)
        # Going through the band and coming back is not drifting out of it.
        assert trial["drift_outs"] == 0
    assert result.scores["success"] == 1.0


def test_lateral_weak_side_is_flagged(lateral: dict) -> None:
    result, truth = lateral["weak-left"]
    per = result.scores["per_side"]
    assert truth.behaviour.weak_side == "left"
    assert per["left"]["success"] == 0.0
    assert per["right"]["success"] == 1.0
    assert result.scores["asymmetry"]["weaker_side"] == "left"
    assert "weaker side left" in result.summary_text()


def test_lateral_drifting_person_drifts_out_once_per_target(lateral: dict) -> None:
    result, truth = lateral["drifting"]
    for trial, scripted in zip(result.trials, truth.trials, strict=True):
        assert trial["drift_outs"] == scripted.drift_outs == 1
    # They come back in and still hold, later than they first got there.
    assert result.scores["success"] == 1.0
    for trial in result.trials:
        assert trial["held_after_s"] > trial["time_to_target_s"] + 2.0 + 0.5


# -- rhythmic -----------------------------------------------------------------------------------

RHYTHMIC = "drill=rhythmic,cycles=3"


def test_rhythmic_people_against_their_scripts() -> None:
    (perfect, _), (late, late_truth), (wide, wide_truth), (weak, _), (drift, _) = run_drills([
        ("rhythmic", "perfect", RHYTHMIC, 21),
        ("rhythmic", "late", RHYTHMIC, 22),
        ("rhythmic", "overshooting", RHYTHMIC, 23),
        ("rhythmic", "weak-right", RHYTHMIC, 24),
        ("rhythmic", "drifting", RHYTHMIC, 25),
    ])
    assert list(perfect.scores["per_pace"]) == ["3 s per cycle", "2 s per cycle", "1 s per cycle"]
    for pace in perfect.scores["per_pace"].values():
        assert pace["lag_s"] < 0.15
        assert pace["amplitude_pct"] == pytest.approx(100.0, abs=12.0)
    for pace in late.scores["per_pace"].values():
        assert pace["lag_s"] == pytest.approx(late_truth.behaviour.lag_s, abs=0.1)
        assert pace["tracking_error_mm"] > 2 * perfect.scores["tracking_error_mm"]
    assert wide.scores["amplitude_pct"] == pytest.approx(
        100 * wide_truth.behaviour.amplitude_gain, abs=12.0)
    ex = weak.scores["excursion_mm"]
    assert ex["right"] < 0.75 * ex["left"]
    assert weak.scores["excursion_asymmetry_pct"] < -25.0
    assert drift.scores["directional_control_pct"] < perfect.scores["directional_control_pct"] - 5
    assert perfect.scores["on_axis_velocity_mm_s"] > 0


# -- limits -------------------------------------------------------------------------------------


def test_limits_people_against_their_scripts() -> None:
    (perfect, truth), (late, late_truth), (weak, _), (drift, _) = run_drills([
        ("limits", "perfect", "drill=limits", 31),
        ("limits", "late", "drill=limits", 32),
        ("limits", "weak-left", "drill=limits", 33),
        ("limits", "drifting", "drill=limits", 34),
    ])
    for res, tr in ((perfect, truth), (late, late_truth)):
        for trial, scripted in zip(res.trials, tr.trials, strict=True):
            assert trial["label"] == scripted.label
            assert abs(trial["reaction_time_s"] - scripted.reaction_s) < REACTION_TOLERANCE_S
            assert trial["maximum_mm"] == pytest.approx(scripted.peak_mm, rel=0.1)
            assert trial["maximum_excursion_pct"] == pytest.approx(
                100 * scripted.peak_mm / theoretical_limit_mm(trial["direction_deg"], 1.75),
                rel=0.1)
            assert trial["endpoint_excursion_pct"] <= trial["maximum_excursion_pct"] + 1e-9
    per = perfect.scores["per_direction"]
    assert len(per) == 8
    assert perfect.scores["directional_control_pct"] > 85.0
    assert drift.scores["directional_control_pct"] < perfect.scores["directional_control_pct"] - 20
    wper = weak.scores["per_direction"]
    assert wper["left"]["maximum_excursion_pct"] < 0.75 * wper["right"]["maximum_excursion_pct"]
    # The result sets the foot zones and the lateral drill's range.
    base = perfect.base_of_support()
    assert base is not None
    assert base.x_min_mm == pytest.approx(truth.baseline_mm[0] - truth.reach_mm["left"], abs=9)
    assert base.x_max_mm == pytest.approx(truth.baseline_mm[0] + truth.reach_mm["right"], abs=9)
    assert base.y_max_mm == pytest.approx(truth.baseline_mm[1] + truth.reach_mm["forward"], abs=9)
    StanceSetup("bilateral", base_of_support=base)
    left, right = result_from_dict(perfect.to_dict()).lateral_range_mm()
    assert left == pytest.approx(truth.reach_mm["left"], rel=0.1)
    assert right == pytest.approx(truth.reach_mm["right"], rel=0.1)


# -- weight distribution ------------------------------------------------------------------------


def test_weight_people_against_their_scripts() -> None:
    text = "drill=weight,duration_s=15"
    (even, _), (heavy, heavy_truth), (drift, _) = run_drills([
        ("weight", "perfect", text, 41),
        ("weight", "weak-left", text, 42),
        ("weight", "drifting", text, 43),
    ])
    assert even.scores["time_in_band_pct"] > 95.0
    assert even.scores["heavier_side"] is None
    # The shares come from the absolute CoP: the uncalibrated virtual plate's gain errors
    # move it by a few per cent (the lateral drills measure from the baseline instead).
    assert heavy.scores["mean_right_pct"] == pytest.approx(heavy_truth.trials[0].aim_mm, abs=6.0)
    assert heavy.scores["heavier_side"] == "right"
    assert heavy.scores["time_in_band_pct"] < 5.0
    assert 20.0 < drift.scores["time_in_band_pct"] < 95.0
    assert drift.scores["max_deviation_pct"] > 7.0


# -- without the plate: the scoring itself ------------------------------------------------------


def _person_series(name: str, text: str, seed: int = 0, rate_hz: float = 80.0) -> PlateSeries:
    person = make_drill_person(name, DrillSettings.from_text(text), seed=seed)
    t = np.arange(0.0, person.scenario.duration_s, 1.0 / rate_hz)
    x, y = person.scenario.cop_mm(t)
    return PlateSeries.from_arrays(t, person.scenario.fz_n(t), np.c_[x, y])


@pytest.mark.parametrize("name", ["drill-lateral-late", "drill-rhythmic-perfect",
                                  "drill-limits-overshooting", "drill-weight-drifting"])
def test_blocks_of_any_size_give_the_whole_series_result(name: str) -> None:
    drill = name.split("-")[1]
    texts = {"lateral": "drill=lateral,targets=2",
             "rhythmic": "drill=rhythmic,cycles=2,cycle_s=2/1",
             "limits": "drill=limits", "weight": "drill=weight,duration_s=10"}
    settings = DrillSettings.from_text(texts[drill])
    series = _person_series(name, settings.to_text(), seed=5)
    whole = score_series(series, settings)
    rng = np.random.default_rng(1)
    run = DrillRun(settings)
    i = 0
    while i < len(series):
        n = int(rng.integers(1, 200))
        run.feed(series.slice(i, i + n))
        run.view()  # views in between change nothing
        i += n
    run.finish()
    assert whole.completed
    assert _close(run.result.to_dict(), whole.to_dict())


def test_nobody_on_the_plate_scores_nothing_and_says_so() -> None:
    t = np.arange(0.0, 30.0, 1 / 80)
    series = PlateSeries.from_arrays(t, np.zeros_like(t), np.full((t.size, 2), np.nan))
    result = score_series(series, DrillSettings("lateral"))
    assert not result.completed
    assert math.isnan(result.start_s)
    assert result.trials == []
    assert result.to_dict()["scores"]["success"] is None
    with pytest.raises(MidfootError, match="holds no drill"):
        score_series(series)


def test_hostile_blocks_do_not_break_a_run() -> None:
    run = DrillRun(DrillSettings("lateral"))
    empty = PlateSeries.empty()
    assert run.feed(empty) == []
    t = np.arange(0, 5, 1 / 80)
    bad = PlateSeries.from_arrays(t, np.full_like(t, np.nan), np.full((t.size, 2), np.inf),
                                  valid=np.zeros(t.size, dtype=bool))
    assert run.feed(bad) == []
    assert run.view().state == "waiting"


def test_settings_text_round_trip_and_limits() -> None:
    s = DrillSettings("rhythmic", level="hard", axis="ap", cycle_s=(2.5, 1.5), seed=9)
    assert DrillSettings.from_text(s.to_text()) == s
    assert DrillSettings.from_dict(s.to_dict()) == s
    assert s.resolved().amplitude_pct == 65.0
    for bad in ("drill=nope", "drill=lateral,hold_s=0", "drill=lateral,wobble=1",
                "drill=lateral,band_pct=x", "level=easy", "drill=lateral,range_left_mm=50"):
        with pytest.raises(MidfootError):
            DrillSettings.from_text(bad)


def test_lateral_plan_random_order_is_balanced_and_seeded() -> None:
    s = DrillSettings("lateral", order="random", timing="random", targets=10, seed=4)
    sides = [p.label for p in drill_plan(s) if p.kind == "target"]
    assert sorted(sides) == ["left"] * 5 + ["right"] * 5
    assert sides == [p.label for p in drill_plan(s) if p.kind == "target"]
    assert sides != [p.label for p in drill_plan(DrillSettings("lateral", order="alternate"))
                     if p.kind == "target"]
    gaps = {round(p.t1_s - p.t0_s, 6) for p in drill_plan(s) if p.kind == "centre"}
    assert len(gaps) > 3  # random rests differ
    given = DrillSettings("lateral", range_left_mm=60.0, range_right_mm=80.0)
    assert not [p for p in drill_plan(given) if p.kind == "range"]


def test_theoretical_limits_and_foot_shares() -> None:
    cog_mm = 0.5527 * 1750.0
    assert theoretical_limit_mm(0.0, 1.75) == pytest.approx(cog_mm * math.tan(math.radians(8)))
    assert theoretical_limit_mm(180.0, 1.75) == pytest.approx(
        cog_mm * math.tan(math.radians(4.5)))
    assert theoretical_limit_mm(90.0, 1.75) == pytest.approx(cog_mm * math.tan(math.radians(8)))
    assert theoretical_limit_mm(270.0, 1.75) == pytest.approx(theoretical_limit_mm(90.0, 1.75))
    diag = theoretical_limit_mm(135.0, 1.75)
    assert theoretical_limit_mm(180.0, 1.75) < diag < theoretical_limit_mm(90.0, 1.75)
    assert theoretical_limit_mm(0.0, 2.0) > theoretical_limit_mm(0.0, 1.5)
    left, right = foot_shares_pct(np.array([0.0, 100.0, -50.0, 500.0]), 200.0)
    assert right.tolist() == [50.0, 100.0, 25.0, 100.0]
    assert (left + right).tolist() == [100.0] * 4


def test_drill_events_survive_the_file_format() -> None:
    events = [
        DrillStarted(drill="lateral", settings={"hold_s": 2.0, "cycle_s": [3.0]}, start_s=3.1,
                     text="lateral started"),
        DrillTargetShown(drill="lateral", index=0, phase="target", label="left", shown_s=5.0,
                         until_s=11.0, centre_mm=-63.0, half_width_mm=9.0, text="shift left"),
        DrillTargetHit(drill="lateral", index=0, label="left", entered_s=6.0, held_s=8.0),
        DrillTrialScored(drill="lateral", index=0, label="left",
                         scores={"success": True, "reaction_time_s": 0.3, "x": None}),
        DrillScored(drill="lateral", result={"scores": {"per_side": {"left": {"n": 1}}}}),
    ]
    for event in events:
        back = event_from_json(event_to_json(event, 7))
        assert back == event.__class__(**{**event.__dict__, "sample_index": 7})
    # A scripted-name list the sim:// URL accepts.
    assert "drill-lateral-weak-left" in DRILL_PERSON_NAMES
