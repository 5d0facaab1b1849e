r"""Where midfoot keeps things on this computer: the sessions folder and the config folder.

Both come from :mod:`platformdirs`, so they are where each system expects them (Linux: the
XDG folders, ``~/.local/share/midfoot/sessions`` and ``~/.config/midfoot``; macOS:
``~/Library/Application Support/midfoot``; Windows: ``%LOCALAPPDATA%\\midfoot`` and
``%APPDATA%\\midfoot``). ``$MIDFOOT_SESSIONS_DIR`` and ``$MIDFOOT_CONFIG_DIR`` win over them,
for a shared clinic folder, a USB stick, or a test that must not touch a person's files.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "midfoot"
SESSIONS_ENV = "MIDFOOT_SESSIONS_DIR"
CONFIG_ENV = "MIDFOOT_CONFIG_DIR"


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def sessions_dir() -> Path:
    """The folder recordings and the session index go to unless told otherwise.

    ``$MIDFOOT_SESSIONS_DIR`` if set, else ``sessions`` in the platform's user data folder.
    The folder is not created here: whoever writes into it does.
    """
    given = _from_env(SESSIONS_ENV)
    if given is not None:
        return given
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "sessions"


def config_dir() -> Path:
    """The user's midfoot config folder (calibrations): ``$MIDFOOT_CONFIG_DIR`` or the platform's.

    On Linux the platform's folder honours ``$XDG_CONFIG_HOME`` (default ``~/.config/midfoot``).
    """
    given = _from_env(CONFIG_ENV)
    if given is not None:
        return given
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
