"""What the emulator received, so that a test can check what reached the wire.

Each request is kept as it arrived: method, path, query, headers and body. The
body is parsed only when asked for (JSON, multipart/form-data or a urlencoded
form), so recording costs the server next to nothing. Credentials are noted,
never kept: the headers that carry a key are replaced by a marker, and the key
itself is kept only as a short SHA-256 digest that a test can compare with the
digest of the key it configured (`key_digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from framecast.emulator.wire import Request

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie"})
REDACTED = "<redacted>"


def key_digest(key: str) -> str:
    """The digest under which a presented API key is recorded."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multipart body: a form value, or a file when it has a filename."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = "text/plain"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the emulator received it; credentials are noted, never kept."""

    method: str
    path: str
    had_authorization: bool
    content_type: str = ""
    query: str = ""  # name=value&..., the last value of each name (signatures left out)
    had_api_key: bool = False  # NanoGPT's x-api-key header
    range: str = ""  # the Range header, for checking resumed downloads
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # lower-case, redacted
    body: bytes = field(default=b"", repr=False)
    credential: str | None = None  # key_digest() of the key presented, if any

    def json(self) -> Any:
        """The body parsed as JSON; None when it is not a JSON body."""
        if not self.content_type.endswith("json") or not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def parts(self) -> tuple[Part, ...]:
        """The parts of a multipart body, in order; () for any other body."""
        if self.content_type != "multipart/form-data":
            return ()
        head = f"Content-Type: {self.headers.get('content-type', '')}\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + self.body)
        found = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            found.append(
                Part(
                    name=name if isinstance(name, str) else "",
                    data=payload if isinstance(payload, bytes) else b"",
                    filename=part.get_filename(),
                    content_type=part.get_content_type(),
                )
            )
        return tuple(found)

    def files(self, name: str | None = None) -> list[Part]:
        """The uploaded files of a multipart body (of one field name, if given)."""
        return [p for p in self.parts() if p.filename is not None and name in (None, p.name)]

    def fields(self) -> dict[str, Any]:
        """The body's fields: a JSON object as sent, or the text values of a multipart
        or urlencoded form (a name sent more than once gives a list)."""
        payload = self.json()
        if isinstance(payload, dict):
            return payload
        if self.content_type == "application/x-www-form-urlencoded":
            pairs = [
                (name, value)
                for name, values in parse_qs(self.body.decode(), keep_blank_values=True).items()
                for value in values
            ]
        else:
            pairs = [(p.name, p.text) for p in self.parts() if p.filename is None]
        found: dict[str, Any] = {}
        for name, value in pairs:
            if name in found:
                earlier = found[name]
                found[name] = [*earlier, value] if isinstance(earlier, list) else [earlier, value]
            else:
                found[name] = value
        return found


def _credential(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    key = key or headers.get("x-api-key", "").strip()
    return key_digest(key) if key else None


def record(request: Request) -> Seen:
    headers = request.headers
    return Seen(
        method=request.method,
        path=request.path,
        had_authorization="authorization" in headers,
        content_type=headers.get("content-type", "").split(";")[0].strip().lower(),
        query="&".join(f"{k}={v[-1]}" for k, v in request.query.items() if k != "signature"),
        had_api_key="x-api-key" in headers,
        range=headers.get("range", ""),
        headers={k: REDACTED if k in SECRET_HEADERS else v for k, v in headers.items()},
        body=request.body,
        credential=_credential(headers),
    )
