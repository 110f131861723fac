"""The local job journal: every submission, recorded before it is sent.

A SQLite file in framecast's data directory (WAL, so several framecast
processes can share it), updated on every status change. It is what lets
`status`, `wait` and `download` work after the terminal that submitted a job
was closed, and what `@last` / `@N` refer to. It never holds credentials.

An entry is born `submitting` (with the request's fingerprint and idempotency
key) before the POST goes out; the answer turns it into the job. When the
answer is ambiguous (the job may or may not exist), the entry becomes
`unknown` until `framecast sync` finds out. Ids a gateway used for the job
later are kept as aliases, never adopted.

Every SQLite failure surfaces as JournalError (exit 9) naming the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from framecast.domain import Job, JobRequest
from framecast.errors import LocalIOError, UsageError
from framecast.journal_rows import (
    IN_FLIGHT,
    MAX_ALIASES,
    MIGRATIONS,
    PENDING,
    SUBMITTING,
    UNKNOWN,
    Entry,
    entry_from_row,
    job_columns,
    process_start,
)
from framecast.paths import private_dir, private_file
from framecast.untrusted import strip_userinfo

__all__ = [
    "FILE_NAME",
    "IN_FLIGHT",
    "MIGRATIONS",
    "PENDING",
    "SUBMITTING",
    "UNKNOWN",
    "Entry",
    "InFlight",
    "Journal",
    "JournalError",
]

FILE_NAME = "journal.sqlite3"
_LOCAL_PREFIX = "local-"


class InFlight(Exception):
    """The same request is already in flight or of unknown outcome: `entry`."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(entry.id)
        self.entry = entry


class JournalError(LocalIOError):
    """The journal could not be opened, read or written."""


