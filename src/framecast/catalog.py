"""The bundled model catalog (src/framecast/data/models.toml), read once and cached."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Price:
    usd_per_second: float
    source: str
    as_of: str
    sizes: tuple[str, ...] = ()  # empty: applies to every size

    def applies_to(self, size: str) -> bool:
        return not self.sizes or size in self.sizes


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    name: str
    creator: str
    modes: tuple[str, ...]
    durations: tuple[int, ...]
    default_seconds: int
    sizes: tuple[str, ...]
    default_size: str
    max_references: int
    prices: tuple[Price, ...]

    def price_for(self, size: str) -> Price | None:
        return next((p for p in self.prices if p.applies_to(size)), None)


def _model(model_id: str, raw: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        name=raw["name"],
        creator=raw["creator"],
        modes=tuple(raw["modes"]),
        durations=tuple(raw["durations"]),
        default_seconds=raw["default_seconds"],
        sizes=tuple(raw["sizes"]),
        default_size=raw["default_size"],
        max_references=raw.get("max_references", 1),
        prices=tuple(
            Price(p["usd_per_second"], p["source"], p["as_of"], tuple(p.get("sizes", ())))
            for p in raw.get("prices", ())
        ),
    )


@cache
def models() -> dict[str, ModelInfo]:
    text = resources.files("framecast.data").joinpath("models.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {model_id: _model(model_id, raw) for model_id, raw in data["models"].items()}


def get(model_id: str) -> ModelInfo | None:
    return models().get(model_id)
