"""The polling scheduler with a fake clock: hints, backoff, deadlines, flaky networks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from framecast.domain import Job, JobStatus
from framecast.errors import ProviderUnavailable, WaitTimeout
from framecast.polling import PollPolicy, track


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
