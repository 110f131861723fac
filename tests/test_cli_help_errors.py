"""Help shows examples for every command, and every error has one shape:
`framecast: error: ...` and an optional `hint: ...`, with no Python class names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import Served, invoke, run_subprocess


def _every_command() -> list[tuple[str, ...]]:
    """Every command and subcommand the application offers, as typed on the command line."""
    import typer.main

    from framecast.cli.app import app

    found: list[tuple[str, ...]] = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found.extend((name, sub) for sub in subcommands)
        else:
            found.append((name,))
    return found


COMMANDS = _every_command()
CLASS_NAME = re.compile(
    r"\b[A-Z][A-Za-z]+(Error|Exceeded|Timeout|Failed|Unknown|Rejected|Unavailable|Download)\b"
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_examples(command: tuple[str, ...]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    examples = result.stdout.split("Examples:", 1)
    assert len(examples) == 2, f"{' '.join(command)} --help has no examples"
    runnable = [line.strip() for line in examples[1].splitlines() if "framecast " in line]
    assert len(runnable) >= 2
    # At least one example runs the command it documents.
    assert any(line.startswith(f"framecast {' '.join(command)}") for line in runnable), runnable


def test_json_help_says_what_each_command_prints() -> None:
    per_job = "one JSON object per job"
    for command, expected in [
        (("generate",), per_job),
        (("status",), per_job),
        (("models",), "one JSON object per model"),
        (("sync",), "one JSON object per finding"),
        (("estimate",), "the estimate as one JSON object"),
        (("profile", "list"), "one JSON object per profile"),
        (("profile", "show"), "the profile as one JSON object"),
        (("config", "show"), "the settings as one JSON object"),
    ]:
        result = invoke(*command, "--help")
        assert result.exit_code == 0
        text = " ".join(result.stdout.split())
        assert expected in text, command


def test_output_help_mentions_stdout_and_templates() -> None:
    for command in ("generate", "wait", "download"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        text = " ".join(result.stdout.split())
        assert "- writes the video to stdout" in text and "{prompt_slug}" in text, command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "x", "--bogus"), "framecast: error: No such option: --bogus"),
        (("generate",), "framecast: error: Missing argument 'PROMPT'."),
        (
            ("generate", "x", "--seconds", "ten"),
            "framecast: error: Invalid value for '--seconds' / '-s'",
        ),
        (("generate", "x", "--n", "9"), "framecast: error: Invalid value for '--n'"),
        (
            ("download", "@last", "--variant", "gif"),
            "framecast: error: Invalid value for '--variant'",
        ),
        (("nonsense",), "framecast: error: No such command 'nonsense'."),
    ],
)
def test_click_usage_errors_take_framecast_s_shape(args: tuple[str, ...], message: str) -> None:
    result = run_subprocess(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(message), lines
    assert lines[1].startswith("hint: see 'framecast"), lines
    assert len(lines) == 2
    assert "Error:" not in result.stderr and not CLASS_NAME.search(result.stderr)


def test_framecast_errors_take_the_same_shape() -> None:
    result = run_subprocess("generate", "a boat", env={"OPENAI_API_KEY": ""})
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "framecast: error: No provider is configured."
    assert lines[1].startswith("hint: Set OPENAI_API_KEY")
    assert not CLASS_NAME.search(result.stderr)


def test_a_bug_is_reported_without_its_class_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import framecast.runs

    def explode(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(framecast.runs, "plan", explode)
    result = invoke("generate", "a boat", "--provider", "emulator")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("framecast: error: unexpected error: 'boom'\n")
    assert "hint: This is a bug in framecast." in result.stderr
    assert "KeyError" not in result.stderr


def test_estimate_prices_offline_from_the_table_without_a_provider(isolated: Path) -> None:
    result = invoke(
        "estimate", "a boat", "-m", "sora-2", "-s", "8", "--json", env={"OPENAI_API_KEY": ""}
    )
    assert result.exit_code == 0, result.output
    assert '"provider": null' in result.stdout and '"total": 0.8' in result.stdout
    assert '"source": "table"' in result.stdout
    assert "No provider is configured: priced offline from framecast's bundled table." in (
        result.stderr
    )


def test_estimate_offline_needs_a_model_it_knows(isolated: Path) -> None:
    missing = invoke("estimate", "a boat", env={"OPENAI_API_KEY": ""})
    assert missing.exit_code == 2
    assert missing.stdout == ""
    assert "framecast: error: --model is required to price a request without a provider." in (
        missing.stderr
    )
    unknown = invoke("estimate", "a boat", "-m", "sora-3", env={"OPENAI_API_KEY": ""})
    assert unknown.exit_code == 2
    assert "'sora-3' is not in framecast's price table." in unknown.stderr
    assert "hint: Did you mean: sora-2" in unknown.stderr


def test_estimate_with_a_provider_still_asks_it(isolated: Path) -> None:
    """The offline table is a fallback for no provider at all, not for a broken one."""
    result = invoke(
        "estimate",
        "a boat",
        "-m",
        "sora-2",
        "--provider",
        "lumenfall",
        env={"LUMENFALL_API_KEY": ""},
    )
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "framecast: error: The lumenfall provider needs an API key." in result.stderr


def test_a_reader_that_goes_away_is_not_an_error(isolated: Path) -> None:
    """`status --json ... | head -1`: a closed pipe ends the run quietly, with the shell's
    own code for it (141), not a local I/O error."""
    import subprocess
    import sys

    ids = []
    for _ in range(4):
        made = invoke("generate", "a boat", "--provider", "emulator", "--no-wait", "-q", "--again")
        assert made.exit_code == 0, made.output
        ids.append(made.stdout.strip())
    command = " ".join([sys.executable, "-m", "framecast", "status", "--json", *ids])
    result = subprocess.run(
        # `true` has gone long before framecast (which starts in ~0.2 s) writes a line.
        ["bash", "-c", f'{command} | true; echo "exit=${{PIPESTATUS[0]}}" >&2'],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "exit=141"


def test_fields_without_json_is_refused_where_it_would_do_nothing(isolated: Path) -> None:
    for args in (("estimate", "x", "-m", "sora-2"), ("generate", "x", "--provider", "emulator")):
        result = invoke(*args, "--fields", "model")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert "framecast: error: --fields picks the keys of --json output; add --json." in (
            result.stderr
        )


def test_config_show_names_the_provider_even_without_its_key(isolated: Path) -> None:
    import json

    result = invoke("config", "show", "--json", env={"FRAMECAST_PROVIDER": "lumenfall"})
    assert result.exit_code == 0
    assert result.stderr == ""
    provider = json.loads(result.stdout)["provider"]
    assert provider == {
        "value": "lumenfall",
        "source": "The lumenfall provider needs an API key.",
    }


def test_wait_checks_where_it_saves_before_waiting(served_env: Served) -> None:
    made = invoke("generate", "a slow boat", "--no-wait", "-q")
    assert made.exit_code == 0, made.output
    polls_before = len(served_env.seen("GET", "/videos/"))
    result = invoke("wait", made.stdout.strip(), "-o", "/dev/null")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "framecast: error: -o '/dev/null' is not a regular file" in result.stderr
    assert len(served_env.seen("GET", "/videos/")) == polls_before  # nothing was asked


def test_a_reused_download_still_writes_its_sidecar(isolated: Path) -> None:
    made = invoke("generate", "a kite", "--provider", "emulator", "-o", "kite.mp4", "-q")
    assert made.exit_code == 0, made.output
    assert not Path("kite.info.json").exists()
    again = invoke("download", "@1", "-o", "kite.mp4", "--write-info-json", "-q")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().endswith("kite.mp4")
    assert '"id": "video_' in Path("kite.info.json").read_text(encoding="utf-8")
