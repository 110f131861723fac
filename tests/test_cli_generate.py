"""`framecast generate` end to end: in-process emulator and a served one on loopback."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from framecast.emulator.pattern import MacroblockColours
from tests.conftest import Served, invoke, journal_rows, probe_mp4

BOAT = "a paper boat drifting down a rainy street"


def test_readme_main_job_saves_a_playable_mp4(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "-o", "boat.mp4")

    assert result.exit_code == 0, result.output
    assert result.stdout == "boat.mp4\n"
    assert "completed" in result.stderr
    assert "Saved boat.mp4" in result.stderr
    probe = probe_mp4(Path("boat.mp4"))
    assert (probe.width, probe.height) == (720, 1280)  # sora-2's default size
    assert probe.duration == pytest.approx(4.0)
    assert probe.codec == "h264"


def test_json_job_decodes_to_the_requested_size_and_duration(isolated: Path) -> None:
    result = invoke(
        "generate",
        BOAT,
        "--provider",
        "emulator",
        "--json",
        "--seconds",
        "8",
        "--size",
        "1280x720",
        "-P",
        "fps=30",
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert set(doc) == {
        "id",
        "provider",
        "model",
        "status",
        "progress",
        "prompt",
        "seconds",
        "size",
        "created_at",
        "completed_at",
        "expires_at",
        "output",
        "error",
        "cost",
        "cost_estimate",
        "currency",
        "executed_model",
        "upstream_provider",
        "balance",
        "adjustments",
    }
    assert doc["status"] == "completed"
    assert doc["provider"] == "emulator"
    assert doc["model"] == "sora-2"
    assert (doc["seconds"], doc["size"], doc["prompt"]) == (8, "1280x720", BOAT)
    assert doc["cost"] == pytest.approx(0.8)  # $0.10/s x 8 s
    assert doc["currency"] == "USD"
    assert doc["error"] is None
    assert doc["created_at"].endswith("Z") and doc["expires_at"] > doc["completed_at"]
    saved = Path(doc["output"]["path"])
    assert saved.name == f"{doc['id']}.mp4"
    assert doc["output"]["bytes"] == saved.stat().st_size
    probe = probe_mp4(saved)
    assert (probe.width, probe.height, probe.fps, probe.frames) == (1280, 720, Fraction(30), 240)
    assert probe.duration == pytest.approx(8.0)


def test_the_picture_is_derived_from_the_prompt(isolated: Path) -> None:
    first = invoke("generate", "a red kite", "--provider", "emulator", "-q", "-o", "kite.mp4")
    second = invoke("generate", "a green field", "--provider", "emulator", "-q", "-o", "field.mp4")
    assert first.exit_code == second.exit_code == 0

    kite, field = probe_mp4(Path("kite.mp4")), probe_mp4(Path("field.mp4"))
    assert kite.first_frame_luma != field.first_frame_luma
    colours = MacroblockColours("a red kite")
    for x, y in [(0, 0), (300, 500), (719, 1279)]:
        assert kite.first_frame_luma[y * kite.luma_stride + x] == colours.luma_at(x, y, 720)


def test_generate_against_a_served_emulator(served_env: Served) -> None:
    result = invoke(
        "generate", BOAT, "--model", "grok-imagine-video", "--seconds", "3", "--size", "1365x768"
    )

    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    probe = probe_mp4(path)
    # An odd width: the emulator switches to 4:4:4 so cropping is exact.
    assert (probe.width, probe.height) == (1365, 768)
    assert probe.duration == pytest.approx(3.0)
    creates = served_env.seen("POST", "/v1/videos")
    assert len(creates) == 1
    assert served_env.seen("GET", "/media/"), "the video should come from output.url"


def test_size_as_ratio_and_passthrough_params(served_env: Served) -> None:
    result = invoke(
        "generate", BOAT, "--size", "16:9", "-P", 'metadata={"run": "ci"}', "-P", "tone=warm",
        "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["size"] == "1280x720"
    (create,) = served_env.seen("POST", "/v1/videos")
    fields = create.fields()  # multipart: a JSON value travels as its JSON text
    assert (fields["size"], fields["tone"]) == ("1280x720", "warm")
    assert json.loads(fields["metadata"]) == {"run": "ci"}


def test_prompt_from_stdin(isolated: Path) -> None:
    result = invoke(
        "generate", "-", "--provider", "emulator", "--json", input="a lighthouse at dusk\n"
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["prompt"] == "a lighthouse at dusk\n"


def test_reference_images_are_uploaded(served_env: Served, tmp_path: Path) -> None:
    image = tmp_path / "first-frame.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    result = invoke("generate", BOAT, "--image", str(image), "-q")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(".mp4")
    assert probe_mp4(Path(result.stdout.strip())).frames == 96
    (create,) = served_env.seen("POST", "/v1/videos")
    (upload,) = create.files("input_reference")
    assert (upload.filename, upload.data) == ("first-frame.png", image.read_bytes())


def test_no_wait_prints_the_id_and_journals_the_job(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "--no-wait")

    assert result.exit_code == 0, result.output
    job_id = result.stdout.strip()
    assert job_id.startswith("video_")
    assert f"framecast wait {job_id}" in result.stderr
    rows = journal_rows(isolated)
    assert [(r["id"], r["provider"], r["status"]) for r in rows] == [(job_id, "emulator", "queued")]
    assert json.loads(rows[0]["request"])["prompt"] == BOAT
    assert not list(Path.cwd().glob("*.mp4"))


def test_quiet_no_wait_prints_only_the_id(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "--no-wait", "-q")

    assert result.exit_code == 0
    assert result.stdout.strip().startswith("video_")
    assert result.stderr == ""


def test_output_directory_and_collision_suffix(isolated: Path) -> None:
    out = Path("clips")
    out.mkdir()
    (out / "taken.mp4").write_bytes(b"keep me")

    first = invoke("generate", BOAT, "--provider", "emulator", "-q", "-o", "clips/")
    again = invoke("generate", BOAT, "--provider", "emulator", "-q", "-o", "clips/taken.mp4")

    assert first.exit_code == again.exit_code == 0
    assert Path(first.stdout.strip()).parent == out
    assert again.stdout.strip() == "clips/taken-1.mp4"
    assert (out / "taken.mp4").read_bytes() == b"keep me"


def test_force_overwrites(isolated: Path) -> None:
    Path("boat.mp4").write_bytes(b"old")

    result = invoke("generate", BOAT, "--provider", "emulator", "-q", "-o", "boat.mp4", "--force")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "boat.mp4"
    assert probe_mp4(Path("boat.mp4")).frames == 96


def test_prompt_text_is_never_rich_markup(isolated: Path) -> None:
    prompt = "[bold red]neon[/bold red] sign [link=https://example.invalid]x[/link] :smile:"

    result = invoke("generate", prompt, "--provider", "emulator", "--no-wait", "--json")
    status = invoke("status", "@last")

    assert result.exit_code == status.exit_code == 0
    assert json.loads(result.stdout)["prompt"] == prompt
    assert prompt in status.stdout


def test_on_a_terminal_a_live_display_goes_to_stderr(isolated: Path) -> None:
    # TTY_COMPATIBLE=1 makes Rich treat the captured stderr as a terminal.
    result = invoke(
        "generate",
        "a [red]kite[/red]",
        "--provider",
        "emulator",
        "-o",
        "kite.mp4",
        env={"TTY_COMPATIBLE": "1"},
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "kite.mp4\n", "the display never touches stdout"
    assert "\x1b[" in result.stderr, "a redrawn display uses terminal control codes"
    assert "completed" in result.stderr
    assert "100%" in result.stderr
    assert "ETA" in result.stderr
    assert "↓ kite.mp4" in result.stderr
    assert "1.4 MB of 1.4 MB" in result.stderr
    assert "Saved kite.mp4" in result.stderr


def test_not_on_a_terminal_one_plain_line_per_status_change(isolated: Path) -> None:
    result = invoke("generate", BOAT, "--provider", "emulator", "-o", "boat.mp4")

    assert result.exit_code == 0, result.output
    assert result.stdout == "boat.mp4\n"
    lines = result.stderr.splitlines()
    assert "\x1b[" not in result.stderr
    statuses = [line.split(": ", 1)[1].split()[0] for line in lines if line.startswith("video_")]
    assert statuses[0] == "queued"
    assert statuses[-2:] == ["completed", "downloading"]
    assert len(statuses) == len(set(statuses)), "a status is reported once, not on every poll"
    assert lines[-1].startswith("Saved boat.mp4 · 1.4 MB · 4s 720x1280 · sora-2 · cost $0.40")


def test_the_same_request_is_not_paid_for_twice_by_accident(served_env: Served) -> None:
    first = invoke("generate", "one kite over a dune", "--no-wait", "-q")
    job_id = first.stdout.strip()

    again = invoke("generate", "one kite over a dune", "-q")
    other = invoke("generate", "one kite over a dune", "--seconds", "8", "--no-wait", "-q")
    forced = invoke("generate", "one kite over a dune", "--no-wait", "-q", "--again")

    assert first.exit_code == 0
    assert again.exit_code == 2, again.output
    assert again.stdout == ""
    assert f"The same request is already queued: {job_id}" in again.stderr
    assert "--again" in again.stderr
    assert other.exit_code == 0, "a different request is a different job"
    assert forced.exit_code == 0 and forced.stdout.strip() != job_id
    assert len(served_env.seen("POST")) == 3


def test_a_finished_request_may_be_made_again_as_a_new_take(served_env: Served) -> None:
    first = invoke("generate", "one kite over a dune", "-o", "a.mp4")
    second = invoke("generate", "one kite over a dune", "-o", "b.mp4")

    assert first.exit_code == second.exit_code == 0, second.output
    assert "this is a new take" in second.stderr
    assert len(served_env.seen("POST")) == 2
