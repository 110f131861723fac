"""When an unfinished job will probably end, from what has been seen of it, and so when to
look next.

Without a server's hint a poller has to guess. A fixed loop spends most of its requests
while nothing can happen and notices the end late. Instead each job gets a forecast of its
total length (seconds from its start to its end), as a log-normal distribution, pooled
from what is known:

- the model's typical length (earlier jobs of the same provider and model, from the
  journal, and jobs that finished earlier in the same run);
- the provider's own estimate of the time remaining (NanoGPT's `estimatedTimeRemaining`);
- the job's progress: how fast it has moved since it left the queue, and whether it has
  reached its last step (where progress stands at 97-99%).

The next poll is due when the chance that the job has ended since the last poll reaches
`share`: sparse while an end is unlikely, dense where it is most likely. A job that outlives
its forecast is looked at less and less often, in proportion to how far it has overrun.
Everything here is pure: times are whatever clock the caller uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import NormalDist

from framecast.domain import Job, JobStatus

_UNIT = NormalDist()
Kind = tuple[str, str | None]  # (provider, model): jobs alike in length
LAST_STEP = 97  # progress from which a job is taken to be in its last stretch


@dataclass(frozen=True, slots=True)
class Estimate:
    """A job's total length: its median (seconds) and the spread of its logarithm."""

    median: float
    spread: float

    def survival(self, length: float) -> float:
        """The chance that the job runs longer than `length` seconds."""
        if length <= 0:
            return 1.0
        return 1.0 - _UNIT.cdf((math.log(length) - math.log(self.median)) / self.spread)

    def quantile(self, chance: float) -> float:
        """The length the job ends within with this chance (0 < chance < 1)."""
        chance = min(1 - 1e-9, max(1e-9, chance))
        return self.median * math.exp(self.spread * _UNIT.inv_cdf(chance))


def pool(estimates: Iterable[Estimate]) -> Estimate | None:
    """One estimate from several, each weighted by its precision. The sources overlap (a
    typical length and the progress of a job of that length), so the pooled spread is not
    allowed to shrink below 70% of the sharpest source's."""
    given = [e for e in estimates if e.median > 0 and e.spread > 0]
    if not given:
        return None
    weights = [1 / e.spread**2 for e in given]
    centre = sum(w * math.log(e.median) for w, e in zip(weights, given, strict=True))
    centre /= sum(weights)
    spread = max(1 / math.sqrt(sum(weights)), 0.7 * min(e.spread for e in given))
    return Estimate(math.exp(centre), spread)


