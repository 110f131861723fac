"""`framecast batch FILE` and `estimate FILE` over loopback: a served emulator in the OpenAI
dialect (whose requests can be counted), and the in-process one where nothing needs counting.

Each run is the real CLI; each test asserts the exit code, stdout and stderr apart, what
reached the emulator, the journal, and the MP4s saved.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framecast.emulator import EmulatorConfig
from framecast.emulator.videos import finishes_at
from tests.conftest import (
    FRAMECAST,
    TERMINAL,
    Served,
    invoke,
    journal_rows,
    plain,
    probe_mp4,
    serve,
    spawn,
)

PROMPTS = ["a paper boat on a rainy street", "a capybara in a hot spring", "a storm at sea"]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The strict OpenAI server on loopback, as the configured provider."""
    server = serve(EmulatorConfig(job_seconds=0.3, dialect="openai"))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "openai")
    yield server
    server.server.stop()


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def results(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def posts(served: Served) -> int:
    return len([s for s in served.seen("POST") if s.path.rstrip("/").endswith("/videos")])


def test_a_jsonl_batch_saves_every_row_and_reports_each(served: Served) -> None:
    batch = jsonl(Path("prompts.jsonl"), [{"prompt": p, "seconds": 4} for p in PROMPTS])

    result = invoke(
        "batch", str(batch), "-m", "sora-2", "-o", "clips/{row}-{prompt_slug}.{ext}", "--json"
    )

    assert result.exit_code == 0, result.output
    lines = sorted(results(result.stdout), key=lambda r: r["row"])
    assert [r["row"] for r in lines] == [1, 2, 3]
    assert {r["status"] for r in lines} == {"completed"}
    assert set(lines[0]) == {
        "row",
        "line",
        "id",
        "status",
        "path",
        "bytes",
        "cost",
        "currency",
        "error",
        "earlier",
    }
    assert lines[0]["path"] == "clips/1-a-paper-boat-on-a-rainy-street.mp4"
    for line in lines:
        saved = Path(line["path"])
        assert saved.stat().st_size == line["bytes"]
        assert probe_mp4(saved).codec == "h264"
        assert line["cost"] == pytest.approx(0.40) and line["currency"] == "USD"
    assert "Batch: 3 row(s): 3 completed; cost 1.20 USD" in result.stderr
    assert posts(served) == 3
    rows = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))
    assert sorted(r["status"] for r in rows) == ["completed"] * 3
    assert all(r["output_path"] for r in rows)


def test_plain_results_name_row_status_id_and_path(served: Served) -> None:
    batch = jsonl(Path("p.jsonl"), [{"prompt": PROMPTS[0]}])

    result = invoke("batch", str(batch), "-m", "sora-2", "-o", "out/")

    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    row, status, job_id, path, cost = line.split("  ")[:5]
    assert (row, status) == ("row 1", "completed")
    assert job_id.startswith("video_")
    assert path == f"out/1-{'a-paper-boat-on-a-rainy-street'}.mp4"
    assert cost == "0.40 USD"
    assert "row 1" not in result.stderr


def test_csv_and_toml_rows_send_their_own_options(served: Served) -> None:
    Path("p.csv").write_text(
        'prompt,seconds,size\n"a storm, at sea",8,1280x720\na quiet harbour,,\n'
    )
    Path("p.toml").write_text(
        '[[job]]\nprompt = "a lighthouse"\nseconds = 12\n\n[[job]]\nprompt = "a gull"\n'
    )

    from_csv = invoke("batch", "p.csv", "-m", "sora-2", "--seconds", "4", "-o", "csv/", "--json")
    from_toml = invoke("batch", "p.toml", "-m", "sora-2", "-o", "toml/", "--json")

    assert from_csv.exit_code == 0, from_csv.output
    assert from_toml.exit_code == 0, from_toml.output
    bodies = [s.fields() for s in served.seen("POST") if s.path.endswith("/videos")]
    sent = {b["prompt"]: (b.get("seconds"), b.get("size")) for b in bodies}
    # A row's value wins over the flag; a row without one takes the flag's.
    assert sent["a storm, at sea"] == ("8", "1280x720")
    assert sent["a quiet harbour"][0] == "4"
    assert sent["a lighthouse"][0] == "12"
    assert {r["line"] for r in results(from_csv.stdout)} == {2, 3}
    assert {r["line"] for r in results(from_toml.stdout)} == {1, 5}


