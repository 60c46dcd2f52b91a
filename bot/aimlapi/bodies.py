"""The wire body of a generation request, built from the model registry in one pass.

Why one pass: exactly what was validated is what is sent, and a request the provider would
reject never leaves the bot. Lengths are UTF-16 code units, as the provider counts.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from bot.aimlapi.audio import (
    AUDIO_MIME,
    sniff_audio_format,
)
from bot.aimlapi.models import (
    AUDIO_FORMATS,
    BITRATES,
    SAMPLE_RATES,
    ModelSpec,
    OptionKind,
    OptionSpec,
    ReferenceKind,
    get_model,
)
from bot.aimlapi.types import (
    GenerationRequest,
)
from bot.errors import LocalFailure, ValidationError
from bot.textutil import shortest_length, utf16_len
from storage.jobs import KEY_PATTERN

log = logging.getLogger(__name__)

# make reconciliation impossible, so we refuse to send a paid POST with such an id.
CLIENT_REQUEST_ID: Final = KEY_PATTERN  # songbot sends its job keys as request ids
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DATA_URI: Final = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*?);base64,"
)


def validate_request(request: GenerationRequest) -> ModelSpec:
    """Check `request` against its model's entry; raises `ValidationError`, charges nothing."""
    spec, _ = build_body(request)
    return spec


def build_body(request: GenerationRequest) -> tuple[ModelSpec, dict[str, Any]]:
    """The exact JSON body the provider will get for `request` (validating on the way)."""
    spec = get_model(request.model)
    body: dict[str, Any] = {"model": spec.id}
    _put_prompt(spec, request, body)
    _put_lyrics(spec, request, body)
    _put_reference(spec, request, body)
    _put_duration(spec, request, body)
    _put_options(spec, request, body)
    return spec, body


def _put_prompt(spec: ModelSpec, request: GenerationRequest, body: dict[str, Any]) -> None:
    if not spec.takes_prompt:
        return  # music-01 / legacy: the style has no field; the lyrics are the prompt
    prompt = request.prompt
    if not prompt.strip():
        if spec.prompt_required:
            raise ValidationError("error_prompt_missing", model=spec.id)
        return
    length = utf16_len(prompt)
    if shortest_length(prompt) < spec.prompt_min:
        raise ValidationError(
            "error_prompt_too_short", length=shortest_length(prompt), limit=spec.prompt_min
        )
    if length > spec.prompt_max:
        raise ValidationError("error_prompt_too_long", length=length, limit=spec.prompt_max)
    body["prompt"] = prompt


def _is_wrapped(lyrics: str) -> bool:
    stripped = lyrics.strip()
    return len(stripped) >= 4 and stripped.startswith("##") and stripped.endswith("##")


def _put_lyrics(spec: ModelSpec, request: GenerationRequest, body: dict[str, Any]) -> None:
    lyrics = request.lyrics if request.lyrics and request.lyrics.strip() else None
    if lyrics is not None and not spec.takes_lyrics:
        raise ValidationError("error_model_no_lyrics", model=spec.id)
    if spec.instrumental_field is not None and request.instrumental:
        if lyrics is not None:
            raise ValidationError("error_instrumental_with_lyrics", model=spec.id)
        body[spec.instrumental_field] = True
    if lyrics is None:
        flagged = spec.instrumental_field is not None and request.instrumental
        optimizer = request.options.get("lyrics_optimizer") is True and bool(
            spec.option("lyrics_optimizer")
        )
        if spec.lyrics_required and not flagged and not optimizer:
            raise ValidationError("error_model_needs_lyrics", model=spec.id)
        return
    wire, overhead = lyrics, 0
    if spec.wrap_lyrics and not _is_wrapped(lyrics):
        wire, overhead = f"##{lyrics}##", spec.lyrics_wrap_overhead
    shown = utf16_len(lyrics)
    length = utf16_len(wire)
    if shortest_length(wire) < spec.lyrics_min:
        raise ValidationError(
            "error_lyrics_too_short", length=shown, limit=max(1, spec.lyrics_min - overhead)
        )
    if length > spec.lyrics_max:
        raise ValidationError(
            "error_lyrics_too_long", length=shown, limit=spec.lyrics_max - overhead
        )
    body[spec.lyrics_field] = wire


def _check_url(url: str) -> str:
    if len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValidationError("error_reference_url_invalid")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("error_reference_url_invalid")
    return url


