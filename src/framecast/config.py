"""The configuration file: named profiles of `generate` settings, in TOML.

One file, `config.toml` in the user config directory (FRAMECAST_CONFIG or
--config point elsewhere):

    default_profile = "fast"

    [profiles.fast]
    provider = "lumenfall"
    api_key_env = "LUMENFALL_API_KEY"
    model = "grok-imagine-video"
    seconds = 6

    [profiles.fast.params]
    style = "noir"

Reading never shows a traceback: a syntax error names the file, line and
column; a wrong value names its place and what was expected; an unknown key
gets the nearest valid name. Saving rewrites only the profile being saved,
through a temporary file and a rename, so every other byte stays as it was.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framecast.errors import ConfigError
from framecast.options import Option, stored

CONFIG_ENV = "FRAMECAST_CONFIG"
PROFILE_ENV = "FRAMECAST_PROFILE"
NAME = re.compile(r"^[A-Za-z0-9_-]+$")


# Every setting a profile may hold, as framecast.options declares them.
KEYS: dict[str, Option] = stored()
TOP_LEVEL = ("default_profile", "profiles")
_EXPECTED = {
    "str": "a string",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "list": "a list of strings",
    "strings": "a table of strings",
    "table": "a table",
}


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    exists: bool
    default_profile: str | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def profile(self, name: str) -> dict[str, Any]:
        if name not in self.profiles:
            close = difflib.get_close_matches(name, list(self.profiles), n=1)
            known = ", ".join(sorted(self.profiles)) or "none yet"
            hint = f"Did you mean {close[0]!r}?" if close else f"Profiles in {self.path}: {known}."
            raise ConfigError(f"There is no profile {name!r}.", hint=hint)
        return self.profiles[name]


def default_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path("framecast", appauthor=False) / "config.toml"


def _shown(value: Any) -> str:
    return (
        f'"{value}"'
        if isinstance(value, str)
        else repr(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def _check_value(where: str, key: Option, value: Any) -> None:
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "strings": isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        "table": isinstance(value, dict),
    }[key.kind]
    if not ok:
        raise ConfigError(f"{where}: expected {_EXPECTED[key.kind]}, got {_shown(value)}")
    if key.choices and value not in key.choices:
        raise ConfigError(f"{where}: expected one of {', '.join(key.choices)}, got {_shown(value)}")


def _unknown(where: str, name: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"Did you mean {close[0]!r}?" if close else f"Valid keys: {', '.join(sorted(valid))}."
    return ConfigError(f"{where}: unknown key {name!r}", hint=hint)


def validate(data: Mapping[str, Any], path: Path) -> Config:
    label = path.name
    for name in data:
        if name not in TOP_LEVEL:
            raise _unknown(f"{label}: {name}", name, list(TOP_LEVEL))
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{label}: default_profile: expected a string, got {_shown(default)}")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(
            f"{label}: profiles: expected a table of profiles, got {_shown(profiles)}"
        )
    for name, settings in profiles.items():
        where = f"{label}: profiles.{name}"
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: expected a table, got {_shown(settings)}")
        for key, value in settings.items():
            if key not in KEYS:
                raise _unknown(f"{where}.{key}", key, list(KEYS))
            _check_value(f"{where}.{key}", KEYS[key], value)
    if default is not None and default not in profiles:
        raise ConfigError(f"{label}: default_profile: there is no profile {default!r}")
    return Config(path, True, default, {name: dict(s) for name, s in profiles.items()})


def load(path: Path | None = None, *, must_exist: bool = False) -> Config:
    """The config file; a missing one is empty, unless it was named explicitly (`must_exist`)."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"The config file {path} does not exist.",
                hint="Check the path given to --config, or create it with "
                "`framecast profile save`.",
            ) from None
        return Config(path, False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return validate(data, path)


# -- saving ---------------------------------------------------------------
# Edits go through framecast.tomledit, which changes only the profile's own statements
# (its rules for comments are in its docstring). The result is parsed again and must
# hold exactly what was asked before it replaces the file.


def _read(path: Path) -> str:
    """The file's text as it is on disk (newlines untranslated); empty when it is missing."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None


def _parsed(path: Path, text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    validate(data, path)
    return data


def _edited(path: Path, name: str, edit: Callable[[], str]) -> str:
    """The edited text; a file that cannot be edited safely is a config error, never a crash."""
    try:
        return edit()
    except (ValueError, LookupError, TypeError, RecursionError) as exc:
        raise ConfigError(
            f"{path}: framecast cannot edit profile {name!r} safely: {exc}.",
            hint=f"Write it as a [profiles.{name}] table, or edit the file by hand.",
        ) from None


def _check_writable(where: str, value: Any) -> None:
    """TOML has no null: a `-P key=null` cannot be saved."""
    if value is None:
        raise ConfigError(f"{where}: TOML has no null value.", hint="Leave the key out instead.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_writable(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_writable(f"{where}[{index}]", item)


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k == "profiles" and v == {})}


def _write_checked(
    path: Path, name: str, text: str, expected: dict[str, Any], *, private: bool
) -> None:
    """Write `text` only if it parses to `expected` (an empty profiles table may come or go)."""
    from framecast import tomledit

    try:
        data: dict[str, Any] | None = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    if data is None or not tomledit.same(_plain(data), _plain(expected)):
        raise ConfigError(
            f"{path}: framecast cannot edit profile {name!r} safely; the file is unchanged.",
            hint=f"Write it as a [profiles.{name}] table, or edit the file by hand.",
        )
    validate(data, path)
    _write_atomic(path, text, private=private)


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise ConfigError(f"Profile names are letters, digits, - and _; {name!r} is not one.")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """One editor of the config file at a time: two `profile save` runs at once would each
    rewrite the file from what they read, and one profile would be lost."""
    import fcntl

    target = path.resolve() if path.is_symlink() else path
    if target.exists() and not target.is_file():
        # Reading a pipe to edit it would block, and a device is not ours to replace.
        raise ConfigError(f"{path} is not a regular file; framecast writes profiles only to one.")
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.with_name(f".{target.name}.lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str, *, private: bool) -> None:
    """Replace the file's content through a temporary file and a rename. A symlinked config
    is written where it points; anything but a regular file (a device, a pipe) is refused."""
    path = path.resolve() if path.is_symlink() else path
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path} is not a regular file; framecast writes profiles only to one.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if private and path.parent == default_path().parent:
        from framecast.paths import private_dir

        private_dir(path.parent)  # framecast's own folder, now holding a key
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    mode = 0o600 if private else 0o644
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode) & (0o600 if private else 0o777)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.chmod(part, mode)
    os.replace(part, path)


def save_profile(path: Path, name: str, settings: dict[str, Any], *, private: bool = False) -> None:
    """Write one profile, leaving every other table and comment in the file as it was.

    `settings` is the profile's complete new content: keys it keeps keep their lines (and
    comments), changed values are replaced in place, new keys are added, others removed.
    """
    import tomli_w

    from framecast import tomledit

    check_name(name)
    validate({"profiles": {name: settings}}, path)
    _check_writable(f"{path.name}: profiles.{name}", settings)
    text = _read(path)
    data = _parsed(path, text)
    new_text = _edited(
        path,
        name,
        lambda: tomledit.replace_table(text, ("profiles", name), settings, tomli_w.dumps),
    )
    expected = {**data, "profiles": {**data.get("profiles", {}), name: settings}}
    _write_checked(path, name, new_text, expected, private=private)


def set_default(path: Path, name: str) -> None:
    """Point default_profile at `name`, changing only its value (or adding it first)."""
    import tomli_w

    from framecast import tomledit

    load(path).profile(name)
    text = _read(path)
    data = _parsed(path, text)
    new_text = _edited(
        path, name, lambda: tomledit.set_key(text, "default_profile", name, tomli_w.dumps)
    )
    _write_checked(path, name, new_text, {**data, "default_profile": name}, private=False)


def delete_profile(path: Path, name: str) -> None:
    """Remove one profile and the comments that belong to it (see framecast.tomledit)."""
    import tomli_w

    from framecast import tomledit

    config = load(path)
    config.profile(name)
    if config.default_profile == name:
        raise ConfigError(
            f"{name!r} is the default_profile in {path}.",
            hint="Change default_profile first, then delete it.",
        )
    text = _read(path)
    data = _parsed(path, text)
    new_text = _edited(
        path, name, lambda: tomledit.replace_table(text, ("profiles", name), None, tomli_w.dumps)
    )
    profiles = {k: v for k, v in data.get("profiles", {}).items() if k != name}
    _write_checked(path, name, new_text, {**data, "profiles": profiles}, private=False)
