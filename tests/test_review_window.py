"""The review window offscreen: timeline, keys, wheel, cursor, table, overlays, edits, PNG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from pyqtgraph.Qt import QtCore, QtGui, QtTest, QtWidgets

from analysis.review import REP_COLUMNS
from daq.annotate import append_events
from daq.events import NoteAdded, UnknownEvent
from gui.cli import run_command
from gui.review_model import ReviewModel
from gui.review_window import ANALYSIS_DELAY_MS, ReviewWindow

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import growing_writer, recording, write_session  # noqa: E402

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("win")
    left = write_session(recording("hinge-kickstand-left", seed=91, n_reps=3), d / "left.h5")
    right = write_session(
        recording("hinge-kickstand-right-reversed", seed=92, n_reps=3), d / "right.h5"
    )
    append_events(left, [(NoteAdded(text="good depth"), 400),
                         (UnknownEvent(kind="drill-balance", data={"score": 7}), 500)])
    return [left, right]


@pytest.fixture
def window(qtbot, sessions: list[Path], tmp_path: Path):
    copies = []
    for p in sessions:
        c = tmp_path / p.name
        c.write_bytes(p.read_bytes())
        copies.append(c)
    w = ReviewWindow(ReviewModel(copies))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.timer.stop()


def _labels(w: ReviewWindow) -> list[str]:
    out = []
    for _, item in w._mark_items:
        if hasattr(item, "label") and item.label is not None:
            out.append(item.label.toPlainText())
        elif hasattr(item, "textItem"):
            out.append(item.textItem.toPlainText())
    return out


def test_timeline_marks_and_table(window: ReviewWindow) -> None:
    w = window
    assert w.table.rowCount() == 3
    assert w.table.item(0, 4).text() == "kickstand-left"
    spans = w.bands[0]._spans
    assert len(spans) == 3  # one band per rep
    labels = _labels(w)
    assert "good depth" in labels
    assert "drill-balance" in labels  # another kind shown by its name
    assert any(text.startswith("stance:") for text in labels)
    assert sum(text.startswith("rep ") for text in labels) == 3
    # The traces are drawn at the view's width, not every sample.
    x, _ = w.ap_curve.getData()
    assert 0 < x.size <= len(w.model.file.series)


def test_right_side_names_its_faults(window: ReviewWindow) -> None:
    window.file_box.setCurrentIndex(1)
    assert window.model.current == 1
    assert any("lateral shift" in t for t in _labels(window))
    faults_col = [key for key, _ in REP_COLUMNS].index("faults")
    assert "lateral shift" in window.table.item(0, faults_col).text()


def test_keys_jump_play_pan_and_zoom(qtbot, window: ReviewWindow) -> None:
    w = window
    rows = w.model.file.rows
    qtbot.keyClick(w, QtCore.Qt.Key.Key_N)
    assert w.model.cursor.position_s == pytest.approx(rows[0].rep.start_s)
    assert w.table.currentRow() == 0
    qtbot.keyClick(w, QtCore.Qt.Key.Key_N)
    assert w.model.cursor.position_s == pytest.approx(rows[1].rep.start_s)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_P)
    assert w.table.currentRow() == 0
    x0, x1 = w.plots[0].viewRange()[0]
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Plus)
    z0, z1 = w.plots[0].viewRange()[0]
    assert z1 - z0 == pytest.approx(0.5 * (x1 - x0), rel=0.05)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
    p0, _ = w.plots[0].viewRange()[0]
    assert p0 > z0
    qtbot.keyClick(w, QtCore.Qt.Key.Key_BracketRight)
    assert w.model.cursor.speed == 2.0
    start = w.model.cursor.position_s
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    assert w.model.cursor.playing
    qtbot.waitUntil(lambda: w.model.cursor.position_s > start + 0.3, timeout=5000)
    assert "PLAYING" in w.state_label.text()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_End)
    qtbot.waitUntil(lambda: "END OF FILE" in w.state_label.text(), timeout=2000)
    assert not w.model.cursor.playing


def test_wheel_zooms_and_click_moves_the_cursor(qtbot, window: ReviewWindow) -> None:
    w = window
    vb = w.plots[1].getViewBox()
    x0, x1 = w.plots[0].viewRange()[0]
    centre = vb.mapViewToScene(QtCore.QPointF(0.5 * (x0 + x1), 40.0))
    view = w.canvas
    pos = view.mapFromScene(centre)
    wheel = QtGui.QWheelEvent(
        QtCore.QPointF(pos), QtCore.QPointF(view.viewport().mapToGlobal(pos)),
        QtCore.QPoint(0, 0), QtCore.QPoint(0, 240), QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )
    QtWidgets.QApplication.sendEvent(view.viewport(), wheel)
    z0, z1 = w.plots[0].viewRange()[0]
    assert z1 - z0 < 0.9 * (x1 - x0)
    assert w.plots[1].viewRange()[0] == pytest.approx([z0, z1])  # the plots are linked
    target = 0.5 * (z0 + z1)
    click_at = view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(target, 40.0)))
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=click_at)
    assert w.model.cursor.position_s == pytest.approx(target, abs=0.05 * (z1 - z0))
    assert w.cursor_lines[0].value() == pytest.approx(w.model.cursor.position_s)


def test_selection_sway_and_rep_edits(window: ReviewWindow) -> None:
    w = window
    rep = w.model.file.rows[0].rep
    w.set_selection(rep.start_s, rep.lockout_s)
    assert "movement" in w.sway_label.text()
    w.set_selection(rep.start_s - 3.0, rep.start_s - 0.5)
    assert "Warning" not in w.sway_label.text()
    assert "95 % ellipse" in w.sway_label.text()
    w.seek(rep.bottom_s)
    w.remove_rep_at_cursor()
    assert w.table.rowCount() == 2
    w.set_selection(rep.start_s, rep.lockout_s)
    w.seek(rep.bottom_s)
    w.add_rep_from_selection()
    assert w.table.rowCount() == 3
    assert "(added)" in w.table.item(0, 0).text()
    w.undo()
    assert w.table.rowCount() == 2
    w.undo()
    assert w.table.rowCount() == 3
    assert "(added)" not in w.table.item(0, 0).text()


def test_overlays_tab_and_png_export(window: ReviewWindow, tmp_path: Path) -> None:
    w = window
    w.tabs.setCurrentIndex(1)
    assert "asymmetry" in w.asym_label.text()
    curves = w.overlay_plots["ml_mm"].listDataItems()
    assert sum(c.property("reps") for c in curves) == 6  # every rep of both files
    x, _ = curves[0].getData()
    assert np.isnan(x).sum() == curves[0].property("reps")  # one line per rep
    png = w.export_png(tmp_path / "overlays.png", w.tabs.currentWidget())
    image = QtGui.QImage(str(png))
    assert image.width() > 500
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 20


def test_screenshot_command_runs_headless(sessions: list[Path], tmp_path: Path) -> None:
    png = tmp_path / "review.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.pop("DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "gui.cli", "review", *map(str, sessions), "--screenshot",
         str(png), "--at", "8", "--size", "1200x800"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    image = QtGui.QImage(str(png))
    assert (image.width(), image.height()) == (1200, 800)
    row = np.array([image.pixel(x, 300) for x in range(0, 1200, 3)])
    assert np.unique(row).size > 5
    assert run_command("review", [str(tmp_path / "none.h5"), "--screenshot", str(png)]) == 2


def test_reps_arrive_from_the_background_analysis(qtbot, sessions: list[Path]) -> None:
    w = ReviewWindow(ReviewModel(sessions, analyse=False))
    qtbot.addWidget(w)
    w.show()
    # The traces are there at once; the table fills when the worker's analysis is adopted.
    assert w.ap_curve.getData()[0].size > 0
    qtbot.waitUntil(lambda: w.table.rowCount() == 3, timeout=30000)
    assert w.model.file.analysed
    assert "analysing" not in w.message.text()
    w.file_box.setCurrentIndex(1)
    qtbot.waitUntil(lambda: w.table.rowCount() == 3, timeout=30000)
    w.close()


def _drag(view, a: QtCore.QPoint, b: QtCore.QPoint, modifiers) -> None:
    """A real press, moves and release on the plots' viewport (buttons held while moving)."""
    vp = view.viewport()
    left = QtCore.Qt.MouseButton.LeftButton
    none = QtCore.Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        event = QtGui.QMouseEvent(
            kind, QtCore.QPointF(pos), QtCore.QPointF(vp.mapToGlobal(pos)), button, buttons,
            modifiers,
        )
        QtWidgets.QApplication.sendEvent(vp, event)

    send(QtCore.QEvent.Type.MouseButtonPress, a, left, left)
    for k in range(1, 11):
        p = a + (b - a) * (k / 10)
        # pyqtgraph's scene takes at most one drag move per few ms, as a hand makes them.
        QtTest.QTest.qWait(15)
        send(QtCore.QEvent.Type.MouseMove, p, none, left)
    QtTest.QTest.qWait(15)
    send(QtCore.QEvent.Type.MouseButtonRelease, b, left, none)
    QtTest.QTest.qWait(15)


