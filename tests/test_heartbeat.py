"""`--progress plain` never goes quiet: a heartbeat line (status, percent, elapsed, ETA) at
least every `heartbeat` seconds while a job runs, on stderr, even when polls are further
apart than that."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import time
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console

from framecast import ui
from framecast.domain import Job, JobStatus
from framecast.emulator import EmulatorConfig
from framecast.polling import PollPolicy, track
from tests.conftest import invoke, serve

BOAT = "A paper boat, drifting down a rainy street!"
LINE = re.compile(r"^(video_\w+): (queued|in_progress)( \d+%)? \((\d+)s(, ETA \d+s)?\)$")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def plain(fake: FakeTime, heartbeat: float) -> tuple[ui.PlainDisplay, list[tuple[float, str]]]:
    """A plain display on a fake clock; the lines it prints, with when."""
    shown: list[tuple[float, str]] = []

    class Recording(ui.PlainDisplay):
        def _line(self, text: str) -> None:
            shown.append((fake.now, text))

    err = Console(file=io.StringIO())
    return Recording(err, heartbeat=heartbeat, clock=fake.clock), shown


def rendering(finish: float) -> Callable[[int, Job, FakeTime], Job]:
    """A job queued for 4 s, then rising steadily to 100% at `finish`."""

    def fetch(index: int, current: Job, fake: FakeTime) -> Job:
        if fake.now < 4:
            return dataclasses.replace(current, status=JobStatus.QUEUED, progress=0)
        if fake.now >= finish:
            return dataclasses.replace(current, status=JobStatus.COMPLETED, progress=100)
        share = (fake.now - 4) / (finish - 4)
        return dataclasses.replace(current, status=JobStatus.IN_PROGRESS, progress=int(share * 100))

    return fetch


def test_heartbeats_come_between_polls_further_apart_than_the_heartbeat() -> None:
    fake = FakeTime()
    display, shown = plain(fake, heartbeat=3)
    fetch = rendering(finish=44)
    job = Job(id="video_a", provider="test", status=JobStatus.QUEUED)
    display.update(job)

    (done,) = track(
        [job],
        lambda i, j: fetch(i, j, fake),
        policy=PollPolicy(fixed=10),
        on_update=lambda i, j: display.update(j),
        on_idle=display.tick,
        clock=fake.clock,
        sleep=fake.sleep,
    )

    assert done.status is JobStatus.COMPLETED
    times = [t for t, _ in shown]
    # Polls at 10, 20, 30, 40 and 50; the status changes at 10 and 50; a heartbeat is due
    # 3 s after the last line, whenever that was.
    assert times == [0, 3, 6, 9, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37, 40, 43, 46, 49, 50]
    assert shown[0][1] == "video_a: queued (0s)"
    assert shown[1][1] == "video_a: queued (3s)"
    assert shown[4][1] == "video_a: in_progress 15% (10s)"
    assert shown[5][1] == "video_a: in_progress 15% (13s)", "no pace yet: no ETA"
    # 15% at 10 s, 40% at 20 s: done at 44 s at that pace; the ETA counts down to it.
    assert shown[8][1] == "video_a: in_progress 40% (22s, ETA 22s)"
    assert shown[9][1] == "video_a: in_progress 40% (25s, ETA 19s)"
    assert shown[15][1] == "video_a: in_progress 90% (43s, ETA 1s)"
    assert shown[16][1] == "video_a: in_progress 90% (46s)", "overdue: no ETA"
    assert shown[-1][1] == "video_a: completed (50s)"


def test_a_heartbeat_of_zero_prints_only_changes() -> None:
    fake = FakeTime()
    display, shown = plain(fake, heartbeat=0)
    fetch = rendering(finish=44)
    job = Job(id="video_a", provider="test", status=JobStatus.QUEUED)
    display.update(job)

    track(
        [job],
        lambda i, j: fetch(i, j, fake),
        policy=PollPolicy(fixed=10),
        on_update=lambda i, j: display.update(j),
        on_idle=display.tick,
        clock=fake.clock,
        sleep=fake.sleep,
    )

    assert [t for t, _ in shown] == [0, 10, 50]


def test_slow_answers_with_no_pause_between_polls_still_get_heartbeats() -> None:
    fake = FakeTime()
    display, shown = plain(fake, heartbeat=3)
    slow = rendering(finish=44)

    def fetch(index: int, current: Job) -> Job:
        fake.sleep(2)  # each answer takes 2 s; the next poll is due at once
        return slow(index, current, fake)

    job = Job(id="video_a", provider="test", status=JobStatus.QUEUED)
    display.update(job)
    track(
        [job],
        fetch,
        policy=PollPolicy(fixed=0),
        on_update=lambda i, j: display.update(j),
        on_idle=display.tick,
        clock=fake.clock,
        sleep=fake.sleep,
    )

    times = [t for t, _ in shown]
    assert times[-1] == 44
    assert all(b - a <= 3 + 2 for a, b in itertools.pairwise(times)), times
    assert len(times) > 44 / 4


def test_several_jobs_each_get_their_heartbeat_until_they_finish() -> None:
    fake = FakeTime()
    display, shown = plain(fake, heartbeat=5)
    quick, slow = rendering(finish=12), rendering(finish=30)
    jobs = [Job(id=f"video_{n}", provider="test", status=JobStatus.QUEUED) for n in "ab"]
    for job in jobs:
        display.update(job)

    track(
        jobs,
        lambda i, j: (quick, slow)[i](i, j, fake),
        policy=PollPolicy(fixed=8),
        on_update=lambda i, j: display.update(j),
        on_idle=display.tick,
        clock=fake.clock,
        sleep=fake.sleep,
    )

    for name, end in (("video_a", 16), ("video_b", 32)):
        times = [t for t, text in shown if text.startswith(name + ":")]
        assert times[-1] == end, (name, times)
        assert all(b - a <= 5 for a, b in itertools.pairwise(times)), (name, times)
    assert not [t for t, text in shown if text.startswith("video_a:") and t > 16]


@pytest.fixture
def strict_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The emulator on loopback in OpenAI's own dialect (it reports a percentage), 2.5 s jobs."""
    served = serve(EmulatorConfig(job_seconds=2.5, dialect="openai"))
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    yield
    served.server.stop()