@dataclass(slots=True)
class Lengths:
    """Lengths (seconds) of finished jobs, per provider and model: the journal's and this
    run's."""

    known: dict[Kind, list[float]] = field(default_factory=dict)
    floor: float = 0.15  # lengths of real jobs are never that alike
    unknown_spread: float = 0.6  # with a single sample, or no spread to go on

    _cache: dict[Kind, tuple[int, Estimate | None]] = field(default_factory=dict)

    def add(self, kind: Kind, seconds: float) -> None:
        if seconds > 0 and math.isfinite(seconds):
            self.known.setdefault(kind, []).append(seconds)

    def typical(self, kind: Kind) -> Estimate | None:
        """The typical length, with a spread that is wide while samples are few."""
        count = len(self.known.get(kind, ()))
        cached = self._cache.get(kind)
        if cached is None or cached[0] != count:
            cached = self._cache[kind] = (count, self._typical(kind))
        return cached[1]

    def _typical(self, kind: Kind) -> Estimate | None:
        samples = self.known.get(kind, [])[-200:]
        if not samples:
            return None
        logs = sorted(math.log(s) for s in samples)
        middle = logs[len(logs) // 2] if len(logs) % 2 else sum(logs[len(logs) // 2 - 1 :][:2]) / 2
        if len(logs) < 3:
            return Estimate(math.exp(middle), self.unknown_spread)
        mean = sum(logs) / len(logs)
        spread = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
        # Few samples understate the spread: widen it until there are a dozen or so.
        spread *= 1 + 1.5 / len(logs)
        return Estimate(math.exp(middle), max(self.floor, spread))


@dataclass(slots=True)
class Forecast:
    """What has been seen of one job, and the poll times it suggests.

    `start` is when the job was created, on the caller's clock (its first sighting when
    that is not known).
    """

    start: float
    kind: Kind = ("", None)
    lengths: Lengths | None = None  # typical lengths, which may grow while the job runs
    share: float = 0.85  # the chance of an end between two polls that makes a poll due
    share_typical: float = 0.5  # the same, where the model's typical length is known
    pace: float = 0.15  # in the last stretch, gaps of this share of the time it ran before
    least: float = 0.6  # the shortest gap between polls
    most: float = 30.0  # the longest gap between polls
    overrun: float = 0.5  # past its forecast, a job is polled after this share of the overrun
    last_queued: float | None = None  # last seen queued
    running_from: float | None = None  # first seen running
    level: int = 0  # the highest progress seen
    level_since: float | None = None  # when it was first seen
    level_before: float | None = None  # the poll before that (the step happened between)
    eta: tuple[float, float] | None = None  # (when, seconds the provider expected to remain)
    last_seen: float | None = None
    ended: bool = False  # seen completed (and its length taken in)

    def observe(self, now: float, job: Job) -> None:
        if job.status is JobStatus.QUEUED:
            self.last_queued = now
        elif job.status is JobStatus.IN_PROGRESS and self.running_from is None:
            self.running_from = now
        progress = job.progress or 0
        if progress > self.level:
            self.level = progress
            self.level_before = self.last_seen if self.last_seen is not None else now
            self.level_since = now
        self.last_seen = now
        if job.eta is not None and job.eta >= 0:
            self.eta = (now, job.eta)

    def estimate(self) -> Estimate | None:
        """The job's total length as now forecast, or None with nothing to go on."""
        sources: list[Estimate] = []
        typical = self._typical()
        if typical is not None:
            sources.append(typical)
        if self.eta is not None:
            when, remaining = self.eta
            sources.append(Estimate(max(when - self.start + remaining, 1e-3), 0.4))
        sources.extend(self._from_progress())
        return pool(sources)

    def _from_progress(self) -> list[Estimate]:
        if self.running_from is None or self.level <= 0 or self.level_since is None:
            return []
        began, reached = self._began(), self._reached()
        ran = max(reached - began, 1e-3)
        if self.level >= LAST_STEP:
            # In its last stretch, which lasts roughly as long as one of its earlier steps.
            return [Estimate(reached - self.start + 0.25 * ran, 0.3)]
        # Steps are uneven, so the pace so far says little early on and more later.
        done = self.level / 100
        return [Estimate(began - self.start + ran / done, 1.2 - 0.5 * done)]

    def _typical(self) -> Estimate | None:
        return None if self.lengths is None else self.lengths.typical(self.kind)

    def _began(self) -> float:
        """When it left the queue: between the last poll that saw it queued (or its start)
        and the first that saw it running."""
        assert self.running_from is not None
        before = self.start if self.last_queued is None else self.last_queued
        return (min(before, self.running_from) + self.running_from) / 2

    def _reached(self) -> float:
        """When its progress reached the level seen: between the poll before and the first
        that saw it."""
        assert self.level_since is not None
        before = self.level_since if self.level_before is None else self.level_before
        return (self.level_since + before) / 2

    def gap(self, now: float) -> float | None:
        """Seconds until the next poll is due, or None with nothing to forecast from."""
        if self.level >= LAST_STEP and self.running_from is not None:
            # The last stretch ends about as suddenly at any moment (memoryless): a steady
            # pace, set by how long its earlier steps took.
            ran = max(self._reached() - self._began(), 1e-3)
            return min(self.most, max(self.least, self.pace * ran))
        estimate = self.estimate()
        if estimate is None:
            return None
        elapsed = max(now - self.start, 0.0)
        surviving = estimate.survival(elapsed)
        if surviving < 0.05:
            # It has outlived its forecast: the forecast was wrong, so back off from it.
            seconds = self.overrun * (elapsed - estimate.median)
        else:
            share = self.share if self._typical() is None else self.share_typical
            seconds = estimate.quantile(1 - (1 - share) * surviving) - elapsed
        return min(self.most, max(self.least, seconds))