def test_drag_pans_and_shift_drag_selects(window: ReviewWindow) -> None:
    w = window
    w.zoom(0.5)
    vb = w.plots[1].getViewBox()
    x0, x1 = w.plots[0].viewRange()[0]
    y = 40.0
    a = w.canvas.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x0 + 0.7 * (x1 - x0), y)))
    b = w.canvas.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x0 + 0.3 * (x1 - x0), y)))
    _drag(w.canvas, a, b, QtCore.Qt.KeyboardModifier.NoModifier)
    n0, n1 = w.plots[0].viewRange()[0]
    assert n0 == pytest.approx(x0 + 0.4 * (x1 - x0), abs=0.05 * (x1 - x0))  # dragged left
    assert n1 - n0 == pytest.approx(x1 - x0, rel=0.01)
    s0 = n0 + 0.2 * (n1 - n0)
    s1 = n0 + 0.6 * (n1 - n0)
    a = w.canvas.mapFromScene(vb.mapViewToScene(QtCore.QPointF(s0, y)))
    b = w.canvas.mapFromScene(vb.mapViewToScene(QtCore.QPointF(s1, y)))
    _drag(w.canvas, a, b, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert w.plots[0].viewRange()[0] == pytest.approx([n0, n1])  # no pan
    assert w.selection is not None
    assert w.selection[0] == pytest.approx(s0, abs=0.03 * (n1 - n0))
    assert w.selection[1] == pytest.approx(s1, abs=0.03 * (n1 - n0))
    assert "Selected" in w.sway_label.text()


def test_follows_a_file_being_recorded(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "growing.h5"
    child = growing_writer(path)
    try:
        assert child.stdout is not None
        assert child.stdin is not None
        total = int(child.stdout.readline())
        w = ReviewWindow(ReviewModel([path], analyse=False))
        qtbot.addWidget(w)
        w.show()
        assert len(w.model.file.series) == total // 2
        child.stdin.write("\n")
        child.stdin.flush()
        child.stdout.readline()
        # The worker notices the growth within a second or two and the window adopts it.
        qtbot.waitUntil(lambda: len(w.model.file.series) == total, timeout=30000)
        assert w.model.cursor.end_s == pytest.approx(float(w.model.file.series.t_s[-1]))
        qtbot.waitUntil(lambda: w.table.rowCount() == 3, timeout=30000)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0
        w.close()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# -- drill files -------------------------------------------------------------------------------
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def drill_window(qtbot):
    made = []

    def make(path: Path) -> ReviewWindow:
        w = ReviewWindow(ReviewModel([path]))
        qtbot.addWidget(w)
        w.resize(1440, 860)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.timer.stop()


def _target_items(w: ReviewWindow) -> dict[str, list]:
    out: dict[str, list] = {"rect": [], "line": [], "text": []}
    for plot, item in w._mark_items:
        if plot is not w.plots[0]:
            continue
        if isinstance(item, QtWidgets.QGraphicsRectItem):
            out["rect"].append(item)
        elif isinstance(item, pg.PlotDataItem):
            out["line"].append(item)
        elif isinstance(item, pg.TextItem):
            out["text"].append(item.toPlainText())
    return out


@pytest.mark.parametrize("name", ["lateral", "rhythmic", "limits", "weight"])
def test_a_drill_file_shows_targets_trials_and_scores(drill_files, drill_window,
                                                       name: str) -> None:
    rec = drill_files[name]
    w = drill_window(rec.path)
    drill = w.model.file.drill
    # One table row per trial, with the drill's own columns and the live numbers.
    headers = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())]
    assert headers == [label for _, label in drill.columns]
    assert w.table.rowCount() == len(rec.live["trials"])
    for r, cells in enumerate(w.model.table_cells()):
        assert [w.table.item(r, c).text() for c in range(len(headers))] == list(cells.values())
    # The scores summary, and no rep buttons on a drill.
    assert w.drill_label.isVisible()
    assert rec.live["drill"] + " drill" in w.drill_label.text()
    assert all(not b.isVisible() for b in w.hinge_buttons)
    assert f"{name} drill, {len(rec.live['trials'])} trials" in w.message.text()
    items = _target_items(w)
    if name in ("lateral", "weight"):
        assert len(items["rect"]) == len(drill.targets)
        top = max(t.hi_mm for t in drill.targets)
        assert max(r.rect().bottom() for r in items["rect"]) == pytest.approx(top)
    elif name == "rhythmic":
        assert len(items["line"]) == len(drill.targets)
        x, y = items["line"][0].getData()
        assert np.allclose(y, drill.targets[0].target_mm)
    else:
        assert [t for t in items["text"] if t.startswith("lean ")] == [
            f"lean {t['label']}" for t in rec.live["trials"]
        ]
    # Clicking a trial puts the cursor on it.
    w.jump_to_row(len(drill.rows) - 1)
    assert w.model.cursor.position_s == pytest.approx(drill.rows[-1].shown_s)
    assert w.table.currentRow() == len(drill.rows) - 1
    w.plots[0].setXRange(drill.result.start_s - 2, drill.targets[-1].until_s + 3, padding=0)
    w.seek(drill.rows[0].shown_s + 1.0)
    QtWidgets.QApplication.processEvents()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = w.export_png(ARTIFACTS / f"review-drill-{name}.png")
    image = QtGui.QImage(str(shot))
    assert (image.width(), image.height()) == (1440, 860)


