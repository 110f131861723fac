"""One scheduler that polls each unfinished job when it is due, until all are finished.

A single keep-alive client and a single thread serve any number of jobs. The
interval follows the server's hint (`openai-poll-after-ms`) when there is one,
otherwise backs off from `initial` by `factor` up to `maximum`, with jitter so
that many jobs do not poll in lockstep.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from framecast.domain import Job
from framecast.errors import ProviderUnavailable, WaitTimeout

MIN_SLICE = 0.01  # the shortest slice of a wait between polls, whatever on_idle asks
FEED_SLICE = 0.05  # how often a wait looks for jobs that joined (a batch's submissions)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    fixed: float | None = None  # overrides everything (FRAMECAST_POLL_INTERVAL)
    initial: float = 2.0
    factor: float = 1.5
    maximum: float = 30.0
    minimum: float = 0.25  # floor for a server's hint
    jitter: float = 0.2
    max_failures: int = 5  # consecutive unreachable polls tolerated per job

    def interval(self, job: Job, polls: int) -> float:
        if self.fixed is not None:
            return self.fixed
        if job.poll_after is not None:
            return min(self.maximum, max(self.minimum, job.poll_after))
        base = min(self.maximum, self.initial * self.factor**polls)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


def track(
    jobs: Sequence[Job],
    fetch: Callable[[int, Job], Job],
    *,
    policy: PollPolicy,
    on_update: Callable[[int, Job], None] = lambda index, job: None,
    on_trouble: Callable[[int, Job, ProviderUnavailable], None] = lambda index, job, error: None,
    on_idle: Callable[[], float | None] = lambda: None,
    feed: Callable[[], Sequence[Job] | None] | None = None,
    deadline: float | None = None,
    refresh_first: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Job]:
    """Poll until every job is finished; return their final views in the same order.

    `fetch(i, job)` gets a fresh view of the i-th job. Failed jobs are returned
    like the others: judging them is the caller's business. When `deadline`
    (a `clock()` value) passes first, WaitTimeout carries the latest views.

    `on_idle()` is called before each poll and wait (a display's heartbeat); it returns
    how many seconds may pass before it is called again (None: not before the next poll),
    so a long wait between polls is slept in slices that short.

    `feed()` (a batch's submissions) is asked for jobs that join the run: it returns the
    new ones (their indices follow on from those before), or None once no more will come.
    It is asked before each poll and at every slice of a wait, so a job that joins during
    a long wait is not left until that wait ends. The run ends when every job is finished
    and the feed is exhausted.
    """
    latest: list[Job] = []
    polls: list[int] = []
    failures: list[int] = []
    due: list[tuple[float, int]] = []

    def join(joining: Sequence[Job], *, first: bool) -> None:
        now = clock()
        for job in joining:
            index = len(latest)
            latest.append(job)
            polls.append(0)
            failures.append(0)
            if first:
                heapq.heappush(due, (now, index))
            elif not job.finished:
                heapq.heappush(due, (now + policy.interval(job, 0), index))

    def fed() -> bool:
        """Take in what the feed has; False once it is exhausted."""
        nonlocal feed
        if feed is None:
            return False
        joining = feed()
        if joining is None:
            feed = None
            return False
        join(joining, first=False)
        return True

    join(jobs, first=refresh_first)
    while due or fed():
        if not due:
            sleep(max(on_idle() or MIN_SLICE, MIN_SLICE))  # jobs are still to come
            continue
        when, index = heapq.heappop(due)
        if deadline is not None and when > deadline:
            when = deadline
        wake = on_idle()  # before every poll, so a heartbeat is never skipped
        if feed is not None and (wake is None or wake > FEED_SLICE):
            wake = FEED_SLICE
        overtaken = False
        while (pause := when - clock()) > 0:
            if wake is None or wake >= pause:
                sleep(pause)
                break
            sleep(max(wake, MIN_SLICE))
            if feed is not None:
                fed()
                overtaken = bool(due) and due[0][0] < when
                if overtaken:
                    break  # one that joined is due first
            wake = on_idle()
            if feed is not None and (wake is None or wake > FEED_SLICE):
                wake = FEED_SLICE
        if overtaken:
            heapq.heappush(due, (when, index))
            continue
        asked = 0.0
        try:
            job = fetch(index, latest[index])
        except ProviderUnavailable as error:
            failures[index] += 1
            asked = error.retry_after or 0.0
            if failures[index] >= policy.max_failures:
                raise
            if asked and deadline is not None and clock() + asked > deadline:
                raise  # the server will not be ready in time: say so now, not at the deadline
            on_trouble(index, latest[index], error)
            job = latest[index]
        else:
            failures[index] = 0
            latest[index] = job
            on_update(index, job)
        if job.finished:
            continue
        if deadline is not None and clock() >= deadline:
            heapq.heappush(due, (when, index))
            pending = [latest[i] for _, i in sorted(due, key=lambda item: item[1])]
            raise WaitTimeout(pending, f"Timed out with {len(pending)} job(s) still running.")
        polls[index] += 1
        # A server that asked to be left alone (429, 503 + Retry-After) is left alone.
        gap = max(policy.interval(job, polls[index]), asked)
        heapq.heappush(due, (clock() + gap, index))
    return latest
