"""Profiles edited in place: generated config files keep every byte outside the profile.

The property test builds config files statement by statement, knowing which profile (if
any) each statement belongs to under the rules in framecast.tomledit's docstring, then
saves, replaces, deletes or makes default one profile and checks that every other
statement is still there, unchanged and in order; that the profile's comments survive
exactly where their keys (or tables) do; and that the file parses to what was asked.
"""

from __future__ import annotations

import copy
import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from framecast import config, tomledit
from framecast.errors import ConfigError
from tests.conftest import invoke

MISSING: Any = object()
NAMES = ("a", "b", "c-1", "d_2", "e")
FRAGMENTS = (
    "[profiles.b]",
    "[[profiles.a.params.runs]]",
    'default_profile = "x"',
    "# not a comment",
    '"""',
    "'''",
    '"',
    "'",
    "\\",
    "\n",
    "\t",
    " ",
    "noir",
    "é",
    "a = 1",
    "{",
    "}",
    "]",
    ",",
    "#",
)
texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=5).map("".join),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=6),
)
keys = st.one_of(st.sampled_from(("style", "x", "runs", "a b", "x.y", "é", "", "q")), texts)
leaves = st.one_of(
    texts,
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
)
nested = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
param_values = st.one_of(
    leaves,
    nested,
    st.dictionaries(keys, nested, min_size=1, max_size=3),  # a sub-table
    st.lists(st.dictionaries(keys, nested, max_size=3), min_size=1, max_size=3),  # tables
)
KIND_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": texts,
    "int": st.integers(-(2**40), 2**40),
    "number": st.integers(0, 10**6) | st.floats(0, 1e6),
    "bool": st.booleans(),
    "list": st.lists(texts, max_size=3),
    "strings": st.dictionaries(keys, texts, max_size=3),
    "table": st.one_of(
        st.dictionaries(keys, param_values, max_size=4),
        st.fixed_dictionaries(  # an array of tables, most often written as [[...]]
            {"runs": st.lists(st.dictionaries(keys, leaves, max_size=2), min_size=1, max_size=3)},
            optional={"style": texts, "deep": st.dictionaries(keys, nested, max_size=3)},
        ),
    ),
}
TABLES = tuple(key for key, spec in config.KEYS.items() if spec.kind in ("strings", "table"))
OTHERS = tuple(key for key in config.KEYS if key not in TABLES)


def value_of(key: str) -> st.SearchStrategy[Any]:
    spec = config.KEYS[key]
    return st.sampled_from(spec.choices) if spec.choices else KIND_VALUES[spec.kind]


def settings_with(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({key: value_of(key) for key in keys})


profile_settings = st.tuples(
    st.lists(st.sampled_from(OTHERS), max_size=4, unique=True),
    st.lists(st.sampled_from(TABLES), max_size=len(TABLES), unique=True),
).flatmap(lambda chosen: settings_with([*chosen[0], *chosen[1]]))


# -- writing TOML by hand, in every style -----------------------------------


def basic(value: str, *, multiline: bool = False) -> str:
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif (char == "\n" and multiline) or char == "\t" or (ord(char) >= 32 and ord(char) != 127):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}")
    body = "".join(out)
    return f'"""\n{body}"""' if multiline else f'"{body}"'


def string(draw: st.DrawFn, value: str, *, inline: bool) -> str:
    plain = all(c == "\t" or (ord(c) >= 32 and ord(c) != 127) for c in value.replace("\n", ""))
    styles = ["basic"]
    if plain and "'" not in value and "\n" not in value:
        styles.append("literal")
    if not inline:
        styles.append("multi-basic")
        if plain and "'''" not in value and not value.endswith("'"):
            styles.append("multi-literal")
    style = draw(st.sampled_from(styles))
    text = {
        "basic": lambda: basic(value),
        "literal": lambda: f"'{value}'",
        "multi-basic": lambda: basic(value, multiline=True),
        "multi-literal": lambda: f"'''\n{value}'''",
    }[style]()
    assert tomllib.loads(f"x = {text}")["x"] == value, text
    return text


