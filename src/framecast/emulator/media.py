"""Rendered assets of finished jobs, signed media URLs and byte-range answers."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from fractions import Fraction

from framecast.emulator.mp4 import render_mp4
from framecast.emulator.stills import render_spritesheet, render_thumbnail
from framecast.emulator.store import VideoRecord
from framecast.emulator.wire import ApiError, Request, Response

VARIANTS = {
    "video": ("video/mp4", "mp4"),
    "thumbnail": ("image/webp", "webp"),
    "spritesheet": ("image/webp", "webp"),
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Renderer:
    """Renders assets on first request and keeps the last few in memory."""

    def __init__(self, max_entries: int = 6) -> None:
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def render(self, record: VideoRecord, variant: str) -> bytes:
        key = (record.id, variant)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        fps = Fraction(record.fps)
        if variant == "video":
            data = render_mp4(record.prompt, record.width, record.height, record.seconds, fps)
        elif variant == "thumbnail":
            data = render_thumbnail(record.prompt, record.width, record.height)
        else:
            frames = round(record.seconds * fps)
            data = render_spritesheet(record.prompt, record.width, record.height, frames)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return data


def signature(key: bytes, video_id: str, variant: str, expires: int) -> str:
    message = f"{video_id}/{variant}/{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def signed_path(key: bytes, video_id: str, variant: str, expires: int) -> str:
    ext = VARIANTS[variant][1]
    sig = signature(key, video_id, variant, expires)
    return f"/media/{video_id}/{variant}.{ext}?expires={expires}&signature={sig}"


def asset_response(request: Request, data: bytes, variant: str, etag_seed: str) -> Response:
    """200 with the whole asset, or 206 for a satisfiable `Range: bytes=...`."""
    content_type, ext = VARIANTS[variant]
    etag = '"' + hashlib.sha1(f"{etag_seed}/{variant}/{len(data)}".encode()).hexdigest() + '"'
    headers = [
        ("content-type", content_type),
        ("accept-ranges", "bytes"),
        ("etag", etag),
        ("content-disposition", f'attachment; filename="{etag_seed}.{ext}"'),
    ]
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is None or (if_range is not None and if_range != etag):
        return Response(200, data, headers)
    match = _RANGE.match(wanted.strip())
    total = len(data)
    if match is None or (match[1] == "" and match[2] == ""):
        return Response(200, data, headers)
    if match[1] == "":
        start, end = max(0, total - int(match[2])), total - 1
    else:
        start = int(match[1])
        end = min(int(match[2]), total - 1) if match[2] else total - 1
    if start >= total or start > end:
        raise ApiError(
            416, "Requested range not satisfiable", headers=[("content-range", f"bytes */{total}")]
        )
    headers.append(("content-range", f"bytes {start}-{end}/{total}"))
    return Response(206, data[start : end + 1], headers)
