"""NanoGPT's live model listing, cached for a day, and the requests it lets through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast import listing
from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, serve

SOURCE = "https://example.invalid/source.mp4"


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    yield served
    served.server.stop()


def test_a_cached_listing_keeps_video_input_so_video_to_video_is_sent(nanogpt: Served) -> None:
    listed = invoke("models", "--provider", "nanogpt", "--json")
    result = invoke(
        "generate",
        "the same street, at night",
        "--provider",
        "nanogpt",
        "--model",
        "grok-imagine-video",
        "--video",
        SOURCE,
        "--json",
    )

    assert listed.exit_code == 0, listed.output
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "completed"
    grok = next(
        doc
        for doc in map(json.loads, listed.stdout.splitlines())
        if doc["id"] == "grok-imagine-video"
    )
    assert (grok["modes"], grok["source"]) == (["t2v", "i2v", "v2v"], "nanogpt")
    (sent,) = nanogpt.seen("POST", "/api/generate-video")
    body = sent.json()
    assert (body["model"], body["videoUrl"]) == ("grok-imagine-video", SOURCE)
    assert len(nanogpt.seen("GET", "/api/v1/video-models")) == 1, "generate used the cache"


def test_extend_models_are_listed_with_their_modes(nanogpt: Served) -> None:
    result = invoke("models", "--provider", "nanogpt", "--json")

    assert result.exit_code == 0, result.output
    modes = {doc["id"]: doc["modes"] for doc in map(json.loads, result.stdout.splitlines())}
    assert modes["veo3-1-extend"] == ["v2v", "extend"]
    assert modes["midjourney-video"] == ["t2v", "i2v", "extend"]


def test_a_cache_written_in_the_old_format_is_fetched_again(nanogpt: Served) -> None:
    assert invoke("models", "--provider", "nanogpt").exit_code == 0
    (cached,) = Path(listing.cache_dir()).glob("models-nanogpt-*.json")
    document = json.loads(cached.read_text())
    assert document["format"] == listing.CACHE_FORMAT
    del document["format"]
    cached.write_text(json.dumps(document))

    again = invoke("models", "--provider", "nanogpt")

    assert again.exit_code == 0, again.output
    assert "nanogpt listing, just fetched" in again.stderr
    assert len(nanogpt.seen("GET", "/api/v1/video-models")) == 2