def test_a_bad_file_is_refused_whole_by_line_and_nothing_is_sent(served: Served) -> None:
    Path("bad.jsonl").write_text(
        '{"prompt": "fine"}\n'
        '{"prompt": "x", "sekonds": 4}\n'
        "\n"
        "not json\n"
        '{"prompt": "ok", "seconds": "four"}\n'
        '{"seconds": 4}\n'
        '{"prompt": "two", "n": 2}\n'
    )

    result = invoke("batch", "bad.jsonl", "-m", "sora-2")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "line 2: unknown key 'sekonds' (did you mean 'seconds'?)" in result.stderr
    assert "line 4: not JSON" in result.stderr
    assert 'line 5: seconds: expected a whole number, got "four"' in result.stderr
    assert "line 6: no prompt" in result.stderr
    assert "line 7: n: a row makes one video" in result.stderr
    assert "framecast: error: bad.jsonl has 5 invalid row(s); nothing was sent." in result.stderr
    assert "--skip-invalid" in result.stderr
    assert "line 1" not in result.stderr
    assert served.seen("POST") == []


def test_a_row_the_provider_would_refuse_is_caught_before_sending(served: Served) -> None:
    """Checked as generate checks a request: a missing image file, a strict adjustment."""
    jsonl(
        Path("p.jsonl"), [{"prompt": "a", "image": ["missing.png"]}, {"prompt": "b", "seconds": 10}]
    )

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "--strict")

    assert result.exit_code == 2
    assert "line 1: --image" in result.stderr and "no such file" in result.stderr
    assert "line 2:" in result.stderr
    assert served.seen("POST") == []


def test_skip_invalid_runs_the_valid_rows_and_reports_the_others(served: Served) -> None:
    Path("p.jsonl").write_text(
        '{"prompt": "good"}\n{"prompt": ""}\n{"prompt": "typo", "sekonds": 4}\n'
    )

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--skip-invalid", "--json")

    assert result.exit_code == 6
    by_row = {r["row"]: r for r in results(result.stdout)}
    assert by_row[1]["status"] == "completed"
    assert by_row[2]["status"] == "invalid" and by_row[2]["id"] is None
    assert "prompt: expected non-empty text" in by_row[2]["error"]["message"]
    assert "Warning: p.jsonl: line 2: prompt: expected non-empty text" in result.stderr
    assert by_row[3]["status"] == "invalid" and by_row[3]["id"] is None
    assert "2 of 3 row(s) did not succeed (rows 2, 3)" in result.stderr
    assert posts(served) == 1


def test_a_failed_row_does_not_stop_the_others_and_exits_6(served: Served) -> None:
    rows: list[dict[str, Any]] = [{"prompt": p} for p in PROMPTS]
    rows[1]["params"] = {"emulator_outcome": "failed"}
    jsonl(Path("p.jsonl"), rows)

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")

    assert result.exit_code == 6
    by_row = {r["row"]: r for r in results(result.stdout)}
    assert by_row[2]["status"] == "failed" and by_row[2]["path"] is None
    assert by_row[2]["error"]["message"]
    assert by_row[1]["status"] == by_row[3]["status"] == "completed"
    assert Path(by_row[3]["path"]).is_file()
    assert "1 of 3 row(s) did not succeed (rows 2)" in result.stderr
    assert "--retry-failed" in result.stderr
    assert "Batch: 3 row(s): 2 completed, 1 failed" in result.stderr


def test_running_the_same_file_again_sends_nothing_for_rows_made(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS[:2]])
    first = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")
    assert first.exit_code == 0, first.output
    sent = len(served.seen())

    again = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")

    assert again.exit_code == 0, again.output
    assert len(served.seen()) == sent  # not a status poll, not a download
    lines = results(again.stdout)
    assert {r["earlier"] for r in lines} == {True}
    assert {r["id"] for r in lines} == {r["id"] for r in results(first.stdout)}
    assert sorted(p.name for p in Path("out").iterdir()) == sorted(
        Path(r["path"]).name for r in lines
    )


