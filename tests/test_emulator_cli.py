"""`framecast emulator` as a process: it serves, and SIGTERM or Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_served_emulator_stops_cleanly_on_a_signal(stop: signal.Signals) -> None:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "framecast", "emulator", "--dialect", "openai", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The test runner may ignore SIGINT; the emulator must get the default handling.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    try:
        assert emulator.stdout is not None
        base_url = emulator.stdout.readline().strip()
        request = urllib.request.Request(
            base_url + "/videos", headers={"Authorization": "Bearer k"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["object"] == "list"
        emulator.send_signal(stop)
        _, err = emulator.communicate(timeout=10)
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait()
    assert emulator.returncode == 0, err
    assert "Traceback" not in err
    assert "openai dialect" in err


def test_a_bad_dialect_is_a_one_line_usage_error() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "framecast", "emulator", "--dialect", "bogus"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert "dialect must be one of lumenfall, openai" in run.stderr
    assert "Traceback" not in run.stderr