class Journal:
    # Run inside begin_submissions' write transaction, after the in-flight check and before
    # anything is recorded: a check that must see every other process's submissions (the
    # daily spending cap) raises there, and nothing is recorded or sent.
    before_submitting: Callable[[Journal], None] | None = None

    def __init__(self, path: Path, *, busy_seconds: float = 30.0, shared: bool = False) -> None:
        """`shared`: the connection may be closed from another thread than the one that
        uses it (a batch's worker threads each use their own, closed by the batch)."""
        self.path = path
        self._busy = busy_seconds
        try:
            private_dir(path.parent)
            private_file(path)
            self._db = sqlite3.connect(
                path, timeout=busy_seconds, isolation_level=None, check_same_thread=not shared
            )
        except OSError as exc:
            raise JournalError.from_os(exc, action="open the journal", path=path) from None
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        self._db.row_factory = sqlite3.Row
        with self._errors():
            # The busy timeout does not cover changing the journal mode, and 50
            # processes opening a fresh journal at once do collide there.
            self._patiently(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._patiently(self._migrate)

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

    # -- failures --------------------------------------------------------------

    def _failure(self, exc: sqlite3.Error) -> JournalError:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, sqlite3.DatabaseError) and (
            "not a database" in reason or "malformed" in reason
        ):
            return JournalError(
                f"The journal {self.path} is damaged ({reason}).",
                hint=f"Move it aside and framecast starts a new one: "
                f"mv '{self.path}' '{self.path}.broken'",
            )
        return JournalError(
            f"Could not use the journal {self.path}: {reason}.",
            hint="Check the file's permissions and the free disk space "
            "(FRAMECAST_DATA_DIR moves it).",
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        except OSError as exc:
            raise JournalError.from_os(exc, action="use the journal", path=self.path) from None

    def _patiently(self, step: Any) -> None:
        deadline = time.monotonic() + self._busy
        pause = 0.01
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(0.25, pause * 2)

    def _execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self._errors():
            return self._db.execute(sql, params)

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

    # -- writing ---------------------------------------------------------------

    def begin_submissions(
        self,
        requests: list[JobRequest],
        *,
        provider: str,
        base_url: str,
        fingerprint: str,
        extra: dict[str, Any] | None = None,
        exclusive: bool = True,
        also_blocked_by: Collection[str] = (),
        newer_than: int | None = None,
    ) -> list[int]:
        """Record submissions about to be sent, all or none; returns their sequence numbers.

        With `exclusive`, an entry of the same request that is in flight or of unknown
        outcome (or in one of `also_blocked_by`'s states, or journaled after the entry
        numbered `newer_than`, whatever its state) raises InFlight instead; the check and
        the records are one transaction, so two processes sending the same request at
        once cannot both pass.
        """
        blocking = (*IN_FLIGHT, *also_blocked_by)
        since = -1 if newer_than is None else newer_than
        with self._errors():
            self._patiently(lambda: self._db.execute("BEGIN IMMEDIATE"))
            try:
                if exclusive:
                    marks = ", ".join("?" for _ in blocking)
                    row = self._db.execute(
                        f"SELECT * FROM jobs WHERE fingerprint = ? AND (status IN ({marks})"
                        " OR (? >= 0 AND seq > ?)) ORDER BY seq DESC LIMIT 1",
                        (fingerprint, *blocking, since, since),
                    ).fetchone()
                    if row is not None:
                        raise InFlight(entry_from_row(row))
                if self.before_submitting is not None:
                    self.before_submitting(self)
                seqs = [
                    self._insert_submission(
                        provider, base_url, request, fingerprint, request.idempotency_key, extra
                    )
                    for request in requests
                ]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seqs

    def _insert_submission(
        self,
        provider: str,
        base_url: str,
        request: JobRequest,
        fingerprint: str,
        idempotency_key: str | None,
        extra: dict[str, Any] | None,
    ) -> int:
        now = time.time()
        columns = {
            "id": f"{_LOCAL_PREFIX}{uuid.uuid4().hex[:16]}",
            "provider": provider,
            "base_url": strip_userinfo(base_url),
            "model": request.model,
            "prompt": request.prompt,
            "request": json.dumps(request.to_record() | (extra or {})),
            "status": SUBMITTING,
            "seconds": request.seconds,
            "size": request.size,
            "submitted_at": now,
            "updated_at": now,
            "fingerprint": fingerprint,
            "idempotency_key": idempotency_key,
            "owner_pid": os.getpid(),
            "owner_start": process_start(os.getpid()),
        }
        names = ", ".join(columns)
        marks = ", ".join(f":{name}" for name in columns)
        cursor = self._db.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", columns)
        return int(cursor.lastrowid or 0)

    def complete_submission(self, seq: int, job: Job) -> None:
        """The submission recorded as `seq` created `job`.

        A keyed replay answers with a job the journal may already hold: then that
        entry is brought up to date and the submission's own entry is dropped.
        """
        pending = self.get_seq(seq)
        existing = None if pending is None else self.get(job.provider, pending.base_url, job.id)
        if existing is not None and existing.imported:
            # `sync` imported the job while its submission was in flight: this entry is the
            # better record (request, fingerprint, key), so it replaces the import.
            self._execute("DELETE FROM jobs WHERE seq = ?", (existing.seq,))
        elif existing is not None and pending is not None:
            self._execute("DELETE FROM jobs WHERE seq = ?", (seq,))
            self.update(job, pending.base_url)
            return
        columns = {k: v for k, v in job_columns(job).items() if v is not None}
        columns |= {"id": job.id, "updated_at": time.time(), "detail": None, "seq": seq}
        sets = ", ".join(f"{name} = :{name}" for name in columns if name != "seq")
        self._execute(f"UPDATE jobs SET {sets} WHERE seq = :seq", columns)

    def add_job(
        self,
        job: Job,
        base_url: str,
        *,
        request: dict[str, Any],
        fingerprint: str | None = None,
        imported: bool = False,
    ) -> None:
        """A further job of one submission (native n), or one found at the provider (imported)."""
        now = time.time()
        columns = {
            **job_columns(job),
            "id": job.id,
            "provider": job.provider,
            "base_url": strip_userinfo(base_url),
            "request": json.dumps(request),
            "submitted_at": job.created_at if imported and job.created_at else now,
            "updated_at": now,
            "fingerprint": fingerprint,
            "imported": int(imported),
        }
        names = ", ".join(columns)
        marks = ", ".join(f":{name}" for name in columns)
        self._execute(f"INSERT OR IGNORE INTO jobs ({names}) VALUES ({marks})", columns)

    def record_submission(
        self, job: Job, request: JobRequest, base_url: str, extra: dict[str, Any] | None = None
    ) -> None:
        """A job that already exists, recorded whole (tests, and jobs made without a POST)."""
        self.add_job(job, base_url, request=request.to_record() | (extra or {}))

    def mark_unknown(self, seq: int, detail: str) -> None:
        self._execute(
            "UPDATE jobs SET status = ?, detail = ?, updated_at = ? WHERE seq = ?",
            (UNKNOWN, detail, time.time(), seq),
        )

    def forget(self, seq: int) -> None:
        """Drop a submission that certainly created nothing (refused, never sent)."""
        self._execute(f"DELETE FROM jobs WHERE seq = ? AND status IN {PENDING!r}", (seq,))

    def update(self, job: Job, base_url: str) -> None:
        """Store the latest view of a job; fields the provider stopped sending are kept.

        A job the journal does not hold yet (made elsewhere, named by id) is recorded as
        imported, so whatever framecast follows or saves is on record.
        """
        columns = {k: v for k, v in job_columns(job).items() if v is not None}
        columns["status"] = job.status.value
        columns["updated_at"] = time.time()
        sets = ", ".join(f"{name} = :{name}" for name in columns)
        cursor = self._execute(
            f"UPDATE jobs SET {sets} WHERE provider = :p AND base_url = :b AND id = :i",
            {**columns, "p": job.provider, "b": strip_userinfo(base_url), "i": job.id},
        )
        if cursor.rowcount == 0:
            record = {"prompt": job.prompt, "model": job.model, "imported": True}
            self.add_job(job, base_url, request=record, imported=True)
        if job.server_id:
            self.add_alias(job.provider, base_url, job.id, job.server_id)

    def add_alias(self, provider: str, base_url: str, job_id: str, alias: str) -> None:
        """Another id a server used for this job; kept for lookups, never used in requests."""
        entry = self.get(provider, base_url, job_id)
        if entry is None or alias in entry.aliases or alias == job_id:
            return
        aliases = [*entry.aliases, alias][-MAX_ALIASES:]
        self._execute("UPDATE jobs SET aliases = ? WHERE seq = ?", (json.dumps(aliases), entry.seq))

    def mark_deleted(self, job: Job, base_url: str, when: float | None = None) -> None:
        """The job's assets were deleted at the provider (its local file, if any, is kept)."""
        self._execute(
            "UPDATE jobs SET deleted_at = coalesce(deleted_at, ?), updated_at = ?"
            " WHERE provider = ? AND base_url = ? AND id = ?",
            (when or time.time(), time.time(), job.provider, strip_userinfo(base_url), job.id),
        )

    def set_output(self, entry_job: Job, base_url: str, path: Path, size: int) -> None:
        self._execute(
            "UPDATE jobs SET output_path = ?, output_bytes = ?, updated_at = ?"
            " WHERE provider = ? AND base_url = ? AND id = ?",
            (
                str(path.absolute()),
                size,
                time.time(),
                entry_job.provider,
                strip_userinfo(base_url),
                entry_job.id,
            ),
        )

    # -- reading ---------------------------------------------------------------

    def _one(self, sql: str, params: Any = ()) -> Entry | None:
        row = self._execute(sql, params).fetchone()
        return None if row is None else entry_from_row(row)

    def find(self, job_id: str) -> Entry | None:
        """The newest entry with this id, or with it among its aliases."""
        found = self._one("SELECT * FROM jobs WHERE id = ? ORDER BY seq DESC LIMIT 1", (job_id,))
        if found is not None or '"' in job_id:
            return found
        return self._one(
            "SELECT * FROM jobs WHERE aliases LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT 1",
            ('%"' + job_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%',),
        )

    def get(self, provider: str, base_url: str, job_id: str) -> Entry | None:
        return self._one(
            "SELECT * FROM jobs WHERE provider = ? AND base_url = ? AND id = ?",
            (provider, strip_userinfo(base_url), job_id),
        )

    def get_seq(self, seq: int) -> Entry | None:
        return self._one("SELECT * FROM jobs WHERE seq = ?", (seq,))

    def submitted_between(self, start: float | None, end: float | None) -> list[Entry]:
        """Entries submitted in [start, end) (Unix seconds; None: unbounded), oldest first."""
        bounds = [("submitted_at >= ?", start), ("submitted_at < ?", end)]
        where = " AND ".join(test for test, value in bounds if value is not None) or "1"
        rows = self._execute(
            f"SELECT * FROM jobs WHERE {where} ORDER BY submitted_at, seq",
            [value for _, value in bounds if value is not None],
        ).fetchall()
        return [entry_from_row(row) for row in rows]

    def last_balance(self, provider: str, base_url: str) -> Entry | None:
        """The newest entry whose submission's answer carried the account's balance."""
        return self._one(
            "SELECT * FROM jobs WHERE provider = ? AND base_url = ? AND balance IS NOT NULL"
            " ORDER BY seq DESC LIMIT 1",
            (provider, strip_userinfo(base_url)),
        )

    def recent(self, limit: int = 20) -> list[Entry]:
        rows = self._execute("SELECT * FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [entry_from_row(row) for row in rows]

    def pending(self) -> list[Entry]:
        """Submissions without a job yet (oldest first)."""
        rows = self._execute(
            f"SELECT * FROM jobs WHERE status IN {PENDING!r} ORDER BY seq"
        ).fetchall()
        return [entry_from_row(row) for row in rows]

    def unknown(self) -> list[Entry]:
        """Submissions whose outcome nobody knows: `unknown`, or `submitting` by a process
        that is gone."""
        return [e for e in self.pending() if e.state == UNKNOWN or e.orphaned]

    def same_request(self, fingerprint: str) -> list[Entry]:
        """Entries made from the same request, newest first."""
        rows = self._execute(
            "SELECT * FROM jobs WHERE fingerprint = ? ORDER BY seq DESC", (fingerprint,)
        ).fetchall()
        return [entry_from_row(row) for row in rows]

    def known_ids(self, provider: str, base_url: str) -> set[str]:
        """Every id (and alias) the journal holds for one provider endpoint."""
        rows = self._execute(
            "SELECT id, aliases FROM jobs WHERE provider = ? AND base_url = ?",
            (provider, strip_userinfo(base_url)),
        ).fetchall()
        known: set[str] = set()
        for row in rows:
            known.add(row["id"])
            with contextlib.suppress(ValueError):
                known.update(str(a) for a in json.loads(row["aliases"] or "[]"))
        return known

    def nth_recent(self, n: int) -> Entry | None:
        return self._one("SELECT * FROM jobs ORDER BY seq DESC LIMIT 1 OFFSET ?", (n - 1,))

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
            count = self._execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            raise UsageError(
                f"{ref} does not exist: the journal holds {count} job(s).",
                hint="Run `framecast status` to list recent jobs.",
            )
        return entry
