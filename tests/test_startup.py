"""Commands load only what they use: scripts call framecast in loops (no timings here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

PROBE = """
import json, sys
from framecast.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
heavy = ["httpx", "rich.progress", "framecast.emulator", "sqlite3", "pydantic", "click"]
print(json.dumps({name: name in sys.modules for name in heavy}), file=sys.stderr)
"""


def loaded(*args: str) -> dict[str, bool]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


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


def test_typer_pin_keeps_pydantic_out() -> None:
    import typer

    major, minor = (int(part) for part in typer.__version__.split(".")[:2])
    assert (major, minor) < (0, 29), "typer 0.29 imports pydantic on every run; see pyproject.toml"


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
        assert (lean.exit_code, lean.stdout) == (full.exit_code, full.stdout)
