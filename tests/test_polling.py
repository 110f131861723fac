"""The polling scheduler with a fake clock: hints, backoff, deadlines, flaky networks."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from framecast.domain import Job, JobStatus
from framecast.emulator import EmulatorConfig
from framecast.errors import ProviderUnavailable, WaitTimeout
from framecast.forecast import Lengths
from framecast.http import ApiClient, RetryPolicy
from framecast.journal import Journal
from framecast.polling import PollPolicy, track, typical_lengths
from tests.conftest import invoke, journal_rows, serve


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def job(job_id: str, status: JobStatus = JobStatus.QUEUED, **kw: object) -> Job:
    return Job(id=job_id, provider="test", status=status, **kw)  # type: ignore[arg-type]


def script(*statuses: JobStatus, hint: float | None = None) -> Callable[[int, Job], Job]:
    queue = list(statuses)

    def fetch(index: int, current: Job) -> Job:
        return dataclasses.replace(current, status=queue.pop(0), poll_after=hint)

    return fetch


def test_follows_the_server_hint() -> None:
    fake = FakeTime()
    fetch = script(JobStatus.IN_PROGRESS, JobStatus.IN_PROGRESS, JobStatus.COMPLETED, hint=1.5)

    (done,) = track(
        [job("a", poll_after=1.5)], fetch, policy=PollPolicy(), clock=fake.clock, sleep=fake.sleep
    )

    assert done.status is JobStatus.COMPLETED
    assert fake.sleeps == [1.5, 1.5, 1.5]


def test_backs_off_without_a_hint() -> None:
    fake = FakeTime()
    fetch = script(*[JobStatus.IN_PROGRESS] * 6, JobStatus.COMPLETED)
    policy = PollPolicy(initial=2, factor=2, maximum=10, jitter=0)

    track([job("a")], fetch, policy=policy, clock=fake.clock, sleep=fake.sleep)

    assert fake.sleeps == [2, 4, 8, 10, 10, 10, 10]


def test_hints_are_clamped() -> None:
    assert PollPolicy(minimum=0.25, maximum=30).interval(job("a", poll_after=0.001), 0) == 0.25
    assert PollPolicy(minimum=0.25, maximum=30).interval(job("a", poll_after=600), 0) == 30
    assert PollPolicy(fixed=0.05).interval(job("a", poll_after=5), 3) == 0.05


def test_jitter_stays_within_bounds() -> None:
    intervals = {PollPolicy(initial=10, jitter=0.2).interval(job("a"), 0) for _ in range(200)}
    assert all(8 <= i <= 12 for i in intervals)
    assert len(intervals) > 1


def test_deadline_raises_with_the_latest_views() -> None:
    fake = FakeTime()

    def fetch(index: int, current: Job) -> Job:
        return dataclasses.replace(current, status=JobStatus.IN_PROGRESS, progress=int(fake.now))

    with pytest.raises(WaitTimeout) as caught:
        track(
            [job("a"), job("b")],
            fetch,
            policy=PollPolicy(fixed=4),
            deadline=10,
            clock=fake.clock,
            sleep=fake.sleep,
        )

    assert [j.id for j in caught.value.jobs] == ["a", "b"]
    assert all(j.status is JobStatus.IN_PROGRESS for j in caught.value.jobs)
    assert fake.now == 10, "the last poll happens at the deadline, not after it"


def test_a_job_finishing_at_the_deadline_is_not_a_timeout() -> None:
    fake = FakeTime()
    fetch = script(JobStatus.IN_PROGRESS, JobStatus.COMPLETED)
    (done,) = track(
        [job("a")],
        fetch,
        policy=PollPolicy(fixed=6),
        deadline=10,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert done.status is JobStatus.COMPLETED
    assert fake.now == 10


def test_many_jobs_are_polled_when_each_is_due() -> None:
    fake = FakeTime()
    order: list[str] = []

    def fetch(index: int, current: Job) -> Job:
        order.append(current.id)
        polls = order.count(current.id)
        status = (
            JobStatus.COMPLETED
            if polls == (2 if current.id == "fast" else 3)
            else JobStatus.IN_PROGRESS
        )
        return dataclasses.replace(current, status=status)

    final = track(
        [job("slow", poll_after=3), job("fast", poll_after=1)],
        fetch,
        policy=PollPolicy(),
        clock=fake.clock,
        sleep=fake.sleep,
    )

    assert [j.status for j in final] == [JobStatus.COMPLETED, JobStatus.COMPLETED]
    assert order == ["fast", "fast", "slow", "slow", "slow"]


def test_finished_jobs_are_not_polled_unless_asked() -> None:
    calls: list[int] = []

    def fetch(index: int, current: Job) -> Job:
        calls.append(index)
        return current

    done = job("a", JobStatus.FAILED)
    assert track([done], fetch, policy=PollPolicy()) == [done]
    assert calls == []
    assert track([done], fetch, policy=PollPolicy(), refresh_first=True) == [done]
    assert calls == [0]


def test_transient_network_trouble_is_tolerated_then_fatal() -> None:
    fake = FakeTime()
    troubles: list[str] = []
    answers: list[object] = [
        ProviderUnavailable("blip"),
        ProviderUnavailable("blip"),
        JobStatus.COMPLETED,
    ]

    def fetch(index: int, current: Job) -> Job:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dataclasses.replace(current, status=answer)  # type: ignore[arg-type]

    (done,) = track(
        [job("a")],
        fetch,
        policy=PollPolicy(fixed=1),
        clock=fake.clock,
        sleep=fake.sleep,
        on_trouble=lambda i, j, e: troubles.append(e.message),
    )
    assert done.status is JobStatus.COMPLETED
    assert troubles == ["blip", "blip"]

    def always_down(index: int, current: Job) -> Job:
        raise ProviderUnavailable("down")

    with pytest.raises(ProviderUnavailable):
        track(
            [job("b")],
            always_down,
            policy=PollPolicy(fixed=1, max_failures=3),
            clock=fake.clock,
            sleep=fake.sleep,
        )


def test_a_job_that_joins_during_a_long_wait_is_polled_when_due_not_after_the_wait() -> None:
    """A batch's submissions join the run while it waits: one fed in at 0.5 s with a 1-s
    hint is polled at 1.5 s, not after the 10-s wait for the first; the run ends only once
    the feed is exhausted."""
    fake = FakeTime()
    polled: list[tuple[str, float]] = []
    late = [job("b", poll_after=1.0)]

    def feed() -> list[Job] | None:
        if fake.now >= 0.5 and late:
            return [late.pop()]
        return None if fake.now > 3 else []

    def fetch(index: int, current: Job) -> Job:
        polled.append((current.id, round(fake.now, 2)))
        return dataclasses.replace(current, status=JobStatus.COMPLETED)

    policy = PollPolicy(initial=10, factor=1, maximum=10, jitter=0)
    final = track([job("a")], fetch, policy=policy, feed=feed, clock=fake.clock, sleep=fake.sleep)

    assert [j.id for j in final] == ["a", "b"]
    assert all(j.status is JobStatus.COMPLETED for j in final)
    assert polled[0][0] == "b" and 1.5 <= polled[0][1] < 1.6
    assert polled[1] == ("a", 10.0)


def test_a_run_with_nothing_yet_waits_for_the_feed() -> None:
    fake = FakeTime()
    given = iter([[], [], [job("late", JobStatus.COMPLETED)], None])

    final = track(
        [],
        lambda i, j: j,
        policy=PollPolicy(),
        feed=lambda: next(given),
        clock=fake.clock,
        sleep=fake.sleep,
    )

    assert [j.id for j in final] == ["late"]
    assert fake.sleeps and all(s > 0 for s in fake.sleeps)


def last_stretch(hint: float | None) -> Callable[[int, Job], Job]:
    """A job seen queued, then at 99% (a forecast would look again soon), then done."""
    answers = [(JobStatus.QUEUED, 0), (JobStatus.IN_PROGRESS, 40)]
    answers += [(JobStatus.IN_PROGRESS, 99)] * 4 + [(JobStatus.COMPLETED, 100)]

    def fetch(index: int, current: Job) -> Job:
        status, progress = answers.pop(0)
        return dataclasses.replace(current, status=status, progress=progress, poll_after=hint)

    return fetch


def test_without_a_hint_a_job_in_its_last_stretch_is_polled_at_the_forecast_pace() -> None:
    fake = FakeTime()
    policy = PollPolicy(initial=8, factor=1, jitter=0)

    track([job("a")], last_stretch(None), policy=policy, clock=fake.clock, sleep=fake.sleep)

    assert fake.sleeps[:2] == [8, 8], "nothing to forecast from yet: the backoff"
    assert all(0 < s < 8 for s in fake.sleeps[3:]), "then the forecast's denser pace"


def test_a_forecast_never_polls_faster_than_the_servers_hint() -> None:
    fake = FakeTime()

    first = job("a", poll_after=5.0)
    track([first], last_stretch(5.0), policy=PollPolicy(), clock=fake.clock, sleep=fake.sleep)

    assert fake.sleeps and all(s >= 5.0 for s in fake.sleeps)


def test_a_fixed_interval_overrides_hint_and_forecast() -> None:
    for hint in (None, 5.0):
        fake = FakeTime()
        policy = PollPolicy(fixed=0.5)
        track([job("a")], last_stretch(hint), policy=policy, clock=fake.clock, sleep=fake.sleep)
        assert set(fake.sleeps) == {0.5}


def test_jobs_that_finish_teach_the_run_their_length() -> None:
    fake = FakeTime()
    lengths = Lengths()

    def fetch(index: int, current: Job) -> Job:
        done = fake.now >= 6
        return dataclasses.replace(
            current, status=JobStatus.COMPLETED if done else JobStatus.QUEUED
        )

    track(
        [job("a", model="m"), job("b", model="m")],
        fetch,
        policy=PollPolicy(fixed=3),
        lengths=lengths,
        clock=fake.clock,
        sleep=fake.sleep,
    )

    assert lengths.known[("test", "m")] == [6.0, 6.0]


def test_typical_lengths_come_from_completed_journal_entries(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        for n, (status, took) in enumerate(
            [(JobStatus.COMPLETED, 30.0), (JobStatus.FAILED, 5.0), (JobStatus.COMPLETED, 40.0)]
        ):
            made = job(f"v{n}", status, model="sora-2", created_at=1000.0, completed_at=1000 + took)
            journal.update(made, "http://127.0.0.1:1/v1")
        lengths = typical_lengths(journal.recent(500))

    assert sorted(lengths.known[("test", "sora-2")]) == [30.0, 40.0]


class Held:
    """A fake clock for an ApiClient whose sleeps are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def test_a_429_holds_every_request_on_the_client_from_every_thread() -> None:
    """One status request is refused with Retry-After: 30; a request from another thread
    (a batch's poller, its downloads) waits those 30 s before it is sent."""
    served = serve(EmulatorConfig(job_seconds=60))
    fake = Held()
    http = ApiClient(
        served.base_url,
        auth_headers={"Authorization": "Bearer sk-test"},
        retry=RetryPolicy(max_retries=0),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    try:
        made = http.request("POST", "videos", json={"prompt": "a kite"}).data["id"]
        served.app.inject("status:429=30")
        with pytest.raises(ProviderUnavailable):
            http.request("GET", f"videos/{made}")
        assert fake.sleeps == []

        other = threading.Thread(target=lambda: http.request("GET", f"videos/{made}"))
        other.start()
        other.join()

        assert fake.sleeps == [30.0]
        assert len(served.seen("GET", made)) == 2
    finally:
        http.close()
        served.server.stop()


def test_a_hold_past_the_deadline_fails_at_once_without_sending() -> None:
    served = serve(EmulatorConfig(job_seconds=60))
    fake = Held()
    http = ApiClient(
        served.base_url,
        auth_headers={"Authorization": "Bearer sk-test"},
        retry=RetryPolicy(max_retries=0),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    try:
        made = http.request("POST", "videos", json={"prompt": "a kite"}).data["id"]
        served.app.inject("status:429=30")
        with pytest.raises(ProviderUnavailable):
            http.request("GET", f"videos/{made}")
        http.deadline = fake.now + 5

        with pytest.raises(ProviderUnavailable, match="only 5 s of the timeout") as caught:
            http.request("GET", f"videos/{made}")

        assert caught.value.retry_after == pytest.approx(30)
        assert fake.sleeps == []
        assert len(served.seen("GET", made)) == 1, "nothing more was sent"
    finally:
        http.close()
        served.server.stop()


def test_wait_follows_a_job_on_the_realistic_timeline_to_completion() -> None:
    """A real `wait` over loopback against the strict OpenAI server with no poll hint: the
    forecasting scheduler follows the job to the end and journals it completed."""
    served = serve(
        EmulatorConfig(job_seconds=1.0, timeline="realistic", poll_hint="off", dialect="openai")
    )
    env = {"OPENAI_BASE_URL": served.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
    try:
        made = invoke("generate", "a kite", "--no-wait", "-q", env=env)
        assert made.exit_code == 0, made.output
        job_id = made.stdout.strip()

        waited = invoke("wait", job_id, "--json", env=env)

        assert waited.exit_code == 0, waited.output
        assert json.loads(waited.stdout)["status"] == "completed"
        (row,) = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))
        assert (row["id"], row["status"]) == (job_id, "completed")
        assert len(served.seen("GET", job_id)) >= 2
    finally:
        served.server.stop()
