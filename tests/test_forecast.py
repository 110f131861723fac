"""Forecasts of when a job ends, and the poll gaps they give, on a fake clock."""

from __future__ import annotations

import pytest

from framecast.domain import Job, JobStatus
from framecast.forecast import Estimate, Forecast, Lengths, pool

KIND = ("openai", "sora-2")


def seen(status: JobStatus, progress: int | None = None, eta: float | None = None) -> Job:
    return Job(id="v", provider="openai", status=status, progress=progress, eta=eta)


def known(*seconds: float) -> Lengths:
    lengths = Lengths()
    for s in seconds:
        lengths.add(KIND, s)
    return lengths


def test_an_estimate_is_a_log_normal_length() -> None:
    e = Estimate(median=20, spread=0.5)
    assert e.survival(0) == 1.0
    assert e.survival(20) == pytest.approx(0.5)
    assert e.quantile(0.5) == pytest.approx(20)
    assert e.quantile(0.9) > 20 > e.quantile(0.1)


def test_pooling_weighs_the_sharper_source_more() -> None:
    pooled = pool([Estimate(10, 0.2), Estimate(40, 1.0)])
    assert pooled is not None and 10 < pooled.median < 15
    assert pool([]) is None


def test_typical_lengths_come_per_provider_and_model_and_are_wide_while_few() -> None:
    assert Lengths().typical(KIND) is None
    one = known(30).typical(KIND)
    many = known(*[28, 30, 32] * 10).typical(KIND)
    assert one is not None and many is not None
    assert one.median == pytest.approx(30) and many.median == pytest.approx(30)
    assert one.spread > many.spread
    assert known(30).typical(("openai", "sora-2-pro")) is None


def test_with_nothing_to_go_on_there_is_no_forecast() -> None:
    forecast = Forecast(start=0.0)
    forecast.observe(0.0, seen(JobStatus.QUEUED))
    assert forecast.gap(0.0) is None


def test_polls_are_sparse_early_and_dense_around_the_typical_end() -> None:
    forecast = Forecast(start=0.0, kind=KIND, lengths=known(*[28, 30, 32, 29, 31] * 4))
    forecast.observe(0.0, seen(JobStatus.QUEUED))

    early = forecast.gap(0.0)
    near_end = forecast.gap(29.0)

    assert early is not None and near_end is not None
    assert early > 5 * near_end
    assert early <= 30, "the first look comes no later than the typical end"


def test_a_job_in_its_last_stretch_is_polled_at_a_steady_pace_set_by_its_run() -> None:
    forecast = Forecast(start=0.0)
    forecast.observe(0.0, seen(JobStatus.QUEUED))
    forecast.observe(2.0, seen(JobStatus.IN_PROGRESS, 10))
    forecast.observe(6.0, seen(JobStatus.IN_PROGRESS, 40))
    forecast.observe(20.0, seen(JobStatus.IN_PROGRESS, 99))  # reached between 6 and 20 s

    # It left the queue at about 1 s and reached 99% at about 13 s: 12 s of run.
    assert forecast.gap(20.0) == pytest.approx(forecast.pace * 12)
    assert forecast.gap(25.0) == forecast.gap(20.0), "the last stretch has no memory"


def test_progress_alone_gives_a_forecast_that_tightens_as_the_job_advances() -> None:
    slow = Forecast(start=0.0)
    slow.observe(0.0, seen(JobStatus.QUEUED))
    slow.observe(1.0, seen(JobStatus.IN_PROGRESS, 5))
    quick = Forecast(start=0.0)
    quick.observe(0.0, seen(JobStatus.QUEUED))
    quick.observe(1.0, seen(JobStatus.IN_PROGRESS, 50))

    a, b = slow.estimate(), quick.estimate()
    assert a is not None and b is not None
    assert a.median > b.median and a.spread > b.spread


def test_the_providers_estimate_of_the_time_left_is_used() -> None:
    forecast = Forecast(start=0.0)
    forecast.observe(10.0, seen(JobStatus.IN_PROGRESS, eta=20.0))
    estimate = forecast.estimate()
    assert estimate is not None and estimate.median == pytest.approx(30.0)


def test_a_job_outliving_its_forecast_is_polled_less_and_less_often() -> None:
    forecast = Forecast(start=0.0, kind=KIND, lengths=known(*[10.0, 10.5, 9.5] * 5))
    forecast.observe(0.0, seen(JobStatus.QUEUED))
    gaps = [forecast.gap(t) or 0.0 for t in (20.0, 40.0, 80.0)]
    assert 0 < gaps[0] < gaps[1] < gaps[2] <= forecast.most
