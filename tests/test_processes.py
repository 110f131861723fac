"""Real processes: `python -m framecast`, `framecast emulator`, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from framecast import __version__
from tests.conftest import (
    FRAMECAST,
    Served,
    invoke,
    journal_rows,
    probe_mp4,
    reap,
    run_subprocess,
    spawn,
)

pytestmark = pytest.mark.slow


def test_python_dash_m_runs_the_cli() -> None:
    result = run_subprocess("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"framecast {__version__}\n"


def test_help_documents_the_exit_codes() -> None:
    result = run_subprocess("generate", "--help")

    assert result.returncode == 0, result.stderr
    for line in (
        "0  success",
        "6  the job finished as failed",
        "7  timed out waiting",
        "130  interrupted",
    ):
        assert line in result.stdout


def start_emulator(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`framecast emulator` in a child process (reaped when the test ends), and its URL."""
    process = spawn([*FRAMECAST, "emulator", "--port", "0", *args])
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    assert base_url, process.stderr.read() if process.stderr else "no URL"
    return process, base_url


def stop(process: subprocess.Popen[str]) -> int:
    """Ctrl-C to a served emulator; its exit code once it has stopped (or been killed)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    reap(process, grace=10)
    return process.returncode


def test_emulator_command_serves_until_interrupted(isolated: Path) -> None:
    process, base_url = start_emulator("--job-seconds", "0.2")
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        env = {"OPENAI_API_KEY": "sk-anything", "OPENAI_BASE_URL": base_url}
        result = run_subprocess("generate", "a kite", "--seconds", "4", "--json", env=env)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert probe_mp4(Path(doc["output"]["path"])).duration == pytest.approx(4.0)
        assert httpx.get(base_url.removesuffix("/v1") + "/health").json()["status"] == "ok"
    finally:
        code = stop(process)
    assert code == 0


def test_ctrl_c_leaves_the_job_running_and_says_how_to_resume(isolated: Path) -> None:
    process, base_url = start_emulator("--job-seconds", "60")
    env = {**os.environ, "OPENAI_API_KEY": "sk-anything", "OPENAI_BASE_URL": base_url}
    try:
        waiter = spawn([*FRAMECAST, "generate", "a slow sunrise", "-o", "sun.mp4"], env=env)
        deadline = time.monotonic() + 30
        rows = journal_rows(isolated)
        while not (rows and rows[0]["status"] == "queued") and time.monotonic() < deadline:
            time.sleep(0.05)
            rows = journal_rows(isolated)
        assert rows, "the job is journaled before waiting starts"
        waiter.send_signal(signal.SIGINT)
        stdout, stderr = waiter.communicate(timeout=30)
        job_id = rows[0]["id"]

        assert waiter.returncode == 130
        assert stdout == ""
        assert f"Resume with: framecast wait {job_id} -o sun.mp4" in stderr
        still = httpx.get(
            f"{base_url}/videos/{job_id}", headers={"Authorization": "Bearer x"}
        ).json()
        assert still["status"] in ("queued", "in_progress")
    finally:
        stop(process)


def test_a_busy_port_is_a_usage_error() -> None:
    process, base_url = start_emulator()
    try:
        port = base_url.rsplit(":", 1)[1].split("/")[0]
        result = run_subprocess("emulator", "--port", port)
        assert result.returncode == 2
        assert "Cannot listen on 127.0.0.1" in result.stderr
    finally:
        stop(process)


def _start_generate(isolated: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`framecast generate` of a 60-second job in a child process, once the job exists."""
    child = spawn(
        [*FRAMECAST, "generate", "a slow sunrise", "-o", "sun.mp4",
         "-P", "emulator_job_seconds=60", *args],
        env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = journal_rows(isolated)
        if rows and rows[0]["status"] in ("queued", "in_progress"):
            return child, str(rows[0]["id"])
        time.sleep(0.05)
    reap(child)
    pytest.fail(f"the job was never journaled: {child.stderr.read() if child.stderr else ''}")


def test_sigterm_detaches_like_ctrl_c_with_exit_143(served_env: Served, isolated: Path) -> None:
    child, job_id = _start_generate(isolated)

    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=30)

    assert child.returncode == 143, stderr
    assert stdout == ""
    assert f"Resume with: framecast wait {job_id} -o sun.mp4" in stderr
    assert "keep running at the provider" in stderr
    (row,) = journal_rows(isolated)
    assert row["status"] in ("queued", "in_progress")
    assert served_env.app.videos.store.get(job_id) is not None
    assert served_env.seen("DELETE") == []


