"""The fault matrix: each injected fault x generate/status/wait/download x the three dialects.

Every cell runs the real CLI against the emulator on a loopback socket with one
fault scheduled (`EmulatorApp.inject`), and checks what a paying user relies on:

- the exit code;
- the journal holds the job, or an `unknown` entry for a submission that may exist;
- the emulator created exactly as many jobs as requests that reached it (never a
  second, billed job);
- a completed download is byte for byte what the emulator serves (sha256).

An `unknown` submission is then settled with `framecast sync`, and a download
refused for its bytes is fetched again, so each cell also proves the way back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from framecast.emulator import EmulatorConfig
from framecast.emulator.media import Renderer
from tests.conftest import Served, invoke, journal_rows, serve

pytestmark = pytest.mark.slow

KEY = "sk-fault-matrix"
PROMPT = "a lighthouse keeper feeding gulls"


@dataclass(frozen=True)
class Dialect:
    name: str
    prefix: str
    model: str
    key_env: str
    url_env: str
    keyed: bool  # submissions carry an idempotency key, so a POST may be retried


DIALECTS = {
    "openai": Dialect("openai", "/v1", "sora-2", "OPENAI_API_KEY", "OPENAI_BASE_URL", False),
    "lumenfall": Dialect(
        "lumenfall", "/openai/v1", "sora-2", "LUMENFALL_API_KEY", "LUMENFALL_BASE_URL", True
    ),
    "nanogpt": Dialect("nanogpt", "/api", "veo-3.1", "NANOGPT_API_KEY", "NANOGPT_BASE_URL", False),
}


@pytest.fixture(params=list(DIALECTS))
def dialect(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Dialect, Served]]:
    chosen = DIALECTS[request.param]
    served = serve(EmulatorConfig(job_seconds=0.2))
    monkeypatch.setenv("FRAMECAST_PROVIDER", chosen.name)
    monkeypatch.setenv(chosen.key_env, KEY)
    monkeypatch.setenv(chosen.url_env, served.origin + chosen.prefix)
    monkeypatch.setenv("FRAMECAST_MODEL", chosen.model)
    monkeypatch.setenv("FRAMECAST_REQUEST_TIMEOUT", "0.5")  # so `slow=1.5` is past it
    yield chosen, served
    served.server.stop()


def rows() -> list[dict[str, object]]:
    return journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))


def served_sha256(served: Served, job_id: str) -> str:
    """What the emulator serves for this job's video, rendered independently of the client."""
    record = served.app.videos.store.get(job_id)
    assert record is not None, f"the emulator has no job {job_id}"
    return hashlib.sha256(Renderer().render(record, "video")).hexdigest()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_saved(served: Served, job_id: str, path: Path) -> None:
    assert path.is_file(), f"{path} was not saved"
    assert sha256(path) == served_sha256(served, job_id)
    (row,) = [r for r in rows() if r["id"] == job_id]
    assert row["status"] == "completed"
    assert row["output_path"] == str(path.absolute())
    assert not list(path.parent.glob(".framecast-*")), "no partial files are left behind"


def submit_cleanly() -> str:
    result = invoke("generate", PROMPT, "--no-wait", "-q")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


# -- generate -------------------------------------------------------------------------

# Faults on the submission itself: a client that cannot retry safely must say the
# outcome is unknown (not "check the base URL"), and never send a second POST.
CREATE_REFUSED = ["create:500", "create:502", "create:503", "create:reset-before"]
CREATE_MADE = ["create:reset-after", "create:slow=1.5", "create:malformed", "create:html"]


STATUS_FAULTS = [
    "status:429=0.1",
    "status:500",
    "status:502",
    "status:503",
    "status:reset-before",
    "status:reset-after",
    "status:slow=1.5",
    "status:cut",
    "status:cut-nolength",
    "status:malformed",
    "status:html",
]


