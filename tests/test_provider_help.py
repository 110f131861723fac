"""--provider, --base-url and --api-key name every registered provider and its variables."""

from __future__ import annotations

import pytest

from framecast.providers import BUILTIN, get_provider
from tests.conftest import invoke


def test_the_declared_table_matches_each_providers_own_variables() -> None:
    for name, builtin in BUILTIN.items():
        cls = get_provider(name)
        assert cls.name == name
        assert (builtin.key_env_var, builtin.base_url_env_var) == (
            cls.key_env_var,
            cls.base_url_env_var,
        ), name


def option_help(command: str, flag: str) -> str:
    """One option's help text from `framecast COMMAND --help`, unwrapped."""
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(flag + " "))
    text = [lines[start].strip().partition(" ")[2]]
    for line in lines[start + 1 :]:
        if line.strip().startswith("-") or not line.strip():
            break
        text.append(line.strip())
    return " ".join(" ".join(text).split())


@pytest.mark.parametrize("command", ["generate", "estimate", "models", "status"])
def test_help_names_every_provider_and_its_variables(command: str) -> None:
    provider = option_help(command, "--provider")
    base_url = option_help(command, "--base-url")
    api_key = option_help(command, "--api-key")

    for name, builtin in BUILTIN.items():
        assert f"{name} (" in provider
        for variable, text in (
            (builtin.key_env_var, api_key),
            (builtin.base_url_env_var, base_url),
        ):
            if variable is not None:
                assert variable in text, (name, variable)
    assert "FRAMECAST_PROVIDER" in provider
    assert "no key for emulator" in api_key
    assert "flags show up in process lists" in api_key
