"""Profiles and `config show` from the command line, and profiles driving real runs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Served, invoke, probe_mp4

BOAT = "a paper boat drifting down a rainy street"


def config_file() -> Path:
    return Path(os.environ["FRAMECAST_CONFIG"])


def test_save_list_show_delete(isolated: Path) -> None:
    saved = invoke(
        "profile",
        "save",
        "fast",
        "--provider",
        "emulator",
        "--seconds",
        "8",
        "--size",
        "16:9",
        "-P",
        "style=noir",
        "--metadata",
        "team=video",
        "--default",
    )
    listed = invoke("profile", "list")
    shown = invoke("profile", "show", "fast")
    path = invoke("profile", "path")

    for result in (saved, listed, shown, path):
        assert result.exit_code == 0, result.output
    assert saved.stderr == f"Saved profile fast to {config_file()}.\n"
    assert listed.stderr == shown.stderr == path.stderr == ""
    assert saved.stdout.strip() == str(config_file())
    assert listed.stdout == "fast (default)\n"
    assert shown.stdout == (
        '[profiles.fast]\nprovider = "emulator"\nseconds = 8\nsize = "16:9"\n\n'
        '[profiles.fast.metadata]\nteam = "video"\n\n[profiles.fast.params]\nstyle = "noir"\n'
    )
    assert path.stdout.strip() == str(config_file())
    assert config_file().read_text().startswith('default_profile = "fast"\n')

    assert invoke("profile", "save", "slow", "--model", "veo-3.1").exit_code == 0
    assert invoke("profile", "delete", "slow").exit_code == 0
    after = invoke("profile", "list")
    assert after.exit_code == 0, after.output
    assert after.stdout == "fast (default)\n"


def test_save_updates_and_replace_starts_afresh(isolated: Path) -> None:
    def settings(*save: str) -> object:
        saved = invoke("profile", "save", "p", *save)
        shown = invoke("profile", "show", "p", "--json")
        assert saved.exit_code == 0, saved.output
        assert shown.exit_code == 0, shown.output
        return json.loads(shown.stdout)["settings"]

    settings("--model", "sora-2", "--seconds", "8", "-P", "a=1")
    updated = settings("--seconds", "4", "-P", "b=2")
    replaced = settings("--replace", "--model", "wan-2.6")

    assert updated == {"model": "sora-2", "seconds": 4, "params": {"a": 1, "b": 2}}
    assert replaced == {"model": "wan-2.6"}


def test_saving_keeps_the_rest_of_the_file_byte_for_byte(isolated: Path) -> None:
    original = '# hand-written\n[profiles.keep]\nmodel = "x"   # my favourite\n'
    config_file().write_text(original, encoding="utf-8")

    assert invoke("profile", "save", "new", "--model", "sora-2").exit_code == 0

    assert (
        config_file().read_text(encoding="utf-8")
        == original + '\n[profiles.new]\nmodel = "sora-2"\n'
    )


def test_raw_keys_are_refused_unless_asked(isolated: Path) -> None:
    refused = invoke("profile", "save", "ci", "--api-key", "sk-raw-secret")
    assert refused.exit_code == 2
    assert "Refusing to store a raw API key" in refused.stderr
    assert not config_file().exists()

    stored = invoke(
        "profile", "save", "ci", "--provider", "openai", "--api-key", "sk-raw-secret", "--store-key"
    )
    assert stored.exit_code == 0
    assert "stored in plain text" in stored.stderr
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    shown = invoke("profile", "show", "ci")
    assert shown.exit_code == 0, shown.output
    assert "sk-raw-secret" not in shown.stdout and "********" in shown.stdout


def test_profiles_name_the_key_variable(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("WORK_KEY", "sk-from-work-key")
    saved = invoke("profile", "save", "work", "--provider", "openai", "--api-key-env", "WORK_KEY")
    assert saved.exit_code == 0, saved.output

    result = invoke("generate", BOAT, "-p", "work", "-q")

    assert result.exit_code == 0, result.output
    assert all(s.had_authorization for s in served_env.seen("POST"))


def test_config_show_says_where_each_value_came_from(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = invoke(
        "profile",
        "save",
        "fast",
        "--provider",
        "emulator",
        "--seconds",
        "8",
        "--model",
        "sora-2",
        "--default",
    )
    assert saved.exit_code == 0, saved.output
    monkeypatch.setenv("FRAMECAST_MODEL", "sora-2-pro")

    result = invoke("config", "show", "--json")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["profile"] == {"value": "fast", "source": "default_profile in config.toml"}
    assert doc["provider"] == {"value": "emulator", "source": "profile fast"}
    assert doc["seconds"] == {"value": 8, "source": "profile fast"}
    assert doc["model"] == {"value": "sora-2-pro", "source": "env FRAMECAST_MODEL"}
    assert doc["timeout"] == {"value": 1800.0, "source": "default"}


def test_config_show_masks_keys(served_env: Served) -> None:
    result = invoke("config", "show")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "sk-test-not-a-real-key" not in result.stdout
    assert "********" in result.stdout and "env OPENAI_API_KEY" in result.stdout


def test_a_profile_drives_generate_and_flags_win(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = invoke(
        "profile",
        "save",
        "clips",
        "--provider",
        "emulator",
        "--seconds",
        "8",
        "--size",
        "1280x720",
        "--output",
        "out/{model}-{index}.{ext}",
    )
    assert saved.exit_code == 0, saved.output

    by_profile = invoke("generate", BOAT, "--profile", "clips", "--json")
    by_flag = invoke("-p", "clips", "generate", BOAT, "--seconds", "4", "--json")
    monkeypatch.setenv("FRAMECAST_SECONDS", "12")
    by_env = invoke("generate", BOAT, "-p", "clips", "--json")

    for result in (by_profile, by_flag, by_env):
        assert result.exit_code == 0, result.output
    durations = [
        probe_mp4(Path(json.loads(r.stdout)["output"]["path"])).duration
        for r in (by_profile, by_flag, by_env)
    ]
    assert durations == pytest.approx([8.0, 4.0, 12.0])
    assert json.loads(by_profile.stdout)["output"]["path"] == "out/sora-2-1.mp4"
    assert json.loads(by_flag.stdout)["output"]["path"] == "out/sora-2-1-1.mp4", (
        "collisions never overwrite"
    )


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ('[profiles.p]\nmodel = "sora-2\n', "invalid TOML", "(at line 2, column"),
        (
            '[profiles.p]\nseconds = "ten"\n',
            'config.toml: profiles.p.seconds: expected a whole number, got "ten"',
            None,
        ),
        (
            "[profiles.p]\nmodle = 1\n",
            "config.toml: profiles.p.modle: unknown key 'modle'",
            "Did you mean 'model'?",
        ),
    ],
)
def test_a_broken_file_is_exit_3_without_a_traceback(
    isolated: Path, text: str, message: str, hint: str | None
) -> None:
    config_file().write_text(text, encoding="utf-8")

    for args in (
        ["generate", BOAT, "--provider", "emulator"],
        ["config", "show"],
        ["profile", "list"],
    ):
        result = invoke(*args)
        assert result.exit_code == 3, args
        assert result.stdout == ""
        assert message in result.stderr
        assert hint is None or hint in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unknown_profile(isolated: Path) -> None:
    assert invoke("profile", "save", "fast", "--model", "sora-2").exit_code == 0
    result = invoke("generate", BOAT, "-p", "fats")
    assert result.exit_code == 3
    assert "There is no profile 'fats'" in result.stderr and "Did you mean 'fast'?" in result.stderr


def test_config_can_point_elsewhere(isolated: Path, tmp_path: Path) -> None:
    other = tmp_path / "repo-config.toml"
    assert (
        invoke("profile", "save", "ci", "--provider", "emulator", "--config", str(other)).exit_code
        == 0
    )
    there = invoke("--config", str(other), "profile", "list")
    here = invoke("profile", "list")
    assert (there.exit_code, there.stdout) == (0, "ci\n"), there.output
    assert (here.exit_code, here.stdout) == (0, ""), here.output
