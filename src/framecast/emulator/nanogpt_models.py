"""NanoGPT's video models as NanoGPT names and describes them: the emulator's own table.

Kept apart from models.py (Lumenfall's table) because NanoGPT names models its
own way (`veo3-1-video`, not `veo-3.1`), takes shape as aspect ratio or
orientation plus a resolution token rather than WxH sizes, and decides per model
which media fields it takes.

Sources, cited per entry below by tag:
- [seed]: seed 003, NanoGPT's generate-video endpoint page
  (https://docs.nano-gpt.com/api-reference/endpoint/video-generation): the
  fields, `seconds` "4"/"8"/"12" for Sora, `orientation` for Sora and Wan,
  `video` for select models such as wan-wavespeed-25-extend, `voice_id` for
  kling-lipsync-t2v, `reference_image` for runwayml-gen4-aleph, 120 s sources.
- [guide]: NanoGPT's video guide (docs repo Nano-GPT-com/docs at f0b5f521,
  api-reference/video-generation.mdx): the "Supported Models" tables, the
  per-family examples (Veo "5s", Kling "5"/"10", Seedance resolutions), "Pro mode
  required for 1792x1024" on sora-2, midjourney-video "Returns 4 videos".
- [extend]: the same repo's api-reference/endpoint/video-extend.mdx: the extend
  models, `midjourney-video` as the only task-based extend model, "Extending video
  1 by 5 seconds", and wan-wavespeed-22-spicy-extend taking no `video` field.
- [prices]: ../shared/reference/apis.md section 5. NanoGPT publishes no per-model
  video prices (apis.md 2.6), so every price here is either a vendor or reseller
  rate from apis.md 5 or, where marked "assumed", a guess of the right order.

Entries marked `documented=False` are ids NanoGPT's docs never name. They are
kept because the client's tests send them to NanoGPT and the ids are of a form
NanoGPT uses (vendor ids verbatim, as with `sora-2`); NanoGPT's documented id for
the same model is given beside each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# Every media field the endpoint page lists [seed]; a model takes only some of them.
IMAGE_FIELDS = (
    "imageUrl",
    "imageDataUrl",
    "imageAttachmentId",
    "image",
    "reference_image",
    "referenceImages",
)
VIDEO_FIELDS = ("videoUrl", "videoDataUrl", "videoAttachmentId", "video", "referenceVideos")
AUDIO_FIELDS = ("audioUrl", "audioDataUrl", "audio")
FACE_SWAP_FIELDS = ("swapImage", "targetVideo")
MEDIA_FIELDS = (*IMAGE_FIELDS, *VIDEO_FIELDS, *AUDIO_FIELDS, *FACE_SWAP_FIELDS)
# Fields that carry the one source video of an extend, edit or lipsync job, in the order
# the service prefers them: explicit values before library attachments [seed].
SOURCE_VIDEO_FIELDS = ("video", "videoUrl", "videoDataUrl", "videoAttachmentId")

IMAGE_INPUT = frozenset({"imageUrl", "imageDataUrl", "imageAttachmentId"})
SOURCE_VIDEO = frozenset({"videoUrl", "videoDataUrl", "videoAttachmentId"})
MAX_SOURCE_SECONDS = 120  # [seed] "Max source video length: 120 seconds."

# The short side of each resolution token [seed]; "1792x1024" is a size, not a scale.
_SHORT_SIDE = {"480p": 480, "580p": 580, "720p": 720, "1080p": 1080, "2k": 1440, "4k": 2160}
_WIDE = ("16:9", "9:16")
_VEO_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")  # [guide] Veo section comment
_SEED_RATIOS = ("16:9", "9:16", "1:1", "3:4", "4:3", "21:9")  # [seed] aspect_ratio


@dataclass(frozen=True, slots=True)
class NanoModel:
    id: str
    name: str
    creator: str
    durations: tuple[int, ...]  # seconds it makes, ascending
    default_seconds: int
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]  # NanoGPT's tokens, lower case
    default_ratio: str
    default_resolution: str
    price: float  # USD per second of output at the default resolution
    media: frozenset[str] = IMAGE_INPUT  # the media fields it takes
    text: bool = True  # runs from a prompt alone
    needs: str | None = None  # "image" or "video": the input it cannot run without
    extend: bool = False  # a source-video extend model (sources of at most 120 s)
    task_extend: bool = False  # its runs continue through POST /generate-video/extend
    extension_seconds: int = 0  # what one task extend adds
    duration_field: str = "duration"  # "seconds" for Sora [seed]
    orientation: bool = False  # takes `orientation` [seed: Sora and Wan]
    sized: bool = False  # takes a WxH `size` preset [guide: Pixverse, Wan]
    resolution_prices: tuple[tuple[str, float], ...] = ()  # overrides of `price`
    pro_prices: tuple[tuple[str, float], ...] = ()  # with pro_mode; empty: no pro mode
    pro_only: tuple[str, ...] = ()  # resolutions that need pro_mode
    audio: bool = False  # can generate audio
    outputs: int = 1  # videos one run makes
    follows_source: bool = False  # output as long as the source video (lipsync)
    voice: bool = False  # needs voice_id [seed: kling-lipsync-t2v]
    documented: bool = True  # False: not in NanoGPT's docs (see the module docstring)

    def price_at(self, resolution: str, pro: bool = False) -> float:
        table = self.pro_prices if pro and self.pro_prices else self.resolution_prices
        return dict(table).get(resolution, self.price)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Modalities besides text, as the models listing names them."""
        kinds = [
            kind
            for kind, fields in (("image", IMAGE_FIELDS), ("video", VIDEO_FIELDS))
            if self.media & set(fields)
        ]
        return tuple(kinds)

    def presets(self) -> dict[str, tuple[str, str]]:
        """WxH -> (ratio, resolution) for every shape it makes, for `size`."""
        found: dict[str, tuple[str, str]] = {}
        for resolution in self.resolutions:
            for ratio in self.aspect_ratios:
                width, height = dimensions(ratio, resolution)
                found.setdefault(f"{width}x{height}", (ratio, resolution))
        return found


