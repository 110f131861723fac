"""`framecast models`: offline from the bundled table, live listings cached and merged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast import catalog, listing
from framecast.catalog import ModelInfo, Price
from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, serve


def test_offline_listing_from_the_bundled_table(isolated: Path) -> None:
    table = invoke("models")
    as_json = invoke("models", "--json")

    assert table.exit_code == as_json.exit_code == 0
    header = table.stdout.splitlines()[0].split()
    assert header == ["MODEL", "MODES", "SECONDS", "RATIOS", "TIERS", "PER", "SECOND"]
    ids = [json.loads(line)["id"] for line in as_json.stdout.splitlines()]
    for family in (
        "sora-2",
        "sora-2-pro",
        "grok-imagine-video",
        "veo-3.1",
        "veo-3.1-fast",
        "kling-v3",
        "wan-2.6",
    ):
        assert family in ids
        assert any(line.startswith(family + " ") for line in table.stdout.splitlines())
    assert "Source: framecast table, as of 2026-11-01." in table.stderr


def test_one_model_in_detail(isolated: Path) -> None:
    result = invoke("models", "grok-imagine-video", "--json")
    human = invoke("models", "xai/grok-imagine-video")

    assert result.exit_code == human.exit_code == 0, result.output + human.output
    doc = json.loads(result.stdout)
    assert doc["modes"] == ["t2v", "i2v", "v2v"]
    assert doc["durations"] == list(range(1, 16))
    assert doc["aspect_ratios"] == ["9:16", "2:3", "3:4", "1:1", "4:3", "3:2", "16:9"]
    assert doc["resolutions"] == ["1K"]
    assert {
        "size": "1183x887",
        "aspect_ratio": "4:3",
        "resolution": "1K",
        "per_second": 0.05,
    } in doc["sizes"]
    assert doc["prices"][0]["as_of"] == "2026-10-01" and doc["prices"][0]["source"].startswith(
        "https://"
    )
    assert human.exit_code == 0
    assert "1365x768 (default)" in human.stdout
    assert "image input: $0.002 per item" in human.stdout


def test_unknown_model_suggests_the_nearest(isolated: Path) -> None:
    result = invoke("models", "sora2")
    assert result.exit_code == 2
    assert "Did you mean: sora-2" in result.stderr


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig())
    monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_test")
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    yield served
    served.server.stop()


def test_live_listing_is_cached_and_refreshed(lumenfall: Served) -> None:
    first = invoke("models", "--provider", "lumenfall", "--json")
    second = invoke("models", "--provider", "lumenfall")
    refreshed = invoke("models", "--provider", "lumenfall", "--refresh")

    assert first.exit_code == second.exit_code == refreshed.exit_code == 0
    assert len(first.stdout.splitlines()) == len(catalog.models())
    assert "lumenfall listing, just fetched" in first.stderr
    assert "lumenfall listing, cached" in second.stderr
    assert "just fetched" in refreshed.stderr
    assert len(lumenfall.seen("GET", "/openai/v1/models")) == 2


def test_a_stale_cache_beats_nothing(lumenfall: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("models", "--provider", "lumenfall").exit_code == 0
    lumenfall.server.stop()

    result = invoke("models", "--provider", "lumenfall", "--refresh")

    assert result.exit_code == 0
    assert "lumenfall is unreachable" in result.stderr
    assert "using its listing from" in result.stderr
    assert "sora-2" in result.stdout


def test_nanogpt_listing_with_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    served = serve(EmulatorConfig())
    try:
        monkeypatch.setenv("NANOGPT_API_KEY", "k")
        result = invoke(
            "models",
            "veo-3.1-fast",
            "--provider",
            "nanogpt",
            "--base-url",
            served.origin + "/api",
            "--json",
        )
    finally:
        served.server.stop()
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "nanogpt"
    assert doc["prices"][0]["source"].endswith("/api/v1/video-models")
    assert doc["sizes"], "sizes the live listing lacks come from the bundled table"


def test_live_values_are_merged_over_the_table() -> None:
    live = ModelInfo(
        id="sora-2",
        name="sora-2",
        creator="",
        modes=(),
        durations=(4, 8),
        default_seconds=None,
        sizes=(),
        default_size=None,
        prices=(Price(0.12, "USD", "live", "2026-11-20"),),
        source="somewhere",
    )
    merged = catalog.bundled().merged([live]).find("sora-2")
    assert merged is not None
    assert (merged.durations, merged.prices[0].per_second, merged.source) == (
        (4, 8),
        0.12,
        "somewhere",
    )
    assert merged.sizes == catalog.get("sora-2").sizes  # type: ignore[union-attr]
    assert merged.modes == ("t2v", "i2v")


def test_listings_without_capabilities_show_only_known_video_models() -> None:
    listed = [
        ModelInfo(
            id=i,
            name=i,
            creator="",
            modes=(),
            durations=(),
            default_seconds=None,
            sizes=(),
            default_size=None,
        )
        for i in ("sora-2", "gpt-4o", "whisper-1")
    ]
    assert [m.id for m in listing.offered(catalog.bundled(), listed)] == ["sora-2"]


def test_estimates_use_fresh_cached_prices(
    lumenfall: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve(EmulatorConfig())
    try:
        monkeypatch.setenv("NANOGPT_API_KEY", "k")
        monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
        assert invoke("models", "--provider", "nanogpt").exit_code == 0
        result = invoke("estimate", "x", "--provider", "nanogpt", "-m", "wan-2.6", "--json")
    finally:
        served.server.stop()
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["sources"] == [served.origin + "/api/v1/video-models"]