def test_a_file_saved_elsewhere_or_lost_is_downloaded_again_without_resubmitting(
    served: Served,
) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": PROMPTS[0]}])
    first = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")
    assert first.exit_code == 0, first.output
    (saved,) = results(first.stdout)
    Path(saved["path"]).unlink()

    again = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")

    assert again.exit_code == 0, again.output
    (line,) = results(again.stdout)
    assert line["earlier"] is True and line["path"] == saved["path"]
    assert probe_mp4(Path(line["path"])).frames > 0
    assert posts(served) == 1


def test_no_wait_submits_every_row_and_a_later_run_collects_them(served: Served) -> None:
    rows = [{"prompt": p, "params": {"emulator_job_seconds": 0.5}} for p in PROMPTS]
    jsonl(Path("p.jsonl"), rows)

    submitted = invoke("batch", "p.jsonl", "-m", "sora-2", "--no-wait", "--json")

    assert submitted.exit_code == 0, submitted.output
    lines = results(submitted.stdout)
    assert {r["status"] for r in lines} == {"submitted"}
    assert all(r["id"].startswith("video_") for r in lines)
    assert not Path("1-a-paper-boat-on-a-rainy-street.mp4").exists()
    assert posts(served) == 3

    collected = invoke("batch", "p.jsonl", "-m", "sora-2", "--json")

    assert collected.exit_code == 0, collected.output
    assert posts(served) == 3  # followed, not submitted again
    done = results(collected.stdout)
    assert {r["status"] for r in done} == {"completed"}
    assert {r["id"] for r in done} == {r["id"] for r in lines}
    assert Path("1-a-paper-boat-on-a-rainy-street.mp4").is_file()


def test_retry_failed_submits_only_the_rows_that_failed(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": "made first"}])
    assert invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/").exit_code == 0
    served.app.videos.timeline.failure_rate = 1.0
    jsonl(Path("p.jsonl"), [{"prompt": "made first"}, {"prompt": "fails at first"}])
    failing = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")
    assert failing.exit_code == 6
    assert posts(served) == 2

    served.app.videos.timeline.failure_rate = 0.0
    without = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")
    assert without.exit_code == 6  # a failed row stays failed unless asked
    assert {r["row"]: r["status"] for r in results(without.stdout)} == {1: "completed", 2: "failed"}
    assert posts(served) == 2

    retried = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "--retry-failed")

    assert retried.exit_code == 0, retried.output
    assert posts(served) == 3  # only the failed row was sent again
    by_row = {r["row"]: r for r in results(retried.stdout)}
    assert by_row[1]["earlier"] is True and by_row[2]["earlier"] is False
    assert by_row[2]["status"] == "completed" and Path(by_row[2]["path"]).is_file()


def test_shards_take_every_row_exactly_once_and_stay_put_when_rows_are_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAMECAST_PROVIDER", "emulator")
    prompts = [f"scene {n}" for n in range(12)]
    jsonl(Path("p.jsonl"), [{"prompt": p} for p in prompts])

    def shard_rows(k: int) -> dict[str, int]:
        result = invoke("batch", "p.jsonl", "--shard", f"{k}/3", "--no-wait", "--json")
        assert result.exit_code == 0, result.output
        return {r["id"]: r["row"] for r in results(result.stdout)}

    shards = [shard_rows(k) for k in (1, 2, 3)]
    taken = [row for shard in shards for row in shard.values()]
    assert sorted(taken) == list(range(1, 13))  # every row once, none twice
    assert all(shards)  # twelve rows do not all land in one shard

    from framecast.batchplan import Shard, plan
    from framecast.settings import resolve

    settings = resolve({})
    before = {r.row.prompt: r for r in plan(Path("p.jsonl"), settings, shard=Shard(2, 3)).rows}
    jsonl(Path("p.jsonl"), [{"prompt": "a new first row"}, *({"prompt": p} for p in prompts)])
    after = {r.row.prompt: r for r in plan(Path("p.jsonl"), settings, shard=Shard(2, 3)).rows}
    assert set(before) <= set(after)
    assert {p: r.key for p, r in before.items()} == {p: after[p].key for p in before}


