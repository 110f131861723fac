"""Checking a webhook delivery signed per Standard Webhooks, as Lumenfall signs them.

A delivery is a raw body and three headers:

- `webhook-id`: the message id (`msg_...`), the same on every retry of one event;
- `webhook-timestamp`: when this attempt was signed, in Unix seconds;
- `webhook-signature`: space-separated `VERSION,SIGNATURE` entries; a `v1` entry is
  the base64 HMAC-SHA256 of `<id>.<timestamp>.<raw body>`, keyed with the base64
  part of the `whsec_` secret. Several entries let a sender rotate its secret: any
  `v1` entry that matches is enough; other versions (`v1a`, asymmetric) are skipped.

A delivery is accepted when a `v1` entry matches (compared in constant time) and its
timestamp is within the tolerance of this machine's clock (5 minutes by default,
either way), which stops an old delivery from being replayed. Only then is the body
read as an event, and everything in it is still untrusted: the job id must look like
one, the status and type like words, the output URL like an http(s) URL.

What the user gave wrongly (no secret, an unreadable file, a header missing) is a
UsageError (exit 2); a delivery that does not check out is a WebhookRejected (exit 4).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from framecast.errors import UsageError, WebhookRejected
from framecast.untrusted import is_job_id, shown_id

DEFAULT_SECRET_ENV = "LUMENFALL_WEBHOOK_SECRET"
DEFAULT_TOLERANCE = 300  # seconds, either way, as the spec's reference libraries use
MAX_BODY_BYTES = 4 * 1024 * 1024  # Standard Webhooks recommends bodies under 20 kB
MAX_HEADERS_BYTES = 64 * 1024
MAX_HEADER_VALUE = 8 * 1024
MAX_SIGNATURES = 32
MAX_URL_LENGTH = 8 * 1024
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
FLAGS = {
    "webhook-id": "--id",
    "webhook-timestamp": "--timestamp",
    "webhook-signature": "--signature",
}

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `Name: value` as a server or `curl -D` writes it; the request or status line has no
# token directly before a colon, so it is skipped along with blank lines.
_HEADER_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_WORD = re.compile(r"[A-Za-z0-9_.-]{1,100}")

SIGNATURE_HINT = (
    "Pass the body byte for byte as it arrived (not JSON parsed and written again), "
    "with its own webhook-id and webhook-timestamp, and check that the secret is your "
    "organisation's current one."
)


@dataclass(frozen=True, slots=True)
class Event:
    """A delivery that checked out, and what its body says (validated, still not trusted
    beyond that)."""

    webhook_id: str
    timestamp: int
    type: str | None
    id: str | None
    status: str | None
    output_url: str | None

    def document(self) -> dict[str, Any]:
        """The --json object; its keys are documented and stable."""
        return {
            "valid": True,
            "type": self.type,
            "id": self.id,
            "status": self.status,
            "output_url": self.output_url,
            "webhook_id": self.webhook_id,
            "timestamp": self.timestamp,
            "reason": None,
        }


def rejected_document(error: WebhookRejected) -> dict[str, Any]:
    """The --json object of a delivery that did not check out: nothing from it is vouched for."""
    keys = ("type", "id", "status", "output_url", "webhook_id", "timestamp")
    return {"valid": False, **dict.fromkeys(keys), "reason": error.message}


def check_delivery(
    body_source: str,
    *,
    headers_file: str | None = None,
    given: Mapping[str, str | None] | None = None,
    secret_env: str = DEFAULT_SECRET_ENV,
    tolerance: int = DEFAULT_TOLERANCE,
    env: Mapping[str, str] | None = None,
    stdin: BinaryIO | None = None,
    now: float | None = None,
) -> Event:
    """The whole check a `webhook verify` run makes: the secret from `secret_env`, the
    headers from `given` (by header name) over those in `headers_file`, the body from a
    file or `-` (stdin); the event, or UsageError / WebhookRejected."""
    if body_source == "-" and headers_file == "-":
        raise UsageError("The body and --headers cannot both be read from stdin (-).")
    key = secret_from_env(secret_env, os.environ if env is None else env)
    stream = stdin if stdin is not None else sys.stdin.buffer
    found = read_headers(headers_file, stream) if headers_file is not None else {}
    headers = merged_headers(found, given or {}, from_file=headers_file is not None)
    body = read_body(body_source, stream)
    return verify(body, headers, key, tolerance=tolerance, now=now)


def secret_from_env(name: str, env: Mapping[str, str]) -> bytes:
    """The HMAC key in the variable `name`: `whsec_<base64>` or the base64 alone.

    The secret itself never appears in a message.
    """
    if not _ENV_NAME.fullmatch(name):
        raise UsageError(f"--secret-env {shown_id(name)} is not an environment variable name.")
    value = env.get(name, "").strip()
    if not value:
        raise UsageError(
            f"{name} is not set: it must hold the webhook signing secret (whsec_...).",
            hint="Lumenfall shows it at GET /v1/webhooks/secret (one per organisation); "
            f"export {name}=whsec_... in the receiving script's environment, or name "
            "another variable with --secret-env.",
        )
    return secret_key(value, name)


def secret_key(secret: str, where: str = "the secret") -> bytes:
    encoded = secret.removeprefix("whsec_")
    try:
        # Unpadded base64 is accepted too, as the reference libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise UsageError(
            f"{where} does not hold a webhook signing secret (whsec_ followed by base64)."
        )
    return key


def read_body(source: str, stdin: BinaryIO) -> bytes:
    """The raw body, from a file or `-` (stdin), at most MAX_BODY_BYTES."""
    if source == "-":
        body = stdin.read(MAX_BODY_BYTES + 1)
    else:
        body = _read_file(source, "body", MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(
            f"The body is larger than {MAX_BODY_BYTES // 2**20} MiB: not a webhook delivery."
        )
    return body


def read_headers(source: str, stdin: BinaryIO) -> dict[str, str]:
    """The webhook-* headers in raw `Name: value` lines (names in any case; request or
    status lines, other headers and blank lines are skipped)."""
    raw = stdin.read(MAX_HEADERS_BYTES + 1) if source == "-" else None
    if raw is None:
        raw = _read_file(source, "--headers", MAX_HEADERS_BYTES + 1)
    if len(raw) > MAX_HEADERS_BYTES:
        raise UsageError(f"--headers {shown_id(source)} is larger than 64 KiB: not HTTP headers.")
    found: dict[str, str] = {}
    for line in raw.decode("latin-1").splitlines():
        match = _HEADER_LINE.fullmatch(line)
        if match is None or match[1].lower() not in HEADERS:
            continue
        name = match[1].lower()
        if name in found and found[name] != match[2]:
            raise WebhookRejected(f"The headers hold {name} twice, with different values.")
        found[name] = match[2]
    return found


def merged_headers(
    found: Mapping[str, str], given: Mapping[str, str | None], *, from_file: bool
) -> dict[str, str]:
    """Flags over the file; every one of the three headers is needed."""
    headers = {**found, **{k: v for k, v in given.items() if v is not None}}
    missing = [name for name in HEADERS if not headers.get(name)]
    if missing:
        flags = ", ".join(FLAGS[name] for name in missing)
        where = " (not in the --headers file either)" if from_file else ""
        raise UsageError(
            f"Missing {', '.join(missing)}{where}.",
            hint=f"Give {flags}, or --headers FILE with the request's headers as received.",
        )
    return headers


def verify(
    body: bytes,
    headers: Mapping[str, str],
    key: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Event:
    """The event of a delivery whose signature matches and whose timestamp is recent;
    WebhookRejected (with the reason) otherwise. `headers` are keyed in lower case."""
    message_id = _printable(headers["webhook-id"], "webhook-id")
    stamp = headers["webhook-timestamp"].strip()
    if not _TIMESTAMP.fullmatch(stamp):
        raise WebhookRejected(f"webhook-timestamp {shown_id(stamp)} is not Unix seconds.")
    signed = f"{message_id}.{stamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    if not any(hmac.compare_digest(expected, s) for s in _v1_signatures(headers)):
        raise WebhookRejected(
            "The signature does not match: this delivery was not signed with this secret, "
            "or its body, webhook-id or webhook-timestamp changed on the way.",
            hint=SIGNATURE_HINT,
        )
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > tolerance:
        when = f"{age:.0f} s ago" if age > 0 else f"{-age:.0f} s in the future"
        raise WebhookRejected(
            f"webhook-timestamp is outside the tolerance of {tolerance} s: the delivery was "
            f"signed {when} (an old delivery replayed, or a clock that is off).",
            hint="Check this machine's clock; --tolerance SECONDS widens the window.",
        )
    return _event(body, message_id, int(stamp))


def _v1_signatures(headers: Mapping[str, str]) -> list[bytes]:
    entries = _printable(headers["webhook-signature"], "webhook-signature", spaces=True).split()
    if len(entries) > MAX_SIGNATURES:
        raise WebhookRejected(f"webhook-signature holds more than {MAX_SIGNATURES} signatures.")
    found: list[bytes] = []
    for entry in entries:
        version, comma, signature = entry.partition(",")
        if not (comma and version and signature):
            raise WebhookRejected(
                f"webhook-signature entry {shown_id(entry)} is not VERSION,SIGNATURE "
                "(e.g. v1,base64...)."
            )
        if version != "v1":
            continue  # another scheme (v1a is ed25519): not ours to check
        try:
            found.append(base64.b64decode(signature, validate=True))
        except (binascii.Error, ValueError):
            raise WebhookRejected(
                f"webhook-signature entry {shown_id(entry)} is not base64."
            ) from None
    if not found:
        raise WebhookRejected("webhook-signature holds no v1 (HMAC-SHA256) signature.")
    return found


def _printable(value: str, name: str, *, spaces: bool = False) -> str:
    """A header value of visible ASCII (and spaces where the format has them), bounded."""
    text = value.strip()
    words = text.split(" ") if spaces else [text]
    if len(text) > MAX_HEADER_VALUE or not all(_PRINTABLE.fullmatch(w) for w in words if w):
        raise WebhookRejected(f"{name} is not a header value (too long, or control characters).")
    return text


def _event(body: bytes, message_id: str, timestamp: int) -> Event:
    """The signed body read as a Lumenfall event; its fields validated before anyone sees them."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise WebhookRejected("The delivery is signed, but its body is not a JSON object.")
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    output = data.get("output")
    url = output.get("url") if isinstance(output, dict) else None
    return Event(
        webhook_id=message_id,
        timestamp=timestamp,
        type=_word(payload.get("type"), "type"),
        id=_job_id(data.get("id")),
        status=_word(data.get("status"), "data.status"),
        output_url=_url(url),
    )


def _word(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise WebhookRejected(
            f"The delivery is signed, but its {name} {shown_id(value)} is not a plain word."
        )
    return value


def _job_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_job_id(value):
        raise WebhookRejected(
            f"The delivery is signed, but its data.id {shown_id(value)} is not a job id."
        )
    return value


def _url(value: object) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > MAX_URL_LENGTH
        or not value.startswith(("https://", "http://"))
        or not _PRINTABLE.fullmatch(value)
    ):
        raise WebhookRejected(
            f"The delivery is signed, but its data.output.url {shown_id(value)} is not "
            "an http(s) URL."
        )
    return value


def _read_file(source: str, what: str, limit: int) -> bytes:
    path = Path(source).expanduser()
    label = f"{what} file"
    if path.is_dir():
        raise UsageError(f"The {label} {shown_id(source)} is a directory, not a file.")
    try:
        with open(path, "rb") as file:
            return file.read(limit)
    except FileNotFoundError:
        raise UsageError(f"The {label} {shown_id(source)} does not exist.") from None
    except OSError as error:
        raise UsageError(
            f"The {label} {shown_id(source)} cannot be read: {error.strerror or error}."
        ) from None
