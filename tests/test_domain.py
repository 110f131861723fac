"""Status normalisation across provider vocabularies, and the request record."""

from __future__ import annotations

import dataclasses
import json

import pytest

from framecast.domain import Job, JobRequest, JobStatus, normalise_status
from framecast.polling import PollPolicy, track


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("queued", JobStatus.QUEUED),
        ("pending", JobStatus.QUEUED),
        ("IN_QUEUE", JobStatus.QUEUED),
        ("in_progress", JobStatus.IN_PROGRESS),
        ("IN_PROGRESS", JobStatus.IN_PROGRESS),
        ("processing", JobStatus.IN_PROGRESS),
        ("generating", JobStatus.IN_PROGRESS),
        ("delivering", JobStatus.IN_PROGRESS),
        ("in-progress", JobStatus.IN_PROGRESS),
        ("completed", JobStatus.COMPLETED),
        ("COMPLETED", JobStatus.COMPLETED),
        ("done", JobStatus.COMPLETED),
        ("succeeded", JobStatus.COMPLETED),
        ("failed", JobStatus.FAILED),
        ("FAILED", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
        ("CANCELED", JobStatus.CANCELLED),
        ("CANCELLED", JobStatus.CANCELLED),
        ("expired", JobStatus.EXPIRED),
    ],
)
def test_every_provider_vocabulary_normalises(raw: str, expected: JobStatus) -> None:
    assert normalise_status(raw) is expected


@pytest.mark.parametrize("raw", ["unknown", "rendering", "", None, 3, {"status": "x"}])
def test_unknown_values_are_reported_as_unknown_not_raised(raw: object) -> None:
    assert normalise_status(raw) is None


ENDS_A_JOB = {
    JobStatus.QUEUED: False,
    JobStatus.IN_PROGRESS: False,
    JobStatus.COMPLETED: True,
    JobStatus.FAILED: True,
    JobStatus.CANCELLED: True,
    JobStatus.EXPIRED: True,
}


def test_every_status_is_classified() -> None:
    assert set(ENDS_A_JOB) == set(JobStatus)


@pytest.mark.parametrize(("status", "ends"), ENDS_A_JOB.items())
def test_a_finished_job_is_not_polled_again_and_a_running_one_is(
    status: JobStatus, ends: bool
) -> None:
    """Stated status by status (not derived from TERMINAL): what polling does with each."""
    job = Job(id="video_1", provider="test", status=status)
    asked: list[JobStatus] = []

    def fetch(index: int, current: Job) -> Job:
        asked.append(current.status)
        return dataclasses.replace(current, status=JobStatus.COMPLETED)

    (final,) = track([job], fetch, policy=PollPolicy(), clock=lambda: 0.0, sleep=lambda s: None)

    assert job.finished is ends
    if ends:
        assert (final, asked) == (job, [])
    else:
        assert (final.status, asked) == (JobStatus.COMPLETED, [status])


def test_request_record_is_json_ready_and_holds_no_file_contents() -> None:
    request = JobRequest(
        "p",
        model="sora-2",
        seconds=4,
        images=("a.png", "data:image/png;base64,AAAA"),
        params={"n": 2},
        video="data:video/mp4;base64,AAAA",
        metadata={"run": "1"},
    )
    record = request.to_record()
    assert json.loads(json.dumps(record)) == record
    assert record["images"] == ["a.png", "data:..."]
    assert record["video"] == "data:..."
    assert (record["prompt"], record["seconds"], record["params"], record["metadata"]) == (
        "p",
        4,
        {"n": 2},
        {"run": "1"},
    )
