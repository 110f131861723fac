"""The openai provider against the served emulator (OpenAI's shape under /v1) over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from framecast.domain import Job, JobRequest, JobStatus
from framecast.emulator import EmulatorConfig
from framecast.errors import AuthError, RequestRejected
from framecast.providers.base import Variant
from framecast.providers.openai import OpenAIProvider
from tests.conftest import Served, probe_mp4, serve

BOAT = "a paper boat drifting down a rainy street"


@pytest.fixture
def emulator() -> Iterator[Served]:
    """Lumenfall's dialect (its cost metadata, output.url, cancelled), with a fixed poll hint."""
    served = serve(EmulatorConfig(job_seconds=0.3, poll_hint="fixed"))
    yield served
    served.server.stop()


@pytest.fixture
def api(emulator: Served) -> Iterator[OpenAIProvider]:
    provider = OpenAIProvider(base_url=emulator.base_url, api_key="sk-test")
    with provider:
        yield provider


def finish(api: OpenAIProvider, job: Job) -> Job:
    for _ in range(400):
        job = api.get(job.id)
        if job.finished:
            return job
        time.sleep(0.01)
    raise AssertionError("never finished")


def test_create_is_multipart_and_reads_the_video_object(
    api: OpenAIProvider, emulator: Served
) -> None:
    (job,) = api.submit(
        JobRequest(BOAT, model="sora-2", seconds=8, size="1280x720", params={"style": "noir"})
    )

    assert (job.status, job.progress, job.seconds, job.size, job.model) == (
        JobStatus.QUEUED,
        None,  # Lumenfall sends no progress
        8,
        "1280x720",
        "sora-2",
    )
    assert job.poll_after == 2.0
    assert job.cost_estimate == pytest.approx(0.8)
    assert [s.content_type for s in emulator.seen("POST", "/v1/videos")] == ["multipart/form-data"]


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        ("completed", JobStatus.COMPLETED, None),
        ("failed", JobStatus.FAILED, "generation_failed"),
        ("cancelled", JobStatus.CANCELLED, None),
    ],
)
def test_each_terminal_status(
    api: OpenAIProvider, outcome: str, status: JobStatus, code: str | None
) -> None:
    (job,) = api.submit(JobRequest(BOAT, params={"emulator_outcome": outcome}))
    done = finish(api, job)

    assert done.status is status
    assert (done.error.code if done.error else None) == code
    if status is JobStatus.COMPLETED:
        assert done.cost == pytest.approx(0.4) and done.currency == "USD"
        assert done.completed_at is not None and done.expires_at == done.completed_at + 3600
    else:
        assert done.cost == 0.0


def test_downloads_every_variant(api: OpenAIProvider) -> None:
    (job,) = api.submit(JobRequest(BOAT, size="1280x720"))
    done = finish(api, job)
    payloads = {}
    variants: tuple[Variant, ...] = ("video", "thumbnail", "spritesheet")
    for variant in variants:
        with api.open_asset(done, variant) as response:
            payloads[variant] = response.read()
    assert probe_mp4(payloads["video"]).width == 1280
    assert payloads["thumbnail"][8:12] == payloads["spritesheet"][8:12] == b"WEBP"


def test_list_pages_through_the_server_jobs(api: OpenAIProvider) -> None:
    ids = [api.submit(JobRequest(f"{BOAT} {i}"))[0].id for i in range(5)]

    first, cursor = api.list_jobs(limit=2)
    second, cursor2 = api.list_jobs(limit=2, after=cursor)
    last, end = api.list_jobs(limit=2, after=cursor2)

    assert [j.id for j in first + second + last] == ids[::-1]
    assert end is None


def test_remix_and_delete(api: OpenAIProvider, emulator: Served) -> None:
    (job,) = api.submit(JobRequest(BOAT))
    with pytest.raises(RequestRejected, match="INVALID_REQUEST: Only completed videos"):
        api.remix(job.id, JobRequest("now at night"))
    finish(api, job)

    (remix,) = api.remix(job.id, JobRequest("now at night"))
    api.cancel(job.id)

    assert remix.id != job.id and remix.prompt == "now at night"
    assert emulator.seen("DELETE", f"/v1/videos/{job.id}")
    with pytest.raises(RequestRejected, match="HTTP 404 NOT_FOUND"):
        api.get(job.id)


def test_error_envelopes(emulator: Served) -> None:
    with OpenAIProvider(base_url=emulator.base_url, api_key="sk-test") as api:
        with pytest.raises(RequestRejected) as rejected:
            api.submit(JobRequest(BOAT, params={"seconds": "soon"}))
        assert (rejected.value.status, rejected.value.code) == (400, "INVALID_REQUEST")
    with OpenAIProvider(base_url=emulator.base_url) as keyless, pytest.raises(AuthError) as refused:
        keyless.get("video_x")
    assert refused.value.hint == "Check OPENAI_API_KEY (or --api-key)."


def test_every_request_field_reaches_the_wire() -> None:
    import httpx

    sent: list[bytes] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        return httpx.Response(200, json={"id": "video_1", "status": "queued"})

    transport = httpx.MockTransport(server)
    with OpenAIProvider(base_url="http://api.test/v1", api_key="k", transport=transport) as api:
        api.submit(
            JobRequest(
                BOAT,
                model="mystery",
                aspect_ratio="21:9",
                resolution="2K",
                seed=7,
                audio=False,
                user="u-1",
                metadata={"run": "9"},
                negative_prompt="blur",
                params={"style": "noir"},
            )
        )

    body = sent[0].decode()
    for name, value in [
        ("size", "21:9"),
        ("resolution", "2K"),
        ("seed", "7"),
        ("generate_audio", "false"),
        ("user", "u-1"),
        ("metadata", '{"run": "9"}'),
        ("negative_prompt", "blur"),
        ("style", "noir"),
        ("model", "mystery"),
    ]:
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body, name
