"""What reaches the wire: every request flag of `framecast generate`, for each provider
that talks HTTP, checked at the emulator (the request it received), not at framecast's
own objects.

Each provider talks to a served emulator of its own dialect: `lumenfall` to Lumenfall's
gateway under /openai/v1, `nanogpt` to NanoGPT's /api, `openai` to the strict OpenAI
dialect under /v1. The table below says, for each flag and provider, the field the
value must arrive in (apis.md and providers/*.py name them), or that the flag is
refused before anything is sent, or that the provider has no field for it. Dropping
any one value on its way out fails a row.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from framecast.emulator import EmulatorConfig
from framecast.emulator.recording import REDACTED, Seen, key_digest
from tests.conftest import Served, invoke, journal_rows, serve

BOAT = "a paper boat drifting down a rainy street"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4
IMAGE_URL = "https://cdn.example.invalid/first-frame.png"
OTHER_IMAGE_URL = "https://cdn.example.invalid/last-frame.png"
VIDEO_URL = "https://cdn.example.invalid/source.mp4"
HOOK = "http://127.0.0.1:9/hook"  # loopback (the emulator delivers nowhere else); nobody there
JOB_ID = re.compile(r"vid(eo)?_[0-9a-f]+")


@dataclass(frozen=True)
class Api:
    provider: str
    dialect: str  # the emulator's
    prefix: str  # the path of the base URL
    create: str  # the path a submission is POSTed to
    key: str
    key_header: str  # where the key goes


APIS = {
    "lumenfall": Api(
        "lumenfall", "lumenfall", "/openai/v1", "/openai/v1/videos", "lmnfl_wire.secret",
        "authorization",
    ),
    "nanogpt": Api(
        "nanogpt", "lumenfall", "/api", "/api/generate-video", "nano-wire-key", "x-api-key"
    ),
    "openai": Api("openai", "openai", "/v1", "/v1/videos", "sk-wire-key", "authorization"),
}  # fmt: skip
PROVIDERS = tuple(APIS)


@dataclass
class Wire:
    """One provider pointed (through its environment variables) at its own served emulator."""

    api: Api
    served: Served

    def creates(self) -> list[Seen]:
        """The submissions received (dry runs left out), oldest first."""
        return [
            s
            for s in self.served.seen("POST")
            if s.path == self.api.create and "dryRun" not in s.query
        ]

    def create(self) -> Seen:
        (only,) = self.creates()
        return only

    def generate(self, *args: str, input: str | None = None) -> Result:
        return invoke("generate", *args, "--provider", self.api.provider, input=input)


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Wire]]:
    started: list[Served] = []

    def connect(provider: str, **config: Any) -> Wire:
        api = APIS[provider]
        served = serve(
            EmulatorConfig(job_seconds=0.2, dialect=api.dialect, webhook_retry_delays=(), **config)
        )
        started.append(served)
        variable = provider.upper()
        monkeypatch.setenv(f"{variable}_API_KEY", api.key)
        monkeypatch.setenv(f"{variable}_BASE_URL", served.origin + api.prefix)
        return Wire(api, served)

    yield connect
    for served in started:
        served.server.stop()


@pytest.fixture
def media(tmp_path: Path) -> dict[str, str]:
    png, mp4 = tmp_path / "first-frame.png", tmp_path / "source.mp4"
    png.write_bytes(PNG)
    mp4.write_bytes(MP4)
    return {"<png>": str(png), "<mp4>": str(mp4)}


# -- what a row expects ------------------------------------------------------------------

ABSENT: Any = object()  # the field must not be in the request


@dataclass(frozen=True)
class Json:
    """A multipart text value that holds this JSON value."""

    value: Any


def data_uri(kind: str, content: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def assert_fields(seen: Seen, expected: dict[str, Any]) -> None:
    fields = seen.fields()
    for name, value in expected.items():
        if value is ABSENT:
            assert name not in fields, f"{name} was sent: {fields[name]!r}"
        elif isinstance(value, Json):
            assert name in fields, f"{name} never arrived; got {sorted(fields)}"
            assert json.loads(fields[name]) == value.value, name
        else:
            assert name in fields, f"{name} never arrived; got {sorted(fields)}"
            assert fields[name] == value, name


@dataclass(frozen=True)
class Expect:
    check: Callable[[Wire], None]
    code: int = 0  # the CLI's exit code
    says: str = ""  # on stderr, when the code is not 0
    jobs: int = 1  # job ids printed on stdout, when it is 0


def sent(*, code: int = 0, says: str = "", **fields: Any) -> Expect:
    """One submission, carrying these fields (ABSENT: not carrying them)."""
    return Expect(lambda wire: assert_fields(wire.create(), fields), code, says)


def refused(says: str) -> Expect:
    """Refused as a usage error before anything was sent."""

    def check(wire: Wire) -> None:
        assert wire.served.seen("POST") == [], "nothing may be sent"

    return Expect(check, code=2, says=says, jobs=0)


def checked(check: Callable[[Wire], None], *, jobs: int = 1) -> Expect:
    return Expect(check, jobs=jobs)


def uploaded(wire: Wire) -> None:
    """The file's bytes arrive as a multipart upload named input_reference."""
    create = wire.create()
    assert create.content_type == "multipart/form-data"
    (part,) = create.files("input_reference")
    assert (part.filename, part.content_type, part.data) == ("first-frame.png", "image/png", PNG)
    assert "input_reference" not in create.fields()