def key_text(draw: st.DrawFn, parts: tuple[str, ...]) -> str:
    out = []
    for part in parts:
        bare = bool(part) and all(c.isascii() and (c.isalnum() or c in "_-") for c in part)
        if bare and draw(st.integers(0, 4)) > 0:
            out.append(part)
        else:
            out.append(string(draw, part, inline=True))
    return draw(st.sampled_from([".", " . "])).join(out)


def value_text(draw: st.DrawFn, value: Any, *, inline: bool, comments: list[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value >= 0 and draw(st.booleans()):
            return hex(value)
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return string(draw, value, inline=inline)
    if isinstance(value, dict):
        items = [
            f"{key_text(draw, (k,))} = {value_text(draw, v, inline=True, comments=comments)}"
            for k, v in value.items()
        ]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    items = [value_text(draw, v, inline=inline, comments=comments) for v in value]
    if inline or not items or not draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    lines = []
    for item in items:
        note = ""
        if draw(st.booleans()):
            comments.append(f"# inner {len(comments)}")
            note = " " + comments[-1]
        lines.append(f"  {item},{note}\n")
    return "[\n" + "".join(lines) + "]"


# -- a generated file, statement by statement --------------------------------


@dataclass
class Chunk:
    """One statement of a generated file, and what it belongs to."""

    text: str
    kind: str  # blank, comment, header, keyval
    owner: str | None = None  # the profile, or None for the file's own
    rel: tuple[str, ...] = ()  # the key (keys and their comments) or table (its comments)
    unit: tuple[str, ...] | None = None  # the array of tables it sits in
    table_comment: bool = False  # a header, or a comment that belongs to the table `rel`
    prefix: str = ""  # keyval: the text before the value
    suffix: str = ""  # keyval: the text after the value
    between: tuple[str | None, str | None] = (None, None)  # a free comment's neighbours


class Writer:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.serial = 0

    def comment(self, label: str) -> str:
        self.serial += 1
        pad = self.draw(st.sampled_from(["", "  ", "\t"]))
        return f"{pad}# {label} {self.serial} [profiles.z] = '''\n"

    def keyval(
        self,
        owner: str | None,
        rel: tuple[str, ...],
        key: tuple[str, ...],
        value: Any,
        *,
        unit: tuple[str, ...] | None = None,
        inline: bool = False,
    ) -> list[Chunk]:
        """A key with 0-2 comment lines above it and maybe a comment after it."""
        draw = self.draw
        chunks = [
            Chunk(self.comment("about"), "comment", owner, rel, unit)
            for _ in range(draw(st.integers(0, 2)))
        ]
        indent = draw(st.sampled_from(["", "  "]))
        prefix = indent + key_text(draw, key) + draw(st.sampled_from([" = ", "=", "  =  "]))
        text = value_text(draw, value, inline=inline, comments=[])
        suffix = "\n"
        if draw(st.booleans()):
            self.serial += 1
            suffix = f"  # trailing {self.serial} = [x]\n"
        whole = prefix + text + suffix
        chunks.append(Chunk(whole, "keyval", owner, rel, unit, False, prefix, suffix))
        return chunks

    def table(
        self,
        owner: str | None,
        path: tuple[str, ...],
        items: list[tuple[tuple[str, ...], Any]],
        *,
        array: bool = False,
        unit: tuple[str, ...] | None = None,
    ) -> list[Chunk]:
        """Comments introducing a header, the header, its keys and the comments after them."""
        draw = self.draw
        rel = path[2:]
        chunks = [
            Chunk(self.comment("leads"), "comment", owner, rel, unit, True)
            for _ in range(draw(st.integers(0, 2)))
        ]
        open_, close = ("[[", "]]") if array else ("[", "]")
        note = f"  # header {self.serial}" if draw(st.booleans()) else ""
        pad = draw(st.sampled_from(["", " "]))
        header = f"{open_}{pad}{key_text(draw, path)}{pad}{close}{note}\n"
        chunks.append(Chunk(header, "header", owner, rel, unit, True))
        for n, (key, value) in enumerate(items):
            if n and draw(st.integers(0, 3)) == 0:
                chunks.append(Chunk("\n", "blank", owner, rel, unit, True))
                if draw(st.booleans()):
                    chunks.append(Chunk(self.comment("body"), "comment", owner, rel, unit, True))
                    chunks.append(Chunk("\n", "blank", owner, rel, unit, True))
            chunks += self.keyval(owner, (*rel, *key), key, value, unit=unit)
        if draw(st.integers(0, 2)) == 0:
            chunks.append(Chunk(self.comment("after"), "comment", owner, rel, unit, True))
        return chunks


def emit_profile(
    w: Writer, name: str, profile: dict[str, Any], *, arrays: bool
) -> list[list[Chunk]]:
    """The profile's tables, a group of chunks each. Its tables become sub-tables, dotted
    keys or inline tables, its lists of tables arrays of tables or inline arrays; a table
    with nothing but sub-tables may have no header of its own."""
    groups: list[list[Chunk]] = []

    def emit(rel: tuple[str, ...], table: dict[str, Any]) -> None:
        items: list[tuple[tuple[str, ...], Any]] = []
        later: list[tuple[tuple[str, ...], Any]] = []
        for key, value in table.items():
            forced = arrays and (*rel, key) in (("params",), ("params", "runs"))
            style = "table" if forced else w.draw(st.sampled_from(["table", "dotted", "inline"]))
            tables = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            if isinstance(value, dict) and value and style == "table":
                later.append(((*rel, key), value))
            elif isinstance(value, dict) and value and style == "dotted":
                items += [((key, k), v) for k, v in value.items()]
            elif tables and style == "table":
                later.append(((*rel, key), value))
            else:
                items.append(((key,), value))
        if items or not later or w.draw(st.booleans()):
            groups.append(w.table(name, ("profiles", name, *rel), items))
        for here, value in later:
            if isinstance(value, dict):
                emit(here, value)
                continue
            group: list[Chunk] = []
            for element in value:
                elements: list[tuple[tuple[str, ...], Any]] = [
                    ((k,), v) for k, v in element.items()
                ]
                path = ("profiles", name, *here)
                group += w.table(name, path, elements, array=True, unit=here)
            groups.append(group)

    emit((), profile)
    return groups


@dataclass
class Generated:
    text: str
    chunks: list[Chunk]
    default: str | None


@st.composite
def config_files(draw: st.DrawFn) -> Generated:
    w = Writer(draw)
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    profiles = {name: draw(profile_settings) for name in names}
    forms = {name: draw(st.sampled_from(["tables"] * 3 + ["dotted", "inline"])) for name in names}
    arrays = draw(st.booleans())  # every profile has [[profiles.NAME.params.runs]] tables
    for name in names if arrays else ():
        runs = draw(st.lists(st.dictionaries(keys, leaves, max_size=2), min_size=1, max_size=3))
        profiles[name]["params"] = {**profiles[name].get("params", {}), "runs": runs}
        forms[name] = "tables"
    at_root = draw(st.booleans())  # dotted and inline profiles at the top, or under [profiles]
    top: list[Chunk] = []
    if draw(st.booleans()):
        top.append(Chunk(w.comment("title"), "comment"))
    default = draw(st.sampled_from([None, *names]))
    if default is not None:
        top += w.keyval(None, (), ("default_profile",), default)
    groups: list[list[Chunk]] = []
    loose: list[Chunk] = []
    for name in names:
        profile = profiles[name]
        if forms[name] == "tables" or (forms[name] == "dotted" and not profile):
            groups += emit_profile(w, name, profile, arrays=arrays)
            continue
        prefix = ("profiles", name) if at_root else (name,)
        pairs = (
            [((), profile)] if forms[name] == "inline" else [((k,), v) for k, v in profile.items()]
        )
        for key, value in pairs:
            loose += w.keyval(name, key, (*prefix, *key), value, inline=True)
    if loose and at_root:
        top += loose
    elif loose:
        container = [c for c in w.table(None, ("profiles", ""), []) if c.kind != "comment"]
        header = "[profiles]" + container[0].text.partition("]")[2]
        groups.append([Chunk(header, "header"), *loose])
    chunks = list(top)
    previous: str | None = None
    for index in draw(st.permutations(range(len(groups)))):
        group = groups[index]
        owner = next((c.owner for c in group if c.kind == "header"), None)
        separator = draw(st.sampled_from(["", "blank", "free"])) if chunks else ""
        if separator == "" and chunks and chunks[-1].kind == "comment":
            separator = "blank"  # else the comments after the last key would introduce this table
        if separator == "free":
            chunks.append(Chunk("\n", "blank"))
            chunks.append(Chunk(w.comment("free"), "comment", between=(previous, owner)))
        if separator:
            chunks.append(Chunk("\n", "blank"))
        chunks += group
        previous = owner
    trailing = draw(st.booleans())  # a comment at the end, after a blank line
    if chunks and trailing:
        chunks.append(Chunk("\n", "blank"))
        chunks.append(Chunk(w.comment("trailing"), "comment"))
    for chunk in chunks:  # comments from the first line on are the file's own
        if chunk.kind != "comment":
            break
        chunk.owner = None
    if draw(st.booleans()):
        for chunk in chunks:
            chunk.text, chunk.prefix, chunk.suffix = (
                part.replace("\n", "\r\n") for part in (chunk.text, chunk.prefix, chunk.suffix)
            )
    text = "".join(chunk.text for chunk in chunks)
    assert tomledit.same(tomllib.loads(text).get("profiles", {}), profiles), text
    return Generated(text, chunks, default)


def lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def updated(draw: Callable[[st.SearchStrategy[Any]], Any], old: dict[str, Any]) -> dict[str, Any]:
    """What `profile save` hands over: the old settings with some set, merged or dropped."""
    new = copy.deepcopy(old)
    for key in draw(st.lists(st.sampled_from(sorted(config.KEYS)), max_size=3, unique=True)):
        action = draw(st.sampled_from(["set", "drop", "merge", "tweak"]))
        if action == "drop":
            new.pop(key, None)
        elif action == "merge" and isinstance(new.get(key), dict):
            new[key] = {**new[key], **draw(value_of(key))}
        elif action == "tweak" and key == "params" and new.get(key):
            new[key][draw(st.sampled_from(sorted(new[key])))] = draw(param_values)
        else:
            new[key] = draw(value_of(key))
    return new


def without_empty_profiles(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k == "profiles" and v == {})}


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.parametrize("op", ["new", "update", "replace", "delete", "default"])
@given(generated=config_files(), data=st.data())
def test_edits_keep_every_statement_outside_the_profile(
    op: str, generated: Generated, data: st.DataObject
) -> None:
    text, chunks = generated.text, generated.chunks
    assert "".join(text[s.start : s.end] for s in tomledit.scan(text)) == text
    before = tomllib.loads(text)
    profiles: dict[str, Any] = before.get("profiles", {})
    deletable = [name for name in profiles if name != generated.default]
    if op == "delete" and not deletable:
        op = "update"
    name = data.draw(
        st.sampled_from(
            [n for n in NAMES if n not in profiles]
            if op == "new"
            else deletable
            if op == "delete"
            else sorted(profiles)
        )
    )
    old: dict[str, Any] = profiles.get(name, {})
    new: dict[str, Any] | None = None
    if op in ("new", "replace"):
        new = data.draw(profile_settings)
    elif op == "update":
        new = updated(data.draw, old)
    elif op == "default":
        new = old
    expected = copy.deepcopy(before)
    if new is None:
        del expected["profiles"][name]
    else:
        expected.setdefault("profiles", {})[name] = new
    if op == "default":
        expected["default_profile"] = name

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(text.encode())
        if op == "delete":
            config.delete_profile(path, name)
        elif op == "default":
            config.set_default(path, name)
        else:
            assert new is not None
            config.save_profile(path, name, new)
        result = path.read_bytes().decode()

    statements = [result[s.start : s.end] for s in tomledit.scan(result)]
    assert "".join(statements) == result
    event(op)
    mine = [c for c in chunks if c.owner == name]
    event("an array of tables in the profile", str(any(c.unit for c in mine)))
    event("the profile's own header", str(any(c.kind == "header" and not c.rel for c in mine)))
    event("CRLF", str("\r\n" in text))
    parsed = tomllib.loads(result)
    assert tomledit.same(without_empty_profiles(parsed), without_empty_profiles(expected))
    if op == "new":
        assert result.startswith(text)
    if op in ("update", "replace") and tomledit.same(new, old):
        assert result == text, "saving what is there changes nothing"

    # Every statement outside the profile is still there, unchanged and in order.
    at = 0
    for chunk in chunks:
        if chunk.owner == name or chunk.kind == "blank" or chunk.between == (name, name):
            continue
        if op == "default" and chunk.kind == "keyval" and "default_profile" in chunk.prefix:
            found = [
                i
                for i in range(at, len(statements))
                if statements[i].startswith(chunk.prefix) and statements[i].endswith(chunk.suffix)
            ]
        else:
            found = [i for i in range(at, len(statements)) if statements[i] == chunk.text]
        assert found, f"lost {chunk.text!r}"
        at = found[0] + 1

    # The profile's own statements survive exactly where their keys or tables do.
    for chunk in chunks:
        if chunk.owner != name or chunk.kind == "blank":
            continue
        if new is None:
            alive = False
        elif chunk.unit is not None:
            alive = tomledit.same(lookup(old, chunk.unit), lookup(new, chunk.unit))
        elif chunk.table_comment:
            alive = isinstance(lookup(new, chunk.rel), dict)
        else:
            alive = lookup(new, chunk.rel) is not MISSING
        if chunk.kind == "comment":
            assert (chunk.text in statements) == alive, (alive, chunk.text)
        elif chunk.kind == "keyval" and alive:
            unchanged = chunk.unit is not None or tomledit.same(
                lookup(old, chunk.rel), lookup(new, chunk.rel)
            )
            if unchanged:
                assert chunk.text in statements
            else:
                assert any(
                    s.startswith(chunk.prefix) and s.endswith(chunk.suffix) for s in statements
                ), chunk.text
        elif chunk.kind == "header" and alive:
            assert chunk.text in statements


# -- the scanner -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ('[profiles.a]\nnegative_prompt = """\n[profiles.b]\n"""\n', ["table", "keyval"]),
        ("x = '''\n[[a]]\n# no comment\n'''  # comment\n", ["keyval"]),
        ('x = """a\\"""\n[b]\n"""\n', ["keyval"]),  # an escaped quote does not close it
        ('x = """ "a"" """\ny = """a""""\n', ["keyval", "keyval"]),  # quotes before the end
        ('x = "#[a]"  # c\n\n# c\n', ["keyval", "blank", "comment"]),
        ('a = [\n  1, # one\n  "]", # two\n]\n', ["keyval"]),
        ('t = { k = "}", j = [1, { m = "]" }] }\n', ["keyval"]),
        ("[ a . \"b.c\" . 'd' ]  # c\n[[a.e]]\n", ["table", "array"]),
        ("a = 1979-05-27 07:32:00Z # c\r\nb = 1\r\n", ["keyval", "keyval"]),
        ("  # indented\n\t\n[a]\nx = 1", ["comment", "blank", "table", "keyval"]),
        ("x = 1\n  ", ["keyval", "blank"]),
    ],
)
def test_the_scanner_tiles_the_text(text: str, kinds: list[str]) -> None:
    tomllib.loads(text)
    statements = tomledit.scan(text)
    assert "".join(text[s.start : s.end] for s in statements) == text
    assert [s.kind for s in statements] == kinds


