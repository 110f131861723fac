"""Where framecast keeps its files; environment variables move them (tests, CI, portable use)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "FRAMECAST_DATA_DIR"


def data_dir() -> Path:
    """The journal and the in-process emulator's state live here."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path("framecast", appauthor=False)
