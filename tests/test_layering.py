"""The structure, checked from the code: data flows one way and the faces sit on top.

daq/ (acquisition) names nothing of gui/ or analysis/, neither as an import nor as an
importlib string; analysis/ names nothing of gui/ or hardware/ and no command-line module;
Qt and pyqtgraph are imported only under gui/; the `midfoot` console script lives in the
faces.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("daq", "analysis", "gui", "hardware")
QT_MODULES = ("PyQt6", "PySide6", "pyqtgraph", "PyQt5", "PySide2")
CLI_MODULES = ("argparse", "gui.cli", "gui.commands")
_MODULE_STRING = re.compile(r"^(daq|analysis|gui|hardware)(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _names(path: Path) -> set[str]:
    """Every module a file imports, and every string in it that is a module path."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _MODULE_STRING.match(node.value.strip()):
                found.add(node.value.strip())
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _offences(package: str, banned: tuple[str, ...]) -> list[str]:
    out = []
    for path in _files(package):
        for name in _names(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                out.append(f"{path.relative_to(ROOT)} names {name}")
    return out


def test_the_checker_sees_imports_and_importlib_strings(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import gui.cli\nfrom analysis import hinge\nimportlib.import_module('gui.session')\n"
    )
    assert _names(probe) >= {"gui.cli", "analysis", "gui.session"}


def test_acquisition_names_no_analysis_or_face() -> None:
    assert _offences("daq", ("gui", "analysis")) == []


def test_analysis_names_no_face_hardware_or_command_line() -> None:
    assert _offences("analysis", ("gui", "hardware", *CLI_MODULES)) == []


@pytest.mark.parametrize("package", ["daq", "analysis", "hardware"])
def test_qt_only_in_the_faces(package: str) -> None:
    assert _offences(package, QT_MODULES) == []


def test_console_script_lives_in_the_faces() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["scripts"]["midfoot"]
    module = target.split(":")[0]
    assert module.split(".")[0] not in ("daq", "analysis")
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()


def test_every_module_has_a_test_file() -> None:
    """Tests mirror the modules: each module of daq/, analysis/ and gui/ has its tests."""
    tests = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    # Modules whose tests live in the file of the module they serve.
    covered_by = {
        "daq/samples.py": "decoder",
        "daq/frames.py": "decoder",
        "daq/timebase.py": "reader",
        "daq/session.py": "reader",
        "daq/errors.py": "cli",
        "daq/plate.py": "calibration",
        "daq/protocol_replay.py": "acquisition",
        "daq/recorder.py": "recording",
        "analysis/report.py": "analyse_cli",
        "gui/colours.py": "gui",
        "gui/coaching.py": "gui",
        "gui/traces.py": "gui",
        "gui/plate_view.py": "gui",
        "gui/main_window.py": "gui",
        "gui/foot_setup.py": "gui",
        "gui/wizard.py": "gui",
        "gui/terminal.py": "gui",
    }
    missing = []
    for package in ("daq", "analysis", "gui"):
        for path in _files(package):
            rel = str(path.relative_to(ROOT))
            if path.stem == "__init__" or path.parent.name == "commands":
                continue
            want = covered_by.get(rel, path.stem)
            if f"test_{want}" not in tests:
                missing.append(rel)
    assert missing == []
