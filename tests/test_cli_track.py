"""`status`, `wait` and `download`, working from the journal after the submitting run is gone."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from framecast.emulator.store import VideoRecord
from tests.conftest import TERMINAL, Served, invoke, journal_rows, plain, probe_mp4

BOAT = "a paper boat drifting down a rainy street"


def submit(*extra: str) -> str:
    # --again: these tests submit the same request several times on purpose.
    result = invoke("generate", BOAT, "--no-wait", "-q", "--again", *extra)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def data_dir() -> Path:
    return Path(os.environ["FRAMECAST_DATA_DIR"])


def test_wait_then_download_a_job_submitted_by_another_run(served_env: Served) -> None:
    job_id = submit()

    waited = invoke("wait", "@last", "--json")
    assert waited.exit_code == 0, waited.output
    doc = json.loads(waited.stdout)
    assert (doc["id"], doc["status"], doc["progress"]) == (job_id, "completed", 100)
    assert doc["output"]["path"] is None

    fetched = invoke("download", job_id, "-o", "clip.mp4")
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stdout == "clip.mp4\n"
    assert probe_mp4(Path("clip.mp4")).frames == 96
    row = journal_rows(data_dir())[0]
    assert row["status"] == "completed"
    assert row["output_path"] == str(Path("clip.mp4").absolute())
    assert row["output_bytes"] == Path("clip.mp4").stat().st_size
    assert row["cost"] == pytest.approx(0.4)


def test_in_process_emulator_jobs_survive_between_runs(isolated: Path) -> None:
    job_id = submit("--provider", "emulator")

    result = invoke("wait", job_id, "-o", "later.mp4")

    assert result.exit_code == 0, result.output
    assert result.stdout == "later.mp4\n"
    assert probe_mp4(Path("later.mp4")).width == 720


def test_wait_on_a_finished_job_returns_at_once_without_asking(served_env: Served) -> None:
    job_id = submit()
    assert invoke("wait", job_id).exit_code == 0
    polls_before = len(served_env.seen("GET", f"/videos/{job_id}"))

    again = invoke("wait", job_id, "--json")

    assert again.exit_code == 0
    assert json.loads(again.stdout)["status"] == "completed"
    assert len(served_env.seen("GET", f"/videos/{job_id}")) == polls_before


def test_wait_on_an_already_failed_job_exits_6(served_env: Served) -> None:
    job_id = submit("-P", "emulator_outcome=failed")
    assert invoke("wait", job_id).exit_code == 6

    again = invoke("wait", job_id)

    assert again.exit_code == 6
    assert "generation_failed" in again.stderr


def test_wait_on_several_jobs_prints_one_document_each(served_env: Served) -> None:
    first, second = submit(), submit("--seconds", "8")

    result = invoke("wait", first, second, "--json", "-o", "out/")

    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in docs] == [first, second]
    assert [probe_mp4(Path(d["output"]["path"])).duration for d in docs] == pytest.approx(
        [4.0, 8.0]
    )


def test_wait_with_one_failure_among_several_exits_6(served_env: Served) -> None:
    good, bad = submit(), submit("-P", "emulator_outcome=failed")

    result = invoke("wait", good, bad, "--json")

    assert result.exit_code == 6
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == [
        "completed",
        "failed",
    ]


def test_wait_several_jobs_into_one_file_is_refused(served_env: Served) -> None:
    first, second = submit(), submit()

    result = invoke("wait", first, second, "-o", "one.mp4")

    assert result.exit_code == 2
    assert "several jobs" in result.stderr


def test_wait_timeout_names_the_resume_command(served_env: Served) -> None:
    job_id = submit("-P", "emulator_job_seconds=60")

    result = invoke("wait", "@1", "--timeout", "0.2", "--download")

    assert result.exit_code == 7
    assert result.stdout == ""
    assert f"Resume with: framecast wait {job_id} --download" in result.stderr


def test_download_never_overwrites_without_force(served_env: Served) -> None:
    job_id = submit()
    assert invoke("wait", job_id).exit_code == 0
    Path("clip.mp4").write_bytes(b"precious")

    kept = invoke("download", job_id, "-o", "clip.mp4")
    forced = invoke("download", job_id, "-o", "clip.mp4", "--force")

    assert kept.exit_code == 0
    assert kept.stdout == "clip-1.mp4\n"
    assert probe_mp4(Path("clip-1.mp4")).frames == 96
    assert forced.exit_code == 0
    assert forced.stdout == "clip.mp4\n"
    assert probe_mp4(Path("clip.mp4")).frames == 96
    assert not list(Path.cwd().glob("*.part"))


def test_download_again_to_the_same_file_reuses_it(served_env: Served) -> None:
    job_id = submit()
    assert invoke("wait", job_id, "-o", "clip.mp4").exit_code == 0
    media_before = len(served_env.seen("GET", "/media/"))

    again = invoke("download", job_id, "-o", "clip.mp4")

    assert again.exit_code == 0
    assert again.stdout == "clip.mp4\n"
    assert not Path("clip-1.mp4").exists()
    assert len(served_env.seen("GET", "/media/")) == media_before


@pytest.mark.parametrize("variant", ["thumbnail", "spritesheet"])
def test_download_png_variants(served_env: Served, variant: str) -> None:
    import av

    job_id = submit("--size", "1280x720")
    assert invoke("wait", job_id).exit_code == 0

    result = invoke("download", job_id, "--variant", variant, "--json")

    assert result.exit_code == 0, result.output
    path = Path(json.loads(result.stdout)["output"]["path"])
    assert path.name == f"{job_id}-{variant}.webp"
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (
        (1280, 720) if variant == "thumbnail" else (320 * 8, 180)
    )
    assert served_env.seen("GET", f"/videos/{job_id}/content"), (
        "variants come from the /content endpoint"
    )
    assert journal_rows(data_dir())[0]["output_path"] is None, "only the video is the job's output"


def test_download_of_an_unfinished_job_explains(served_env: Served) -> None:
    job_id = submit("-P", "emulator_job_seconds=60")

    result = invoke("download", job_id)

    assert result.exit_code == 2
    assert "nothing to download yet" in result.stderr
    assert f"framecast wait {job_id} --download" in result.stderr


def test_status_of_one_job_refreshes_the_journal(served_env: Served) -> None:
    job_id = submit()
    time.sleep(0.4)

    piped = invoke("status", job_id)
    shown = invoke("status", job_id, env=TERMINAL)

    assert piped.exit_code == shown.exit_code == 0, piped.output + shown.output
    fields = dict(line.split("\t", 1) for line in piped.stdout.splitlines())
    assert (fields["id"], fields["status"], fields["cost"]) == (job_id, "completed", "0.4")
    lines = [line.split() for line in plain(shown.stdout).splitlines()]
    assert ["status", "completed"] in lines and ["cost", "$0.40"] in lines
    assert journal_rows(data_dir())[0]["status"] == "completed"


def test_status_lists_recent_jobs_with_their_spend(served_env: Served) -> None:
    first = submit()
    assert invoke("wait", first).exit_code == 0
    second = submit("-P", "emulator_job_seconds=60")

    table = invoke("status", env=TERMINAL)
    listing = invoke("status", "--json")

    assert table.exit_code == listing.exit_code == 0
    lines = plain(table.stdout).splitlines()
    assert lines[0].split() == ["#", "ID", "STATUS", "MODEL", "CREATED", "COST", "OUTPUT", "PROMPT"]
    assert lines[1].split()[:3] == ["@1", second, "queued"]
    assert lines[2].split()[:3] == ["@2", first, "completed"]
    assert "Spent $0.40 on 1 job(s) shown." in table.stdout
    assert [json.loads(line)["id"] for line in listing.stdout.splitlines()] == [second, first]


def test_status_with_an_empty_journal(isolated: Path) -> None:
    result = invoke("status")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No jobs in the journal yet" in result.stderr


@pytest.mark.parametrize("ref", ["@0", "@9", "@soon"])
def test_bad_references(served_env: Served, ref: str) -> None:
    submit()

    result = invoke("status", ref)

    assert result.exit_code == 2
    assert ref in result.stderr


def test_unknown_id_at_the_provider_is_rejected(served_env: Served) -> None:
    result = invoke("status", "video_doesnotexist")

    assert result.exit_code == 4
    assert "HTTP 404 NOT_FOUND" in result.stderr


def test_unknown_status_value_does_not_crash(
    served_env: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framecast.emulator import videos

    real = videos.lifecycle

    def odd(record: VideoRecord, now: float) -> tuple[str, int, float | None]:
        status, progress, finished = real(record, now)
        return ("rendering" if status == "in_progress" else status), progress, finished

    monkeypatch.setattr(videos, "lifecycle", odd)
    job_id = submit("-P", "emulator_job_seconds=1")

    result = invoke("wait", job_id, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "completed"
    assert "provider says 'rendering'" in result.stderr


def test_wait_download_of_a_journaled_job_asks_for_a_fresh_link(served_env: Served) -> None:
    job_id = submit()
    assert invoke("wait", job_id).exit_code == 0
    polls = len(served_env.seen("GET", f"/videos/{job_id}"))

    result = invoke("wait", job_id, "--download")

    assert result.exit_code == 0, result.output
    assert len(served_env.seen("GET", f"/videos/{job_id}")) == polls + 1
    assert Path(result.stdout.strip()).is_file()


def test_an_expired_link_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    from framecast.emulator import EmulatorConfig
    from tests.conftest import serve

    served = serve(EmulatorConfig(job_seconds=0.0, expires_after=0.0))
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
        job_id = submit()
        time.sleep(1.1)  # the emulator's links carry whole-second expiry times
        result = invoke("download", job_id)
    finally:
        served.server.stop()

    assert result.exit_code == 4
    assert "url_expired" in result.stderr
    assert "probably expired" in result.stderr
    assert "API key" not in result.stderr


def test_extend_a_finished_job(served_env: Served) -> None:
    job_id = submit("--seconds", "8")
    assert invoke("wait", job_id).exit_code == 0

    result = invoke(
        "generate", "the boat reaches the sea", "--extend", "@last", "--seconds", "4", "--json"
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["id"] != job_id
    assert doc["seconds"] == 12, "an extension reports the stitched total"
    assert probe_mp4(Path(doc["output"]["path"])).duration == pytest.approx(12.0)
    assert served_env.seen("POST", "/v1/videos/extensions")
    assert json.loads(journal_rows(data_dir())[-1]["request"])["extends"] == job_id


def test_extend_where_the_provider_cannot(
    monkeypatch: pytest.MonkeyPatch, served_env: Served
) -> None:
    monkeypatch.setenv("LUMENFALL_API_KEY", "k")
    result = invoke(
        "generate",
        "more",
        "--extend",
        "video_x",
        "--provider",
        "lumenfall",
        "-m",
        "sora-2",
        "--base-url",
        served_env.base_url,
    )
    assert result.exit_code == 2
    assert "documents no extend endpoint" in result.stderr


def test_a_saved_file_that_no_longer_verifies_is_not_reused(served_env: Served) -> None:
    job_id = submit()
    assert invoke("wait", job_id, "-o", "clip.mp4").exit_code == 0
    clip = Path("clip.mp4")
    good = clip.read_bytes()
    page = b"<html><body>502 Bad Gateway</body></html>"
    clip.write_bytes(page + good[len(page) :])  # the size the journal knows, but not an MP4

    result = invoke("download", job_id, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "clip-1.mp4", "the damaged file is not taken as the video"
    assert Path("clip-1.mp4").read_bytes() == good


@pytest.mark.parametrize(
    ("how", "gets"),
    [
        (["--max-retries", "0"], 1),
        (["--max-retries", "4"], 5),
        (["--profile", "patient"], 3),
    ],
)
def test_retries_are_set_by_flag_or_profile(
    served_env: Served, monkeypatch: pytest.MonkeyPatch, how: list[str], gets: int
) -> None:
    monkeypatch.delenv("FRAMECAST_MAX_RETRIES")  # the environment would win over a profile
    Path(os.environ["FRAMECAST_CONFIG"]).write_text(
        "[profiles.patient]\nmax_retries = 2\nmax_retry_wait = 5\n", encoding="utf-8"
    )
    job_id = submit()
    served_env.app.inject("status:503=0.01*")
    before = len(served_env.seen("GET", f"/videos/{job_id}"))

    result = invoke("status", job_id, *how)

    assert result.exit_code == 5, result.output
    assert len(served_env.seen("GET", f"/videos/{job_id}")) - before == gets
