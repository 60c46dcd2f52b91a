"""Reading the provider's answers: error envelopes, poll bodies, request-log rows.

Why apart from the client: these are the provider's quirks in the shapes of its answers (an
error envelope with `statusCode` a string or a number, poll statuses beyond the documented four,
MiniMax's `base_resp` inside a 2xx, the answers that mean a model was retired: `model_gone`),
testable without any HTTP.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx

from bot.aimlapi.errors import (
    ContentRejected,
    GenerationFailed,
    InvalidApiKey,
    InvalidRequest,
    ModelUnavailable,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnknownGeneration,
)
from bot.aimlapi.types import (
    ChatAnswer,
    GenerationStatus,
    LogEntry,
    PollResult,
)

log = logging.getLogger(__name__)

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
# "model not available on your plan" in the official MiniMax CLI (aimlapi.md §8, M5).
_MODEL_CODES: Final = frozenset({2061})
# 4xx statuses whose text may say the model is gone (403 too: "not available to this key").
_MODEL_STATUSES: Final = frozenset({400, 403, 404, 410, 422})
# A message that says the model itself is unknown or withdrawn, in the words gateways use.
_MODEL_WORDS: Final = re.compile(
    r"\bmodel\b[^.\n]{0,80}?\b(not found|not exist|does ?n[o']t exist|unknown|not supported|"
    r"unsupported|not available|unavailable|deprecated|retired|discontinued|no longer)"
    r"|\b(unknown|unsupported|invalid|deprecated|retired|discontinued) model\b",
    re.IGNORECASE,
)
# A 404 that names no resource: the route itself is gone ("Not Found", or NestJS's
# "Cannot POST /v2/generate/audio/minimax/upload").
_BARE_404: Final = re.compile(r"(not found|cannot (get|post|put|patch|delete) /\S*)\.?", re.I)


class Malformed(Exception):
    """A 2xx body we cannot use (not JSON, missing fields): retried on free calls only."""


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than Python's parser goes (#24.9).
        raise Malformed(f"not JSON: {exc}") from None


def as_number(value: object) -> float | None:
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


def as_int(value: object) -> int | None:
    number = as_number(value)
    return int(number) if number is not None else None


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_text(error: object) -> str | None:
    """Readable text from the provider's opaque `error`: message, detail[].msg, or name."""
    if isinstance(error, str):
        return error.strip() or None
    if not isinstance(error, dict):
        return None
    message = as_str(error.get("message"))
    if message:
        return message
    detail = error.get("detail")
    if isinstance(detail, str) and detail.strip():
        return detail.strip()
    if isinstance(detail, list):
        parts = [
            item if isinstance(item, str) else as_str(as_dict(item).get("msg")) for item in detail
        ]
        joined = "; ".join(p for p in parts if p)
        if joined:
            return joined
    return as_str(error.get("name"))


