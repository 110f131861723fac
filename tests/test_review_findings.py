"""Ways a fresh pair of eyes broke the trust guarantees once; each stays fixed."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from framecast.domain import JobRequest
from framecast.emulator.mp4 import render_mp4
from framecast.journal import Journal
from tests import hostile
from tests.conftest import Served, invoke, journal_rows, submit

KEY = "sk-review-findings"
PROMPT = "a heron standing in the shallows"
CLIP = render_mp4("review", 64, 64, 1, Fraction(8))


def data_dir() -> Path:
    return Path(os.environ["FRAMECAST_DATA_DIR"])


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[hostile.Hostile]:
    served = hostile.start()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    yield served
    served.close()


def serve_job(server: hostile.Hostile, job: dict[str, object]) -> None:
    server.route("POST", r"/v1/videos", lambda r: hostile.json_answer(job))
    server.route("GET", r"/v1/videos/[^/]+", lambda r: hostile.json_answer(job))
    server.route(
        "GET", r"/v1/videos/[^/]+/content", lambda r: (200, {"content-type": "video/mp4"}, CLIP)
    )


@pytest.mark.parametrize(
    "odd",
    [
        {"created_at": int(time.time() * 1000)},  # milliseconds
        {"created_at": 1e20, "completed_at": -1e15, "expires_at": 1e300},
        {"progress": float("nan"), "seconds": 1e400},
        {"created_at": "not a time", "progress": "lots"},
    ],
)
def test_odd_numbers_from_a_server_never_break_the_journal(
    server: hostile.Hostile, odd: dict[str, Any]
) -> None:
    serve_job(server, hostile.video("video_odd", **odd))

    runs = [
        invoke("generate", PROMPT, "-o", "clip.mp4", "--json"),
        invoke("status"),
        invoke("status", "--json"),
        invoke("status", "video_odd", "--json"),
    ]

    assert [r.exit_code for r in runs] == [0, 0, 0, 0], [r.output for r in runs]
    document = json.loads(runs[0].stdout)
    created = document["created_at"]
    assert created is None or created.startswith(time.strftime("%Y", time.gmtime()))


def test_a_job_listed_with_a_skewed_clock_is_still_found_by_its_prompt(
    server: hostile.Hostile,
) -> None:
    server.route("POST", r"/v1/videos", lambda r: hostile.json_answer({"error": {}}, 500))
    assert invoke("generate", PROMPT, "--no-wait").exit_code == 5
    skewed = hostile.video("video_skewed", prompt=PROMPT, created_at=int(time.time()) - 3600)
    server.route(
        "GET",
        r"/v1/videos",
        lambda r: hostile.json_answer({"object": "list", "data": [skewed], "has_more": False}),
    )

    result = invoke("sync", "--no-import")

    assert result.exit_code == 0, result.output
    assert "-> video_skewed" in result.stdout
    assert "not created" not in result.stdout


def test_a_reused_process_id_is_not_mistaken_for_the_submitter(served_env: Served) -> None:
    """Containers start every job as pid 1: a live pid of someone else is not the sender."""
    with Journal(data_dir() / "journal.sqlite3") as journal:
        (seq,) = journal.begin_submissions(
            [JobRequest(PROMPT, model="sora-2")],
            provider="openai",
            base_url=served_env.base_url,
            fingerprint="f" * 64,
        )
        journal._execute("UPDATE jobs SET owner_start = 'another-boot:1' WHERE seq = ?", (seq,))

    table = invoke("status", "--json")

    assert table.exit_code == 0, table.output
    assert json.loads(table.stdout)["status"] == "unknown"
    assert "unknown outcome" in table.stderr


def test_jobs_created_before_a_failed_sibling_are_named(served_env: Served) -> None:
    served_env.app.inject("create:reset-after+1")

    result = invoke("generate", PROMPT, "--n", "3", "-o", "clips/", "--json")

    assert result.exit_code == 5, result.output
    rows = journal_rows(data_dir())
    made = sorted(str(r["id"]) for r in rows if r["status"] != "unknown")
    assert len(made) == 2 and served_env.app.jobs_created() == 3
    assert sorted(json.loads(line)["id"] for line in result.stdout.splitlines()) == made
    assert f"Resume with: framecast wait {made[0]}" in result.stderr or (
        f"Resume with: framecast wait {made[1]}" in result.stderr
    )
    assert "-o clips/" in result.stderr
    assert "framecast sync" in result.stderr


def test_credentials_in_a_base_url_are_masked_and_not_stored_lightly(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://bob:secretpw@gateway.example.com/v1")

    shown = invoke("config", "show")
    shown_json = invoke("config", "show", "--json")
    refused = invoke("profile", "save", "p", "--base-url", "https://bob:secretpw@g.example.com/v1")

    assert shown.exit_code == shown_json.exit_code == 0
    assert "secretpw" not in shown.stdout + shown_json.stdout
    assert "***@gateway.example.com" in shown.stdout
    assert refused.exit_code == 2
    assert "--store-key" in refused.stderr
    assert not Path(os.environ["FRAMECAST_CONFIG"]).exists()


def test_print_names_the_job_when_the_wait_times_out(served_env: Served) -> None:
    result = invoke(
        "generate", PROMPT, "--timeout", "0.2", "--print", "id", "-P", "emulator_job_seconds=60"
    )

    assert result.exit_code == 7, result.output
    (row,) = journal_rows(data_dir())
    assert result.stdout.strip() == row["id"]


def test_json_names_the_job_when_saving_it_fails(served_env: Served) -> None:
    served_env.app.inject("content:html*")

    result = invoke("generate", PROMPT, "--json", "-o", "clip.mp4")

    assert result.exit_code == 5, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    assert document["output"]["path"] is None


def test_a_job_the_provider_forgot_has_expired(served_env: Served) -> None:
    job_id = submit(PROMPT)
    served_env.app.videos.store.delete(job_id)

    result = invoke("wait", job_id, "-o", "clip.mp4")
    fetched = invoke("download", job_id)

    assert result.exit_code == fetched.exit_code == 6, result.output
    assert "no longer knows this job" in result.stderr
    assert "exist at the provider" not in result.stderr + fetched.stderr
    (row,) = journal_rows(data_dir())
    assert row["status"] == "expired"


def test_one_unknown_id_does_not_hide_the_others_in_status(served_env: Served) -> None:
    job_id = submit(PROMPT)

    result = invoke("status", "video_nobody_made_this", job_id, "--json")

    assert result.exit_code == 4
    assert json.loads(result.stdout)["id"] == job_id


@pytest.mark.parametrize("template", ["{id.__class__}.mp4", "{id[0]}.mp4", "{id!r}.mp4"])
def test_templates_reach_no_python_objects(served_env: Served, template: str) -> None:
    result = invoke("generate", PROMPT, "-o", template)

    assert result.exit_code == 2, result.output
    assert served_env.seen("POST") == []


def test_an_error_given_as_text_keeps_its_reason(server: hostile.Hostile) -> None:
    serve_job(server, hostile.video("video_err", status="failed", error="the model refused"))

    result = invoke("generate", PROMPT)

    assert result.exit_code == 6
    assert "the model refused" in result.stderr


def test_special_files_are_never_replaced(served_env: Served, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    result = invoke("generate", PROMPT, "-o", str(fifo), "--force")

    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.stderr
    assert fifo.is_fifo()
    assert served_env.seen("POST") == []