@pytest.mark.parametrize("fault", ["create:429=0.1", *CREATE_REFUSED, *CREATE_MADE])
def test_generate_with_a_faulty_submission(dialect: tuple[Dialect, Served], fault: str) -> None:
    chosen, served = dialect
    served.app.inject(fault)

    result = invoke("generate", PROMPT, "-o", "clip.mp4")

    created = served.app.jobs_created()
    if chosen.keyed or fault.startswith("create:429"):
        # Retried with the same idempotency key (or after a 429 nothing was made): one job.
        assert result.exit_code == 0, result.output
        assert created == 1
        (row,) = rows()
        assert_saved(served, str(row["id"]), Path("clip.mp4"))
        return
    assert result.exit_code == 5, result.output
    assert result.stdout == ""
    assert "framecast: error: The submission's outcome is unknown" in result.stderr
    assert "may be billed" in result.stderr
    assert "framecast sync" in result.stderr
    assert "Check the base URL" not in result.stderr
    assert created == (1 if fault in CREATE_MADE else 0)
    (row,) = rows()
    assert row["status"] == "unknown"
    assert len(served.seen("POST")) == 1, "a submission that may have billed is never re-sent"

    refused = invoke("generate", PROMPT, "-o", "clip.mp4")
    assert refused.exit_code == 2
    assert "already unknown" in refused.stderr
    assert len(served.seen("POST")) == 1

    settled = invoke("sync", "--no-import")
    assert settled.exit_code == 0, settled.output
    if created == 0:
        assert "not created" in settled.stdout
        assert rows() == []
        return
    (row,) = rows()
    job_id = str(row["id"])
    assert settled.stdout.startswith("local-") and f"-> {job_id}" in settled.stdout
    assert invoke("wait", "@1", "-o", "clip.mp4").exit_code == 0
    assert_saved(served, job_id, Path("clip.mp4"))
    assert served.app.jobs_created() == 1


def test_generate_when_the_job_fails(dialect: tuple[Dialect, Served]) -> None:
    _, served = dialect
    served.app.inject("create:fail")

    result = invoke("generate", PROMPT, "-o", "clip.mp4", "--json")

    assert result.exit_code == 6, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "failed"
    (row,) = rows()
    assert (row["id"], row["status"]) == (document["id"], "failed")
    assert served.app.jobs_created() == 1
    assert not Path("clip.mp4").exists()


# Faults on the download: resumed, renewed or retried within the run.
CONTENT_RECOVERED = [
    "content:cut",
    "content:cut-nolength",
    "content:expire",
    "content:500",
    "content:502",
    "content:503",
    "content:429=0.1",
    "content:reset-before",
    "content:reset-after",
    "content:slow=1.5",
]


