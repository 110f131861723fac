"""Fault injection in the emulator: the SPEC grammar, each fault over a real loopback
socket (spoken to with httpx directly), the per-request header, deterministic
schedules, and the in-process transport's equivalents."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from framecast.emulator import EmulatorApp, EmulatorConfig
from framecast.emulator.faults import FaultPlan, Rule, classify, parse
from framecast.emulator.transport import EmulatorTransport
from tests.conftest import FRAMECAST, Served, invoke, reap, serve, spawn

AUTH = {"Authorization": "Bearer sk-test"}
CREATE = {"prompt": "a lighthouse", "seconds": "4", "size": "1280x720"}
NANO_CREATE = {"model": "sora-2", "prompt": "a lighthouse", "seconds": "4"}


@pytest.fixture
def served() -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2))
    yield served
    served.server.stop()


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.origin, headers=AUTH, timeout=5) as client:
        yield client


def finished(client: httpx.Client, video_id: str, prefix: str = "/v1") -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = client.get(f"{prefix}/videos/{video_id}").json()
        if body["status"] not in ("queued", "in_progress"):
            return body
        time.sleep(0.02)
    raise AssertionError("the emulated job never finished")


def read_cut(client: httpx.Client) -> tuple[int, bytes, Exception | None]:
    """Stream a create's answer: its announced length, the bytes that came, how it broke."""
    received = b""
    with client.stream("POST", "/v1/videos", json=CREATE) as answer:
        length = int(answer.headers["content-length"])
        try:
            for chunk in answer.iter_bytes():
                received += chunk
        except httpx.RemoteProtocolError as exc:
            return length, received, exc
    return length, received, None


# -- the grammar ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("429", Rule("any", "429", 1.0)),
        ("create:429=2.5", Rule("create", "429", 2.5)),
        ("status:500*3", Rule("status", "500", None, 3)),
        ("list:502*", Rule("list", "502", None, None)),
        ("content:503*inf+2", Rule("content", "503", None, None, None, 2)),
        ("503=7", Rule("any", "503", 7.0)),
        ("any:slow", Rule("any", "slow", 5.0)),
        ("slow=0.25%12.5", Rule("any", "slow", 0.25, None, 12.5)),
        ("create:reset-after+1", Rule("create", "reset-after", None, 1, None, 1)),
        ("reset-before", Rule("any", "reset-before")),
        ("cut", Rule("any", "cut")),
        ("cut-nolength*2", Rule("any", "cut-nolength", None, 2)),
        ("malformed", Rule("any", "malformed")),
        ("html%100", Rule("any", "html", None, None, 100.0)),
        ("fail", Rule("create", "fail")),
        ("expire*2", Rule("content", "expire", None, 2)),
        (" Create:500 ", Rule("create", "500")),
    ],
)
def test_parse_valid_rules(spec: str, rule: Rule) -> None:
    assert parse(spec) == [rule]


