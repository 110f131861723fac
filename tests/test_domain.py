"""Status normalisation across provider vocabularies, and the request record."""

from __future__ import annotations

import json

import pytest

from framecast.domain import TERMINAL, JobRequest, JobStatus, normalise_status


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


def test_terminal_set() -> None:
    assert {s for s in JobStatus if s.terminal} == set(TERMINAL)
    assert {
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.EXPIRED,
    } == TERMINAL


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
