"""`framecast sync`: unknown submissions settled, jobs made elsewhere imported."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from framecast.domain import JobRequest
from framecast.emulator.wire import Request, Response
from framecast.journal import Journal
from tests import hostile
from tests.conftest import TERMINAL, Served, invoke, journal_rows, plain, spawn

BOAT = "a paper boat drifting down a rainy street"
KEY = "sk-sync-test"


def data_dir() -> Path:
    return Path(os.environ["FRAMECAST_DATA_DIR"])


def test_jobs_made_elsewhere_are_imported(served_env: Served) -> None:
    headers = {"authorization": "Bearer elsewhere"}
    made = [
        httpx.post(f"{served_env.base_url}/videos", json={"prompt": p}, headers=headers).json()
        for p in ("made by another tool", "and another")
    ]

    result = invoke("sync", "--provider", "openai")
    again = invoke("sync", "--provider", "openai")
    table = invoke("status", env=TERMINAL)

    assert [r.exit_code for r in (result, again, table)] == [0, 0, 0], result.output
    assert sorted(line.split()[1] for line in result.stdout.splitlines()) == sorted(
        m["id"] for m in made
    )
    assert all(line.startswith("imported ") for line in result.stdout.splitlines())
    assert again.stdout == "", "a second sync imports nothing twice"
    rows = journal_rows(data_dir())
    assert {r["id"] for r in rows} == {m["id"] for m in made}
    assert all(r["imported"] == 1 for r in rows)
    assert plain(table.stdout).count("(imported)") == 2


def test_nothing_to_reconcile(isolated: Path) -> None:
    result = invoke("sync")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Nothing to reconcile" in result.stderr


def _dead_pid() -> int:
    child = spawn([sys.executable, "-c", "pass"])
    assert child.wait(timeout=30) == 0
    return child.pid


def test_a_submission_whose_process_died_counts_as_unknown(served_env: Served) -> None:
    """A crash between journaling and the answer leaves `submitting`; nobody will finish it."""
    with Journal(data_dir() / "journal.sqlite3") as journal:
        (seq,) = journal.begin_submissions(
            [JobRequest(BOAT, model="sora-2")],
            provider="openai",
            base_url=served_env.base_url,
            fingerprint="0" * 64,
        )
        journal._execute("UPDATE jobs SET owner_pid = ? WHERE seq = ?", (_dead_pid(), seq))

    table = invoke("status", env=TERMINAL)
    settled = invoke("sync", "--no-import")

    assert table.exit_code == 0, table.output
    assert "UNKNOWN" in plain(table.stdout)
    assert "unknown outcome" in table.stderr
    assert settled.exit_code == 0, settled.output
    assert ": not created: openai lists no such job" in settled.stdout
    assert journal_rows(data_dir()) == []


# -- a Lumenfall gateway that lists no jobs, only its request history ------------------------


@pytest.fixture
def history_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[hostile.Hostile]:
    server = hostile.start()
    monkeypatch.setenv("LUMENFALL_API_KEY", KEY)
    monkeypatch.setenv("LUMENFALL_BASE_URL", server.origin + "/openai/v1")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    monkeypatch.setenv("FRAMECAST_MODEL", "sora-2")
    monkeypatch.setenv("FRAMECAST_MAX_RETRIES", "0")
    server.route("GET", r"/openai/v1/videos", lambda r: hostile.json_answer({"error": {}}, 404))
    server.route(
        "POST",
        r"/openai/v1/videos",
        lambda r: hostile.json_answer({"error": {"message": "x"}}, 502),
    )
    yield server
    server.close()


def _history(items: list[dict[str, object]]) -> hostile.Route:
    return lambda r: hostile.json_answer({"object": "list", "data": items, "has_more": False})


def test_history_with_no_request_means_nothing_was_created(history_only: hostile.Hostile) -> None:
    assert invoke("generate", BOAT, "--no-wait").exit_code == 5
    history_only.route("GET", r"/v1/requests", _history([]))

    result = invoke("sync")

    assert result.exit_code == 0, result.output
    assert "request history shows no such request" in result.stdout
    assert journal_rows(data_dir()) == []


def test_a_keyed_replay_recovers_the_job_without_a_second_charge(
    history_only: hostile.Hostile,
) -> None:
    assert invoke("generate", BOAT, "--no-wait").exit_code == 5
    (first,) = [s for s in history_only.seen if s.method == "POST"]
    key = first.headers["idempotency-key"]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    item = {"id": "req_1", "status": "completed", "model": "sora-2", "endpoint": "/v1/videos",
            "created_at": now, "estimated": False}  # fmt: skip
    history_only.route("GET", r"/v1/requests", _history([item]))

    looked = invoke("sync")

    assert looked.exit_code == 0, looked.output
    assert "lists no job ids" in looked.stdout and "--replay" in looked.stdout
    assert journal_rows(data_dir())[0]["status"] == "unknown"

    history_only.route(
        "POST",
        r"/openai/v1/videos",
        lambda r: hostile.json_answer(hostile.video("video_made_once", status="in_progress"), 200),
    )
    replayed = invoke("sync", "--replay")

    assert replayed.exit_code == 0, replayed.output
    assert "-> video_made_once (in_progress) by keyed replay" in replayed.stdout
    last = [s for s in history_only.seen if s.method == "POST"][-1]
    assert last.headers["idempotency-key"] == key
    assert json.loads(last.body)["idempotency_key"] == key
    (row,) = journal_rows(data_dir())
    assert (row["id"], row["status"]) == ("video_made_once", "in_progress")


def test_a_provider_without_any_lookup_says_so(history_only: hostile.Hostile) -> None:
    assert invoke("generate", BOAT, "--no-wait").exit_code == 5
    history_only.route("GET", r"/v1/requests", lambda r: hostile.json_answer({"error": {}}, 404))

    result = invoke("sync")

    assert result.exit_code == 0, result.output
    assert "offers no way to look jobs up" in result.stdout
    assert "still have an unknown outcome" in result.stderr
    assert journal_rows(data_dir())[0]["status"] == "unknown"


@pytest.mark.parametrize("answer", [{}, {"object": "list"}, {"error": {"message": "x"}}, []])
def test_a_list_that_is_not_a_list_settles_nothing(served_env: Served, answer: object) -> None:
    served_env.app.inject("create:500")
    assert invoke("generate", BOAT, "--no-wait").exit_code == 5
    original = served_env.app.handle

    def broken_list(request: Request) -> Response:
        if request.method == "GET" and request.path == "/v1/videos":
            return Response.json(200, answer)
        return original(request)

    served_env.app.handle = broken_list  # type: ignore[method-assign]

    result = invoke("sync")

    assert result.exit_code == 5, result.output
    assert "without a list" in result.stderr
    (row,) = journal_rows(data_dir())
    assert row["status"] == "unknown", "an unreadable list proves nothing"


def test_a_gateway_that_drops_the_cursor_gives_an_incomplete_listing(
    emulator: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.gateway import start_gateway

    gateway = start_gateway(emulator.base_url)
    try:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", gateway.base_url)
        with Journal(data_dir() / "journal.sqlite3") as journal:
            (seq,) = journal.begin_submissions(
                [JobRequest("an old submission", model="sora-2")],
                provider="openai",
                base_url=gateway.base_url,
                fingerprint="e" * 64,
            )
            journal.mark_unknown(seq, "test")
            # Two hours ago: the jobs made now are not it, and older ones are out of reach.
            journal._execute(
                "UPDATE jobs SET submitted_at = submitted_at - 7200 WHERE seq = ?", (seq,)
            )
        headers = {"authorization": "Bearer elsewhere"}
        for i in range(25):
            httpx.post(f"{emulator.base_url}/videos", json={"prompt": f"p{i}"}, headers=headers)

        result = invoke("sync")
    finally:
        gateway.close()

    assert result.exit_code == 0, result.output
    imported = [line for line in result.stdout.splitlines() if line.startswith("imported")]
    assert len(imported) == len(set(imported)) == 20, "one page, each job once"
    assert "not created" not in result.stdout, "an incomplete listing proves nothing"
    assert [r["status"] for r in journal_rows(data_dir()) if r["seq"] == seq] == ["unknown"]