def dimensions(ratio: str, resolution: str) -> tuple[int, int]:
    """The frame for a ratio and a resolution token; even sides, as encoders want."""
    across, down = (int(part) for part in ratio.split(":"))
    if resolution == "1792x1024":
        return (1792, 1024) if across >= down else (1024, 1792)
    short = _SHORT_SIDE[resolution]
    long = 2 * round(short * max(across, down) / min(across, down) / 2)
    return (long, short) if across >= down else (short, long)


def _sora(model_id: str, name: str, price: float, *, documented: bool) -> NanoModel:
    # [seed] seconds "4"/"8"/"12", orientation; [guide] 1792x1024 with pro mode;
    # [prices] sora-2 $0.10, sora-2-pro $0.30 (720p) and $0.50 (1792x1024). The
    # portrait default is OpenAI's (720x1280); NanoGPT documents none.
    pro = (("720p", 0.30), ("1792x1024", 0.50))
    is_pro = price >= 0.30
    return NanoModel(
        id=model_id,
        name=name,
        creator="openai",
        durations=(4, 8, 12),
        default_seconds=4,
        aspect_ratios=_WIDE,
        resolutions=("720p", "1792x1024"),
        default_ratio="9:16",
        default_resolution="720p",
        price=price,
        duration_field="seconds",
        orientation=True,
        resolution_prices=pro if is_pro else (),
        pro_prices=pro,
        pro_only=() if is_pro else ("1792x1024",),
        documented=documented,
    )


def _veo31(
    model_id: str, name: str, prices: tuple[float, float, float], *, documented: bool
) -> NanoModel:
    # [guide] veo3-1-video "T2V and I2V modes", generateAudio on Veo 3; [prices] per tier.
    # Lengths 4/6/8 s and the 16:9 / 9:16 pair are Google's (NanoGPT says "Variable").
    p720, p1080, p4k = prices
    return NanoModel(
        id=model_id,
        name=name,
        creator="google",
        durations=(4, 6, 8),
        default_seconds=8,
        aspect_ratios=_WIDE,
        resolutions=("720p", "1080p", "4k"),
        default_ratio="16:9",
        default_resolution="720p",
        price=p720,
        resolution_prices=(("720p", p720), ("1080p", p1080), ("4k", p4k)),
        audio=True,
        documented=documented,
    )


def _veo3(model_id: str, name: str, price: float) -> NanoModel:
    # [guide] "fixed 8s for Veo3", audio; [prices] Veo 3 $0.40 standard, $0.15 fast.
    return NanoModel(
        id=model_id,
        name=name,
        creator="google",
        durations=(8,),
        default_seconds=8,
        aspect_ratios=_WIDE,
        resolutions=("720p", "1080p"),
        default_ratio="16:9",
        default_resolution="720p",
        price=price,
        audio=True,
    )


def _source_extend(
    model_id: str,
    name: str,
    creator: str,
    durations: tuple[int, ...],
    resolutions: tuple[str, ...],
    price: float,
    *,
    takes_video: bool = False,
) -> NanoModel:
    """An extend model: prompt plus a source video, through POST /generate-video [seed]."""
    return NanoModel(
        id=model_id,
        name=name,
        creator=creator,
        durations=durations,
        default_seconds=durations[0],
        aspect_ratios=_WIDE,
        resolutions=resolutions,
        default_ratio="16:9",
        default_resolution=resolutions[0],
        price=price,
        media=SOURCE_VIDEO | ({"video"} if takes_video else set()),
        text=False,
        needs="video",
        extend=True,
    )