def test_the_scanner_reads_keys_as_toml_does() -> None:
    text = '[ profiles . "a.b" . \'c d\' ]\n"\\u0078" . y = 1\n'
    header, key = tomledit.scan(text)
    assert header.key == ("profiles", "a.b", "c d")
    assert key.key == ("x", "y") and text[key.value_start : key.value_end] == "1"


@pytest.mark.parametrize("text", ['x = "open\n', "[a\n", "x = [1,\n", "x 1\n", "= 1\n"])
def test_text_that_is_not_toml_is_an_edit_error(text: str) -> None:
    with pytest.raises(tomledit.EditError):
        tomledit.scan(text)


# -- editing, example by example ----------------------------------------------

EXAMPLE = """\
# my framecast settings
default_profile = "b"

# the quick one
[profiles.a]
model = "sora-2"  # cheapest
# how long
seconds = 4

# output goes to clips/
output = "clips/"
# seconds = 8 was too slow

# --- others ---

# about b
[profiles.b]
model = "veo-3.1"
negative_prompt = '''
[profiles.a]
default_profile = "a"
'''
# end of b
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "config.toml"
    file.write_text(EXAMPLE, encoding="utf-8")
    return file


def test_a_changed_value_keeps_its_comments_and_new_keys_follow_the_last_key(path: Path) -> None:
    config.save_profile(path, "a", {"model": "sora-2", "seconds": 8, "output": "clips/", "seed": 1})
    assert path.read_text(encoding="utf-8") == EXAMPLE.replace(
        "seconds = 4", "seconds = 8"
    ).replace('output = "clips/"\n', 'output = "clips/"\nseed = 1\n')


def test_a_removed_key_takes_the_comments_above_it(path: Path) -> None:
    config.save_profile(path, "a", {"model": "sora-2", "output": "clips/"})
    assert path.read_text(encoding="utf-8") == EXAMPLE.replace("# how long\nseconds = 4\n", "")


def test_delete_takes_the_profile_and_its_comments_and_nothing_else(path: Path) -> None:
    """Rule 2: '# the quick one' introduces [profiles.a]; rule 3: '# seconds = 8 ...' sits
    under its last key; rule 4: '# --- others ---' stands alone and stays."""
    config.delete_profile(path, "a")
    head, _, tail = EXAMPLE.partition("# the quick one\n")
    assert (
        path.read_text(encoding="utf-8")
        == head.removesuffix("\n") + tail.partition("# seconds = 8 was too slow\n")[2]
    )


def test_delete_keeps_a_trailing_comment_at_the_end_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    text = '[profiles.a]\nmodel = "x"\n\n[profiles.b]\nmodel = "y"\n\n# the end\n'
    file.write_text(text, encoding="utf-8")
    config.delete_profile(file, "b")
    assert file.read_text(encoding="utf-8") == '[profiles.a]\nmodel = "x"\n\n# the end\n'


def test_comments_between_two_tables_of_a_deleted_profile_go_with_it(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    text = "[profiles.a]\nn = 1\n\n# its params:\n\n[profiles.a.params]\nx = 1\n\n"
    text += "[profiles.b]\nn = 2\n"
    file.write_text(text, encoding="utf-8")
    config.delete_profile(file, "a")
    assert file.read_text(encoding="utf-8") == "[profiles.b]\nn = 2\n"


def test_header_text_inside_a_multiline_string_is_only_text(path: Path) -> None:
    config.save_profile(path, "b", {"model": "wan-2.6"})
    expected = EXAMPLE.replace('model = "veo-3.1"\n', 'model = "wan-2.6"\n')
    expected = expected.partition("negative_prompt")[0] + "# end of b\n"
    assert path.read_text(encoding="utf-8") == expected
    config.set_default(path, "a")
    assert path.read_text(encoding="utf-8") == expected.replace(
        'default_profile = "b"', 'default_profile = "a"'
    )


def test_set_default_adds_the_key_first_when_there_is_none(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("[profiles.a]\nnegative_prompt = '''\ndefault_profile = \"x\"'''\n")
    config.set_default(file, "a")
    assert file.read_text().startswith('default_profile = "a"\n\n[profiles.a]\n')
    assert config.load(file).profiles["a"]["negative_prompt"] == 'default_profile = "x"'


def test_sub_tables_and_arrays_of_tables(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    text = (
        '[profiles.a]\nmodel = "x"\n\n'
        "[[profiles.a.params.runs]]\nseed = 1  # first\n\n"
        "[[profiles.a.params.runs]]\nseed = 2\n\n"
        '[profiles.b]\nmodel = "y"\n'
    )
    file.write_text(text, encoding="utf-8")
    runs = [{"seed": 1}, {"seed": 2}]
    config.save_profile(file, "a", {"model": "z", "params": {"runs": runs}})
    assert file.read_text(encoding="utf-8") == text.replace('"x"', '"z"'), "kept whole"

    config.save_profile(file, "a", {"model": "z", "params": {"runs": runs[:1], "k": "v"}})
    assert file.read_text(encoding="utf-8") == (
        '[profiles.a]\nmodel = "z"\n\n'
        '[profiles.a.params]\nruns = [\n    { seed = 1 },\n]\nk = "v"\n\n'
        '[profiles.b]\nmodel = "y"\n'
    )


def test_a_profile_of_sub_tables_gets_its_own_table_before_them(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('[profiles.a.params]\nx = 1\n\n[profiles.b]\nmodel = "y"\n')
    config.save_profile(file, "a", {"model": "m", "params": {"x": 1}})
    assert file.read_text() == (
        '[profiles.a]\nmodel = "m"\n\n[profiles.a.params]\nx = 1\n\n[profiles.b]\nmodel = "y"\n'
    )


@pytest.mark.parametrize(
    ("before", "name", "settings", "after"),
    [
        (
            '[profiles]\na.model = "x"  # m\na.params = { s = 1 }\nb = { model = "y" }\n',
            "a",
            {"model": "z", "params": {"s": 1}, "seconds": 3},
            '[profiles]\na.model = "z"  # m\na.params = { s = 1 }\na.seconds = 3\n'
            'b = { model = "y" }\n',
        ),
        (
            '[profiles]\na.model = "x"  # m\nb = { model = "y" }  # inline\n',
            "b",
            {"model": "y", "seconds": 3},
            '[profiles]\na.model = "x"  # m\nb = { model = "y", seconds = 3 }  # inline\n',
        ),
        (
            '# top\nprofiles.a.model = "x"\n\n[profiles.b]\nmodel = "y"\n',
            "a",
            {"model": "x", "metadata": {"k": "v"}},
            '# top\nprofiles.a.model = "x"\nprofiles.a.metadata = { k = "v" }\n\n'
            '[profiles.b]\nmodel = "y"\n',
        ),
        (
            'profiles.a.model = "x"\n',
            "a",
            {"seconds": 1},
            "[profiles.a]\nseconds = 1\n",
        ),
    ],
)
def test_dotted_and_inline_profiles_are_edited_in_place(
    tmp_path: Path, before: str, name: str, settings: dict[str, Any], after: str
) -> None:
    file = tmp_path / "config.toml"
    file.write_text(before, encoding="utf-8")
    config.save_profile(file, name, settings)
    assert file.read_text(encoding="utf-8") == after


def test_newlines_are_kept_as_they_are(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_bytes(b'[profiles.a]\r\nmodel = "x"\r\n\r\n[profiles.b]\r\nmodel = "y"')
    config.save_profile(file, "b", {"model": "z", "n": 2, "params": {"x": 1}})
    assert file.read_bytes() == (
        b'[profiles.a]\r\nmodel = "x"\r\n\r\n[profiles.b]\r\nmodel = "z"\r\nn = 2\r\n'
        b"\r\n[profiles.b.params]\r\nx = 1\r\n"
    )
    config.delete_profile(file, "b")
    assert file.read_bytes() == b'[profiles.a]\r\nmodel = "x"\r\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'profiles = { a = { model = "x" }, b = { model = "y" } }\n',
            r"profiles\.. is inside the inline table profiles",
        ),
        ('profiles.a = { model = "x" }\nprofiles.b = 1\n', "profiles.b: expected a table"),
    ],
)
def test_what_cannot_be_edited_safely_is_a_config_error(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "config.toml"
    file.write_text(text, encoding="utf-8")
    edits: list[Callable[[], None]] = [
        partial(config.save_profile, file, "a", {"model": "z"}),
        partial(config.save_profile, file, "c", {"model": "z"}),
        partial(config.delete_profile, file, "a"),
    ]
    for edit in edits:
        with pytest.raises(ConfigError, match=message):
            edit()
    assert file.read_text(encoding="utf-8") == text


def test_values_toml_cannot_hold_are_a_config_error(path: Path) -> None:
    with pytest.raises(ConfigError, match=r"profiles\.a\.params\.x: TOML has no null"):
        config.save_profile(path, "a", {"params": {"x": None}})
    assert path.read_text(encoding="utf-8") == EXAMPLE


# -- the reported cases, through the CLI ------------------------------------


def config_file() -> Path:
    return Path(os.environ["FRAMECAST_CONFIG"])


def test_cli_save_keeps_the_comments_inside_the_profile(isolated: Path) -> None:
    config_file().write_text(EXAMPLE, encoding="utf-8")

    result = invoke("profile", "save", "a", "--seconds", "8", "--seed", "1")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{config_file()}\n"
    assert result.stderr == f"Saved profile a to {config_file()}.\n"
    assert config_file().read_text(encoding="utf-8") == EXAMPLE.replace(
        "seconds = 4", "seconds = 8"
    ).replace('output = "clips/"\n', 'output = "clips/"\nseed = 1\n')


def test_cli_delete_keeps_the_comment_after_the_profile(isolated: Path) -> None:
    text = '[profiles.a]\nmodel = "x"\n\n[profiles.b]\nmodel = "y"\n\n# the end\n'
    config_file().write_text(text, encoding="utf-8")

    result = invoke("profile", "delete", "b")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"Deleted profile b from {config_file()}.\n"
    assert config_file().read_text(encoding="utf-8") == '[profiles.a]\nmodel = "x"\n\n# the end\n'


def test_cli_save_is_not_fooled_by_a_header_inside_a_string(isolated: Path) -> None:
    text = (
        '[profiles.a]\nnegative_prompt = """\n[profiles.b]\n"""\n'
        'params = { p = "\\n[profiles.b]" }\n'
    )
    config_file().write_text(text, encoding="utf-8")

    result = invoke("profile", "save", "b", "--model", "sora-2", "--default")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{config_file()}\n"
    assert result.stderr == f"Saved profile b to {config_file()}.\n"
    assert config_file().read_text(encoding="utf-8") == (
        'default_profile = "b"\n\n' + text + '\n[profiles.b]\nmodel = "sora-2"\n'
    )


def test_cli_an_uneditable_file_is_exit_3_not_a_bug(isolated: Path) -> None:
    text = 'profiles = { a = { model = "x" }, b = { model = "y" } }\n'
    config_file().write_text(text, encoding="utf-8")

    for args in (["save", "a", "--model", "z"], ["delete", "a"], ["save", "c", "--model", "z"]):
        result = invoke("profile", *args)
        assert result.exit_code == 3, result.output
        assert result.stdout == ""
        assert "cannot edit profile" in result.stderr and "safely" in result.stderr
        assert "[profiles." in result.stderr  # the hint: write it as a table
        assert "This is a bug" not in result.stderr and "Traceback" not in result.stderr
    assert config_file().read_text(encoding="utf-8") == text
