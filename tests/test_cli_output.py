"""Scripting ergonomics: -o templates and -o -, --print, sidecars, --progress, completion."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import FRAMECAST, Served, invoke, probe_mp4, run_command

BOAT = "A paper boat, drifting down a rainy street!"
CONTROL = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def test_output_templates(isolated: Path) -> None:
    result = invoke(
        "generate",
        BOAT,
        "--provider",
        "emulator",
        "--n",
        "2",
        "--json",
        "-o",
        "clips/{provider}/{created:%Y%m%d}-{prompt_slug}-{index}.{ext}",
    )

    assert result.exit_code == 0, result.output
    day = datetime.now().strftime("%Y%m%d")
    paths = [json.loads(line)["output"]["path"] for line in result.stdout.splitlines()]
    assert paths == [
        f"clips/emulator/{day}-a-paper-boat-drifting-down-a-rainy-1.mp4",
        f"clips/emulator/{day}-a-paper-boat-drifting-down-a-rainy-2.mp4",
    ]
    assert all(probe_mp4(Path(p)).frames == 96 for p in paths)


def test_templates_with_an_id_for_several_jobs(served_env: Served) -> None:
    submitted = [invoke("generate", BOAT, "--no-wait", "-q", "--again") for _ in range(2)]
    result = invoke("wait", *(s.stdout.strip() for s in submitted), "-o", "by-id/{id}.{ext}",
                    "--print", "path")  # fmt: skip

    assert [s.exit_code for s in submitted] == [0, 0], [s.output for s in submitted]
    assert result.exit_code == 0, result.output
    ids = [s.stdout.strip() for s in submitted]
    assert result.stdout.splitlines() == [f"by-id/{i}.mp4" for i in ids]


def test_a_bad_template_is_refused_before_sending(served_env: Served) -> None:
    result = invoke("generate", BOAT, "-o", "{title}.mp4")
    assert result.exit_code == 2
    assert "unknown field {title}" in result.stderr
    assert served_env.seen("POST") == []


def test_stream_to_stdout(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "--size", "1280x720", "-o", "-")

    assert result.exit_code == 0, result.output
    assert probe_mp4(result.stdout_bytes).width == 1280
    assert "Saved" not in result.stderr and "video_" in result.stderr
    assert not list(Path.cwd().rglob("*.mp4"))
    again = invoke("download", "@last", "-o", "-")
    assert again.exit_code == 0, again.output
    assert again.stdout_bytes == result.stdout_bytes


@pytest.mark.parametrize("extra", [["--json"], ["--print", "id"], ["--n", "2"]])
def test_stdout_streaming_excludes_other_stdout(isolated: Path, extra: list[str]) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "-o", "-", *extra)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_print_one_field(served_env: Served) -> None:
    submitted = invoke("generate", BOAT, "--n", "2", "--no-wait", "--print", "id")
    ids = submitted.stdout.split()
    waited = invoke("wait", *ids, "--print", "status")
    saved = invoke("generate", BOAT, "--print", "path", "-o", "one.mp4")
    cost = invoke("status", "@1", "--print", "cost")
    url = invoke("status", "@1", "--print", "url")

    runs = [submitted, waited, saved, cost, url]
    assert [r.exit_code for r in runs] == [0] * 5, [r.output for r in runs]
    assert len(ids) == 2 and all(i.startswith("video_") for i in ids)
    assert waited.stdout == "completed\ncompleted\n"
    assert saved.stdout == "one.mp4\n"
    assert cost.stdout == "0.4\n"
    assert url.stdout.startswith(served_env.origin + "/media/")


def test_write_info_json(isolated: Path) -> None:
    result = invoke(
        "generate", BOAT, "--provider", "emulator", "-o", "boat.mp4", "--write-info-json"
    )

    assert result.exit_code == 0, result.output
    info = json.loads(Path("boat.info.json").read_text(encoding="utf-8"))
    assert (info["prompt"], info["model"], info["provider"], info["seconds"], info["size"]) == (
        BOAT,
        "sora-2",
        "emulator",
        4,
        "720x1280",
    )
    assert info["cost"] == pytest.approx(0.4)
    assert info["output"]["path"] == "boat.mp4" and info["created_at"] and info["completed_at"]


def run(*args: str, **env: str) -> Result:
    """A successful run to p.mp4 with these flags and environment variables."""
    result = invoke(
        "generate", BOAT, "--provider", "emulator", "-o", "p.mp4", "--force", *args, env=env
    )
    assert result.exit_code == 0, result.output
    return result


def test_progress_modes(isolated: Path) -> None:
    auto_pipe = run()
    auto_terminal = run(TTY_COMPATIBLE="1")
    plain_on_terminal = run("--progress", "plain", TTY_COMPATIBLE="1")
    bar_in_a_pipe = run("--progress", "bar")
    silent = run("--progress", "none")
    from_env = run(TTY_COMPATIBLE="1", FRAMECAST_PROGRESS="plain")

    assert not CONTROL.search(auto_pipe.stderr) and "in_progress" in auto_pipe.stderr
    assert CONTROL.search(auto_terminal.stderr) and "ETA" in auto_terminal.stderr
    assert not CONTROL.search(plain_on_terminal.stderr) and ": queued" in plain_on_terminal.stderr
    assert "ETA" in bar_in_a_pipe.stderr
    assert silent.stderr.splitlines() == [
        line for line in silent.stderr.splitlines() if line.startswith("Saved")
    ]
    assert not CONTROL.search(from_env.stderr)
    assert all(
        r.stdout == "p.mp4\n"
        for r in (auto_pipe, auto_terminal, plain_on_terminal, bar_in_a_pipe, silent)
    )


def test_colour_and_terminal_variables(isolated: Path) -> None:
    coloured = run(TTY_COMPATIBLE="1")
    no_colour = run(TTY_COMPATIBLE="1", NO_COLOR="1")
    dumb = run(TTY_COMPATIBLE="1", TERM="dumb")
    forced = run(FORCE_COLOR="1")

    assert COLOUR.search(coloured.stderr)
    assert CONTROL.search(no_colour.stderr) and not COLOUR.search(no_colour.stderr)
    assert not CONTROL.search(dumb.stderr) and ": completed" in dumb.stderr, (
        "TERM=dumb gets plain lines"
    )
    assert "ETA" in forced.stderr, "FORCE_COLOR makes it a terminal"


def complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_FRAMECAST_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    result = run_command(FRAMECAST, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.slow
def test_dynamic_completion(isolated: Path) -> None:
    submitted = invoke("generate", BOAT, "--provider", "emulator", "--no-wait", "-q")
    saves = [
        invoke("profile", "save", "fast", "--model", "sora-2"),
        invoke("profile", "save", "final", "--model", "wan-2.6"),
    ]
    assert submitted.exit_code == 0, submitted.output
    assert [s.exit_code for s in saves] == [0, 0], [s.output for s in saves]
    job_id = submitted.stdout.strip()

    assert complete("framecast wait ", 2) == ["@last", job_id]
    assert complete("framecast download v", 2) == [job_id]
    assert complete("framecast generate x --profile f", 4) == ["fast", "final"]
    assert complete("framecast generate x --model sora", 4) == ["sora-2", "sora-2-pro"]
    assert "generate" in complete("framecast ge", 1)


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("A paper boat!", "a-paper-boat"),
        ("  ***  ", "video"),
        ("Ünïcode café ☕ at 5pm", "unicode-cafe-at-5pm"),
        ("a" * 60, "a" * 40),
        ("one two three four five six seven eight nine", "one-two-three-four-five-six-seven-eight"),
    ],
)
def test_prompt_slugs(prompt: str, slug: str) -> None:
    from framecast.saving import prompt_slug

    assert prompt_slug(prompt) == slug
