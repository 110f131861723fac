"""`framecast cancel`, `delete` and `remix` over loopback: the in-process emulator, a served
emulator in Lumenfall's dialect and in OpenAI's strict one, and NanoGPT's refusal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, journal_rows, probe_mp4, run_subprocess, serve, submit

BOAT = "a paper boat drifting down a rainy street"
RUNNING = ("-P", "emulator_job_seconds=60")


@dataclass
class Backend:
    name: str
    served: Served | None  # None: the in-process emulator, which records nothing to look at
    flags: tuple[str, ...]  # what `generate` needs to reach it

    def deletes(self) -> list[str]:
        return [] if self.served is None else [s.path for s in self.served.seen("DELETE")]


@pytest.fixture(params=["emulator", "lumenfall", "openai"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """Each provider that cancels, deletes and remixes."""
    if request.param == "emulator":
        monkeypatch.setenv("FRAMECAST_PROVIDER", "emulator")
        yield Backend("emulator", None, ())
        return
    dialect = "openai" if request.param == "openai" else "lumenfall"
    served = serve(EmulatorConfig(job_seconds=0.3, dialect=dialect))
    if request.param == "lumenfall":
        monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_test.secret")
        monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
        monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    else:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
        monkeypatch.setenv("FRAMECAST_PROVIDER", "openai")
    yield Backend(request.param, served, ("-m", "sora-2"))
    served.server.stop()


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_test.secret")
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    yield served
    served.server.stop()


def documents(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def row(isolated: Path, job_id: str) -> dict[str, Any]:
    (found,) = [r for r in journal_rows(isolated) if r["id"] == job_id]
    return found


def generated(*args: str) -> dict[str, Any]:
    """`framecast generate ARGS --json`, which must succeed: the finished job's document."""
    result = invoke("generate", BOAT, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# -- cancel ---------------------------------------------------------------------------


def test_cancel_stops_a_running_job(backend: Backend, isolated: Path) -> None:
    job_id = submit(BOAT, *backend.flags, *RUNNING)

    result = invoke("cancel", "@last", "--json")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    (doc,) = documents(result.stdout)
    assert (doc["id"], doc["status"], doc["result"]) == (job_id, "cancelled", "cancelled")
    entry = row(isolated, job_id)
    assert entry["status"] == "cancelled"
    if backend.name == "openai":
        # The spec's server stops a job by deleting it: nothing of it is kept there.
        assert doc["deleted"] is True and "deleting it" in doc["message"]
        assert entry["deleted_at"] is not None
    else:
        assert doc["deleted"] is False and entry["deleted_at"] is None
        shown = invoke("status", "@last", "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["status"] == "cancelled"
        assert json.loads(shown.stdout)["cost"] == 0.0
    if backend.served is not None:
        prefix = "/openai/v1" if backend.name == "lumenfall" else "/v1"
        assert backend.deletes() == [f"{prefix}/videos/{job_id}"]
    listed = invoke("status", "--json")
    assert listed.exit_code == 0, listed.output
    assert documents(listed.stdout)[0]["status"] == "cancelled"
    # Again, and the same job named twice: fine, once, whatever the provider kept of it.
    again = invoke("cancel", "@last", job_id, "--json")
    assert again.exit_code == 0, again.output
    (repeat,) = documents(again.stdout)
    assert (repeat["id"], repeat["result"]) == (job_id, "already_cancelled")
    if backend.served is not None:
        assert len(backend.deletes()) == 1


def test_cancel_again_is_fine_and_a_finished_job_is_refused(isolated: Path) -> None:
    running = submit(BOAT, "--provider", "emulator", *RUNNING)
    done = generated("--provider", "emulator")["id"]
    first = invoke("cancel", running, "--provider", "emulator")
    assert first.exit_code == 0, first.output
    assert first.stdout == f"Cancelled {running}.\n"

    result = invoke("cancel", running, done, "--provider", "emulator", "--json")

    assert result.exit_code == 2, result.output
    again, refused = documents(result.stdout)
    assert (again["id"], again["result"], again["status"]) == (
        running,
        "already_cancelled",
        "cancelled",
    )
    assert (refused["id"], refused["result"], refused["status"]) == (done, "refused", "completed")
    assert f"framecast: error: Job {done} completed; there is nothing to cancel." in result.stderr
    assert f"hint: To delete it and its stored video at the provider: framecast delete {done}" in (
        result.stderr
    )
    assert row(isolated, done)["status"] == "completed"


def test_cancel_reports_every_job_and_exits_non_zero_for_any_refused(isolated: Path) -> None:
    done = generated("--provider", "emulator")["id"]
    running = submit(BOAT, "--provider", "emulator", *RUNNING)

    result = invoke("cancel", done, "@1", "--provider", "emulator")

    assert result.exit_code == 2, result.output
    assert result.stdout == f"Cancelled {running}.\n"  # the refusal did not stop the other
    assert f"Job {done} completed" in result.stderr
    assert row(isolated, running)["status"] == "cancelled"


def test_a_job_that_finishes_before_the_cancel_arrives_is_said_to_be_deleted(
    lumenfall: Served, isolated: Path
) -> None:
    """Lumenfall's DELETE deletes a finished job: between framecast's look at the job and
    its cancel, this one finished, and the answer says it was deleted instead."""
    job_id = submit(BOAT, "-m", "sora-2", *RUNNING)
    seen = lumenfall.app.seen

    def clock() -> float:
        # From the DELETE on, the job's planned end (60 s) has passed.
        return time.time() + (3600.0 if seen and seen[-1].method == "DELETE" else 0.0)

    lumenfall.app.videos.clock = clock

    result = invoke("cancel", job_id, "--json")

    assert result.exit_code == 0, result.output
    (doc,) = documents(result.stdout)
    assert (doc["result"], doc["deleted"]) == ("deleted", True)
    assert "finished before the cancel arrived, so lumenfall deleted it instead" in doc["message"]
    entry = row(isolated, job_id)
    assert entry["deleted_at"] is not None and entry["error_code"] == "deleted"
    assert entry["status"] not in ("queued", "in_progress", "cancelled")


# -- delete ---------------------------------------------------------------------------


def test_delete_removes_a_finished_job_and_keeps_the_local_file(
    backend: Backend, isolated: Path
) -> None:
    doc = generated(*backend.flags, "-o", "clip.mp4")
    clip = Path("clip.mp4")
    before = clip.read_bytes()

    result = invoke("delete", "@last", "--yes", "--json")

    assert result.exit_code == 0, result.output
    (deleted,) = documents(result.stdout)
    assert (deleted["id"], deleted["result"], deleted["deleted"]) == (doc["id"], "deleted", True)
    assert "clip.mp4 is kept" in deleted["message"]
    assert clip.read_bytes() == before  # local files are never touched
    entry = row(isolated, doc["id"])
    assert entry["deleted_at"] is not None
    assert entry["output_path"] == str(clip.absolute()) and entry["status"] == "completed"
    if backend.served is not None:
        assert backend.deletes() == [s.path for s in backend.served.seen("DELETE", doc["id"])]
        assert len(backend.deletes()) == 1
    gone = invoke("delete", "@last", "--yes", "--json")
    assert gone.exit_code == 0, gone.output
    assert documents(gone.stdout)[0]["result"] == "already_deleted"
    assert clip.read_bytes() == before
    # status shows the journal's last view of it rather than the provider's 404.
    status = invoke("status", "@last", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["id"] == doc["id"]
    assert "Deleted at the provider at " in status.stderr
    listed = invoke("status", "--json")
    assert listed.exit_code == 0, listed.output
    assert documents(listed.stdout)[0]["deleted_at"] is not None
    table = invoke("status", env={"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "completed (deleted)" in table.stdout


def test_delete_without_yes_off_a_terminal_refuses_and_sends_nothing(
    served_env: Served, isolated: Path
) -> None:
    job_id = generated("-o", "clip.mp4")["id"]

    result = invoke("delete", job_id)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "stdin is not a terminal" in result.stderr
    assert "hint: Pass --yes to delete without asking." in result.stderr
    assert served_env.seen("DELETE") == []
    assert row(isolated, job_id)["deleted_at"] is None


def test_delete_refuses_a_running_job_and_points_at_cancel(
    served_env: Served, isolated: Path
) -> None:
    job_id = submit(BOAT, *RUNNING)

    result = invoke("delete", "@last", "--yes")

    assert result.exit_code == 2, result.output
    assert f"Job {job_id} is queued; only finished jobs can be deleted." in result.stderr or (
        f"Job {job_id} is in_progress; only finished jobs can be deleted." in result.stderr
    )
    assert f"hint: Stop it first with: framecast cancel {job_id}" in result.stderr
    assert served_env.seen("DELETE") == []


def on_a_terminal(*args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """`framecast ARGS` with a terminal on stdin, on which `answer` is typed."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return run_subprocess(*args, stdin=terminal)
    finally:
        os.close(controller)
        os.close(terminal)


def test_delete_asks_on_a_terminal(served_env: Served, isolated: Path) -> None:
    job_id = generated("-o", "clip.mp4")["id"]

    declined = on_a_terminal("delete", job_id, answer="n\n")

    assert declined.returncode == 2, declined.stderr
    assert f"Delete {job_id} (openai) and the stored video(s) at the provider?" in declined.stderr
    assert "framecast: error: Not confirmed; nothing was deleted." in declined.stderr
    assert served_env.seen("DELETE") == []

    agreed = on_a_terminal("delete", job_id, answer="y\n")

    assert agreed.returncode == 0, agreed.stderr
    kept = Path("clip.mp4").absolute()
    assert agreed.stdout == f"Deleted {job_id} at openai; the local copy {kept} is kept.\n"
    assert [s.path for s in served_env.seen("DELETE")] == [f"/v1/videos/{job_id}"]
    assert row(isolated, job_id)["deleted_at"] is not None


# -- remix ----------------------------------------------------------------------------


def test_remix_runs_like_generate_and_saves_an_mp4(backend: Backend, isolated: Path) -> None:
    source = generated(*backend.flags, "--seconds", "8", "--size", "1280x720")

    result = invoke("remix", "@last", "the same street at night", "-o", "night.mp4", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["prompt"], doc["model"]) == (
        "completed",
        "the same street at night",
        "sora-2",
    )
    probe = probe_mp4(Path("night.mp4"))
    assert probe.duration == pytest.approx(8.0)  # the source's length
    assert (probe.width, probe.height) == (1280, 720)
    made = row(isolated, doc["id"])
    origin = row(isolated, source["id"])
    request = json.loads(made["request"])
    assert request["remixes"] == source["id"] and "extends" not in request
    assert made["status"] == "completed"
    assert made["output_path"] == str(Path("night.mp4").absolute())
    assert made["fingerprint"] != origin["fingerprint"]
    if backend.served is not None:
        (sent,) = backend.served.seen("POST", "/remix")
        assert sent.path.endswith(f"/videos/{source['id']}/remix")
        assert sent.json() == {"prompt": "the same street at night"}


def test_remix_is_its_own_request_and_is_not_sent_twice_by_accident(isolated: Path) -> None:
    source = generated("--provider", "emulator")["id"]
    plain = submit("--provider", "emulator", "at night")
    extension = submit("--provider", "emulator", "at night", "--extend", source)

    first = invoke("remix", source, "at night", "--no-wait", "-q")
    twice = invoke("remix", source, "at night", "--no-wait", "-q")
    again = invoke("remix", source, "at night", "--no-wait", "-q", "--again")

    assert first.exit_code == 0, first.output
    remixed = first.stdout.strip()
    marks = {row(isolated, i)["fingerprint"] for i in (plain, extension, remixed)}
    assert len(marks) == 3  # a remix is neither the plain request nor an extension
    assert twice.exit_code == 2, twice.output
    assert f"The same request is already queued: {remixed}" in twice.stderr
    assert again.exit_code == 0, again.output
    assert row(isolated, remixed)["idempotency_key"] is None  # the remix endpoint takes none


def test_a_remix_is_not_an_extension_of_the_same_request(tmp_path: Path) -> None:
    from framecast.domain import JobRequest
    from framecast.jobrun import Source
    from framecast.jobs import fingerprint
    from framecast.providers.emulator import EmulatorProvider

    request = JobRequest("at night", model="sora-2", seconds=4, size="720x1280")
    with EmulatorProvider(state_dir=tmp_path) as api:
        plain = fingerprint(api.name, api.base_url, request, None)
        extension = Source("extend", "video_1").fingerprint(api, request)
        remixes = [
            Source("remix", source).fingerprint(api, request) for source in ("video_1", "v2")
        ]

    assert extension == fingerprint(api.name, api.base_url, request, "video_1")  # as before
    assert len({plain, extension, *remixes}) == 4


def test_remix_is_journaled_before_it_is_sent(lumenfall: Served, isolated: Path) -> None:
    source = generated("-m", "sora-2")["id"]
    lumenfall.app.inject("create:500")

    result = invoke("remix", "@last", "at night")

    assert result.exit_code == 5, result.output
    assert "The submission's outcome is unknown" in result.stderr
    (pending,) = [r for r in journal_rows(isolated) if r["id"] != source]
    assert pending["status"] == "unknown"
    assert json.loads(pending["request"])["remixes"] == source
    assert len(lumenfall.seen("POST", "/remix")) == 1


def test_remix_without_waiting_prints_the_id(served_env: Served, isolated: Path) -> None:
    generated("-o", "boat.mp4")

    result = invoke("remix", "@last", "at night", "--no-wait", "-o", "night.mp4")

    assert result.exit_code == 0, result.output
    job_id = result.stdout.strip()
    assert f"Submitted. Follow with: framecast wait {job_id} --download -o night.mp4" in (
        result.stderr
    )
    waited = invoke("wait", "@last", "--download", "-o", "night.mp4", "-q")
    assert waited.exit_code == 0, waited.output
    assert probe_mp4(Path("night.mp4")).frames > 0


def test_only_a_completed_job_is_remixed(served_env: Served) -> None:
    job_id = submit(BOAT, *RUNNING)

    result = invoke("remix", job_id, "at night")

    assert result.exit_code == 2, result.output
    assert "only a completed job can be remixed" in result.stderr
    assert f"hint: Wait for it with: framecast wait {job_id}" in result.stderr
    assert served_env.seen("POST", "/remix") == []


def test_remix_respects_max_cost(served_env: Served) -> None:
    generated("--seconds", "8")  # sora-2 at $0.10 a second

    result = invoke("remix", "@last", "at night", "--max-cost", "0.5")

    assert result.exit_code == 8, result.output
    assert "above --max-cost 0.50" in result.stderr
    assert served_env.seen("POST", "/remix") == []


def test_remix_counts_against_the_daily_cap(served_env: Served) -> None:
    generated("--seconds", "8")  # $0.80 spent today; the remix would add $0.80 more

    refused = invoke("remix", "@last", "at night", "--max-daily-cost", "1.5")
    taken = invoke("remix", "@last", "at night", "--max-daily-cost", "2", "--no-wait", "-q")

    assert refused.exit_code == 8, refused.output
    assert "comes to $1.60: above the daily cap" in refused.stderr
    assert refused.stdout == ""
    assert taken.exit_code == 0, taken.output
    assert len(served_env.seen("POST", "/remix")) == 1


# -- a provider that offers none of them ----------------------------------------------


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    yield served
    served.server.stop()


def test_nanogpt_cannot_cancel_delete_or_remix(nanogpt: Served, isolated: Path) -> None:
    running = submit(BOAT, "-m", "veo-3.1", *RUNNING)
    before = len(nanogpt.app.seen)

    cancel = invoke("cancel", "@last", "--json")
    delete = invoke("delete", "@last", "--yes")
    remix = invoke("remix", "@last", "at night")

    assert cancel.exit_code == delete.exit_code == remix.exit_code == 2
    assert documents(cancel.stdout)[0]["result"] == "refused"
    assert "The nanogpt API offers no way to cancel a job" in cancel.stderr
    assert "The nanogpt API offers no way to delete a job" in delete.stderr
    assert "The nanogpt API offers no way to remix a job" in remix.stderr
    assert len(nanogpt.app.seen) == before  # nothing was sent
    assert row(isolated, running)["status"] in ("queued", "in_progress")


# -- what a DELETE may answer ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"id": "video_1", "object": "video.deleted", "deleted": True}, (None, True)),
        (200, {"id": "video_1", "object": "video.deleted", "deleted": False}, (None, False)),
        (200, {"id": "video_1", "object": "video", "status": "cancelled"}, ("cancelled", False)),
        (204, None, (None, False)),  # says nothing: the caller asks for the job
    ],
)
def test_a_delete_is_read_in_either_shape(
    status: int, body: dict[str, Any] | None, expected: tuple[str | None, bool]
) -> None:
    import httpx

    from framecast.providers.lumenfall import LumenfallProvider
    from framecast.providers.openai import OpenAIProvider

    def answer(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("DELETE", "/v1/videos/video_1")
        return httpx.Response(status, json=body) if body else httpx.Response(status)

    for cls in (OpenAIProvider, LumenfallProvider):
        with cls(
            base_url="http://127.0.0.1:9/v1", api_key="k", transport=httpx.MockTransport(answer)
        ) as api:
            got = api.cancel("video_1")
        assert (got.job and got.job.status.value, got.deleted) == expected
        # Only Lumenfall cancels rather than deletes: a deletion there means it had finished.
        assert got.raced == (cls is LumenfallProvider and expected[1])


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A server that answers as each test scripts it (tests/hostile.py)."""
    from tests import hostile

    served = hostile.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    yield served
    served.close()


def test_a_cancel_answered_with_nothing_asks_for_the_job(scripted: Any, isolated: Path) -> None:
    from tests import hostile

    state = {"status": "in_progress"}

    def deleted(received: Any) -> Any:
        state["status"] = "cancelled"
        return (204, {}, b"")

    scripted.route(
        "GET",
        r"/v1/videos/video_1",
        lambda r: hostile.json_answer(hostile.video("video_1", state["status"])),
    )
    scripted.route("DELETE", r"/v1/videos/video_1", deleted)

    result = invoke("cancel", "video_1", "--json")

    assert result.exit_code == 0, result.output
    (doc,) = documents(result.stdout)
    assert (doc["result"], doc["status"], doc["deleted"]) == ("cancelled", "cancelled", False)
    assert [r.method for r in scripted.seen] == ["GET", "DELETE", "GET"]
    assert row(isolated, "video_1")["status"] == "cancelled"


def test_a_delete_that_deletes_nothing_is_a_failure(scripted: Any, isolated: Path) -> None:
    from tests import hostile

    scripted.route(
        "GET", r"/v1/videos/video_1", lambda r: hostile.json_answer(hostile.video("video_1"))
    )
    scripted.route(
        "DELETE",
        r"/v1/videos/video_1",
        lambda r: hostile.json_answer(
            {"id": "video_1", "object": "video.deleted", "deleted": False}
        ),
    )

    result = invoke("delete", "video_1", "--yes")

    assert result.exit_code == 5, result.output
    assert "answered the delete of video_1 but still has it (completed)" in result.stderr
    assert row(isolated, "video_1")["deleted_at"] is None


@pytest.mark.slow
def test_job_ids_complete_for_each_command(isolated: Path) -> None:
    from tests.conftest import FRAMECAST, run_command

    job_id = submit(BOAT, "--provider", "emulator")

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_FRAMECAST_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        result = run_command(FRAMECAST, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("framecast cancel ") == ["@last", job_id]
    assert complete("framecast delete --yes v") == [job_id]
    assert complete("framecast remix ") == ["@last", job_id]
    assert complete("framecast generate --extend ") == ["@last", job_id]


@pytest.mark.parametrize("stale_look", [False, True])
def test_cancel_on_interrupt_never_takes_a_finished_job_for_a_running_one(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, stale_look: bool
) -> None:
    """The run last saw the job running, and it has finished since. Lumenfall's DELETE would
    delete its paid video: the job is looked at afresh and left alone; and if it finishes
    between that look and the DELETE (`stale_look`), the run says it was deleted instead of
    claiming a cancel."""
    from framecast.domain import JobRequest, JobStatus
    from framecast.errors import Resume
    from framecast.jobrun import JobRun
    from framecast.journal import Journal
    from framecast.providers.lumenfall import LumenfallProvider
    from framecast.ui import Display

    served = serve(EmulatorConfig(job_seconds=0.1))
    try:
        with (
            Journal.open_default() as journal,
            LumenfallProvider(base_url=served.origin + "/openai/v1", api_key="lmnfl_t") as api,
        ):
            (job,) = api.submit(JobRequest(BOAT, model="sora-2"))
            journal.record_submission(job, JobRequest(BOAT, model="sora-2"), api.base_url)
            while api.get(job.id).status is not JobStatus.COMPLETED:
                time.sleep(0.05)
            if stale_look:
                monkeypatch.setattr(api, "get", lambda job_id: job)
            run = JobRun(journal, Display(), cancel_on_interrupt=True)
            error = run._interrupted(
                [job], KeyboardInterrupt(), "Interrupted.", Resume((job.id,)), {job.id: api}
            )
            entry = journal.find(job.id)
        deletes = served.seen("DELETE")
    finally:
        served.server.stop()

    assert "Cancelled at the provider" not in error.message
    assert entry is not None and entry.state != "cancelled"
    if stale_look:
        assert "the provider deleted it instead" in error.message
        assert error.resume is None  # nothing left to wait for
        assert entry.deleted_at is not None
    else:
        assert deletes == []  # the finished video is left alone
        assert "Finished before it could be cancelled, so left as it is" in error.message
        assert error.resume is not None and error.resume.job_ids == (job.id,)
        assert entry.state == "completed" and entry.deleted_at is None
