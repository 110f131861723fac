"""The lookups a client uses to reconcile a submission whose outcome it never heard:
Lumenfall's request history and balance, and NanoGPT's recover endpoint, over loopback."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, serve

AUTH = {"Authorization": "Bearer sk-test"}
CREATE = {"prompt": "a lighthouse", "seconds": "4", "size": "1280x720"}  # $0.10/s: $0.40
NANO = {"model": "sora-2", "prompt": "a lighthouse", "seconds": "4"}
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ITEM_KEYS = {
    "id",
    "object",
    "status",
    "model",
    "endpoint",
    "modality",
    "created_at",
    "duration_ms",
    "cost",
    "currency",
    "error_code",
    "error_message",
    "estimated",
    "key_id",
}


@pytest.fixture
def served() -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2))
    yield served
    served.server.stop()


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.origin, headers=AUTH, timeout=5) as client:
        yield client


def history(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.get("/v1/requests", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def balance(client: httpx.Client) -> float:
    body = client.get("/v1/balance").json()
    assert body["object"] == "balance" and body["billing_type"] == "prepaid"
    assert body["available"]["currency"] == "usd"
    return float(body["available"]["amount"])


# -- Lumenfall request history -----------------------------------------------------


def test_creates_through_either_prefix_are_listed_newest_first(client: httpx.Client) -> None:
    first = client.post("/v1/videos", json=CREATE).json()
    second = client.post("/openai/v1/videos", json={**CREATE, "model": "sora-2-pro"}).json()
    page = history(client)
    assert page["object"] == "list" and page["has_more"] is False
    newest, oldest = page["data"]
    assert set(newest) == ITEM_KEYS
    assert newest["model"] == "sora-2-pro" and oldest["model"] == "sora-2"
    for item in (newest, oldest):
        assert re.fullmatch(r"req_[0-9a-f]+", item["id"])
        assert (item["object"], item["status"], item["endpoint"]) == (
            "request",
            "completed",
            "/v1/videos",
        )
        assert (item["modality"], item["currency"], item["estimated"]) == ("video", "usd", False)
        assert item["error_code"] is None and item["error_message"] is None
        assert ISO_MS.fullmatch(item["created_at"])
        assert isinstance(item["duration_ms"], int) and item["duration_ms"] >= 0
    assert oldest["cost"] == pytest.approx(0.4)
    # Like the real items, none names the video its request made.
    assert first["id"] not in str(page) and second["id"] not in str(page)


def test_history_is_native_only(client: httpx.Client) -> None:
    assert client.get("/openai/v1/requests").status_code == 404
    assert client.get("/openai/v1/balance").status_code == 404


def test_an_item_by_id_and_an_unknown_one(client: httpx.Client) -> None:
    client.post("/v1/videos", json=CREATE)
    item = history(client)["data"][0]
    assert client.get(f"/v1/requests/{item['id']}").json() == item
    missing = client.get("/v1/requests/req_000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_rejections_are_recorded_with_their_error(client: httpx.Client) -> None:
    assert client.post("/v1/videos", json={**CREATE, "model": "no-such-model"}).status_code == 404
    assert client.post("/v1/videos", json={"seconds": "4"}).status_code == 400
    missing_prompt, unknown_model = history(client)["data"]
    assert (unknown_model["status"], unknown_model["model"]) == ("rejected", "no-such-model")
    assert unknown_model["error_code"] == "MODEL_NOT_FOUND"
    assert "no-such-model" in unknown_model["error_message"]
    assert missing_prompt["status"] == "rejected"
    assert missing_prompt["error_code"] == "INVALID_REQUEST"
    assert missing_prompt["model"] is None and missing_prompt["cost"] is None


def test_dry_runs_are_estimates(client: httpx.Client) -> None:
    estimate = client.post("/openai/v1/videos", params={"dryRun": "true"}, json=CREATE).json()
    (item,) = history(client)["data"]
    assert item["estimated"] is True and item["status"] == "completed"
    assert item["cost"] == pytest.approx(estimate["total_cost_micros"] / 1_000_000)
    assert item["model"] == "sora-2"


def test_remix_and_extensions_are_recorded(client: httpx.Client) -> None:
    source = client.post("/v1/videos", json={**CREATE, "emulator_job_seconds": 0}).json()["id"]
    assert client.post(f"/v1/videos/{source}/remix", json={"prompt": "at dawn"}).status_code == 202
    endpoints = [item["endpoint"] for item in history(client)["data"]]
    assert endpoints == [f"/v1/videos/{source}/remix", "/v1/videos"]


def test_limit_and_has_more(client: httpx.Client) -> None:
    for _ in range(3):
        client.post("/v1/videos", json=CREATE)
    page = history(client, limit=2)
    assert len(page["data"]) == 2 and page["has_more"] is True
    assert history(client, limit=3)["has_more"] is False
    for bad in ("0", "101", "ten"):
        answer = client.get("/v1/requests", params={"limit": bad})
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] == "limit"


def test_default_limit_is_twenty(client: httpx.Client) -> None:
    for _ in range(21):
        client.post("/v1/videos", params={"dryRun": "true"}, json=CREATE)
    page = history(client)
    assert len(page["data"]) == 20 and page["has_more"] is True


def test_status_filter(client: httpx.Client) -> None:
    client.post("/v1/videos", json=CREATE)
    client.post("/v1/videos", json={**CREATE, "model": "no-such-model"})
    assert [i["status"] for i in history(client, status="rejected")["data"]] == ["rejected"]
    assert [i["status"] for i in history(client, status="completed")["data"]] == ["completed"]
    assert history(client, status="cancelled")["data"] == []
    assert client.get("/v1/requests", params={"status": "done"}).status_code == 400


def test_time_window_in_unix_seconds_and_iso(client: httpx.Client) -> None:
    client.post("/v1/videos", json=CREATE)
    time.sleep(0.05)
    middle = time.time()
    time.sleep(0.05)
    client.post("/v1/videos", json={**CREATE, "model": "sora-2-pro"})
    after = history(client, created_after=f"{middle:.3f}")["data"]
    assert [i["model"] for i in after] == ["sora-2-pro"]
    before = history(client, created_before=str(middle))["data"]
    assert [i["model"] for i in before] == ["sora-2"]
    iso = datetime.fromtimestamp(middle, UTC).isoformat()  # with +00:00
    assert [i["model"] for i in history(client, created_after=iso)["data"]] == ["sora-2-pro"]
    zulu = datetime.fromtimestamp(middle, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert [i["model"] for i in history(client, created_before=zulu)["data"]] == ["sora-2"]
    assert history(client, created_after=str(int(middle) + 3600))["data"] == []
    bad = client.get("/v1/requests", params={"created_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "created_after"


def test_a_create_whose_answer_was_lost_still_shows(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:reset-after")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/videos", json=CREATE)
    assert [i["status"] for i in history(client)["data"]] == ["completed"]
    served.app.inject("create:reset-before")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/videos", json=CREATE)
    assert len(history(client)["data"]) == 1


def test_key_id_filter_names_the_key_never_its_secret(served: Served) -> None:
    keys = ("lmnfl_key_a.secret-aaa", "lmnfl_key_b.secret-bbb")
    for key in keys:
        with httpx.Client(base_url=served.origin, headers={"Authorization": f"Bearer {key}"}) as c:
            assert c.post("/v1/videos", json=CREATE).status_code == 202
    with httpx.Client(base_url=served.origin, headers=AUTH) as client:
        only_a = history(client, key_id="key_a")["data"]
        everything = client.get("/v1/requests").text
    assert [item["key_id"] for item in only_a] == ["key_a"]
    assert "secret-aaa" not in everything and "secret-bbb" not in everything


def test_summary_counts_and_totals_every_match(client: httpx.Client) -> None:
    for seconds in ("4", "8"):
        client.post("/v1/videos", json={**CREATE, "seconds": seconds})
    page = history(client, limit=1, summary="true")
    assert len(page["data"]) == 1 and page["has_more"] is True
    assert page["summary"]["count"] == 2
    assert page["summary"]["total_cost"] == pytest.approx(1.2)  # 12 s of sora-2 at $0.10
    assert "summary" not in history(client)
    assert client.get("/v1/requests", params={"summary": "yes"}).status_code == 400


def test_a_request_whose_job_failed_becomes_an_upstream_failure(client: httpx.Client) -> None:
    created = client.post("/v1/videos", json={**CREATE, "emulator_outcome": "failed"}).json()
    for _ in range(400):
        if client.get(f"/v1/videos/{created['id']}").json()["status"] == "failed":
            break
        time.sleep(0.01)
    failures = history(client, status="upstream_failure")["data"]
    assert len(failures) == 1
    assert (failures[0]["cost"], failures[0]["error_code"]) == (0.0, "UPSTREAM_ERROR")
    assert history(client, status="completed")["data"] == []


def test_nanogpt_runs_are_not_in_lumenfall_history(client: httpx.Client) -> None:
    client.post("/api/generate-video", json=NANO)
    assert history(client)["data"] == []


# -- Lumenfall balance -------------------------------------------------------------------


def test_balance_falls_by_each_completed_jobs_cost(client: httpx.Client) -> None:
    assert balance(client) == 100.0
    client.post("/v1/videos", params={"dryRun": "true"}, json=CREATE)
    client.post("/v1/videos", json={**CREATE, "emulator_job_seconds": 60})  # still running
    client.post("/v1/videos", json={**CREATE, "emulator_outcome": "failed"})
    client.post("/v1/videos", json={**CREATE, "n": 2, "emulator_job_seconds": 0})
    keyed = {**CREATE, "idempotency_key": "once", "emulator_job_seconds": 0}
    client.post("/v1/videos", json=keyed)
    client.post("/v1/videos", json=keyed)  # a replay is not billed again
    time.sleep(0.25)
    assert balance(client) == pytest.approx(100.0 - 3 * 0.4)
    replay = history(client)["data"][0]
    assert replay["cost"] == 0.0


# -- NanoGPT recover ------------------------------------------------------------------------


def recover(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/generate-video/recover", params=params)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_recover_lists_runs_newest_first(client: httpx.Client) -> None:
    first = client.post("/api/generate-video", json={**NANO, "conversationUUID": "conv-1"}).json()
    second = client.post("/api/generate-video", json={**NANO, "model": "sora-2-pro"}).json()
    client.post("/v1/videos", json=CREATE)  # the other dialect's jobs are not NanoGPT runs
    runs = recover(client)
    assert [r["runId"] for r in runs] == [second["runId"], first["runId"]]
    for run in runs:
        assert set(run) == {"runId", "id", "model", "status", "createdAt", "conversationUUID"}
        assert run["runId"] == run["id"] and run["id"].startswith("vid_")
        assert ISO_MS.fullmatch(run["createdAt"])
    assert runs[0]["model"] == "sora-2-pro" and runs[0]["conversationUUID"] is None
    assert runs[1]["conversationUUID"] == "conv-1"


def test_recover_status_words(client: httpx.Client) -> None:
    def submit(**extra: Any) -> str:
        run_id: str = client.post("/api/generate-video", json={**NANO, **extra}).json()["runId"]
        return run_id

    pending = submit(emulator_job_seconds=60)
    processing = submit(emulator_job_seconds=2)
    completed = submit(emulator_job_seconds=0)
    failed = submit(emulator_job_seconds=0, emulator_outcome="failed")
    cancelled = submit(emulator_job_seconds=0, emulator_outcome="cancelled")
    time.sleep(0.4)
    status = {r["runId"]: r["status"] for r in recover(client)}
    assert status == {
        pending: "pending",
        processing: "processing",
        completed: "completed",
        failed: "failed",
        cancelled: "cancelled",
    }


def test_recover_filters(client: httpx.Client) -> None:
    client.post("/api/generate-video", json={**NANO, "conversationUUID": "conv-a"})
    client.post("/api/generate-video", json={**NANO, "conversationUUID": "conv-b"})
    client.post("/api/generate-video", json={**NANO, "model": "sora-2-pro"})
    assert [r["conversationUUID"] for r in recover(client, conversationUUID="conv-b")] == ["conv-b"]
    assert [r["model"] for r in recover(client, model="sora-2-pro")] == ["sora-2-pro"]
    assert len(recover(client, model="sora-2")) == 2
    assert recover(client, model="no-such-model") == []


def test_recover_limits(client: httpx.Client) -> None:
    ids = [client.post("/api/generate-video", json=NANO).json()["runId"] for _ in range(52)]
    assert [r["runId"] for r in recover(client)] == ids[::-1][:10]
    assert len(recover(client, limit=3)) == 3
    assert len(recover(client, limit=50)) == 50
    assert len(recover(client, limit=500)) == 50  # clamped to the documented maximum
    for bad in ("0", "-1", "many"):
        answer = client.get("/api/generate-video/recover", params={"limit": bad})
        assert answer.status_code == 400
        assert answer.json()["error"]["type"] == "INVALID_REQUEST"


def test_recover_needs_a_key(client: httpx.Client) -> None:
    answer = httpx.get(str(client.base_url) + "/api/generate-video/recover")
    assert answer.status_code == 401
