"""The AI/ML API client: the one place where the provider's quirks live.

One `httpx.AsyncClient` is shared by every call; the key goes only to the API base URL as
`Authorization: Bearer …` (added per request, never as a client default), and each call gets a
timeout sized to it (see `Timeouts`): polls are quick, uploads wait while the server analyses
the audio, music-01's synchronous generate blocks for 50-180 s.

Validation: `validate`/`submit`/`generate_sync` build the wire body from the registry entry in
one pass (`build_body`), so exactly what was validated is what is sent, and a request the
provider would reject never leaves the bot. Lengths are UTF-16 code units, as the provider counts.

Retry rules (tested in tests/test_aimlapi_retry.py):

* Free calls (poll, upload, logs, key check, download) retry on 429, 5xx, network errors,
  timeouts and garbled 2xx bodies, with exponential backoff (`backoff_base * 2**n`, capped at
  `backoff_cap`) and jitter (a uniform pick in the upper half), at most `max_attempts` tries.
  A `Retry-After` header (seconds or HTTP date) replaces the computed delay; one longer than
  `max_retry_after` is not slept through: `RateLimited(retry_after=…)` is raised for the
  caller to reschedule.
* Paid POSTs (async submit, music-01 generate) are never blindly retried once they may have
  reached the provider. They are retried (same bounds) only when the request certainly did
  not get there or was certainly refused: connect errors, connect/pool timeouts, and 429 or 503
  *responses*. Anything else that leaves the outcome open (read/write timeout after sending,
  connection reset or closed mid-response, any other 5xx, a 2xx we cannot read) raises
  `SubmitOutcomeUnknown`. Every paid POST carries `X-Client-Request-Id: <job key>`, so the
  caller can then ask `find_generation(job_key)` (GET /v2/logs) whether it went through.
* Other 4xx are final: 400/422 `InvalidRequest`, 401 `InvalidApiKey`, 403 `OutOfCredits`,
  404 on a poll `UnknownGeneration`.

Other quirks handled here: error envelope `{message, path, requestId, statusCode, timestamp}`
with `statusCode` a string or a number; poll statuses beyond the four documented ones mean
"still pending"; `error` on a failed poll is opaque (`message`, `detail[].msg` or `name`);
music-01 forwards MiniMax's `base_resp`, so a 2xx can still be a failure; music-01 audio comes
back hex-encoded; result URLs can be third-party hosts, so downloads never carry the key.

Open question (`/v2/logs`): the documented endpoint (logs-v2.json) takes a window (`period`)
plus `limit`/`offset` and returns `{"data": [rows], "pagination": {…, "has_more"}}`; it has no
`client_request_id` filter, so we page through the recent window and match rows ourselves. A
bare list of rows is accepted too.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import logging
import math
import random
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx

from bot.aimlapi.audio import (
    AUDIO_MIME,
    AudioTooLarge,
    HexDecodeError,
    decode_hex_audio,
    read_head,
    sniff_audio_format,
    stream_to_file,
)
from bot.aimlapi.errors import (
    AudioDownloadError,
    ContentRejected,
    GenerationFailed,
    InvalidApiKey,
    InvalidRequest,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SubmitOutcomeUnknown,
    UnknownGeneration,
)
from bot.aimlapi.models import (
    AUDIO_FORMATS,
    BITRATES,
    SAMPLE_RATES,
    Endpoint,
    ModelSpec,
    OptionKind,
    OptionSpec,
    ReferenceKind,
    get_model,
)
from bot.aimlapi.types import (
    DownloadedAudio,
    GenerationRequest,
    GenerationStatus,
    LogEntry,
    PollResult,
    Submission,
    SyncAudio,
    UploadResult,
)
from bot.errors import LocalFailure, ValidationError
from bot.textutil import utf16_len
from storage.jobs import KEY_PATTERN

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT: Final = "songbot/0.1 (+https://github.com/songbot)"
SUBMIT_PATH: Final = "/v2/generate/audio"
POLL_PATH: Final = "/v2/generate/audio"
UPLOAD_PATH: Final = "/v2/generate/audio/minimax/upload"
GENERATE_PATH: Final = "/v2/generate/audio/minimax/generate"
LOGS_PATH: Final = "/v2/logs"
DEFAULT_DOWNLOAD_CAP: Final = 50_000_000
UPLOAD_PURPOSES: Final = ("song", "voice", "instrumental")
# The provider silently drops an X-Client-Request-Id outside this alphabet (A15), which would
# make reconciliation impossible, so we refuse to send a paid POST with such an id.
CLIENT_REQUEST_ID: Final = KEY_PATTERN  # songbot sends its job keys as request ids
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DATA_URI: Final = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*?);base64,"
)
_PENDING_WORDS: Final = {
    "queued": GenerationStatus.QUEUED,
    "generating": GenerationStatus.GENERATING,
}
# MiniMax base_resp codes (aimlapi.md §8). 1002 is "rate limit" per MiniMax's own table; the
# CLI's reading as a content filter is why its user message stays neutral.
_RATE_CODES: Final = frozenset({1002, 1039, 1041, 2045})
_KEY_CODES: Final = frozenset({1004, 2049})
_CREDIT_CODES: Final = frozenset({1008, 2056})
_CONTENT_CODES: Final = frozenset({1026, 1027})
_PARAM_CODES: Final = frozenset({2013, 1042})
_SERVER_CODES: Final = frozenset({1000, 1001, 1024, 1033})


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Read timeouts per kind of call, in seconds; connect/pool share `connect`."""

    connect: float = 10.0
    poll: float = 30.0
    submit: float = 60.0
    upload: float = 180.0
    generate: float = 300.0
    logs: float = 30.0
    download: float = 60.0
    write: float = 60.0

    def make(self, read: float) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=read, write=self.write, pool=self.connect)


