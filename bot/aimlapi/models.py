"""The model registry: one declarative entry per AI/ML API music model.

Why declarative: the bot, the validator and the client read every limit, field name and quirk
from these entries, so adding a model is adding an entry here, not a new code path. Limits are
the strictest reading of the provider's schemas *and* prose (`shared/spec/aimlapi.md` §3, §9):
a request that passes here must not be rejected by the provider for its shape.
Lengths are counted in UTF-16 code units, as the provider's (JavaScript/Zod) validator does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.errors import ValidationError
from bot.i18n.names import register_model_names


class Endpoint(StrEnum):
    """How a model is driven: submit + poll, or music-01's upload + one long synchronous POST."""

    ASYNC = "async"
    SYNC_REFERENCE = "sync_reference"


class ReferenceKind(StrEnum):
    """What kind of reference audio a model takes."""

    NONE = "none"
    UPLOAD = "upload"  # music-01: multipart upload first, then refer_voice / refer_instrumental
    URL = "url"  # an https:// link the provider downloads itself
    URL_OR_BASE64 = "url_or_base64"  # a link, or the audio inline as a base64 data URI


class OptionKind(StrEnum):
    BOOL = "bool"
    INT = "int"
    STR = "str"
    AUDIO_SETTING = "audio_setting"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """An extra body field a caller may set through `GenerationRequest.options`."""

    name: str
    kind: OptionKind
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class DurationSpec:
    """How `GenerationRequest.duration_seconds` maps onto the wire (field, unit, integer range)."""

    wire_field: str
    scale: int  # wire units per second: 1 for seconds, 1000 for milliseconds
    min_seconds: float
    max_seconds: float
    default_seconds: float


# The provider's audio_setting enums (identical across every MiniMax schema revision).
SAMPLE_RATES: Final = frozenset({16000, 24000, 32000, 44100})
BITRATES: Final = frozenset({32000, 64000, 128000, 256000})
AUDIO_FORMATS: Final = frozenset({"mp3", "wav", "pcm"})


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything the bot needs to know about one model; see the module docstring."""

    id: str
    title: str  # the one name users read and may type after `model:` (no spaces)
    summary: str  # one line for a /model keyboard
    endpoint: Endpoint
    takes_lyrics: bool
    lyrics_required: bool
    lyrics_min: int
    lyrics_max: int
    prompt_required: bool
    prompt_min: int
    prompt_max: int
    reference: ReferenceKind
    reference_required: bool
    reference_min_seconds: float | None
    reference_max_seconds: float | None
    reference_max_bytes: int | None
    instrumental: bool  # can make a song without lyrics
    output: str  # "mp3" or "wav"
    typical_seconds: float
    # --- wire mapping (the quirks) ---
    takes_prompt: bool = True  # False: the style text has no field and is not sent
    lyrics_field: str = "lyrics"  # legacy minimax-music carries the lyrics in "prompt"
    wrap_lyrics: bool = False  # "##…##" around the lyrics adds accompaniment (music-01, legacy)
    instrumental_field: str | None = None  # music-2.6: "is_instrumental"
    reference_field: str | None = None
    duration: DurationSpec | None = None
    options: tuple[OptionSpec, ...] = ()
    max_output_seconds: float | None = None
    upload_purposes: tuple[str, ...] = ()

    def option(self, name: str) -> OptionSpec | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None

    @property
    def lyrics_wrap_overhead(self) -> int:
        """UTF-16 units the `##…##` wrapping adds; it counts against the provider's limit."""
        return 4 if self.wrap_lyrics else 0


_AUDIO_SETTING: Final = OptionSpec("audio_setting", OptionKind.AUDIO_SETTING)

