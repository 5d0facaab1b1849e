"""Shared fixtures: every test gets its own config and sessions folders, so no test reads a
user's calibration or writes into a user's session index."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MIDFOOT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("MIDFOOT_SESSIONS_DIR", str(tmp_path_factory.mktemp("sessions")))
    monkeypatch.delenv("MIDFOOT_DB_URL", raising=False)


@pytest.fixture(scope="session")
def drill_files(tmp_path_factory: pytest.TempPathFactory):
    """Each drill recorded once per test run by a drill person (tests/drill_files.py)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from drill_files import record_drills

    return record_drills(tmp_path_factory.mktemp("drills"))
