"""Retries in one place (RetryTransport) and errors read from any envelope."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from framecast.errors import AuthError, ProviderError, ProviderUnavailable, RequestRejected
from framecast.http import ApiClient, RetryTransport, retry_after

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(
    *answers: int | type[Exception], headers: dict[str, str] | None = None
) -> tuple[Handler, list[str]]:
    """A tiny server that answers with each status (or raises each error) in turn."""
    seen: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, type):
            raise answer("scripted failure")
        return httpx.Response(answer, headers=headers, json={"ok": answer < 400})

    return handler, seen


def client(handler: Handler, sleeps: list[float], retries: int = 3) -> httpx.Client:
    transport = RetryTransport(
        httpx.MockTransport(handler), max_retries=retries, sleep=sleeps.append
    )
    return httpx.Client(transport=transport, base_url="http://api.test")


@pytest.mark.parametrize("failures", [0, 1, 2, 3])
def test_get_is_retried_on_5xx_until_it_succeeds(failures: int) -> None:
    handler, seen = scripted(*([503] * failures), 200)
    sleeps: list[float] = []

    response = client(handler, sleeps).get("/videos/v")

    assert response.status_code == 200
    assert len(seen) == failures + 1
    assert len(sleeps) == failures
    assert all(0 < s <= 10 for s in sleeps)


def test_get_gives_up_after_max_retries() -> None:
    handler, seen = scripted(502)
    response = client(handler, [], retries=2).get("/videos/v")
    assert response.status_code == 502
    assert len(seen) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_post_is_never_retried_when_it_may_have_created_a_job(status: int) -> None:
    handler, seen = scripted(status, 200)
    response = client(handler, []).post("/videos", json={})
    assert response.status_code == status
    assert seen == ["POST"]


def test_post_read_timeout_is_not_retried() -> None:
    handler, seen = scripted(httpx.ReadTimeout, 200)
    with pytest.raises(httpx.ReadTimeout):
        client(handler, []).post("/videos", json={})
    assert seen == ["POST"]


def test_post_is_retried_when_the_connection_never_opened() -> None:
    handler, seen = scripted(httpx.ConnectError, 200)
    assert client(handler, []).post("/videos", json={}).status_code == 200
    assert seen == ["POST", "POST"]


def test_post_is_retried_on_429_honouring_retry_after() -> None:
    handler, seen = scripted(429, 200, headers={"retry-after": "7"})
    sleeps: list[float] = []
    assert client(handler, sleeps).post("/videos", json={}).status_code == 200
    assert seen == ["POST", "POST"]
    assert sleeps == [7.0]


def test_retry_after_forms() -> None:
    assert retry_after(httpx.Response(429, headers={"retry-after-ms": "250"})) == 0.25
    assert retry_after(httpx.Response(429, headers={"retry-after": "3"})) == 3.0
    assert (
        retry_after(httpx.Response(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
        == 0.0
    )
    assert retry_after(httpx.Response(429)) is None


def test_a_huge_retry_after_is_capped() -> None:
    handler, _ = scripted(503, 200, headers={"retry-after": "86400"})
    sleeps: list[float] = []
    client(handler, sleeps).get("/x")
    assert sleeps == [60.0]


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
    api.request("GET", "videos/v")
    with api.stream("http://api.test/v1/videos/v/content", authenticated=True) as r:
        r.read()
    with api.stream("https://media.test/v.mp4?sig=1", authenticated=True) as r:
        r.read()
    with api.stream("http://api.test/media/v.mp4?sig=1", authenticated=False) as r:
        r.read()

    assert [auth for _, auth in seen] == ["Bearer sk-secret", "Bearer sk-secret", None, None]
