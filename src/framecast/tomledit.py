"""Edit one table of a TOML document and keep every other byte: a statement scanner and editor.

`scan(text)` splits a document into statements, each with its exact span, so that joining
their texts gives the document back: table headers (`[a."b c"]`, `[[a.b]]`), key/value
statements (a value may span lines: multi-line strings, arrays, inline tables), comment
lines and blank lines. A comment after a header or a value is part of its statement.

`replace_table(text, path, new, dump)` makes the table at `path` hold exactly `new` (or
removes it), wherever it is written: `[path]` with its sub-tables and arrays of tables,
dotted keys (`a.b = 1` in another table), or an inline table. `set_key` sets one top-level
key. Only the standard library is used; `dump` (tomli_w.dumps) renders new values.

Which comments belong to which statement (a removed key or table takes its own along,
and nothing else):

1. The comment lines directly above a key (no blank line between) belong to that key.
2. The comment lines directly above a header belong to that header's table: they introduce
   it. So a comment that closes one profile and introduces the next stays with the next.
   (A comment block starting on the file's first line belongs to the file, never to a
   table.)
3. The comment lines directly below a table's last key (or its header when it has no keys)
   belong to that table, unless rule 2 gives them to the next header. Other comments
   between a header and its last key belong to the table too.
4. Anything else between a table's last key and the next header or the end of the file
   (blank lines, and comments with a blank line above them) belongs to the file, except
   between two tables that are both removed. So a comment at the end of the file after a
   blank line always stays.

Editing the table at `path`:

- A key whose value is unchanged keeps its text; a changed value has only its value text
  replaced (the comments above it and after it stay; comments inside the old value, such
  as those of a multi-line array, go with the old value); a key no longer present goes
  with its comments (rule 1).
- A table no longer present goes with its comments (rules 2 and 3). An array of tables is
  kept whole when it is unchanged, otherwise rewritten whole (as an inline array).
- New keys go after the last key of the deepest table that holds them (as dotted keys when
  needed; after the last dotted key when the table is written with dotted keys), new
  sub-tables after the table's last sub-table; a table that is new altogether goes at the
  end of the file, and a missing `[path]` header of a table that has sub-tables goes
  before the first of them.
- Where a removed run sat between blank lines (or at the start or end of the file), the
  blank lines on one side go too, so no double blank line is left.
- New text uses the file's newline (CRLF or LF); values are rendered by `dump`, single
  line inside inline tables.

Whatever cannot be edited this way (the table sits inside an inline table that holds
others too; the text is not TOML) raises `EditError`; callers check the result parses to
what they expect before they write it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from framecast.tomlscan import HEADERS, EditError, Statement, scan

__all__ = ["EditError", "Statement", "replace_table", "same", "scan", "set_key"]

Dump = Callable[[Mapping[str, Any]], str]
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class _Block:
    """A table: its header and the statements up to the next header (the root has no header)."""

    head: int  # the header's index; -1 for the root table
    path: tuple[str, ...]
    array: bool
    stop: int  # the next header's index (or the number of statements)
    last: int  # the last key's index, or the header's
    lead: int  # the first comment line that introduces the header (rule 2)
    after: int  # just past the comment lines below the last key (rule 3)


def _layout(statements: list[Statement]) -> list[_Block]:
    heads = [i for i, s in enumerate(statements) if s.kind in HEADERS]
    leads = {head: _comments_above(statements, head, -1) for head in heads}
    blocks = []
    for head, stop in zip([-1, *heads], [*heads, len(statements)], strict=True):
        keys = [i for i in range(head + 1, stop) if statements[i].kind == "keyval"]
        last = keys[-1] if keys else head
        after = last + 1
        while after < stop and statements[after].kind == "comment":
            after += 1
        after = min(after, leads.get(stop, stop))
        statement = statements[head] if head >= 0 else Statement("table", 0, 0)
        blocks.append(
            _Block(
                head,
                statement.key,
                statement.kind == "array",
                stop,
                last,
                leads.get(head, 0),
                after,
            )
        )
    return blocks


def _comments_above(statements: list[Statement], index: int, floor: int) -> int:
    """The first of the comment lines directly above `index` (rules 1 and 2)."""
    first = index
    while first - 1 > floor and statements[first - 1].kind == "comment":
        first -= 1
    return index if first == 0 else first


def same(a: Any, b: Any) -> bool:
    """Equal as TOML data: types must match (1, 1.0 and true differ), nan equals nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


