"""How long each emulated job takes, and how its progress moves.

Real jobs do not run for a fixed time with progress rising evenly: they wait in a
queue, their lengths vary widely, and progress stalls and then jumps. A client
tuned against an even, exact timeline looks fast and is not, so the default
timeline is `realistic`: drawn from a generator seeded per server and per job, so
a given `--seed` replays exactly. `steady` keeps the even timeline (15% queued,
then linear), for demonstrations and tests that need a job to end on time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

TIMELINES = ("realistic", "steady")
POLL_HINTS = ("off", "fixed", "honest")
FIXED_HINT_MS = 2000
_STEADY_QUEUE = 0.15
_FAILS_AT = 0.6  # a failed job stops 60% of the way through its run


@dataclass(frozen=True, slots=True)
class Plan:
    """One job's timeline, in seconds after it was created."""

    queued: float  # when it leaves the queue
    ends: float  # when it reaches its outcome
    # (seconds after `queued`, percent) from which that percentage is shown: a step
    # function, so equal neighbours are stalls and large differences jumps.
    steps: tuple[tuple[float, int], ...]

    def status(self, elapsed: float, outcome: str) -> tuple[str, int]:
        if elapsed >= self.ends:
            return outcome, 100 if outcome == "completed" else self._progress(elapsed)
        if elapsed < self.queued:
            return "queued", 0
        return "in_progress", self._progress(elapsed)

    def _progress(self, elapsed: float) -> int:
        shown = 1
        for at, percent in self.steps:
            if elapsed - self.queued >= at:
                shown = percent
        return min(99, max(1, shown))

    def to_json(self) -> dict[str, Any]:
        return {"queued": self.queued, "ends": self.ends, "steps": [list(s) for s in self.steps]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        steps = tuple((float(t), int(p)) for t, p in data["steps"])
        return cls(float(data["queued"]), float(data["ends"]), steps)


def steady(length: float, outcome: str) -> Plan:
    """The even timeline: queued for 15%, then progress rising linearly to the end."""
    share = 1.0 if outcome == "completed" else _FAILS_AT
    ends = length * share
    queued = min(ends, length * _STEADY_QUEUE)
    running = max(length - queued, 1e-9)
    steps = tuple((running * p / 100, p) for p in range(1, 100))
    return Plan(queued, ends, steps)


def realistic(rng: random.Random, nominal: float, outcome: str) -> Plan:
    """A queue wait, a length spread around `nominal`, and progress that stalls and jumps."""
    if nominal <= 0:
        return Plan(0.0, 0.0, ())
    # Lengths are roughly log-normal: most near the nominal, a few several times longer.
    length = nominal * min(3.0, max(0.3, math.exp(rng.gauss(0.0, 0.45))))
    queued = length * rng.uniform(0.02, 0.3)
    running = length - queued
    if outcome != "completed":
        running *= rng.uniform(0.2, 0.8)
    steps: list[tuple[float, int]] = []
    at, percent = 0.0, 0
    pieces = rng.randint(4, 9)
    weights = [rng.expovariate(1.0) for _ in range(pieces)]
    gains = [rng.choice((0, 0, 1, 2, 3, 5)) * rng.uniform(0.5, 1.5) for _ in range(pieces)]
    total_gain = sum(gains) or 1.0
    total_weight = sum(weights)
    reach = 99 if outcome == "completed" else rng.randint(5, 90)
    for weight, gain in zip(weights, gains, strict=True):
        percent = min(reach, percent + max(0, round(gain / total_gain * reach)))
        steps.append((round(at, 4), max(1, percent)))
        at += running * weight / total_weight
    return Plan(queued, queued + running, tuple(steps))


class Timeline:
    """Draws each new job's plan; the nth job of a seed always gets the same one."""

    def __init__(self, kind: str = "realistic", seed: int = 0, failure_rate: float = 0.0) -> None:
        if kind not in TIMELINES:
            raise ValueError(f"timeline must be one of {', '.join(TIMELINES)}")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure rate must be between 0 and 1")
        self.kind = kind
        self.seed = seed
        self.failure_rate = failure_rate

    def draw(self, index: int, nominal: float, outcome: str, exact: bool) -> tuple[Plan, str]:
        """The plan and outcome of the job created `index`th; `exact` keeps its length as asked."""
        rng = random.Random(f"{self.seed}/{index}")
        if outcome == "completed" and rng.random() < self.failure_rate:
            outcome = "failed"
        if exact or self.kind == "steady":
            return steady(nominal, outcome), outcome
        return realistic(rng, nominal, outcome), outcome


def poll_hint(mode: str, plan: Plan, elapsed: float) -> int | None:
    """The `openai-poll-after-ms` to send for an unfinished job, if any."""
    if mode == "fixed":
        return FIXED_HINT_MS
    if mode == "honest":
        remaining = plan.ends - elapsed
        return int(min(10_000, max(100, remaining * 1000)))
    return None
