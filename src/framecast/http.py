"""The HTTP layer: one client per provider, retries in one place, errors from responses.

Retries are polite and never risk a second paid job:

- a request that provably never reached the server (no connection) is retried,
  whatever its method;
- an idempotent request (GET, DELETE, ...) is also retried on 408/429/5xx, on a
  connection that broke or timed out, and on a 2xx answer that is not JSON;
- a POST is retried after it was sent only on 429 (the server refused it) or
  when it carries an Idempotency-Key (the server then answers a repeat with the
  same job).

Waits back off exponentially with jitter and honour Retry-After (seconds, an HTTP
date, or `retry-after-ms`); a wait longer than the cap, or past the caller's
deadline, fails at once, saying so. A 429 or 503 with Retry-After holds every later
request on the client (from any thread: a batch submits, polls and downloads on
several) until then, not only the one refused. Answers are read with a size cap, and
credentials only ever go to the API's own origin: redirects of a submission to
another origin are refused rather than followed with the prompt.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from framecast import __version__
from framecast.errors import (
    AuthError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RequestRejected,
)
from framecast.untrusted import clean, mask_url, strip_userinfo

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
MAX_JSON_BYTES = 16 * 1024 * 1024


def answer_timeout(seconds: float) -> httpx.Timeout:
    """How long to wait for each answer (and each body write), connecting aside."""
    return httpx.Timeout(connect=min(10.0, seconds), read=seconds, write=seconds, pool=10.0)


MAX_HOPS = 5


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0  # the longest backoff between two attempts
    max_wait: float = 60.0  # the longest Retry-After honoured; a longer one fails at once

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0**attempt)
        return delay * random.uniform(0.75, 1.25)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, parsed.timestamp() - (time.time() if now is None else now))


@dataclass(slots=True)
class Answer:
    """A provider's answer: status, headers and the JSON it held (None for an empty body)."""

    status: int
    headers: httpx.Headers
    data: Any = None
    raw: bytes = field(default=b"", repr=False)


class MalformedAnswer(ProviderUnavailable):
    """A 2xx answer whose body is not the JSON it should be."""