def test_parse_several_rules_and_the_empty_spec() -> None:
    assert parse("create:reset-after, status:429=2*3") == [
        Rule("create", "reset-after"),
        Rule("status", "429", 2.0, 3),
    ]
    assert parse("") == []
    assert parse("  ") == []


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("teapot", "unknown fault 'teapot'"),
        ("upload:500", "unknown target 'upload'"),
        ("500=3", "500 takes no =ARG"),
        ("cut=1", "cut takes no =ARG"),
        ("429=soon", "=ARG must be a non-negative number"),
        ("slow=-1", "=ARG must be a non-negative number"),
        ("429=inf", "=ARG must be a non-negative number"),
        ("500*0", "*TIMES must be a whole number of at least 1"),
        ("500*two", "*TIMES must be a whole number"),
        ("500%101", "%PERCENT must be at most 100"),
        ("500%", "%PERCENT must be a non-negative number"),
        ("500+x", "+SKIP must be a whole number"),
        ("500*2%3", "*TIMES must be a whole number"),
        ("status:fail", "fail applies only to create requests"),
        ("any:expire", "expire applies only to content requests"),
        ("create:500,", "is not of the form"),
        ("create:", "is not of the form"),
        ("a:b:500", "is not of the form"),
    ],
)
def test_parse_rejects_bad_specs_clearly(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse(spec)


def test_a_bad_spec_in_the_config_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        EmulatorApp(EmulatorConfig(faults="create:teapot"))


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("POST", "/v1/videos", "create"),
        ("POST", "/openai/v1/videos", "create"),
        ("POST", "/v1/videos/video_1/remix", "create"),
        ("POST", "/openai/v1/videos/extensions", "create"),
        ("POST", "/v1/videos/edits", "create"),
        ("POST", "/api/generate-video", "create"),
        ("POST", "/api/generate-video/extend", "create"),
        ("POST", "/v1/videos/characters", "other"),
        ("GET", "/v1/videos/video_1", "status"),
        ("GET", "/openai/v1/videos/video_1", "status"),
        ("GET", "/api/video/status", "status"),
        ("GET", "/v1/videos/video_1/content", "content"),
        ("GET", "/media/video_1/video.mp4", "content"),
        ("GET", "/v1/videos", "list"),
        ("GET", "/openai/v1/videos/", "list"),
        ("GET", "/v1/requests", "list"),
        ("GET", "/openai/v1/requests", "other"),
        ("GET", "/api/generate-video/recover", "list"),
        ("DELETE", "/v1/videos/video_1", "other"),
        ("GET", "/v1/models", "other"),
        ("GET", "/v1/balance", "other"),
    ],
)
def test_which_requests_each_target_names(method: str, path: str, target: str) -> None:
    assert classify(method, path) == target


# -- schedules -------------------------------------------------------------------


def test_times_and_skip_count_matching_requests_only() -> None:
    plan = FaultPlan.parse("create:500*2+1")
    fired = [plan.pick(kind) is not None for kind in ("status", "create", "list", "create")]
    fired += [plan.pick("create") is not None for _ in range(3)]
    assert fired == [False, False, False, True, True, False, False]


def test_rules_are_tried_in_order_and_an_exhausted_rule_gives_way() -> None:
    plan = FaultPlan.parse("create:500,any:502*2")
    picks = [plan.pick(k) for k in ("create", "create", "status", "create")]
    assert [None if r is None else r.fault for r in picks] == ["500", "502", "502", None]


def test_every_request_with_a_bare_star() -> None:
    plan = FaultPlan.parse("status:503*")
    assert all(plan.pick("status") is not None for _ in range(50))


def test_percent_draws_replay_with_the_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan.parse("status:503%30", seed)
        return [plan.pick("status") is not None for _ in range(200)]

    first = pattern(7)
    assert first == pattern(7)
    assert first != pattern(8)
    assert 30 <= sum(first) <= 90  # about 30% of 200
    assert not any(FaultPlan.parse("503%0").pick("any") for _ in range(100))


def test_percent_over_the_socket_replays_with_the_seed(
    served: Served, client: httpx.Client
) -> None:
    video_id = client.post("/v1/videos", json=CREATE).json()["id"]

    def statuses(seed: int) -> list[int]:
        served.app.inject("status:503%50+2", seed)
        return [client.get(f"/v1/videos/{video_id}").status_code for _ in range(24)]

    first = statuses(3)
    assert first[:2] == [200, 200]  # skipped
    assert set(first[2:]) == {200, 503}
    assert statuses(3) == first


def test_counters_hold_under_concurrent_requests(served: Served) -> None:
    served.app.inject("create:500*10")
    codes: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=served.origin, headers=AUTH, timeout=10) as own:
            for _ in range(5):
                code = own.post("/v1/videos", json=CREATE).status_code
                with lock:
                    codes.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [202] * 30 + [500] * 10
    assert served.app.jobs_created() == 30


def test_inject_replaces_the_plan_and_resets_its_counters(
    served: Served, client: httpx.Client
) -> None:
    served.app.inject("create:503")
    assert client.post("/v1/videos", json=CREATE).status_code == 503
    assert client.post("/v1/videos", json=CREATE).status_code == 202
    served.app.inject("create:503")
    assert client.post("/v1/videos", json=CREATE).status_code == 503
    served.app.inject("")
    assert client.post("/v1/videos", json=CREATE).status_code == 202
    with pytest.raises(ValueError, match="unknown target"):
        served.app.inject("uploads:500")


