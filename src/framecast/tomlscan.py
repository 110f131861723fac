"""Scanning a TOML document into statements with exact spans, for tomledit.

Each statement (a blank or comment line, a table header, a key and its value, which
may span lines in multi-line strings and arrays) knows where it starts and ends, so
the spans tile the text exactly and an editor can change one without touching the
bytes around it. Standard library only; tomllib checks the result.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

__all__ = ["HEADERS", "EditError", "Statement", "scan"]

HEADERS = ("table", "array")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_STRING = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"{1,2}(?!"))*"""(?:""|")?'
    r"|'''(?:[^']|'{1,2}(?!'))*'''(?:''|')?"
    r'|"(?:[^"\\\r\n]|\\.)*"'
    r"|'[^'\r\n]*'"
)
_SCALAR = re.compile(r"[^#\r\n]*")


class EditError(ValueError):
    """The document cannot be scanned or edited safely; the message says why."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: its kind, its span (newline included) and, for keys, the value's span."""

    kind: str  # blank, comment, table, array, keyval
    start: int
    end: int
    key: tuple[str, ...] = ()  # the header's path, or the (dotted) key
    value_start: int = 0
    value_end: int = 0


def scan(text: str) -> list[Statement]:
    """The statements of a TOML document, in order; their spans tile the text exactly."""
    scanner = _Scanner(text)
    statements: list[Statement] = []
    position = 0
    while position < len(text):
        statement = scanner.statement(position)
        statements.append(statement)
        position = statement.end
    return statements


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, position: int, what: str) -> EditError:
        line = self.text.count("\n", 0, position) + 1
        return EditError(f"{what} on line {line}")

    def spaces(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

    def line_end(self, i: int) -> int:
        """After optional spaces and a comment, the end of the line's newline."""
        text = self.text
        i = self.spaces(i)
        if text.startswith("#", i):
            i = self.comment(i)
        if i >= len(text):
            return i
        if text.startswith("\n", i):
            return i + 1
        if text.startswith("\r\n", i):
            return i + 2
        raise self.fail(i, "unexpected text after a statement")

    def comment(self, i: int) -> int:
        while i < len(self.text) and self.text[i] not in "\r\n":
            i += 1
        return i

    def key(self, i: int) -> tuple[tuple[str, ...], int]:
        parts: list[str] = []
        while True:
            i = self.spaces(i)
            if self.text.startswith(('"', "'"), i):
                end = self.string(i)
                raw = self.text[i:end]
                if raw.startswith(('"""', "'''")):
                    raise self.fail(i, "a multi-line string as a key")
                part = raw[1:-1] if raw[0] == "'" else tomllib.loads(f"k = {raw}")["k"]
                parts.append(str(part))
            else:
                bare = _BARE.match(self.text, i)
                if bare is None:
                    raise self.fail(i, "a key was expected")
                parts.append(bare.group())
                end = bare.end()
            i = self.spaces(end)
            if not self.text.startswith(".", i):
                return tuple(parts), i
            i += 1

    def string(self, i: int) -> int:
        match = _STRING.match(self.text, i)
        if match is None:
            raise self.fail(i, "an unterminated string")
        return match.end()

    def value(self, i: int) -> int:
        """The end of the value starting at `i` (strings, arrays, inline tables, scalars)."""
        text = self.text
        if text.startswith(('"', "'"), i):
            return self.string(i)
        if text.startswith(("[", "{"), i):
            depth = 0
            while i < len(text):
                char = text[i]
                if char in "[{":
                    depth, i = depth + 1, i + 1
                elif char in "]}":
                    depth, i = depth - 1, i + 1
                    if depth == 0:
                        return i
                elif char in "\"'":
                    i = self.string(i)
                elif char == "#":
                    i = self.comment(i)
                else:
                    i += 1
            raise self.fail(i, "an unclosed array or inline table")
        scalar = _SCALAR.match(text, i)
        end = i + len(scalar.group().rstrip(" \t")) if scalar else i
        if end == i:
            raise self.fail(i, "a value was expected")
        return end

    def statement(self, start: int) -> Statement:
        text = self.text
        i = self.spaces(start)
        if i >= len(text) or text.startswith(("\n", "\r\n"), i):
            return Statement("blank", start, self.line_end(i))
        if text.startswith("#", i):
            return Statement("comment", start, self.line_end(i))
        if text.startswith("[", i):
            array = text.startswith("[[", i)
            key, i = self.key(i + (2 if array else 1))
            close = "]]" if array else "]"
            if not text.startswith(close, i):
                raise self.fail(i, f"{close!r} was expected")
            return Statement(
                "array" if array else "table", start, self.line_end(i + len(close)), key
            )
        key, i = self.key(i)
        if not text.startswith("=", i):
            raise self.fail(i, "'=' was expected")
        value_start = self.spaces(i + 1)
        value_end = self.value(value_start)
        end = self.line_end(value_end)
        return Statement("keyval", start, end, key, value_start, value_end)