def _cut(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def read_capped(response: httpx.Response, limit: int = MAX_JSON_BYTES) -> bytes:
    """The (decoded) body, refusing to hold more than `limit` bytes of it."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProviderUnavailable(
            f"{response.url.host} answered with {int(declared) / 2**20:.0f} MiB, "
            f"more than the {limit // 2**20} MiB framecast reads from an API answer."
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ProviderUnavailable(
                f"{response.url.host} answered with more than the {limit // 2**20} MiB "
                "framecast reads from an API answer; it stopped reading."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


class Transport(httpx.BaseTransport):
    """httpx's own transport, with the certificate store loaded only for the first https
    request: loading it takes about 25 ms, a plain-HTTP (loopback) status check's largest
    single cost, and such a run never uses it. Requests are routed by scheme, so the
    plain transport never makes a TLS connection; its context trusts nothing regardless
    (a TLS connection through it would fail, never go unchecked)."""

    def __init__(self) -> None:
        import ssl
        import threading

        self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()  # downloads may start TLS from several threads

    def _secure(self) -> httpx.HTTPTransport:
        with self._lock:
            if self._tls is None:
                self._tls = httpx.HTTPTransport()
            return self._tls

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return self._plain.handle_request(request)
        return self._secure().handle_request(request)

    def close(self) -> None:
        self._plain.close()
        with self._lock:
            if self._tls is not None:
                self._tls.close()


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
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        auth_hint: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown_url = mask_url(strip_userinfo(self.base_url))
        self.auth_hint = auth_hint
        self.retry = retry or RetryPolicy()
        self.deadline: float | None = None  # a clock() value; waits past it fail at once
        self._hurry: float | None = None  # a short timeout for requests made on the way out
        self._sleep = sleep
        self._clock = clock
        self._held_until = 0.0  # a clock() value: the server asked every request to wait
        self._holding = threading.Lock()
        self._served = threading.local()  # `until`: the hold this thread already waited out
        # Whatever a server echoes back, the key never reaches the screen.
        self._secrets = [
            value.partition(" ")[2] or value for value in (auth_headers or {}).values() if value
        ]
        common: dict[str, Any] = {
            "transport": transport if transport is not None else Transport(),
            "timeout": timeout,
            "headers": {"user-agent": f"framecast/{__version__}"},
        }
        self._api = httpx.Client(base_url=self.base_url + "/", **common)
        self._api.headers.update(auth_headers or {})
        self._bare = httpx.Client(**common)

    def close(self) -> None:
        self._api.close()
        self._bare.close()

    @contextmanager
    def hurried(self, seconds: float = 10.0) -> Iterator[None]:
        """Requests made while leaving (a cancel on Ctrl-C): one try each, a short timeout."""
        retry, self.retry = self.retry, RetryPolicy(max_retries=0)
        self._hurry = seconds
        try:
            yield
        finally:
            self.retry, self._hurry = retry, None

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return clean(text)

    # -- requests to the API ----------------------------------------------------

    def request(self, method: str, path: str, *, expect_json: bool = True, **kwargs: Any) -> Answer:
        """Send a request to the API, retrying where that is safe; non-2xx raises ProviderError.

        Errors raised after the request may have reached the server carry
        `may_have_acted = True`: for a submission, the job may exist.
        """
        headers = {k.lower(): v for k, v in (kwargs.pop("headers", None) or {}).items()}
        idempotent = method in IDEMPOTENT or "idempotency-key" in headers
        where = f"{method} {self.shown_url}/{path.lstrip('/')}"
        attempt = 0
        maybe_acted = False
        while True:
            try:
                self._wait_if_held(where)
            except ProviderError as error:
                error.may_have_acted = maybe_acted  # nothing more was sent
                raise
            try:
                return self._exchange(method, path, headers, expect_json, **kwargs)
            except _Retryable as failure:
                maybe_acted = maybe_acted or not failure.unsent
                failure.error.may_have_acted = maybe_acted
                if attempt >= self.retry.max_retries or not (idempotent or failure.unsent):
                    raise failure.error from None
                try:
                    self._pause(failure, attempt, where)
                except ProviderError as error:
                    error.may_have_acted = maybe_acted
                    raise
            except ProviderError as error:
                refused = isinstance(error, RequestRejected | AuthError)
                error.may_have_acted = maybe_acted or not (idempotent or refused)
                raise
            attempt += 1

    def hold(self, seconds: float) -> None:
        """Hold every request on this client for `seconds` (a server's Retry-After)."""
        with self._holding:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def _wait_if_held(self, where: str) -> None:
        """Wait out a Retry-After the server gave any request on this client; a wait that
        cannot fit (past the deadline, longer than framecast waits, or while leaving)
        fails at once."""
        held = self._held_until
        seconds = held - self._clock()
        if seconds > 0 and held > getattr(self._served, "until", 0.0):
            if seconds > self.retry.max_wait or self._hurry is not None:
                refusal = ProviderUnavailable(
                    f"{where}: the server asked for a pause of {seconds:.0f} s more before "
                    "anything else is sent."
                )
            elif self.deadline is not None and self._clock() + seconds > self.deadline:
                left = max(0.0, self.deadline - self._clock())
                refusal = ProviderUnavailable(
                    f"{where}: the server asked for a pause of {seconds:.0f} s more, "
                    f"but only {left:.0f} s of the timeout are left."
                )
            else:
                self._sleep(seconds)
                return
            refusal.retry_after = seconds
            raise refusal

    def _pause(self, failure: _Retryable, attempt: int, where: str) -> None:
        """Wait before the next attempt: as long as the server asked, else a short backoff.
        A wait that cannot fit fails now, with the server's demand or the real failure."""
        if failure.wait is None:
            seconds = self.retry.backoff(attempt)
            if self.deadline is not None and self._clock() + seconds > self.deadline:
                raise failure.error from None
            self._sleep(seconds)
            return
        seconds = failure.wait
        if seconds > self.retry.max_wait:
            refusal = ProviderUnavailable(
                f"{where}: the server asked to retry after {seconds:.0f} s, longer than "
                f"framecast waits ({self.retry.max_wait:.0f} s).",
                hint="Try again later, or raise --max-retry-wait.",
            )
        elif self.deadline is not None and self._clock() + seconds > self.deadline:
            left = max(0.0, self.deadline - self._clock())
            refusal = ProviderUnavailable(
                f"{where}: the server asked to retry after {seconds:.0f} s, "
                f"but only {left:.0f} s of the timeout are left."
            )
        else:
            self._sleep(seconds)
            self._served.until = self._held_until  # what it asked of this thread is done
            return
        refusal.retry_after = seconds
        raise refusal

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], expect_json: bool, **kwargs: Any
    ) -> Answer:
        """One attempt: send, follow what may be followed, read the answer within its cap."""
        if self._hurry is not None:
            kwargs.setdefault("timeout", self._hurry)
        request = self._api.build_request(method, path.lstrip("/"), headers=headers, **kwargs)
        hops = 0
        while True:
            response = self._send(request)
            try:
                if response.status_code not in REDIRECTS or "location" not in response.headers:
                    return self._read(response, expect_json)
                request = self._redirected(request, response, hops)
                hops += 1
            finally:
                response.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        client = self._api if _same_origin(request.url, httpx.URL(self.base_url)) else self._bare
        try:
            return client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(
                ProviderUnavailable(
                    f"Could not connect to {self.shown_url} ({self.scrub(str(exc)) or 'refused'}).",
                    hint="Check the base URL and your network connection. Nothing was sent.",
                ),
                unsent=True,
            ) from None
        except httpx.TimeoutException as exc:
            raise _Retryable(
                ProviderUnavailable(
                    f"{request.method} {mask_url(str(request.url))} got no answer in time "
                    f"({_words(exc)})."
                )
            ) from None
        except httpx.TransportError as exc:
            raise _Retryable(
                ProviderUnavailable(
                    f"The connection to {self.shown_url} broke after the request was sent "
                    f"({self.scrub(str(exc)) or _words(exc)})."
                )
            ) from None

    def _redirected(
        self, request: httpx.Request, response: httpx.Response, hops: int
    ) -> httpx.Request:
        target = request.url.join(response.headers["location"])
        keeps_body = response.status_code in (307, 308)
        if request.method not in IDEMPOTENT and not (
            keeps_body and _same_origin(target, request.url)
        ):
            raise ConfigError(
                f"{self.shown_url} redirected the {request.method} to "
                f"{mask_url(str(target.copy_with(query=None)))}; framecast does not forward a "
                "submission elsewhere.",
                hint="Nothing was created there. Point --base-url at the final address.",
            )
        if hops >= MAX_HOPS:
            raise ProviderUnavailable(f"{self.shown_url} redirected more than {MAX_HOPS} times.")
        method = request.method if keeps_body or request.method == "HEAD" else "GET"
        headers = dict(request.headers)
        headers.pop("host", None)
        if not _same_origin(target, request.url):
            headers.pop("authorization", None)
            headers.pop("x-api-key", None)
        body = request.content if method == request.method else None
        if body is None:
            headers.pop("content-length", None)
            headers.pop("content-type", None)
        return httpx.Request(method, target, headers=headers, content=body)

    def _read(self, response: httpx.Response, expect_json: bool) -> Answer:
        try:
            raw = read_capped(response)
        except httpx.TransportError as exc:
            raise _Retryable(
                ProviderUnavailable(
                    f"The answer from {self.shown_url} was cut off "
                    f"({self.scrub(str(exc)) or _words(exc)})."
                )
            ) from None
        if response.is_error:
            error = self._error(response, raw)
            if response.status_code in RETRY_STATUSES:
                # 429 and 408 say the request was not taken up, so it was not acted on.
                unsent = response.status_code in (408, 429)
                error.retry_after = retry_after(response.headers)
                if error.retry_after and response.status_code in (429, 503):
                    self.hold(error.retry_after)
                raise _Retryable(error, unsent=unsent, wait=error.retry_after)
            raise error
        data: Any = None
        if raw.strip():
            try:
                data = json.loads(raw)
            except (UnicodeDecodeError, ValueError):
                if expect_json:
                    kind = response.headers.get("content-type", "no content type").split(";")[0]
                    raise _Retryable(
                        MalformedAnswer(
                            f"{self.shown_url} answered {response.status_code} with something "
                            f"that is not JSON ({self.scrub(kind)}, {len(raw)} bytes: "
                            f"{self.scrub(_cut(raw[:200].decode('utf-8', 'replace'), 80))!r})."
                        )
                    ) from None
        elif expect_json and response.status_code != 204:
            raise _Retryable(
                MalformedAnswer(
                    f"{self.shown_url} answered {response.status_code} with an empty body."
                )
            )
        return Answer(response.status_code, response.headers, data, raw)

    def _error(self, response: httpx.Response, raw: bytes) -> ProviderError:
        loaded = httpx.Response(
            response.status_code,
            headers=[
                (k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"
            ],
            content=raw,
            request=response.request,
        )
        error = ProviderError.from_response(loaded)
        error.message = self.scrub(error.message)
        error.body = None if error.body is None else self.scrub(error.body)
        if isinstance(error, AuthError) and self.auth_hint:
            error.hint = self.auth_hint
        return error

    # -- downloads ---------------------------------------------------------------

    @contextmanager
    def stream(
        self, url: str, *, authenticated: bool, headers: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """Stream an absolute URL (GET); credentials only when asked for and on the API's origin.

        A non-2xx answer raises its ProviderError; a signed link that is refused
        (401/403/410) raises `LinkRefused`, so the caller can fetch a fresh one.
        """
        same_origin = origin(url) == origin(self.base_url)
        client = self._api if authenticated and same_origin else self._bare
        host = httpx.URL(url).host
        try:
            with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
                if response.is_error:
                    try:
                        raw = read_capped(response, 64 * 1024)
                    except (ProviderUnavailable, httpx.TransportError):
                        raw = b""
                    error = self._error(response, raw)
                    if response.status_code in RETRY_STATUSES:
                        raise TransferBroken(
                            error.message, wait=retry_after(response.headers)
                        ) from None
                    if not authenticated and response.status_code in (401, 403, 410):
                        raise LinkRefused(
                            error.message,
                            status=error.status,
                            code=error.code,
                            hint="The signed download link was refused; it has probably expired. "
                            "`framecast download ID` asks the provider for a fresh one.",
                        )
                    raise error
                yield response
        except httpx.TimeoutException as exc:
            raise TransferBroken(f"The download from {host} stalled ({_words(exc)}).") from None
        except httpx.TransportError as exc:
            reason = self.scrub(str(exc)) or _words(exc)
            raise TransferBroken(f"The download from {host} broke off ({reason}).") from None


class LinkRefused(RequestRejected):
    """A signed output link was refused (expired, most often); a fresh one may work."""


class TransferBroken(ProviderUnavailable):
    """A download's connection failed, broke mid-body or was put off (5xx, 429); it may be
    resumed, after `wait` seconds if the server said so."""

    def __init__(self, message: str, *, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class _Retryable(Exception):
    """An attempt that failed in a way a retry might cure (if retrying is safe)."""

    def __init__(
        self, error: ProviderError, *, unsent: bool = False, wait: float | None = None
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.unsent = unsent
        self.wait = wait


def _words(error: BaseException) -> str:
    """An exception's kind in words (ReadTimeout: "read timeout"), for people, who do not
    read class names."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(error).__name__).lower()