_MODELS: Final[tuple[ModelSpec, ...]] = (
    ModelSpec(
        id="minimax/music-2.0",
        title="MiniMax-2.0",
        summary="lyrics + style, up to 4 min",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=True,
        lyrics_required=True,
        lyrics_min=10,
        lyrics_max=3000,
        prompt_required=True,
        prompt_min=10,
        prompt_max=2000,
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=False,
        output="mp3",
        typical_seconds=85.0,
        options=(_AUDIO_SETTING,),
        max_output_seconds=240.0,
    ),
    ModelSpec(
        id="minimax/music-2.6",
        title="MiniMax-2.6",
        summary="lyrics + style or instrumental, up to 4 min",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=True,
        lyrics_required=True,  # unless instrumental (is_instrumental) or lyrics_optimizer
        lyrics_min=10,
        lyrics_max=3000,
        prompt_required=True,
        prompt_min=10,
        prompt_max=2000,
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=True,
        output="mp3",
        typical_seconds=90.0,
        instrumental_field="is_instrumental",
        options=(_AUDIO_SETTING, OptionSpec("lyrics_optimizer", OptionKind.BOOL)),
        max_output_seconds=240.0,
    ),
    ModelSpec(
        id="minimax/music-1.5",
        title="MiniMax-1.5",
        summary="lyrics + short style, up to 4 min",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=True,
        lyrics_required=True,
        lyrics_min=10,
        lyrics_max=3000,
        prompt_required=True,
        prompt_min=10,
        prompt_max=300,
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=False,
        output="mp3",
        typical_seconds=85.0,
        options=(_AUDIO_SETTING,),
        max_output_seconds=240.0,
    ),
    ModelSpec(
        id="minimax/music-cover",
        title="MiniMax-Cover",
        summary="a new version of a reference song (link or file)",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=True,
        lyrics_required=False,
        lyrics_min=10,
        lyrics_max=3000,
        prompt_required=True,
        prompt_min=10,
        prompt_max=2000,
        reference=ReferenceKind.URL_OR_BASE64,
        reference_required=True,
        reference_min_seconds=6.0,
        reference_max_seconds=360.0,
        reference_max_bytes=50_000_000,
        instrumental=False,
        output="mp3",
        typical_seconds=90.0,
        reference_field="reference_audio_url",
        options=(_AUDIO_SETTING,),
    ),
    ModelSpec(
        id="stable-audio",
        title="Stable-Audio",
        summary="instrumental from a description, up to 47 s",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=False,
        lyrics_required=False,
        lyrics_min=0,
        lyrics_max=0,
        prompt_required=True,
        prompt_min=1,
        prompt_max=2000,  # no documented limit: our own cap
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=True,
        output="wav",
        typical_seconds=40.0,
        duration=DurationSpec("seconds_total", 1, 1, 47, 30),
        options=(
            OptionSpec("steps", OptionKind.INT, minimum=1, maximum=1000),
            OptionSpec("seconds_start", OptionKind.INT, minimum=1, maximum=47),
        ),
        max_output_seconds=47.0,
    ),
    ModelSpec(
        id="google/lyria2",
        title="Lyria-2",
        summary="instrumental from a description, about 30 s",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=False,
        lyrics_required=False,
        lyrics_min=0,
        lyrics_max=0,
        prompt_required=True,
        prompt_min=1,
        prompt_max=600,  # the schema's prose says "Maximum 600 characters"
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=True,
        output="wav",
        typical_seconds=35.0,
        options=(
            OptionSpec("negative_prompt", OptionKind.STR, max_length=600),
            OptionSpec("seed", OptionKind.INT, minimum=0, maximum=2**31 - 1),
        ),
        max_output_seconds=35.0,
    ),
    ModelSpec(
        id="elevenlabs/eleven_music",
        title="ElevenLabs",
        summary="instrumental or sung from a description, 10 s to 5 min",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=False,
        lyrics_required=False,
        lyrics_min=0,
        lyrics_max=0,
        prompt_required=True,
        prompt_min=1,
        prompt_max=2000,
        reference=ReferenceKind.NONE,
        reference_required=False,
        reference_min_seconds=None,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=True,
        output="mp3",
        typical_seconds=30.0,
        duration=DurationSpec("music_length_ms", 1000, 10, 300, 10),
        max_output_seconds=300.0,
    ),
    ModelSpec(
        id="minimax-music",
        title="MiniMax-Legacy",
        summary="lyrics sung in the style of a reference link, up to 1 min",
        endpoint=Endpoint.ASYNC,
        takes_lyrics=True,
        lyrics_required=True,
        lyrics_min=1,
        lyrics_max=600,  # counted on the wire, "##…##" included
        prompt_required=False,
        prompt_min=0,
        prompt_max=0,
        reference=ReferenceKind.URL,
        reference_required=True,
        reference_min_seconds=15.0,
        reference_max_seconds=None,
        reference_max_bytes=None,
        instrumental=False,
        output="mp3",
        typical_seconds=40.0,
        takes_prompt=False,
        lyrics_field="prompt",
        wrap_lyrics=True,
        reference_field="reference_audio_url",
        max_output_seconds=60.0,
    ),
    ModelSpec(
        id="music-01",
        title="MiniMax-01",
        summary="lyrics sung like your reference track, up to 1 min",
        endpoint=Endpoint.SYNC_REFERENCE,
        takes_lyrics=True,
        lyrics_required=True,
        lyrics_min=1,
        lyrics_max=600,  # counted on the wire, "##…##" included
        prompt_required=False,
        prompt_min=0,
        prompt_max=0,
        reference=ReferenceKind.UPLOAD,
        reference_required=True,
        reference_min_seconds=10.0,  # "longer than 10s": strictly more
        reference_max_seconds=600.0,
        reference_max_bytes=20_000_000,  # undocumented upstream; Telegram's download cap
        instrumental=False,
        output="mp3",
        typical_seconds=55.0,
        takes_prompt=False,
        wrap_lyrics=True,
        options=(_AUDIO_SETTING,),
        max_output_seconds=60.0,
        upload_purposes=("song", "voice", "instrumental"),
    ),
)

MODELS: Final[dict[str, ModelSpec]] = {spec.id: spec for spec in _MODELS}
# Users read (and may type after `model:`) only the title; ids stay for logs and the CLI.
register_model_names({spec.id: spec.title for spec in _MODELS})


def known_names() -> str:
    """The model names a user can pick from, for an "unknown model" reply."""
    return ", ".join(spec.title for spec in _MODELS)


def get_model(model_id: str) -> ModelSpec:
    """The entry for `model_id`; an unknown id is a user-facing validation error, not KeyError."""
    spec = MODELS.get(model_id)
    if spec is None:
        raise ValidationError("error_unknown_model", model=model_id, known=known_names())
    return spec