def _wan26(model_id: str, *, documented: bool) -> NanoModel:
    # [guide] wan-wavespeed-26 "Wan 2.6", reference-to-video with referenceImages;
    # [seed] orientation for Wan; [guide] `size` for Wan; [prices] alibaba/wan-2.6 $0.04.
    # 5 and 10 s are Wan's usual lengths (assumed; NanoGPT says "Variable").
    return NanoModel(
        id=model_id,
        name="Wan 2.6",
        creator="alibaba",
        durations=(5, 10),
        default_seconds=5,
        aspect_ratios=(*_WIDE, "1:1"),
        resolutions=("480p", "720p", "1080p"),
        default_ratio="16:9",
        default_resolution="720p",
        price=0.04,
        media=IMAGE_INPUT | {"referenceImages"},
        orientation=True,
        sized=True,
        documented=documented,
    )


def _kling(model_id: str, name: str, *, image_only: bool = False) -> NanoModel:
    # [guide] Kling: duration "5" or "10"; kling-v21-standard is image-to-video only
    # ("requires an input image"). Ratios and 720p are assumed; $0.05/s is assumed from
    # apis.md 5's reseller range for Kling 2.x (no first-party price exists).
    return NanoModel(
        id=model_id,
        name=name,
        creator="kuaishou",
        durations=(5, 10),
        default_seconds=5,
        aspect_ratios=(*_WIDE, "1:1"),
        resolutions=("720p",),
        default_ratio="16:9",
        default_resolution="720p",
        price=0.05,
        text=not image_only,
        needs="image" if image_only else None,
    )


def _seedance(model_id: str, name: str, resolutions: tuple[str, ...]) -> NanoModel:
    # [guide] Seedance: "480p or 1080p (standard), 480p or 720p (lite)", duration "5" or
    # "10", aspect_ratio for T2V. $0.05/s assumed (no price in apis.md 5).
    return NanoModel(
        id=model_id,
        name=name,
        creator="bytedance",
        durations=(5, 10),
        default_seconds=5,
        aspect_ratios=_SEED_RATIOS,
        resolutions=resolutions,
        default_ratio="16:9",
        default_resolution=resolutions[-1],
        price=0.05,
    )


