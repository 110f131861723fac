"""A bad-input matrix: every refusal is exit 2 or 3, one line that names the problem, and free.

Each case runs the real CLI against the emulator served on loopback (`served_env`) and checks
that framecast refused the input before doing anything:

- the exit code is 2 (bad usage or input) or 3 (configuration or key);
- the first line of stderr names the problem, a hint may follow, and stderr is at most 3 lines;
- stdout is empty, no traceback and no "this is a bug";
- nothing was sent (no request of any kind reached the emulator);
- nothing was written (no journal row, nothing new in the working directory or beside it).

Files the cases need (a text file, a > 4 MB image, a file standing where a directory should be,
broken config files) are real files in tmp_path. Placeholders in arguments and environment
values: @TMP@ is tmp_path, @ORIGIN@ the served emulator's origin.

"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Served, invoke, journal_rows

BOAT = "a paper boat drifting down a rainy street"
NANOGPT = {"NANOGPT_API_KEY": "nano-test-key", "NANOGPT_BASE_URL": "@ORIGIN@/api"}
LUMENFALL_BASE = {"LUMENFALL_BASE_URL": "@ORIGIN@/openai/v1"}


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]  # each must appear in the first line of stderr
    hint: str | None = None  # must appear somewhere in stderr
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    stdin: str | None = None


def case(
    case_id: str,
    *args: str,
    code: int = 2,
    says: str | tuple[str, ...],
    hint: str | None = None,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    stdin: str | None = None,
) -> Any:
    bad = Bad(
        args=args,
        code=code,
        says=(says,) if isinstance(says, str) else says,
        hint=hint,
        env=dict(env or {}),
        unset=unset,
        stdin=stdin,
    )
    return pytest.param(bad, id=case_id)


def gen(case_id: str, *args: str, **kwargs: Any) -> Any:
    """A `generate` case with the usual prompt."""
    return case(case_id, "generate", BOAT, *args, **kwargs)


CASES = [
    # -- flags: unknown values and wrong types ---------------------------------------------
    gen(
        "seconds-not-a-number",
        "--seconds",
        "four",
        says=("--seconds", "'four' is not a valid int"),
    ),
    gen("seconds-zero", "--seconds", "0", says="--seconds 0: the duration must be a positive"),
    gen("seconds-negative", "--seconds", "-3", says="--seconds -3: the duration must"),
    gen("n-zero", "--n", "0", says=("--n", "0 is not in the range 1<=x<=4")),
    gen("n-five", "--n", "5", says=("--n", "5 is not in the range 1<=x<=4")),
    gen("n-not-a-number", "--n", "two", says=("--n", "'two' is not a valid")),
    gen(
        "max-retries-negative",
        "--max-retries",
        "-1",
        says=("--max-retries", "-1 is not in the range x>=0"),
    ),
    gen(
        "timeout-negative",
        "--timeout",
        "-5",
        says=("--timeout", "-5.0 is not in the range x>=0"),
    ),
    gen(
        "progress-sideways",
        "--progress",
        "sideways",
        says="--progress 'sideways': choose auto, bar, plain, none",
    ),
    gen(
        "print-nonsense",
        "--print",
        "nonsense",
        says=("--print", "'nonsense' is not one of"),
    ),
    gen("unknown-option", "--bogus-flag", says="No such option: --bogus-flag"),
    gen(
        "unknown-provider",
        "--provider",
        "nonesuch",
        says="Unknown provider 'nonesuch'",
        hint="emulator, lumenfall, nanogpt, openai",
    ),
    gen("empty-provider", "--provider", "", says="--provider is empty"),
    gen(
        "unknown-provider-from-env",
        says="Unknown provider 'nonesuch'",
        env={"FRAMECAST_PROVIDER": "nonesuch"},
    ),
    gen(
        "seconds-from-env-not-a-number",
        code=3,
        says=("FRAMECAST_SECONDS='ten'", "expected a whole number"),
        env={"FRAMECAST_SECONDS": "ten"},
    ),
    gen(
        "progress-from-env-sideways",
        code=3,
        says=("FRAMECAST_PROGRESS='sideways'", "expected one of auto, bar, plain, none"),
        env={"FRAMECAST_PROGRESS": "sideways"},
    ),
    gen(
        "base-url-with-emulator",
        "--provider",
        "emulator",
        "--base-url",
        "@ORIGIN@/v1",
        says="--base-url does not apply to --provider emulator",
    ),
    gen(
        "api-key-with-emulator",
        "--provider",
        "emulator",
        "--api-key",
        "sk-test",
        says=("--api-key", "emulator"),
    ),
    gen("extend-with-n-2", "--extend", "video_abc", "--n", "2", says="--extend makes one"),
    gen("extend-at-1-empty-journal", "--extend", "@1", says="@1 does not exist"),
    gen(
        "idempotency-key-empty",
        "--idempotency-key",
        "",
        says="--idempotency-key must be 1 to 256 characters",
    ),
    gen(
        "idempotency-key-too-long",
        "--idempotency-key",
        "k" * 300,
        says="--idempotency-key must be 1 to 256 characters",
    ),
    gen(
        "idempotency-key-openai-does-not-dedupe",
        "--idempotency-key",
        "abc",
        says="openai does not deduplicate submissions",
    ),
    gen(
        "webhook-url-ftp",
        "--webhook-url",
        "ftp://127.0.0.1/hook",
        says="--webhook-url 'ftp://127.0.0.1/hook' is not an http(s) URL",
    ),
    gen("metadata-malformed", "--metadata", "novalue", says="'novalue' is not KEY=VALUE"),
    # -- sizes and shapes ------------------------------------------------------------------
    gen("size-word", "--size", "huge", says="--size 'huge' is not a size"),
    gen("size-zero-width", "--size", "0x720", says=("--size '0x720'", "between 1 and 8192")),
    gen("size-missing-height", "--size", "1280x", says="--size '1280x' is not a size"),
    gen("size-ratio-zero", "--size", "16:0", says="--size '16:0' is not a size"),
    gen(
        "size-too-large",
        "--size",
        "99999x99999",
        says=("--size '99999x99999'", "between 1 and 8192"),
    ),
    gen("aspect-ratio-word", "--aspect-ratio", "banana", says="--aspect-ratio 'banana' is not"),
    # -- images and videos -----------------------------------------------------------------
    gen("image-missing", "--image", "no-such-file.png", says="'no-such-file.png': no such file"),
    gen(
        "image-is-a-directory",
        "--image",
        "@TMP@/pictures",
        says=("--image", "pictures", "directory"),
    ),
    gen(
        "image-is-text-openai",
        "--image",
        "@TMP@/notes.txt",
        says=("notes.txt", "not an image"),
    ),
    gen(
        "image-is-text-nanogpt",
        "--provider",
        "nanogpt",
        "--model",
        "sora-2",
        "--image",
        "@TMP@/notes.txt",
        says=("notes.txt", "not an image"),
        env=NANOGPT,
    ),
    gen(
        "image-too-big-for-nanogpt",
        "--provider",
        "nanogpt",
        "--model",
        "sora-2",
        "--image",
        "@TMP@/big.png",
        says=("big.png", "nanogpt takes inline files up to 4 MB"),
        hint="https URL",
        env=NANOGPT,
    ),
    gen("video-missing", "--video", "@TMP@/no-such.mp4", says=("--video", "no such file")),
    # -- prompts ---------------------------------------------------------------------------
    case("prompt-empty", "generate", "", says="The prompt is empty"),
    case("prompt-whitespace", "generate", "  \t \n ", says="The prompt is empty"),
    case("prompt-empty-stdin", "generate", "-", stdin="", says="The prompt is empty"),
    case(
        "prompt-too-long",
        "generate",
        "-",
        stdin="a very long prompt " * 2000,
        says=("The prompt is 38,000 characters", "at most 32,000"),
    ),
    gen("image-is-a-pipe", "--image", "@TMP@/pipe", says=("pipe", "not a regular file")),
    # -- passthrough params ----------------------------------------------------------------
    gen("param-without-equals", "--param", "novalue", says="--param 'novalue' is not KEY=VALUE"),
    gen("param-without-key", "-P", "=x", says="--param '=x' is not KEY=VALUE"),
    # -- output targets --------------------------------------------------------------------
    gen("stdout-with-json", "-o", "-", "--json", says="-o - writes the video to stdout"),
    gen("stdout-with-print", "-o", "-", "--print", "id", says="-o - writes the video to stdout"),
    case(
        "stdout-with-n-2",
        "generate",
        BOAT,
        "--provider",
        "emulator",
        "--n",
        "2",
        "-o",
        "-",
        says="-o - streams one video",
    ),
    gen("output-dir-is-a-file", "-o", "@TMP@/afile/", says="afile is not a directory"),
    gen("output-under-a-file", "-o", "@TMP@/afile/x.mp4", says="afile is not a directory"),
    gen(
        "template-unknown-field",
        "-o",
        "{nonesuch}.mp4",
        says="unknown field {nonesuch}",
        hint="{prompt_slug}",
    ),
    gen("template-unclosed", "-o", "{id", says="'{id' is not a valid template"),
    gen(
        "template-climbs-out",
        "-o",
        "{model}/../../x.mp4",
        says=("would save to", "outside"),
    ),
    gen(
        "template-climbs-out-of-absolute-dir",
        "-o",
        "@TMP@/pictures/{id}/../../../escape.mp4",
        says=("would save to", "outside"),
    ),
    gen(
        "file-name-over-255-bytes",
        "-o",
        "a" * 300 + ".mp4",
        says="too long",
    ),
    # -- base URLs -------------------------------------------------------------------------
    gen(
        "base-url-ftp",
        "--base-url",
        "ftp://127.0.0.1/v1",
        says="Base URL 'ftp://127.0.0.1/v1' is not an http(s) URL",
    ),
    gen(
        "base-url-without-host",
        "--base-url",
        "http:///v1",
        says="Base URL 'http:///v1' is not an http(s) URL",
    ),
    gen("base-url-not-a-url", "--base-url", "not a url", says="'not a url' is not an http(s) URL"),
    gen(
        "base-url-bad-port",
        "--base-url",
        "http://127.0.0.1:notaport/v1",
        says=("Base URL", "notaport"),
    ),
    gen(
        "base-url-plain-http-off-machine",
        "--base-url",
        "http://gateway.example.com/v1",
        code=3,
        says=("http://gateway.example.com/v1", "plain http to a host off this machine"),
        hint="--allow-insecure-http",
    ),
    # -- models ----------------------------------------------------------------------------
    gen("model-empty", "--model", "", says="--model is empty"),
    case(
        "config-missing-status-offline",
        "--config",
        "@TMP@/missing.toml",
        "status",
        code=3,
        says=("missing.toml", "does not exist"),
    ),
    case(
        "config-missing-profile-list",
        "--config",
        "@TMP@/missing.toml",
        "profile",
        "list",
        code=3,
        says=("missing.toml", "does not exist"),
    ),
    gen(
        "model-required-by-nanogpt",
        "--provider",
        "nanogpt",
        says="--model is required with nanogpt",
        env=NANOGPT,
    ),
    # -- config files and profiles ---------------------------------------------------------
    case(
        "config-missing",
        "--config",
        "@TMP@/missing.toml",
        "generate",
        BOAT,
        code=3,
        says=("missing.toml", "does not exist"),
        hint="--config",
    ),
    case(
        "config-invalid-toml",
        "--config",
        "@TMP@/broken.toml",
        "generate",
        BOAT,
        code=3,
        says=("broken.toml", "invalid TOML", "line 1, column 12"),
    ),
    gen(
        "config-invalid-toml-from-env",
        code=3,
        says=("broken.toml", "invalid TOML"),
        env={"FRAMECAST_CONFIG": "@TMP@/broken.toml"},
    ),
    case(
        "config-unknown-key",
        "--config",
        "@TMP@/typo.toml",
        "generate",
        BOAT,
        code=3,
        says=("typo.toml", "profiles.p.modle", "unknown key 'modle'"),
        hint="Did you mean 'model'?",
    ),
    case(
        "config-wrong-type",
        "--config",
        "@TMP@/ten.toml",
        "generate",
        BOAT,
        code=3,
        says='ten.toml: profiles.p.seconds: expected a whole number, got "ten"',
    ),
    case(
        "config-wrong-type-string",
        "--config",
        "@TMP@/number.toml",
        "generate",
        BOAT,
        "-p",
        "p",
        code=3,
        says="number.toml: profiles.p.provider: expected a string, got 3",
    ),
    case(
        "config-profiles-not-a-table",
        "--config",
        "@TMP@/list.toml",
        "generate",
        BOAT,
        code=3,
        says="list.toml: profiles: expected a table of profiles",
    ),
    gen("profile-unknown", "--profile", "nonesuch", code=3, says="There is no profile 'nonesuch'"),
    gen(
        "profile-unknown-from-env",
        code=3,
        says="There is no profile 'nonesuch'",
        env={"FRAMECAST_PROFILE": "nonesuch"},
    ),
    # -- keys ------------------------------------------------------------------------------
    gen(
        "key-missing-openai",
        "--provider",
        "openai",
        code=3,
        says="The openai provider needs an API key",
        hint="OPENAI_API_KEY",
        unset=("OPENAI_API_KEY",),
    ),
    gen(
        "key-missing-lumenfall",
        "--provider",
        "lumenfall",
        code=3,
        says="The lumenfall provider needs an API key",
        hint="LUMENFALL_API_KEY",
        env=LUMENFALL_BASE,
    ),
    gen(
        "key-missing-nanogpt",
        "--provider",
        "nanogpt",
        "--model",
        "sora-2",
        code=3,
        says="The nanogpt provider needs an API key",
        hint="NANOGPT_API_KEY",
        env={"NANOGPT_BASE_URL": "@ORIGIN@/api"},
    ),
    gen("key-empty", "--api-key", "", says="--api-key is empty"),
    # -- estimate --------------------------------------------------------------------------
    case("estimate-size-word", "estimate", BOAT, "--size", "huge", says="'huge' is not a size"),
    case("estimate-prompt-empty", "estimate", "", says="The prompt is empty"),
    case(
        "estimate-seconds-zero",
        "estimate",
        BOAT,
        "--seconds",
        "0",
        says="the duration must be a positive",
    ),
    case(
        "estimate-n-nine",
        "estimate",
        BOAT,
        "--n",
        "9",
        says=("--n", "9 is not in the range 1<=x<=4"),
    ),
    case(
        "estimate-image-too-big-for-nanogpt",
        "estimate",
        BOAT,
        "--provider",
        "nanogpt",
        "--model",
        "sora-2",
        "--image",
        "@TMP@/big.png",
        says=("big.png", "nanogpt takes inline files up to 4 MB"),
        env=NANOGPT,
    ),
    case(
        "estimate-base-url-ftp",
        "estimate",
        BOAT,
        "--base-url",
        "ftp://127.0.0.1/v1",
        says="is not an http(s) URL",
    ),
    # -- wait ------------------------------------------------------------------------------
    case("wait-at-0", "wait", "@0", says="'@0' is not a job reference", hint="@last"),
    case("wait-at-1-empty-journal", "wait", "@1", says="@1 does not exist"),
    case(
        "wait-timeout-negative",
        "wait",
        "video_abc",
        "--timeout",
        "-5",
        says=("--timeout", "-5.0 is not in the range x>=0"),
    ),
    case(
        "wait-progress-sideways",
        "wait",
        "video_abc",
        "--progress",
        "sideways",
        says="--progress 'sideways'",
    ),
    case(
        "wait-two-jobs-output-is-a-file",
        "wait",
        "video_abc",
        "video_def",
        "-o",
        "@TMP@/afile",
        says=("afile", "several jobs"),
    ),
    case(
        "wait-plain-http-off-machine",
        "wait",
        "video_abc",
        "--base-url",
        "http://gateway.example.com/v1",
        code=3,
        says="plain http to a host off this machine",
    ),
    # -- download --------------------------------------------------------------------------
    case(
        "download-variant-unknown",
        "download",
        "video_abc",
        "--variant",
        "poster",
        says=("--variant", "'poster' is not one of"),
    ),
    case("download-at-1-empty-journal", "download", "@1", says="@1 does not exist"),
    case(
        "download-stdout-with-json",
        "download",
        "video_abc",
        "-o",
        "-",
        "--json",
        says="-o - writes the video to stdout",
    ),
    case(
        "download-template-unknown-field",
        "download",
        "video_abc",
        "-o",
        "{nonesuch}.mp4",
        says="unknown field {nonesuch}",
    ),
    case(
        "download-base-url-ftp",
        "download",
        "video_abc",
        "--base-url",
        "ftp://127.0.0.1/v1",
        says="is not an http(s) URL",
    ),
    # -- status ----------------------------------------------------------------------------
    case(
        "status-limit-zero",
        "status",
        "--limit",
        "0",
        says=("--limit", "0 is not in the range x>=1"),
    ),
    case("status-at-5-empty-journal", "status", "@5", says="@5 does not exist"),
    case(
        "status-unknown-provider",
        "status",
        "video_abc",
        "--provider",
        "nonesuch",
        says="Unknown provider 'nonesuch'",
    ),
    case(
        "status-plain-http-off-machine",
        "status",
        "video_abc",
        "--base-url",
        "http://gateway.example.com/v1",
        code=3,
        says="plain http to a host off this machine",
    ),
    # -- models ----------------------------------------------------------------------------
    case(
        "models-unknown-provider",
        "models",
        "--provider",
        "nonesuch",
        says="Unknown provider 'nonesuch'",
    ),
    case(
        "models-base-url-ftp",
        "models",
        "--provider",
        "openai",
        "--base-url",
        "ftp://127.0.0.1/v1",
        says="is not an http(s) URL",
    ),
    case(
        "models-key-missing-lumenfall",
        "models",
        "--provider",
        "lumenfall",
        code=3,
        says="The lumenfall provider needs an API key",
        env=LUMENFALL_BASE,
    ),
    # -- profile save ----------------------------------------------------------------------
    case(
        "profile-save-empty-name",
        "profile",
        "save",
        "",
        "--model",
        "sora-2",
        code=3,
        says="Profile names are letters, digits, - and _",
    ),
    case(
        "profile-save-bad-name",
        "profile",
        "save",
        "bad name!",
        "--model",
        "sora-2",
        code=3,
        says="'bad name!' is not one",
    ),
    case(
        "profile-save-raw-key",
        "profile",
        "save",
        "p",
        "--api-key",
        "sk-raw",
        says="Refusing to store a raw API key",
        hint="--api-key-env",
    ),
    case(
        "profile-save-progress-sideways",
        "profile",
        "save",
        "p",
        "--progress",
        "sideways",
        says=("--progress 'sideways'", "choose auto, bar, plain, none"),
    ),
    case(
        "profile-save-param-malformed",
        "profile",
        "save",
        "p",
        "--param",
        "novalue",
        says="--param 'novalue' is not KEY=VALUE",
    ),
    case(
        "profile-save-unknown-provider",
        "profile",
        "save",
        "p",
        "--provider",
        "nonesuch",
        says="Unknown provider 'nonesuch'",
    ),
    case(
        "profile-save-seconds-zero",
        "profile",
        "save",
        "p",
        "--seconds",
        "0",
        says="the duration must be a positive",
    ),
    case(
        "profile-save-size-word",
        "profile",
        "save",
        "p",
        "--size",
        "huge",
        says="'huge' is not a size",
    ),
]


def _png(padding: int = 0) -> bytes:
    """A valid 1x1 PNG, padded with a text chunk to the size wanted."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")),
            chunk(b"tEXt", b"padding\x00" + b"x" * padding) if padding else b"",
            chunk(b"IEND", b""),
        ]
    )


