"""What one journal row holds: the schema, the Entry it reads as, and whose submission it is.

A submission's row records the process sending it (pid and start time), so another
process can tell a submission still in flight from one whose sender died.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from framecast.domain import Job, JobError, JobStatus, normalise_status

SUBMITTING, UNKNOWN = "submitting", "unknown"
PENDING = (SUBMITTING, UNKNOWN)
# Entries whose fingerprint blocks a second submission of the same request.
IN_FLIGHT = (SUBMITTING, UNKNOWN, JobStatus.QUEUED.value, JobStatus.IN_PROGRESS.value)
MAX_ALIASES = 8

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
    """
    ALTER TABLE jobs ADD COLUMN fingerprint TEXT;
    ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
    ALTER TABLE jobs ADD COLUMN aliases TEXT;
    ALTER TABLE jobs ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN owner_pid INTEGER;
    ALTER TABLE jobs ADD COLUMN owner_start TEXT;
    ALTER TABLE jobs ADD COLUMN detail TEXT;
    CREATE INDEX jobs_by_fingerprint ON jobs (fingerprint);
    """,
    """
    ALTER TABLE jobs ADD COLUMN balance REAL;
    ALTER TABLE jobs ADD COLUMN payment_source TEXT;
    ALTER TABLE jobs ADD COLUMN deleted_at REAL;
    CREATE INDEX jobs_by_submitted ON jobs (submitted_at);
    """,
]


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled job (or submission): the last view of it, and where its output went."""

    seq: int
    provider: str
    base_url: str
    request: dict[str, Any]
    submitted_at: float
    updated_at: float
    job: Job
    output_path: str | None
    output_bytes: int | None
    state: str = "queued"  # a JobStatus value, or submitting / unknown
    fingerprint: str | None = None
    idempotency_key: str | None = None
    aliases: tuple[str, ...] = ()
    imported: bool = False
    owner_pid: int | None = None
    owner_start: str | None = None  # when that process started, so a reused pid is not it
    detail: str | None = None  # why a submission's outcome is unknown
    deleted_at: float | None = None  # when its assets were deleted at the provider

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def pending(self) -> bool:
        """A submission without a job yet: being sent, or with an unknown outcome."""
        return self.state in PENDING

    @property
    def orphaned(self) -> bool:
        """`submitting`, but the process sending it is gone (or it has taken far longer than
        any submission can): in effect `unknown`."""
        if self.state != SUBMITTING:
            return False
        stale = time.time() - self.updated_at > STALE_SUBMISSION
        return stale or not _alive(self.owner_pid, self.owner_start)


# No submission takes this long: answers time out long before (retries included).
STALE_SUBMISSION = 15 * 60.0


def process_start(pid: int) -> str | None:
    """When a process started (Linux: boot id and start tick), so a pid that was reused by
    another process (containers start every job as pid 1) is not mistaken for it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot:
            return f"{boot.read().strip()}:{fields[19].decode()}"
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _alive(pid: int | None, started: str | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # it exists, but belongs to someone else
    return started is None or process_start(pid) in (None, started)


def entry_from_row(row: sqlite3.Row) -> Entry:
    status = normalise_status(row["status"]) or JobStatus.QUEUED
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
        balance=row["balance"],
        payment_source=row["payment_source"],
    )
    try:
        request = json.loads(row["request"])
        aliases = tuple(json.loads(row["aliases"] or "[]"))
    except ValueError:
        request, aliases = {}, ()
    return Entry(
        seq=row["seq"],
        provider=row["provider"],
        base_url=row["base_url"],
        request=request if isinstance(request, dict) else {},
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        job=job,
        output_path=row["output_path"],
        output_bytes=row["output_bytes"],
        state=row["status"],
        fingerprint=row["fingerprint"],
        idempotency_key=row["idempotency_key"],
        aliases=tuple(str(a) for a in aliases),
        imported=bool(row["imported"]),
        owner_pid=row["owner_pid"],
        owner_start=row["owner_start"],
        detail=row["detail"],
        deleted_at=row["deleted_at"],
    )


def job_columns(job: Job) -> dict[str, Any]:
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
        "balance": job.balance,
        "payment_source": job.payment_source,
        "error_code": job.error.code if job.error else None,
        "error_message": job.error.message if job.error else None,
    }