def test_shard_must_be_k_of_n() -> None:
    Path("p.jsonl").write_text('{"prompt": "a"}\n')

    result = invoke("batch", "p.jsonl", "--provider", "emulator", "--shard", "4/3")

    assert result.exit_code == 2
    assert "--shard '4/3': expected K/N with 1 <= K <= N" in result.stderr
    assert result.stdout == ""


def test_max_cost_is_held_to_the_batch_total_before_anything_is_sent(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS])  # 3 x 0.40 USD

    refused = invoke("batch", "p.jsonl", "-m", "sora-2", "--max-cost", "1.00")

    assert refused.exit_code == 8
    assert "The batch's estimate, 1.20 USD, is above --max-cost 1.00." in refused.stderr
    assert refused.stdout == ""
    assert served.seen("POST") == []

    allowed = invoke("batch", "p.jsonl", "-m", "sora-2", "--max-cost", "1.25", "-o", "out/")

    assert allowed.exit_code == 0, allowed.output
    assert "Estimated 1.20 USD for 3 row(s) to submit." in allowed.stderr
    assert posts(served) == 3


def test_concurrency_bounds_the_jobs_unfinished_at_once(served: Served) -> None:
    rows = [{"prompt": f"scene {n}", "params": {"emulator_job_seconds": 0.4}} for n in range(6)]
    jsonl(Path("p.jsonl"), rows)

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "--concurrency", "2", "-o", "out/")

    assert result.exit_code == 0, result.output
    records = [served.app.store.get(line.split("  ")[2]) for line in result.stdout.splitlines()]
    spans = [(r.created_at, finishes_at(r)) for r in records if r is not None]
    assert len(spans) == 6
    for start, _ in spans:
        running = [s for s, end in spans if s <= start < end]
        assert len(running) <= 2


def test_estimate_file_prices_each_row_and_the_total(served: Served) -> None:
    jsonl(
        Path("p.jsonl"),
        [
            {"prompt": "a", "seconds": 4},
            {"prompt": "b", "seconds": 8},
            {"prompt": "c", "model": "my-own-model"},
        ],
    )

    result = invoke("estimate", "p.jsonl", "-m", "sora-2", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    by_row = {r["row"]: r for r in document["rows"]}
    assert by_row[1]["total"] == pytest.approx(0.40)
    assert by_row[2]["total"] == pytest.approx(0.80)
    assert by_row[3]["total"] is None and by_row[3]["unpriced"]
    assert document["totals"] == {"USD": pytest.approx(1.20)}
    assert document["unpriced_rows"] == [3]
    assert served.seen("POST") == []

    table = invoke("estimate", "p.jsonl", "-m", "sora-2")
    assert table.exit_code == 0
    assert "total: 1.20 USD for 3 row(s)" in table.stdout
    assert "not priced: row 3:" in table.stdout


def test_estimate_file_offline_uses_the_table() -> None:
    jsonl(Path("p.jsonl"), [{"prompt": "a", "model": "sora-2", "seconds": 8}])

    result = invoke("estimate", "p.jsonl", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["provider"] is None
    assert document["totals"] == {"USD": pytest.approx(0.80)}
    assert "priced offline from framecast's bundled table" in result.stderr


def test_row_in_a_template_is_refused_outside_a_batch() -> None:
    result = invoke("generate", "a", "--provider", "emulator", "-o", "{row}.mp4")

    assert result.exit_code == 2
    assert "{row} is a batch's row number; only `framecast batch` has one" in result.stderr


def test_a_batch_into_one_file_is_refused_before_reading_rows(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": "a"}, {"prompt": "b"}])

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "clip.mp4")

    assert result.exit_code == 2
    assert "-o 'clip.mp4' names one file, but a batch makes a video per row." in result.stderr
    assert served.seen("POST") == []


def faulty(monkeypatch: pytest.MonkeyPatch, spec: str) -> Served:
    server = serve(EmulatorConfig(job_seconds=0.3, dialect="openai", faults=spec))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "openai")
    return server


def test_a_429_on_a_submission_is_waited_out_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = faulty(monkeypatch, "create:429=0.2+1")
    try:
        jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS])

        result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "-j", "1")

        assert result.exit_code == 0, result.output
        assert {r["status"] for r in results(result.stdout)} == {"completed"}
        assert posts(served) == 4  # the refused one, sent again after its Retry-After
        assert len({s.path for s in served.seen("GET", "/content")}) == 3
    finally:
        served.server.stop()


