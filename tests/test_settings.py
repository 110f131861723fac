"""Which provider, key and base URL a run uses: flag > environment > default."""

from __future__ import annotations

import pytest

from framecast.errors import ConfigError, UsageError
from framecast.settings import choose_provider, openai_sunset_warning, poll_policy


def test_flag_beats_environment() -> None:
    env = {
        "FRAMECAST_PROVIDER": "emulator",
        "OPENAI_API_KEY": "k",
        "OPENAI_BASE_URL": "http://127.0.0.1:1/v1",
    }
    choice = choose_provider(
        provider="openai", base_url="http://127.0.0.1:2/v1", api_key="flag", env=env
    )
    assert (choice.name, choice.base_url, choice.api_key) == (
        "openai",
        "http://127.0.0.1:2/v1",
        "flag",
    )


def test_environment_beats_default() -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}
    choice = choose_provider(env=env)
    assert (choice.name, choice.base_url, choice.api_key) == (
        "openai",
        "http://127.0.0.1:1/v1",
        "k",
    )
    assert choose_provider(env={"FRAMECAST_PROVIDER": "emulator"}).name == "emulator"


def test_default_base_url_is_the_providers_own() -> None:
    choice = choose_provider(provider="openai", env={"OPENAI_API_KEY": "k"})
    assert choice.base_url is None
    with choice.open() as provider:
        assert provider.base_url == "https://api.openai.com/v1"


def test_nothing_configured_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        choose_provider(env={})
    assert "--provider emulator" in (caught.value.hint or "")


@pytest.mark.parametrize("url", ["ftp://host/v1", "127.0.0.1:8080", "http://"])
def test_base_url_must_be_http(url: str) -> None:
    with pytest.raises(UsageError):
        choose_provider(provider="openai", base_url=url, env={"OPENAI_API_KEY": "k"})


def test_the_emulator_takes_no_base_url() -> None:
    with pytest.raises(UsageError, match="does not apply"):
        choose_provider(provider="emulator", base_url="http://127.0.0.1:1/v1", env={})


def test_openai_sunset_warning_only_for_openais_host() -> None:
    official = choose_provider(provider="openai", env={"OPENAI_API_KEY": "k"})
    gateway = choose_provider(
        provider="openai", base_url="http://127.0.0.1:1/v1", env={"OPENAI_API_KEY": "k"}
    )
    warning = openai_sunset_warning(official)
    assert warning is not None and "2026-09-24" in warning
    assert openai_sunset_warning(gateway) is None


def test_poll_and_retry_settings_from_the_environment() -> None:
    assert poll_policy({"FRAMECAST_POLL_INTERVAL": "0.5"}).fixed == 0.5
    assert poll_policy({}).fixed is None
    with pytest.raises(ConfigError, match="FRAMECAST_POLL_INTERVAL"):
        poll_policy({"FRAMECAST_POLL_INTERVAL": "soon"})
    assert choose_provider(provider="emulator", env={"FRAMECAST_MAX_RETRIES": "0"}).max_retries == 0
