"""Emulated jobs, kept in SQLite so the in-process emulator survives between runs.

The served emulator keeps its store in memory; `--provider emulator` keeps one
file in framecast's data directory, so `generate --no-wait` followed by
`wait @last` in another process finds the job.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS characters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    record TEXT NOT NULL
);
"""


_NOT_NANOGPT = "coalesce(json_extract(record, '$.extra.dialect'), '') != 'nanogpt'"


@dataclass(slots=True)
class VideoRecord:
    """What the emulator remembers of a job; its status is derived from the clock."""

    id: str
    created_at: float
    model: str
    prompt: str
    seconds: int
    width: int
    height: int
    fps: str  # a fraction, e.g. "24" or "30000/1001"
    job_seconds: float
    outcome: str  # completed | failed | cancelled
    price_per_second: float | None
    expires_after: float
    references: int = 0
    remixed_from: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # passthrough fields, as sent
    # What the client asked for, echoed in the video object ("" : as made).
    asked_size: str = ""
    asked_seconds: str = ""
    plan: dict[str, Any] | None = None  # its timeline.Plan; None: steady over job_seconds
    webhook_url: str | None = None  # where its final event goes (Lumenfall's webhook_url)
    cancelled_at: float | None = None  # when a DELETE stopped it before it finished

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


class JobStore:
    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        self.added = 0  # jobs this store took since it was opened, in any dialect
        with self._lock, self._db:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('signing_key', ?)",
                (secrets.token_hex(32),),
            )
            self._db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('webhook_secret', ?)",
                ("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),),
            )
        self.signing_key = bytes.fromhex(
            self._scalar("SELECT value FROM meta WHERE key = 'signing_key'")
        )
        self.webhook_secret: str = self._scalar(
            "SELECT value FROM meta WHERE key = 'webhook_secret'"
        )

    def _scalar(self, sql: str, *args: Any) -> Any:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, record: VideoRecord) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO videos(id, record) VALUES (?, ?)",
                (record.id, json.dumps(asdict(record))),
            )
            self.added += 1

    def get(self, video_id: str) -> VideoRecord | None:
        raw = self._scalar("SELECT record FROM videos WHERE id = ?", video_id)
        return VideoRecord(**json.loads(raw)) if raw else None

    def update(self, record: VideoRecord) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE videos SET record = ? WHERE id = ?",
                (json.dumps(asdict(record)), record.id),
            )

    def delete(self, video_id: str) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM videos WHERE id = ?", (video_id,)).rowcount > 0

    def page(
        self, after: str | None, limit: int, descending: bool, *, videos_only: bool = False
    ) -> tuple[list[VideoRecord], bool]:
        """Up to `limit` records after the cursor id, and whether more follow.

        `videos_only` leaves out NanoGPT's runs, which the OpenAI-shaped list does not show.
        """
        op, order = ("<", "DESC") if descending else (">", "ASC")
        kind = "AND " + _NOT_NANOGPT if videos_only else ""
        with self._lock:
            if after is None:
                rows = self._db.execute(
                    f"SELECT record FROM videos WHERE 1 {kind} ORDER BY seq {order} LIMIT ?",
                    (limit + 1,),
                ).fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT record FROM videos WHERE seq {op}"
                    f" (SELECT seq FROM videos WHERE id = ?) {kind} ORDER BY seq {order} LIMIT ?",
                    (after, limit + 1),
                ).fetchall()
        records = [VideoRecord(**json.loads(r[0])) for r in rows]
        return records[:limit], len(records) > limit

    def newest(self) -> list[VideoRecord]:
        """Every record, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM videos ORDER BY seq DESC").fetchall()
        return [VideoRecord(**json.loads(r[0])) for r in rows]

    def add_request(self, request_id: str, entry: dict[str, Any]) -> None:
        """One entry of the request history (see history.py)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO requests(id, record) VALUES (?, ?)", (request_id, json.dumps(entry))
            )

    def requests(self) -> list[dict[str, Any]]:
        """The request history, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM requests ORDER BY seq DESC").fetchall()
        return [json.loads(r[0]) for r in rows]

    def settle_request_job(self, video_id: str, finished: float, outcome: str) -> None:
        """A job that ended otherwise than planned (cancelled): the history entry of the
        request that made it ends with it (see history.py for the entry's `jobs`)."""
        with self._lock, self._db:
            rows = self._db.execute("SELECT id, record FROM requests").fetchall()
            for request_id, raw in rows:
                entry = json.loads(raw)
                jobs = [job for job in entry.get("jobs", []) if job[3:4] == [video_id]]
                for job in jobs:
                    job[0], job[1] = finished, outcome
                if jobs:
                    self._db.execute(
                        "UPDATE requests SET record = ? WHERE id = ?",
                        (json.dumps(entry), request_id),
                    )

    def get_request(self, request_id: str) -> dict[str, Any] | None:
        raw = self._scalar("SELECT record FROM requests WHERE id = ?", request_id)
        return None if raw is None else dict(json.loads(raw))

    def replay(self, key: str) -> list[str] | None:
        """The jobs an idempotency key already created, if any."""
        raw = self._scalar("SELECT ids FROM idempotency WHERE key = ?", key)
        return None if raw is None else list(json.loads(raw))

    def remember(self, key: str, ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency(key, ids) VALUES (?, ?)", (key, json.dumps(ids))
            )

    def add_character(self, character_id: str, name: str, created_at: int) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO characters(id, name, created_at) VALUES (?, ?, ?)",
                (character_id, name, created_at),
            )

    def get_character(self, character_id: str) -> tuple[str, str, int] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, created_at FROM characters WHERE id = ?", (character_id,)
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2])