@cache
def nanogpt_models() -> dict[str, NanoModel]:
    """Every video model the emulated NanoGPT serves, by id."""
    table = [
        _sora("sora-2", "Sora 2", 0.10, documented=True),  # [seed], [guide], [prices]
        # Not documented: NanoGPT offers Sora 2 Pro as sora-2 with pro_mode [guide].
        _sora("sora-2-pro", "Sora 2 Pro", 0.30, documented=False),
        # [guide] the first example: "5s" durations, the Veo ratio list; "5-8s" in the
        # models table (the "5s-30s" comment contradicts it; Google's Veo 2 makes 5-8 s).
        # $0.35/s is Google's Veo 2 rate, assumed (apis.md 5 lists no Veo 2 price).
        NanoModel(
            id="veo2-video",
            name="Veo 2",
            creator="google",
            durations=(5, 6, 7, 8),
            default_seconds=5,
            aspect_ratios=_VEO_RATIOS,
            resolutions=("720p",),
            default_ratio="16:9",
            default_resolution="720p",
            price=0.35,
        ),
        _veo3("veo3-video", "Veo 3", 0.40),  # [guide], [prices]
        _veo3("veo3-fast-video", "Veo 3 Fast", 0.15),  # [guide], [prices]
        _veo31("veo3-1-video", "Veo 3.1", (0.40, 0.40, 0.60), documented=True),  # [guide]
        # Not documented: NanoGPT's id for these is veo3-1-video (and, by its extend model
        # veo3-1-fast-extend, presumably veo3-1-fast-video for the fast one).
        _veo31("veo-3.1", "Veo 3.1", (0.40, 0.40, 0.60), documented=False),
        _veo31("veo-3.1-fast", "Veo 3.1 Fast", (0.10, 0.12, 0.30), documented=False),
        # [seed], [extend], [guide] extension models. Google's Veo 3.1 extension adds 7 s
        # at 720p (assumed: outside apis.md); priced as Veo 3.1 and Veo 3.1 Fast at 720p.
        _source_extend("veo3-1-extend", "Veo 3.1 Extend", "google", (7,), ("720p",), 0.40),
        _source_extend(
            "veo3-1-fast-extend", "Veo 3.1 Fast Extend", "google", (7,), ("720p",), 0.10
        ),
        # [seed], [extend] the one model named as taking `video`. Wan's 5/10 s lengths and
        # the $0.04/s Wan 2.6 rate of apis.md 5 are assumed for Wan 2.5.
        _source_extend(
            "wan-wavespeed-25-extend",
            "Wan 2.5 Extend",
            "alibaba",
            (5, 10),
            ("480p", "720p", "1080p"),
            0.04,
            takes_video=True,
        ),
        # [extend] "accepts videoUrl, videoDataUrl, or videoAttachmentId only"; its example
        # sends resolution "480p" and duration 5. Wan 2.2 makes 5 s [guide]. Price assumed.
        _source_extend(
            "wan-wavespeed-22-spicy-extend",
            "Wan 2.2 Spicy Extend",
            "alibaba",
            (5,),
            ("480p", "720p"),
            0.04,
        ),
        # [seed], [extend]; lengths and resolutions as the guide's Seedance section; $0.05/s
        # assumed.
        _source_extend(
            "bytedance-seedance-v1.5-pro-extend",
            "Seedance 1.5 Pro Extend",
            "bytedance",
            (5, 10),
            ("480p", "720p", "1080p"),
            0.05,
        ),
        # [guide] "Runway Gen4", [seed] `reference_image` guides it; it edits a source video
        # (Runway's Aleph). 5 s output, the ratios and $0.15/s (Runway's 15 credits a
        # second) are assumed.
        NanoModel(
            id="runwayml-gen4-aleph",
            name="Runway Gen-4 Aleph",
            creator="runway",
            durations=(5,),
            default_seconds=5,
            aspect_ratios=_SEED_RATIOS,
            resolutions=("720p",),
            default_ratio="16:9",
            default_resolution="720p",
            price=0.15,
            media=SOURCE_VIDEO | {"reference_image"},
            text=False,
            needs="video",
        ),
        # [guide] "Text-to-video lipsync"; [seed] voice_id required, voice_language en|zh,
        # voice_speed 0.8-2.0, and videoUrl carries lipsync sources. It speaks the prompt
        # over the source video, so the output is as long as the source when that can be
        # measured (5 s otherwise). $0.01/s assumed.
        NanoModel(
            id="kling-lipsync-t2v",
            name="Kling LipSync (text)",
            creator="kuaishou",
            durations=(5,),
            default_seconds=5,
            aspect_ratios=_WIDE,
            resolutions=("720p",),
            default_ratio="16:9",
            default_resolution="720p",
            price=0.01,
            media=SOURCE_VIDEO,
            text=False,
            needs="video",
            follows_source=True,
            voice=True,
        ),
        # [guide] "Returns 4 videos"; [extend] the only task-extend model, each extend adding
        # 5 s. 5 s clips at 480p/720p (Midjourney's SD/HD) and $0.05/s are assumed.
        NanoModel(
            id="midjourney-video",
            name="Midjourney Video",
            creator="midjourney",
            durations=(5,),
            default_seconds=5,
            aspect_ratios=_VEO_RATIOS,
            resolutions=("480p", "720p"),
            default_ratio="16:9",
            default_resolution="480p",
            price=0.05,
            task_extend=True,
            extension_seconds=5,
            outputs=4,
        ),
        _wan26("wan-wavespeed-26", documented=True),
        _wan26("wan-2.6", documented=False),  # NanoGPT's id: wan-wavespeed-26
        # Not documented: xAI's own id, as NanoGPT passes sora-2 through. apis.md 4.1 and 5:
        # 1-15 s, $0.05/s at 480p and $0.07/s at 720p, video input priced too; native
        # audio (seed 002), in that price.
        NanoModel(
            id="grok-imagine-video",
            name="Grok Imagine Video",
            creator="xai",
            durations=tuple(range(1, 16)),
            default_seconds=6,
            aspect_ratios=(*_VEO_RATIOS, "3:2", "2:3"),
            resolutions=("480p", "720p"),
            default_ratio="16:9",
            default_resolution="720p",
            price=0.07,
            media=IMAGE_INPUT | {"videoUrl", "videoDataUrl"},
            resolution_prices=(("480p", 0.05), ("720p", 0.07)),
            audio=True,
            documented=False,
        ),
        _kling("kling-video-v2", "Kling 2.0"),  # [guide] Kling section
        _kling("kling-v21-standard", "Kling 2.1 Standard", image_only=True),  # [guide]
        _seedance("seedance-video", "Seedance", ("480p", "1080p")),  # [guide]
        _seedance("seedance-lite-video", "Seedance Lite", ("480p", "720p")),  # [guide]
    ]
    return {m.id: m for m in table}


def find(name: str) -> NanoModel | None:
    """A model by its exact id: NanoGPT documents no aliases."""
    return nanogpt_models().get(name)