def uploaded_beside(url: str) -> Callable[[Wire], None]:
    """A local file and a URL together: the file as an upload, the URL as a form value."""

    def check(wire: Wire) -> None:
        create = wire.create()
        assert create.content_type == "multipart/form-data"
        (part,) = create.files("input_reference")
        assert (part.filename, part.data) == ("first-frame.png", PNG)
        assert create.fields()["input_reference"] == url

    return check


def referenced(wire: Wire) -> None:
    """The URL goes as a JSON reference object (the spec's form; a bare string is refused)."""
    create = wire.create()
    assert create.content_type == "application/json"
    assert create.fields()["input_reference"] == {"image_url": IMAGE_URL}


def n_natively(wire: Wire) -> None:
    assert_fields(wire.create(), {"n": 2})


def n_by_repeating(wire: Wire) -> None:
    creates = wire.creates()
    assert len(creates) == 2
    for create in creates:
        assert_fields(create, {"n": ABSENT})


def keyed(key: str | None) -> Callable[[Wire], None]:
    """Lumenfall's idempotency key: in the body and as a header, the same value."""

    def check(wire: Wire) -> None:
        create = wire.create()
        header = create.headers.get("idempotency-key")
        assert header is not None, "no Idempotency-Key header"
        assert create.fields()["idempotency_key"] == header
        if key is None:
            assert header.startswith("framecast-"), "framecast makes one"
        else:
            assert header == key

    return check


def unkeyed(wire: Wire) -> None:
    create = wire.create()
    assert "idempotency-key" not in create.headers
    assert_fields(create, {"idempotency_key": ABSENT})


def key_arrives(key: str | None) -> Callable[[Wire], None]:
    """The key arrives in the provider's header (kept by the emulator as a digest only)."""

    def check(wire: Wire) -> None:
        create = wire.create()
        assert create.credential == key_digest(key or wire.api.key)
        assert create.headers[wire.api.key_header] == REDACTED
        other = {"authorization", "x-api-key"} - {wire.api.key_header}
        assert not other & set(create.headers), "the key goes in one header only"

    return check


@dataclass(frozen=True)
class Row:
    flag: str  # the option of `generate --help` this row is about
    args: tuple[str, ...]
    expect: dict[str, Expect] = field(default_factory=dict)  # per provider
    model: str | None = "sora-2"  # added as -m unless None
    note: str = ""


def row(flag: str, *args: str, model: str | None = "sora-2", **expect: Expect) -> Row:
    return Row(flag, args, expect, model)


