"""Every documented exit code, produced by a real run (exit 130 lives in test_interrupt.py)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from framecast.errors import ExitCode
from tests.conftest import Served, invoke, journal_rows, serve

BOAT = "a paper boat drifting down a rainy street"


def test_the_codes_are_the_documented_numbers() -> None:
    """Scripts test these numbers; the tests below use the numbers, not the names."""
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "ERROR": 1,
        "USAGE": 2,
        "CONFIG": 3,
        "REJECTED": 4,
        "UNAVAILABLE": 5,
        "JOB_FAILED": 6,
        "TIMEOUT": 7,
        "BUDGET": 8,
        "LOCAL_IO": 9,
        "INTERRUPTED": 130,
        "TERMINATED": 143,
    }


def test_0_success(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "-q")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(".mp4")


def test_1_unexpected_error_is_reported_without_a_traceback(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the journal exploded")

    # A bug after the provider made the job: it is still named, with the way back to it.
    monkeypatch.setattr("framecast.journal.Journal.complete_submission", broken)

    result = invoke("generate", BOAT, "--provider", "emulator")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "framecast: error: unexpected error: the journal exploded" in result.stderr
    assert "--traceback" in result.stderr
    assert "Traceback" not in result.stderr
    assert "exist at the provider. Resume with: framecast wait video_" in result.stderr


def test_1_with_traceback_flag_reraises(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the journal exploded")

    monkeypatch.setattr("framecast.journal.Journal.complete_submission", broken)

    with pytest.raises(RuntimeError, match="exploded"):
        invoke("--traceback", "generate", BOAT, "--provider", "emulator")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "huge"], "is not a size"),
        (["--seconds", "0"], "positive number of seconds"),
        (["--image", "no-such-file.png"], "no such file"),
        (["--param", "novalue"], "is not KEY=VALUE"),
        (["--provider", "nonesuch"], "Unknown provider 'nonesuch'"),
        (["--seconds", "four"], "is not a valid int"),
    ],
)
def test_2_bad_input_sends_nothing(served_env: Served, args: list[str], message: str) -> None:
    result = invoke("generate", BOAT, *args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert served_env.seen("POST") == []
    assert journal_rows(Path(__import__("os").environ["FRAMECAST_DATA_DIR"])) == []


def test_2_unwritable_output_is_refused_before_paying(served_env: Served, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = invoke("generate", BOAT, "-o", str(blocker / "sub" / "clip.mp4"))

    assert result.exit_code == 2
    assert "is not a directory" in result.stderr
    assert served_env.seen("POST") == []


def test_3_no_provider_configured_says_how_to_configure_one(isolated: Path) -> None:
    result = invoke("generate", BOAT)

    assert result.exit_code == 3
    assert result.stdout == ""
    assert "framecast: error: No provider is configured." in result.stderr
    assert "OPENAI_API_KEY" in result.stderr
    assert "--provider emulator" in result.stderr
    assert not list(Path.cwd().iterdir()), "no fake output may appear"


def test_3_missing_key(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1")

    assert result.exit_code == 3
    assert "needs an API key" in result.stderr
    assert "OPENAI_API_KEY" in result.stderr


def test_3_key_refused_by_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from framecast.emulator import EmulatorConfig

    served = serve(EmulatorConfig(job_seconds=0.3, api_key="sk-right"))
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        result = invoke("generate", BOAT, "--base-url", served.base_url)
    finally:
        served.server.stop()

    assert result.exit_code == 3
    assert (
        "framecast: error: HTTP 401 AUTHENTICATION_FAILED: Incorrect API key provided."
        in result.stderr
    )
    assert "sk-wrong" not in result.stderr + result.stdout


def test_4_rejected_by_the_provider(served_env: Served) -> None:
    result = invoke("generate", BOAT, "--param", "negative_prompt=" + "x" * 5001)

    assert result.exit_code == 4
    assert result.stdout == ""
    assert "framecast: error: HTTP 400 INVALID_REQUEST: 'negative_prompt' must be" in result.stderr
    assert len(served_env.seen("POST")) == 1, "a rejected submission is never retried"


def test_4_unknown_model(served_env: Served) -> None:
    result = invoke("generate", BOAT, "--model", "no-such-model")

    assert result.exit_code == 4
    assert "MODEL_NOT_FOUND" in result.stderr


def test_5_network_failure(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    result = invoke("generate", BOAT, "--base-url", f"http://127.0.0.1:{port}/v1")

    assert result.exit_code == 5
    assert "framecast: error: Could not connect" in result.stderr
    assert "Nothing was sent" in result.stderr
    assert result.stdout == ""
    assert journal_rows(isolated) == [], "a submission that never left is not journaled"


def test_6_job_failed(served_env: Served) -> None:
    result = invoke("generate", BOAT, "-P", "emulator_outcome=failed", "--json")

    assert result.exit_code == 6
    doc = json.loads(result.stdout)
    assert doc["status"] == "failed"
    assert doc["error"] == {
        "code": "generation_failed",
        "message": "The emulator was asked to fail this job.",
    }
    assert doc["output"] == {"url": None, "path": None, "bytes": None}
    assert "framecast: error: Job " in result.stderr and " failed" in result.stderr
    assert not list(Path.cwd().glob("*.mp4"))


def test_6_job_cancelled(served_env: Served) -> None:
    result = invoke("generate", BOAT, "-P", "emulator_outcome=cancelled")

    assert result.exit_code == 6
    assert "cancelled" in result.stderr


def test_7_timeout_prints_the_id_and_the_resume_command(served_env: Served) -> None:
    result = invoke(
        "generate",
        BOAT,
        "-P",
        "emulator_job_seconds=60",
        "--timeout",
        "0.3",
        "-o",
        "late.mp4",
        "--json",
    )

    assert result.exit_code == 7
    doc = json.loads(result.stdout)
    assert doc["status"] in ("queued", "in_progress")
    assert "framecast: error: Timed out with 1 job(s) still running." in result.stderr
    assert f"Resume with: framecast wait {doc['id']} -o late.mp4" in result.stderr
    rows = journal_rows(Path(__import__("os").environ["FRAMECAST_DATA_DIR"]))
    assert [r["id"] for r in rows] == [doc["id"]]
