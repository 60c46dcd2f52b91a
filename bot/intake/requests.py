"""Turning a parsed `/song` command into a validated generation request, before any charge.

Why separate from the handler: the same rules (which model, style padding, limits) apply to a
fresh `/song`, to the 🔁 Again and variation buttons, and to the demo; and they are pure, so they
are tested without Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.aimlapi.models import MODELS, ModelSpec, ReferenceKind, known_names
from bot.aimlapi.types import GenerationRequest
from bot.config import Config
from bot.errors import UserInputError
from bot.textutil import PAD_INSTRUMENTAL, PAD_MUSIC, PAD_VOCALS, shortest_length

# Short names people can type after `model:`; full ids always work too.
ALIASES: Mapping[str, str] = {
    "2.0": "minimax/music-2.0",
    "music-2.0": "minimax/music-2.0",
    "2.6": "minimax/music-2.6",
    "music-2.6": "minimax/music-2.6",
    "1.5": "minimax/music-1.5",
    "music-1.5": "minimax/music-1.5",
    "cover": "minimax/music-cover",
    "music-cover": "minimax/music-cover",
    "legacy": "minimax-music",
    "01": "music-01",
    "stable": "stable-audio",
    "lyria": "google/lyria2",
    "lyria2": "google/lyria2",
    "eleven": "elevenlabs/eleven_music",
    "eleven_music": "elevenlabs/eleven_music",
}


def resolve_model(name: str) -> ModelSpec:
    """Find a model by id or alias (case-insensitive); unknown names get a helpful reply."""
    wanted = name.strip().lower()
    for model_id, spec in MODELS.items():
        if wanted in (model_id.lower(), spec.title.lower()):
            return spec
    if wanted in ALIASES:
        return MODELS[ALIASES[wanted]]
    raise UserInputError("error_unknown_model", model=name, known=known_names())


@dataclass(frozen=True, slots=True)
class ReferenceInfo:
    """What the request carries as a reference, before any download."""

    kind: str  # "telegram" (voice/audio/document/video) or "url"
    url: str | None = None


def choose_model(
    *,
    explicit: str | None,
    chat_default: str | None,
    has_lyrics: bool,
    reference: ReferenceInfo | None,
    config: Config,
) -> ModelSpec:
    """Pick the model: the command's `model:` wins, then the kind of request decides."""
    if explicit:
        return resolve_model(explicit)
    if reference is not None:
        if reference.kind == "url":
            chat_spec = MODELS.get(chat_default or "")
            if chat_spec is not None and chat_spec.reference in (
                ReferenceKind.URL,
                ReferenceKind.URL_OR_BASE64,
            ):
                return chat_spec
            return MODELS["minimax/music-cover"]
        chat_spec = MODELS.get(chat_default or "")
        # A file needs a model that takes files (a link-only model cannot use a voice note).
        if chat_spec is not None and chat_spec.reference in (
            ReferenceKind.UPLOAD,
            ReferenceKind.URL_OR_BASE64,
        ):
            return chat_spec
        return MODELS[config.reference_model]
    if not has_lyrics:
        chat_spec = MODELS.get(chat_default or "")
        if chat_spec is not None and chat_spec.instrumental:
            return chat_spec
        return MODELS[config.instrumental_model]
    chat_spec = MODELS.get(chat_default or "")
    if (
        chat_spec is not None
        and chat_spec.takes_lyrics
        and chat_spec.reference in (ReferenceKind.NONE,)
    ):
        return chat_spec
    return MODELS[config.default_model]


def pad_style(style: str, spec: ModelSpec, *, instrumental: bool) -> str:
    """Lengthen a too-short style only when the result still says what the user asked.

    "rock" becomes "rock, full song with vocals"; something with fewer than three letters
    ("!!", "a") carries no intent we could honestly keep, so we ask for more instead.
    """
    if not spec.prompt_required and not style:
        return style
    if shortest_length(style) >= spec.prompt_min:
        return style
    letters = sum(ch.isalpha() for ch in style)
    if letters < 3:
        raise UserInputError("error_style_too_short", limit=spec.prompt_min, model=spec.id)
    suffix = PAD_INSTRUMENTAL if instrumental else PAD_VOCALS
    padded = f"{style}{suffix}"
    if shortest_length(padded) < spec.prompt_min:
        padded = f"{padded}{PAD_MUSIC}"
    if shortest_length(padded) < spec.prompt_min:
        raise UserInputError("error_style_too_short", limit=spec.prompt_min, model=spec.id)
    return padded


def build_request(
    spec: ModelSpec,
    *,
    style: str,
    lyrics: str | None,
    reference_url: str | None = None,
    refer_voice: str | None = None,
    refer_instrumental: str | None = None,
    options: Mapping[str, object] | None = None,
) -> GenerationRequest:
    """The request as the runner will submit it (style padded); raises on unusable input."""
    if lyrics is not None and not spec.takes_lyrics:
        raise UserInputError("error_model_no_lyrics", model=spec.id)
    if lyrics is None and spec.lyrics_required and not spec.instrumental:
        raise UserInputError("error_model_needs_lyrics", model=spec.id)
    instrumental = lyrics is None
    prompt = pad_style(style, spec, instrumental=instrumental)
    return GenerationRequest(
        model=spec.id,
        prompt=prompt,
        lyrics=lyrics,
        instrumental=instrumental,
        reference_url=reference_url,
        refer_voice=refer_voice,
        refer_instrumental=refer_instrumental,
        options=dict(options or {}),
    )
