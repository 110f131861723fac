"""`framecast status` for pipes and for people: full tab-separated values when piped, a table
that never cuts ids, @N or status on a terminal, JSON Lines, and `--fields` for all of them.

Jobs come from the real CLI against the emulator (or tests/hostile.py) on loopback.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from framecast.cli.output import emit
from framecast.cli.status_view import FIELDS, parse_fields
from framecast.domain import Job, JobStatus
from framecast.errors import UsageError
from framecast.ui import ColumnSpec, jobs_table
from tests import hostile
from tests.conftest import Served, invoke

BOAT = "A paper boat, drifting down a rainy street!"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TSV_HEADER = "ref\tid\tstatus\tprogress\tmodel\tcreated_at\tcost\turl\tpath\tprompt"
TERMINAL = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1"}

# What a hostile server may say: the longest id framecast accepts, escapes, tabs, newlines.
LONG_ID = "video_" + "0123456789abcdef" * 15 + "end"
NASTY = "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x9b31m\t\n"
LONG_URL = "https://cdn.example/v/" + "a1b2c3d4" * 60 + "/video.mp4?signature=" + "f" * 120


def submit(*args: str) -> str:
    result = invoke("generate", BOAT, "--no-wait", "-q", "--again", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def three_jobs(served_env: Served) -> list[str]:
    """Two finished jobs (one saved) and one still queued, newest first (@1, @2, @3)."""
    first = submit("-m", "grok-imagine-video")
    assert invoke("wait", first, "-o", "first.mp4").exit_code == 0
    second = submit()
    assert invoke("wait", second).exit_code == 0
    third = submit("-P", "emulator_job_seconds=60")
    return [third, second, first]


def listing(*args: str) -> list[dict[str, object]]:
    result = invoke("status", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_piped_status_is_tab_separated_with_a_header_and_full_values(
    three_jobs: list[str], served_env: Served
) -> None:
    result = invoke("status")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    header, *rows = result.stdout.splitlines()
    assert header == TSV_HEADER
    cells = [row.split("\t") for row in rows]
    assert all(len(row) == 10 for row in cells)
    assert [row[:3] for row in cells] == [
        ["@1", three_jobs[0], "queued"],
        ["@2", three_jobs[1], "completed"],
        ["@3", three_jobs[2], "completed"],
    ]
    assert [row[6] for row in cells] == ["", "0.4", "0.3"]
    documents = listing()
    assert [row[7] for row in cells] == [d["output"]["url"] or "" for d in documents]  # type: ignore[index]
    assert cells[1][7].startswith(served_env.origin + "/media/") and "signature=" in cells[1][7]
    assert cells[2][8] == str(Path("first.mp4").resolve())
    assert [row[9] for row in cells] == [BOAT] * 3
    assert [d["ref"] for d in documents] == ["@1", "@2", "@3"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[hostile.Hostile]:
    served = hostile.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-hostile-test")
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    yield served
    served.close()


def serve_hostile_job(server: hostile.Hostile, job_id: str = LONG_ID) -> None:
    """A finished job whose every string is long, or hostile, or both."""
    fields: dict[str, Any] = {
        "model": f"sora{NASTY}-" + "m" * 80,
        "prompt": f"a prompt{NASTY}with a tab",
        "output": {"url": LONG_URL},
        "metadata": {"cost": 0.1764},
    }
    answer = hostile.json_answer(hostile.video(job_id, **fields))
    server.route("POST", r"/v1/videos", lambda r: answer)
    server.route("GET", r"/v1/videos/[^/]+", lambda r: answer)


def no_terminal_controls(text: str) -> bool:
    return not any(c in text for c in "\x1b\x07\x9b\x00")


def test_piped_status_keeps_hostile_long_values_whole_and_clean(server: hostile.Hostile) -> None:
    serve_hostile_job(server)
    assert submit() == LONG_ID

    listed = invoke("status")
    one = invoke("status", "@last")

    assert listed.exit_code == one.exit_code == 0, listed.output + one.output
    header, row = listed.stdout.splitlines()  # a newline in a value does not make a row
    assert header == TSV_HEADER
    cells = row.split("\t")  # nor does a tab make a column
    assert len(cells) == 10
    assert cells[:3] == ["@1", LONG_ID, "completed"]
    assert cells[4].startswith("sora") and cells[4].endswith("m" * 80)
    assert (cells[6], cells[7]) == ("0.1764", LONG_URL)
    assert "with a tab" in cells[9]
    assert no_terminal_controls(listed.stdout) and no_terminal_controls(one.stdout)
    lines = one.stdout.splitlines()
    assert f"id\t{LONG_ID}" in lines
    assert f"url\t{LONG_URL}" in lines, "the whole URL on one line, for grep"
    assert "cost\t0.1764" in lines
    assert all(line.count("\t") == 1 for line in lines)
    assert [line.split("\t")[0] for line in lines] == [
        f for f in FIELDS if f not in ("ref", "imported", "deleted_at")
    ]


def terminal_lines(result_stdout: str) -> list[str]:
    return [ANSI.sub("", line).rstrip() for line in result_stdout.splitlines()]


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_terminal_table_never_cuts_refs_ids_or_status(
    three_jobs: list[str], width: int
) -> None:
    result = invoke("status", env={**TERMINAL, "COLUMNS": str(width)})

    assert result.exit_code == 0, result.output
    lines = terminal_lines(result.stdout)
    assert all(len(line) <= width for line in lines), lines
    assert lines[0].split()[:3] == ["#", "ID", "STATUS"]
    statuses = ["queued", "completed", "completed"]
    for n, (job_id, status) in enumerate(zip(three_jobs, statuses, strict=True), start=1):
        (row,) = [line for line in lines if line.startswith(f"@{n} ")]
        assert row.split()[1:3] == [job_id, status]
    assert lines[-1] == "Spent $0.70 on 2 job(s) shown."
    assert "grok-imagine-video" in result.stdout, "room for the model in full"
    if width == 200:
        headers = ["#", "ID", "STATUS", "MODEL", "CREATED", "COST", "OUTPUT", "PROMPT"]
        assert lines[0].split() == headers


def column(lines: list[str], header: str, next_header: str) -> str:
    """The text of one column of a table, its wrapped lines joined."""
    start, end = lines[0].index(header), lines[0].index(next_header)
    return "".join(line[start:end].strip() for line in lines[1:])


def test_a_hostile_id_too_long_for_the_terminal_wraps_instead_of_being_cut(
    server: hostile.Hostile,
) -> None:
    serve_hostile_job(server)
    submit()

    listed = invoke("status", env={**TERMINAL, "COLUMNS": "80"})
    one = invoke("status", "@last", env={**TERMINAL, "COLUMNS": "80"})

    assert listed.exit_code == one.exit_code == 0
    assert no_terminal_controls(ANSI.sub("", listed.stdout + one.stdout))
    lines = terminal_lines(listed.stdout)
    assert all(len(line) <= 80 for line in lines)
    assert column(lines[:-1], "ID", "STATUS") == LONG_ID
    assert lines[-1] == "Spent $0.1764 on 1 job(s) shown."
    assert "completed" in lines[1]
    details = terminal_lines(one.stdout)
    assert all(len(line) <= 80 for line in details)
    url_at = next(i for i, line in enumerate(details) if line.startswith("url "))
    folded = [line[len("url ") :].strip() for line in details[url_at:]]
    assert "".join(folded).startswith(LONG_URL), "the URL folds onto more lines, never cut"


@pytest.mark.parametrize(
    ("width", "model", "prompt"),
    [
        (60, None, None),  # @N, id and status (51 cells), the cost, and no room for the rest
        (75, "folded", None),  # the cost whole; the model wraps onto a second line
        (80, "whole", None),
        (120, "whole", "shortened"),  # the prompt, and only it, ends in an ellipsis
        (200, "whole", "whole"),
    ],
)
def test_the_table_gives_way_from_the_lowest_rank(
    width: int, model: str | None, prompt: str | None
) -> None:
    columns = [
        ColumnSpec("#", keep=True),
        ColumnSpec("ID", keep=True),
        ColumnSpec("STATUS", keep=True),
        ColumnSpec("MODEL", rank=2),
        ColumnSpec("COST", rank=1, least=None, right=True),
        ColumnSpec("PROMPT", rank=5, least=10, fold=False),
    ]
    long_prompt = "a capybara in a hot spring, slow pan " * 3
    job_id = "video_098b" + "1" * 20
    rows = [
        ["@1", job_id, "in_progress 40%", "grok-imagine-video", "$0.1764", long_prompt],
        ["@2", "video_77", "completed", "sora-2", "$0.40", "short"],
    ]
    out = Console(width=width, force_terminal=True, no_color=True, file=io.StringIO())

    jobs_table(out, columns, rows)

    lines = [ANSI.sub("", line).rstrip() for line in out.file.getvalue().splitlines()]  # type: ignore[attr-defined]
    assert all(len(line) <= width for line in lines)
    assert lines[1].split()[:4] == ["@1", rows[0][1], "in_progress", "40%"]
    assert "$0.1764" in lines[1]
    if model is None:
        assert "grok" not in "".join(lines)
    elif model == "folded":
        assert "grok-imagine-" in lines[1] and lines[2].strip() == "video"
    else:
        assert "grok-imagine-video" in lines[1]
    assert ("…" in "".join(lines)) == (prompt == "shortened")
    assert (long_prompt.strip() in lines[1]) == (prompt == "whole")
    assert ("capybara" in lines[1]) == (prompt is not None)


def test_fields_choose_json_keys_and_columns(three_jobs: list[str]) -> None:
    as_json = listing("--fields", "id,status,url")
    as_tsv = invoke("status", "--fields", " ref , cost,id,cost")
    one_json = invoke("status", "@2", "--json", "--fields", "path,bytes,id")
    one_tsv = invoke("status", "@3", "--fields", "status,url,path")
    on_terminal = invoke("status", "--fields", "id,url", env={**TERMINAL, "COLUMNS": "200"})

    assert [list(d) for d in as_json] == [["id", "status", "url"]] * 3
    assert [d["id"] for d in as_json] == three_jobs
    assert as_tsv.stdout.splitlines() == [
        "ref\tcost\tid",
        f"@1\t\t{three_jobs[0]}",
        f"@2\t0.4\t{three_jobs[1]}",
        f"@3\t0.3\t{three_jobs[2]}",
    ]
    assert json.loads(one_json.stdout) == {"path": None, "bytes": None, "id": three_jobs[1]}
    status, url, path = one_tsv.stdout.splitlines()
    assert (status, path) == ("status\tcompleted", f"path\t{Path('first.mp4').resolve()}")
    assert url.startswith("url\thttp://127.0.0.1:")
    assert terminal_lines(on_terminal.stdout)[0].split() == ["ID", "URL"]
    for result in (as_tsv, one_json, one_tsv, on_terminal):
        assert result.exit_code == 0, result.output
        assert result.stderr == ""


@pytest.mark.parametrize("ref", [[], ["@1"]])
def test_an_unknown_field_is_a_usage_error_that_lists_the_valid_ones(
    three_jobs: list[str], ref: list[str]
) -> None:
    result = invoke("status", *ref, "--fields", "id,colour")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown field 'colour'" in result.stderr
    assert "Valid fields: ref, id, status" in result.stderr and "url" in result.stderr


def test_parse_fields() -> None:
    assert parse_fields("id,status,url") == ("id", "status", "url")
    assert parse_fields(" url , id,url,") == ("url", "id")
    for bad in ("", " , ", "id,\x1b[2Jx"):
        with pytest.raises(UsageError) as caught:
            parse_fields(bad)
        assert "\x1b" not in caught.value.message
        assert "created_at" in (caught.value.hint or "")


def test_emit_limits_the_json_document_to_the_fields(capsys: pytest.CaptureFixture[str]) -> None:
    job = Job(
        id="video_1",
        provider="emulator",
        status=JobStatus.COMPLETED,
        output_url=LONG_URL,
        cost=0.4,
        model=f"sora{NASTY}",
    )

    emit(job, json_mode=True, quiet=True, path=Path("a.mp4"), size=10, fields=("url", "id"))
    emit(job, json_mode=True, quiet=True, fields=("model", "bytes"))
    emit(job, json_mode=False, quiet=True, print_field="cost")
    emit(job, json_mode=False, quiet=True, print_field="model")

    out = capsys.readouterr()
    first, second, cost, model = out.out.splitlines()
    assert json.loads(first) == {"url": LONG_URL, "id": "video_1"}
    assert json.loads(second) == {"model": f"sora{NASTY}", "bytes": None}
    assert cost == "0.4"
    assert model.startswith("sora") and no_terminal_controls(model)
    assert out.err == ""


def test_the_spent_footer_never_adds_currencies_together(isolated: Path) -> None:
    from framecast.domain import Job, JobRequest, JobStatus
    from framecast.journal import Journal

    paid = [("vid_a", 0.4, "USD", None), ("vid_b", 1.5, "XNO", "XNO"), ("vid_c", 0.3, "USD", "XNO")]
    with Journal.open_default() as journal:
        for job_id, cost, currency, source in paid:
            job = Job(
                id=job_id,
                provider="nanogpt",
                status=JobStatus.COMPLETED,
                cost=cost,
                currency=currency,
                payment_source=source,
            )
            journal.record_submission(job, JobRequest("p"), "http://127.0.0.1:9/api")

    result = invoke("status", env={**TERMINAL, "COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    assert terminal_lines(result.stdout)[-1] == "Spent $0.70 + 1.50 XNO on 3 job(s) shown."