ROWS = [
    row("--model", "-m", "sora-2-pro", model=None,
        lumenfall=sent(model="sora-2-pro"),
        nanogpt=sent(model="sora-2-pro"),
        openai=sent(model="sora-2-pro")),
    row("--model", model=None,  # not given: the provider's default, if it has one
        lumenfall=refused("--model is required with lumenfall"),
        nanogpt=refused("--model is required with nanogpt"),
        openai=sent(model="sora-2")),
    row("--seconds", "-s", "8",
        lumenfall=sent(seconds=8),
        nanogpt=sent(seconds="8", duration=ABSENT),  # Sora takes `seconds`, as a string
        openai=sent(seconds="8")),
    # Lumenfall converts lengths and sizes itself (seed 000): sent as asked, never raised.
    # framecast adjusts for the others, and a tie goes to the cheaper length.
    row("--seconds", "-s", "10", "--size", "1920x1080",
        lumenfall=sent(seconds=10, size="1920x1080"),
        nanogpt=sent(seconds="8", duration=ABSENT),
        openai=sent(seconds="8", size="1280x720")),
    row("--seconds", "-m", "veo-3.1", "-s", "6", model=None,
        lumenfall=sent(seconds=6),
        nanogpt=sent(duration="6", seconds=ABSENT)),  # the others take `duration`
    # Width by height: each order arrives as given (a swap fails one of these rows).
    row("--size", "--size", "1280x720",
        lumenfall=sent(size="1280x720", aspect_ratio=ABSENT, resolution=ABSENT),
        nanogpt=sent(orientation="landscape", resolution="720p", size=ABSENT),
        openai=sent(size="1280x720")),
    row("--size", "--size", "720x1280",
        lumenfall=sent(size="720x1280"),
        nanogpt=sent(orientation="portrait", resolution="720p", size=ABSENT),
        openai=sent(size="720x1280")),
    row("--size", "-m", "veo-3.1", "--size", "1080x1920", model=None,
        lumenfall=sent(size="1080x1920"),
        nanogpt=sent(aspect_ratio="9:16", resolution="1080p", size=ABSENT)),
    row("--size", "-m", "veo3-video", "--size", "1920x1080", model=None,
        # a model framecast does not know: the size goes as given
        lumenfall=sent(code=4, says="MODEL_NOT_FOUND", size="1920x1080"),
        nanogpt=sent(size="1920x1080", aspect_ratio=ABSENT),  # NanoGPT's own size preset
        openai=sent(code=4, says="invalid_value", size="1920x1080")),
    row("--size", "--size", "16:9",  # a ratio
        lumenfall=sent(size="16:9", aspect_ratio=ABSENT),  # Lumenfall converts it itself
        nanogpt=sent(orientation="landscape"),
        openai=sent(size="1280x720")),
    # A model framecast knows: the ratio and tier are resolved to the size it makes, except
    # by Lumenfall, which converts them itself (seed 000) and so gets them as asked.
    row("--aspect-ratio", "--aspect-ratio", "16:9",
        lumenfall=sent(aspect_ratio="16:9", size=ABSENT),
        nanogpt=sent(orientation="landscape", resolution="720p"),
        openai=sent(size="1280x720", resolution=ABSENT)),
    row("--aspect-ratio", "-m", "veo-3.1", "--aspect-ratio", "9:16", model=None,
        lumenfall=sent(aspect_ratio="9:16", size=ABSENT),
        nanogpt=sent(aspect_ratio="9:16", resolution="720p")),
    # A model framecast does not know: both pass through as given (these servers do not
    # know it either and refuse it, after the request arrived).
    row("--aspect-ratio", "-m", "veo3-video", "--aspect-ratio", "16:9", "--resolution", "1080p",
        model=None,
        lumenfall=sent(code=4, says="MODEL_NOT_FOUND",
                       aspect_ratio="16:9", resolution="1080p", size=ABSENT),
        nanogpt=sent(aspect_ratio="16:9", resolution="1080p"),
        openai=sent(code=4, says="invalid_value", size="16:9", resolution="1080p")),
    row("--resolution", "--resolution", "1K",
        lumenfall=sent(resolution="1K", size=ABSENT),
        nanogpt=sent(orientation="portrait", resolution="720p"),  # NanoGPT's nearest token
        openai=sent(size="720x1280", resolution=ABSENT)),  # the API's sora-2 makes 720p only
    row("--resolution", "-m", "veo-3.1", "--resolution", "4K", model=None,
        lumenfall=sent(resolution="4K", size=ABSENT),
        nanogpt=sent(aspect_ratio="16:9", resolution="4k")),
    row("--resolution", "-m", "sora-2-pro", "--resolution", "1792x1024", model=None,
        openai=sent(size="1024x1792")),
    row("--n", "--n", "2",
        lumenfall=checked(n_natively, jobs=2),  # made by Lumenfall from one request
        nanogpt=checked(n_by_repeating, jobs=2),
        openai=checked(n_by_repeating, jobs=2)),
    row("--image", "--image", "<png>",
        lumenfall=checked(uploaded),
        nanogpt=sent(imageDataUrl=data_uri("image/png", PNG), imageUrl=ABSENT),
        openai=checked(uploaded)),
    row("--image", "--image", IMAGE_URL,
        lumenfall=checked(referenced),
        nanogpt=sent(imageUrl=IMAGE_URL, imageDataUrl=ABSENT),
        openai=checked(referenced)),
    # Two references, on a model framecast does not know (those it knows take one).
    row("--image", "-m", "wan-wavespeed-26", "--image", IMAGE_URL, "--image", OTHER_IMAGE_URL,
        model=None,
        lumenfall=sent(code=4, says="MODEL_NOT_FOUND", input_reference=[
            {"image_url": IMAGE_URL}, {"image_url": OTHER_IMAGE_URL}]),
        nanogpt=sent(referenceImages=[IMAGE_URL, OTHER_IMAGE_URL], imageUrl=ABSENT),
        openai=sent(code=4, says="invalid_value", input_reference=[
            {"image_url": IMAGE_URL}, {"image_url": OTHER_IMAGE_URL}])),
    row("--image", "-m", "wan-wavespeed-26", "--image", "<png>", "--image", IMAGE_URL,
        model=None,  # a file and a URL: the file uploaded, the URL a form value beside it
        lumenfall=Expect(uploaded_beside(IMAGE_URL), code=4, says="MODEL_NOT_FOUND", jobs=0),
        nanogpt=sent(referenceImages=[data_uri("image/png", PNG), IMAGE_URL]),
        openai=sent(code=4, says="invalid_value", input_reference=[
            {"image_url": data_uri("image/png", PNG)}, {"image_url": IMAGE_URL}])),
    row("--video", "-m", "grok-imagine-video", "--video", VIDEO_URL, model=None,
        lumenfall=sent(input_video=VIDEO_URL),
        nanogpt=sent(videoUrl=VIDEO_URL),
        openai=refused("openai takes no input video")),
    row("--video", "-m", "grok-imagine-video", "--video", "<mp4>", model=None,
        lumenfall=sent(input_video=data_uri("video/mp4", MP4)),
        nanogpt=sent(videoDataUrl=data_uri("video/mp4", MP4), videoUrl=ABSENT),
        openai=refused("openai takes no input video")),
    row("--negative-prompt", "--negative-prompt", "text, watermark",
        lumenfall=sent(negative_prompt="text, watermark"),
        nanogpt=sent(negative_prompt="text, watermark"),
        openai=sent(negative_prompt="text, watermark")),
    row("--seed", "--seed", "42",
        lumenfall=sent(seed=42),
        nanogpt=sent(seed=42),
        openai=sent(seed="42")),
    row("--audio", "--audio",
        lumenfall=sent(generate_audio=True),
        nanogpt=sent(generateAudio=True),
        openai=sent(generate_audio="true")),
    row("--no-audio", "--no-audio",
        lumenfall=sent(generate_audio=False),
        nanogpt=sent(generateAudio=False),
        openai=sent(generate_audio="false")),
    row("--webhook-url", "--webhook-url", HOOK,
        lumenfall=sent(webhook_url=HOOK),
        nanogpt=refused("nanogpt sends no webhooks"),
        openai=refused("openai sends no webhooks")),
    # NanoGPT documents no metadata and no end-user field: framecast refuses them rather
    # than drop them without a word.
    row("--metadata", "--metadata", "team=a", "--metadata", "run=7",
        lumenfall=sent(metadata={"team": "a", "run": "7"}),
        nanogpt=refused("nanogpt takes no metadata or end-user id; --metadata"),
        openai=sent(metadata=Json({"team": "a", "run": "7"}))),
    row("--user", "--user", "studio-7",
        lumenfall=sent(user="studio-7"),
        nanogpt=refused("nanogpt takes no metadata or end-user id; --user"),
        openai=sent(user="studio-7")),
    row("--idempotency-key", "--idempotency-key", "run-42",
        lumenfall=checked(keyed("run-42")),
        nanogpt=refused("nanogpt does not deduplicate submissions"),
        openai=refused("openai does not deduplicate submissions")),
    row("--idempotency-key",  # not given: made where the provider deduplicates by key
        lumenfall=checked(keyed(None)),
        nanogpt=checked(unkeyed),
        openai=checked(unkeyed)),
    row("--param", "-P", "style=noir", "--param", 'camera={"move": "pan", "speed": 2}',
        "-P", "steps=30",
        lumenfall=sent(style="noir", camera={"move": "pan", "speed": 2}, steps=30),
        nanogpt=sent(style="noir", camera={"move": "pan", "speed": 2}, steps=30),
        openai=sent(style="noir", camera=Json({"move": "pan", "speed": 2}), steps="30")),
    row("--param", "-s", "8", "-P", 'seconds="12"',  # passthrough goes last, and wins
        lumenfall=sent(seconds="12"),
        nanogpt=sent(seconds="12"),
        openai=sent(seconds="12")),
    row("--api-key", "--api-key", "flag-key-0123",
        lumenfall=checked(key_arrives("flag-key-0123")),
        nanogpt=checked(key_arrives("flag-key-0123")),
        openai=checked(key_arrives("flag-key-0123"))),
    row("--api-key",  # not given: the provider's own variable
        lumenfall=checked(key_arrives(None)),
        nanogpt=checked(key_arrives(None)),
        openai=checked(key_arrives(None))),
]  # fmt: skip

