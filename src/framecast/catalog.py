"""The bundled model catalog (data/models.toml): capabilities and prices, read once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from framecast import sizes


@dataclass(frozen=True, slots=True)
class SizeOption:
    size: str
    aspect_ratio: str
    resolution: str

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])

    @property
    def ratio(self) -> float:
        return self.width / self.height

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


@dataclass(frozen=True, slots=True)
class Price:
    per_second: float
    currency: str
    source: str
    as_of: str
    sizes: tuple[str, ...] = ()  # empty: every size
    audio: bool | None = None  # None: with or without audio

    def applies(self, size: str, audio: bool | None) -> bool:
        size_ok = not self.sizes or size in self.sizes
        audio_ok = self.audio is None or self.audio == bool(audio)
        return size_ok and audio_ok


@dataclass(frozen=True, slots=True)
class InputPrice:
    kind: str  # "image" (per item) or "video" (per second of input)
    amount: float
    per: str  # "item" or "second"
    currency: str
    source: str
    as_of: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    name: str
    creator: str
    modes: tuple[str, ...]
    durations: tuple[int, ...]
    default_seconds: int | None
    sizes: tuple[SizeOption, ...]
    default_size: str | None
    max_references: int = 1
    prices: tuple[Price, ...] = ()
    inputs: tuple[InputPrice, ...] = ()
    audio: str | None = None  # "included", "optional", or None (no audio)
    aliases: tuple[str, ...] = ()
    source: str = "bundled"  # or the provider whose live listing it came from
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def aspect_ratios(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(option.aspect_ratio for option in self.sizes))

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(option.resolution for option in self.sizes))

    def option(self, size: str) -> SizeOption | None:
        return next((o for o in self.sizes if o.size == size), None)

    def price_for(self, size: str | None, audio: bool | None = None) -> Price | None:
        wanted = size or self.default_size or ""
        return next((p for p in self.prices if p.applies(wanted, audio)), None)

    def input_price(self, kind: str) -> InputPrice | None:
        return next((p for p in self.inputs if p.kind == kind), None)


def _model(model_id: str, raw: dict[str, Any]) -> ModelInfo:
    options = tuple(
        SizeOption(s["size"], s["aspect_ratio"], s["resolution"]) for s in raw.get("sizes", ())
    )
    for option in options:
        if sizes.dimensions(option.size) is None or sizes.ratio(option.aspect_ratio) is None:
            raise ValueError(f"models.toml: {model_id}: bad size entry {option}")
    return ModelInfo(
        id=model_id,
        name=raw["name"],
        creator=raw["creator"],
        aliases=tuple(raw.get("aliases", ())),
        modes=tuple(raw["modes"]),
        durations=tuple(raw.get("durations", ())),
        default_seconds=raw.get("default_seconds"),
        sizes=options,
        default_size=raw.get("default_size"),
        max_references=raw.get("max_references", 1),
        audio=raw.get("audio"),
        prices=tuple(
            Price(
                per_second=p["per_second"],
                currency=p["currency"],
                source=p["source"],
                as_of=p["as_of"],
                sizes=tuple(p.get("sizes", ())),
                audio=p.get("audio"),
            )
            for p in raw.get("prices", ())
        ),
        inputs=tuple(
            InputPrice(
                kind=p["kind"],
                amount=p.get("per_item", p.get("per_second", 0.0)),
                per="item" if "per_item" in p else "second",
                currency=p["currency"],
                source=p["source"],
                as_of=p["as_of"],
            )
            for p in raw.get("inputs", ())
        ),
    )


@dataclass(frozen=True, slots=True)
class Catalog:
    version: int
    as_of: str
    models: dict[str, ModelInfo]

    def find(self, name: str | None) -> ModelInfo | None:
        """A model by id or alias; a `provider/` routing prefix is looked through."""
        if not name:
            return None
        for candidate in (name, name.rsplit("/", 1)[-1]):
            if candidate in self.models:
                return self.models[candidate]
        return next((m for m in self.models.values() if name in m.aliases), None)

    def merged(self, live: list[ModelInfo]) -> Catalog:
        """This catalog with a provider's live listing laid over it."""
        combined = dict(self.models)
        for model in live:
            known = self.find(model.id)
            combined[known.id if known else model.id] = _overlay(known, model) if known else model
        return Catalog(self.version, self.as_of, combined)


def _overlay(known: ModelInfo, live: ModelInfo) -> ModelInfo:
    """Live values win where the provider gave them; the bundled table fills the rest."""
    from dataclasses import replace

    return replace(
        known,
        name=live.name if live.name != live.id else known.name,
        modes=live.modes or known.modes,
        durations=live.durations or known.durations,
        sizes=live.sizes or known.sizes,
        prices=live.prices or known.prices,
        source=live.source,
    )


@cache
def bundled() -> Catalog:
    text = resources.files("framecast.data").joinpath("models.toml").read_text("utf-8")
    data = tomllib.loads(text)
    models = {model_id: _model(model_id, raw) for model_id, raw in data["models"].items()}
    return Catalog(data["version"], data["as_of"], models)


def models() -> dict[str, ModelInfo]:
    return bundled().models


def get(model_id: str | None) -> ModelInfo | None:
    return bundled().find(model_id)
