"""The strict OpenAI dialect, spoken to directly and through framecast's openai provider."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, probe_mp4, serve

KEY = "sk-strict-test"
VIDEO_KEYS = {
    "id", "object", "model", "status", "progress", "created_at", "completed_at",
    "expires_at", "prompt", "size", "seconds", "remixed_from_video_id", "error",
}  # fmt: skip


@pytest.fixture(scope="module")
def strict() -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2, dialect="openai", api_key=KEY))
    yield served
    served.server.stop()


@pytest.fixture
def api(strict: Served) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=strict.base_url, headers=headers) as client:
        yield client


def created(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = api.post("/videos", json={"prompt": "a lighthouse", **fields})
    assert answer.status_code == 200, answer.text  # OpenAI answers 200, not 202
    body: dict[str, Any] = answer.json()
    return body


def test_create_answers_200_with_exactly_the_specs_fields(api: httpx.Client) -> None:
    body = created(api, seconds="8", size="1280x720")
    assert set(body) == VIDEO_KEYS
    assert (body["status"], body["progress"], body["seconds"], body["size"]) == (
        "queued",
        0,
        "8",
        "1280x720",
    )
    polled = api.get(f"/videos/{body['id']}")
    assert polled.headers["openai-poll-after-ms"] == "2000"  # fixed by default in this dialect


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"seconds": 8}, "seconds"),  # a number: the spec's VideoSeconds is a string
        ({"seconds": "16"}, "seconds"),
        ({"seconds": "10"}, "seconds"),
        ({"size": "16:9"}, "size"),
        ({"size": "1920x1080"}, "size"),
        ({"size": "1792x1024"}, "size"),  # sora-2-pro's, not sora-2's
        ({"model": "grok-imagine-video"}, "model"),
        ({"model": "no-such-model"}, "model"),
        ({"prompt": ""}, "prompt"),
        ({"input_reference": {"image_url": "ftp://x", "file_id": "file-1"}}, "input_reference"),
        ({"emulator_outcome": "cancelled"}, "emulator_outcome"),  # not a status of the spec
    ],
)
def test_what_the_spec_forbids_is_a_400(
    api: httpx.Client, fields: dict[str, Any], param: str
) -> None:
    answer = api.post("/videos", json={"prompt": "x", **fields})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param


def test_sora_2_pro_makes_the_large_sizes(api: httpx.Client) -> None:
    assert created(api, model="sora-2-pro", size="1792x1024")["size"] == "1792x1024"


def test_undeclared_methods_are_405_with_allow_and_fixed_routes_are_never_ids(
    api: httpx.Client,
) -> None:
    put = api.put("/videos")
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST, HEAD, OPTIONS"
    assert put.json()["error"]["code"] == "method_not_allowed"
    # /videos/characters is a fixed route: GET there is not a lookup of a video so named.
    characters = api.get("/videos/characters")
    assert characters.status_code == 405 and characters.headers["allow"] == "POST, OPTIONS"
    options = api.request("OPTIONS", "/videos/characters")
    assert options.status_code == 204 and options.headers["allow"] == "POST, OPTIONS"
    edits = api.delete("/videos/edits")
    assert edits.status_code == 405 and edits.headers["allow"] == "POST, OPTIONS"


def test_head_answers_get_routes_without_a_body(api: httpx.Client) -> None:
    video_id = created(api)["id"]
    head = api.head(f"/videos/{video_id}")
    get = api.get(f"/videos/{video_id}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert get.headers["content-type"] == head.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "query", ["/videos?order=", "/videos?limit=", "/videos?limit=101", "/videos?order=up"]
)
def test_empty_or_invalid_query_values_are_refused(api: httpx.Client, query: str) -> None:
    answer = api.get(query)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] in ("order", "limit")


def test_an_empty_variant_is_refused_and_an_unfinished_job_has_no_content(
    api: httpx.Client,
) -> None:
    video_id = created(api, size="1280x720")["id"]
    early = api.get(f"/videos/{video_id}/content")
    assert early.status_code == 400 and early.json()["error"]["code"] == "video_not_ready"
    empty = api.get(f"/videos/{video_id}/content?variant=")
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "variant"


def test_auth_with_a_required_key(strict: Served) -> None:
    missing = httpx.get(strict.base_url + "/videos")
    wrong = httpx.get(strict.base_url + "/videos", headers={"Authorization": "Bearer sk-other"})
    right = httpx.get(strict.base_url + "/videos", headers={"Authorization": f"Bearer {KEY}"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert set(wrong.json()["error"]) == {"message", "type", "param", "code"}


def test_any_key_works_when_none_is_required() -> None:
    served = serve(EmulatorConfig(dialect="openai"))
    try:
        answer = httpx.get(served.base_url + "/videos", headers={"Authorization": "Bearer any"})
        refused = httpx.get(served.base_url + "/videos")
    finally:
        served.server.stop()
    assert (answer.status_code, refused.status_code) == (200, 401)


def test_lumenfall_additions_are_not_served(api: httpx.Client, strict: Served) -> None:
    assert api.get("/requests").status_code == 404
    assert api.get("/balance").status_code == 404
    assert httpx.get(strict.origin + "/openai/v1/videos").status_code == 404


def test_framecast_generates_and_downloads_through_the_strict_dialect(
    strict: Served, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", strict.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    done = invoke(
        "generate", "a lighthouse at dusk", "--provider", "openai", "--size", "1280x720",
        "--seconds", "8", "-o", "clip.mp4", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["status"] == "completed" and doc["output"]["path"] == "clip.mp4"
    probe = probe_mp4(Path("clip.mp4"))
    assert (probe.width, probe.height, probe.frames) == (1280, 720, 192)
    assert strict.seen("GET", f"/v1/videos/{doc['id']}/content")

    thumb = invoke("download", doc["id"], "--variant", "thumbnail", "--provider", "openai")
    assert thumb.exit_code == 0, thumb.output
    saved = Path(thumb.stdout.strip())
    assert saved.suffix == ".webp"
    with av.open(io.BytesIO(saved.read_bytes()), mode="r", format="webp_pipe") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (1280, 720)
