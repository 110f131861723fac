"""`framecast emulator` as a process: it serves, and SIGTERM or Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import signal
import urllib.request

import pytest

from tests.conftest import FRAMECAST, reap, run_command, spawn

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_served_emulator_stops_cleanly_on_a_signal(stop: signal.Signals) -> None:
    # spawn() gives the child default signal handling, even when the runner ignores SIGINT.
    emulator = spawn([*FRAMECAST, "emulator", "--dialect", "openai", "--seed", "3"])
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
        reap(emulator)
    assert emulator.returncode == 0, err
    assert "Traceback" not in err
    assert "openai dialect" in err


def test_a_bad_dialect_is_a_one_line_usage_error() -> None:
    run = run_command([*FRAMECAST, "emulator", "--dialect", "bogus"], timeout=30)
    assert run.returncode == 2 and run.stdout == ""
    assert "dialect must be one of lumenfall, openai" in run.stderr
    assert "Traceback" not in run.stderr
