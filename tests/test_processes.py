"""Real processes: `python -m framecast`, `framecast emulator`, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import journal_rows, probe_mp4, run_subprocess

pytestmark = pytest.mark.slow


def test_python_dash_m_runs_the_cli() -> None:
    result = run_subprocess("--version")

    assert result.returncode == 0
    assert result.stdout.startswith("framecast ")


def test_help_documents_the_exit_codes() -> None:
    result = run_subprocess("generate", "--help")

    assert result.returncode == 0
    for line in (
        "0  success",
        "6  the job finished as failed",
        "7  timed out waiting",
        "130  interrupted",
    ):
        assert line in result.stdout


def start_emulator(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "framecast", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    return process, base_url


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
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


def test_ctrl_c_leaves_the_job_running_and_says_how_to_resume(isolated: Path) -> None:
    process, base_url = start_emulator("--job-seconds", "60")
    env = {**os.environ, "OPENAI_API_KEY": "sk-anything", "OPENAI_BASE_URL": base_url}
    try:
        waiter = subprocess.Popen(
            [sys.executable, "-m", "framecast", "generate", "a slow sunrise", "-o", "sun.mp4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 30
        while not journal_rows(isolated) and time.monotonic() < deadline:
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
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_a_busy_port_is_a_usage_error() -> None:
    process, base_url = start_emulator()
    try:
        port = base_url.rsplit(":", 1)[1].split("/")[0]
        result = run_subprocess("emulator", "--port", port)
        assert result.returncode == 2
        assert "Cannot listen on 127.0.0.1" in result.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