CASES = [
    pytest.param(provider, r, id=f"{provider} {r.flag} {' '.join(r.args) or '(not given)'}")
    for r in ROWS
    for provider in PROVIDERS
    if provider in r.expect
]


@pytest.mark.parametrize(("provider", "row"), CASES)
def test_each_request_flag_arrives_in_the_providers_field(
    connect: Callable[..., Wire], media: dict[str, str], provider: str, row: Row
) -> None:
    wire = connect(provider)
    expect = row.expect[provider]
    args = [media.get(arg, arg) for arg in row.args]
    model = ["-m", row.model] if row.model else []

    result = wire.generate(BOAT, *model, *args, "--no-wait")

    assert result.exit_code == expect.code, result.output
    if expect.code == 0:
        ids = result.stdout.split()
        assert len(ids) == expect.jobs and all(JOB_ID.fullmatch(i) for i in ids), result.stdout
        assert f"framecast wait {' '.join(ids)}" in result.stderr
    else:
        assert result.stdout == ""
        assert expect.says in result.stderr
    expect.check(wire)
    for create in wire.creates():
        assert create.fields()["prompt"] == BOAT


# -- flags whose effect on the wire is not a field ----------------------------------------

# Options of `generate` that put nothing on the wire (what they do is tested elsewhere).
NOT_ON_THE_WIRE = {
    "--output": "where the video is saved (test_cli_output.py)",
    "--force": "overwriting a file (test_cli_output.py)",
    "--write-info-json": "a file beside the video (test_cli_output.py)",
    "--json": "stdout format (test_cli_output.py)",
    "--quiet": "stdout format (test_cli_output.py)",
    "--print": "stdout format (test_cli_output.py)",
    "--progress": "the display (test_cli_output.py)",
    "--heartbeat": "the plain display's heartbeat (test_heartbeat.py)",
    "--fields": "which fields --json prints (test_status_output.py)",
    "--timeout": "how long to wait (test_cli_track.py)",
    "--help": "help",
}
# Options whose effect on the wire is checked in this file outside the table, or elsewhere.
BEYOND_THE_TABLE = {
    "--provider": "which dialect is spoken: every row",
    "--base-url": "test_the_base_url_flag_wins",
    "--extend": "test_extend_continues_the_finished_job",
    "--no-wait": "test_no_wait_submits_and_never_polls",
    "--max-retries": "test_retries_are_counted_at_the_server",
    "--max-retry-wait": "test_a_retry_after_past_max_retry_wait_is_not_waited_for",
    "--max-cost": "test_max_cost_prices_before_anything_is_paid_for",
    "--allow-unpriced": "test_allow_unpriced_sends_what_cannot_be_priced",
    "--strict": "test_request_semantics.py: refused before anything is sent",
    "--max-daily-cost": "test_spend.py::test_the_daily_cap_refuses_before_anything_is_sent",
    "--index": "test_nanogpt_extend.py::test_a_midjourney_run_continues_by_index_without_a_prompt",
    "--again": "test_again_sends_the_same_request_twice",
    "--profile": "test_profile_values_reach_the_wire",
    "--config": "test_profile_values_reach_the_wire",
    "--cancel-on-interrupt": "test_processes.py::test_cancel_on_interrupt_cancels_the_remote_job",
    "--allow-insecure-http": (
        "test_untrusted.py::test_a_key_over_plain_http_off_this_machine_is_refused"
    ),
}