def _material(root: Path, args: tuple[str, ...]) -> None:
    """The real files the cases point at, beside (not in) the working directory."""
    (root / "notes.txt").write_text("just some notes, not a picture\n", encoding="utf-8")
    (root / "afile").write_text("", encoding="utf-8")
    (root / "pictures").mkdir()
    (root / "broken.toml").write_text('[profiles.x\nmodel = "sora-2"\n', encoding="utf-8")
    (root / "typo.toml").write_text('[profiles.p]\nmodle = "sora-2"\n', encoding="utf-8")
    (root / "ten.toml").write_text(
        'default_profile = "p"\n[profiles.p]\nseconds = "ten"\n', encoding="utf-8"
    )
    (root / "number.toml").write_text("[profiles.p]\nprovider = 3\n", encoding="utf-8")
    (root / "list.toml").write_text("profiles = [1, 2]\n", encoding="utf-8")
    os.mkfifo(root / "pipe")
    if any("big.png" in a for a in args):
        big = root / "big.png"
        big.write_bytes(_png(5 * 1024 * 1024))
        assert big.stat().st_size > 4 * 1024 * 1024


def _files(root: Path) -> set[str]:
    """Everything under tmp_path but the journal's and the cache's own folders."""
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.relative_to(root).parts[0] not in ("data", "cache")
    }


