"""Transport-neutral request and response objects for the emulator.

The same handlers answer an in-process httpx transport and a loopback socket
server; both translate to and from these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    origin: str  # scheme://host[:port] the client addressed

    @classmethod
    def build(
        cls, method: str, target: str, headers: Mapping[str, str], body: bytes, origin: str
    ) -> Request:
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            origin=origin,
        )

    @overload
    def arg(self, name: str) -> str | None: ...
    @overload
    def arg(self, name: str, default: str) -> str: ...
    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query parameter; present but empty (`?limit=`) is refused, not taken as absent."""
        values = self.query.get(name)
        if not values:
            return default
        if values[-1] == "":
            raise ApiError(
                400,
                f"Invalid value for '{name}': it must not be empty.",
                param=name,
                code="invalid_value",
            )
        return values[-1]


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Set by fault injection (see faults.py): the fault's name for logs, and what the
    # transport must do instead of answering plainly: reset | slow | cut | cut-nolength.
    fault: str | None = None
    disruption: str | None = None
    delay: float = 0.0  # seconds to hold a `slow` answer back

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, [("content-type", "application/json"), *(headers or [])])


class ApiError(Exception):
    """An error answered with the OpenAI-style envelope Lumenfall also uses."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or []

    def response(self) -> Response:
        payload = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        return Response.json(self.status, payload, self.headers)
