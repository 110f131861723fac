"""Settings that are refused wherever they come from, and a config file that is edited
safely: NaN budgets, out-of-range values from the environment or a profile, devices and
symlinks in place of the config file, and several editors at once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .conftest import invoke, journal_rows, spawn


def test_a_nan_budget_is_refused_before_anything_is_sent(isolated: Path) -> None:
    result = invoke("generate", "a boat", "--provider", "emulator", "--max-cost", "nan")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "framecast: error: --max-cost nan: expected a finite number at least 0." in (
        result.stderr
    )
    assert journal_rows(isolated) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FRAMECAST_MAX_COST", "nan", "--max-cost nan: expected a finite number at least 0"),
        ("FRAMECAST_MAX_COST", "-1", "--max-cost -1.0: expected a finite number at least 0"),
        ("FRAMECAST_HEARTBEAT", "0", "--heartbeat 0.0: expected a finite number at least 0.1"),
        ("FRAMECAST_TIMEOUT", "-5", "--timeout -5.0: expected a finite number at least 0"),
        ("FRAMECAST_N", "7", "--n 7: expected a whole number at least 1 and at most 4"),
    ],
)
def test_limits_hold_for_environment_values(
    isolated: Path, variable: str, value: str, message: str
) -> None:
    result = invoke(
        "estimate", "a boat", "-m", "sora-2", "--provider", "emulator", env={variable: value}
    )
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert f"framecast: error: {message} (from env {variable})." in result.stderr


def test_limits_hold_for_profile_values(isolated: Path) -> None:
    config = isolated.parent / "limits.toml"
    config.write_text('[profiles.big]\nn = 9\nprovider = "emulator"\n', encoding="utf-8")
    result = invoke("--config", str(config), "-p", "big", "estimate", "a boat", "-m", "sora-2")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "--n 9: expected a whole number at least 1 and at most 4 (from profile big)." in (
        result.stderr
    )


def test_the_config_file_must_be_a_regular_file(isolated: Path) -> None:
    fifo = isolated.parent / "config.fifo"
    os.mkfifo(fifo)
    result = invoke("--config", str(fifo), "profile", "save", "a", "-s", "8")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert f"framecast: error: {fifo} is not a regular file" in result.stderr
    assert fifo.is_fifo()


def test_a_symlinked_config_file_is_written_where_it_points(isolated: Path) -> None:
    real = isolated.parent / "real.toml"
    real.write_text("# mine\n", encoding="utf-8")
    link = isolated.parent / "link.toml"
    link.symlink_to(real)
    result = invoke("--config", str(link), "profile", "save", "c", "-s", "5")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    text = real.read_text(encoding="utf-8")
    assert text.startswith("# mine\n") and text.endswith("[profiles.c]\nseconds = 5\n")


def test_a_profile_edit_waits_for_the_one_in_progress(isolated: Path) -> None:
    """Two editors at once would each rewrite the file from what they read and lose one
    profile; an edit holds the config's lock, and the next one waits for it."""
    import fcntl
    import time

    config = isolated.parent / "shared.toml"
    config.write_text("[profiles.a]\nseconds = 4\n", encoding="utf-8")
    lock = os.open(config.with_name(".shared.toml.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        child = spawn(
            [
                sys.executable,
                "-m",
                "framecast",
                "--config",
                str(config),
                "profile",
                "save",
                "b",
                "-s",
                "8",
            ]
        )
        time.sleep(1.5)  # long enough for an editor that ignored the lock to be done
        assert child.poll() is None, "the edit did not wait for the lock"
        assert config.read_text(encoding="utf-8") == "[profiles.a]\nseconds = 4\n"
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    assert child.wait(timeout=60) == 0
    listed = invoke("--config", str(config), "profile", "list")
    assert listed.exit_code == 0
    assert listed.stdout.split() == ["a", "b"]