# Transport failures that happen before a single byte of the request left this machine.
_NEVER_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


class _Malformed(Exception):
    """A 2xx body we cannot use (not JSON, missing fields): retried on free calls only."""


# ---------------------------------------------------------------------------------------------
# Validation and the wire body
# ---------------------------------------------------------------------------------------------


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
    if length < spec.prompt_min:
        raise ValidationError("error_prompt_too_short", length=length, limit=spec.prompt_min)
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
    if length < spec.lyrics_min:
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
    """Normalise inline audio to `data:<mime>;base64,<payload>`, checking size and content."""
    mime: str | None = None
    payload = value
    match = _DATA_URI.match(value)
    if match is not None:
        mime = match["mime"]
        payload = value[match.end() :]
    elif value.startswith("data:"):
        raise ValidationError("error_reference_base64_invalid")
    if not payload or len(payload) % 4 or _BASE64.fullmatch(payload) is None:
        raise ValidationError("error_reference_base64_invalid")
    size = len(payload) // 4 * 3 - (len(payload) - len(payload.rstrip("=")))
    if spec.reference_max_bytes is not None and size > spec.reference_max_bytes:
        raise ValidationError(
            "error_reference_data_too_big",
            size_mb=round(size / 1_000_000, 1),
            limit_mb=round(spec.reference_max_bytes / 1_000_000),
        )
    try:
        head = base64.b64decode(payload[:32], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("error_reference_base64_invalid") from None
    fmt = sniff_audio_format(head)
    if fmt is None:
        raise ValidationError("error_reference_base64_invalid")
    return f"data:{mime or AUDIO_MIME[fmt]};base64,{payload}"


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


# ---------------------------------------------------------------------------------------------
# Response parsing helpers
# ---------------------------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Malformed(f"not JSON: {exc}") from None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _int(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_text(error: object) -> str | None:
    """Readable text from the provider's opaque `error`: message, detail[].msg, or name."""
    if isinstance(error, str):
        return error.strip() or None
    if not isinstance(error, dict):
        return None
    message = _str(error.get("message"))
    if message:
        return message
    detail = error.get("detail")
    if isinstance(detail, str) and detail.strip():
        return detail.strip()
    if isinstance(detail, list):
        parts = [
            item if isinstance(item, str) else _str(_dict(item).get("msg")) for item in detail
        ]
        joined = "; ".join(p for p in parts if p)
        if joined:
            return joined
    return _str(error.get("name"))


def _envelope(response: httpx.Response) -> tuple[str | None, str | None, int | None]:
    """(message, requestId, statusCode) of an error body; statusCode may be a string."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return (text[:500] or None), None, None
    if not isinstance(data, dict):
        return None, None, None
    message = data.get("message")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    if not isinstance(message, str):
        message = error_text(data.get("error"))
    return (message or None), _str(data.get("requestId")), _int(data.get("statusCode"))


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent/garbled."""
    if value is None or not value.strip():
        return None
    number = _number(value.strip())
    if number is not None:
        return max(0.0, number)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_for_status(
    status: int,
    message: str | None,
    request_id: str | None,
    *,
    retry_after: float | None = None,
    on_poll: bool = False,
) -> ProviderError:
    """Map an HTTP error status (with the envelope's message) to our error classes."""
    common: dict[str, Any] = {
        "provider_message": message,
        "http_status": status,
        "request_id": request_id,
    }
    if status == 401:
        return InvalidApiKey(**common)
    if status == 403:
        return OutOfCredits(**common)
    if status == 429:
        return RateLimited(retry_after=retry_after, **common)
    if status >= 500:
        return ProviderUnavailable(**common)
    if on_poll and status in (400, 404, 410, 422):
        return UnknownGeneration(**common)
    return InvalidRequest(**common)


def _error_for_response(response: httpx.Response, *, on_poll: bool = False) -> ProviderError:
    message, request_id, _ = _envelope(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error_for_status(
        response.status_code, message, request_id, retry_after=retry_after, on_poll=on_poll
    )


def check_base_resp(data: Mapping[str, Any]) -> None:
    """MiniMax reports failures inside a 2xx: `base_resp.status_code != 0`."""
    base = data.get("base_resp")
    if not isinstance(base, dict):
        return
    code = _int(base.get("status_code"))
    if code is None or code == 0:
        return
    message = _str(base.get("status_msg")) or f"MiniMax error {code}"
    detail = f"base_resp {code}: {message}"
    if code in _RATE_CODES:
        raise RateLimited(detail=detail, provider_message=message)
    if code in _KEY_CODES:
        raise InvalidApiKey(detail=detail, provider_message=message)
    if code in _CREDIT_CODES:
        raise OutOfCredits(detail=detail, provider_message=message)
    if code in _CONTENT_CODES:
        raise ContentRejected(detail=detail, provider_message=message)
    if code in _PARAM_CODES:
        raise InvalidRequest(detail=detail, provider_message=message)
    if code in _SERVER_CODES:
        raise ProviderUnavailable(detail=detail, provider_message=message)
    raise GenerationFailed(detail=detail, provider_message=message)


def parse_poll(generation_id: str, data: object) -> PollResult:
    """A poll body as a `PollResult`; unknown statuses are pending, completed needs a URL."""
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise _Malformed("poll body without a status")
    raw = data["status"]
    word = raw.strip().lower()
    audio = _dict(data.get("audio_file"))
    extra = _dict(data.get("extra_info"))
    url = _str(audio.get("url"))
    error: str | None = None
    if word == "completed":
        status = GenerationStatus.COMPLETED
        if url is None:
            status = GenerationStatus.ERROR
            error = "the provider reported the song as completed but gave no audio URL"
    elif word == "error" or word == "failed":
        status = GenerationStatus.ERROR
        error = error_text(data.get("error")) or "the provider reported a failed generation"
    else:
        status = _PENDING_WORDS.get(word, GenerationStatus.PENDING_UNKNOWN)
    duration_ms = _number(extra.get("music_duration"))
    size = _int(audio.get("file_size")) or _int(extra.get("music_size")) or None
    return PollResult(
        generation_id=_str(data.get("id")) or generation_id,
        status=status,
        raw_status=raw,
        audio_url=url if status is GenerationStatus.COMPLETED else None,
        error_text=error,
        duration_seconds=duration_ms / 1000 if duration_ms else None,
        sample_rate=_int(extra.get("music_sample_rate")) or None,
        size_bytes=size,
        content_type=_str(audio.get("content_type")),
        file_name=_str(audio.get("file_name")),
        credits_used=_number(_dict(_dict(data.get("meta")).get("usage")).get("credits_used")),
    )


def _log_entry(row: Mapping[str, Any]) -> LogEntry:
    cost = _dict(row.get("cost"))
    return LogEntry(
        client_request_id=_str(row.get("client_request_id")),
        inference_id=_str(row.get("inference_id")),
        request_id=_str(row.get("request_id")),
        status=_str(row.get("status")) or "unknown",
        credits=_number(cost.get("credits")),
        usd=_number(cost.get("usd")),
        created_at=_str(row.get("created")) or _str(row.get("created_at")),
        model=_str(row.get("model")),
    )


def parse_logs(data: object, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Rows and "is there another page" from `{"data": [...], "pagination": {...}}` or a list."""
    if isinstance(data, list):
        rows = data
        has_more = len(rows) >= limit
    elif isinstance(data, dict) and isinstance(data.get("data"), list):
        rows = data["data"]
        more = _dict(data.get("pagination")).get("has_more")
        has_more = more if isinstance(more, bool) else len(rows) >= limit
    else:
        raise _Malformed("logs body is neither a list nor {data: [...]}")
    return [r for r in rows if isinstance(r, dict)], has_more


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class AimlApiClient:
    """Async AI/ML API client; see the module docstring for the retry rules."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        timeouts: Timeouts | None = None,
        logs_period: str = "48h",
        logs_max_pages: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeouts = timeouts or Timeouts()
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=self._timeouts.make(self._timeouts.poll),
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._logs_period = logs_period
        self._logs_max_pages = logs_max_pages
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"AimlApiClient(base_url={self._base_url!r}, api_key='***')"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def aclose(self) -> None:
        """Close the HTTP client, but only one this object created."""
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> AimlApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- public API ---------------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> None:
        """Raise `ValidationError` (with a user-ready message) if the provider would refuse it."""
        validate_request(request)

    async def submit(self, request: GenerationRequest, *, client_request_id: str) -> Submission:
        """Start an async generation (charged). Raises `SubmitOutcomeUnknown` when unsure."""
        spec, body = build_body(request)
        if spec.endpoint is not Endpoint.ASYNC:
            raise LocalFailure("error_internal", detail=f"{spec.id} is not submitted async")
        check_client_request_id(client_request_id)

        async def parse(response: httpx.Response) -> Submission:
            return self._parse_submission(response, client_request_id)

        return await self._call(
            "POST",
            SUBMIT_PATH,
            paid=True,
            client_request_id=client_request_id,
            json=body,
            timeout=self._timeouts.submit,
            parse=parse,
        )

    async def poll(self, generation_id: str) -> PollResult:
        """One status check (free); retried on transient failures."""

        async def parse(response: httpx.Response) -> PollResult:
            return parse_poll(generation_id, _json(response))

        return await self._call(
            "GET",
            POLL_PATH,
            params={"generation_id": generation_id},
            timeout=self._timeouts.poll,
            parse=parse,
            on_poll=True,
        )

    async def upload_reference(self, path: Path, *, purpose: str) -> UploadResult:
        """Upload an MP3/WAV reference for music-01 (multipart `file` + `purpose`)."""
        spec = get_model("music-01")
        if purpose not in UPLOAD_PURPOSES:
            raise ValidationError("error_option_invalid", name="purpose", model=spec.id)
        data = await asyncio.to_thread(path.read_bytes)
        limit = spec.reference_max_bytes
        if limit is not None and len(data) > limit:
            raise ValidationError(
                "error_reference_data_too_big",
                size_mb=round(len(data) / 1_000_000, 1),
                limit_mb=round(limit / 1_000_000),
            )
        fmt = sniff_audio_format(data[:16])
        if fmt not in ("mp3", "wav"):
            raise ValidationError("error_reference_format")
        name = path.name if path.suffix.lower() == f".{fmt}" else f"reference.{fmt}"

        async def parse(response: httpx.Response) -> UploadResult:
            body = _json(response)
            if not isinstance(body, dict):
                raise _Malformed("upload body is not an object")
            check_base_resp(body)
            voice = _str(body.get("voice_id"))
            instrumental = _str(body.get("instrumental_id"))
            if voice is None and instrumental is None:
                raise GenerationFailed(detail="upload answered without voice_id/instrumental_id")
            return UploadResult(voice, instrumental, _str(body.get("trace_id")))

        return await self._call(
            "POST",
            UPLOAD_PATH,
            files={"file": (name, data, AUDIO_MIME[fmt])},
            data={"purpose": purpose},
            timeout=self._timeouts.upload,
            parse=parse,
        )

    async def generate_sync(
        self, request: GenerationRequest, *, client_request_id: str
    ) -> SyncAudio:
        """music-01: one long, charged POST that returns the audio itself (hex-encoded)."""
        spec, body = build_body(request)
        if spec.endpoint is not Endpoint.SYNC_REFERENCE:
            raise LocalFailure("error_internal", detail=f"{spec.id} is not a synchronous model")
        check_client_request_id(client_request_id)

        async def parse(response: httpx.Response) -> SyncAudio:
            return await self._parse_sync_audio(response)

        return await self._call(
            "POST",
            GENERATE_PATH,
            paid=True,
            client_request_id=client_request_id,
            json=body,
            timeout=self._timeouts.generate,
            parse=parse,
        )

    async def find_generation(self, client_request_id: str) -> LogEntry | None:
        """The logged paid request we sent with this `X-Client-Request-Id`, if any.

        Pages newest-first through `GET /v2/logs?period=…`; a `succeeded` row wins over a
        `failed` one (a retried-before-sending submit can log both). None: never reached them.
        """
        limit = 100
        matches: list[LogEntry] = []
        for page in range(self._logs_max_pages):
            params: dict[str, str | int] = {
                "period": self._logs_period,
                "limit": limit,
                "offset": page * limit,
            }

            async def parse(response: httpx.Response) -> tuple[list[dict[str, Any]], bool]:
                return parse_logs(_json(response), limit)

            rows, has_more = await self._call(
                "GET", LOGS_PATH, params=params, timeout=self._timeouts.logs, parse=parse
            )
            matches.extend(
                _log_entry(row)
                for row in rows
                if row.get("client_request_id") == client_request_id
            )
            if matches or not has_more:
                break
        if not matches:
            return None
        return next((m for m in matches if m.succeeded), matches[0])

    async def check_key(self) -> None:
        """Prove the key works without creating anything.

        `GET /v2/logs?period=1h&limit=1` is authenticated, free and read-only, and documents 401
        for a bad key; a poll of a made-up id would also be free, but its answer for unknown ids
        is undocumented, so it could not tell a bad key from a bad id.
        """

        async def parse(response: httpx.Response) -> None:
            parse_logs(_json(response), 1)

        await self._call(
            "GET",
            LOGS_PATH,
            params={"period": "1h", "limit": 1},
            timeout=self._timeouts.logs,
            parse=parse,
        )

    async def download(
        self, url: str, dest: Path, *, max_bytes: int = DEFAULT_DOWNLOAD_CAP
    ) -> DownloadedAudio:
        """Stream a result URL to `dest` (≤ `max_bytes`), never sending our Authorization header.

        The format is sniffed from the bytes; anything that is not audio is deleted and refused.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AudioDownloadError("error_audio_download", detail="not an http(s) URL")
        attempt = 0
        while True:
            attempt += 1
            request = self._http.build_request(
                "GET",
                url,
                headers={"Accept": "audio/*, application/octet-stream;q=0.9, */*;q=0.5"},
                timeout=self._timeouts.make(self._timeouts.download),
            )
            # Result URLs can be third-party hosts: strip any auth a shared client might carry.
            request.headers.pop("Authorization", None)
            request.headers.pop("Cookie", None)
            try:
                response = await self._http.send(request, stream=True, follow_redirects=True)
            except httpx.TransportError as exc:
                await self._download_retry(
                    attempt, None, f"{type(exc).__name__} from {parts.hostname}"
                )
                continue
            try:
                status = response.status_code
                if status in (401, 403, 404, 410):
                    raise AudioDownloadError(
                        "error_audio_expired", http_status=status, detail=f"HTTP {status}"
                    )
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    await self._download_retry(attempt, retry_after, f"HTTP {status}")
                    continue
                if not 200 <= status < 300:
                    raise AudioDownloadError(http_status=status, detail=f"HTTP {status}")
                declared = _int(response.headers.get("content-length"))
                if declared is not None and declared > max_bytes:
                    raise self._too_big(max_bytes, declared)
                try:
                    size = await stream_to_file(response, dest, max_bytes=max_bytes)
                except AudioTooLarge as exc:
                    raise self._too_big(max_bytes, exc.seen) from None
                except httpx.TransportError as exc:
                    await self._download_retry(attempt, None, f"{type(exc).__name__} mid-body")
                    continue
                content_type = response.headers.get("content-type")
            finally:
                await response.aclose()
            fmt = sniff_audio_format(await read_head(dest))
            if fmt is None:
                await asyncio.to_thread(dest.unlink, True)
                raise AudioDownloadError(
                    "error_audio_not_audio", detail=f"not audio ({content_type}, {size} bytes)"
                )
            return DownloadedAudio(dest, size, fmt, content_type)

    # --- internals ----------------------------------------------------------------------------

    @staticmethod
    def _too_big(limit: int, seen: int) -> AudioDownloadError:
        return AudioDownloadError(
            "error_audio_too_big",
            limit_mb=round(limit / 1_000_000),
            detail=f"{seen} bytes > {limit}",
        )

    async def _download_retry(self, attempt: int, retry_after: float | None, why: str) -> None:
        if attempt >= self._max_attempts or (
            retry_after is not None and retry_after > self._max_retry_after
        ):
            raise AudioDownloadError(retryable=True, detail=f"download failed: {why}")
        delay = self._delay(attempt, retry_after)
        log.info("audio download: %s; retry %d in %.2fs", why, attempt, delay)
        await self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _headers(self, client_request_id: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if client_request_id is not None:
            headers["X-Client-Request-Id"] = client_request_id
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], Awaitable[T]],
        timeout: float,
        paid: bool = False,
        client_request_id: str | None = None,
        on_poll: bool = False,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> T:
        """Send with the retry rules of the module docstring, then parse a 2xx with `parse`."""
        url = self._base_url + path
        what = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    data=data,
                    headers=self._headers(client_request_id),
                    timeout=self._timeouts.make(timeout),
                )
            except _NEVER_SENT as exc:
                # Never left this machine: safe to retry even a paid POST.
                why = f"{type(exc).__name__}: {exc}"
                if attempt >= self._max_attempts:
                    raise ProviderUnavailable(detail=f"{what}: {why}") from exc
            except httpx.TransportError as exc:
                why = f"{type(exc).__name__}: {exc}"
                if paid:
                    assert client_request_id is not None
                    raise SubmitOutcomeUnknown(
                        client_request_id=client_request_id, detail=f"{what}: {why}"
                    ) from exc
                if attempt >= self._max_attempts:
                    raise ProviderUnavailable(detail=f"{what}: {why}") from exc
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return await parse(response)
                    except _Malformed as exc:
                        why = f"unusable {status} body: {exc}"
                        if paid:
                            assert client_request_id is not None
                            raise SubmitOutcomeUnknown(
                                client_request_id=client_request_id,
                                http_status=status,
                                detail=f"{what}: {why}",
                            ) from None
                        if attempt >= self._max_attempts:
                            raise ProviderUnavailable(
                                http_status=status, detail=f"{what}: {why}"
                            ) from None
                elif status == 429 or status >= 500:
                    error = _error_for_response(response, on_poll=on_poll)
                    if paid and status not in (429, 503):
                        assert client_request_id is not None
                        raise SubmitOutcomeUnknown(
                            client_request_id=client_request_id,
                            http_status=status,
                            provider_message=error.provider_message,
                            request_id=error.request_id,
                            detail=f"{what}: HTTP {status} after the request was sent",
                        )
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    why = f"HTTP {status}"
                    if attempt >= self._max_attempts or (
                        retry_after is not None and retry_after > self._max_retry_after
                    ):
                        raise error
                else:
                    raise _error_for_response(response, on_poll=on_poll)
            delay = self._delay(attempt, retry_after)
            log.info("%s: %s; attempt %d, retrying in %.2fs", what, why, attempt, delay)
            await self._sleep(delay)

    def _parse_submission(self, response: httpx.Response, client_request_id: str) -> Submission:
        data = _json(response)
        if not isinstance(data, dict):
            raise _Malformed("submit body is not an object")
        generation_id = (
            _str(data.get("id"))
            or _str(data.get("generation_id"))
            or _str(response.headers.get("x-inference-id"))
        )
        if generation_id is None:
            message, request_id, code = _envelope(response)
            if code is not None and code >= 400:
                raise error_for_status(code, message, request_id)
            raise _Malformed("submit answered without an id")
        status = _str(data.get("status")) or "queued"
        if status.lower() == "error":
            raise GenerationFailed(
                provider_message=error_text(data.get("error")),
                detail=f"submit of {generation_id} answered status error",
            )
        usage = _dict(_dict(data.get("meta")).get("usage"))
        credits = _number(usage.get("credits_used"))
        usd = _number(usage.get("usd_spent"))
        if credits is None:
            credits = _number(response.headers.get("x-aimlapi-credits-used"))
        if usd is None:
            usd = _number(response.headers.get("x-aimlapi-usd-spent"))
        return Submission(generation_id, status, credits, usd, client_request_id)

    async def _parse_sync_audio(self, response: httpx.Response) -> SyncAudio:
        data = _json(response)
        if not isinstance(data, dict):
            raise _Malformed("generate body is not an object")
        check_base_resp(data)
        payload = _dict(data.get("data"))
        audio = payload.get("audio")
        trace_id = _str(data.get("trace_id"))
        if not isinstance(audio, str) or not audio:
            state = payload.get("status")
            raise GenerationFailed(detail=f"music-01 answered without audio (data.status={state})")
        if audio.startswith(("https://", "http://")):
            raw = await self._fetch_small(audio)
        else:
            try:
                raw = decode_hex_audio(audio)
            except HexDecodeError as exc:
                raise GenerationFailed(detail=f"music-01 audio is not clean hex: {exc}") from None
        fmt = sniff_audio_format(raw[:16])
        if fmt is None:
            raise GenerationFailed(detail="music-01 audio is not a known audio format")
        extra = _dict(data.get("extra_info"))
        duration_ms = _number(extra.get("music_duration")) or _number(extra.get("audio_length"))
        rate = _int(extra.get("music_sample_rate")) or _int(extra.get("audio_sample_rate"))
        return SyncAudio(
            data=raw,
            format=fmt,
            duration_seconds=duration_ms / 1000 if duration_ms else None,
            sample_rate=rate or None,
            trace_id=trace_id,
        )

    async def _fetch_small(self, url: str) -> bytes:
        """Fetch a result URL into memory (music-01 with url output), capped, without auth."""
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="songbot-aimlapi-"))
        try:
            got = await self.download(url, folder / "audio")
            return await asyncio.to_thread(got.path.read_bytes)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