def test_every_option_of_generate_is_accounted_for() -> None:
    result = invoke("generate", "--help")

    assert result.exit_code == 0, result.output
    options = result.stdout.partition("Options:")[2].partition("Exit codes:")[0]
    offered = set(re.findall(r"(?<![\w-])--[a-z](?:[a-z-]*[a-z])?", options))
    in_table = {r.flag for r in ROWS}
    assert in_table.isdisjoint(NOT_ON_THE_WIRE) and in_table.isdisjoint(BEYOND_THE_TABLE)
    assert offered == in_table | set(NOT_ON_THE_WIRE) | set(BEYOND_THE_TABLE)


def test_every_flag_in_the_table_has_a_row_for_every_provider() -> None:
    for flag in {r.flag for r in ROWS}:
        covered = {p for r in ROWS if r.flag == flag for p in r.expect}
        assert covered == set(PROVIDERS), (flag, set(PROVIDERS) - covered)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_prompt_from_stdin_arrives_as_typed(
    connect: Callable[..., Wire], provider: str
) -> None:
    wire = connect(provider)

    result = wire.generate("-", "-m", "sora-2", "--no-wait", input="a heron\nin the rain\n")

    assert result.exit_code == 0, result.output
    assert wire.create().fields()["prompt"] == "a heron\nin the rain\n"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_base_url_flag_wins(connect: Callable[..., Wire], provider: str) -> None:
    from_env = connect(provider)
    chosen = serve(EmulatorConfig(job_seconds=0.2, dialect=from_env.api.dialect))
    try:
        base_url = chosen.origin + from_env.api.prefix
        result = from_env.generate(BOAT, "-m", "sora-2", "--base-url", base_url, "--no-wait")
        received = Wire(from_env.api, chosen).creates()
    finally:
        chosen.server.stop()

    assert result.exit_code == 0, result.output
    assert len(received) == 1
    assert from_env.served.seen() == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_wait_submits_and_never_polls(connect: Callable[..., Wire], provider: str) -> None:
    wire = connect(provider)

    result = wire.generate(BOAT, "-m", "sora-2", "--no-wait")

    assert result.exit_code == 0, result.output
    assert [(s.method, s.path) for s in wire.served.seen()] == [("POST", wire.api.create)]


