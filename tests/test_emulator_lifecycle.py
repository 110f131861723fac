"""The emulator's DELETE /videos/{id}: Lumenfall cancels an unfinished job and deletes a
finished one; the OpenAI spec's DELETE deletes. A clock the test moves stands in for time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from framecast.emulator import EmulatorApp, EmulatorConfig
from framecast.emulator.transport import EmulatorTransport

T0 = 1_800_000_000.0
AUTH = {"Authorization": "Bearer lmnfl_k1.secret"}
LONG = {"prompt": "a lighthouse", "size": "1280x720", "seconds": "8", "emulator_job_seconds": 60}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client(app: EmulatorApp, prefix: str = "/openai/v1") -> httpx.Client:
    return httpx.Client(
        transport=EmulatorTransport(app), base_url="http://e.test" + prefix, headers=AUTH
    )


@pytest.fixture
def lumenfall(clock: Clock) -> Iterator[httpx.Client]:
    with client(EmulatorApp(EmulatorConfig(timeline="steady"), clock=clock)) as api:
        yield api


@pytest.fixture
def strict(clock: Clock) -> Iterator[httpx.Client]:
    config = EmulatorConfig(dialect="openai", timeline="steady")
    with client(EmulatorApp(config, clock=clock), "/v1") as api:
        yield api


def test_lumenfall_cancels_an_unfinished_job_and_it_stays_cancelled(
    lumenfall: httpx.Client, clock: Clock
) -> None:
    video_id = lumenfall.post("/videos", json=LONG).json()["id"]
    clock.now += 20  # in progress

    answer = lumenfall.delete(f"/videos/{video_id}")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["object"], body["id"], body["status"]) == ("video", video_id, "cancelled")
    assert body["metadata"]["cost"] == 0.0 and "cost_estimate" not in body["metadata"]
    assert body["output"] is None and body["completed_at"] == int(T0 + 20)
    clock.now += 3600  # long past the time it was planned to finish
    later = lumenfall.get(f"/videos/{video_id}").json()
    assert (later["status"], later["metadata"]["cost"], later["output"]) == ("cancelled", 0.0, None)
    assert lumenfall.post(f"/videos/{video_id}/remix", json={"prompt": "y"}).status_code == 400
    content = lumenfall.get(f"/videos/{video_id}/content")
    assert content.status_code == 400 and "cancelled" in content.json()["error"]["message"]


def test_the_request_history_ends_cancelled_and_bills_nothing(clock: Clock) -> None:
    app = EmulatorApp(EmulatorConfig(timeline="steady"), clock=clock)
    with client(app) as api, client(app, "/v1") as native:
        video_id = api.post("/videos", json=LONG).json()["id"]
        assert native.get("/requests").json()["data"][0]["status"] == "completed"  # accepted
        api.delete(f"/videos/{video_id}")
        clock.now += 3600
        (item,) = native.get("/requests").json()["data"]
        balance = native.get("/balance").json()["available"]["amount"]
        cancelled = native.get("/requests", params={"status": "cancelled"}).json()["data"]

    assert (item["status"], item["cost"]) == ("cancelled", 0.0)
    assert [i["id"] for i in cancelled] == [item["id"]]
    assert balance == 100.0  # nothing was billed


def test_a_finished_job_is_deleted_with_its_assets(lumenfall: httpx.Client, clock: Clock) -> None:
    video_id = lumenfall.post("/videos", json={**LONG, "emulator_job_seconds": 1}).json()["id"]
    clock.now += 2
    done = lumenfall.get(f"/videos/{video_id}").json()
    assert done["status"] == "completed"

    def media() -> httpx.Response:
        link = lumenfall.build_request("GET", done["output"]["url"])
        del link.headers["authorization"]  # a signed link takes no key
        return lumenfall.send(link)

    assert media().status_code == 200

    answer = lumenfall.delete(f"/videos/{video_id}")

    assert answer.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    assert lumenfall.get(f"/videos/{video_id}").status_code == 404
    assert lumenfall.get(f"/videos/{video_id}/content").status_code == 404
    assert media().status_code == 404  # the signed link no longer serves
    assert lumenfall.delete(f"/videos/{video_id}").status_code == 404


def test_a_cancelled_job_is_deleted_by_a_second_delete(
    lumenfall: httpx.Client, clock: Clock
) -> None:
    video_id = lumenfall.post("/videos", json=LONG).json()["id"]
    assert lumenfall.delete(f"/videos/{video_id}").json()["status"] == "cancelled"

    again = lumenfall.delete(f"/videos/{video_id}")

    assert again.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    assert lumenfall.get(f"/videos/{video_id}").status_code == 404


def test_the_openai_dialect_deletes_whatever_the_state(strict: httpx.Client, clock: Clock) -> None:
    running = strict.post("/videos", json={"prompt": "x", "emulator_job_seconds": 60}).json()
    clock.now += 1
    assert strict.get(f"/videos/{running['id']}").json()["status"] in ("queued", "in_progress")

    answer = strict.delete(f"/videos/{running['id']}")

    assert answer.status_code == 200
    assert answer.json() == {"id": running["id"], "object": "video.deleted", "deleted": True}
    assert strict.get(f"/videos/{running['id']}").status_code == 404
    assert [v["id"] for v in strict.get("/videos").json()["data"]] == []


class Receiver(BaseHTTPRequestHandler):
    deliveries: ClassVar[list[dict[str, Any]]] = []
    arrived: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.deliveries.append(json.loads(body))
        Receiver.arrived.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_cancel_fires_the_webhook_at_once_and_only_once(clock: Clock) -> None:
    Receiver.deliveries, Receiver.arrived = [], threading.Event()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    # The planned finish is an hour away (the clock does not move the timer): only the
    # cancellation can deliver during this test.
    app = EmulatorApp(EmulatorConfig(timeline="steady"), clock=clock)
    try:
        with client(app) as api:
            created = api.post(
                "/videos", json={**LONG, "emulator_job_seconds": 3600, "webhook_url": url}
            )
            video_id = created.json()["id"]
            assert not Receiver.arrived.wait(0.2)  # nothing before the cancel

            api.delete(f"/videos/{video_id}")

            assert Receiver.arrived.wait(10)
    finally:
        receiver.shutdown()
    (event,) = Receiver.deliveries
    assert event["type"] == "video.cancelled"
    assert (event["data"]["id"], event["data"]["status"]) == (video_id, "cancelled")


def test_the_timer_of_a_cancelled_job_sends_nothing(clock: Clock) -> None:
    """The event planned for the job's end stays silent once a cancel sent its own."""
    app = EmulatorApp(EmulatorConfig(timeline="steady"), clock=clock)
    sent: list[Any] = []
    app.videos.webhooks.schedule = lambda url, delay, event: sent.append(event)  # type: ignore[method-assign]
    with client(app) as api:
        hook = {"webhook_url": "http://127.0.0.1:9/h"}
        video_id = api.post("/videos", json={**LONG, **hook}).json()["id"]
        api.delete(f"/videos/{video_id}")
        planned, on_cancel = sent

        assert planned() is None
        assert on_cancel()["type"] == "video.cancelled"
