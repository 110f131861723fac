"""A hostile server cannot choose paths, drive the terminal, exhaust memory or learn the key.

Everything here runs the real CLI against tests/hostile.py on loopback, which
answers whatever each test scripts.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from framecast.emulator.mp4 import render_mp4
from tests import hostile
from tests.conftest import invoke, journal_rows

KEY = "sk-hostile-test-0123456789"
PROMPT = "a harmless prompt"
CLIP = render_mp4("clip", 64, 64, 1, Fraction(8))


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[hostile.Hostile]:
    served = hostile.start()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    yield served
    served.close()


def data_dir() -> Path:
    return Path(os.environ["FRAMECAST_DATA_DIR"])


def serve_job(server: hostile.Hostile, job_id: str, **fields: Any) -> None:
    """A server whose one job is `job_id`, completed, with a real MP4 at /content."""
    server.route(
        "POST", r"/v1/videos", lambda r: hostile.json_answer(hostile.video(job_id, **fields))
    )
    server.route(
        "GET", r"/v1/videos/[^/]+", lambda r: hostile.json_answer(hostile.video(job_id, **fields))
    )
    server.route(
        "GET", r"/v1/videos/[^/]+/content", lambda r: (200, {"content-type": "video/mp4"}, CLIP)
    )


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


# -- ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    ["../x/evil", "/abs/path/evil", "a/b/c", "a\x00b", "x" * 5000, "..", "video\x1b[2Jx", "%2e%2e"],
)
@pytest.mark.parametrize("output", [None, "out/", "out/{id}.{ext}"])
def test_an_id_that_could_choose_a_path_is_refused_where_it_enters(
    server: hostile.Hostile, tmp_path: Path, bad_id: str, output: str | None
) -> None:
    serve_job(server, bad_id)
    before = everything_under(tmp_path)

    result = invoke("generate", PROMPT, *(["-o", output] if output else []))

    assert result.exit_code == 5, result.output
    assert "unusable job id" in result.stderr
    assert "\x00" not in result.stderr and "\x1b" not in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 400
    assert result.stdout == ""
    created = everything_under(tmp_path) - before
    assert all(data_dir() in p.parents or p == data_dir() for p in created), created
    (row,) = journal_rows(data_dir())
    assert row["status"] == "unknown", "the server said it made a job: it may exist"
    assert [s.method for s in server.seen] == ["POST"], "nothing is asked about that id"


@pytest.mark.parametrize("ref", ["../../etc/passwd", "a/b", "x" * 300, "id with space", "?x=1"])
def test_an_id_on_the_command_line_must_look_like_one(server: hostile.Hostile, ref: str) -> None:
    for command in ("status", "wait", "download"):
        result = invoke(command, ref)
        assert result.exit_code == 2, result.output
        assert "is not a job id" in result.stderr
    assert server.seen == []


def test_ids_are_percent_encoded_in_every_path(server: hostile.Hostile) -> None:
    job_id = "vid:a=b+c~d.e"
    serve_job(server, job_id)

    result = invoke("generate", PROMPT, "-o", "clip.mp4")
    status = invoke("status", job_id, "--json")

    assert result.exit_code == status.exit_code == 0, result.output
    assert json.loads(status.stdout)["id"] == job_id
    paths = {s.raw_path.split("?")[0] for s in server.seen if s.method == "GET"}
    assert paths == {"/v1/videos/vid%3Aa%3Db%2Bc~d.e", "/v1/videos/vid%3Aa%3Db%2Bc~d.e/content"}
    assert Path("clip.mp4").read_bytes() == CLIP


def test_names_from_the_server_stay_inside_the_chosen_folder(server: hostile.Hostile) -> None:
    serve_job(server, "video_ok", model="../../../escaped/model")

    result = invoke("generate", PROMPT, "-o", "out/{model}/{id}.{ext}", "--print", "path")

    assert result.exit_code == 0, result.output
    saved = Path(result.stdout.strip())
    assert saved.resolve().parent.parent == (Path.cwd() / "out").resolve()
    assert saved.name == "video_ok.mp4"
    assert saved.read_bytes() == CLIP


def test_a_template_that_climbs_out_is_refused_before_sending(server: hostile.Hostile) -> None:
    serve_job(server, "video_ok")

    result = invoke("generate", PROMPT, "-o", "{model}/../../outside.mp4")

    assert result.exit_code == 2, result.output
    assert "outside" in result.stderr
    assert server.seen == []


# -- terminal text -------------------------------------------------------------------------

NASTY = "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b]0;pwned\x07\x9b31m\x07"


def test_escape_sequences_from_the_server_never_reach_the_terminal(
    server: hostile.Hostile,
) -> None:
    serve_job(
        server,
        "video_esc",
        status="failed",
        model=f"sora{NASTY}",
        prompt=f"prompt{NASTY}",
        error={"code": f"bad{NASTY}", "message": f"it broke{NASTY}"},
    )

    runs = [
        invoke("generate", PROMPT),
        invoke("status"),  # offline, from the journal
        invoke("status", "video_esc"),
        invoke("wait", "video_esc"),
    ]

    assert [r.exit_code for r in runs] == [6, 0, 0, 6]
    for run in runs:
        shown = run.stdout + run.stderr
        assert not any(c in shown for c in "\x1b\x07\x9b"), repr(shown)
    assert "it broke" in runs[0].stderr
    as_json = invoke("status", "video_esc", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert "\\u001b" in as_json.stdout and "\\u009b" in as_json.stdout
    assert json.loads(as_json.stdout)["model"] == f"sora{NASTY}", "JSON keeps the text, escaped"


# -- sizes ---------------------------------------------------------------------------------


def test_an_oversized_answer_is_refused_without_holding_it(server: hostile.Hostile) -> None:
    huge = b'{"id": "video_big", "pad": "' + b"x" * (17 * 2**20) + b'"}'
    server.route(
        "GET", r"/v1/videos/[^/]+", lambda r: (200, {"content-type": "application/json"}, huge)
    )

    result = invoke("status", "video_big")

    assert result.exit_code == 5, result.output
    assert "16 MiB" in result.stderr
    assert len(result.stderr) < 2000


def test_an_endless_answer_is_cut_off_at_the_cap(server: hostile.Hostile) -> None:
    def endless(request: hostile.Received) -> hostile.Answer:
        def chunks() -> Iterator[bytes]:
            yield b'{"id": "video_endless", "pad": "'
            for _ in range(64 * 1024):  # 64 GiB, if anyone read that far
                yield b"x" * 2**20

        return 200, {"content-type": "application/json"}, chunks()

    server.route("GET", r"/v1/videos/[^/]+", endless)

    result = invoke("status", "video_endless")

    assert result.exit_code == 5, result.output
    assert "more than the 16 MiB" in result.stderr


def test_error_bodies_are_cut_in_messages(server: hostile.Hostile) -> None:
    server.route(
        "POST", r"/v1/videos", lambda r: (400, {"content-type": "text/plain"}, b"no " * 50_000)
    )

    result = invoke("generate", PROMPT)

    assert result.exit_code == 4, result.output
    assert len(result.stderr) < 1500


# -- credentials -------------------------------------------------------------------------


def test_a_key_echoed_by_the_server_is_never_shown_or_stored(server: hostile.Hostile) -> None:
    def echo(request: hostile.Received) -> hostile.Answer:
        said = request.headers.get("authorization", "")
        return hostile.json_answer({"error": {"message": f"bad credentials: {said}"}}, 400)

    serve_job(server, "video_ok")
    result = invoke("generate", PROMPT, "--write-info-json", "-o", "clip.mp4")
    server.route("GET", r"/v1/videos/[^/]+", echo)
    refused = invoke("status", "video_ok")

    assert result.exit_code == 0 and refused.exit_code == 4
    assert "bad credentials" in refused.stderr
    shown = result.stdout + result.stderr + refused.stdout + refused.stderr
    files = b"".join(p.read_bytes() for p in Path.cwd().parent.rglob("*") if p.is_file())
    assert KEY not in shown
    assert KEY.encode() not in files


def test_a_submission_redirected_to_another_origin_is_not_followed(
    server: hostile.Hostile,
) -> None:
    elsewhere = hostile.start()
    try:
        elsewhere.route("POST", r"/v1/videos", lambda r: hostile.json_answer(hostile.video("v")))
        server.route(
            "POST",
            r"/v1/videos",
            lambda r: (307, {"location": elsewhere.base_url + "/videos"}, b""),
        )

        result = invoke("generate", PROMPT)
    finally:
        elsewhere.close()

    assert result.exit_code == 3, result.output
    assert "does not forward" in result.stderr
    assert elsewhere.seen == [], "neither the prompt nor the key went to the other origin"
    assert journal_rows(data_dir()) == []


def test_a_redirected_download_gets_no_key(server: hostile.Hostile) -> None:
    elsewhere = hostile.start()
    try:
        elsewhere.route("GET", r"/clip\.mp4", lambda r: (200, {"content-type": "video/mp4"}, CLIP))
        serve_job(server, "video_ok")
        server.route(
            "GET",
            r"/v1/videos/[^/]+/content",
            lambda r: (302, {"location": elsewhere.origin + "/clip.mp4"}, b""),
        )

        result = invoke("generate", PROMPT, "-o", "clip.mp4")
    finally:
        elsewhere.close()

    assert result.exit_code == 0, result.output
    assert [s.headers.get("authorization") for s in elsewhere.seen] == [None]
    assert Path("clip.mp4").read_bytes() == CLIP


def test_credentials_in_a_base_url_are_never_shown(server: hostile.Hostile) -> None:
    server.route("POST", r"/v1/videos", lambda r: hostile.json_answer({"error": {}}, 400))
    port = server.base_url.rsplit(":", 1)[1]
    with_secret = f"http://user:s3cret-pw@127.0.0.1:{port}"

    result = invoke("generate", PROMPT, "--base-url", with_secret)
    shown = invoke("config", "show", "--json")

    assert result.exit_code == 4, result.output
    assert shown.exit_code == 0, shown.output
    assert "s3cret-pw" not in result.stdout + result.stderr + shown.stdout + shown.stderr


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://gateway.example.com/v1", True),
        ("http://10.1.2.3:4000/v1", True),
        ("https://gateway.example.com/v1", False),
        ("http://127.0.0.1:4000/v1", False),
        ("http://localhost:4000/v1", False),
        ("http://[::1]:4000/v1", False),
    ],
)
def test_a_key_over_plain_http_off_this_machine_is_refused(
    tmp_path: Path, url: str, refused: bool
) -> None:
    from framecast.errors import ConfigError
    from framecast.settings import choose_provider, resolve

    def choose(**flags: object) -> object:
        settings = resolve(
            {"provider": "openai", "base_url": url, **flags},
            config_path=tmp_path / "none.toml",
            env={"OPENAI_API_KEY": KEY},
        )
        return choose_provider(settings)

    if refused:
        with pytest.raises(ConfigError, match="unencrypted"):
            choose()
        assert choose(allow_insecure_http=True) is not None
    else:
        assert choose() is not None


def test_plain_http_refusal_sends_nothing(isolated: Path) -> None:
    result = invoke(
        "generate", PROMPT, "--provider", "openai", "--api-key", KEY,
        "--base-url", "http://gateway.example.com/v1",
    )  # fmt: skip

    assert result.exit_code == 3, result.output
    assert "--allow-insecure-http" in result.stderr
    assert journal_rows(data_dir()) == []


def test_what_framecast_keeps_is_private(server: hostile.Hostile, isolated: Path) -> None:
    serve_job(server, "video_ok")
    server.route(
        "GET",
        r"/v1/models",
        lambda r: hostile.json_answer({"object": "list", "data": [{"id": "sora-2"}]}),
    )

    assert invoke("generate", PROMPT, "-o", "clip.mp4").exit_code == 0
    assert invoke("models", "--provider", "openai").exit_code == 0
    saved = invoke("profile", "save", "keyed", "--api-key", KEY, "--store-key")

    assert saved.exit_code == 0, saved.output
    cache = Path(os.environ["FRAMECAST_CACHE_DIR"])
    config = Path(os.environ["FRAMECAST_CONFIG"])

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(data_dir()) == 0o700
    assert mode(data_dir() / "journal.sqlite3") == 0o600
    assert mode(cache) == 0o700
    assert {mode(p) for p in cache.iterdir()} == {0o600}
    assert mode(config) == 0o600
