"""The HTTP layer: one client per provider, retries in one place, errors from responses.

Retries are polite and never risk a second paid job: idempotent requests are
retried on 408/429/5xx and network faults with capped, jittered backoff that
honours Retry-After; a POST is retried only when it provably did not reach the
server (the connection was never made), when the server said 429, or when it
carries an Idempotency-Key (the server then answers a repeat with the same job).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from framecast import __version__
from framecast.errors import AuthError, ProviderError, ProviderUnavailable, RequestRejected

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
MAX_RETRY_AFTER = 60.0


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or date)."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        return None if parsed is None else max(0.0, float(parsed.timestamp()) - time.time())


class RetryTransport(httpx.BaseTransport):
    def __init__(
        self,
        wrapped: httpx.BaseTransport,
        *,
        max_retries: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._wrapped = wrapped
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0**attempt)
        return delay * random.uniform(0.75, 1.25)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in IDEMPOTENT or "idempotency-key" in request.headers
        attempt = 0
        while True:
            try:
                response = self._wrapped.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                # No connection, so nothing was sent: safe to retry any method.
                if attempt >= self.max_retries:
                    raise
            except (
                httpx.ReadTimeout,
                httpx.WriteTimeout,
                httpx.RemoteProtocolError,
                httpx.ReadError,
            ):
                if not idempotent or attempt >= self.max_retries:
                    raise
            else:
                retryable = response.status_code == 429 or (
                    idempotent and response.status_code in RETRY_STATUSES
                )
                if not retryable or attempt >= self.max_retries:
                    return response
                wait = retry_after(response)
                response.close()
                if wait is not None:
                    self._sleep(min(wait, MAX_RETRY_AFTER))
                    attempt += 1
                    continue
            self._sleep(self._backoff(attempt))
            attempt += 1

    def close(self) -> None:
        self._wrapped.close()


@contextmanager
def network_errors(action: str, place: str) -> Iterator[None]:
    """httpx's transport failures (after any retries) as framecast's ProviderUnavailable."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{action} timed out ({exc}).") from None
    except httpx.TransportError as exc:
        raise ProviderUnavailable(
            f"Could not reach {place}: {exc or type(exc).__name__}.",
            hint="Check the base URL and your network connection.",
        ) from None


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


class ApiClient:
    """An authenticated client for one API, and a bare one for everything else.

    Credentials go only to the API's own origin, and only where they are
    needed: signed output links are fetched without them wherever they live.
    httpx also drops the Authorization header when a redirect leaves the origin.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth_headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        auth_hint: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_hint = auth_hint
        inner = transport if transport is not None else httpx.HTTPTransport()
        retrying = RetryTransport(inner, max_retries=max_retries)
        common: dict[str, Any] = {
            "transport": retrying,
            "timeout": timeout,
            "follow_redirects": True,
            "headers": {"user-agent": f"framecast/{__version__}"},
        }
        self._api = httpx.Client(base_url=self.base_url + "/", **common)
        self._api.headers.update(auth_headers or {})
        self._bare = httpx.Client(**common)

    def close(self) -> None:
        self._api.close()
        self._bare.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request to the API; any non-2xx answer raises the matching ProviderError."""
        with network_errors(f"{method} {self.base_url}/{path.lstrip('/')}", self.base_url):
            response = self._api.request(method, path.lstrip("/"), **kwargs)
        if response.is_error:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ProviderError:
        error = ProviderError.from_response(response)
        if isinstance(error, AuthError) and self.auth_hint:
            error.hint = self.auth_hint
        return error

    @contextmanager
    def stream(
        self, url: str, *, authenticated: bool, headers: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """Stream an absolute URL; credentials only when asked for and on the API's origin."""
        same_origin = origin(url) == origin(self.base_url)
        client = self._api if authenticated and same_origin else self._bare
        host = httpx.URL(url).host
        with (
            network_errors(f"Download from {host}", host),
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.is_error:
                response.read()
                error = self._error(response)
                if not authenticated and response.status_code in (401, 403):
                    # A signed link, not the API key, was refused: most often it expired.
                    error = RequestRejected(
                        error.message,
                        status=error.status,
                        code=error.code,
                        hint="The signed download link was refused; it may have expired. "
                        "`framecast download ID` asks the provider for a fresh one.",
                    )
                raise error
            yield response
