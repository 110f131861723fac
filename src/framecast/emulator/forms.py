"""Read request bodies the way the real services do: JSON or multipart/form-data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any

from framecast.emulator.wire import ApiError, Request

_INDEXED = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<key>[A-Za-z_]*|\d+)\]$")


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Form:
    fields: dict[str, Any] = field(default_factory=dict)
    uploads: dict[str, list[Upload]] = field(default_factory=dict)
    multipart: bool = False


def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return _read_multipart(request)
    if not request.body.strip():
        return Form()
    if content_type and not content_type.startswith("application/json"):
        raise ApiError(
            415,
            f"Unsupported content type {content_type!r}; "
            "send application/json or multipart/form-data.",
        )
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"We could not parse the JSON body of your request: {exc}.") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return Form(fields=payload)


def _read_multipart(request: Request) -> Form:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise ApiError(400, "The multipart body could not be parsed.")
    form = Form(multipart=True)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        indexed = _INDEXED.match(name)
        base = indexed["name"] if indexed else name
        if filename is not None:
            upload = Upload(filename, part.get_content_type(), data)
            form.uploads.setdefault(base, []).append(upload)
            continue
        text = data.decode("utf-8", errors="replace")
        if indexed and indexed["key"] and not indexed["key"].isdigit():
            # input_reference[image_url]=... is an object sent field by field
            form.fields.setdefault(base, {})[indexed["key"]] = text
        elif indexed or base in form.fields:
            existing = form.fields.get(base)
            items = (
                existing if isinstance(existing, list) else ([] if existing is None else [existing])
            )
            form.fields[base] = [*items, text]
        else:
            form.fields[base] = text
    return form
