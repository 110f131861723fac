"""The emulator's own knowledge against framecast's client catalog, and its independence.

The emulator's model tables (framecast/emulator/models.py) are written from the
published pages, apart from the client's catalog (framecast/data/models.toml), so
that a test of the client against the emulator can fail when the client is wrong.
This test lists every difference between the two; the expected ones are named
below with their reason, so any new disagreement fails here and must be looked at.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from framecast import catalog
from framecast.emulator import models, nanogpt_models

EMULATOR = Path(__file__).parents[1] / "src" / "framecast" / "emulator"
FORBIDDEN = ("framecast.normalise", "framecast.errors", "framecast.catalog", "framecast.providers")
# Known, understood differences.
EXPECTED = {
    # The client prices Kling with and without audio (a reseller's two rates); the
    # emulator's Kling makes silent clips at the lower rate.
    "kling-v3: audio: client True, emulator False",
    "kling-v3-pro: audio: client True, emulator False",
}

SORA_LENGTHS = tuple(range(4, 21))  # sora on Lumenfall: every length up to 20 s


def differences() -> list[str]:
    found = []
    client = catalog.models()
    emulator = models.lumenfall_models()
    for name in sorted(set(client) | set(emulator)):
        ours, theirs = client.get(name), emulator.get(name)
        if ours is None or theirs is None:
            side = "emulator" if ours is None else "client catalog"
            found.append(f"{name}: only in the {side}")
            continue
        pairs: dict[str, tuple[object, object]] = {
            "durations": (tuple(ours.durations), theirs.durations),
            "default seconds": (ours.default_seconds, theirs.default_seconds),
            "sizes": (sorted(o.size for o in ours.sizes), sorted(s.text for s in theirs.sizes)),
            "default size": (ours.default_size, theirs.default_size),
            "takes images": ("i2v" in ours.modes, "image" in theirs.inputs),
            "takes videos": ("v2v" in ours.modes, "video" in theirs.inputs),
            "max references": (ours.max_references, theirs.max_references),
            "audio": (ours.audio is not None, theirs.audio),
        }
        for size in theirs.sizes:
            price = ours.price_for(size.text)
            client_price = None if price is None else round(price.per_second, 6)
            pairs[f"price at {size.text}"] = (client_price, round(theirs.price_at(size), 6))
        for option in ours.sizes:
            label = theirs.size(option.size)
            if label is not None:
                pairs[f"label of {option.size}"] = (
                    (option.aspect_ratio, option.resolution),
                    (label.ratio, label.tier),
                )
        for what, (mine, its) in pairs.items():
            if mine != its:
                found.append(f"{name}: {what}: client {mine!r}, emulator {its!r}")
    return found


def test_the_emulator_and_the_client_catalog_differ_only_as_documented() -> None:
    assert set(differences()) == EXPECTED


# NanoGPT names most models its own way, and its Sora takes only "4", "8" and "12"
# (seed 003), where the client catalog allows Lumenfall's 16 and 20.
NANOGPT_EXPECTED = {
    "only in NanoGPT's table: bytedance-seedance-v1.5-pro-extend, kling-lipsync-t2v, "
    "kling-v21-standard, kling-video-v2, midjourney-video, runwayml-gen4-aleph, "
    "seedance-lite-video, seedance-video, veo2-video, veo3-1-extend, veo3-1-fast-extend, "
    "veo3-1-video, veo3-fast-video, veo3-video, wan-wavespeed-22-spicy-extend, "
    "wan-wavespeed-25-extend, wan-wavespeed-26",
    f"sora-2: durations: client {SORA_LENGTHS}, NanoGPT (4, 8, 12)",
    f"sora-2-pro: durations: client {SORA_LENGTHS}, NanoGPT (4, 8, 12)",
    # NanoGPT's price is at its default 720p; the client's is xAI's 480p rate.
    "grok-imagine-video: price: client 0.05, NanoGPT 0.07",
}


def nanogpt_differences() -> list[str]:
    client = catalog.models()
    table = nanogpt_models.nanogpt_models()
    found = ["only in NanoGPT's table: " + ", ".join(sorted(set(table) - set(client)))]
    for name in sorted(set(table) & set(client)):
        ours, theirs = client[name], table[name]
        if tuple(ours.durations) != theirs.durations:
            found.append(
                f"{name}: durations: client {tuple(ours.durations)}, NanoGPT {theirs.durations}"
            )
        price = ours.prices[0].per_second if ours.prices else None
        if price != theirs.price:
            found.append(f"{name}: price: client {price}, NanoGPT {theirs.price}")
    return found


def test_nanogpts_table_and_the_client_catalog_differ_only_as_documented() -> None:
    assert set(nanogpt_differences()) == NANOGPT_EXPECTED


def test_a_change_to_either_side_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models.lumenfall_models()
    changed = {**real, "sora-2": dataclasses.replace(real["sora-2"], durations=(4, 8, 12))}
    monkeypatch.setattr(models, "lumenfall_models", lambda: changed)
    assert f"sora-2: durations: client {SORA_LENGTHS}, emulator (4, 8, 12)" in differences()


def test_no_emulator_module_imports_the_client() -> None:
    offenders = []
    for path in sorted(EMULATOR.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith(FORBIDDEN) or (
                    name.startswith("framecast")
                    and not name.startswith("framecast.emulator")
                    and name != "framecast"
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(EMULATOR.glob("*.py"))) > 10  # the glob found the package
