"""The emulator's realistic timeline: seeded, spread, uneven; poll hints off, fixed or honest."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from framecast.emulator import EmulatorApp, EmulatorConfig
from framecast.emulator.timeline import Timeline
from framecast.emulator.transport import EmulatorTransport
from tests.conftest import Served, serve


def plans(
    seed: int, count: int = 40, nominal: float = 20.0, **kw: float
) -> list[tuple[float, float]]:
    timeline = Timeline("realistic", seed, **kw)
    drawn = [timeline.draw(i, nominal, "completed", exact=False) for i in range(count)]
    return [(plan.queued, plan.ends) for plan, _ in drawn]


def test_the_same_seed_replays_and_another_seed_does_not() -> None:
    assert plans(7) == plans(7)
    assert plans(7) != plans(8)


def test_lengths_spread_around_the_nominal_with_a_queue_wait() -> None:
    drawn = plans(1, count=200)
    lengths = [end for _, end in drawn]
    assert 12 < statistics.median(lengths) < 30
    assert min(lengths) < 15 and max(lengths) > 30  # from well under to well over 20 s
    assert all(0 < queued < end for queued, end in drawn)


def test_progress_stalls_and_jumps() -> None:
    timeline = Timeline("realistic", 3)
    stalls = jumps = 0
    for index in range(50):
        plan, _ = timeline.draw(index, 30.0, "completed", exact=False)
        percents = [p for _, p in plan.steps]
        gains = [b - a for a, b in itertools.pairwise(percents)]
        stalls += sum(1 for g in gains if g == 0)
        jumps += sum(1 for g in gains if g >= 20)
        assert percents == sorted(percents) and percents[-1] <= 99
    assert stalls > 10 and jumps > 10


def test_the_failure_rate_fails_about_that_share_of_jobs() -> None:
    timeline = Timeline("realistic", 5, failure_rate=0.3)
    outcomes = [timeline.draw(i, 10.0, "completed", exact=False)[1] for i in range(400)]
    assert 0.22 < outcomes.count("failed") / 400 < 0.38


def test_steady_and_an_exact_length_keep_the_length_asked() -> None:
    steady, _ = Timeline("steady", 0).draw(0, 10.0, "completed", exact=False)
    exact, _ = Timeline("realistic", 0).draw(0, 10.0, "completed", exact=True)
    assert steady.ends == exact.ends == 10.0


@pytest.fixture
def hinted(request: pytest.FixtureRequest) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=30.0, seed=2, poll_hint=request.param))
    yield served
    served.server.stop()


def poll(served: Served) -> httpx.Response:
    with httpx.Client(base_url=served.base_url, headers={"Authorization": "Bearer k"}) as api:
        video_id = api.post("/videos", json={"prompt": "x"}).json()["id"]
        time.sleep(0.05)
        return api.get(f"/videos/{video_id}")


@pytest.mark.parametrize("hinted", ["off"], indirect=True)
def test_no_hint_by_default_on_lumenfall(hinted: Served) -> None:
    assert "openai-poll-after-ms" not in poll(hinted).headers


@pytest.mark.parametrize("hinted", ["fixed"], indirect=True)
def test_a_fixed_hint_says_nothing_about_the_job(hinted: Served) -> None:
    assert poll(hinted).headers["openai-poll-after-ms"] == "2000"


@pytest.mark.parametrize("hinted", ["honest"], indirect=True)
def test_an_honest_hint_is_the_time_left(hinted: Served) -> None:
    answer = poll(hinted)
    plan, _ = Timeline("realistic", 2).draw(0, 30.0, "completed", exact=False)
    left = plan.ends - 0.05
    # The header is capped at 10 s; under it, it tracks the true time left.
    assert int(answer.headers["openai-poll-after-ms"]) == pytest.approx(
        min(10_000, left * 1000), abs=300
    )


def test_a_job_moves_through_its_drawn_plan() -> None:
    # A clock the test moves, so the job's states are checked at its plan's instants.
    now = [1_000_000.0]
    app = EmulatorApp(EmulatorConfig(job_seconds=20.0, seed=11), clock=lambda: now[0])
    auth = {"Authorization": "Bearer k"}
    transport = EmulatorTransport(app)
    with httpx.Client(transport=transport, base_url="http://e.test/v1", headers=auth) as api:
        video_id = api.post("/videos", json={"prompt": "x"}).json()["id"]
        plan, _ = Timeline("realistic", 11).draw(0, 20.0, "completed", exact=False)
        states = []
        for at in (plan.queued - 0.01, plan.queued + 0.01, plan.ends - 0.01, plan.ends):
            now[0] = 1_000_000.0 + at
            states.append(api.get(f"/videos/{video_id}").json()["status"])
    assert states == ["queued", "in_progress", "in_progress", "completed"]
    assert plan.ends != 20.0  # the realistic timeline did not take the nominal length
