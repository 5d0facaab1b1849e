"""Shared fixtures: every test gets its own config folder, so no test reads a user's calibration."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MIDFOOT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
