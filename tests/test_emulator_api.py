"""The emulator's HTTP surface, spoken to directly over a loopback socket."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, probe_mp4, serve

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


@pytest.fixture(params=["/v1", "/openai/v1"])
def api(request: pytest.FixtureRequest, emulator: Served) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emulator.origin + request.param, headers={"Authorization": "Bearer sk-x"}
    ) as client:
        yield client


def finished(client: httpx.Client, video_id: str) -> dict[str, object]:
    for _ in range(200):
        body = client.get(f"/videos/{video_id}").json()
        if body["status"] not in ("queued", "in_progress"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError("the emulated job never finished")


def test_lifecycle_queued_in_progress_completed(api: httpx.Client) -> None:
    created = api.post("/videos", json={"prompt": "a fox", "seconds": "8", "size": "1280x720"})
    assert created.status_code == 202
    body = created.json()
    assert body["object"] == "video"
    assert (body["status"], body["seconds"], body["size"]) == ("queued", "8", "1280x720")
    assert "progress" not in body  # Lumenfall's video object has none (seed 004)
    assert body["output"] is None and body["completed_at"] is None and body["expires_at"] is None
    assert body["metadata"]["cost_estimate"] == pytest.approx(0.8)
    assert "cost" not in body["metadata"]

    statuses = set()
    while True:
        polled = api.get(f"/videos/{body['id']}")
        view = polled.json()
        statuses.add(view["status"])
        # Lumenfall documents no poll hint, so by default none is sent.
        assert "openai-poll-after-ms" not in polled.headers
        if view["status"] == "completed":
            break
        time.sleep(0.02)
    assert statuses >= {"in_progress", "completed"}
    assert view["metadata"]["cost"] == pytest.approx(0.8)
    assert view["metadata"]["provider"] == "emulator"
    assert view["expires_at"] - view["completed_at"] == 3600
    assert view["output"]["url"].startswith(
        api.base_url.copy_with(path="/media/").__str__().rstrip("/")
    )


def test_validation_errors_use_lumenfalls_envelope_and_codes(api: httpx.Client) -> None:
    cases = [
        ({"seconds": 4}, 400, "prompt", "INVALID_REQUEST"),
        ({"prompt": "x", "seconds": "five"}, 400, "seconds", "INVALID_REQUEST"),
        ({"prompt": "x", "size": "big"}, 400, "size", "INVALID_REQUEST"),
        ({"prompt": "x", "model": "nope"}, 404, "model", "MODEL_NOT_FOUND"),
        ({"prompt": "x", "n": 9}, 400, "n", "INVALID_REQUEST"),
        ({"prompt": "x", "negative_prompt": "y" * 5001}, 400, "negative_prompt", "INVALID_REQUEST"),
        (
            {"prompt": "x", "input_reference": {"image_url": "ftp://nope"}},
            400,
            "input_reference",
            "INVALID_REQUEST",
        ),
        (
            {"prompt": "x", "input_video": "https://example.invalid/v.mp4"},
            400,
            "input_video",
            "INVALID_REQUEST",
        ),
    ]
    for body, status, param, code in cases:
        answer = api.post("/videos", json=body)
        assert answer.status_code == status, body
        error = answer.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert (error["param"], error["code"]) == (param, code), body


def test_unknown_fields_pass_through_and_aliases_are_accepted(api: httpx.Client) -> None:
    answer = api.post(
        "/videos",
        json={
            "prompt": "x",
            "duration": 12,
            "aspect_ratio": "9:16",
            "style": "noir",
            "user": "u-1",
            "metadata": {"team": "a"},
        },
    )
    assert answer.status_code == 202
    body = answer.json()
    assert (body["seconds"], body["size"]) == ("12", "720x1280")
    assert body["metadata"]["team"] == "a"


def test_multipart_uploads_urls_and_data_uris(api: httpx.Client) -> None:
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    uploaded = api.post(
        "/videos",
        data={"prompt": "x", "seconds": "4"},
        files={"input_reference": ("a.png", PNG, "image/png")},
    )
    by_url = api.post(
        "/videos",
        data={"prompt": "x", "input_reference": "https://example.invalid/a.png"},
        files={"unused": ("", b"", "text/plain")},
    )
    by_data_uri = api.post(
        "/videos", json={"prompt": "x", "input_reference": {"image_url": data_uri}}
    )
    not_an_image = api.post(
        "/videos",
        data={"prompt": "x"},
        files={"input_reference": ("a.txt", b"hello", "text/plain")},
    )
    too_many = api.post(
        "/videos",
        data={"prompt": "x"},
        files=[
            ("input_reference[]", ("a.png", PNG, "image/png")),
            ("input_reference[]", ("b.png", PNG, "image/png")),
        ],
    )

    assert [r.status_code for r in (uploaded, by_url, by_data_uri)] == [202, 202, 202]
    assert not_an_image.status_code == 400
    assert too_many.status_code == 400
    assert "at most 1 reference" in too_many.json()["error"]["message"]


def test_grok_takes_an_input_video(api: httpx.Client) -> None:
    answer = api.post(
        "/videos",
        json={
            "prompt": "x",
            "model": "grok-imagine-video",
            "input_video": "https://example.invalid/v.mp4",
        },
    )
    assert answer.status_code == 202
    assert answer.json()["size"] == "1365x768"


def test_provider_prefixed_model_routes_to_the_model(api: httpx.Client) -> None:
    answer = api.post("/videos", json={"prompt": "x", "model": "openai/sora-2"})
    assert answer.status_code == 202


def test_list_pagination(api: httpx.Client) -> None:
    ids = [api.post("/videos", json={"prompt": f"p{i}"}).json()["id"] for i in range(5)]

    first = api.get("/videos", params={"limit": 2, "order": "asc"}).json()
    second = api.get(
        "/videos", params={"limit": 2, "order": "asc", "after": first["last_id"]}
    ).json()
    newest = api.get("/videos", params={"limit": 1}).json()

    assert [v["id"] for v in first["data"]] == ids[:2] and first["has_more"] is True
    assert [v["id"] for v in second["data"]] == ids[2:4]
    assert newest["first_id"] == ids[-1]
    assert api.get("/videos", params={"order": "sideways"}).status_code == 400
    assert api.get("/videos", params={"limit": 101}).status_code == 400
    assert api.get("/videos", params={"after": "video_unknown"}).status_code == 400


def test_delete_and_not_found(api: httpx.Client) -> None:
    video_id = api.post("/videos", json={"prompt": "x"}).json()["id"]
    finished(api, video_id)  # Lumenfall's DELETE cancels an unfinished job instead

    deleted = api.delete(f"/videos/{video_id}")

    assert deleted.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    gone = api.get(f"/videos/{video_id}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "NOT_FOUND"


def test_content_variants_and_byte_ranges(api: httpx.Client) -> None:
    video_id = api.post("/videos", json={"prompt": "x", "size": "1280x720"}).json()["id"]
    early = api.get(f"/videos/{video_id}/content")
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "INVALID_REQUEST"
    finished(api, video_id)

    video = api.get(f"/videos/{video_id}/content")
    thumb = api.get(f"/videos/{video_id}/content", params={"variant": "thumbnail"})
    tail = api.get(f"/videos/{video_id}/content", headers={"Range": "bytes=-100"})
    middle = api.get(
        f"/videos/{video_id}/content",
        headers={"Range": "bytes=100-199", "If-Range": video.headers["etag"]},
    )
    stale = api.get(
        f"/videos/{video_id}/content", headers={"Range": "bytes=100-199", "If-Range": '"other"'}
    )
    beyond = api.get(
        f"/videos/{video_id}/content", headers={"Range": f"bytes={len(video.content)}-"}
    )

    assert video.headers["content-type"] == "video/mp4"
    assert probe_mp4(video.content).width == 1280
    assert thumb.headers["content-type"] == "image/webp" and thumb.content[8:12] == b"WEBP"
    assert tail.status_code == 206 and tail.content == video.content[-100:]
    assert middle.status_code == 206 and middle.content == video.content[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(video.content)}"
    assert stale.status_code == 200 and stale.content == video.content
    assert beyond.status_code == 416
    assert api.get(f"/videos/{video_id}/content", params={"variant": "gif"}).status_code == 400


def test_signed_media_urls(api: httpx.Client) -> None:
    video_id = api.post("/videos", json={"prompt": "x"}).json()["id"]
    url = str(finished(api, video_id)["output"]["url"])  # type: ignore[index]

    plain = httpx.get(url)
    with_key = httpx.get(url, headers={"Authorization": "Bearer sk-x"})
    tampered = httpx.get(url.replace("signature=", "signature=0"))

    assert plain.status_code == 200 and plain.headers["content-type"] == "video/mp4"
    assert with_key.status_code == 400, "a signed URL must not also get the API key"
    assert tampered.status_code == 403


def test_expired_assets() -> None:
    served = serve(EmulatorConfig(job_seconds=0.0, expires_after=0.0))
    try:
        with httpx.Client(
            base_url=served.base_url, headers={"Authorization": "Bearer k"}
        ) as client:
            body = client.post("/videos", json={"prompt": "x"}).json()
            time.sleep(1.1)
            view = client.get(f"/videos/{body['id']}").json()
            content = client.get(f"/videos/{body['id']}/content")
            media = httpx.get(view["output"]["url"])
    finally:
        served.server.stop()
    assert content.status_code == 404 and content.json()["error"]["code"] == "NOT_FOUND"
    assert media.status_code == 403 and media.json()["error"]["code"] == "url_expired"


def test_remix_edit_extend_and_characters(api: httpx.Client) -> None:
    source = api.post("/videos", json={"prompt": "x", "seconds": 8, "size": "1280x720"}).json()[
        "id"
    ]
    assert (
        api.post(f"/videos/{source}/remix", json={"prompt": "y"}).status_code == 400
    )  # not finished yet
    finished(api, source)

    remix = api.post(f"/videos/{source}/remix", json={"prompt": "y"}).json()
    edit = api.post("/videos/edits", json={"prompt": "z", "video": {"id": source}}).json()
    extension = api.post(
        "/videos/extensions", json={"prompt": "more", "seconds": "4", "video": {"id": source}}
    ).json()
    character = api.post(
        "/videos/characters",
        data={"name": "Ada"},
        files={"video": ("c.mp4", b"\0\0\0\x10ftypisom\0\0\0\0", "video/mp4")},
    )

    assert remix["remixed_from_video_id"] == source and remix["size"] == "1280x720"
    assert edit["seconds"] == "8"
    assert extension["seconds"] == "12", "an extension reports the stitched total"
    assert character.status_code == 200
    fetched = api.get(f"/videos/characters/{character.json()['id']}").json()
    assert fetched["name"] == "Ada"
    assert api.get("/videos/characters/char_unknown").status_code == 404


def test_models_listing(api: httpx.Client) -> None:
    listing = api.get("/models").json()
    assert listing["object"] == "list"
    assert {"sora-2", "grok-imagine-video"} <= {m["id"] for m in listing["data"]}
    assert api.get("/models/sora-2").json()["owned_by"] == "openai"
    assert api.get("/models/nope").status_code == 404


def test_authentication(emulator: Served) -> None:
    missing = httpx.post(emulator.base_url + "/videos", json={"prompt": "x"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AUTHENTICATION_FAILED"

    strict = serve(EmulatorConfig(api_key="sk-right"))
    try:
        wrong = httpx.get(strict.base_url + "/videos", headers={"Authorization": "Bearer sk-wrong"})
        right = httpx.get(strict.base_url + "/videos", headers={"Authorization": "Bearer sk-right"})
    finally:
        strict.server.stop()
    assert (wrong.status_code, right.status_code) == (401, 200)


def test_unknown_paths_and_methods(emulator: Served) -> None:
    headers = {"Authorization": "Bearer k"}
    assert httpx.get(emulator.origin + "/nowhere", headers=headers).status_code == 404
    not_allowed = httpx.put(emulator.base_url + "/videos", headers=headers)
    assert not_allowed.status_code == 405
    assert "POST" in not_allowed.headers["allow"]
    bad_json = httpx.post(
        emulator.base_url + "/videos",
        content=b"{",
        headers={**headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 400


def test_keep_alive_connections_are_reused(emulator: Served) -> None:
    """Every answer came over one connection: the client's end of it never changed
    (httpx's documented `network_stream` response extension names it)."""
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer k"}) as client:

        def local_end(method: str, path: str, **kwargs: Any) -> tuple[str, int]:
            with client.stream(method, path, **kwargs) as answer:
                stream = answer.extensions["network_stream"]
                end: tuple[str, int] = stream.get_extra_info("client_addr")
                assert answer.status_code in (200, 202), answer.read()
                answer.read()
                return end

        video_id = client.post("/videos", json={"prompt": "x"}).json()["id"]
        ends = {local_end("GET", f"/videos/{video_id}") for _ in range(50)}
        ends.add(local_end("POST", "/videos", json={"prompt": "y"}))
    assert len(ends) == 1, ends
