"""The journal on its own: migrations, concurrent writers, references, updates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from framecast.domain import Job, JobError, JobRequest, JobStatus
from framecast.errors import UsageError
from framecast.journal import MIGRATIONS, Journal


def make_job(job_id: str, status: JobStatus = JobStatus.QUEUED, **kw: object) -> Job:
    return Job(id=job_id, provider="emulator", status=status, model="sora-2", prompt="p", **kw)  # type: ignore[arg-type]


def test_schema_version_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    Journal(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_processes_worth_of_connections_share_it(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first, Journal(path) as second:
        first.record_submission(make_job("a"), JobRequest("p"), "http://x")
        second.record_submission(make_job("b"), JobRequest("p"), "http://x")
        assert [e.id for e in first.recent()] == ["b", "a"]
        assert [e.id for e in second.recent()] == ["b", "a"]


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
