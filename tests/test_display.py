"""Tests of gui.display: whether a window can open, and the missing packages named in one line.

Real parts: the dynamic linker (ldd) on a library built here with gcc whose dependency is
then deleted, Debian's package database (dpkg -S) for the names, and a real X server (Xvfb)
on which `midfoot live` opens its window on Qt's xcb platform (not offscreen), records, is
grabbed from the X server's screen, and quits cleanly on Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daq.errors import MidfootError
from daq.session import load_session
from gui import display
from gui.display import (
    XCB_PACKAGES,
    debian_package,
    missing_libraries,
    missing_platform_packages,
    qt_platform,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI") == "true"


def _need(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} must be installed under CI ({why})", pytrace=False)
        pytest.skip(f"{tool} is not installed: {why}")
    return path


def test_the_platform_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert qt_platform() == "xcb"
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert qt_platform() == "wayland"
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb:nograb;wayland")
    assert qt_platform() == "xcb"
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert qt_platform() == "offscreen"
    # Only xcb loads the system libraries the check knows.
    assert missing_platform_packages() == []


def test_no_display_is_one_sentence_not_an_abort(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(MidfootError, match="there is no display"):
        display.qt_application()


def test_package_names_agree_with_debians_database() -> None:
    """Every library Qt's xcb plugin loads from the system is named as dpkg names its package."""
    _need("dpkg", "the names are checked against Debian's package database")
    ldd = _need("ldd", "the linker's view of Qt's plugin")
    plugin = display._xcb_plugin()
    assert plugin is not None, "PyQt6 ships libqxcb.so"
    out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=True).stdout
    checked = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] != "=>" or not parts[2].startswith("/"):
            continue
        soname, path = parts[0], parts[2]
        if "/site-packages/" in path:
            continue  # Qt's own libraries come with PyQt6
        # dpkg knows a file by the path its package installed, /lib or /usr/lib (usrmerge).
        for candidate in (path, os.path.realpath(path), path.removeprefix("/usr")):
            owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if owner.returncode == 0:
                break
        else:
            continue  # not from a package (a local build)
        package = owner.stdout.split(":")[0]
        assert debian_package(soname) == package, (soname, path)
        checked += 1
    assert checked >= 20
    # And the README's list is exactly the check's list.
    readme = (ROOT / "README.md").read_text()
    for package in XCB_PACKAGES:
        assert package in readme


def test_a_library_the_linker_cannot_find_is_named(tmp_path: Path) -> None:
    gcc = _need("gcc", "a library is built whose dependency is then removed")
    _need("ldd", "the linker's view of a library")
    (tmp_path / "gone.c").write_text("int gone(void) { return 7; }\n")
    (tmp_path / "user.c").write_text("int gone(void);\nint user(void) { return gone(); }\n")
    gone = tmp_path / "libmidfootgone.so.3"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(gone), "-Wl,-soname,libmidfootgone.so.3",
                    str(tmp_path / "gone.c")], check=True)
    user = tmp_path / "libuser.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(user), str(tmp_path / "user.c"),
                    "-Wl,--no-as-needed", f"-Wl,-rpath,{tmp_path}", str(gone)], check=True)
    assert missing_libraries(user) == []
    gone.unlink()
    assert missing_libraries(user) == ["libmidfootgone.so.3"]
    assert debian_package("libmidfootgone.so.3") == "libmidfootgone3"
    assert missing_libraries(tmp_path / "not-a-library") == []


def _xvfb(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    xvfb = _need("Xvfb", "the window is run on a real X server (apt-get install xvfb)")
    server = subprocess.Popen(
        [xvfb, "-displayfd", "1", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    number = server.stdout.readline().strip()  # Xvfb writes the display it took when ready
    assert number.isdigit(), "Xvfb did not start"
    return server, f":{number}"


def _xcb_env(display_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
    return {**env, "DISPLAY": display_name, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}


GRAB = """
import sys
from pyqtgraph.Qt import QtCore
from gui.display import qt_application
from gui.main_window import MainWindow
from gui.session import LiveSession, virtual_plate_url

app = qt_application()
assert app.platformName() == "xcb", app.platformName()
session = LiveSession(virtual_plate_url("demo", 80, seed=5, speed=4.0))
session.start()
window = MainWindow(session)
window.resize(1440, 860)
window.show()

def grab():
    # From the X server's own screen: what a person would see.
    shot = app.primaryScreen().grabWindow(0)
    shot.save(sys.argv[1])
    window.close()
    app.quit()

QtCore.QTimer.singleShot(6000, grab)
app.exec()
session.stop()
"""


def test_the_live_window_runs_on_x11_and_quits_on_ctrl_c(tmp_path: Path) -> None:
    server, name = _xvfb(tmp_path)
    try:
        env = _xcb_env(name)
        missing = subprocess.run(
            [sys.executable, "-c", "from gui.display import missing_platform_packages as m; "
             "print(' '.join(m()))"], env=env, capture_output=True, text=True, check=True,
        ).stdout.split()
        if missing:
            # This is what a user on such a machine sees instead of Qt's abort (exit 134).
            done = subprocess.run(
                [sys.executable, "-m", "gui.cli", "live", "--seconds", "2"],
                env=env, capture_output=True, text=True, timeout=60,
            )
            assert done.returncode == 0, done.stderr
            first = done.stdout.splitlines()[0]
            assert all(p in first for p in missing)
            assert "apt-get install" in first
            why = f"Qt's xcb platform needs {' '.join(missing)} (see the README)"
            if IN_CI:
                pytest.fail(f"{why}: .ci/run installs them", pytrace=False)
            pytest.skip(why)
        png = tmp_path / "live-xcb.png"
        done = subprocess.run([sys.executable, "-c", GRAB, str(png)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        from pyqtgraph.Qt import QtGui  # noqa: PLC0415 - only this test needs Qt in-process

        image = QtGui.QImage(str(png))
        assert (image.width(), image.height()) == (1600, 1000)
        colours = {image.pixel(x, y) for x in range(0, 1440, 11) for y in range(0, 860, 11)}
        assert len(colours) > 20  # a drawn window, not an empty screen
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(png, ARTIFACTS / "live-xcb-1440x860.png")

        # Ctrl-C in the terminal of the real window: a clean close, exit 0, the file whole.
        out = tmp_path / "live.h5"
        live = subprocess.Popen(
            [sys.executable, "-m", "gui.cli", "live", "--port",
             "sim://quiet-stance?rate=80&seed=4", "--record", str(out)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.stat().st_size > 20000):
            time.sleep(0.2)
        time.sleep(1.0)
        live.send_signal(signal.SIGINT)
        stdout, stderr = live.communicate(timeout=30)
        assert live.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert load_session(out).counts.shape[0] > 80
    finally:
        server.terminate()
        server.wait(timeout=10)