@pytest.mark.parametrize("fault", CONTENT_RECOVERED)
def test_generate_with_a_faulty_download(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    served.app.inject(fault)

    result = invoke("generate", PROMPT, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "clip.mp4"
    (row,) = rows()
    assert_saved(served, str(row["id"]), Path("clip.mp4"))
    assert served.app.jobs_created() == 1


@pytest.mark.parametrize("fault", ["content:html", "content:malformed"])
def test_generate_never_saves_the_wrong_bytes(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    served.app.inject(fault)

    result = invoke("generate", PROMPT, "-o", "clip.mp4")

    assert result.exit_code == 5, result.output
    assert "framecast: error: The download " in result.stderr
    assert "got " in result.stderr
    assert not Path("clip.mp4").exists()
    (row,) = rows()
    job_id = str(row["id"])
    assert row["status"] == "completed" and row["output_path"] is None
    assert f"framecast download {job_id} -o clip.mp4" in result.stderr
    again = invoke("download", job_id, "-o", "clip.mp4")
    assert again.exit_code == 0, again.output
    assert_saved(served, job_id, Path("clip.mp4"))


# -- status, wait, download on a job that exists ------------------------------------------


@pytest.mark.parametrize("fault", STATUS_FAULTS)
def test_status_rides_out_a_faulty_answer(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    served.app.inject(fault)

    result = invoke("status", job_id, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == job_id
    (row,) = rows()
    assert row["id"] == job_id and row["status"] != "unknown"
    assert served.app.jobs_created() == 1


@pytest.mark.parametrize("fault", [*STATUS_FAULTS, *CONTENT_RECOVERED])
def test_wait_rides_out_a_fault(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    served.app.inject(fault)

    result = invoke("wait", job_id, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    assert_saved(served, job_id, Path("clip.mp4"))
    assert served.app.jobs_created() == 1


@pytest.mark.parametrize("fault", [*STATUS_FAULTS, *CONTENT_RECOVERED])
def test_download_rides_out_a_fault(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    assert invoke("wait", job_id).exit_code == 0
    served.app.inject(fault)

    result = invoke("download", job_id, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    assert_saved(served, job_id, Path("clip.mp4"))
    assert served.app.jobs_created() == 1


@pytest.mark.parametrize("command", ["wait", "download"])
def test_wrong_bytes_are_never_saved_by_wait_or_download(
    dialect: tuple[Dialect, Served], command: str
) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    assert invoke("wait", job_id).exit_code == 0
    served.app.inject("content:html")

    result = invoke(command, job_id, "-o", "clip.mp4")

    assert result.exit_code == 5, result.output
    assert "got text/html" in result.stderr
    assert not Path("clip.mp4").exists()
    assert not list(Path.cwd().glob(".framecast-*"))
    assert f"Resume with: framecast download {job_id} -o clip.mp4" in result.stderr
    (row,) = rows()
    assert (row["id"], row["status"], row["output_path"]) == (job_id, "completed", None)
    assert served.app.jobs_created() == 1


def test_a_fault_that_persists_names_the_job_and_the_way_back(
    dialect: tuple[Dialect, Served],
) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    served.app.inject("status:503*")

    result = invoke("wait", job_id, "-o", "clip.mp4")

    assert result.exit_code == 5, result.output
    assert f"Resume with: framecast wait {job_id} -o clip.mp4" in result.stderr
    (row,) = rows()
    assert row["id"] == job_id
    served.app.inject("")
    assert invoke("wait", job_id, "-o", "clip.mp4").exit_code == 0
    assert_saved(served, job_id, Path("clip.mp4"))


@pytest.mark.parametrize("fault", STATUS_FAULTS)
def test_generate_rides_out_a_faulty_poll(dialect: tuple[Dialect, Served], fault: str) -> None:
    _, served = dialect
    served.app.inject(fault)

    result = invoke("generate", PROMPT, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    (row,) = rows()
    assert_saved(served, str(row["id"]), Path("clip.mp4"))
    assert served.app.jobs_created() == 1


def test_a_server_asking_for_more_time_than_is_left_fails_at_once(
    dialect: tuple[Dialect, Served],
) -> None:
    _, served = dialect
    job_id = submit_cleanly()
    served.app.inject("status:429=30*")

    result = invoke("wait", job_id, "--timeout", "5")

    assert result.exit_code == 5, result.output
    assert "asked to retry after 30 s" in result.stderr
    assert f"Resume with: framecast wait {job_id}" in result.stderr
    polls = [s for s in served.seen("GET") if "content" not in s.path and "/media/" not in s.path]
    assert len(polls) == 1, "a rate-limited server is not asked again before it said to"


def test_status_wait_and_download_of_a_job_that_failed(dialect: tuple[Dialect, Served]) -> None:
    _, served = dialect
    served.app.inject("create:fail")
    job_id = submit_cleanly()

    waited = invoke("wait", job_id, "-o", "clip.mp4")
    status = invoke("status", job_id, "--json")
    fetched = invoke("download", job_id, "-o", "clip.mp4")

    assert (waited.exit_code, status.exit_code, fetched.exit_code) == (6, 0, 6), waited.output
    assert json.loads(status.stdout)["status"] == "failed"
    assert f"Job {job_id} failed" in waited.stderr and f"Job {job_id} failed" in fetched.stderr
    (row,) = rows()
    assert (row["id"], row["status"]) == (job_id, "failed")
    assert not Path("clip.mp4").exists()
    assert served.app.jobs_created() == 1
