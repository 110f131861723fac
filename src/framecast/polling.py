"""One scheduler that polls each unfinished job when it is due, until all are finished.

A single keep-alive client and a single thread serve any number of jobs. The
interval follows the server's hint (`openai-poll-after-ms`) when there is one, and is
never shorter than it. Without one, each job's end is forecast (framecast.forecast:
the model's typical length, the provider's estimate, the job's progress) and the job is
polled sparsely while an end is unlikely and densely around the forecast end; with
nothing to forecast from yet, the interval backs off from `initial` by `factor` up to
`maximum`, with jitter so that many jobs do not poll in lockstep. A fixed interval
(FRAMECAST_POLL_INTERVAL) overrides all of it.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from framecast.domain import Job, JobStatus
from framecast.errors import ProviderUnavailable, WaitTimeout
from framecast.forecast import Forecast, Lengths

if TYPE_CHECKING:
    from framecast.journal_rows import Entry

MIN_SLICE = 0.01  # the shortest slice of a wait between polls, whatever on_idle asks
FEED_SLICE = 0.05  # how often a wait looks for jobs that joined (a batch's submissions)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    fixed: float | None = None  # overrides everything (FRAMECAST_POLL_INTERVAL)
    initial: float = 2.0
    factor: float = 2.0
    maximum: float = 30.0
    minimum: float = 0.25  # floor for a server's hint
    jitter: float = 0.2
    max_failures: int = 5  # consecutive unreachable polls tolerated per job
    predict: bool = True  # forecast each job's end where the server gives no hint

    def interval(
        self, job: Job, polls: int, forecast: Forecast | None = None, now: float = 0.0
    ) -> float:
        if self.fixed is not None:
            return self.fixed
        if job.poll_after is not None:
            return min(self.maximum, max(self.minimum, job.poll_after))
        if self.predict and forecast is not None:
            gap = forecast.gap(now)
            if gap is not None:
                return min(self.maximum, gap)
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
    lengths: Lengths | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], float] = time.time,
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

    `lengths` holds the typical lengths of finished jobs per model (the journal's); the
    lengths of jobs that finish during the run are added to it, so later jobs of a batch
    are forecast from earlier ones. `wall()` (Unix time) places a job's `created_at` on
    `clock()`'s scale.
    """
    latest: list[Job] = []
    polls: list[int] = []
    failures: list[int] = []
    due: list[tuple[float, int]] = []
    forecasts: list[Forecast] = []
    lengths = lengths if lengths is not None else Lengths()

    def join(joining: Sequence[Job], *, first: bool) -> None:
        now = clock()
        for job in joining:
            index = len(latest)
            latest.append(job)
            polls.append(0)
            failures.append(0)
            forecasts.append(_forecast(job, now, wall(), lengths))
            if first:
                heapq.heappush(due, (now, index))
            elif not job.finished:
                heapq.heappush(due, (now + policy.interval(job, 0, forecasts[index], now), index))

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
            _learn(forecasts[index], job, clock(), lengths)
            on_update(index, job)
        if job.finished:
            continue
        if deadline is not None and clock() >= deadline:
            heapq.heappush(due, (when, index))
            pending = [latest[i] for _, i in sorted(due, key=lambda item: item[1])]
            raise WaitTimeout(pending, f"Timed out with {len(pending)} job(s) still running.")
        polls[index] += 1
        # A server that asked to be left alone (429, 503 + Retry-After) is left alone.
        now = clock()
        gap = max(policy.interval(job, polls[index], forecasts[index], now), asked)
        heapq.heappush(due, (now + gap, index))
    return latest


def _forecast(job: Job, now: float, wall: float, lengths: Lengths) -> Forecast:
    """A job's forecast, started when the provider says it was created (on `now`'s clock)."""
    age = 0.0
    if job.created_at is not None:
        # Whole-second stamps (OpenAI's) are, on average, half a second early.
        stamp = job.created_at + (0.5 if float(job.created_at).is_integer() else 0.0)
        age = min(max(wall - stamp, 0.0), 7 * 24 * 3600.0)
    return Forecast(start=now - age, kind=(job.provider, job.model), lengths=lengths)


def _learn(forecast: Forecast, job: Job, now: float, lengths: Lengths) -> None:
    """Take in a fresh view; a job that completed adds its length to the typical lengths."""
    watched = forecast.last_seen is not None  # seen unfinished before, by this run
    forecast.observe(now, job)
    if job.status is JobStatus.COMPLETED and not forecast.ended:
        forecast.ended = True
        if job.completed_at is not None and job.created_at is not None:
            lengths.add(forecast.kind, job.completed_at - job.created_at)
        elif watched:
            lengths.add(forecast.kind, now - forecast.start)


def typical_lengths(entries: Iterable[Entry]) -> Lengths:
    """The lengths of the completed jobs among journal entries: from when each was created
    (or submitted) to when its provider says it completed."""
    lengths = Lengths()
    for entry in entries:
        job = entry.job
        if entry.state == JobStatus.COMPLETED.value and job.completed_at is not None:
            began = job.created_at if job.created_at is not None else entry.submitted_at
            lengths.add((entry.provider, job.model), job.completed_at - began)
    return lengths