def envelope(response: httpx.Response) -> tuple[str | None, str | None, int | None]:
    """(message, requestId, statusCode) of an error body; statusCode may be a string."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return (text[:500] or None), None, None
    if not isinstance(data, dict):
        return (response.text.strip()[:500] or None), None, None
    message = data.get("message")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    if not isinstance(message, str):
        message = error_text(data.get("error"))
    if not message:
        message = foreign_reason(data)
    return (message or None), as_str(data.get("requestId")), as_int(data.get("statusCode"))


def foreign_reason(data: Mapping[str, Any]) -> str | None:
    """Whatever an error body outside the provider's envelope says, in one bounded line.

    Why: a proxy or validator in front of the API (an RFC 7807 problem with `title`, `detail`
    and `validation[]`, say) must not leave the log with an empty reason.
    """
    parts = [str(data[k]) for k in ("title", "detail") if isinstance(data.get(k), str)]
    for item in data.get("validation") or data.get("errors") or []:
        if isinstance(item, Mapping):
            where = item.get("location") or item.get("path") or item.get("loc")
            place = ".".join(str(x) for x in where) if isinstance(where, list) else str(where)
            parts.append(f"{place}: {item.get('message') or item.get('msg') or item.get('code')}")
    text = "; ".join(parts) if parts else json.dumps(data, ensure_ascii=False)
    return text[:500] or None


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent/garbled."""
    if value is None or not value.strip():
        return None
    number = as_number(value.strip())
    if number is not None:
        return max(0.0, number)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def model_gone(model: str, status: int, message: str | None) -> bool:
    """Whether a 4xx answer to a call that names `model` says the model itself is gone.

    The classification (tests/test_model_retired.py), for music-01's two routes, the only
    calls made with a `model` here (upload and generate):

    * **410** Gone, whatever the text: permanent by definition.
    * **404 with no resource named**: an empty text, "Not Found" or NestJS's "Cannot POST
      /v2/generate/audio/minimax/…". These paths carry no ids, so the route (the model) is what
      is missing. A 404 whose text names something else (a voice or file id) is not this.
    * **400, 403, 404, 422 whose text says the model is unknown or withdrawn**: "model not
      found", "Model 'music-01' does not exist", "unknown model", "model … deprecated / retired
      / no longer available / not available", or the gateway's Zod enum error for the `model`
      field that shows our own value refused (`Invalid enum value. Expected …, received
      'music-01'`): the route exists but the model left its schema.
    * MiniMax **`base_resp` 2061** ("model not available on your plan") inside a 2xx, checked
      in `check_base_resp`: this key can no longer use the model, which for the bot is the same.

    Not "gone", on purpose: 401 (the key), a 403 without such words (credits), 429, every 5xx
    (including 500 "The model is under maintenance", which is temporary and retried), other
    400/422 validation texts and `base_resp` 2013 (e.g. an expired reference id; the caller
    forgets its cached id instead). A wrong answer here would retire a working model for good,
    so only texts that name the model (or a bare 404/410 on its own route) count.
    """
    if status == 410:
        return True
    if status not in _MODEL_STATUSES:
        return False
    text = " ".join((message or "").split())
    if status == 404 and (not text or _BARE_404.fullmatch(text)):
        return True
    if _MODEL_WORDS.search(text):
        return True
    quoted = re.escape(model)
    return bool(
        re.search(rf"received\s+['\"]?{quoted}['\"]?", text)
        and re.search(r"\bmodel\b", text, re.IGNORECASE)
    )


def error_for_status(
    status: int,
    message: str | None,
    request_id: str | None,
    *,
    retry_after: float | None = None,
    on_poll: bool = False,
    model: str | None = None,
) -> ProviderError:
    """Map an HTTP error status (with the envelope's message) to our error classes.

    `model`: the call names this model (music-01's routes); see `model_gone`.
    """
    common: dict[str, Any] = {
        "provider_message": message,
        "http_status": status,
        "request_id": request_id,
    }
    if model is not None and model_gone(model, status, message):
        return ModelUnavailable(model=model, detail=f"HTTP {status}: {message or ''}", **common)
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


