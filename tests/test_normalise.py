"""Size, ratio, tier and duration matching: every case on Lumenfall's sora-2 (seed 001)
and grok-imagine-video (seed 002) pages, plus nearest-match ties."""

from __future__ import annotations

import pytest

from framecast import catalog
from framecast.catalog import ModelInfo, SizeOption
from framecast.errors import UsageError
from framecast.normalise import Adjustment, nearest_duration, normalise, tier_megapixels

SORA = catalog.get("sora-2")
GROK = catalog.get("grok-imagine-video")
assert SORA is not None and GROK is not None


def synthetic(*options: tuple[str, str, str], durations: tuple[int, ...] = (4, 8)) -> ModelInfo:
    return ModelInfo(
        id="test-model",
        name="Test",
        creator="test",
        modes=("t2v",),
        durations=durations,
        default_seconds=durations[0],
        sizes=tuple(SizeOption(*o) for o in options),
        default_size=options[0][0],
    )


# Seed 001, sora-2's output table: size <-> aspect_ratio + resolution.
SEED_001 = [("768x1365", "9:16", "1K"), ("1365x768", "16:9", "1K")]
# Seed 002, grok-imagine-video's output table (1K, 7 sizes).
SEED_002 = [
    ("1183x887", "4:3", "1K"),
    ("1024x1024", "1:1", "1K"),
    ("887x1182", "3:4", "1K"),
    ("836x1254", "2:3", "1K"),
    ("1254x836", "3:2", "1K"),
    ("768x1365", "9:16", "1K"),
    ("1365x768", "16:9", "1K"),
]
SEED_CASES = [(SORA, *row) for row in SEED_001] + [(GROK, *row) for row in SEED_002]


@pytest.mark.parametrize(("model", "size", "ratio", "tier"), SEED_CASES)
def test_size_alone_determines_shape_and_scale(
    model: ModelInfo, size: str, ratio: str, tier: str
) -> None:
    shape = normalise(model, size=size)
    assert (shape.size, shape.aspect_ratio, shape.resolution) == (size, ratio, tier)
    assert shape.adjustments == ()


@pytest.mark.parametrize(("model", "size", "ratio", "tier"), SEED_CASES)
def test_ratio_plus_tier_gives_the_same_size(
    model: ModelInfo, size: str, ratio: str, tier: str
) -> None:
    shape = normalise(model, aspect_ratio=ratio, resolution=tier)
    assert shape.size == size
    assert shape.adjustments == ()


@pytest.mark.parametrize(("model", "size", "ratio", "tier"), SEED_CASES)
def test_w_colon_h_in_size_is_an_aspect_ratio(
    model: ModelInfo, size: str, ratio: str, tier: str
) -> None:
    assert normalise(model, size=ratio, resolution=tier).size == size


@pytest.mark.parametrize(("size", "ratio", "tier"), SEED_002)
def test_grok_ratio_alone_keeps_the_default_scale(size: str, ratio: str, tier: str) -> None:
    assert normalise(GROK, aspect_ratio=ratio).size == size


def test_sora_ratio_alone_keeps_its_default_720p_scale() -> None:
    assert normalise(SORA, aspect_ratio="16:9").size == "1280x720"
    assert normalise(SORA, aspect_ratio="9:16").size == "720x1280"


def test_tier_alone_keeps_the_default_shape() -> None:
    assert normalise(SORA, resolution="1K").size == "768x1365"  # sora-2's default is portrait
    assert normalise(GROK, resolution="1K").size == "1365x768"


@pytest.mark.parametrize("model", [SORA, GROK])
def test_auto_and_nothing_leave_the_choice_to_the_model(model: ModelInfo) -> None:
    assert normalise(model, size="auto").size == "auto"
    assert normalise(model, aspect_ratio="auto", resolution="auto") == normalise(model)
    assert normalise(model).size is None


def test_size_wins_and_says_what_it_overrode() -> None:
    shape = normalise(GROK, size="1024x1024", aspect_ratio="16:9", resolution="4K")
    assert shape.size == "1024x1024"
    assert shape.adjustments == (
        Adjustment("aspect_ratio", "16:9", "ignored", "size wins"),
        Adjustment("resolution", "4K", "ignored", "size wins"),
    )


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        ("5:4", "4:3"),
        ("21:9", "16:9"),
        ("1:2", "9:16"),
        ("2:1", "16:9"),
        ("4:5", "3:4"),
        ("1.5:1", "3:2"),
    ],
)
def test_an_unoffered_ratio_maps_to_the_nearest(ratio: str, expected: str) -> None:
    shape = normalise(GROK, aspect_ratio=ratio)
    assert shape.aspect_ratio == expected
    assert shape.adjustments == (
        Adjustment("aspect_ratio", ratio, expected, "nearest grok-imagine-video offers"),
    )


@pytest.mark.parametrize("tier", ["4K", "2K", "0.5K", "0.25", "480p", "1080p", "720p"])
def test_an_unoffered_tier_maps_to_the_only_one(tier: str) -> None:
    shape = normalise(GROK, aspect_ratio="16:9", resolution=tier)
    assert (shape.size, shape.resolution) == ("1365x768", "1K")
    assert [a.field for a in shape.adjustments] == ["resolution"]