def test_cancel_on_interrupt_cancels_the_remote_job(served_env: Served, isolated: Path) -> None:
    child, job_id = _start_generate(isolated, "--cancel-on-interrupt")

    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)

    assert child.returncode == 130, stderr
    assert f"Cancelled at the provider: {job_id}." in stderr
    assert [s.path for s in served_env.seen("DELETE")] == [f"/v1/videos/{job_id}"]
    (row,) = journal_rows(isolated)
    assert row["status"] == "cancelled"
    assert "Resume with" not in stderr, "nothing is left to resume"


def test_a_second_signal_does_not_cut_short_the_way_out(served_env: Served, isolated: Path) -> None:
    """A wrapper forwarding Ctrl-C to the whole process group sends it twice at once."""
    child, job_id = _start_generate(isolated, "--cancel-on-interrupt")

    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=30)

    assert child.returncode == 130, stderr
    assert f"Cancelled at the provider: {job_id}." in stderr
    (row,) = journal_rows(isolated)
    assert row["status"] == "cancelled"


def test_sigterm_during_wait_names_the_job(served_env: Served, isolated: Path) -> None:
    child, job_id = _start_generate(isolated)
    child.send_signal(signal.SIGTERM)
    _, detached = child.communicate(timeout=30)
    assert child.returncode == 143, detached
    polled = len(served_env.seen("GET", job_id))
    waiter = spawn([*FRAMECAST, "wait", job_id, "--download"], env=os.environ.copy())
    # Into polling the 60-second job (its signal handlers are in place by then), however
    # slowly the machine starts Python.
    deadline = time.monotonic() + 30
    while len(served_env.seen("GET", job_id)) == polled and time.monotonic() < deadline:
        time.sleep(0.02)

    waiter.send_signal(signal.SIGTERM)
    stdout, stderr = waiter.communicate(timeout=30)

    assert waiter.returncode == 143, stderr
    assert stdout == ""
    assert f"Resume with: framecast wait {job_id} --download" in stderr


def test_ctrl_c_while_the_submission_is_in_flight(served_env: Served, isolated: Path) -> None:
    served_env.app.inject("create:slow=2")
    child = spawn(
        [*FRAMECAST, "generate", "a heron in the rain", "-o", "heron.mp4"], env=os.environ.copy()
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = journal_rows(isolated)
        if rows and rows[0]["status"] == "submitting" and served_env.seen("POST"):
            break
        time.sleep(0.02)
    else:
        reap(child)
        pytest.fail("the submission was never journaled before it was sent")

    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)

    assert child.returncode == 130, stderr
    assert "in flight; a job may have been created" in stderr
    assert "framecast sync" in stderr
    (row,) = journal_rows(isolated)
    assert row["status"] == "unknown"
    time.sleep(2.5)  # the slow server finishes making the job
    settled = run_subprocess("sync", "--no-import")
    assert settled.returncode == 0, settled.stderr
    assert "-> video_" in settled.stdout
    assert served_env.app.jobs_created() == 1


@pytest.mark.parametrize("where", ["after-submitting", "before-waiting"])
def test_a_signal_between_the_submission_and_the_wait_still_names_the_job(
    served_env: Served, isolated: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The job exists once its submission is answered: a Ctrl-C that lands before the wait
    begins must still say which job and how to resume it."""
    from framecast import runs, ui

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if where == "after-submitting":
        monkeypatch.setattr(ui.PlainDisplay, "update", interrupt)
    else:
        monkeypatch.setattr(runs, "Delivery", interrupt)

    result = invoke("generate", "a slow sunrise", "-o", "sun.mp4", "--progress", "plain")

    assert result.exit_code == 130, result.output
    assert result.stdout == ""
    (row,) = journal_rows(isolated)
    assert f"Resume with: framecast wait {row['id']} -o sun.mp4" in result.stderr
    assert "keep running at the provider" in result.stderr
