"""Retries in one place (ApiClient.request), bounded answers, and errors from any envelope."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from framecast.errors import (
    AuthError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RequestRejected,
)
from framecast.http import MAX_JSON_BYTES, ApiClient, MalformedAnswer, RetryPolicy, retry_after

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(
    *answers: int | type[Exception] | bytes, headers: dict[str, str] | None = None
) -> tuple[Handler, list[str]]:
    """A tiny server that answers with each status (or raises each error, or sends each
    raw 200 body) in turn; the last answer repeats."""
    seen: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, bytes):
            return httpx.Response(200, headers=headers, content=answer)
        if isinstance(answer, type):
            raise answer("scripted failure")
        return httpx.Response(answer, headers=headers, json={"ok": answer < 400})

    return handler, seen


def client(
    handler: Handler,
    sleeps: list[float],
    retries: int = 3,
    *,
    max_wait: float = 60.0,
    key: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ApiClient:
    return ApiClient(
        "http://api.test/v1",
        auth_headers={"authorization": f"Bearer {key}"} if key else None,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_retries=retries, max_wait=max_wait),
        sleep=sleeps.append,
        clock=clock,
    )


@pytest.mark.parametrize("failures", [0, 1, 2, 3])
def test_get_is_retried_on_5xx_until_it_succeeds(failures: int) -> None:
    handler, seen = scripted(*([503] * failures), 200)
    sleeps: list[float] = []

    answer = client(handler, sleeps).request("GET", "videos/v")

    assert answer.status == 200
    assert answer.data == {"ok": True}
    assert len(seen) == failures + 1
    assert len(sleeps) == failures
    assert all(0 < s <= 10 for s in sleeps)


def test_get_gives_up_after_max_retries() -> None:
    handler, seen = scripted(502)
    with pytest.raises(ProviderUnavailable, match="HTTP 502"):
        client(handler, [], retries=2).request("GET", "videos/v")
    assert len(seen) == 3


def test_a_malformed_answer_to_a_get_is_transient_like_a_5xx() -> None:
    handler, seen = scripted(b"<html>gateway hiccup</html>", 200)
    answer = client(handler, []).request("GET", "videos/v")
    assert answer.data == {"ok": True}
    assert seen == ["GET", "GET"]


def test_a_malformed_answer_to_a_post_may_have_created_a_job() -> None:
    handler, seen = scripted(b'{"id": "vid')
    with pytest.raises(MalformedAnswer, match="not JSON") as caught:
        client(handler, []).request("POST", "videos", json={})
    assert seen == ["POST"]
    assert caught.value.may_have_acted


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_never_retried_when_it_may_have_created_a_job(status: int) -> None:
    handler, seen = scripted(status, 200)
    with pytest.raises(ProviderUnavailable) as caught:
        client(handler, []).request("POST", "videos", json={})
    assert seen == ["POST"]
    assert caught.value.may_have_acted


def test_post_read_timeout_is_not_retried_and_may_have_acted() -> None:
    handler, seen = scripted(httpx.ReadTimeout, 200)
    with pytest.raises(ProviderUnavailable, match="no answer in time") as caught:
        client(handler, []).request("POST", "videos", json={})
    assert seen == ["POST"]
    assert caught.value.may_have_acted


def test_post_reset_after_sending_is_not_retried() -> None:
    handler, seen = scripted(httpx.RemoteProtocolError, 200)
    with pytest.raises(ProviderUnavailable, match="broke after the request was sent") as caught:
        client(handler, []).request("POST", "videos", json={})
    assert seen == ["POST"]
    assert caught.value.may_have_acted
    assert "Check the base URL" not in (caught.value.hint or "")


def test_post_is_retried_when_the_connection_never_opened() -> None:
    handler, seen = scripted(httpx.ConnectError, 200)
    assert client(handler, []).request("POST", "videos", json={}).status == 200
    assert seen == ["POST", "POST"]


def test_a_post_that_never_connected_did_nothing() -> None:
    handler, _ = scripted(httpx.ConnectError)
    with pytest.raises(ProviderUnavailable, match="Could not connect") as caught:
        client(handler, [], retries=1).request("POST", "videos", json={})
    assert not caught.value.may_have_acted
    assert "Nothing was sent" in (caught.value.hint or "")


def test_post_with_an_idempotency_key_is_retried_after_a_5xx() -> None:
    handler, seen = scripted(503, 200)
    answer = client(handler, []).request(
        "POST", "videos", json={}, headers={"Idempotency-Key": "k1"}
    )
    assert answer.status == 200
    assert seen == ["POST", "POST"]


def test_post_is_retried_on_429_honouring_retry_after() -> None:
    handler, seen = scripted(429, 200, headers={"retry-after": "7"})
    sleeps: list[float] = []
    assert client(handler, sleeps).request("POST", "videos", json={}).status == 200
    assert seen == ["POST", "POST"]
    assert sleeps == [7.0]


def test_retry_after_forms() -> None:
    assert retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(
        httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}), now=1445412480.0
    ) == pytest.approx(30.0)
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after(httpx.Headers()) is None


def test_a_retry_after_beyond_the_cap_fails_at_once_saying_so() -> None:
    handler, seen = scripted(503, 200, headers={"retry-after": "86400"})
    sleeps: list[float] = []
    with pytest.raises(ProviderUnavailable, match="retry after 86400 s"):
        client(handler, sleeps).request("GET", "x")
    assert sleeps == []
    assert seen == ["GET"]


def test_a_retry_after_past_the_deadline_fails_at_once() -> None:
    handler, seen = scripted(429, 200, headers={"retry-after": "30"})
    sleeps: list[float] = []
    api = client(handler, sleeps, clock=lambda: 1000.0)
    api.deadline = 1005.0
    with pytest.raises(ProviderUnavailable, match=r"only [0-9]+ s of the timeout are left"):
        api.request("GET", "x")
    assert sleeps == []
    assert seen == ["GET"]


def test_json_answers_are_read_with_a_cap() -> None:
    big = b'{"pad": "' + b"x" * (MAX_JSON_BYTES + 10) + b'"}'
    handler, _ = scripted(big)
    with pytest.raises(ProviderUnavailable, match="MiB"):
        client(handler, [], retries=0).request("GET", "videos/v")


def test_the_key_is_scrubbed_from_server_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "bad key sk-echo-1234 given"}})

    with pytest.raises(RequestRejected) as caught:
        client(handler, [], key="sk-echo-1234").request("GET", "x")
    assert "sk-echo-1234" not in caught.value.message
    assert "***" in caught.value.message


def test_a_submission_redirected_to_another_origin_is_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "api.test":
            return httpx.Response(307, headers={"location": "https://elsewhere.test/v1/videos"})
        return httpx.Response(200, json={"id": "video_x"})

    with pytest.raises(ConfigError, match="does not forward"):
        client(handler, [], key="sk-1").request("POST", "videos", json={"prompt": "secret"})
    assert seen == ["http://api.test/v1/videos"]


def test_a_same_origin_307_keeps_the_body_and_the_key() -> None:
    seen: list[tuple[str, bytes, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content, request.headers.get("authorization")))
        if request.url.path == "/v1/videos":
            return httpx.Response(307, headers={"location": "/v2/videos"})
        return httpx.Response(200, json={"id": "video_x"})

    answer = client(handler, [], key="sk-1").request("POST", "videos", json={"prompt": "p"})
    assert answer.data == {"id": "video_x"}
    assert [s[0] for s in seen] == ["/v1/videos", "/v2/videos"]
    assert seen[1][1] == seen[0][1]
    assert seen[1][2] == "Bearer sk-1"


@pytest.mark.parametrize(
    ("response", "kind", "text", "code"),
    [
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "message": "bad size",
                        "type": "invalid_request_error",
                        "code": "invalid_value",
                    }
                },
            ),
            RequestRejected,
            "HTTP 400 invalid_value: bad size",
            "invalid_value",
        ),
        (
            httpx.Response(
                401, json={"error": {"message": "nope", "code": "AUTHENTICATION_FAILED"}}
            ),
            AuthError,
            "HTTP 401 AUTHENTICATION_FAILED: nope",
            "AUTHENTICATION_FAILED",
        ),
        (
            httpx.Response(
                402,
                json={"error": "Insufficient balance", "requiredBalance": 0.0035, "status": 402},
            ),
            RequestRejected,
            "HTTP 402: Insufficient balance",
            None,
        ),
        (
            httpx.Response(404, json={"error": 404, "message": "Video not found"}),
            RequestRejected,
            "HTTP 404: Video not found",
            None,
        ),
        (
            httpx.Response(
                502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
            ),
            ProviderUnavailable,
            "HTTP 502: <html>Bad Gateway</html>",
            None,
        ),
        (
            httpx.Response(429, json={"error": {"message": "slow down", "type": "RATE_LIMITED"}}),
            ProviderUnavailable,
            "HTTP 429 RATE_LIMITED: slow down",
            "RATE_LIMITED",
        ),
    ],
)
def test_errors_from_every_envelope(
    response: httpx.Response, kind: type[ProviderError], text: str, code: str | None
) -> None:
    error = ProviderError.from_response(response)
    assert type(error) is kind
    assert error.message == text
    assert error.code == code
    assert error.status == response.status_code


def test_api_client_sends_the_key_only_where_it_belongs() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        return httpx.Response(200, content=b"x")

    api = ApiClient(
        "http://api.test/v1",
        auth_headers={"authorization": "Bearer sk-secret"},
        transport=httpx.MockTransport(handler),
    )
    api.request("GET", "videos/v", expect_json=False)
    with api.stream("http://api.test/v1/videos/v/content", authenticated=True) as r:
        r.read()
    with api.stream("https://media.test/v.mp4?sig=1", authenticated=True) as r:
        r.read()
    with api.stream("http://api.test/media/v.mp4?sig=1", authenticated=False) as r:
        r.read()

    assert [auth for _, auth in seen] == ["Bearer sk-secret", "Bearer sk-secret", None, None]
