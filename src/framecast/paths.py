"""Where framecast keeps its files; environment variables move them (tests, CI, portable use).

What framecast keeps (journal, caches, keys) is the user's alone: files 0600 in 0700 folders.
"""

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


def private_dir(path: Path) -> None:
    """Create `path` (and parents) readable by the user only; tighten it if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def private_file(path: Path) -> None:
    """Make sure `path` exists and is readable and writable by the user only.

    A file that exists is not opened: closing any descriptor of a file drops every POSIX
    lock this process holds on it, and SQLite's locks on the journal are such locks (a
    batch's threads each hold a connection; one more open and close here broke them, and
    SQLite answered "disk I/O error").
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            mode = os.fstat(fd).st_mode
        finally:
            os.close(fd)
    if mode & 0o077:
        os.chmod(path, 0o600)
