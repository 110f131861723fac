"""The journal on its own: migrations, concurrent writers, references, updates."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from framecast.domain import Job, JobError, JobRequest, JobStatus
from framecast.errors import UsageError
from framecast.journal import MIGRATIONS, Journal
from tests.conftest import spawn


def make_job(job_id: str, status: JobStatus = JobStatus.QUEUED, **kw: object) -> Job:
    return Job(id=job_id, provider="emulator", status=status, model="sora-2", prompt="p", **kw)  # type: ignore[arg-type]


def test_schema_version_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    Journal(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# Writes N submissions to the journal named on the command line, once the go-file exists,
# and prints (start, end) of its writes and the ids it then reads back.
WRITER = """
import json, os, sys, time
from pathlib import Path
from framecast.domain import Job, JobRequest, JobStatus
from framecast.journal import Journal
path, go, name, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with Journal(path) as journal:
    while not go.exists():
        time.sleep(0.001)
    start = time.time()
    for i in range(count):
        job = Job(id=f"{name}-{i}", provider="emulator", status=JobStatus.QUEUED, prompt="p")
        journal.record_submission(job, JobRequest("p"), "http://x")
    end = time.time()
    ids = [entry.id for entry in journal.recent(limit=10 * count)]
print(json.dumps({"start": start, "end": end, "ids": ids}))
"""


def test_two_processes_writing_at_once_share_it(tmp_path: Path) -> None:
    """Two processes record submissions into one journal at the same time; none is lost,
    and each then reads every row, its own and the other's, in the order written."""
    path, go, count = tmp_path / "j.sqlite3", tmp_path / "go", 150
    Journal(path).close()
    writers = [
        spawn([sys.executable, "-c", WRITER, str(path), str(go), name, str(count)])
        for name in ("first", "second")
    ]
    time.sleep(0.5)  # both open the journal and wait at the starting line
    go.touch()
    outcomes = [writer.communicate(timeout=120) for writer in writers]

    assert [w.returncode for w in writers] == [0, 0], [err for _, err in outcomes]
    reports = [json.loads(out) for out, _ in outcomes]
    assert max(r["start"] for r in reports) < min(r["end"] for r in reports), (
        "the two processes wrote at the same time"
    )
    expected = {f"{name}-{i}" for name in ("first", "second") for i in range(count)}
    with Journal(path) as journal:
        written = [entry.id for entry in journal.recent(limit=10 * count)]
    assert len(written) == len(set(written)) == 2 * count
    assert set(written) == expected
    # Whoever finished last read everything; the other read at least all of its own.
    last = max(reports, key=lambda r: r["end"])
    assert set(last["ids"]) == expected
    for name, report in zip(("first", "second"), reports, strict=True):
        own = [i for i in report["ids"] if i.startswith(name)]
        assert own == [f"{name}-{i}" for i in reversed(range(count))], "newest first"


def test_updates_keep_what_the_provider_stopped_sending(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_submission(
            make_job("a", cost_estimate=0.4), JobRequest("p", seconds=4), "http://x"
        )
        journal.update(
            make_job("a", JobStatus.FAILED, error=JobError("boom", "it broke")), "http://x"
        )
        entry = journal.find("a")
    assert entry is not None
    assert entry.job.status is JobStatus.FAILED
    assert entry.job.error == JobError("boom", "it broke")
    assert entry.job.cost_estimate == 0.4
    assert entry.request["seconds"] == 4


def test_references(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        for name in ("old", "mid", "new"):
            journal.record_submission(make_job(name), JobRequest("p"), "http://x")
        assert journal.resolve("@last").id == "new"  # type: ignore[union-attr]
        assert journal.resolve("@1").id == "new"  # type: ignore[union-attr]
        assert journal.resolve("@3").id == "old"  # type: ignore[union-attr]
        assert journal.resolve("mid").id == "mid"  # type: ignore[union-attr]
        assert journal.resolve("video_elsewhere") is None
        with pytest.raises(UsageError, match="holds 3 job"):
            journal.resolve("@4")
        with pytest.raises(UsageError):
            journal.resolve("@-1")


def test_same_id_on_two_servers_are_two_jobs(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_submission(make_job("a"), JobRequest("p"), "http://one")
        journal.record_submission(make_job("a"), JobRequest("p"), "http://two")
        assert len(journal.recent()) == 2
        assert journal.get("emulator", "http://one", "a") is not None