class _Render:
    """New text for keys, values and tables, in the document's newline style."""

    def __init__(self, dump: Dump, newline: str) -> None:
        self.dump, self.newline = dump, newline

    def key(self, parts: tuple[str, ...]) -> str:
        return ".".join(self.dump({part: 0})[: -len(" = 0\n")] for part in parts)

    def value(self, value: Any) -> str:
        if isinstance(value, dict):
            items = ", ".join(f"{self.key((k,))} = {self.value(v)}" for k, v in value.items())
            return f"{{ {items} }}" if value else "{}"
        if isinstance(value, list) and _holds_table(value):
            return "[" + ", ".join(self.value(item) for item in value) + "]"
        return self.dump({"x": value})[4:-1].replace("\n", self.newline)

    def line(self, indent: str, parts: tuple[str, ...], value: Any) -> str:
        return f"{indent}{self.key(parts)} = {self.value(value)}{self.newline}"

    def table(self, path: tuple[str, ...], value: dict[str, Any]) -> str:
        nested: dict[str, Any] = value
        for part in reversed(path):
            nested = {part: nested}
        return self.dump(nested).replace("\n", self.newline)


def _holds_table(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_holds_table(item) for item in value)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _parse(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(f"it is not valid TOML ({exc})") from None


def set_key(text: str, key: str, value: Any, dump: Dump) -> str:
    """`text` with top-level `key` set to `value`: its value replaced, or a line added first."""
    _parse(text)
    statements = scan(text)
    render = _Render(dump, _newline(text))
    for statement in statements:
        if statement.kind in HEADERS:
            break
        if statement.kind == "keyval" and statement.key == (key,):
            start, end = statement.value_start, statement.value_end
            return text[:start] + render.value(value) + text[end:]
    line = render.line("", (key,), value)
    return line + render.newline + text if text else line


def replace_table(
    text: str, path: tuple[str, ...], new: Mapping[str, Any] | None, dump: Dump
) -> str:
    """`text` with the table at `path` holding exactly `new`; `None` removes it."""
    data = _parse(text)
    statements = scan(text)
    render = _Render(dump, _newline(text))
    edit = _Edit()
    old = _lookup(data, path)
    planner = _Planner(text, statements, path, {}, render, edit)
    planner.check()
    if old is _MISSING:
        if new is not None:
            edit.insert(len(statements) - 1, _Separated(render.table(path, dict(new))))
    elif not isinstance(old, dict):
        raise EditError(f"{'.'.join(path)} is not a table")
    else:
        planner.old = old
        planner.plan(None if new is None else dict(new))
    return _join(text, statements, edit, render.newline)


class _Separated(str):
    """Inserted text that wants a blank line before it (a new table)."""

    __slots__ = ()


class _Edit:
    """What becomes of the statements: dropped, given a new value text, or followed by text."""

    def __init__(self) -> None:
        self.drop: set[int] = set()
        self.values: dict[int, str] = {}
        self.after: dict[int, list[str]] = {}  # -1: before the first statement

    def insert(self, index: int, text: str) -> None:
        self.after.setdefault(index, []).append(text)


Rel = tuple[str, ...]


class _Planner:
    def __init__(
        self,
        text: str,
        statements: list[Statement],
        path: Rel,
        old: dict[str, Any],
        render: _Render,
        edit: _Edit,
    ) -> None:
        self.text, self.statements, self.path = text, statements, path
        self.old, self.render, self.edit = old, render, edit
        self.blocks = _layout(statements)
        self.block_of = {i: b for b in self.blocks for i in range(max(b.head, 0), b.stop)}

    def rel(self, full: Rel) -> Rel | None:
        return full[len(self.path) :] if full[: len(self.path)] == self.path else None

    def check(self) -> None:
        """The table must not sit inside a value or an array of tables: those hold others too."""
        name = ".".join(self.path)
        for i, statement in enumerate(self.statements):
            full = self.block_of[i].path + statement.key
            if statement.kind == "keyval" and self.path[: len(full)] == full != self.path:
                raise EditError(f"{name} is inside the inline table {'.'.join(full)}")
            if statement.kind == "array" and self.path[: len(statement.key)] == statement.key:
                raise EditError(f"{name} is inside the array of tables {'.'.join(statement.key)}")

    def plan(self, new: dict[str, Any] | None) -> None:
        mine = [b for b in self.blocks if b.head >= 0 and self.rel(b.path) is not None]
        arrays = {b.path for b in self.blocks if b.array}
        explicit: dict[Rel, _Block] = {}
        units: dict[Rel, list[_Block]] = {}
        removed: list[_Block] = []
        for block in mine:
            rel = block.path[len(self.path) :]
            unit = next(
                (rel[:n] for n in range(1, len(rel) + 1) if self.path + rel[:n] in arrays), None
            )
            if unit is not None:
                units.setdefault(unit, []).append(block)
            elif new is not None and isinstance(_lookup(new, rel), dict):
                explicit[rel] = block
            else:
                removed.append(block)
        covered: set[Rel] = set()
        for unit, blocks in units.items():
            if new is not None and same(_lookup(self.old, unit), _lookup(new, unit)):
                covered.add(unit)
            else:
                removed.extend(blocks)
        self.remove(removed)
        in_units = {b.head for blocks in units.values() for b in blocks}
        dotted: list[int] = []  # kept keys of the table written in other tables
        for i, statement in enumerate(self.statements):
            block = self.block_of[i]
            key = self.rel(block.path + statement.key)
            if statement.kind != "keyval" or key is None or i in self.edit.drop:
                continue
            if block.head in in_units:
                continue
            rel = key
            want = _MISSING if new is None else _lookup(new, rel)
            if want is _MISSING:
                first = _comments_above(self.statements, i, block.head)
                self.edit.drop.update(range(first, i + 1))
                continue
            if not same(_lookup(self.old, rel), want):
                self.edit.values[i] = self.render.value(want)
            covered.add(rel)
            if self.rel(block.path) is None:
                dotted.append(i)
        if new is not None:
            self.place(new, mine, explicit, covered, dotted)
        self.collapse()

    def remove(self, removed: list[_Block]) -> None:
        heads = {block.head for block in removed}
        following = {block.head: i + 1 for i, block in enumerate(self.blocks)}
        for block in removed:
            self.edit.drop.update(range(block.lead, block.after))
            after = (
                self.blocks[following[block.head]] if block.stop < len(self.statements) else None
            )
            if after is not None and after.head in heads:  # rule 4: between two removed tables
                self.edit.drop.update(range(block.after, after.lead))

    def place(
        self,
        new: dict[str, Any],
        mine: list[_Block],
        explicit: dict[Rel, _Block],
        covered: set[Rel],
        dotted: list[int],
    ) -> None:
        """Add what `new` holds and no kept statement gives."""
        below = {rel[:n] for rel in [*explicit, *covered] for n in range(len(rel))}
        missing: list[tuple[Rel, Any]] = []

        def walk(rel: Rel, table: dict[str, Any]) -> None:
            for key, value in table.items():
                here = (*rel, key)
                if here in covered:
                    continue
                if isinstance(value, dict) and (here in explicit or here in below):
                    walk(here, value)
                else:
                    missing.append((here, value))

        if () not in covered:
            walk((), new)
        main_exists = () in explicit or bool(dotted)
        tables: list[tuple[Rel, Any]] = []
        lines: dict[int, list[str]] = {}
        main: list[str] = []
        for rel, value in missing:
            parent = rel[:-1]
            if isinstance(value, dict) and (parent in explicit or not (parent or main_exists)):
                tables.append((rel, value))
                continue
            hosts = [r for r in explicit if parent[: len(r)] == r]
            if hosts:
                host = explicit[max(hosts, key=len)]
                anchor, parts = host.last, rel[len(host.path) - len(self.path) :]
            elif dotted:
                anchor = dotted[-1]
                parts = (*self.path, *rel)[len(self.block_of[anchor].path) :]
            else:
                main.append(self.render.line("", rel, value))
                continue
            line = self.render.line(self.indent(anchor), parts, value)
            lines.setdefault(anchor, []).append(line)
        for anchor, texts in lines.items():
            self.edit.insert(anchor, "".join(texts))
        end = mine[-1].after - 1 if mine else len(self.statements) - 1
        if main or not (explicit or covered or lines or tables):
            header = self.render.table(self.path, {})
            if mine:  # before the table's first sub-table, with its comments
                self.edit.insert(mine[0].lead - 1, header + "".join(main) + self.render.newline)
            else:
                self.edit.insert(end, _Separated(header + "".join(main)))
        for rel, value in tables:
            self.edit.insert(end, _Separated(self.render.table((*self.path, *rel), value)))

    def indent(self, index: int) -> str:
        statement = self.statements[index]
        if statement.kind != "keyval":
            return ""
        line = self.text[statement.start : statement.end]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def collapse(self) -> None:
        """A removed run between blank lines (or at the file's edge) takes one side's along."""
        drop, statements = self.edit.drop, self.statements
        for start in sorted(drop):
            if start - 1 in drop:
                continue
            stop = start
            while stop + 1 in drop:
                stop += 1
            if stop + 1 < len(statements) and statements[stop + 1].kind != "blank":
                continue
            if start > 0 and statements[start - 1].kind != "blank":
                continue
            i, step = (start - 1, -1) if start > 0 else (stop + 1, 1)
            while 0 <= i < len(statements) and statements[i].kind == "blank" and i not in drop:
                drop.add(i)
                i += step


def _ends_blank(text: str) -> bool:
    lines = text.rsplit("\n", 2)
    return len(lines) < 3 or not lines[-2].strip()


def _join(text: str, statements: list[Statement], edit: _Edit, newline: str) -> str:
    out = ""

    def add(piece: str) -> str:
        written = out
        if written and not written.endswith("\n"):
            written += newline
        if isinstance(piece, _Separated) and written.strip() and not _ends_blank(written):
            written += newline
        return written + piece

    for piece in edit.after.get(-1, []):
        out = add(piece)
    for i, statement in enumerate(statements):
        if i in edit.values:
            out += text[statement.start : statement.value_start] + edit.values[i]
            out += text[statement.value_end : statement.end]
        elif i not in edit.drop:
            out += text[statement.start : statement.end]
        for piece in edit.after.get(i, []):
            out = add(piece)
    return out
