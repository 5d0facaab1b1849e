"""Where midfoot keeps sessions and config: platformdirs, overridden by the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from daq.calibration import Calibration, calibration_path, load_calibration, save_calibration
from daq.paths import config_dir, sessions_dir
from gui.session import default_sessions_dir


def test_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDFOOT_SESSIONS_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("MIDFOOT_CONFIG_DIR", str(tmp_path / "c"))
    assert sessions_dir() == tmp_path / "s"
    assert config_dir() == tmp_path / "c"
    assert default_sessions_dir() == tmp_path / "s"


def test_platform_folders_when_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MIDFOOT_SESSIONS_DIR", raising=False)
    monkeypatch.setenv("MIDFOOT_CONFIG_DIR", "  ")  # blank counts as unset
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    want_data = Path(platformdirs.user_data_dir("midfoot", appauthor=False))
    assert sessions_dir() == want_data / "sessions"
    assert config_dir() == Path(platformdirs.user_config_dir("midfoot", appauthor=False))
    if sys.platform.startswith("linux"):  # XDG folders
        assert sessions_dir() == tmp_path / "data" / "midfoot" / "sessions"
        assert config_dir() == tmp_path / "conf" / "midfoot"


def test_calibrations_live_in_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDFOOT_CONFIG_DIR", str(tmp_path / "cfg"))
    cal = Calibration.nominal("plate-7")
    path = save_calibration(cal)
    assert path == calibration_path("plate-7")
    assert path.parent == tmp_path / "cfg" / "calibrations"
    loaded, warning = load_calibration("plate-7")
    assert warning is None
    assert loaded.plate_id == "plate-7"
