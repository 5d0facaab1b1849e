"""Whether a window can open here, and the one QApplication the windowed commands share.

Qt's xcb platform (X11) loads system libraries that a fresh Debian does not have
(libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0 ...). Without them Qt aborts the process
(exit 134) with a message that names only the first library it missed, sometimes one that
is installed. So before Qt is imported for a window, midfoot asks the dynamic linker which
of the plugin's libraries are missing and names their Debian packages in one line.

Nothing here imports Qt until a window is certain, so the terminal faces run where Qt's
libraries are absent.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from daq.errors import MidfootError

# What the README lists and `apt-get install` takes: every system package Qt's xcb platform
# loads, installed or not (the check below names only the missing ones).
XCB_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libegl1",
    "libfontconfig1",
    "libdbus-1-3",
)
# Libraries whose Debian package is not named by the usual rule (see debian_package); the
# test checks every library Qt's plugin loads against dpkg's own database.
_PACKAGE_OF = {
    "libGL.so.1": "libgl1",
    "libGLdispatch.so.0": "libglvnd0",
    "libz.so.1": "zlib1g",
    "libbrotlicommon.so.1": "libbrotli1",
    "libbrotlidec.so.1": "libbrotli1",
    **{f"lib{n}.so.{v}": "libc6" for n, v in
       (("c", 6), ("m", 6), ("pthread", 0), ("dl", 2), ("rt", 1), ("resolv", 2))},
    **{f"lib{n}-2.0.so.0": "libglib2.0-0" for n in ("glib", "gthread", "gobject", "gio",
                                                     "gmodule")},
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
LDD_TIMEOUT_S = 10.0


def has_display() -> bool:
    """Whether a window can be shown: not Linux, a display server, or a Qt platform chosen."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def qt_platform() -> str:
    """The Qt platform plugin a window would use here (``xcb``, ``wayland``, ``offscreen``...)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        # "wayland;xcb" is a list of fallbacks, "xcb:option" a plugin with options.
        return chosen.split(";")[0].split(":")[0]
    if not sys.platform.startswith("linux"):
        return "native"
    # Qt 6 prefers Wayland when a Wayland session is announced, else X11.
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") else "xcb"


def debian_package(soname: str) -> str:
    """The Debian package that ships ``soname`` (``libxcb-icccm.so.4`` -> ``libxcb-icccm4``).

    Debian names a library's package after its soname: the name in lower case followed by
    its major version, with a hyphen when the name itself ends in a digit.
    """
    if soname in _PACKAGE_OF:
        return _PACKAGE_OF[soname]
    name, sep, version = soname.partition(".so.")
    if not sep:
        return soname.removesuffix(".so").lower()
    major = version.split(".")[0]
    name = name.lower().replace("_", "-")
    return f"{name}-{major}" if name[-1:].isdigit() else f"{name}{major}"


def _xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "Qt6"
    plugin = root / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(plugin: Path) -> list[str]:
    """Sonames the dynamic linker cannot find for ``plugin`` and what it loads (via ldd).

    Empty when ldd is not there or fails: then Qt's own message is the only word.
    """
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        done = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(_NOT_FOUND.findall(done.stdout)))


def missing_platform_packages() -> list[str]:
    """Debian packages Qt's platform plugin needs here and cannot find (empty when fine)."""
    if qt_platform() != "xcb" or not sys.platform.startswith("linux"):
        return []
    plugin = _xcb_plugin()
    if plugin is None:
        return []
    return sorted({debian_package(lib) for lib in missing_libraries(plugin)})


def platform_problem() -> str | None:
    """One sentence on what stops a window opening here, or None when one can."""
    missing = missing_platform_packages()
    if not missing:
        return None
    names = " ".join(missing)
    return (
        f"Qt's X11 (xcb) display platform needs Debian packages that are not installed: "
        f"{names}; install them with `sudo apt-get install {names}`"
    )


def qt_application() -> object:
    """The process's QApplication, made once the platform's libraries are known to be there.

    Raises
    ------
    MidfootError
        When there is no display, or Qt's platform plugin would abort the process for a
        missing library.
    """
    if not has_display():
        raise MidfootError(
            "there is no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can "
            "open: run it on the machine's desktop, or over `ssh -X`"
        )
    problem = platform_problem()
    if problem is not None:
        raise MidfootError(problem)
    from pyqtgraph.Qt import QtWidgets  # noqa: PLC0415 - Qt only once a window is certain

    return QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
