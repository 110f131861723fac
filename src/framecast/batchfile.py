"""Reading a batch file: JSONL, CSV or TOML, one job per line, row or `[[job]]` table.

Each row keeps where it came from (its line), so every problem can be reported
against it. Keys are the flags' and profile keys' names (`model`, `seconds`,
`aspect_ratio`, ...), plus `prompt` and `output`; values are typed as the option
declares them. CSV cells are text: numbers and true/false are read as such, and a
list or a table is written as JSON (`["a.png", "b.png"]`, `{"style": "noir"}`).

The file is untrusted: its size is bounded, every value is checked, and nothing
from it reaches the terminal unescaped (the caller shows problems with `clean`).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framecast.errors import UsageError
from framecast.options import Option, stored

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 100_000
FORMATS = ("jsonl", "csv", "toml")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".toml": "toml"}
# Per run, not per row: a row may not name its own key or continue another job.
_NOT_PER_ROW = ("idempotency_key", "extend_index", "n")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_JOB_HEADER = re.compile(r"^\s*\[\[\s*(?:job|\"job\"|'job')\s*\]\]")


def row_options() -> dict[str, Option]:
    """The request options a row may set."""
    return {
        name: option
        for name, option in stored().items()
        if option.group == "request" and name not in _NOT_PER_ROW
    }


@dataclass(frozen=True, slots=True)
class Row:
    """One job of the batch as the file gives it: `number` counts rows from 1 (the `{row}`
    of file names and results), `line` is where it starts in the file."""

    number: int
    line: int
    prompt: str
    values: dict[str, Any] = field(default_factory=dict)  # option name -> typed value
    output: str | None = None

    def canonical(self) -> str:
        """The row's content, independent of its place in the file and of key order."""
        document = {"prompt": self.prompt, "output": self.output, **self.values}
        return json.dumps(document, sort_keys=True, ensure_ascii=False, default=list)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A row that could not be read at all (it still counts, so later rows keep their
    numbers when it is fixed)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Problem:
    number: int | None  # the row, when there is one
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class BatchFile:
    path: Path
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {p.number for p in self.problems if p.number is not None}


def detect_format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"Cannot tell the format of {path.name!r} from its name.",
            hint="Name it .jsonl, .csv or .toml, or pass --format jsonl|csv|toml.",
        )
    return found


def read(path: Path, form: str | None = None) -> BatchFile:
    """Every row of the file, and every problem found in it (nothing is sent here)."""
    kind = detect_format(path, form)
    text = _text(path)
    batch = BatchFile(path)
    raw_rows = {"jsonl": _jsonl, "csv": _csv, "toml": _toml}[kind](text, batch)
    options = row_options()
    for number, (line, raw) in enumerate(raw_rows, start=1):
        if number > MAX_ROWS:
            batch.problems.append(Problem(None, line, f"more than {MAX_ROWS:,} rows"))
            break
        row = _row(number, line, raw, options, batch, cells=kind == "csv")
        if row is not None:
            batch.rows.append(row)
    if not batch.rows and not batch.problems:
        batch.problems.append(Problem(None, 1, "the file has no jobs"))
    return batch


