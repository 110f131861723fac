"""Requests that never cost more than asked.

Lumenfall converts `seconds`, `size`, `aspect_ratio` and `resolution` itself (seed 000),
so it gets them as asked and its own dry run says what it will bill. Where framecast
must adjust (a strict OpenAI server, NanoGPT), it takes the nearest value, the cheaper
one on a tie, and says so before anything is sent when the change costs more.
`--strict` refuses any change instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, serve

BOAT = "a paper boat drifting down a rainy street"


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("LUMENFALL_API_KEY", "lmnfl_test")
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    yield served
    served.server.stop()


@pytest.fixture
def strict_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3, dialect="openai"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
    yield served
    served.server.stop()


def creates(served: Served) -> list[dict[str, object]]:
    """The create requests that reached the emulator (dry runs included), as sent."""
    return [{"query": seen.query, **seen.fields()} for seen in served.seen("POST", "/videos")]


def test_lumenfall_gets_the_request_as_asked_and_its_dry_run_prices_exactly_that(
    lumenfall: Served,
) -> None:
    asked = ("-m", "sora-2", "--seconds", "10", "--size", "1920x1080")

    estimate = invoke("estimate", BOAT, "--provider", "lumenfall", *asked, "--json")
    generate = invoke("generate", BOAT, "--provider", "lumenfall", *asked, "--no-wait", "-q")

    assert estimate.exit_code == 0, estimate.output
    assert generate.exit_code == 0, generate.output
    dry_run, create = creates(lumenfall)
    assert dry_run["query"] == "dryRun=true"
    for body in (dry_run, create):
        assert (body["seconds"], body["size"]) == (10, "1920x1080")
        assert "aspect_ratio" not in body and "resolution" not in body
    doc = json.loads(estimate.stdout)
    # Sora on Lumenfall makes up to 20 s: 10 s at $0.10, priced by the provider itself.
    assert (doc["source"], doc["total"], doc["seconds"]) == ("dry_run", 1.0, 10)
    assert doc["requested"] == {
        "seconds": 10,
        "size": "1920x1080",
        "aspect_ratio": None,
        "resolution": None,
    }
    assert doc["adjustments"] == [] and doc["adjusted"] == []
    assert "10 -> 12" not in estimate.stderr
    assert generate.stdout.strip().startswith("video_")


def test_what_lumenfall_resolves_is_reported_from_its_dry_run(lumenfall: Served) -> None:
    # veo-3.1 makes 4, 6 or 8 s; the emulated gateway settles 5 s on the longer one.
    result = invoke(
        "estimate", BOAT, "--provider", "lumenfall", "-m", "veo-3.1", "-s", "5", "--json"
    )

    assert result.exit_code == 0, result.output
    assert creates(lumenfall)[0]["seconds"] == 5  # sent as asked
    doc = json.loads(result.stdout)
    assert (doc["seconds"], doc["requested"]["seconds"]) == (6, 5)
    assert doc["conversions"][0]["field"] == "seconds"
    assert "lumenfall's dry run bills 6 s for the 5 s asked" in result.stderr
    assert "which costs more" in result.stderr


def test_lumenfall_generate_warns_of_a_conversion_that_costs_more(lumenfall: Served) -> None:
    result = invoke(
        "generate",
        BOAT,
        "--provider",
        "lumenfall",
        "-m",
        "veo-3.1",
        "-s",
        "5",
        "--no-wait",
        "-q",
        "--json",
    )

    assert result.exit_code == 0, result.output
    assert creates(lumenfall)[0]["seconds"] == 5
    said = (
        "--seconds 5 is sent as asked; lumenfall converts it to what veo-3.1 makes "
        "(probably 6, costing about 0.40 USD more)."
    )
    assert f"Warning: {said}" in result.stderr  # even with --quiet
    assert json.loads(result.stdout)["adjustments"] == [said]


def test_a_tie_goes_to_the_cheaper_length(strict_openai: Served) -> None:
    result = invoke("generate", BOAT, "-m", "sora-2", "-s", "10", "--no-wait", "--json")

    assert result.exit_code == 0, result.output
    (create,) = creates(strict_openai)
    assert create["seconds"] == "8"
    assert json.loads(result.stdout)["adjustments"] == ["seconds 10 -> 8 (nearest sora-2 offers)"]
    assert "Note: seconds 10 -> 8 (nearest sora-2 offers)" in result.stderr
    assert "Warning" not in result.stderr


def test_a_raised_length_is_said_with_its_price_before_anything_is_sent(
    strict_openai: Served,
) -> None:
    estimate = invoke("estimate", BOAT, "-m", "sora-2", "-s", "3", "--json")
    generate = invoke("generate", BOAT, "-m", "sora-2", "-s", "3", "--no-wait", "-q")

    warning = "Warning: seconds 3 -> 4 (nearest sora-2 offers; costs 0.10 USD more)"
    assert estimate.exit_code == 0, estimate.output
    assert warning in estimate.stderr
    (adjusted,) = json.loads(estimate.stdout)["adjusted"]
    assert adjusted == {
        "field": "seconds",
        "requested": "3",
        "used": "4",
        "reason": "nearest sora-2 offers",
        "raises_cost": True,
        "extra_cost": pytest.approx(0.1),
        "currency": "USD",
    }
    assert generate.exit_code == 0, generate.output
    assert warning in generate.stderr  # --quiet does not hide what costs more
    assert generate.stdout.strip().startswith("video_")
    assert creates(strict_openai)[0]["seconds"] == "4"


def test_a_raised_size_is_priced_against_the_smaller_one_it_could_have_been(
    strict_openai: Served,
) -> None:
    # 1600x900 is nearer 1792x1024 ($0.50/s) than 1280x720 ($0.30/s) on sora-2-pro.
    result = invoke("estimate", BOAT, "-m", "sora-2-pro", "--size", "1600x900", "-s", "4")

    assert result.exit_code == 0, result.output
    assert (
        "Warning: size 1600x900 -> 1792x1024 (nearest sora-2-pro offers; costs 0.80 USD more)"
        in result.stderr
    )
    assert "$2.00" in result.stdout
    assert creates(strict_openai) == []


@pytest.mark.parametrize(
    ("args", "says", "offers"),
    [
        (("-m", "sora-2", "-s", "10"), "--seconds 10 (it would be 8)", "--seconds 4, 8, 12"),
        (
            ("-m", "sora-2", "--size", "1920x1080"),
            "--size 1920x1080 (it would be 1280x720)",
            "--size 720x1280, 1280x720",
        ),
        (
            ("-m", "sora-2", "--resolution", "1K"),
            "--resolution 1K (it would be 720p)",
            "--resolution 720p",
        ),
    ],
)
def test_strict_refuses_any_adjustment_and_sends_nothing(
    strict_openai: Served, args: tuple[str, ...], says: str, offers: str
) -> None:
    generate = invoke("generate", BOAT, *args, "--strict", "--no-wait")
    estimate = invoke("estimate", BOAT, *args, "--strict")

    for result in (generate, estimate):
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert f"framecast: error: --strict: sora-2 on openai does not make {says}." in (
            result.stderr
        )
        assert f"hint: sora-2 offers {offers}." in result.stderr
    assert strict_openai.seen("POST") == []


def test_strict_on_lumenfall_refuses_what_the_model_would_not_make_as_asked(
    lumenfall: Served,
) -> None:
    refused = invoke(
        "generate", BOAT, "--provider", "lumenfall", "-m", "veo-3.1", "-s", "5", "--strict"
    )
    taken = invoke(
        "generate",
        BOAT,
        "--provider",
        "lumenfall",
        "-m",
        "sora-2",
        "-s",
        "10",
        "--strict",
        "--no-wait",
        "-q",
    )

    assert refused.exit_code == 2, refused.output
    assert "veo-3.1 on lumenfall does not make --seconds 5" in refused.stderr
    assert "hint: veo-3.1 offers --seconds 4, 6, 8." in refused.stderr
    assert taken.exit_code == 0, taken.output
    (create,) = creates(lumenfall)
    assert create["seconds"] == 10


def test_strict_comes_from_a_profile_too(strict_openai: Served, tmp_path: object) -> None:
    saved = invoke("profile", "save", "exact", "--strict")
    result = invoke("--profile", "exact", "estimate", BOAT, "-m", "sora-2", "-s", "10")

    assert saved.exit_code == 0, saved.output
    assert result.exit_code == 2, result.output
    assert "--strict: sora-2 on openai does not make --seconds 10" in result.stderr


def test_offline_estimates_follow_framecasts_own_rule() -> None:
    result = invoke("estimate", BOAT, "-m", "veo-3.1", "-s", "5", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["seconds"], doc["requested"]["seconds"]) == (None, 4, 5)
    assert doc["adjustments"] == ["seconds 5 -> 4 (nearest veo-3.1 offers)"]


def test_the_human_estimate_shows_the_length_asked_beside_the_one_billed(
    lumenfall: Served,
) -> None:
    result = invoke("estimate", BOAT, "--provider", "lumenfall", "-m", "veo-3.1", "-s", "5")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "veo-3.1 · 6 s (asked 5 s) · 1280x720 · via lumenfall"


def test_strict_without_a_provider_lists_a_run_of_lengths_as_a_range() -> None:
    result = invoke("estimate", BOAT, "-m", "sora-2", "-s", "3", env={"FRAMECAST_STRICT": "1"})

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "framecast: error: --strict: sora-2 does not make --seconds 3 (it would be 4)." in (
        result.stderr
    )
    assert "hint: sora-2 offers --seconds 4 to 20." in result.stderr


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    yield served
    served.server.stop()


def test_lengths_are_adjusted_for_a_listed_model_that_lists_no_sizes(nanogpt: Served) -> None:
    listed = invoke("models", "--json")
    model = next(
        json.loads(line)
        for line in listed.stdout.splitlines()
        if json.loads(line)["id"] == "veo3-1-video"
    )
    assert model["durations"] == [4, 6, 8] and model["sizes"] == []

    estimate = invoke("estimate", BOAT, "-m", "veo3-1-video", "-s", "5")
    refused = invoke("generate", BOAT, "-m", "veo3-1-video", "-s", "7", "--strict")
    sent = invoke("generate", BOAT, "-m", "veo3-1-video", "-s", "3", "--no-wait", "-q")

    assert listed.exit_code == 0, listed.output
    assert estimate.exit_code == 0, estimate.output
    assert "Note: seconds 5 -> 4 (nearest veo3-1-video offers)" in estimate.stderr
    assert refused.exit_code == 2, refused.output
    assert "hint: veo3-1-video offers --seconds 4, 6, 8." in refused.stderr
    assert sent.exit_code == 0, sent.output
    assert "Warning: seconds 3 -> 4 (nearest veo3-1-video offers; costs" in sent.stderr
    (create,) = nanogpt.seen("POST", "/api/generate-video")
    assert create.fields()["duration"] == "4"


def test_a_dry_run_shows_the_size_the_tier_asked_for_not_the_default(lumenfall: Served) -> None:
    result = invoke(
        "estimate", BOAT, "--provider", "lumenfall", "-m", "veo-3.1", "-s", "8",
        "--resolution", "4K", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["size"], doc["requested"]["resolution"]) == ("3840x2160", "4K")
    assert creates(lumenfall)[0]["resolution"] == "4K"


def test_the_final_json_keeps_what_the_submission_answer_said(nanogpt: Served) -> None:
    """NanoGPT's status answer names no prompt, length, pre-charge or balance; the job's
    final document still has them, from its submission answer."""
    result = invoke("generate", BOAT, "-m", "veo-3.1", "-s", "8", "-o", "boat.mp4", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["prompt"], doc["seconds"]) == ("completed", BOAT, 8)
    assert doc["cost"] == doc["cost_estimate"] == pytest.approx(3.2)
    assert doc["balance"] == {"remaining": pytest.approx(96.8), "payment_source": "USD"}
