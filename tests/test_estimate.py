"""`framecast estimate` and `generate --max-cost`: Lumenfall's dry run and the bundled table."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from framecast import catalog, jobs, pricing
from framecast.domain import JobRequest
from framecast.emulator import EmulatorConfig
from framecast.errors import ProviderUnavailable
from framecast.providers.base import ProviderEstimate
from framecast.providers.openai import OpenAIProvider
from tests.conftest import Served, invoke, journal_rows, serve

BOAT = "a paper boat drifting down a rainy street"


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_test")
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    yield served
    served.server.stop()


def nothing_was_created(served: Served) -> bool:
    listing = httpx.get(served.base_url + "/videos", headers={"Authorization": "Bearer x"}).json()
    return listing["data"] == [] and journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"])) == []


def test_lumenfall_estimate_asks_the_dry_run(lumenfall: Served) -> None:
    result = invoke(
        "estimate",
        BOAT,
        "--provider",
        "lumenfall",
        "-m",
        "sora-2",
        "--seconds",
        "8",
        "--n",
        "2",
        "--json",
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["total"], doc["currency"], doc["n"]) == ("dry_run", 1.6, "USD", 2)
    assert doc["priced_by"] == "lumenfall dry run, routed to emulator"
    assert doc["lines"] == [
        {
            "description": "output",
            "quantity": 16.0,
            "unit": "second",
            "unit_price": 0.1,
            "total": 1.6,
        }
    ]
    assert [s.query for s in lumenfall.seen("POST", "/videos")] == ["dryRun=true"]
    assert nothing_was_created(lumenfall)


def test_table_estimate_shows_its_sources_and_date(served_env: Served) -> None:
    result = invoke(
        "estimate", BOAT, "-m", "sora-2-pro", "--size", "1792x1024", "--seconds", "8", "--json"
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["total"], doc["size"], doc["seconds"]) == (
        "table",
        4.0,
        "1792x1024",
        8,
    )
    assert doc["priced_by"] == "framecast price table (as of 2026-06-01)"
    assert doc["sources"] == ["https://www.cometapi.com/sora-api-access-in-2026 (third party)"]
    assert doc["lines"][0] == {
        "description": "video output, 8 s",
        "quantity": 8,
        "unit": "second",
        "unit_price": 0.5,
        "total": 4.0,
    }
    assert served_env.seen() == [], "a table estimate sends nothing at all"


def test_table_estimate_uses_model_defaults_and_lists_what_it_cannot_price(
    served_env: Served,
) -> None:
    result = invoke(
        "estimate",
        BOAT,
        "-m",
        "grok-imagine-video",
        "--image",
        "https://example.invalid/a.png",
        "-P",
        "style=noir",
        "--json",
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["seconds"], doc["size"]) == (6, "1365x768")
    assert [line["description"] for line in doc["lines"]] == [
        "video output, 6 s",
        "reference image input",
    ]
    assert doc["total"] == pytest.approx(6 * 0.05 + 0.002)
    assert doc["unpriced"] == ["--param style (passed through; may change the price)"]


def test_an_unknown_model_cannot_be_priced(served_env: Served) -> None:
    result = invoke("estimate", BOAT, "-m", "mystery-model", "--json")

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["total"] is None
    assert doc["unpriced"] == ["model 'mystery-model' is not in framecast's price table"]


def test_human_estimate(served_env: Served) -> None:
    result = invoke(
        "estimate", BOAT, "-m", "veo-3.1-fast", "--aspect-ratio", "9:16", "--resolution", "1080p"
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "veo-3.1-fast · 8 s · 1080x1920 · via openai"
    assert lines[1].split() == ["video", "output,", "8", "s", "8", "second", "x", "$0.12", "$0.96"]
    assert lines[2].split() == ["total", "$0.96", "USD"]
    assert lines[3] == "priced by: framecast price table (as of 2026-05-01)"


def test_estimate_reports_adjustments(served_env: Served) -> None:
    result = invoke("estimate", BOAT, "-m", "sora-2", "--seconds", "10", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # The OpenAI API's sora-2 makes 4, 8 or 12 s: a tie goes to the cheaper length.
    assert doc["adjustments"] == ["seconds 10 -> 8 (nearest sora-2 offers)"]
    assert doc["total"] == pytest.approx(0.8)
    assert "Note: seconds 10 -> 8 (nearest sora-2 offers)" in result.stderr


def test_max_cost_refuses_before_submitting(lumenfall: Served) -> None:
    result = invoke(
        "generate",
        BOAT,
        "--provider",
        "lumenfall",
        "-m",
        "sora-2",
        "--seconds",
        "8",
        "--n",
        "2",
        "--max-cost",
        "1.00",
    )

    assert result.exit_code == 8
    assert result.stdout == ""
    assert "framecast: error: The estimate, 1.60 USD, is above --max-cost 1.00." in result.stderr
    assert "Nothing was sent. Source: lumenfall dry run" in result.stderr
    assert nothing_was_created(lumenfall)


def test_max_cost_under_the_cap_proceeds(lumenfall: Served) -> None:
    result = invoke(
        "generate", BOAT, "--provider", "lumenfall", "-m", "sora-2", "--max-cost", "0.50", "--json"
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cost"] == pytest.approx(0.4)
    assert "Estimated 0.40 USD (lumenfall dry run, routed to emulator)." in result.stderr


def test_max_cost_from_the_table(served_env: Served) -> None:
    over = invoke("generate", BOAT, "-m", "sora-2", "--seconds", "12", "--max-cost", "1")
    under = invoke("generate", BOAT, "-m", "sora-2", "--seconds", "4", "--max-cost", "1", "-q")

    assert over.exit_code == 8
    assert "framecast price table (as of 2026-10-01)" in over.stderr
    assert under.exit_code == 0, under.output
    assert len(served_env.seen("POST", "/videos")) == 1


def test_max_cost_refuses_what_it_cannot_price_unless_allowed(served_env: Served) -> None:
    refused = invoke("generate", BOAT, "-m", "mystery-model", "--max-cost", "5")
    allowed = invoke("generate", BOAT, "-m", "mystery-model", "--max-cost", "5", "--allow-unpriced")

    assert refused.exit_code == 8
    assert (
        "Cannot price this request (model 'mystery-model' is not in framecast's price table)"
        in refused.stderr
    )
    assert "--allow-unpriced" in refused.stderr
    assert allowed.exit_code == 4, (
        "with --allow-unpriced the request goes out (and this server refuses the model)"
    )
    assert len(served_env.seen("POST", "/videos")) == 1


def test_a_failed_dry_run_falls_back_to_the_table() -> None:
    class FlakyDryRun(OpenAIProvider):
        capabilities = replace(OpenAIProvider.capabilities, dry_run=True)

        def estimate(self, request: JobRequest) -> ProviderEstimate:
            raise ProviderUnavailable("HTTP 503: try later")

    fallbacks: list[str] = []
    with FlakyDryRun(base_url="http://127.0.0.1:9/v1", api_key="k") as api:
        prepared = jobs.prepare(JobRequest(BOAT, model="sora-2", seconds=8), FlakyDryRun)
        result = jobs.estimate(api, prepared, on_fallback=lambda e: fallbacks.append(e.message))
    assert (result.source, result.total) == ("table", 0.8)
    assert fallbacks == ["HTTP 503: try later"]


def test_input_video_is_listed_as_unpriced() -> None:
    grok = catalog.get("grok-imagine-video")
    estimate = pricing.from_table(
        JobRequest(BOAT, video="https://example.invalid/v.mp4"), grok, "grok"
    )
    assert estimate.unpriced == ("input video (0.01/s of input, length unknown)",)
    assert estimate.total == pytest.approx(0.3)