def test_a_provider_that_keeps_refusing_stops_the_submissions_not_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = faulty(monkeypatch, "create:429=0.05*inf+1")
    try:
        jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS])

        result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "-j", "1")

        assert result.exit_code == 5
        by_row = {r["row"]: r for r in results(result.stdout)}
        assert by_row[1]["status"] == "completed" and Path(by_row[1]["path"]).is_file()
        assert by_row[2]["status"] == by_row[3]["status"] == "not_submitted"
        assert "Run the same command again" in result.stderr
        rows = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))
        assert [r["status"] for r in rows] == ["completed"]  # nothing unknown, nothing lost
    finally:
        served.server.stop()


def test_an_ambiguous_submission_stops_sending_and_is_never_sent_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = faulty(monkeypatch, "create:500+1")
    try:
        jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS])

        first = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "-j", "1")

        assert first.exit_code == 5
        by_row = {r["row"]: r["status"] for r in results(first.stdout)}
        assert by_row == {1: "completed", 2: "unknown", 3: "not_submitted"}
        assert "Settle it with `framecast sync`" in first.stderr
        assert posts(served) == 2

        second = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "-j", "1")

        assert second.exit_code == 6
        again = {r["row"]: r["status"] for r in results(second.stdout)}
        assert again == {1: "completed", 2: "unknown", 3: "completed"}
        assert posts(served) == 3  # row 2 was not sent again: it may exist already
    finally:
        served.server.stop()


def test_a_second_run_of_the_same_file_never_makes_a_row_twice(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    """Run B sorts both rows as new, then its first submission is held back (a 429 with
    Retry-After 3); meanwhile run A sends row 2 and makes it. When B gets to row 2 it must
    find A's job, in the same transaction that would record its own, and save that. Run A,
    finding row 1 being sent by B, waits for B's submission and saves B's job."""
    served = faulty(monkeypatch, "create:429=3")
    try:
        jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS[:2]])
        argv = [*FRAMECAST, "batch", "p.jsonl", "-m", "sora-2", "-o", "b/", "-j", "1", "--json"]
        second = spawn(argv, env=dict(os.environ))
        deadline = time.monotonic() + 30
        while posts(served) < 1:  # B has sorted its rows and is held back on row 1
            assert second.poll() is None and time.monotonic() < deadline, second.communicate()
            time.sleep(0.02)

        first = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "a/", "--json")
        stdout, stderr = second.communicate(timeout=60)

        assert first.exit_code == 0, first.output
        by_row = {r["row"]: r for r in results(first.stdout)}
        assert by_row[1]["status"] == "completed" and by_row[1]["earlier"] is True  # B's
        assert by_row[2]["status"] == "completed" and by_row[2]["earlier"] is False
        assert second.returncode == 0, stderr
        again = {r["row"]: r for r in results(stdout)}
        assert {r["status"] for r in again.values()} == {"completed"}
        assert again[1]["id"] == by_row[1]["id"] and again[1]["earlier"] is False
        assert again[2]["id"] == by_row[2]["id"] and again[2]["earlier"] is True
        for saved in [*by_row.values(), *again.values()]:
            assert probe_mp4(Path(saved["path"])).codec == "h264"
        assert "new take" not in stderr
        made = [s for s in served.seen("POST") if s.path.rstrip("/").endswith("/videos")]
        assert len(made) == 3  # B's held-back try and its retry of row 1, A's row 2
        rows = journal_rows(isolated)
        assert sorted(r["prompt"] for r in rows) == sorted(PROMPTS[:2])
    finally:
        served.server.stop()


