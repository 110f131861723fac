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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from framecast.errors import ConfigError

CONFIG_ENV = "FRAMECAST_CONFIG"
PROFILE_ENV = "FRAMECAST_PROFILE"
PROGRESS_MODES = ("auto", "bar", "plain", "none")
NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Key:
    kind: str  # str, int, number, bool, list, strings (a table of strings), table
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()


# Every setting a profile may hold: any `generate` option, plus where the key lives.
KEYS: dict[str, Key] = {
    "provider": Key("str", "provider name"),
    "base_url": Key("str", "API base URL"),
    "api_key_env": Key("str", "the environment variable that holds the API key"),
    "api_key": Key("str", "the API key itself (only saved with --store-key)", secret=True),
    "model": Key("str", "model id"),
    "seconds": Key("int", "duration in seconds"),
    "size": Key("str", "WIDTHxHEIGHT or W:H"),
    "aspect_ratio": Key("str", "shape, e.g. 16:9"),
    "resolution": Key("str", "scale tier, e.g. 720p"),
    "n": Key("int", "videos per request, 1-4"),
    "image": Key("list", "reference images (paths or URLs)"),
    "video": Key("str", "source video"),
    "negative_prompt": Key("str", "what to avoid"),
    "seed": Key("int", "seed"),
    "audio": Key("bool", "generated sound"),
    "webhook_url": Key("str", "webhook URL"),
    "metadata": Key("strings", "string metadata attached to jobs"),
    "user": Key("str", "end-user id"),
    "params": Key("table", "passthrough request fields"),
    "output": Key("str", "file, directory or template for saved videos"),
    "timeout": Key("number", "seconds to wait; 0 waits forever"),
    "poll_interval": Key("number", "fixed seconds between polls"),
    "poll_min": Key("number", "shortest wait between polls"),
    "poll_max": Key("number", "longest wait between polls"),
    "max_cost": Key("number", "refuse runs estimated above this (USD)"),
    "allow_unpriced": Key("bool", "with max_cost, run requests that cannot be priced"),
    "progress": Key("str", "auto, bar, plain or none", choices=PROGRESS_MODES),
    "write_info_json": Key("bool", "write a .json sidecar beside each video"),
    "max_retries": Key("int", "retries of a failed request (POSTs only when safe)"),
    "max_retry_wait": Key("number", "longest wait between retries honoured, in seconds"),
    "request_timeout": Key("number", "seconds to wait for each answer from a provider (60)"),
    "allow_insecure_http": Key("bool", "send the API key over plain http to a non-loopback host"),
}
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


def _check_value(where: str, key: Key, value: Any) -> None:
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

_HEADER = re.compile(r"^\s*\[(?!\[)\s*(?P<key>.*?)\s*\]\s*(#.*)?$")


def _key_parts(key: str) -> list[str]:
    """The parts of a dotted TOML key; dots inside quotes do not split."""
    parts: list[str] = []
    current = ""
    quote = ""
    for char in key:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _header_profile(line: str) -> tuple[bool, str | None]:
    """(is a table header, the profile it belongs to, if any)."""
    if line.lstrip().startswith("[["):
        return True, None
    match = _HEADER.match(line)
    if match is None:
        return False, None
    parts = _key_parts(match["key"])
    return True, parts[1] if len(parts) >= 2 and parts[0] == "profiles" else None


def _trivia(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _without_profile(text: str, name: str) -> tuple[str, int | None]:
    """The text with profile `name`'s tables cut out, and the offset where they stood.

    Blank and comment lines at the end of the cut introduce whatever table comes
    next, so they stay.
    """
    kept: list[str] = []
    cut: list[str] = []
    inside = False
    position = None
    for line in text.splitlines(keepends=True):
        is_header, owner = _header_profile(line)
        if is_header and inside and owner != name:
            trailing: list[str] = []
            while cut and _trivia(cut[-1]):
                trailing.insert(0, cut.pop())
            kept.extend(trailing)
            inside = False
        if is_header and owner == name and not inside:
            inside = True
            if position is None:
                position = len("".join(kept))
        (cut if inside else kept).append(line)
    return "".join(kept), position


def _profile_text(name: str, settings: dict[str, Any]) -> str:
    return tomli_w.dumps({"profiles": {name: settings}})


def _write_atomic(path: Path, text: str, *, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private and path.parent == default_path().parent:
        from framecast.paths import private_dir

        private_dir(path.parent)  # framecast's own folder, now holding a key
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    mode = 0o600 if private else 0o644
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode) & (0o600 if private else 0o777)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(part, mode)
    os.replace(part, path)


def save_profile(path: Path, name: str, settings: dict[str, Any], *, private: bool = False) -> None:
    """Write one profile, leaving every other table and comment in the file as it was."""
    if not NAME.match(name):
        raise ConfigError(f"Profile names are letters, digits, - and _; {name!r} is not one.")
    validate({"profiles": {name: settings}}, path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = tomllib.loads(text) if text else {}
    if _dotted_or_inline(data, name, text):
        raise ConfigError(
            f"{path}: profile {name!r} is written inline or with dotted keys, which framecast "
            "does not rewrite.",
            hint=f"Write it as a [profiles.{name}] table, or edit the file by hand.",
        )
    rest, position = _without_profile(text, name)
    block = _profile_text(name, settings)
    if position is None:
        separator = (
            "" if not rest or rest.endswith("\n\n") else ("\n" if rest.endswith("\n") else "\n\n")
        )
        new_text = rest + separator + block
    else:
        after = rest[position:]
        new_text = (
            rest[:position] + block + ("\n" if after and not after.startswith("\n") else "") + after
        )
    validate(tomllib.loads(new_text), path)
    _write_atomic(path, new_text, private=private)


_DEFAULT_LINE = re.compile(r"^\s*default_profile\s*=.*$", re.MULTILINE)


def set_default(path: Path, name: str) -> None:
    """Point default_profile at `name`, changing only that line (or adding it first)."""
    config = load(path)
    config.profile(name)
    text = path.read_text(encoding="utf-8")
    line = f"default_profile = {tomli_w.dumps({'x': name})[4:].strip()}"
    if _DEFAULT_LINE.search(text):
        new_text = _DEFAULT_LINE.sub(line, text, count=1)
    else:
        new_text = f"{line}\n\n{text}"
    validate(tomllib.loads(new_text), path)
    _write_atomic(path, new_text, private=False)


def delete_profile(path: Path, name: str) -> None:
    config = load(path)
    config.profile(name)
    text = path.read_text(encoding="utf-8")
    if _dotted_or_inline(tomllib.loads(text), name, text):
        raise ConfigError(
            f"{path}: profile {name!r} is not a [profiles.{name}] table; edit the file by hand."
        )
    rest, position = _without_profile(text, name)
    if position is not None and position == len(rest) and rest.strip():
        rest = rest.rstrip("\n") + "\n"  # the blank line that separated it goes too
    data = tomllib.loads(rest)
    if data.get("default_profile") == name:
        raise ConfigError(
            f"{name!r} is the default_profile in {path}.",
            hint="Change default_profile first, then delete it.",
        )
    _write_atomic(path, rest, private=False)


def _dotted_or_inline(data: Mapping[str, Any], name: str, text: str) -> bool:
    """The profile exists in the data but has no [profiles.NAME] header of its own."""
    if name not in data.get("profiles", {}):
        return False
    return not any(_header_profile(line) == (True, name) for line in text.splitlines())