def test_nearest_tier_on_a_model_with_several() -> None:
    veo = catalog.get("veo-3.1")
    assert veo is not None
    assert normalise(veo, aspect_ratio="16:9", resolution="1440p").size == "1920x1080"
    assert normalise(veo, aspect_ratio="16:9", resolution="2K").size == "1920x1080"
    assert normalise(veo, aspect_ratio="9:16", resolution="8K").size == "2160x3840"
    assert normalise(veo, resolution="480p").size == "1280x720"


def test_an_unoffered_size_maps_by_shape_then_scale() -> None:
    shape = normalise(GROK, size="1920x1080")
    assert shape.size == "1365x768"
    assert shape.adjustments == (
        Adjustment("size", "1920x1080", "1365x768", "nearest grok-imagine-video offers"),
    )
    assert normalise(SORA, size="1280x720").size == "1280x720"
    assert normalise(SORA, size="1366x768").size == "1365x768"


def test_seven_to_one_on_a_model_with_four_and_eight_to_one_gives_eight() -> None:
    model = synthetic(("800x200", "4:1", "1K"), ("1600x200", "8:1", "1K"))
    assert normalise(model, aspect_ratio="7:1").aspect_ratio == "8:1"


def test_ratio_ties_go_to_the_wider_shape() -> None:
    model = synthetic(("960x720", "4:3", "1K"), ("720x960", "3:4", "1K"))
    assert normalise(model, aspect_ratio="1:1").aspect_ratio == "4:3"


def test_tier_ties_go_to_the_cheaper_tier_unless_pricing_a_providers_own_choice() -> None:
    model = synthetic(("1024x1024", "1:1", "1K"), ("4096x4096", "1:1", "4K"))
    cheaper = normalise(model, resolution="2K")
    assert cheaper.resolution == "1K"
    assert cheaper.adjustments == (
        Adjustment("resolution", "2K", "1K", "nearest test-model offers"),
    )
    dearer = normalise(model, resolution="2K", prefer="dearer")
    assert dearer.resolution == "4K"
    assert dearer.adjustments[0].raises


SORA_API = synthetic(("720x1280", "9:16", "720p"), durations=(4, 8, 12, 16, 20))


@pytest.mark.parametrize(
    ("wanted", "expected", "raises"),
    [(8, 8, False), (10, 8, False), (6, 4, False), (3, 4, True), (25, 20, False), (14, 12, False)],
)
def test_durations_map_to_the_nearest_and_the_shorter_on_ties(
    wanted: int, expected: int, raises: bool
) -> None:
    shape = normalise(SORA_API, seconds=wanted)
    assert shape.seconds == expected
    assert bool(shape.adjustments) == (wanted != expected)
    assert any(a.raises for a in shape.adjustments) == raises


def test_sora_on_lumenfall_makes_every_length_up_to_20_seconds() -> None:
    assert normalise(SORA, seconds=10).seconds == 10  # seed 004 runs a 10 s sora-2 job
    assert normalise(SORA, seconds=25).seconds == 20


def test_nearest_duration_ties() -> None:
    assert nearest_duration([5, 10], 7) == 5
    assert nearest_duration([5, 10], 8) == 10
    assert nearest_duration([4, 8], 6) == 4
    assert nearest_duration([4, 8], 6, "dearer") == 8


def test_unknown_models_pass_everything_through() -> None:
    shape = normalise(None, size="1000x1000", aspect_ratio=None, resolution="3K", seconds=7)
    assert (shape.size, shape.resolution, shape.seconds, shape.adjustments) == (
        "1000x1000",
        "3K",
        7,
        (),
    )
    ratio = normalise(None, size="21:9")
    assert (ratio.size, ratio.aspect_ratio) == (None, "21:9")


@pytest.mark.parametrize(
    ("tier", "megapixels"),
    [
        ("720p", 0.9216),
        ("1080p", 2.0736),
        ("1K", 1.0),
        ("4K", 16.0),
        ("0.5K", 0.25),
        ("0.25", 0.25),
        ("1", 1.0),
        ("1792x1024", 1.835008),
    ],
)
def test_tier_scale(tier: str, megapixels: float) -> None:
    assert tier_megapixels(tier) == pytest.approx(megapixels)


@pytest.mark.parametrize(
    "kwargs",
    [{"resolution": "huge"}, {"aspect_ratio": "wide"}, {"size": "16:9", "aspect_ratio": "9:16"}],
)
def test_bad_values_are_usage_errors(kwargs: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        normalise(
            SORA,
            size=kwargs.get("size"),
            aspect_ratio=kwargs.get("aspect_ratio"),
            resolution=kwargs.get("resolution"),
        )


def test_prepare_checks_modes_only_when_they_are_known() -> None:
    from framecast.domain import JobRequest
    from framecast.jobs import prepare
    from framecast.providers.lumenfall import LumenfallProvider

    listed_only = ModelInfo(
        id="new-model",
        name="new-model",
        creator="",
        modes=(),
        durations=(),
        default_seconds=None,
        sizes=(),
        default_size=None,
    )
    models = catalog.bundled().merged([listed_only])
    image = ("https://example.invalid/a.png",)
    assert (
        prepare(JobRequest("p", model="new-model", images=image), LumenfallProvider, models).model
        == listed_only
    )
    with pytest.raises(UsageError, match=r"wan-2\.6 takes no input video"):
        prepare(
            JobRequest("p", model="wan-2.6", video="https://example.invalid/v.mp4"),
            LumenfallProvider,
        )