def error_for_response(
    response: httpx.Response, *, on_poll: bool = False, model: str | None = None
) -> ProviderError:
    message, request_id, _ = envelope(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error_for_status(
        response.status_code,
        message,
        request_id,
        retry_after=retry_after,
        on_poll=on_poll,
        model=model,
    )


def check_base_resp(data: Mapping[str, Any], *, model: str | None = None) -> None:
    """MiniMax reports failures inside a 2xx: `base_resp.status_code != 0`.

    `model`: the call names this model; 2061 then means it is gone (see `model_gone`).
    """
    base = data.get("base_resp")
    if not isinstance(base, dict):
        return
    code = as_int(base.get("status_code"))
    if code is None or code == 0:
        return
    message = as_str(base.get("status_msg")) or f"MiniMax error {code}"
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
    if code in _MODEL_CODES and model is not None:
        raise ModelUnavailable(model=model, detail=detail, provider_message=message)
    if code in _SERVER_CODES:
        raise ProviderUnavailable(detail=detail, provider_message=message)
    raise GenerationFailed(detail=detail, provider_message=message)


def parse_poll(generation_id: str, data: object) -> PollResult:
    """A poll body as a `PollResult`; unknown statuses are pending, completed needs a URL."""
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise Malformed("poll body without a status")
    raw = data["status"]
    word = raw.strip().lower()
    audio = as_dict(data.get("audio_file"))
    extra = as_dict(data.get("extra_info"))
    url = as_str(audio.get("url"))
    error: str | None = None
    error_key: str | None = None
    if word == "completed":
        status = GenerationStatus.COMPLETED
        if url is None:
            status = GenerationStatus.ERROR
            error = "the provider reported the song as completed but gave no audio URL"
            error_key = "diagnosis_no_audio"
    elif word == "error" or word == "failed":
        status = GenerationStatus.ERROR
        error = error_text(data.get("error"))
        if error is None:
            error = "the provider reported a failed generation"
            error_key = "diagnosis_failed_no_reason"
    else:
        status = _PENDING_WORDS.get(word, GenerationStatus.PENDING_UNKNOWN)
    duration_ms = as_number(extra.get("music_duration"))
    size = as_int(audio.get("file_size")) or as_int(extra.get("music_size")) or None
    return PollResult(
        generation_id=as_str(data.get("id")) or generation_id,
        status=status,
        raw_status=raw,
        audio_url=url if status is GenerationStatus.COMPLETED else None,
        error_text=error,
        error_key=error_key,
        duration_seconds=duration_ms / 1000 if duration_ms else None,
        sample_rate=as_int(extra.get("music_sample_rate")) or None,
        size_bytes=size,
        content_type=as_str(audio.get("content_type")),
        file_name=as_str(audio.get("file_name")),
        credits_used=as_number(
            as_dict(as_dict(data.get("meta")).get("usage")).get("credits_used")
        ),
    )


def log_entry(row: Mapping[str, Any]) -> LogEntry:
    cost = as_dict(row.get("cost"))
    return LogEntry(
        client_request_id=as_str(row.get("client_request_id")),
        inference_id=as_str(row.get("inference_id")),
        request_id=as_str(row.get("request_id")),
        status=as_str(row.get("status")) or "unknown",
        credits=as_number(cost.get("credits")),
        usd=as_number(cost.get("usd")),
        created_at=as_str(row.get("created")) or as_str(row.get("created_at")),
        model=as_str(row.get("model")),
    )


def parse_logs(data: object, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Rows and "is there another page" from `{"data": [...], "pagination": {...}}` or a list."""
    if isinstance(data, list):
        rows = data
        has_more = len(rows) >= limit
    elif isinstance(data, dict) and isinstance(data.get("data"), list):
        rows = data["data"]
        more = as_dict(data.get("pagination")).get("has_more")
        has_more = more if isinstance(more, bool) else len(rows) >= limit
    else:
        raise Malformed("logs body is neither a list nor {data: [...]}")
    return [r for r in rows if isinstance(r, dict)], has_more


def parse_chat(data: object, model: str) -> ChatAnswer:
    """`choices[0].message` and `usage` of an OpenAI-shaped chat completion.

    Missing usage counts as 0 tokens (some providers omit it); a body without `choices[0]`
    is `Malformed` (the caller decides whether that may be retried).
    """
    if not isinstance(data, dict):
        raise Malformed("chat completion body is not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Malformed("chat completion without choices[0]")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise Malformed("chat completion without choices[0].message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise Malformed("choices[0].message.content is not a string")
    refusal = message.get("refusal")
    usage = as_dict(data.get("usage"))

    def tokens(name: str) -> int:
        value = as_int(usage.get(name))
        return max(0, value) if value is not None else 0

    prompt, completion = tokens("prompt_tokens"), tokens("completion_tokens")
    return ChatAnswer(
        content=content,
        refusal=refusal if isinstance(refusal, str) and refusal.strip() else None,
        finish_reason=as_str(choices[0].get("finish_reason")),
        model=as_str(data.get("model")) or model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=tokens("total_tokens") or prompt + completion,
    )