def test_ids_are_unique_and_the_matrix_is_large() -> None:
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_before_anything_happens(
    served_env: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: Bad
) -> None:
    def fill(text: str) -> str:
        return text.replace("@TMP@", str(tmp_path)).replace("@ORIGIN@", served_env.origin)

    args = tuple(fill(a) for a in bad.args)
    _material(tmp_path, args)
    for name in bad.unset:
        monkeypatch.delenv(name, raising=False)
    for name, value in bad.env.items():
        monkeypatch.setenv(name, fill(value))
    before = _files(tmp_path)

    result = invoke(*args, input=bad.stdin)

    lines = result.stderr.splitlines()
    shown = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr:\n{result.stderr}"
    assert result.exit_code == bad.code, shown
    assert lines, shown
    for needle in bad.says:
        assert needle in lines[0], shown
    assert len(lines) <= 3, shown
    if bad.hint is not None:
        assert bad.hint in result.stderr, shown
    assert "Traceback" not in result.stderr
    assert "This is a bug" not in result.stderr
    assert result.stdout == ""
    assert served_env.seen("POST") == []
    assert served_env.seen() == [], "bad input is refused before any request"
    assert journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"])) == []
    assert list(Path.cwd().iterdir()) == []
    assert _files(tmp_path) == before, "nothing is written, here or anywhere near"
