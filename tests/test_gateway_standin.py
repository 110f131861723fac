"""The stand-in LiteLLM gateway really misbehaves the way LiteLLM does.

These tests speak plain httpx to the gateway (in front of the served emulator),
so the tests that later run framecast through it rest on checked behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, serve
from tests.gateway import StandInGateway, decode_id, encode_id, start_gateway

AUTH = {"Authorization": "Bearer sk-test"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
CORE = {"id", "object", "status", "created_at", "model", "seconds", "size", "error"}


@pytest.fixture
def upstream() -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    yield served
    served.server.stop()


@pytest.fixture
def gateway(upstream: Served) -> Iterator[StandInGateway]:
    with start_gateway(upstream.base_url) as gw:
        yield gw


@pytest.fixture
def client(gateway: StandInGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.base_url, headers=AUTH, trust_env=False) as c:
        yield c


def create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = client.post("/videos", json={"prompt": "a fox", **fields})
    assert answer.status_code == 202, answer.text
    return answer.json()  # type: ignore[no-any-return]


def wait_completed(client: httpx.Client, video_id: str) -> dict[str, Any]:
    """Poll with the id from create, never with the one a retrieve hands back."""
    for _ in range(300):
        answer = client.get(f"/videos/{video_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["status"] == "completed":
            return body
        time.sleep(0.02)
    raise AssertionError("the job never completed through the gateway")


def test_create_answers_an_encoded_id_that_names_the_upstream_job(
    client: httpx.Client, upstream: Served
) -> None:
    video = create(client)
    upstream_id = decode_id(video["id"])
    assert upstream_id is not None and upstream_id.startswith("video_")
    assert video["id"] == encode_id(upstream_id)
    assert upstream.app.store.get(upstream_id) is not None
    assert [s.had_authorization for s in upstream.seen("POST", "/videos")] == [True]


def test_retrieve_answers_a_doubly_encoded_id_that_cannot_be_routed(
    client: httpx.Client, gateway: StandInGateway, upstream: Served
) -> None:
    created = create(client)["id"]
    retrieved = client.get(f"/videos/{created}")
    assert retrieved.status_code == 200
    doubled = retrieved.json()["id"]
    assert doubled != created
    assert doubled == encode_id(created)
    assert decode_id(doubled) == created

    for path in (f"/videos/{doubled}", f"/videos/{doubled}/content"):
        refused = client.get(path)
        assert refused.status_code == 500
        error = refused.json()["error"]
        assert (error["type"], error["code"]) == ("internal_server_error", "500")
        assert error["message"]
    # The gateway saw the doubled id; the upstream never did.
    assert any(doubled in r.path for r in gateway.requests)
    upstream_id = decode_id(created)
    assert all(s.path.endswith((f"/videos/{upstream_id}", "/videos")) for s in upstream.seen("GET"))

    # The id from create stays routable all the way to completion.
    assert wait_completed(client, created)["status"] == "completed"


def test_content_drops_the_variant_and_serves_the_mp4(
    client: httpx.Client, gateway: StandInGateway, upstream: Served
) -> None:
    created = create(client)["id"]
    wait_completed(client, created)
    answer = client.get(f"/videos/{created}/content", params={"variant": "thumbnail"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.content[4:8] == b"ftyp"
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert gateway.requests[-1].query == "variant=thumbnail"
    assert [s.query for s in upstream.seen("GET", "/content")] == [""]

    # Asked directly, the upstream would have served the WebP thumbnail.
    direct = httpx.get(
        f"{upstream.base_url}/videos/{decode_id(created)}/content?variant=thumbnail",
        headers=AUTH,
        trust_env=False,
    )
    assert direct.content[8:12] == b"WEBP"


def test_video_objects_lose_their_optional_fields(client: httpx.Client, upstream: Served) -> None:
    created = create(client, metadata={"k": "v"})
    assert set(created) <= CORE
    completed = wait_completed(client, created["id"])
    assert set(completed) <= CORE
    for gone in ("progress", "output", "metadata", "expires_at", "completed_at", "prompt"):
        assert gone not in completed
    direct = httpx.get(
        f"{upstream.base_url}/videos/{decode_id(created['id'])}", headers=AUTH, trust_env=False
    ).json()
    assert direct["output"]["url"] and direct["metadata"]["cost"] is not None


def test_list_drops_the_query_and_encodes_each_id_once(
    client: httpx.Client, upstream: Served
) -> None:
    ids = [create(client)["id"] for _ in range(3)]
    page = client.get("/videos", params={"limit": 2, "order": "asc"}).json()
    assert set(page) <= {"object", "data", "has_more", "first_id", "last_id"}
    listed = [item["id"] for item in page["data"]]
    assert sorted(listed) == sorted(ids)  # limit=2 never reached the upstream
    assert all(set(item) <= CORE for item in page["data"])
    assert page["first_id"] == listed[0] and page["last_id"] == listed[-1]
    assert [s.query for s in upstream.seen("GET") if s.path.endswith("/videos")] == [""]


def test_remix_and_delete_answer_singly_encoded_ids(client: httpx.Client) -> None:
    source = create(client)["id"]
    wait_completed(client, source)
    remix = client.post(f"/videos/{source}/remix", json={"prompt": "at night"})
    assert remix.status_code == 202, remix.text
    remixed = remix.json()
    remixed_upstream = decode_id(remixed["id"])
    assert remixed_upstream is not None and decode_id(remixed_upstream) is None
    assert remixed_upstream != decode_id(source)
    assert "remixed_from_video_id" not in remixed

    deleted = client.delete(f"/videos/{source}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": source, "object": "video.deleted", "deleted": True}
    gone = client.get(f"/videos/{source}")
    assert gone.status_code == 404  # the upstream's own answer, relayed
    assert gone.json()["error"]["code"] == "NOT_FOUND"


def test_multipart_text_input_reference_is_refused_before_the_upstream(
    client: httpx.Client, upstream: Served
) -> None:
    answer = client.post(
        "/videos",
        data={"prompt": "a fox"},
        files={"input_reference": (None, "https://example.invalid/a.png")},
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [
            {
                "loc": ["body", "input_reference"],
                "msg": "Expected UploadFile, received: <class 'str'>",
                "type": "value_error",
            }
        ]
    }
    assert upstream.seen("POST") == []


def test_multipart_file_input_reference_is_forwarded(
    client: httpx.Client, upstream: Served
) -> None:
    answer = client.post(
        "/videos",
        data={"prompt": "a fox"},
        files={"input_reference": ("a.png", PNG, "image/png")},
    )
    assert answer.status_code == 202, answer.text
    [seen] = upstream.seen("POST", "/videos")
    assert seen.content_type == "multipart/form-data"
    record = upstream.app.store.get(decode_id(answer.json()["id"]) or "")
    assert record is not None and record.references == 1


def test_json_input_reference_object_is_forwarded(
    client: httpx.Client, gateway: StandInGateway, upstream: Served
) -> None:
    video = create(client, input_reference={"image_url": "https://example.invalid/a.png"})
    record = upstream.app.store.get(decode_id(video["id"]) or "")
    assert record is not None and record.references == 1
    [seen] = upstream.seen("POST", "/videos")
    assert (seen.content_type, seen.had_authorization) == ("application/json", True)
    assert gateway.requests[-1].content_type == "application/json"


def test_unknown_routes_are_404_and_requests_are_recorded(
    client: httpx.Client, gateway: StandInGateway, upstream: Served
) -> None:
    for method, path in (("GET", "/models"), ("POST", "/videos/edits"), ("PUT", "/videos")):
        answer = client.request(method, path)
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Not Found"}
    assert upstream.seen() == []

    bare = httpx.get(f"{gateway.base_url}/videos?order=asc", trust_env=False)
    assert bare.status_code == 401  # the upstream's refusal, relayed
    last = gateway.requests[-1]
    assert (last.method, last.path, last.query, last.had_authorization) == (
        "GET",
        "/v1/videos",
        "order=asc",
        False,
    )