def _data_uri(spec: ModelSpec, value: str) -> str:
    """Normalise inline audio to `data:<mime>;base64,<payload>`, checking size and content.

    Checked in place, without slicing the payload out: it can be megabytes, and every copy of
    it was RSS per reference in flight (issue #28). A value that already is a plain data URI is
    returned as it is.
    """
    mime: str | None = None
    start = 0
    plain = False  # `data:<mime>;base64,` exactly: nothing to normalise
    match = _DATA_URI.match(value)
    if match is not None:
        mime = match["mime"]
        start = match.end()
        plain = mime is not None and not match["params"]
    elif value.startswith("data:"):
        raise ValidationError("error_reference_base64_invalid")
    length = len(value) - start
    if not length or length % 4 or _BASE64.fullmatch(value, start) is None:
        raise ValidationError("error_reference_base64_invalid")
    padding = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
    size = length // 4 * 3 - padding
    if spec.reference_max_bytes is not None and size > spec.reference_max_bytes:
        raise ValidationError(
            "error_reference_data_too_big",
            size_mb=round(size / 1_000_000, 1),
            limit_mb=round(spec.reference_max_bytes / 1_000_000),
        )
    try:
        head = base64.b64decode(value[start : start + 32], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("error_reference_base64_invalid") from None
    fmt = sniff_audio_format(head)
    if fmt is None:
        raise ValidationError("error_reference_base64_invalid")
    if plain:
        return value
    return f"data:{mime or AUDIO_MIME[fmt]};base64,{value[start:]}"


def _put_reference(spec: ModelSpec, request: GenerationRequest, body: dict[str, Any]) -> None:
    url, inline = request.reference_url, request.reference_base64
    ids = [
        (k, v)
        for k, v in (
            ("refer_voice", request.refer_voice),
            ("refer_instrumental", request.refer_instrumental),
        )
        if v
    ]
    kind = spec.reference
    given_link = url is not None or inline is not None
    if kind is ReferenceKind.NONE:
        if given_link or ids:
            raise ValidationError("error_model_no_reference", model=spec.id)
        return
    if kind is ReferenceKind.UPLOAD:
        if given_link:
            raise ValidationError("error_model_no_reference", model=spec.id)
        if not ids and spec.reference_required:
            raise ValidationError("error_refer_ids_missing", model=spec.id)
        body.update(ids)  # only the ids we have: the provider's handling of null is unknown
        return
    if ids or (inline is not None and kind is ReferenceKind.URL):
        raise ValidationError("error_model_no_reference", model=spec.id)
    if url is not None and inline is not None:
        raise ValidationError("error_reference_both", model=spec.id)
    assert spec.reference_field is not None
    if url is not None:
        body[spec.reference_field] = _check_url(url)
    elif inline is not None:
        body[spec.reference_field] = _data_uri(spec, inline)
    elif spec.reference_required:
        raise ValidationError("error_model_needs_reference", model=spec.id)


def _put_duration(spec: ModelSpec, request: GenerationRequest, body: dict[str, Any]) -> None:
    seconds = request.duration_seconds
    if seconds is None:
        return
    duration = spec.duration
    if duration is None:
        raise ValidationError("error_duration_not_supported", model=spec.id)
    if not math.isfinite(seconds) or not (duration.min_seconds <= seconds <= duration.max_seconds):
        raise ValidationError(
            "error_duration_out_of_range",
            seconds=round(seconds) if math.isfinite(seconds) else 0,
            minimum=int(duration.min_seconds),
            maximum=int(duration.max_seconds),
        )
    body[duration.wire_field] = round(seconds * duration.scale)


def _put_options(spec: ModelSpec, request: GenerationRequest, body: dict[str, Any]) -> None:
    for name, value in request.options.items():
        opt = spec.option(name)
        if opt is None or not _option_ok(opt, value):
            raise ValidationError("error_option_invalid", name=name, model=spec.id)
        body[name] = dict(value) if isinstance(value, Mapping) else value


def _option_ok(opt: OptionSpec, value: object) -> bool:
    if opt.kind is OptionKind.BOOL:
        return isinstance(value, bool)
    if opt.kind is OptionKind.INT:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        low_ok = opt.minimum is None or value >= opt.minimum
        return low_ok and (opt.maximum is None or value <= opt.maximum)
    if opt.kind is OptionKind.STR:
        return isinstance(value, str) and (
            opt.max_length is None or utf16_len(value) <= opt.max_length
        )
    return _audio_setting_ok(value)


def _audio_setting_ok(value: object) -> bool:
    """Valid under every schema revision: known keys, enum values, `format` always present."""
    if not isinstance(value, Mapping):
        return False
    keys = set(value)
    if not keys <= {"sample_rate", "audio_sample_rate", "bitrate", "format"}:
        return False
    if {"sample_rate", "audio_sample_rate"} <= keys or value.get("format") not in AUDIO_FORMATS:
        return False
    for key in ("sample_rate", "audio_sample_rate", "bitrate"):
        if key in value:
            item = value[key]
            allowed = BITRATES if key == "bitrate" else SAMPLE_RATES
            if not isinstance(item, int) or isinstance(item, bool) or item not in allowed:
                return False
    return True


def check_client_request_id(client_request_id: str) -> str:
    """Refuse an id the provider would silently drop (we could never reconcile the job)."""
    if CLIENT_REQUEST_ID.fullmatch(client_request_id) is None:
        raise LocalFailure(
            "error_internal", detail=f"unusable X-Client-Request-Id {client_request_id!r}"
        )
    return client_request_id