def test_two_runs_retrying_failed_rows_retry_each_row_once(served: Served, isolated: Path) -> None:
    """Both rows failed. Run B (--retry-failed) is held back on row 1 (a 429 with
    Retry-After 3); run A (--retry-failed) waits on row 1 for B and retries row 2, which
    fails again. B must then take A's retry of row 2 as the row's outcome, not retry it
    once more."""
    served.app.videos.timeline.failure_rate = 1.0
    jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS[:2]])
    assert invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/").exit_code == 6
    assert posts(served) == 2
    served.app.inject("create:429=3")
    argv = [*FRAMECAST, "batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "-j", "1"]
    second = spawn([*argv, "--retry-failed", "--json"], env=dict(os.environ))
    deadline = time.monotonic() + 30
    while posts(served) < 3:  # B has sorted its rows and is held back on row 1
        assert second.poll() is None and time.monotonic() < deadline, second.communicate()
        time.sleep(0.02)

    first = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--retry-failed", "--json")
    stdout, stderr = second.communicate(timeout=60)

    assert first.exit_code == 6, first.output
    assert second.returncode == 6, stderr
    mine = {r["row"]: r for r in results(first.stdout)}
    theirs = {r["row"]: r for r in results(stdout)}
    assert {r["status"] for r in [*mine.values(), *theirs.values()]} == {"failed"}
    assert mine[1]["id"] == theirs[1]["id"] and mine[2]["id"] == theirs[2]["id"]
    assert (mine[1]["earlier"], mine[2]["earlier"]) == (True, False)
    assert (theirs[1]["earlier"], theirs[2]["earlier"]) == (False, True)
    assert posts(served) == 5  # B's held try and its retry of row 1, A's retry of row 2
    assert len(journal_rows(isolated)) == 4


def test_a_row_another_run_keeps_sending_is_waited_on_no_longer_than_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = faulty(monkeypatch, "create:429=60")  # B's submission is held for a minute
    try:
        jsonl(Path("p.jsonl"), [{"prompt": PROMPTS[0]}])
        argv = [*FRAMECAST, "batch", "p.jsonl", "-m", "sora-2", "-o", "b/", "--json"]
        other = spawn(argv, env=dict(os.environ))
        deadline = time.monotonic() + 30
        while posts(served) < 1:
            assert other.poll() is None and time.monotonic() < deadline, other.communicate()
            time.sleep(0.02)

        result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "a/", "--timeout", "1.5")

        assert result.exit_code == 7, result.output
        assert result.stdout == ""
        assert "Timed out waiting for another framecast run to submit row(s) 1." in result.stderr
        assert "Run the same command again" in result.stderr
        assert posts(served) == 1  # this run sent nothing
    finally:
        served.server.stop()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_leaves_the_jobs_running_and_a_second_run_collects_them(
    served: Served, isolated: Path, sig: signal.Signals, code: int
) -> None:
    rows = [{"prompt": p, "params": {"emulator_job_seconds": 2}} for p in PROMPTS]
    jsonl(Path("p.jsonl"), rows)
    argv = [*FRAMECAST, "batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "-j", "2", "--json"]
    child = spawn(argv, env=dict(os.environ))
    deadline = time.monotonic() + 30
    while len(journal_rows(isolated)) < 2 or any(
        r["status"] == "submitting" for r in journal_rows(isolated)
    ):
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    child.send_signal(sig)
    stdout, stderr = child.communicate(timeout=30)

    assert child.returncode == code
    assert stdout == ""
    assert "Stopped the batch. 2 job(s) keep running at the provider." in stderr
    assert "Run the same command again" in stderr
    assert posts(served) == 2

    again = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json")

    assert again.exit_code == 0, again.output
    assert posts(served) == 3  # the two running were followed, not sent again
    assert sorted(r["earlier"] for r in results(again.stdout)) == [False, True, True]
    assert len(list(Path("out").glob("*.mp4"))) == 3


def test_a_timeout_ends_the_batch_with_exit_7_and_says_how_to_resume(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": "slow", "params": {"emulator_job_seconds": 30}}])

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "--timeout", "0.5")

    assert result.exit_code == 7
    assert result.stdout == ""
    assert "Run the same command again" in result.stderr
    assert posts(served) == 1


def test_off_a_terminal_progress_comes_as_summary_lines(served: Served) -> None:
    rows = [{"prompt": p, "params": {"emulator_job_seconds": 0.6}} for p in PROMPTS]
    jsonl(Path("p.jsonl"), rows)

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--heartbeat", "0.2")

    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("batch: ")]
    assert progress, result.stderr
    assert all(" running, " in line and " queued; spent " in line for line in progress)
    assert "\x1b" not in result.stderr
    assert len(result.stdout.splitlines()) == 3  # results only


