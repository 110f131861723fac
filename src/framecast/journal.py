"""The local job journal: every submitted job, recorded before waiting starts.

A SQLite file in framecast's data directory (WAL, so several framecast
processes can share it), updated on every status change. It is what lets
`status`, `wait` and `download` work after the terminal that submitted a job
was closed, and what `@last` / `@N` refer to. It never holds credentials.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framecast.domain import Job, JobError, JobRequest, JobStatus, normalise_status
from framecast.errors import UsageError

FILE_NAME = "journal.sqlite3"

# Append-only: each entry moves the schema one version on (PRAGMA user_version).
MIGRATIONS: list[str] = [
    """
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        provider TEXT NOT NULL,
        base_url TEXT NOT NULL,
        model TEXT,
        prompt TEXT,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        progress INTEGER,
        seconds INTEGER,
        size TEXT,
        created_at REAL,
        submitted_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        completed_at REAL,
        expires_at REAL,
        output_url TEXT,
        output_path TEXT,
        output_bytes INTEGER,
        cost REAL,
        cost_estimate REAL,
        currency TEXT,
        error_code TEXT,
        error_message TEXT,
        UNIQUE (provider, base_url, id)
    );
    CREATE INDEX jobs_by_id ON jobs (id);
    """,
]


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled job: the last view of it, and where its output went."""

    seq: int
    provider: str
    base_url: str
    request: dict[str, Any]
    submitted_at: float
    updated_at: float
    job: Job
    output_path: str | None
    output_bytes: int | None

    @property
    def id(self) -> str:
        return self.job.id


def _entry(row: sqlite3.Row) -> Entry:
    status = normalise_status(row["status"]) or JobStatus.IN_PROGRESS
    error = None
    if row["error_message"] is not None or row["error_code"] is not None:
        error = JobError(row["error_code"], row["error_message"] or "")
    job = Job(
        id=row["id"],
        provider=row["provider"],
        status=status,
        model=row["model"],
        progress=row["progress"],
        prompt=row["prompt"],
        seconds=row["seconds"],
        size=row["size"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        expires_at=row["expires_at"],
        output_url=row["output_url"],
        error=error,
        cost=row["cost"],
        cost_estimate=row["cost_estimate"],
        currency=row["currency"],
    )
    return Entry(
        seq=row["seq"],
        provider=row["provider"],
        base_url=row["base_url"],
        request=json.loads(row["request"]),
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        job=job,
        output_path=row["output_path"],
        output_bytes=row["output_bytes"],
    )


def _job_columns(job: Job) -> dict[str, Any]:
    return {
        "model": job.model,
        "prompt": job.prompt,
        "status": job.status.value,
        "progress": job.progress,
        "seconds": job.seconds,
        "size": job.size,
        "created_at": job.created_at,
        "completed_at": job.completed_at,
        "expires_at": job.expires_at,
        "output_url": job.output_url,
        "cost": job.cost,
        "cost_estimate": job.cost_estimate,
        "currency": job.currency,
        "error_code": job.error.code if job.error else None,
        "error_message": job.error.message if job.error else None,
    }


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    @classmethod
    def open_default(cls) -> Journal:
        from framecast.paths import data_dir

        return cls(data_dir() / FILE_NAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version >= len(MIGRATIONS):
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for step, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def record_submission(
        self, job: Job, request: JobRequest, base_url: str, extra: dict[str, Any] | None = None
    ) -> None:
        now = time.time()
        columns = {
            **_job_columns(job),
            "id": job.id,
            "provider": job.provider,
            "base_url": base_url,
            "request": json.dumps(request.to_record() | (extra or {})),
            "submitted_at": now,
            "updated_at": now,
        }
        names = ", ".join(columns)
        marks = ", ".join(f":{name}" for name in columns)
        self._db.execute(f"INSERT OR REPLACE INTO jobs ({names}) VALUES ({marks})", columns)

    def update(self, job: Job, base_url: str) -> None:
        """Store the latest view of a job; fields the provider stopped sending are kept."""
        columns = {k: v for k, v in _job_columns(job).items() if v is not None}
        columns["status"] = job.status.value
        columns["updated_at"] = time.time()
        sets = ", ".join(f"{name} = :{name}" for name in columns)
        self._db.execute(
            f"UPDATE jobs SET {sets} WHERE provider = :p AND base_url = :b AND id = :i",
            {**columns, "p": job.provider, "b": base_url, "i": job.id},
        )

    def set_output(self, entry_job: Job, base_url: str, path: Path, size: int) -> None:
        self._db.execute(
            "UPDATE jobs SET output_path = ?, output_bytes = ?, updated_at = ?"
            " WHERE provider = ? AND base_url = ? AND id = ?",
            (str(path.absolute()), size, time.time(), entry_job.provider, base_url, entry_job.id),
        )

    def find(self, job_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT * FROM jobs WHERE id = ? ORDER BY seq DESC LIMIT 1", (job_id,)
        ).fetchone()
        return None if row is None else _entry(row)

    def get(self, provider: str, base_url: str, job_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT * FROM jobs WHERE provider = ? AND base_url = ? AND id = ?",
            (provider, base_url, job_id),
        ).fetchone()
        return None if row is None else _entry(row)

    def recent(self, limit: int = 20) -> list[Entry]:
        rows = self._db.execute("SELECT * FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [_entry(row) for row in rows]

    def nth_recent(self, n: int) -> Entry | None:
        row = self._db.execute(
            "SELECT * FROM jobs ORDER BY seq DESC LIMIT 1 OFFSET ?", (n - 1,)
        ).fetchone()
        return None if row is None else _entry(row)

    def resolve(self, ref: str) -> Entry | None:
        """The entry a job reference names: `@last`, `@N` (1 = most recent) or an id.

        An id that is not in the journal gives None (the caller may still ask a
        provider about it); a malformed or out-of-range `@` reference is an error.
        """
        if not ref.startswith("@"):
            return self.find(ref)
        word = ref[1:]
        n = 1 if word == "last" else int(word) if word.isdigit() else 0
        if n < 1:
            raise UsageError(
                f"{ref!r} is not a job reference.", hint="Use @last, @1, @2, ... or a job id."
            )
        entry = self.nth_recent(n)
        if entry is None:
            count = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            raise UsageError(
                f"{ref} does not exist: the journal holds {count} job(s).",
                hint="Run `framecast status` to list recent jobs.",
            )
        return entry