def test_a_sequence_file_shows_every_drills_targets_and_trials(drill_files,
                                                               drill_window) -> None:
    rec = drill_files["lateral+rhythmic"]
    w = drill_window(rec.path)
    lateral, rhythmic = w.model.file.drills
    headers = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())]
    assert headers == [label for _, label in w.model.table_columns()]
    assert headers[0] == "Drill"
    n = sum(len(live["trials"]) for live in rec.live)
    assert w.table.rowCount() == n
    assert [w.table.item(r, 0).text() for r in range(n)] == [
        live["drill"] for live in rec.live for _ in live["trials"]]
    # Both drills' targets: the lateral bands and the rhythmic moving target.
    items = _target_items(w)
    assert len(items["rect"]) == len(lateral.targets)
    assert len(items["line"]) == len(rhythmic.targets)
    x, y = items["line"][0].getData()
    assert np.allclose(y, rhythmic.targets[0].target_mm)
    text = w.drill_label.text()
    assert "lateral drill" in text
    assert "rhythmic drill" in text
    assert f"lateral + rhythmic drills, {n} trials" in w.message.text()
    # The last row is the rhythmic drill's last pace.
    w.jump_to_row(n - 1)
    assert w.model.cursor.position_s == pytest.approx(rhythmic.rows[-1].shown_s)
    assert w.table.currentRow() == n - 1
    w.plots[0].setXRange(lateral.result.start_s - 2, rhythmic.targets[-1].until_s + 3,
                         padding=0)
    QtWidgets.QApplication.processEvents()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = w.export_png(ARTIFACTS / "review-drill-sequence.png")
    assert QtGui.QImage(str(shot)).width() == 1440


def test_hinge_buttons_come_back_on_a_hinge_file(drill_files, sessions, qtbot) -> None:
    w = ReviewWindow(ReviewModel([drill_files["lateral"].path, sessions[0]]))
    qtbot.addWidget(w)
    w.show()
    assert all(not b.isVisible() for b in w.hinge_buttons)
    legend = w.plots[0].legend
    assert "targets" in [label.text for _, label in legend.items]
    w.file_box.setCurrentIndex(1)
    assert all(b.isVisible() for b in w.hinge_buttons)
    # A hinge file has no targets, so its legend names none.
    assert "targets" not in [label.text for _, label in legend.items]
    assert not w.drill_label.isVisible()
    assert w.table.horizontalHeaderItem(0).text() == REP_COLUMNS[0][1]
    w.timer.stop()


def test_closing_before_the_analysis_starts_is_quiet(qtbot, sessions: list[Path]) -> None:
    # A person who opens a file and closes the window at once: the delayed start of the
    # background analysis must not submit to the shut-down worker (a traceback before).
    w = ReviewWindow(ReviewModel(sessions, analyse=False))
    qtbot.addWidget(w)
    w.show()
    w.close()
    qtbot.wait(3 * ANALYSIS_DELAY_MS)
    assert not w._pending
