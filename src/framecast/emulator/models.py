"""What the emulated services offer: models, the sizes and lengths they make, and prices.

This is the emulator's own knowledge, written from the published pages, and kept
apart from framecast's client catalog on purpose: the client and the emulator must
be able to disagree, or a test of one against the other proves nothing.
tests/test_emulator_models.py lists every difference between the two.

Sources (see ../shared/reference/apis.md for each one's address and date):
- sora-2: Lumenfall's model page (seed 001): 1K sizes 1365x768 and 768x1365, ratios
  9:16 and 16:9, "durations up to 20 seconds", snapshots sora-2-2025-10-06 and
  sora-2-2025-12-08; OpenAI's API (apis.md 3.2): 720x1280 (the default), 1280x720,
  "4" (the default), "8", "12", and 16 and 20 for extensions. $0.10/s (apis.md 5).
- sora-2-pro: OpenAI's API (apis.md 3.2) sizes, plus 1024x1792 and 1792x1024;
  $0.30/s at 720p and $0.50/s at the large sizes (apis.md 5).
- grok-imagine-video: Lumenfall's model page (seed 002): seven 1K sizes, ratios 9:16
  to 16:9, text, image and video input, "native audio-visual synthesis" (so every
  clip has sound); xAI (apis.md 4.1): 1 to 15 s, 16:9 by default. 5 cents a second,
  sound included (Lumenfall's page, apis.md 5).
- veo-3.1, veo-3.1-fast: apis.md 5 prices per tier (720p, 1080p, 4K; audio
  included). Lengths of 4, 6 and 8 s are Google's; apis.md does not list them.
- kling-v3, kling-v3-pro, kling-v2.5-turbo, wan-2.6: apis.md 5 reseller prices
  (no first-party list exists); 5 and 10 s clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Size:
    """One output size a model makes, labelled as Lumenfall's model pages label it."""

    width: int
    height: int
    ratio: str  # e.g. "16:9"
    tier: str  # e.g. "720p", "1K"
    price: float | None = None  # USD per second; None: the model's own price

    @property
    def text(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    name: str
    creator: str
    inputs: frozenset[str]  # "image", "video": what it takes besides a prompt
    durations: tuple[int, ...]  # the clip lengths it makes, in seconds, ascending
    default_seconds: int
    sizes: tuple[Size, ...]
    default_size: str
    price: float  # USD per second of output
    max_references: int = 1
    audio: bool = False
    snapshots: tuple[str, ...] = ()  # dated names that resolve to this model

    def size(self, text: str) -> Size | None:
        return next((s for s in self.sizes if s.text == text), None)

    def price_at(self, size: Size) -> float:
        return self.price if size.price is None else size.price

    @property
    def default(self) -> Size:
        found = self.size(self.default_size)
        assert found is not None, self.id
        return found


def _pair(short: int, long: int, tier: str, price: float | None = None) -> tuple[Size, Size]:
    """A landscape and a portrait size."""
    return (Size(long, short, "16:9", tier, price), Size(short, long, "9:16", tier, price))


# Lumenfall's sora pages: "durations up to 20 seconds", and seed 004 shows a 10 s job.
_SORA_LENGTHS = tuple(range(4, 21))
# The segment lengths /videos/extensions takes (OpenAI's extension docstring: 4 to 20).
EXTENSION_SECONDS = (4, 8, 12, 16, 20)
_GROK_SIZES = (
    Size(768, 1365, "9:16", "1K"),
    Size(836, 1254, "2:3", "1K"),
    Size(887, 1182, "3:4", "1K"),
    Size(1024, 1024, "1:1", "1K"),
    Size(1183, 887, "4:3", "1K"),
    Size(1254, 836, "3:2", "1K"),
    Size(1365, 768, "16:9", "1K"),
)


def _veo(model_id: str, name: str, prices: tuple[float, float, float]) -> Model:
    p720, p1080, p4k = prices
    return Model(
        model_id,
        name,
        "google",
        frozenset({"image"}),
        (4, 6, 8),
        8,
        (
            *_pair(720, 1280, "720p", p720),
            *_pair(1080, 1920, "1080p", p1080),
            *_pair(2160, 3840, "4K", p4k),
        ),
        "1280x720",
        p720,
        audio=True,
    )


def _kling(model_id: str, name: str, short: int, tier: str, price: float) -> Model:
    square = Size(short * 4 // 3, short * 4 // 3, "1:1", tier)
    return Model(
        model_id,
        name,
        "kuaishou",
        frozenset({"image"}),
        (5, 10),
        5,
        (*_pair(short, short * 16 // 9, tier), square),
        f"{short * 16 // 9}x{short}",
        price,
    )


@cache
def lumenfall_models() -> dict[str, Model]:
    """Every model the Lumenfall gateway serves, by id."""
    models = [
        Model(
            "sora-2",
            "Sora 2",
            "openai",
            frozenset({"image"}),
            _SORA_LENGTHS,
            4,
            (*_pair(720, 1280, "720p")[::-1], *_pair(768, 1365, "1K")),
            "720x1280",
            0.10,
            snapshots=("sora-2-2025-10-06", "sora-2-2025-12-08"),
        ),
        Model(
            "sora-2-pro",
            "Sora 2 Pro",
            "openai",
            frozenset({"image"}),
            _SORA_LENGTHS,
            4,
            (*_pair(720, 1280, "720p")[::-1], *_pair(1024, 1792, "1792x1024", 0.50)),
            "720x1280",
            0.30,
            snapshots=("sora-2-pro-2025-10-06",),
        ),
        Model(
            "grok-imagine-video",
            "Grok Imagine Video",
            "xai",
            frozenset({"image", "video"}),
            tuple(range(1, 16)),
            6,
            _GROK_SIZES,
            "1365x768",
            0.05,
            audio=True,
        ),
        _veo("veo-3.1", "Veo 3.1", (0.40, 0.40, 0.60)),
        _veo("veo-3.1-fast", "Veo 3.1 Fast", (0.10, 0.12, 0.30)),
        _kling("kling-v3", "Kling 3.0 Standard", 720, "720p", 0.1764),
        _kling("kling-v3-pro", "Kling 3.0 Pro", 1080, "1080p", 0.2352),
        _kling("kling-v2.5-turbo", "Kling 2.5 Turbo", 720, "720p", 0.05),
        Model(
            "wan-2.6",
            "Wan 2.6",
            "alibaba",
            frozenset({"image"}),
            (5, 10),
            5,
            (*_pair(480, 832, "480p"), *_pair(720, 1280, "720p"), *_pair(1080, 1920, "1080p")),
            "1280x720",
            0.04,
        ),
    ]
    return {m.id: m for m in models}


@dataclass(frozen=True, slots=True)
class OpenAIModels:
    """The official API's closed vocabulary (the OpenAPI subset in ../shared/specs)."""

    models: tuple[str, ...] = (
        "sora-2",
        "sora-2-pro",
        "sora-2-2025-10-06",
        "sora-2-pro-2025-10-06",
        "sora-2-2025-12-08",
    )
    seconds: tuple[str, ...] = ("4", "8", "12")
    sizes: tuple[str, ...] = ("720x1280", "1280x720", "1024x1792", "1792x1024")


OPENAI = OpenAIModels()


def find(name: str) -> Model | None:
    """A Lumenfall model by id, dated snapshot, or `provider/slug` (which forces a route)."""
    models = lumenfall_models()
    slug = name.rsplit("/", 1)[-1] if "/" in name else name
    if slug in models:
        return models[slug]
    return next((m for m in models.values() if slug in m.snapshots), None)