def _text(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such batch file.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a batch file.") from None
    except OSError as error:
        raise UsageError(f"{path} cannot be read: {error.strerror or error}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(f"{path}: line {line}: not UTF-8 text.") from None


def _jsonl(text: str, batch: BatchFile) -> Iterator[tuple[int, Any]]:
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError as error:
            value = Unreadable(f"not JSON ({error.msg})")
        except RecursionError:
            value = Unreadable("not JSON (nested too deeply)")
        yield line, value


def _csv(text: str, batch: BatchFile) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        batch.problems.append(Problem(None, 1, f"not CSV ({error})"))
        return
    names = [name.strip() for name in header]
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            batch.problems.append(Problem(None, start, f"not CSV ({error})"))
            return
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            yield line, Unreadable(f"{len(cells)} cells, but the header names {len(names)}")
            continue
        yield line, {name: cell for name, cell in zip(names, cells, strict=False) if cell != ""}


def _toml(text: str, batch: BatchFile) -> Iterator[tuple[int, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        batch.problems.append(Problem(None, _toml_line(str(error)), f"not TOML ({error})"))
        return
    unknown = [key for key in data if key != "job"]
    if unknown:
        batch.problems.append(
            Problem(None, 1, f"unknown key {unknown[0]!r}: jobs are [[job]] tables")
        )
        return
    tables = data.get("job", [])
    if not isinstance(tables, list):
        batch.problems.append(Problem(None, 1, "`job` must be an array of tables: [[job]]"))
        return
    lines = [
        n for n, content in enumerate(text.splitlines(), start=1) if _JOB_HEADER.match(content)
    ]
    for index, table in enumerate(tables):
        yield (lines[index] if index < len(lines) else 1), table


def _toml_line(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1


def _row(
    number: int,
    line: int,
    raw: Any,
    options: dict[str, Option],
    batch: BatchFile,
    *,
    cells: bool,
) -> Row | None:
    before = len(batch.problems)

    def problem(message: str) -> None:
        batch.problems.append(Problem(number, line, message))

    if isinstance(raw, Unreadable):
        problem(raw.reason)
        return None
    if not isinstance(raw, dict):
        problem('expected an object of keys and values, e.g. {"prompt": "..."}')
        return None
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        problem("no prompt" if prompt is None else "prompt: expected non-empty text")
        prompt = None
    output = raw.get("output")
    if output is not None and (not isinstance(output, str) or not output.strip()):
        problem("output: expected a file name, folder or template")
        output = None
    values: dict[str, Any] = {}
    valid = [*options, "prompt", "output"]
    for key, value in raw.items():
        if key in ("prompt", "output"):
            continue
        if key not in options:
            problem(_unknown(str(key), valid))
            continue
        option = options[key]
        try:
            values[key] = _typed(option, _from_cell(option, value) if cells else value)
        except ValueError as error:
            problem(f"{key}: {error}")
    if prompt is None or len(batch.problems) > before:
        return None
    return Row(number, line, prompt, values, output)


def _unknown(key: str, valid: list[str]) -> str:
    if key in _NOT_PER_ROW:
        return {
            "n": "n: a row makes one video; repeat the row for more takes",
            "idempotency_key": "idempotency_key: each row gets its own key",
            "extend_index": "extend_index: rows cannot continue other jobs",
        }[key]
    close = difflib.get_close_matches(key, valid, n=1)
    return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _from_cell(option: Option, cell: Any) -> Any:
    """A CSV cell (text) as the value its option takes."""
    text = str(cell).strip()
    if option.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if option.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if option.kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if option.kind in ("list", "strings", "table"):
        if option.kind == "list" and not text.startswith("["):
            return [text]
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise ValueError(f"expected JSON, got {text[:40]!r}") from None
    return text


def _typed(option: Option, value: Any) -> Any:
    """A value of the option's kind, as a profile would hold it, or ValueError saying why."""
    kind = option.kind
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "strings": isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        "table": isinstance(value, dict),
    }[kind]
    if kind == "list" and isinstance(value, str):
        value, ok = [value], True  # one image as a plain string
    if not ok:
        raise ValueError(f"expected {_EXPECTED[kind]}, got {json.dumps(value, default=str)[:40]}")
    if option.choices and value not in option.choices:
        raise ValueError(f"expected one of {', '.join(option.choices)}, got {value!r}")
    if kind in ("int", "number"):
        low, high = option.minimum, option.maximum
        if not math.isfinite(value) or (low is not None and value < low):
            raise ValueError(f"{value!r} is out of range")
        if high is not None and value > high:
            raise ValueError(f"{value!r} is out of range")
    if kind == "list":
        return tuple(value)
    if kind == "number":
        return float(value)
    return value


_EXPECTED = {
    "str": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "list": "a list of strings",
    "strings": "a table of strings",
    "table": "a table",
}