# -- --extend ----------------------------------------------------------------------------


def finished(wire: Wire, *args: str) -> dict[str, Any]:
    result = wire.generate(BOAT, *args, "-o", "first.mp4", "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["status"] == "completed"
    return doc


def test_extend_continues_the_finished_job_openai(connect: Callable[..., Wire]) -> None:
    wire = connect("openai")
    first = finished(wire, "-s", "4")

    result = wire.generate("it starts to rain", "--extend", "@last", "-s", "8", "--no-wait")

    assert result.exit_code == 0, result.output
    (extension,) = wire.served.seen("POST", "/v1/videos/extensions")
    assert extension.fields() == {
        "video": {"id": first["id"]},
        "prompt": "it starts to rain",
        "seconds": "8",
    }
    assert result.stdout.split() != [first["id"]] and JOB_ID.fullmatch(result.stdout.strip())


def test_extend_is_refused_by_lumenfall(connect: Callable[..., Wire]) -> None:
    wire = connect("lumenfall")
    finished(wire, "-m", "sora-2")

    result = wire.generate("it starts to rain", "-m", "sora-2", "--extend", "@last")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "lumenfall documents no extend endpoint" in result.stderr
    assert len(wire.served.seen("POST")) == 1, "nothing more was sent"


def test_extend_on_nanogpt_sends_the_extend_model_and_the_finished_video(
    connect: Callable[..., Wire],
) -> None:
    wire = connect("nanogpt")
    first = finished(wire, "-m", "veo-3.1", "-s", "4")

    result = wire.generate("it starts to rain", "-m", "veo-3.1", "--extend", "@last", "--no-wait")

    assert result.exit_code == 0, result.output
    assert JOB_ID.fullmatch(result.stdout.strip())
    extension = wire.creates()[-1]
    assert extension.fields() == {
        "model": "veo3-1-extend",
        "prompt": "it starts to rain",
        "videoUrl": first["output"]["url"],
    }


def test_extend_on_nanogpt_continues_a_midjourney_run_by_index(
    connect: Callable[..., Wire],
) -> None:
    wire = connect("nanogpt")
    submitted = wire.generate(BOAT, "-m", "midjourney-video", "--no-wait")
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()
    done = invoke("wait", run_id, "--json")
    assert done.exit_code == 0, done.output

    # No PROMPT: the task-based flow, with the video chosen by --index (seed 003).
    result = wire.generate("--extend", run_id, "--index", "2", "--no-wait")

    assert result.exit_code == 0, result.output
    (extension,) = wire.served.seen("POST", "/api/generate-video/extend")
    assert extension.fields() == {"runId": run_id, "index": 2}


# -- retries, budgets, repeats: counted at the server --------------------------------------


@pytest.mark.parametrize(("provider", "retries", "posts", "code"), [
    (provider, retries, posts, code)
    for provider in PROVIDERS
    for retries, posts, code in ((0, 1, 5), (1, 2, 0))
])  # fmt: skip
def test_retries_are_counted_at_the_server(
    connect: Callable[..., Wire], provider: str, retries: int, posts: int, code: int
) -> None:
    """A 429 says the server did nothing: the submission may be sent again, --max-retries
    times."""
    wire = connect(provider, faults="create:429=0.01")

    result = wire.generate(BOAT, "-m", "sora-2", "--max-retries", str(retries), "--no-wait")

    assert result.exit_code == code, result.output
    assert len(wire.creates()) == posts
    assert "429" in result.stderr if code else JOB_ID.fullmatch(result.stdout.strip())


@pytest.mark.parametrize(("provider", "posts", "code"), [
    ("lumenfall", 2, 0),  # keyed: a repeat returns the job the first one made, if any
    ("nanogpt", 1, 5),
    ("openai", 1, 5),
])  # fmt: skip
def test_an_ambiguous_failure_is_retried_only_with_an_idempotency_key(
    connect: Callable[..., Wire], isolated: Path, provider: str, posts: int, code: int
) -> None:
    """A 502 after the request was sent may or may not have made a (billed) job."""
    wire = connect(provider, faults="create:502")

    result = wire.generate(BOAT, "-m", "sora-2", "--max-retries", "3", "--no-wait")

    assert result.exit_code == code, result.output
    creates = wire.creates()
    assert len(creates) == posts
    keys = {c.headers.get("idempotency-key") for c in creates}
    assert len(keys) == 1, "a retry carries the same key"
    if code:
        assert result.stdout == ""
        assert "framecast sync" in result.stderr
        assert [row["status"] for row in journal_rows(isolated)] == ["unknown"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_retry_after_past_max_retry_wait_is_not_waited_for(
    connect: Callable[..., Wire], provider: str
) -> None:
    wire = connect(provider, faults="create:429=30")

    result = wire.generate(BOAT, "-m", "sora-2", "--max-retry-wait", "1", "--no-wait")

    assert result.exit_code == 5, result.output
    assert "longer than framecast waits" in result.stderr
    assert len(wire.creates()) == 1


@pytest.mark.parametrize(("provider", "dry_runs"), [
    ("lumenfall", 1), ("nanogpt", 0), ("openai", 0),
])  # fmt: skip
def test_max_cost_prices_before_anything_is_paid_for(
    connect: Callable[..., Wire], provider: str, dry_runs: int
) -> None:
    """Lumenfall prices the very request with a dry run; the others from the table.
    Over the cap, nothing is submitted; under it, the submission follows."""
    wire = connect(provider)

    over = wire.generate(BOAT, "-m", "sora-2", "-s", "8", "--max-cost", "0.05")
    assert (over.exit_code, over.stdout) == (8, ""), over.output
    assert "above --max-cost" in over.stderr
    assert wire.creates() == []
    under = wire.generate(BOAT, "-m", "sora-2", "-s", "8", "--max-cost", "5", "--no-wait")
    assert under.exit_code == 0, under.output
    assert len(wire.creates()) == 1

    dry = [s for s in wire.served.seen("POST", wire.api.create) if "dryRun=true" in s.query]
    assert len(dry) == 2 * dry_runs
    for run in dry:
        assert_fields(run, {"model": "sora-2", "seconds": 8, "prompt": BOAT})


@pytest.mark.parametrize(("provider", "code", "sent"), [
    ("lumenfall", 4, False),  # its dry run refuses the model: nothing is submitted
    ("nanogpt", 0, True),  # the table has no price; sent anyway, as asked
    ("openai", 4, True),  # the same, and this server refuses the model
])  # fmt: skip
def test_allow_unpriced_sends_what_cannot_be_priced(
    connect: Callable[..., Wire], provider: str, code: int, sent: bool
) -> None:
    wire = connect(provider)
    args = (BOAT, "-m", "veo3-video", "--max-cost", "5", "--no-wait")

    if provider != "lumenfall":
        refused = wire.generate(*args)
        assert (refused.exit_code, refused.stdout) == (8, ""), refused.output
        assert "--allow-unpriced" in refused.stderr
        assert wire.served.seen("POST") == []
    result = wire.generate(*args, "--allow-unpriced")

    assert result.exit_code == code, result.output
    assert [c.fields()["model"] for c in wire.creates()] == (["veo3-video"] if sent else [])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_again_sends_the_same_request_twice(connect: Callable[..., Wire], provider: str) -> None:
    wire = connect(provider)
    args = (BOAT, "-m", "sora-2", "--no-wait")

    first = wire.generate(*args)
    repeat = wire.generate(*args)
    again = wire.generate(*args, "--again")

    assert first.exit_code == 0, first.output
    assert repeat.exit_code == 2, repeat.output
    assert first.stdout.strip() in repeat.stderr, "names the job already running"
    assert again.exit_code == 0, again.output
    assert len(wire.creates()) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_profile_values_reach_the_wire(
    connect: Callable[..., Wire], provider: str, isolated: Path
) -> None:
    """Settings from a profile arrive like flags, and a flag wins over the profile."""
    wire = connect(provider)
    config = isolated.parent / "profiles.toml"
    config.write_text(
        "[profiles.wire]\n"
        'model = "sora-2-pro"\n'
        "seconds = 12\n"
        'negative_prompt = "blur"\n'
        "[profiles.wire.params]\n"
        'style = "noir"\n',
        encoding="utf-8",
    )

    result = wire.generate(
        BOAT, "--config", str(config), "-p", "wire", "--seconds", "8", "--no-wait"
    )

    assert result.exit_code == 0, result.output
    seconds: Any = {"lumenfall": 8, "nanogpt": "8", "openai": "8"}[provider]
    assert_fields(
        wire.create(),
        {"model": "sora-2-pro", "seconds": seconds, "negative_prompt": "blur", "style": "noir"},
    )
