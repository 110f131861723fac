"""The config file: every error class located, round trips that keep other bytes, file modes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from framecast import config
from framecast.errors import ConfigError

EXAMPLE = """\
# my framecast settings
default_profile = "fast"   # used when no --profile is given

[profiles.fast]
provider = "lumenfall"
api_key_env = "LUMENFALL_API_KEY"
model = "grok-imagine-video"
seconds = 6

[profiles.fast.params]
style = "noir"

# CI runs on the emulator
[profiles.ci]
provider = "emulator"   # offline
output = "out/{id}.{ext}"
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "config.toml"
    file.write_text(EXAMPLE, encoding="utf-8")
    return file


def test_loads_profiles_and_the_default(path: Path) -> None:
    loaded = config.load(path)
    assert loaded.default_profile == "fast"
    assert loaded.profiles["fast"] == {
        "provider": "lumenfall",
        "api_key_env": "LUMENFALL_API_KEY",
        "model": "grok-imagine-video",
        "seconds": 6,
        "params": {"style": "noir"},
    }
    assert loaded.profile("ci")["output"] == "out/{id}.{ext}"


def test_a_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    loaded = config.load(tmp_path / "nope.toml")
    assert (loaded.exists, loaded.profiles, loaded.default_profile) == (False, {}, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[profiles.fast]\nseconds = "ten"\n',
            'config.toml: profiles.fast.seconds: expected a whole number, got "ten"',
        ),
        (
            "[profiles.fast]\nmax_cost = true\n",
            "config.toml: profiles.fast.max_cost: expected a number, got true",
        ),
        (
            '[profiles.fast]\nimage = "a.png"\n',
            'config.toml: profiles.fast.image: expected a list of strings, got "a.png"',
        ),
        (
            "[profiles.fast]\nmetadata = { run = 1 }\n",
            "config.toml: profiles.fast.metadata: expected a table of strings, got {'run': 1}",
        ),
        (
            '[profiles.fast]\nprogress = "fancy"\n',
            "config.toml: profiles.fast.progress: "
            'expected one of auto, bar, plain, none, got "fancy"',
        ),
        ("profiles = 3\n", "config.toml: profiles: expected a table of profiles, got 3"),
        ("[profiles]\nfast = 1\n", "config.toml: profiles.fast: expected a table, got 1"),
        (
            'default_profile = "slow"\n[profiles.fast]\n',
            "config.toml: default_profile: there is no profile 'slow'",
        ),
    ],
)
def test_wrong_values_name_their_place(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "config.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(file)
    assert caught.value.message == message


def test_unknown_keys_get_the_nearest_name(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("[profiles.fast]\nsecond = 4\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(file)
    assert caught.value.message == "config.toml: profiles.fast.second: unknown key 'second'"
    assert caught.value.hint == "Did you mean 'seconds'?"
    file.write_text('defalt_profile = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'defalt_profile'") as top:
        config.load(file)
    assert top.value.hint == "Did you mean 'default_profile'?"


def test_syntax_errors_name_file_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('[profiles.fast]\nmodel = "sora-2\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(file)
    assert str(file) in caught.value.message
    assert "(at line 2, column" in caught.value.message


def test_an_unknown_profile_suggests_one(path: Path) -> None:
    with pytest.raises(ConfigError, match="There is no profile 'fats'") as caught:
        config.load(path).profile("fats")
    assert caught.value.hint == "Did you mean 'fast'?"


def test_saving_one_profile_keeps_every_other_byte(path: Path) -> None:
    config.save_profile(path, "fast", {"model": "sora-2", "seconds": 8})

    text = path.read_text(encoding="utf-8")
    head = EXAMPLE.partition("[profiles.fast]")[0]
    tail = EXAMPLE.partition('style = "noir"\n\n')[2]
    assert text == head + '[profiles.fast]\nmodel = "sora-2"\nseconds = 8\n\n' + tail
    assert config.load(path).profiles["fast"] == {"model": "sora-2", "seconds": 8}


def test_adding_then_deleting_a_profile_restores_the_file(path: Path) -> None:
    config.save_profile(path, "new", {"provider": "nanogpt", "metadata": {"team": "a"}})
    assert config.load(path).profiles["new"]["metadata"] == {"team": "a"}
    assert path.read_text(encoding="utf-8").startswith(EXAMPLE)

    config.delete_profile(path, "new")
    assert path.read_text(encoding="utf-8") == EXAMPLE


def test_deleting_keeps_the_comment_of_the_next_table(path: Path) -> None:
    config.set_default(path, "ci")
    config.delete_profile(path, "fast")
    text = path.read_text(encoding="utf-8")
    assert "# my framecast settings" in text and "# CI runs on the emulator" in text
    assert "[profiles.fast" not in text and "[profiles.ci]" in text


def test_deleting_takes_the_comment_that_introduces_the_profile(path: Path) -> None:
    config.delete_profile(path, "ci")
    assert path.read_text(encoding="utf-8") == EXAMPLE.partition("\n# CI runs")[0]


def test_the_default_profile_cannot_be_deleted(path: Path) -> None:
    with pytest.raises(ConfigError, match="is the default_profile"):
        config.delete_profile(path, "fast")


def test_saving_creates_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    file = tmp_path / "sub" / "config.toml"
    config.save_profile(file, "a", {"model": "sora-2"})
    assert file.read_text(encoding="utf-8") == '[profiles.a]\nmodel = "sora-2"\n'
    assert stat.S_IMODE(file.stat().st_mode) == 0o644
    file.chmod(0o640)
    config.save_profile(file, "b", {"model": "wan-2.6"})
    assert stat.S_IMODE(file.stat().st_mode) == 0o640


def test_a_stored_key_makes_the_file_private(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    config.save_profile(file, "a", {"api_key": "sk-x"}, private=True)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_bad_saves_are_refused_and_change_nothing(path: Path) -> None:
    with pytest.raises(ConfigError, match="Profile names are"):
        config.save_profile(path, "no spaces", {})
    with pytest.raises(ConfigError, match="expected a whole number"):
        config.save_profile(path, "fast", {"seconds": "8"})
    assert path.read_text(encoding="utf-8") == EXAMPLE


def test_dotted_profiles_are_rewritten_in_place(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('profiles.fast.model = "sora-2"  # dotted\n', encoding="utf-8")
    config.save_profile(file, "fast", {"model": "wan-2.6"})
    assert file.read_text(encoding="utf-8") == 'profiles.fast.model = "wan-2.6"  # dotted\n'


def test_a_profile_inside_a_shared_inline_table_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('profiles = { fast = { model = "sora-2" } }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot edit profile 'fast' safely") as caught:
        config.save_profile(file, "fast", {"model": "wan-2.6"})
    assert caught.value.hint == "Write it as a [profiles.fast] table, or edit the file by hand."


def test_quoted_headers_are_recognised(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text(
        '[profiles."fast"]\nmodel = "sora-2"\n\n[profiles.keep]\nmodel = "x"\n', encoding="utf-8"
    )
    config.save_profile(file, "fast", {"model": "wan-2.6"})
    assert config.load(file).profiles == {"fast": {"model": "wan-2.6"}, "keep": {"model": "x"}}
