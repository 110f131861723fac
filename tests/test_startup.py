"""Commands load only what they use: scripts call framecast in loops (no timings here)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import run_command

pytestmark = pytest.mark.slow

PROBE = """
import json, sys
from framecast.cli import app
code = 0
try:
    app(sys.argv[1:])
except SystemExit as stop:
    code = stop.code or 0
heavy = ["httpx", "rich.progress", "framecast.emulator", "sqlite3", "pydantic", "click"]
loaded = {name: name in sys.modules for name in heavy}
print(json.dumps({"exit": code, "loaded": loaded}), file=sys.stderr)
"""


def loaded(*args: str) -> dict[str, bool]:
    """The heavy modules a successful run of `framecast ARGS` imported."""
    result = run_command([sys.executable, "-c", PROBE, *args])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["exit"] == 0, result.stderr
    return report["loaded"]  # type: ignore[no-any-return]


def test_version_and_help_load_nothing_heavy() -> None:
    for args in (["--version"], ["--help"], ["generate", "--help"]):
        modules = loaded(*args)
        assert not any(modules.values()), (args, modules)


def test_listing_the_journal_needs_no_http_stack() -> None:
    modules = loaded("status")  # the autouse fixture points FRAMECAST_DATA_DIR at a temporary dir
    assert modules["sqlite3"]
    assert (
        not modules["httpx"] and not modules["rich.progress"] and not modules["framecast.emulator"]
    )


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "a kite", "--provider", "emulator", "--no-wait", "-q"],
        ["models"],
        ["status", "--json"],
    ],
)
def test_real_runs_do_not_load_pydantic(args: list[str]) -> None:
    """Typer 0.29 imports pydantic on every run (see the pin in pyproject.toml); a command
    doing its work must not pay for that. (Click may load here: httpx imports it for its
    own CLI when it is installed, as it is with the test extras.)"""
    modules = loaded(*args)
    assert not modules["pydantic"], (args, modules)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["generate", "x", "--model", "sora-2"], "generate"),
        (["-p", "fast", "status"], "status"),
        (["--config", "c.toml", "profile", "list"], "profile"),
        (["--traceback", "wait", "@last"], "wait"),
        (["--version"], ""),
        (["--help"], None),
        ([], None),
        (["nonsense"], None),
    ],
)
def test_runs_build_only_the_command_they_name(argv: list[str], expected: str | None) -> None:
    from framecast.cli.app import command_in

    assert command_in(argv) == expected


def test_a_lean_app_behaves_like_the_full_one() -> None:
    from typer.testing import CliRunner

    from framecast.cli.app import _build, app

    for argv in (["generate", "--help"], ["profile", "--help"], ["--version"]):
        lean = CliRunner().invoke(_build(only=argv[0] if argv[0] != "--version" else ""), argv)
        full = CliRunner().invoke(app, argv)
        assert full.exit_code == 0, full.output
        assert (lean.exit_code, lean.stdout) == (full.exit_code, full.stdout)