def test_on_a_terminal_one_live_line_shows_the_whole_batch(served: Served) -> None:
    lengths = (0.2, 1.2, 1.6)  # so that an ETA can be given between the first and last
    rows = [
        {"prompt": p, "params": {"emulator_job_seconds": t}}
        for p, t in zip(PROMPTS, lengths, strict=True)
    ]
    jsonl(Path("p.jsonl"), rows)

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", env=TERMINAL)

    assert result.exit_code == 0, result.output
    assert "finished:" in result.stderr and "ETA" in plain(result.stderr)
    assert not any(line.startswith("batch: ") for line in result.stderr.splitlines())
    assert len(result.stdout.splitlines()) == 3


def test_the_daily_cap_counts_the_whole_batch_before_anything_is_sent(served: Served) -> None:
    jsonl(Path("p.jsonl"), [{"prompt": p} for p in PROMPTS])  # 3 x 0.40 USD

    refused = invoke("batch", "p.jsonl", "-m", "sora-2", "--max-daily-cost", "1.00")

    assert refused.exit_code == 8
    assert refused.stdout == ""
    assert "max_daily_cost" in refused.stderr or "daily" in refused.stderr
    assert served.seen("POST") == []

    allowed = invoke("batch", "p.jsonl", "-m", "sora-2", "--max-daily-cost", "1.30", "-o", "o/")

    assert allowed.exit_code == 0, allowed.output
    assert posts(served) == 3


def test_a_job_finished_when_submitted_is_saved_without_following(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that answers a submission with a finished job (a gateway's cache, a quick
    model): it is saved or reported at once, and its concurrency slot is not held."""
    from framecast.providers.openai import OpenAIProvider

    submit = OpenAIProvider.submit

    def finished_at_once(self: OpenAIProvider, request: Any) -> list[Any]:
        (job,) = submit(self, request)
        while not (job := self.get(job.id)).finished:
            time.sleep(0.02)
        return [job]

    monkeypatch.setattr(OpenAIProvider, "submit", finished_at_once)
    rows: list[dict[str, Any]] = [{"prompt": p} for p in PROMPTS[:2]]
    rows.append({"prompt": "refused", "params": {"emulator_outcome": "failed"}})
    jsonl(Path("p.jsonl"), rows)

    result = invoke("batch", "p.jsonl", "-m", "sora-2", "-o", "out/", "--json", "-j", "1")

    assert result.exit_code == 6
    by_row = {r["row"]: r for r in results(result.stdout)}
    assert sorted(by_row) == [1, 2, 3]
    assert by_row[1]["status"] == by_row[2]["status"] == "completed"
    assert probe_mp4(Path(by_row[2]["path"])).frames > 0
    assert by_row[3]["status"] == "failed"


def test_opening_the_journal_again_never_opens_its_file_outside_sqlite(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's threads each open a journal connection. Opening and closing the database
    file outside SQLite drops every POSIX lock the process holds on it, SQLite's included
    (seen as "disk I/O error" under load), so an existing journal is never opened that way."""
    from framecast.journal import Journal

    first = Journal(isolated / "journal.sqlite3")
    opened: list[str] = []
    real_open = os.open

    def watched(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched)
    second = Journal(isolated / "journal.sqlite3", shared=True)
    second.close()
    first.close()
    assert not [p for p in opened if p.endswith("journal.sqlite3")]
