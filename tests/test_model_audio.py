"""Sound: grok-imagine-video makes it natively (seed 002), in its per-second price."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framecast import catalog
from framecast.emulator import models, nanogpt_models
from tests.conftest import invoke

PROMPT = "a red kite over the dunes"


def test_grok_is_listed_with_its_audio(isolated: Path) -> None:
    as_json = invoke("models", "grok-imagine-video", "--json")
    human = invoke("models", "grok-imagine-video")

    assert as_json.exit_code == human.exit_code == 0, as_json.output + human.output
    assert json.loads(as_json.stdout)["audio"] == "included"
    (row,) = [line.split() for line in human.stdout.splitlines() if line.startswith("audio")]
    assert row == ["audio", "included"]


def test_asking_grok_for_audio_is_priced_as_included(isolated: Path) -> None:
    silent = invoke("estimate", PROMPT, "-m", "grok-imagine-video", "--json")
    sound = invoke("estimate", PROMPT, "-m", "grok-imagine-video", "--audio", "--json")

    assert silent.exit_code == sound.exit_code == 0, silent.output + sound.output
    asked, plain = json.loads(sound.stdout), json.loads(silent.stdout)
    assert asked["unpriced"] == [], "audio is in the per-second price, not unpriced"
    assert asked["total"] == plain["total"] == pytest.approx(6 * 0.05)
    assert asked["lines"] == plain["lines"]


def test_the_emulators_agree_that_grok_makes_sound() -> None:
    client = catalog.get("grok-imagine-video")
    assert client is not None and client.audio == "included"
    assert models.lumenfall_models()["grok-imagine-video"].audio
    assert nanogpt_models.nanogpt_models()["grok-imagine-video"].audio
