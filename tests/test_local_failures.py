"""Local I/O failures are exit 9 with one line naming the file, never "a bug"; paid jobs are named.

Where the machine's state cannot be produced for real in a test (a full disk, a
folder root may not write to), the operating system call itself is made to fail
with the errno the kernel would give; the journal is damaged for real.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Served, invoke, journal_rows

BOAT = "a paper boat drifting down a rainy street"


def data_dir() -> Path:
    return Path(os.environ["FRAMECAST_DATA_DIR"])


def test_a_full_disk_during_the_download_names_the_file_and_the_job(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("framecast.download.os.fsync", full)

    result = invoke("generate", BOAT, "-o", "clip.mp4")

    assert result.exit_code == 9, result.output
    (first,) = [line for line in result.stderr.splitlines() if "error: " in line]
    assert first.startswith("framecast: error: Could not write ")
    assert ".part: No space left on device." in first
    (row,) = journal_rows(data_dir())
    assert row["status"] == "completed"
    assert f"Resume with: framecast download {row['id']} -o clip.mp4" in result.stderr
    assert "bug" not in result.stderr
    assert not Path("clip.mp4").exists()
    assert list(Path.cwd().glob(".framecast-*.part")), "the bytes so far are kept to resume"

    monkeypatch.setattr("framecast.download.os.fsync", real_fsync)
    again = invoke("download", str(row["id"]), "-o", "clip.mp4")
    assert again.exit_code == 0, again.output
    assert not list(Path.cwd().glob(".framecast-*"))


def _deny(monkeypatch: pytest.MonkeyPatch, folder: Path, marker: str) -> None:
    real_open = os.open

    def guarded(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        target = Path(os.fsdecode(path)).absolute()
        if target.parent == folder and marker in target.name and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)


def test_an_unwritable_output_folder_is_refused_before_paying(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Path.cwd() / "locked"
    folder.mkdir()
    _deny(monkeypatch, folder, "")

    result = invoke("generate", BOAT, "-o", "locked/clip.mp4")

    assert result.exit_code == 2, result.output
    assert "Cannot write to" in result.stderr and "Permission denied" in result.stderr
    assert served_env.seen("POST") == []
    assert journal_rows(data_dir()) == []


def test_an_output_folder_that_turns_unwritable_after_paying(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deny(monkeypatch, Path.cwd(), ".part")

    result = invoke("generate", BOAT, "-o", "clip.mp4")

    assert result.exit_code == 9, result.output
    (first,) = [line for line in result.stderr.splitlines() if "error: " in line]
    assert first.startswith("framecast: error: ") and "Permission denied" in first
    (row,) = journal_rows(data_dir())
    assert f"framecast download {row['id']} -o clip.mp4" in result.stderr


def test_a_damaged_journal_is_one_line_with_the_way_out(served_env: Served) -> None:
    data_dir().mkdir(parents=True, exist_ok=True)
    journal = data_dir() / "journal.sqlite3"
    journal.write_bytes(b"this is not a database, it is a shopping list\n" * 100)

    listing = invoke("status")
    submitting = invoke("generate", BOAT)

    for result in (listing, submitting):
        assert result.exit_code == 9, result.output
        damaged = f"The journal {journal} is damaged (file is not a database)."
        way_out = f"Move it aside and framecast starts a new one: mv '{journal}' '{journal}.broken'"
        assert result.stderr.splitlines()[:2] == [
            f"framecast: error: {damaged}",
            f"hint: {way_out}",
        ]
    assert served_env.seen("POST") == [], "nothing is sent that could not be journaled"


def test_a_journal_that_cannot_be_written_sends_nothing(served_env: Served) -> None:
    data_dir().mkdir(parents=True, exist_ok=True)
    # The write-ahead log's name is taken by a directory: SQLite cannot write the journal.
    (data_dir() / "journal.sqlite3-wal").mkdir()

    result = invoke("generate", BOAT)

    assert result.exit_code == 9, result.output
    assert "journal" in result.stderr.splitlines()[0]
    assert str(data_dir() / "journal.sqlite3") in result.stderr
    assert served_env.seen("POST") == []


def test_a_journal_failing_after_the_job_exists_still_names_it(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect

    class Failing:
        """A connection whose disk gives out once the submission is on record."""

        def __init__(self, inner: sqlite3.Connection) -> None:
            self._inner = inner

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.startswith("UPDATE jobs SET") and "WHERE seq" in sql:
                raise sqlite3.OperationalError("disk I/O error")
            return self._inner.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def __setattr__(self, name: str, value: Any) -> None:
            if name == "_inner":
                object.__setattr__(self, name, value)
            else:
                setattr(self._inner, name, value)

    monkeypatch.setattr(
        "framecast.journal.sqlite3.connect", lambda *a, **k: Failing(real_connect(*a, **k))
    )

    result = invoke("generate", BOAT, "-o", "clip.mp4")

    assert result.exit_code == 9, result.output
    assert result.stderr.startswith("framecast: error: Could not use the journal")
    assert "disk I/O error" in result.stderr
    assert served_env.app.jobs_created() == 1
    (job_id,) = [v.id for v in served_env.app.videos.store.page(None, 10, True)[0]]
    assert f"Job(s) {job_id} exist at the provider. Resume with: framecast wait {job_id}" in (
        result.stderr
    )
    assert "bug" not in result.stderr