def test_faults_from_the_config() -> None:
    served = serve(EmulatorConfig(job_seconds=0.2, faults="create:502+1"))
    try:
        with httpx.Client(base_url=served.origin, headers=AUTH) as client:
            codes = [client.post("/v1/videos", json=CREATE).status_code for _ in range(3)]
        assert codes == [202, 502, 202]
    finally:
        served.server.stop()


# -- each fault over the socket ---------------------------------------------------


def test_429_carries_retry_after_and_creates_nothing(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:429=2.5")
    answer = client.post("/openai/v1/videos", json=CREATE)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "3"
    assert answer.headers["retry-after-ms"] == "2500"
    assert answer.json()["error"]["code"] == "RATE_LIMITED"
    assert served.app.jobs_created() == 0
    assert client.post("/openai/v1/videos", json=CREATE).status_code == 202
    assert served.app.jobs_created() == 1


def test_429_defaults_to_one_second(served: Served, client: httpx.Client) -> None:
    served.app.inject("429")
    answer = client.get("/v1/videos")
    assert (answer.headers["retry-after"], answer.headers["retry-after-ms"]) == ("1", "1000")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_answer_in_the_openai_envelope(
    served: Served, client: httpx.Client, status: int
) -> None:
    served.app.inject(f"create:{status}")
    answer = client.post("/v1/videos", json=CREATE)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["type"] == "server_error" and error["message"]
    assert "retry-after" not in answer.headers
    assert served.app.jobs_created() == 0


def test_nanogpt_gets_its_own_error_envelope(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:429=1,status:503=4")
    answer = client.post("/api/generate-video", json=NANO_CREATE)
    assert answer.status_code == 429
    assert answer.json()["error"]["type"] == "RATE_LIMITED" and answer.json()["error"]["message"]
    assert answer.headers["retry-after"] == "1"
    run = client.post("/api/generate-video", json=NANO_CREATE).json()["runId"]
    polled = client.get("/api/video/status", params={"requestId": run})
    assert polled.status_code == 503
    assert polled.headers["retry-after"] == "4"
    assert polled.json()["error"]["type"] == "SERVICE_UNAVAILABLE"
    assert served.app.jobs_created() == 1


def test_reset_before_drops_the_connection_and_creates_nothing(
    served: Served, client: httpx.Client
) -> None:
    served.app.inject("create:reset-before")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/videos", json=CREATE)
    assert served.app.jobs_created() == 0
    assert client.get("/v1/videos").json()["data"] == []
    assert client.post("/v1/videos", json=CREATE).status_code == 202


def test_reset_after_creates_exactly_one_job(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:reset-after")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/videos", json=CREATE)
    assert served.app.jobs_created() == 1
    listed = client.get("/v1/videos").json()["data"]
    assert [v["prompt"] for v in listed] == ["a lighthouse"]


def _raw_exchange(origin: str, request: bytes) -> tuple[bytes, BaseException | None]:
    """Send raw bytes; what came back before the connection ended, and how it ended."""
    host, port = origin.removeprefix("http://").rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as exc:
            return received, exc
    return received, None


def test_a_reset_is_a_real_rst(served: Served) -> None:
    served.app.inject("reset-before")
    received, ended = _raw_exchange(
        served.origin, b"GET /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
    )
    assert received == b""
    if sys.platform.startswith("linux"):
        assert isinstance(ended, ConnectionResetError)


def test_slow_outlasts_a_read_timeout_after_handling(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:slow=1.5")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/videos", json=CREATE, timeout=httpx.Timeout(5, read=0.2))
    assert time.monotonic() - started < 1.2
    assert served.app.jobs_created() == 1


def test_slow_answers_late_to_a_patient_client(served: Served, client: httpx.Client) -> None:
    served.app.inject("list:slow=0.3")
    started = time.monotonic()
    answer = client.get("/v1/videos")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_cut_sends_the_full_length_then_half_the_body(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:cut")
    length, received, broke = read_cut(client)
    assert isinstance(broke, httpx.RemoteProtocolError)
    assert len(received) == length // 2
    assert served.app.jobs_created() == 1


def test_cut_nolength_ends_cleanly_with_a_short_body(served: Served, client: httpx.Client) -> None:
    video_id = client.post("/v1/videos", json=CREATE).json()["id"]
    full = client.get(f"/v1/videos/{video_id}")
    served.app.inject("status:cut-nolength")
    answer = client.get(f"/v1/videos/{video_id}")
    assert answer.status_code == 200
    assert "content-length" not in answer.headers
    assert answer.headers["connection"] == "close"
    assert 0 < len(answer.content) < len(full.content)
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_malformed_is_json_labelled_but_unparsable(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:malformed")
    answer = client.post("/v1/videos", json=CREATE)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.content.startswith(b"{")
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert served.app.jobs_created() == 1


def test_html_answers_a_small_page(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:html")
    answer = client.post("/v1/videos", json=CREATE)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.text.startswith("<html>") and 30 <= len(answer.content) <= 60
    assert served.app.jobs_created() == 1


def test_fail_makes_the_created_job_fail(served: Served, client: httpx.Client) -> None:
    served.app.inject("fail")
    failed = client.post("/v1/videos", json=CREATE).json()["id"]
    fine = client.post("/v1/videos", json=CREATE).json()["id"]
    assert finished(client, failed)["status"] == "failed"
    assert finished(client, fine)["status"] == "completed"


def test_fail_reaches_nanogpt_jobs(served: Served, client: httpx.Client) -> None:
    served.app.inject("fail")
    run = client.post("/api/generate-video", json=NANO_CREATE).json()["runId"]
    for _ in range(200):
        data = client.get("/api/video/status", params={"requestId": run}).json()["data"]
        if data["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
            break
        time.sleep(0.02)
    assert data["status"] == "FAILED"


def test_expire_then_a_fresh_link_works(served: Served, client: httpx.Client) -> None:
    video_id = client.post("/v1/videos", json=CREATE).json()["id"]
    view = finished(client, video_id)
    served.app.inject("expire*2")
    media = httpx.get(view["output"]["url"])
    assert media.status_code == 410
    assert "expired" in media.json()["error"]["message"]
    content = client.get(f"/v1/videos/{video_id}/content")
    assert content.status_code == 404
    assert content.json()["error"]["code"] == "NOT_FOUND"
    # After TIMES uses the answers are normal again: re-fetching the job and retrying works.
    fresh = finished(client, video_id)["output"]["url"]
    assert httpx.get(fresh).status_code == 200
    assert client.get(f"/v1/videos/{video_id}/content").status_code == 200


def test_exactly_one_job_per_create_request(served: Served, client: httpx.Client) -> None:
    client.post("/v1/videos", json=CREATE)
    client.post("/v1/videos", json={**CREATE, "n": 2})
    client.post("/v1/videos", params={"dryRun": "true"}, json=CREATE)
    keyed = {**CREATE, "idempotency_key": "k-1"}
    client.post("/v1/videos", json=keyed)
    client.post("/v1/videos", json=keyed)
    client.post("/api/generate-video", json=NANO_CREATE)
    assert served.app.jobs_created() == 5


# -- the per-request header --------------------------------------------------------


def test_the_header_faults_that_request_only(served: Served, client: httpx.Client) -> None:
    answer = client.post("/v1/videos", json=CREATE, headers={"X-Emulator-Faults": "503*5+3"})
    assert answer.status_code == 503  # TIMES and SKIP are ignored
    assert client.post("/v1/videos", json=CREATE).status_code == 202
    other = client.get("/v1/videos", headers={"X-Emulator-Faults": "create:500"})
    assert other.status_code == 200  # the target does not match


def test_the_header_does_transport_faults_too(served: Served, client: httpx.Client) -> None:
    with pytest.raises(httpx.TransportError):
        client.post("/v1/videos", json=CREATE, headers={"X-Emulator-Faults": "reset-after"})
    assert served.app.jobs_created() == 1


def test_the_header_leaves_the_plan_untouched(served: Served, client: httpx.Client) -> None:
    served.app.inject("create:502")
    headed = client.post("/v1/videos", json=CREATE, headers={"X-Emulator-Faults": "create:429"})
    assert headed.status_code == 429
    assert client.post("/v1/videos", json=CREATE).status_code == 502


def test_a_bad_header_is_a_400_in_the_dialect(client: httpx.Client) -> None:
    answer = client.get("/v1/videos", headers={"X-Emulator-Faults": "teapot"})
    assert answer.status_code == 400
    assert "unknown fault 'teapot'" in answer.json()["error"]["message"]
    nano = client.get("/api/generate-video/recover", headers={"X-Emulator-Faults": "x:1"})
    assert nano.status_code == 400 and nano.json()["error"]["type"] == "INVALID_REQUEST"


# -- the command line ------------------------------------------------------------------


def test_the_cli_refuses_a_bad_spec() -> None:
    result = invoke("emulator", "--faults", "create:teapot")
    assert result.exit_code == 2
    assert "unknown fault 'teapot'" in result.output


@pytest.mark.slow
def test_the_cli_serves_faults_and_logs_each_request() -> None:
    process = spawn(
        [*FRAMECAST, "emulator", "-v", "--faults", "create:500"],
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        with httpx.Client(base_url=base, headers=AUTH) as client:
            assert client.post("/videos", json=CREATE).status_code == 500
            assert client.get("/videos", params={"limit": "5"}).status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        reap(process)
    assert process.returncode == 0, stderr
    assert "POST /v1/videos 500 (fault 500)" in stderr
    assert "GET /v1/videos 200" in stderr
    assert "limit=" not in stderr


# -- the in-process transport ----------------------------------------------------------


@pytest.fixture
def inproc() -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    app = EmulatorApp(EmulatorConfig(job_seconds=0.2))
    transport = EmulatorTransport(app)
    with httpx.Client(transport=transport, base_url="http://emulator.test", headers=AUTH) as c:
        yield app, c


@pytest.mark.parametrize(("fault", "jobs"), [("reset-before", 0), ("reset-after", 1)])
def test_inprocess_resets_raise_remote_protocol_error(
    inproc: tuple[EmulatorApp, httpx.Client], fault: str, jobs: int
) -> None:
    app, client = inproc
    app.inject(f"create:{fault}")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/videos", json=CREATE)
    assert app.jobs_created() == jobs


def test_inprocess_slow_times_out_at_once(inproc: tuple[EmulatorApp, httpx.Client]) -> None:
    app, client = inproc
    app.inject("create:slow=30")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/videos", json=CREATE, timeout=httpx.Timeout(5, read=1))
    assert time.monotonic() - started < 1
    assert app.jobs_created() == 1
    app.inject("create:slow=0.5")  # shorter than the read timeout: answered
    assert client.post("/v1/videos", json=CREATE, timeout=5).status_code == 202


def test_inprocess_cut_raises_mid_body(inproc: tuple[EmulatorApp, httpx.Client]) -> None:
    app, client = inproc
    app.inject("create:cut")
    length, received, broke = read_cut(client)
    assert isinstance(broke, httpx.RemoteProtocolError)
    assert len(received) == length // 2
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/videos", json=CREATE, headers={"X-Emulator-Faults": "cut"})
    assert app.jobs_created() == 2


def test_inprocess_cut_nolength_is_short(inproc: tuple[EmulatorApp, httpx.Client]) -> None:
    app, client = inproc
    app.inject("create:cut-nolength")
    answer = client.post("/v1/videos", json=CREATE)
    assert answer.status_code == 202
    assert "content-length" not in answer.headers
    with pytest.raises(json.JSONDecodeError):
        answer.json()


@pytest.mark.parametrize(
    ("fault", "status", "content_type"),
    [
        ("malformed", 200, "application/json"),
        ("html", 200, "text/html; charset=utf-8"),
        ("429=0.5", 429, "application/json"),
        ("502", 502, "application/json"),
    ],
)
def test_inprocess_answer_faults(
    inproc: tuple[EmulatorApp, httpx.Client], fault: str, status: int, content_type: str
) -> None:
    _, client = inproc
    answer = client.post("/v1/videos", json=CREATE, headers={"X-Emulator-Faults": fault})
    assert (answer.status_code, answer.headers["content-type"]) == (status, content_type)
    if status == 429:
        assert (answer.headers["retry-after"], answer.headers["retry-after-ms"]) == ("1", "500")
