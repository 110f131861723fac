"""Webhook deliveries as Lumenfall makes them, signed per Standard Webhooks.

Headers: `webhook-id` (msg_<id>), `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>",
keyed with the base64 part of the `whsec_` secret). Failed deliveries are
retried after 5, 15 and 45 seconds. Unlike Lumenfall, which requires public
https URLs, the emulator delivers only to loopback addresses: tests receive
them, and nothing it sends can leave the machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from framecast.emulator.wire import ApiError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
RETRY_DELAYS = (5.0, 15.0, 45.0)


def check_target(url: Any) -> str:
    if not isinstance(url, str):
        raise ApiError(
            400, "'webhook_url' must be a string.", param="webhook_url", code="invalid_value"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
        raise ApiError(
            400,
            "The emulator delivers webhooks only to loopback http(s) URLs (127.0.0.1, localhost).",
            param="webhook_url",
            code="invalid_webhook_url",
        )
    return url


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookSender:
    """Sends each job's final event when it ends, on a daemon timer."""

    def __init__(
        self, secret: str, retry_delays: Sequence[float] = RETRY_DELAYS, timeout: float = 30.0
    ) -> None:
        self.secret = secret
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.attempts: list[tuple[str, int | None]] = []  # (url, HTTP status or None)
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False

    def schedule(self, url: str, delay: float, event: Callable[[], dict[str, Any] | None]) -> None:
        """Deliver `event()` after `delay` seconds; an event of None is not sent."""
        self._start(max(0.0, delay), url, event, 0)

    def _start(
        self, delay: float, url: str, event: Callable[[], dict[str, Any] | None], attempt: int
    ) -> None:
        timer = threading.Timer(delay, self._deliver, args=(url, event, attempt))
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers = {t for t in self._timers if t.is_alive()} | {timer}
        timer.start()

    def close(self) -> None:
        """No delivery after this: the store the events are read from is about to close."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()

    def _deliver(self, url: str, event: Callable[[], dict[str, Any] | None], attempt: int) -> None:
        with self._lock:
            if self._closed:
                return
        try:
            payload = event()
        except sqlite3.ProgrammingError:
            return  # the emulator closed while this delivery was starting
        if payload is None:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        message_id = f"msg_{payload['data']['id']}"
        timestamp = int(time.time())
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.secret, message_id, timestamp, body),
            },
        )
        status: int | None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        with self._lock:
            self.attempts.append((url, status))
        if (status is None or not 200 <= status < 300) and attempt < len(self.retry_delays):
            self._start(self.retry_delays[attempt], url, event, attempt + 1)
