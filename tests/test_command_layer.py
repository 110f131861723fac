"""The command layer stays thin: options declared once, settings typed, commands short."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from framecast import config
from framecast.cli.app import _COMMANDS, app
from framecast.domain import JobRequest
from framecast.options import GROUPS, RequestSettings, declared, stored
from framecast.settings import resolve

from .conftest import invoke

CLI = Path(__file__).resolve().parents[1] / "src" / "framecast" / "cli"
# Every module that holds commands (the emulator's server command is not a client's).
COMMAND_MODULES = tuple(sorted({module for module, _, _ in _COMMANDS.values()} - {"serve"}))
LONGEST_COMMAND = 50


def _commands() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for name in COMMAND_MODULES:
        tree = ast.parse((CLI / f"{name}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                found.append((f"{name}.{node.name}", node))
    return found


def test_every_command_function_is_short() -> None:
    """Signature (flags) and body, without the docstring: parse, call the core, render."""
    commands = _commands()
    assert len(commands) >= 12  # generate, estimate, status, wait, download, models, sync, ...
    for name, node in commands:
        docstring = node.body[0]
        assert isinstance(docstring, ast.Expr), f"{name} has no help text"
        doc_lines = (docstring.end_lineno or 0) - docstring.lineno + 1
        length = (node.end_lineno or node.lineno) - node.lineno + 1 - doc_lines
        assert length <= LONGEST_COMMAND, f"{name} is {length} lines of code"


def test_no_command_passes_its_locals_around() -> None:
    for path in (CLI.parent).rglob("*.py"):
        assert "locals()" not in path.read_text(encoding="utf-8"), path


def test_every_request_setting_reaches_the_job_request() -> None:
    """A request option is declared in options.py and carried into JobRequest by name."""
    request_fields = {f.name for f in dataclasses.fields(JobRequest)}
    for f in dataclasses.fields(RequestSettings):
        assert (f.name if f.name != "image" else "images") in request_fields, f.name


def test_profiles_take_exactly_the_stored_settings() -> None:
    assert set(config.KEYS) == set(stored())
    for name, option in stored().items():
        assert config.KEYS[name].kind == option.kind, name


def test_generate_and_profile_save_offer_every_declared_flag() -> None:
    """Flags come from the declarations: generate has every one that is not profile-only,
    profile save every stored one."""
    generate = invoke("generate", "--help")
    save = invoke("profile", "save", "--help")
    assert generate.exit_code == 0 and save.exit_code == 0
    for option in declared().values():
        flag = option.flags[0].split("/")[0] if option.flags else None
        if flag is None:
            continue
        if option.scope == "all":
            assert flag in generate.stdout, flag
        if option.stored:
            assert flag in save.stdout, flag
    assert "--idempotency-key" not in save.stdout  # per run, never stored
    estimate = invoke("estimate", "--help")
    assert estimate.exit_code == 0
    assert "--idempotency-key" not in estimate.stdout and "--seconds" in estimate.stdout


def test_settings_are_typed_and_frozen(tmp_path: Path) -> None:
    settings = resolve(
        {"seconds": 8, "image": ["a.png"]}, config_path=tmp_path / "none.toml", env={}
    )
    assert settings.request.seconds == 8 and settings.request.image == ("a.png",)
    assert settings.run.timeout == 1800.0 and settings.connection.max_retries is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.request.seconds = 4  # type: ignore[misc]
    assert set(GROUPS) == {"request", "connection", "run"}


def test_commands_are_registered() -> None:
    names = {command.name or command.callback.__name__ for command in app.registered_commands}  # type: ignore[union-attr]
    assert {"generate", "estimate", "status", "wait", "download", "models", "sync"} <= names
