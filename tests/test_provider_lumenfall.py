"""The lumenfall provider against the emulator speaking Lumenfall's dialect over loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import TERMINAL, Served, invoke, journal_rows, plain, probe_mp4, serve

BOAT = "a paper boat drifting down a rainy street"
KEY = "lmnfl_test.secret"


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3, webhook_retry_delays=(0.1, 0.2)))
    monkeypatch.setenv("LUMENFALL_API_KEY", KEY)
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    yield served
    served.server.stop()


def server_jobs(served: Served) -> list[dict[str, Any]]:
    answer = httpx.get(
        served.base_url + "/videos", headers={"Authorization": "Bearer x"}, params={"limit": 100}
    )
    return answer.json()["data"]  # type: ignore[no-any-return]


def test_generate_completes_with_cost_and_routing(lumenfall: Served) -> None:
    result = invoke(
        "generate", BOAT, "--model", "sora-2", "--seconds", "8", "--aspect-ratio", "16:9", "--json"
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["status"], doc["size"], doc["seconds"]) == (
        "lumenfall",
        "completed",
        "1280x720",
        8,
    )
    assert doc["cost"] == pytest.approx(0.8)
    assert doc["currency"] == "USD"
    assert (doc["executed_model"], doc["upstream_provider"]) == ("emulator/sora-2", "emulator")
    assert doc["output"]["url"].startswith(lumenfall.origin + "/media/")
    assert probe_mp4(Path(doc["output"]["path"])).duration == pytest.approx(8.0)
    create = lumenfall.seen("POST", "/openai/v1/videos")
    assert [(s.content_type, s.had_authorization) for s in create] == [("application/json", True)]
    assert not any(s.had_authorization for s in lumenfall.seen("GET", "/media/"))
    status = invoke("status", "@last", env=TERMINAL)
    assert status.exit_code == 0, status.output
    assert re.search(r"^cost\s+\$0\.80\s*$", plain(status.stdout), flags=re.M)


def test_the_model_is_required(lumenfall: Served) -> None:
    result = invoke("generate", BOAT)
    assert result.exit_code == 2
    assert "--model is required with lumenfall" in result.stderr
    assert lumenfall.seen("POST") == []


@pytest.mark.parametrize(("outcome", "status"), [("failed", "failed"), ("cancelled", "cancelled")])
def test_each_failing_terminal_status_exits_6(lumenfall: Served, outcome: str, status: str) -> None:
    result = invoke("generate", BOAT, "-m", "sora-2", "-P", f"emulator_outcome={outcome}", "--json")

    assert result.exit_code == 6
    doc = json.loads(result.stdout)
    assert doc["status"] == status
    assert doc["cost"] == 0.0
    assert journal_rows(Path(__import__("os").environ["FRAMECAST_DATA_DIR"]))[0]["status"] == status


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["-m", "no-such-model"], 4, "HTTP 404 MODEL_NOT_FOUND"),
        (
            ["-m", "sora-2", "-P", "n=7"],
            4,
            "HTTP 400 INVALID_REQUEST: 'n' must be between 1 and 4.",
        ),
    ],
)
def test_error_envelopes(lumenfall: Served, args: list[str], code: int, text: str) -> None:
    result = invoke("generate", BOAT, *args)
    assert result.exit_code == code
    assert text in result.stderr


def test_a_refused_key(monkeypatch: pytest.MonkeyPatch) -> None:
    served = serve(EmulatorConfig(job_seconds=0.3, api_key="lmnfl_right"))
    try:
        monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_wrong")
        result = invoke(
            "generate",
            BOAT,
            "--provider",
            "lumenfall",
            "-m",
            "sora-2",
            "--base-url",
            served.base_url,
        )
    finally:
        served.server.stop()
    assert result.exit_code == 3
    assert "LUMENFALL_API_KEY" in result.stderr


def test_native_n_makes_several_videos_in_one_request(lumenfall: Served) -> None:
    result = invoke("generate", BOAT, "-m", "sora-2", "--n", "2", "-o", "clip.mp4", "--json")

    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(docs) == 2 and docs[0]["id"] != docs[1]["id"]
    assert [d["output"]["path"] for d in docs] == ["clip-1.mp4", "clip-2.mp4"]
    assert all(probe_mp4(Path(d["output"]["path"])).frames == 96 for d in docs)
    assert len(lumenfall.seen("POST", "/videos")) == 1


def test_an_idempotency_key_replays_the_same_job(lumenfall: Served) -> None:
    first = invoke("generate", BOAT, "-m", "sora-2", "--idempotency-key", "run-42", "--no-wait")
    second = invoke(
        "generate", BOAT, "-m", "sora-2", "--idempotency-key", "run-42", "--no-wait", "--again"
    )

    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
    assert len(server_jobs(lumenfall)) == 1, "the second submission created nothing"
    assert len(lumenfall.seen("POST", "/videos")) == 2


def test_every_submission_carries_an_idempotency_key(lumenfall: Served) -> None:
    assert invoke("generate", BOAT, "-m", "sora-2", "--no-wait").exit_code == 0
    request = json.loads(
        journal_rows(Path(__import__("os").environ["FRAMECAST_DATA_DIR"]))[0]["request"]
    )
    assert request["idempotency_key"].startswith("framecast-")


def test_local_images_go_as_multipart_uploads(lumenfall: Served, tmp_path: Path) -> None:
    image = tmp_path / "frame.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))

    result = invoke(
        "generate", BOAT, "-m", "sora-2", "--image", str(image), "--metadata", "team=a", "-q"
    )

    assert result.exit_code == 0, result.output
    assert [s.content_type for s in lumenfall.seen("POST", "/videos")] == ["multipart/form-data"]


def test_image_urls_go_as_json_references(lumenfall: Served) -> None:
    result = invoke(
        "generate", BOAT, "-m", "sora-2", "--image", "https://example.invalid/a.png", "-q"
    )
    assert result.exit_code == 0, result.output
    assert [s.content_type for s in lumenfall.seen("POST", "/videos")] == ["application/json"]


def test_video_to_video_on_a_model_that_takes_it(lumenfall: Served) -> None:
    ok = invoke(
        "generate",
        BOAT,
        "-m",
        "grok-imagine-video",
        "--video",
        "https://example.invalid/v.mp4",
        "-q",
    )
    refused = invoke("generate", BOAT, "-m", "sora-2", "--video", "https://example.invalid/v.mp4")

    assert ok.exit_code == 0, ok.output
    assert refused.exit_code == 2
    assert "sora-2 takes no input video" in refused.stderr


def test_only_the_video_is_delivered(lumenfall: Served) -> None:
    assert invoke("generate", BOAT, "-m", "sora-2", "-q").exit_code == 0
    result = invoke("download", "@last", "--variant", "thumbnail")
    assert result.exit_code == 2
    assert "delivers the video only" in result.stderr


def test_cancel_is_a_delete_that_keeps_the_job_cancelled(lumenfall: Served) -> None:
    from framecast.domain import JobRequest, JobStatus
    from framecast.providers.lumenfall import LumenfallProvider

    with LumenfallProvider(base_url=lumenfall.origin + "/openai/v1", api_key=KEY) as api:
        request = JobRequest(BOAT, model="sora-2", params={"emulator_job_seconds": 60})
        (job,) = api.submit(request)
        answer = api.cancel(job.id)
    assert answer.job is not None and answer.job.status is JobStatus.CANCELLED
    assert not answer.deleted and not answer.raced
    assert lumenfall.seen("DELETE", f"/videos/{job.id}")
    assert [(j["id"], j["status"]) for j in server_jobs(lumenfall)] == [(job.id, "cancelled")]


class Receiver(BaseHTTPRequestHandler):
    deliveries: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhooks_are_signed_per_standard_webhooks(lumenfall: Served) -> None:
    Receiver.deliveries = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        result = invoke("generate", BOAT, "-m", "sora-2", "--webhook-url", url, "--json")
        deadline = time.monotonic() + 10
        while not Receiver.deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        receiver.shutdown()

    assert result.exit_code == 0, result.output
    job_id = json.loads(result.stdout)["id"]
    headers, body = Receiver.deliveries[0]
    secret = httpx.get(
        lumenfall.base_url + "/webhooks/secret", headers={"Authorization": "Bearer x"}
    ).json()["key"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = hmac.new(
        base64.b64decode(secret.removeprefix("whsec_")), signed, hashlib.sha256
    ).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
    assert headers["webhook-id"] == f"msg_{job_id}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 300
    event = json.loads(body)
    assert event["type"] == "video.completed"
    assert (event["data"]["id"], event["data"]["status"]) == (job_id, "completed")
    assert event["data"]["output"]["url"]


def test_webhooks_only_to_loopback(lumenfall: Served) -> None:
    result = invoke(
        "generate", BOAT, "-m", "sora-2", "--webhook-url", "https://hooks.example.invalid/x"
    )
    assert result.exit_code == 4
    assert "loopback" in result.stderr
    assert server_jobs(lumenfall) == []
