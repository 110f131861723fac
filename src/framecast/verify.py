"""Is this file the asset that was asked for? Cheap structural checks, no decoding.

A video must be an ISO base media file (MP4): its top-level boxes parse to
exactly the file's length, `ftyp` comes first, and `moov` and `mdat` are there.
That catches an HTML error page, a text body and a body cut anywhere, whatever
the server claimed. A thumbnail or spritesheet must carry a PNG, WebP or JPEG
signature and, for PNG, end with its IEND chunk.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"
# Box types are four printable characters (Apple's metadata boxes start with ©, 0xA9).
_BOX_TYPE_CHARS = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-\xa9"
)


CUT_SHORT = "runs past the end"  # what a body cut short looks like to the box checks


def cut_short(problem: str | None) -> bool:
    """The problem is only that the bytes stop early: fetching the rest may cure it."""
    return problem is not None and CUT_SHORT in problem


def _describe(head: bytes, size: int) -> str:
    """What a file seems to be, for a message: "text/html, 39 bytes"."""
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        kind = "text/html"
    elif text.startswith((b"{", b"[")):
        kind = "JSON"
    elif text.startswith(b"<?xml") or text.startswith(b"<error"):
        kind = "XML"
    elif head.startswith(_PNG):
        kind = "a PNG image"
    elif head[4:8] == b"ftyp":
        kind = "an incomplete MP4"
    elif head and all(32 <= b < 127 or b in b"\r\n\t" for b in head[:64]):
        kind = "text"
    else:
        kind = "unrecognised bytes"
    return f"{kind}, {size} bytes"


def _verdict(seen: list[bytes]) -> str | None:
    if not seen or seen[0] != b"ftyp":
        return "no 'ftyp' box first"
    missing = [name for name in (b"moov", b"mdat") if name not in seen]
    if missing:
        return "no " + " or ".join(f"'{m.decode()}' box" for m in missing)
    return None


class StreamCheck:
    """The same checks on bytes as they stream past (`-o -`), holding only a few of them."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.size = 0
        self.head = b""
        self.tail = b""
        self.boxes: list[bytes] = []
        self._next = 0  # where the next top-level box starts
        self._header = b""
        self._bad: str | None = None

    def feed(self, chunk: bytes) -> None:
        start = self.size
        self.size += len(chunk)
        if len(self.head) < 512:
            self.head += chunk[: 512 - len(self.head)]
        self.tail = (self.tail + chunk)[-8:]
        if self.variant != "video":
            return
        while self._bad is None and self._next < self.size:
            at = self._next + len(self._header) - start
            self._header += chunk[at : at + 16 - len(self._header)]
            if len(self._header) < 8:
                return
            length, kind = struct.unpack(">I4s", self._header[:8])
            if length == 1:
                if len(self._header) < 16:
                    return
                length = struct.unpack(">Q", self._header[8:16])[0]
            elif length == 0:
                self.boxes.append(kind)
                self._next = -1  # runs to the end, whatever that is
                return
            if not set(kind) <= _BOX_TYPE_CHARS or length < 8:
                self._bad = f"no MP4 box at byte {self._next}"
                return
            self.boxes.append(kind)
            self._next += length
            self._header = b""

    def problem(self) -> str | None:
        if self.variant == "video":
            found = self._bad
            if found is None and self._next > self.size:
                found = f"the last box {CUT_SHORT} at byte {self.size}"
            found = found or _verdict(self.boxes)
        else:
            found = _image_verdict(self.head, self.tail, self.size)
        return None if found is None else f"{found}; got {_describe(self.head, self.size)}"


def mp4_problem(stream: BinaryIO, size: int) -> str | None:
    """None if the top-level boxes describe a whole MP4, else what is wrong."""
    seen: list[bytes] = []
    offset = 0
    while offset < size:
        stream.seek(offset)
        header = stream.read(16)
        if len(header) < 8:
            return f"a truncated box header at byte {offset}"
        length, kind = struct.unpack(">I4s", header[:8])
        if not set(kind) <= _BOX_TYPE_CHARS:
            return f"no MP4 box at byte {offset}"
        if length == 1:
            if len(header) < 16:
                return f"a truncated box header at byte {offset}"
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - offset  # the box runs to the end of the file
        if length < 8:
            return f"a box of impossible length at byte {offset}"
        if offset + length > size:
            return f"the '{kind.decode('latin-1')}' box at byte {offset} {CUT_SHORT}"
        seen.append(kind)
        offset += length
    return _verdict(seen)


def _image_verdict(head: bytes, tail: bytes, size: int) -> str | None:
    if head.startswith(_PNG):
        return None if tail == _PNG_END else "a PNG without its end"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        declared = struct.unpack("<I", head[4:8])[0] + 8
        return None if declared == size else "a WebP of the wrong length"
    if head[:3] == b"\xff\xd8\xff":
        return None
    return "no image signature"


def image_problem(stream: BinaryIO, size: int) -> str | None:
    stream.seek(0)
    head = stream.read(16)
    stream.seek(max(0, size - 8))
    return _image_verdict(head, stream.read(8), size)


def problem(path: Path, variant: str) -> str | None:
    """None when `path` holds a whole asset of this kind; else what arrived, for a message."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        found = mp4_problem(stream, size) if variant == "video" else image_problem(stream, size)
        if found is None:
            return None
        stream.seek(0)
        head = stream.read(512)
    return f"{found}; got {_describe(head, size)}"
