"""The drill window offscreen: every drill at 1440x860 and 1024x700, nothing clipped."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets  # noqa: E402

from analysis.drills import DrillSettings, DrillView  # noqa: E402
from analysis.stance import StanceSetup  # noqa: E402
from gui.drill_session import DrillSession  # noqa: E402
from gui.drill_window import INSTRUCTION_FRAC, DrillWindow  # noqa: E402
from gui.session import LiveSession, virtual_plate_url  # noqa: E402

pytestmark = pytest.mark.gui
SIZES = ((1440, 860), (1024, 700), (3840, 2160))


def _inside(window: QtWidgets.QWidget) -> list[str]:
    """Names of visible child widgets that leave the window, or are squeezed to nothing."""
    bad = []
    frame = window.rect()
    for child in window.findChildren(QtWidgets.QWidget):
        if not child.isVisible() or child.isWindow():
            continue
        top_left = child.mapTo(window, QtCore.QPoint(0, 0))
        rect = QtCore.QRect(top_left, child.size())
        if not frame.contains(rect) or child.width() <= 0 or child.height() <= 0:
            bad.append(f"{type(child).__name__} {rect}")
        if isinstance(child, QtWidgets.QLabel) and child.text():
            need = QtGui.QFontMetrics(child.font()).horizontalAdvance(child.text())
            if need > child.contentsRect().width():
                bad.append(f"label {child.text()!r} needs {need} px")
    return bad


def _texts_fit(window: DrillWindow) -> list[str]:
    """Canvas text items that leave the canvas or do not fit their own box."""
    canvas = window.canvas
    area = QtCore.QRectF(canvas.rect())
    bad = []
    lay = canvas.canvas_layout()
    for item in lay.texts:
        if not item.text:
            continue
        width = QtGui.QFontMetricsF(item.font).horizontalAdvance(item.text)
        height = QtGui.QFontMetricsF(item.font).height()
        if not area.contains(item.rect):
            bad.append(f"{item.text!r} at {item.rect} outside {area}")
        if width > item.rect.width() + 0.5 or height > item.rect.height() + 0.5:
            bad.append(f"{item.text!r} ({width:.0f}x{height:.0f}) in {item.rect}")
    if not area.contains(lay.figure):
        bad.append(f"figure {lay.figure} outside")
    return bad


@pytest.fixture
def drill_window(qtbot):
    made: list[tuple[DrillWindow, DrillSession]] = []

    def make(drill: str, person: str, text: str, seed: int, sound: bool = False):
        settings = DrillSettings.from_text(text)
        url = virtual_plate_url(f"drill-{drill}-{person}", 80, seed=seed, speed=6.0,
                                extra={"drill": settings.to_text()})
        session = LiveSession(url, StanceSetup("bilateral"))
        d = DrillSession(session, settings)
        w = DrillWindow(d, sound=sound)
        qtbot.addWidget(w)
        w.show()
        session.start()
        made.append((w, d))
        return w, d

    yield make
    for w, d in made:
        w.close()
        d.finish()
        d.session.stop()


def _wait_for(qtbot, d: DrillSession, pred, timeout_s: float = 60.0) -> DrillView:
    deadline = time.monotonic() + timeout_s
    while not pred(view := d.view()):
        assert time.monotonic() < deadline, "the drill did not get there in time"
        qtbot.wait(10)
    return view


def _check_sizes(qtbot, w: DrillWindow) -> None:
    for size in SIZES:
        w.resize(*size)
        qtbot.wait(30)
        assert w.size() == QtCore.QSize(*size)
        assert _inside(w) == []
        assert _texts_fit(w) == []
        first = w.canvas.canvas_layout().texts[0]
        # The main figure (the instruction) is at least 5 % of the window's height, unless a
        # long instruction had to shrink to fit the width.
        width = QtGui.QFontMetricsF(first.font).horizontalAdvance(first.text)
        assert first.font.pixelSize() >= 0.05 * size[1] or width > 0.9 * first.rect.width()
        assert first.font.pixelSize() <= INSTRUCTION_FRAC * size[1] + 1
        assert not w.grab().isNull()


@pytest.mark.parametrize(
    ("drill", "person", "text", "moment"),
    [
        ("lateral", "drifting", "drill=lateral,targets=2",
         lambda v: v.phase == "target" and bool(v.cue)),
        ("rhythmic", "perfect", "drill=rhythmic,cycles=2,cycle_s=2/1",
         lambda v: v.phase == "track"),
        ("rhythmic", "perfect", "drill=rhythmic,cycles=2,cycle_s=2,axis=ap",
         lambda v: v.phase == "track"),
        ("limits", "perfect", "drill=limits", lambda v: v.phase == "lean" and v.progress[0] >= 1),
        ("weight", "weak-left", "drill=weight,duration_s=10", lambda v: v.phase == "weight"),
    ],
)
def test_each_drill_fits_every_size(qtbot, drill_window, drill, person, text, moment) -> None:
    w, d = drill_window(drill, person, text, seed=61)
    view = _wait_for(qtbot, d, moment)
    w.canvas.set_view(view)  # hold that moment on screen while the sizes are checked
    w.timer.stop()
    _check_sizes(qtbot, w)
    if drill == "lateral":
        assert view.cue.startswith("drifting out")
        assert not view.inside
    if drill == "weight":
        assert view.right_pct > 57.0
        assert "right foot" in view.cue
    if drill == "limits":
        assert w.canvas.reached  # the polar plot of the directions done


def test_hold_ring_sound_results_and_full_screen(qtbot, drill_window) -> None:
    w, d = drill_window("lateral", "perfect", "drill=lateral,targets=2", seed=62, sound=True)
    _wait_for(qtbot, d, lambda v: v.phase == "target" and 0.2 < v.hold_fraction < 1.0)
    assert d.view().inside
    _wait_for(qtbot, d, lambda v: v.state == "done", timeout_s=60)
    qtbot.waitUntil(lambda: w.beeps == 2, timeout=3000)  # one per held target
    w.tick()
    w.timer.stop()
    assert w.canvas.headlines[0] == "100% of targets held"
    assert len(w.canvas.summary) == 2
    _check_sizes(qtbot, w)
    w.toggle_full_screen()
    qtbot.waitUntil(w.isFullScreen, timeout=3000)
    w.leave_full_screen()
    qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=3000)


def test_a_view_before_anything_arrived_draws(qtbot) -> None:
    settings = DrillSettings("lateral")
    session = LiveSession(virtual_plate_url("drill-lateral-perfect", 80, seed=63),
                          StanceSetup("bilateral"))
    d = DrillSession(session, settings)
    w = DrillWindow(d)
    qtbot.addWidget(w)
    w.show()
    w.canvas.set_view(DrillView(drill="lateral", instruction="x" * 300))
    _check_sizes(qtbot, w)
    w.close()
    d.finish()


def test_a_sequence_says_which_drill_runs(qtbot) -> None:
    from hardware.drill_people import forget_screen, watch_screen

    sequence = [DrillSettings.from_text("drill=lateral,targets=2,range_left_mm=90,"
                                        "range_right_mm=90"),
                DrillSettings.from_text("drill=rhythmic,cycles=2,cycle_s=2")]
    url = virtual_plate_url("drill-lateral-perfect", 80, seed=64, speed=6.0,
                            extra={"drill": ";".join(s.to_text() for s in sequence)})
    screen = watch_screen(url)
    session = LiveSession(url, StanceSetup("bilateral"))
    d = DrillSession(session, sequence)
    d.watchers.append(screen.see)
    w = DrillWindow(d)
    qtbot.addWidget(w)
    w.show()
    session.start()
    try:
        assert w.windowTitle() == "midfoot drill: lateral, rhythmic"
        _wait_for(qtbot, d, lambda v: v.drill == "rhythmic" and v.phase == "range")
        w.tick()
        w.timer.stop()
        assert d.position == (2, 2)
        info = w.canvas.canvas_layout().texts[1].text
        assert info.startswith("rhythmic (drill 2 of 2)")
        _check_sizes(qtbot, w)
        # The end screen keeps the first drill's scores above the second's.
        w.timer.start()
        _wait_for(qtbot, d, lambda v: v.state == "done")
        w.tick()
        w.timer.stop()
        shown = [t.text for t in w.canvas.canvas_layout().texts]
        assert any(t.startswith("lateral: ") and "targets held" in t for t in shown)
        assert any(t.startswith("directional control") for t in shown)
        _check_sizes(qtbot, w)
    finally:
        w.close()
        d.finish()
        session.stop()
        forget_screen(url)