@pytest.fixture
def heartbeat(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str]]:
    """The lines plain displays print, with when."""
    shown: list[tuple[float, str]] = []

    class Recording(ui.PlainDisplay):
        def _line(self, text: str) -> None:
            shown.append((time.monotonic(), text))
            super()._line(text)

    monkeypatch.setattr(ui, "PlainDisplay", Recording)
    # Polls a second apart: five heartbeats are due between two of them.
    monkeypatch.setenv("FRAMECAST_POLL_INTERVAL", "1")
    return shown


@pytest.mark.parametrize("command", ["generate", "wait"])
def test_plain_progress_keeps_talking_on_stderr(
    strict_server: None, heartbeat: list[tuple[float, str]], command: str
) -> None:
    plain = ["--progress", "plain", "--heartbeat", "0.2", "-o", "p.mp4"]
    if command == "generate":
        result = invoke("generate", BOAT, *plain)
    else:
        queued = invoke("generate", BOAT, "--no-wait", "-q")
        assert queued.exit_code == 0, queued.output
        result = invoke("wait", queued.stdout.strip(), *plain)

    assert result.exit_code == 0, result.output
    assert result.stdout == "p.mp4\n"
    lines = result.stderr.splitlines()
    running = [line for line in lines if LINE.match(line)]
    assert len(running) >= 8, lines
    assert any(re.search(r" in_progress \d+% ", line) for line in running), lines
    assert lines[-1].startswith("Saved p.mp4")
    # Never more than a heartbeat (and a poll's round trip) without a line.
    times = [t for t, text in heartbeat if LINE.match(text)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 0.5, gaps
    assert [text for _, text in heartbeat if LINE.match(text)] == running


def test_the_live_bar_and_quiet_have_no_heartbeat() -> None:
    err = Console(file=io.StringIO(), force_terminal=True)
    display = ui.make_display(err, mode="plain", heartbeat=7)
    assert isinstance(display, ui.PlainDisplay)
    assert display.heartbeat == 7
    bar = ui.make_display(err, mode="bar")
    try:
        assert bar.tick() is None
    finally:
        bar.close()
    assert ui.make_display(err, quiet=True).tick() is None
