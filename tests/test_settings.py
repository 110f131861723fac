"""Precedence, case by case: flag > environment variable > selected profile > built-in default."""

from __future__ import annotations

from pathlib import Path

import pytest

from framecast.errors import ConfigError, UsageError
from framecast.settings import (
    Settings,
    choose_provider,
    openai_sunset_warning,
    poll_policy,
    resolve,
)

CONFIG = """\
default_profile = "base"

[profiles.base]
model = "from-base"
seconds = 4
output = "base/"
progress = "plain"

[profiles.other]
provider = "openai"
base_url = "http://127.0.0.1:7/v1"
api_key_env = "OTHER_KEY"
model = "from-other"
timeout = 60
poll_min = 0.5
poll_max = 5

[profiles.other.params]
style = "noir"
quality = "high"

[profiles.other.metadata]
team = "video"
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def settings(
    config_path: Path,
    flags: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    profile: str | None = None,
) -> Settings:
    return resolve(flags or {}, profile=profile, config_path=config_path, env=env or {})


@pytest.mark.parametrize(
    ("flags", "env", "profile", "expected", "origin"),
    [
        ({"model": "from-flag"}, {"FRAMECAST_MODEL": "from-env"}, "other", "from-flag", "flag"),
        ({}, {"FRAMECAST_MODEL": "from-env"}, "other", "from-env", "env FRAMECAST_MODEL"),
        ({}, {}, "other", "from-other", "profile other"),
        ({}, {}, None, "from-base", "profile base"),  # the file's default_profile
    ],
)
def test_each_level_wins_over_the_next(
    config_path: Path,
    flags: dict[str, object],
    env: dict[str, str],
    profile: str | None,
    expected: str,
    origin: str,
) -> None:
    resolved = settings(config_path, flags, env, profile)
    assert (resolved.request.model, resolved.origins.get("model")) == (expected, origin)


def test_built_in_defaults_come_last(tmp_path: Path) -> None:
    resolved = settings(tmp_path / "none.toml")
    assert (resolved.run.timeout, resolved.origins.get("timeout")) == (1800.0, None)
    assert (resolved.request.n, resolved.run.progress, resolved.run.heartbeat) == (1, "auto", 30.0)
    assert resolved.request.model is None and resolved.profile is None


def test_profile_selection_order(config_path: Path) -> None:
    assert settings(config_path).profile == "base"
    assert settings(config_path, env={"FRAMECAST_PROFILE": "other"}).profile == "other"
    assert (
        settings(config_path, env={"FRAMECAST_PROFILE": "other"}, profile="base").profile == "base"
    )


def test_environment_values_are_typed(config_path: Path) -> None:
    env = {
        "FRAMECAST_SECONDS": "8",
        "FRAMECAST_MAX_COST": "2.5",
        "FRAMECAST_WRITE_INFO_JSON": "yes",
    }
    resolved = settings(config_path, env=env)
    run = resolved.run
    assert (resolved.request.seconds, run.max_cost, run.write_info_json) == (
        8,
        2.5,
        True,
    )
    with pytest.raises(ConfigError, match="FRAMECAST_SECONDS='eight': expected a whole number"):
        settings(config_path, env={"FRAMECAST_SECONDS": "eight"})
    with pytest.raises(
        ConfigError, match="FRAMECAST_PROGRESS='loud': expected one of auto, bar, plain, none"
    ):
        settings(config_path, env={"FRAMECAST_PROGRESS": "loud"})


def test_tables_merge_key_by_key(config_path: Path) -> None:
    resolved = settings(config_path, {"params": {"style": "pop", "seed": 3}}, profile="other")
    assert resolved.request.params == {"style": "pop", "quality": "high", "seed": 3}
    assert resolved.origins.get("params") == "profile+flag"
    assert settings(config_path, profile="other").request.metadata == {"team": "video"}


def test_a_flag_with_bad_choice_is_a_usage_error(config_path: Path) -> None:
    with pytest.raises(UsageError, match="--progress 'loud'"):
        settings(config_path, {"progress": "loud"})


@pytest.mark.parametrize(
    ("flags", "env", "expected_url", "url_origin"),
    [
        (
            {"base_url": "http://127.0.0.1:1/v1"},
            {"OPENAI_BASE_URL": "http://127.0.0.1:2/v1"},
            "http://127.0.0.1:1/v1",
            "flag",
        ),
        (
            {},
            {"OPENAI_BASE_URL": "http://127.0.0.1:2/v1"},
            "http://127.0.0.1:2/v1",
            "env OPENAI_BASE_URL",
        ),
        (
            {},
            {"FRAMECAST_BASE_URL": "http://127.0.0.1:3/v1"},
            "http://127.0.0.1:3/v1",
            "env FRAMECAST_BASE_URL",
        ),
        ({}, {}, "http://127.0.0.1:7/v1", "profile other"),
    ],
)
def test_base_url_precedence(
    config_path: Path,
    flags: dict[str, object],
    env: dict[str, str],
    expected_url: str,
    url_origin: str,
) -> None:
    choice = choose_provider(settings(config_path, flags, {"OTHER_KEY": "k", **env}, "other"))
    assert (choice.base_url, choice.origins["base_url"]) == (expected_url, url_origin)


def test_api_key_precedence(config_path: Path) -> None:
    env = {"OTHER_KEY": "from-named-var", "OPENAI_API_KEY": "from-default-var"}
    flagged = choose_provider(settings(config_path, {"api_key": "from-flag"}, env, "other"))
    named = choose_provider(settings(config_path, {}, env, "other"))
    assert (flagged.api_key, flagged.origins["api_key"]) == ("from-flag", "flag")
    assert (named.api_key, named.origins["api_key"]) == ("from-named-var", "env OTHER_KEY")
    with pytest.raises(ConfigError) as missing:
        choose_provider(settings(config_path, {}, {"OPENAI_API_KEY": "x"}, "other"))
    assert missing.value.hint == "Set OTHER_KEY or pass --api-key."


def test_provider_falls_back_to_openai_when_its_key_is_set(tmp_path: Path) -> None:
    resolved = settings(tmp_path / "none.toml", env={"OPENAI_API_KEY": "k"})
    assert choose_provider(resolved).name == "openai"
    with pytest.raises(ConfigError, match="No provider is configured") as nothing:
        choose_provider(settings(tmp_path / "none.toml"))
    assert "--provider emulator" in (nothing.value.hint or "")


def test_default_base_url_is_the_providers_own(tmp_path: Path) -> None:
    choice = choose_provider(
        settings(tmp_path / "none.toml", {"provider": "openai"}, {"OPENAI_API_KEY": "k"})
    )
    assert choice.base_url is None
    with choice.open() as provider:
        assert provider.base_url == "https://api.openai.com/v1"


@pytest.mark.parametrize("url", ["ftp://host/v1", "127.0.0.1:8080", "http://"])
def test_base_url_must_be_http(tmp_path: Path, url: str) -> None:
    with pytest.raises(UsageError):
        choose_provider(
            settings(
                tmp_path / "x.toml",
                {"provider": "openai", "base_url": url},
                {"OPENAI_API_KEY": "k"},
            )
        )


def test_the_emulator_takes_no_base_url(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not apply"):
        choose_provider(
            settings(
                tmp_path / "x.toml", {"provider": "emulator", "base_url": "http://127.0.0.1:1/v1"}
            )
        )


def test_openai_sunset_warning_only_for_openais_host(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "k"}
    official = choose_provider(settings(tmp_path / "x.toml", {"provider": "openai"}, env))
    gateway = choose_provider(
        settings(
            tmp_path / "x.toml", {"provider": "openai", "base_url": "http://127.0.0.1:1/v1"}, env
        )
    )
    warning = openai_sunset_warning(official)
    assert warning is not None and "2026-09-24" in warning
    assert openai_sunset_warning(gateway) is None


def test_poll_settings(config_path: Path) -> None:
    assert poll_policy(settings(config_path, env={"FRAMECAST_POLL_INTERVAL": "0.5"})).fixed == 0.5
    bounded = poll_policy(settings(config_path, profile="other"))
    assert (bounded.fixed, bounded.minimum, bounded.maximum) == (None, 0.5, 5)
    with pytest.raises(ConfigError, match="FRAMECAST_POLL_INTERVAL='soon'"):
        settings(config_path, env={"FRAMECAST_POLL_INTERVAL": "soon"})
    with pytest.raises(ConfigError, match="poll_min no larger than poll_max"):
        poll_policy(
            settings(config_path, env={"FRAMECAST_POLL_MIN": "9", "FRAMECAST_POLL_MAX": "1"})
        )
    assert (
        choose_provider(
            settings(config_path, {"provider": "emulator"}, {"FRAMECAST_MAX_RETRIES": "0"})
        ).retry.max_retries
        == 0
    )


def test_an_unknown_selected_profile_is_a_config_error(config_path: Path) -> None:
    with pytest.raises(ConfigError, match="There is no profile 'nope'"):
        settings(config_path, profile="nope")
