"""framecast through a gateway that re-encodes ids, drops query strings and strips fields.

tests/gateway.py stands in for a LiteLLM proxy (its issue #33423): the create
answer carries one id, every retrieve another that the gateway cannot route
itself. A job must keep the id it was born with; the others are aliases.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.emulator.media import Renderer
from tests.conftest import Served, invoke, journal_rows, submit
from tests.gateway import StandInGateway, decode_id, encode_id, start_gateway

BOAT = "a paper boat drifting down a rainy street"


@pytest.fixture
def gateway(emulator: Served, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInGateway]:
    proxy = start_gateway(emulator.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-through-the-gateway")
    monkeypatch.setenv("OPENAI_BASE_URL", proxy.base_url)
    yield proxy
    proxy.close()


def rows() -> list[dict[str, object]]:
    return journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))


def upstream_bytes(emulator: Served, gateway_id: str) -> bytes:
    upstream = decode_id(gateway_id)
    assert upstream is not None
    record = emulator.app.videos.store.get(upstream)
    assert record is not None
    return Renderer().render(record, "video")


def test_a_job_keeps_the_id_it_was_born_with(gateway: StandInGateway, emulator: Served) -> None:
    result = invoke("generate", BOAT, "-o", "clip.mp4", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    job_id = document["id"]
    created = [r for r in gateway.requests if r.method == "POST"]
    assert len(created) == 1
    polled = {r.path for r in gateway.requests if r.method == "GET"}
    assert polled == {f"/v1/videos/{job_id}", f"/v1/videos/{job_id}/content"}, (
        "every request uses the id the job was created with"
    )
    (row,) = rows()
    assert row["id"] == job_id and row["status"] == "completed"
    assert json.loads(str(row["aliases"])) == [encode_id(job_id)], "the re-encoded id is an alias"
    saved = Path("clip.mp4").read_bytes()
    assert (
        hashlib.sha256(saved).digest() == hashlib.sha256(upstream_bytes(emulator, job_id)).digest()
    )
    assert emulator.app.jobs_created() == 1


def test_wait_status_and_download_by_id_through_the_gateway(
    gateway: StandInGateway, emulator: Served
) -> None:
    job_id = submit(BOAT)

    waited = invoke("wait", job_id)
    status = invoke("status", job_id, "--json")
    fetched = invoke("download", job_id, "-o", "clip.mp4")
    by_alias = invoke("status", encode_id(job_id), "--json")

    assert [waited.exit_code, status.exit_code, fetched.exit_code] == [0, 0, 0], fetched.output
    assert json.loads(status.stdout)["id"] == job_id
    assert Path("clip.mp4").read_bytes() == upstream_bytes(emulator, job_id)
    assert by_alias.exit_code == 0, "the journal finds a job by its alias too"
    assert json.loads(by_alias.stdout)["id"] == job_id
    assert all(encode_id(job_id) not in r.path for r in gateway.requests)


def test_a_thumbnail_that_arrives_as_a_video_is_not_saved(
    gateway: StandInGateway, emulator: Served
) -> None:
    job_id = submit(BOAT)
    assert invoke("wait", job_id).exit_code == 0

    result = invoke("download", job_id, "--variant", "thumbnail")

    assert result.exit_code == 5, result.output
    assert "not a thumbnail" in result.stderr and "MP4" in result.stderr
    assert not list(Path.cwd().glob("*.png"))
    assert not list(Path.cwd().glob(".framecast-*"))


def test_an_image_url_goes_as_the_spec_allows(gateway: StandInGateway, emulator: Served) -> None:
    result = invoke("generate", BOAT, "--image", "https://images.example.com/frame.png", "-q")

    assert result.exit_code == 0, result.output
    (create,) = [r for r in gateway.requests if r.method == "POST"]
    assert create.content_type == "application/json", "a JSON input_reference object, not 422"
    assert emulator.app.jobs_created() == 1
