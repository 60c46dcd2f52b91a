"""A strict local fake of the AI/ML API music endpoints: a real HTTP server on 127.0.0.1.

Why a real server: the client is tested through real sockets (timeouts, dropped connections,
multipart), and `songbot demo` runs the whole bot against it with no network and no key.

It behaves like the provider as documented in `shared/spec/aimlapi.md`:
* auth on every API route (401 with the exact envelope and message of §2.5), 404 for unknown
  routes or methods, 400 "Body validation error" for every MUST-tier violation of §9 (Zod-like
  detail lines; lengths in UTF-16 units; unknown extra keys are ignored, as Zod strips them);
  the SHOULD tier (prose-only limits) only with `strict=True`;
* async models walk queued → generating → completed | error over `generation_seconds` (or a
  number of polls), and serve the audio they announce at `/files/<token>.<ext>?Expires=…`
  (real MP3/WAV bytes from `audio_fixtures`), with no auth, like a CDN;
* music-01 upload (multipart) and synchronous generate (hex audio, `base_resp`);
* a retired model (`retire_model`): its calls refused as "model not found" (or 410, a removed
  route, a Zod enum error, MiniMax 2061) and its id gone from `GET /v1/models`;
* `GET /v2/logs` as documented (window via `period` or `start`+`end`, `limit`/`offset`,
  `status`/`model` filters, `{data, pagination}`), one row per paid request, carrying the
  `X-Client-Request-Id` the client sent;
* `POST /v1/chat/completions`, OpenAI-shaped (request checked strictly: `model` a known chat
  model, `messages` of `{role, content}`, `response_format` `json_object` — which, as at OpenAI,
  needs the word "json" in the messages — or `json_schema`, `max_tokens`, `temperature`), with
  answers scripted by `script_chat()` (content, refusal, finish reason, usage) or, unscripted, a
  short song about the idea as a JSON object.

Control API for tests: `script()` queues faults per route, `set_outcome()` shapes the next
generations, `requests` records everything sent (headers, JSON, multipart parts).
No pytest in here: the demo uses it from a plain script.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import io
import json
import math
import re
import secrets
import socket
import string
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from songbot_fakes.audio_fixtures import make_audio

DEFAULT_API_KEY: Final = "test-aimlapi-key"
MSG_401: Final = (
    "This request requires a valid API key. You can create a new API key on the Billing page: "
    "https://aimlapi.com/app/keys"
)
MSG_403: Final = (
    "You've run out of credits. Please top up your balance or update your payment method to "
    "continue: https://aimlapi.com/app/billing/"
)
STATUS_MESSAGES: Final[dict[int, str]] = {
    400: "Body validation error",
    401: MSG_401,
    403: MSG_403,
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service unavailable",
    504: "Generation timeout",
}
ASYNC_MODELS: Final = (
    "minimax/music-2.0",
    "minimax/music-2.6",
    "minimax/music-1.5",
    "minimax/music-cover",
    "stable-audio",
    "google/lyria2",
    "elevenlabs/eleven_music",
    "minimax-music",
)
_EXPIRED_XML: Final = (
    "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
)
WAV_MODELS: Final = frozenset({"stable-audio", "google/lyria2"})
# credits per request (2,000,000 credits = 1 USD, aimlapi.md §7)
CREDITS: Final[dict[str, int]] = {
    "minimax/music-2.0": 120_000,
    "minimax/music-2.6": 390_000,
    "minimax/music-cover": 390_000,
    "minimax/music-1.5": 300_000,
    "minimax-music": 73_500,
    "music-01": 63_000,
    "stable-audio": 100_000,
    "google/lyria2": 120_000,
    "elevenlabs/eleven_music": 400_000,
}
CLIENT_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NANOID_ALPHABET: Final = string.ascii_letters + string.digits + "_-"
ROUTES: Final = (
    "POST /v2/generate/audio",
    "GET /v2/generate/audio",
    "POST /v2/generate/audio/minimax/upload",
    "POST /v2/generate/audio/minimax/generate",
    "GET /v2/logs",
    "GET /files",
    "POST /v1/chat/completions",
    "GET /v1/models",
)
MUSIC_MODEL_IDS: Final = frozenset(
    {
        "music-01",
        "minimax/music-1.5",
        "minimax/music-2.0",
        "minimax/music-2.6",
        "minimax/music-cover",
        "stable-audio",
        "google/lyria2",
        "elevenlabs/eleven_music",
        "minimax-music",
    }
)
CHAT_MODELS: Final = frozenset(
    {"gpt-4o-mini", "gpt-4o", "openai/gpt-4.1-mini", "openai/gpt-4.1-nano", "openai/gpt-5-mini"}
)
CHAT_ROLES: Final = frozenset({"system", "developer", "user", "assistant"})
PAID_ROUTES: Final = frozenset({ROUTES[0], ROUTES[3]})
RETIRED_ANSWERS: Final = ("not_found", "gone", "route", "enum", "plan")


def nanoid(size: int = 21) -> str:
    return "".join(secrets.choice(NANOID_ALPHABET) for _ in range(size))


def js_len(text: str) -> int:
    """JavaScript `String.length` (UTF-16 code units), which Zod's min/max count."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _iso(epoch: float) -> str:
    stamp = datetime.fromtimestamp(epoch, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# Records and control objects
# ---------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the fake received it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    query_all: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    json: Any | None
    form: dict[str, str]
    files: dict[str, tuple[str, str, bytes]]  # name -> (filename, content_type, bytes)
    time: float
    route: str | None
    status: int | None = None  # the status answered; 0 when the connection was dropped
    charged: bool = False  # a generation was created and billed for this request

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Fault:
    route: str
    status: int
    times: int | None
    retry_after: float | None
    body: str | bytes | dict[str, Any] | None
    delay: float
    drop_connection: bool
    process: bool


@dataclass(frozen=True)
class Outcome:
    """How the next generations end; see `FakeAimlApi.set_outcome`."""

    fail: str | None = None
    fail_name: str = "GenerationError"
    fail_detail: bool = False  # `error: {detail: [{msg}]}` instead of `{name, message}`
    never_complete: bool = False
    base_resp_code: int | None = None
    base_resp_msg: str | None = None
    unknown_status: str | None = None
    expire_audio: bool = False
    completed_without_url: bool = False
    generation_seconds: float | None = None
    duration_fn: Callable[[dict[str, Any]], float] | None = None


@dataclass
class FakeGeneration:
    id: str
    model: str
    body: dict[str, Any]
    created_at: float  # time.monotonic()
    created_epoch: float
    client_request_id: str | None
    outcome: Outcome
    generation_seconds: float
    audio: bytes = b""
    audio_format: str = "mp3"
    file_token: str = ""
    status: str = "queued"
    completed_at: float | None = None
    poll_count: int = 0
    credits: int = 0
    expires_epoch: float = 0.0
    trace_id: str = ""

    @property
    def usd(self) -> float:
        return self.credits / 2_000_000


@dataclass
class LogRow:
    created_epoch: float
    model: str
    request_id: str
    inference_id: str
    client_request_id: str | None
    credits: int
    generation: FakeGeneration | None
    failed: bool = False

    def status(self) -> str:
        if self.failed or (self.generation is not None and self.generation.status == "error"):
            return "failed"
        return "succeeded"

    def as_json(self) -> dict[str, Any]:
        ok = self.status() == "succeeded"
        credits = self.credits if ok else 0
        return {
            "created": _iso(self.created_epoch),
            "status": self.status(),
            "origin": "api",
            "model": self.model,
            "cost": {"usd": credits / 2_000_000, "credits": credits},
            "tokens": {"input": 0, "output": 0, "total": 0},
            "request_id": self.request_id,
            "inference_id": self.inference_id,
            "client_request_id": self.client_request_id,
        }


class _Invalid(Exception):
    """A 400 body validation failure with Zod-like detail lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Body schemas (written from shared/spec/aimlapi/*.json, independently of the client registry)
# ---------------------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass(frozen=True)
class Rule:
    """One body field. `strict_*` limits are the SHOULD tier, applied only with strict=True."""

    kind: str  # string | integer | boolean | uri | object
    required: bool = False
    min_len: int | None = None
    max_len: int | None = None
    strict_min_len: int | None = None
    strict_max_len: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[object, ...] | None = None


def _is_js_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value == int(value)


def _check_rule(name: str, rule: Rule, value: object, strict: bool) -> list[str]:
    at = f' at "{name}"'
    if rule.kind in ("string", "uri"):
        if not isinstance(value, str):
            return [f"Expected string, received {_type_name(value)}{at}"]
        length = js_len(value)
        low = rule.strict_min_len if strict and rule.strict_min_len is not None else rule.min_len
        high = rule.strict_max_len if strict and rule.strict_max_len is not None else rule.max_len
        # The provider counts UTF-16 units (Zod); JSON Schema validators in front of the same
        # API count code points. A string must satisfy both: six emoji are 12 units, 6 points.
        if low is not None and min(length, len(value)) < low:
            return [f"String must contain at least {low} character(s){at}"]
        if high is not None and length > high:
            return [f"String must contain at most {high} character(s){at}"]
        if rule.kind == "uri" and not _is_uri(value):
            return [f"Invalid url{at}"]
        if rule.enum is not None and value not in rule.enum:
            return [_enum_message(rule.enum, value, at)]
        return []
    if rule.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"Expected number, received {_type_name(value)}{at}"]
        if not _is_js_integer(value):
            return [f"Expected integer, received float{at}"]
        if rule.enum is not None and value not in rule.enum:
            return [_enum_message(rule.enum, value, at)]
        if rule.minimum is not None and value < rule.minimum:
            return [f"Number must be greater than or equal to {rule.minimum:g}{at}"]
        if rule.maximum is not None and value > rule.maximum:
            return [f"Number must be less than or equal to {rule.maximum:g}{at}"]
        return []
    if rule.kind == "boolean":
        return (
            []
            if isinstance(value, bool)
            else [f"Expected boolean, received {_type_name(value)}{at}"]
        )
    if rule.kind == "object":
        return (
            []
            if isinstance(value, dict)
            else [f"Expected object, received {_type_name(value)}{at}"]
        )
    raise AssertionError(rule.kind)


def _enum_message(options: tuple[object, ...], value: object, at: str) -> str:
    expected = " | ".join(f"'{o}'" if isinstance(o, str) else str(o) for o in options)
    return f"Invalid enum value. Expected {expected}, received '{value}'{at}"


def _is_uri(value: str) -> bool:
    """Like JavaScript's `new URL(value)`: an absolute URI; http(s) needs a host."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) is None or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname)
    return True


_SAMPLE_RATES: Final = (16000, 24000, 32000, 44100)
_BITRATES: Final = (32000, 64000, 128000, 256000)
_FORMATS: Final = ("mp3", "wav", "pcm")
_AUDIO_SETTING_RULES: Final[dict[str, Rule]] = {
    "sample_rate": Rule("integer", enum=_SAMPLE_RATES),
    "audio_sample_rate": Rule("integer", enum=_SAMPLE_RATES),
    "bitrate": Rule("integer", enum=_BITRATES),
    "format": Rule("string", enum=_FORMATS),
}

SCHEMAS: Final[dict[str, dict[str, Rule]]] = {
    "minimax/music-2.0": {
        "prompt": Rule("string", required=True, min_len=10, max_len=2000),
        "lyrics": Rule("string", required=True, min_len=10, max_len=3000),
        "audio_setting": Rule("object"),
    },
    "minimax/music-1.5": {
        "prompt": Rule("string", required=True, min_len=10, max_len=300),
        "lyrics": Rule("string", required=True, min_len=10, max_len=3000),
        "audio_setting": Rule("object"),
    },
    "minimax/music-2.6": {
        "prompt": Rule("string", max_len=2000, strict_min_len=10),
        "lyrics": Rule("string", max_len=3000, strict_min_len=10),
        "audio_setting": Rule("object"),
        "lyrics_optimizer": Rule("boolean"),
        "is_instrumental": Rule("boolean"),
    },
    "minimax/music-cover": {
        "prompt": Rule("string", required=True, min_len=10, max_len=2000),
        "reference_audio_url": Rule("uri", required=True),
        "lyrics": Rule("string", min_len=10, max_len=3000),
        "audio_setting": Rule("object"),
    },
    "stable-audio": {
        "prompt": Rule("string", required=True),
        "seconds_start": Rule("integer", minimum=1, maximum=47),
        "seconds_total": Rule("integer", minimum=1, maximum=47),
        "steps": Rule("integer", minimum=1, maximum=1000),
    },
    "google/lyria2": {
        "prompt": Rule("string", required=True, strict_max_len=600),
        "negative_prompt": Rule("string"),
        "seed": Rule("integer", minimum=0),
    },
    "elevenlabs/eleven_music": {
        "prompt": Rule("string", required=True, max_len=2000),
        "music_length_ms": Rule("integer", minimum=10000, maximum=300000),
    },
    "minimax-music": {
        "prompt": Rule("string", required=True, strict_max_len=600),
        "reference_audio_url": Rule("uri", required=True),
    },
    "music-01": {
        "lyrics": Rule("string", required=True, strict_max_len=600),
        "refer_voice": Rule("string"),
        "refer_instrumental": Rule("string"),
        "audio_setting": Rule("object"),
    },
}
# audio_setting.format: required by the music-01 schema (MUST) and by the seed/Jan-2026
# music-2.0 and older music-1.5 schemas (SHOULD: the current docs dropped it).
_FORMAT_REQUIRED: Final = {
    "music-01": "must",
    "minimax/music-2.0": "should",
    "minimax/music-1.5": "should",
}


def validate_body(model: str, body: Mapping[str, Any], *, strict: bool) -> list[str]:
    """Zod-style problems with `body` for `model` (empty when it would be accepted)."""
    schema = SCHEMAS[model]
    problems: list[str] = []
    for name, rule in schema.items():
        if name not in body or body[name] is None:
            if rule.required:
                problems.append(f'Required at "{name}"')
            continue
        problems.extend(_check_rule(name, rule, body[name], strict))
    setting = body.get("audio_setting")
    if isinstance(setting, dict):
        for key, rule in _AUDIO_SETTING_RULES.items():
            if key in setting:
                problems.extend(_check_rule(f"audio_setting.{key}", rule, setting[key], strict))
        need = _FORMAT_REQUIRED.get(model)
        if "format" not in setting and (need == "must" or (need == "should" and strict)):
            problems.append('Required at "audio_setting.format"')
    return problems


# ---------------------------------------------------------------------------------------------
# Multipart (parsed by hand so the raw body stays recorded byte for byte)
# ---------------------------------------------------------------------------------------------


def _header_params(value: str) -> Message:
    msg = Message()
    msg["content-type"] = value
    return msg


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """Fields and files of a multipart/form-data body; raises ValueError when malformed."""
    boundary = _header_params(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("no multipart boundary")
    delimiter = b"--" + boundary.encode()
    if not body.startswith(delimiter):
        raise ValueError("body does not start with the boundary")
    form: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    chunks = (b"\r\n" + body).split(b"\r\n" + delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if not chunk.startswith(b"\r\n"):
            raise ValueError("malformed part")
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = Message()
        disposition["content-disposition"] = headers.get("content-disposition", "")
        name = disposition.get_param("name", header="content-disposition")
        filename = disposition.get_param("filename", header="content-disposition")
        if isinstance(filename, tuple):
            filename = collapse_rfc2231_value(filename)
        if not isinstance(name, str):
            raise ValueError("part without a name")
        if isinstance(filename, str):
            part_type = headers.get("content-type", "application/octet-stream")
            files[name] = (filename, part_type, content)
        else:
            form[name] = content.decode("utf-8", "replace")
    return form, files


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    return None


def _audio_seconds(data: bytes) -> float | None:
    import mutagen  # local: only strict uploads need it

    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many types on garbage
        return None
    if parsed is None or getattr(parsed, "info", None) is None:
        return None
    length = getattr(parsed.info, "length", None)
    return float(length) if isinstance(length, int | float) else None


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class FakeAimlApi:
    """See the module docstring. Start with `await fake.start()` (or `async with`)."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        strict: bool = False,
        generation_seconds: float = 0.3,
        polls_until_done: int | None = None,
        audio_format_by_model: Mapping[str, str] | None = None,
        audio_seconds: float = 3.0,
        id_style: str = "nanoid",
        submit_status: int = 200,
        no_credit_keys: Collection[str] = (),
        upload_reject_status: int = 200,
        audio_url_ttl: float = 86_400.0,
    ) -> None:
        self.api_key = api_key
        self.strict = strict
        self.generation_seconds = generation_seconds
        self.polls_until_done = polls_until_done
        self.audio_format_by_model = dict(audio_format_by_model or {})
        self.audio_seconds = audio_seconds
        self.id_style = id_style
        self.submit_status = submit_status
        self.no_credit_keys = frozenset(no_credit_keys)
        self.upload_reject_status = upload_reject_status
        self.audio_url_ttl = audio_url_ttl
        # Hostile file hosting (#17.8): answer result URLs with a redirect to this URL, or send
        # the body one byte per `file_drip_seconds`.
        self.file_redirect: str | None = None
        # What GET /v1/models lists (a model can be retired by removing it from this set).
        self.listed_models: set[str] = {*MUSIC_MODEL_IDS, *CHAT_MODELS}
        # Models the provider no longer serves, and how it says so (see `retire_model`).
        self.retired_models: dict[str, str] = {}
        self.file_drip_seconds: float | None = None
        self.generation_time_fn: Callable[[dict[str, Any]], float] | None = None
        self.requests: list[RecordedRequest] = []
        self.generations: dict[str, FakeGeneration] = {}
        self.completed_at: dict[str, float] = {}
        self.log_rows: list[LogRow] = []
        self.uploaded_ids: set[str] = set()
        self._faults: deque[Fault] = deque()
        self._outcome = Outcome()
        self._by_token: dict[str, FakeGeneration] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._counter = 0
        self._routes: dict[
            str, Callable[[web.Request, RecordedRequest], Awaitable[web.StreamResponse]]
        ]
        self._routes = {
            ROUTES[0]: self._submit,
            ROUTES[1]: self._poll,
            ROUTES[2]: self._upload,
            ROUTES[3]: self._generate,
            ROUTES[4]: self._logs,
            ROUTES[5]: self._file,
            ROUTES[6]: self._chat,
            ROUTES[7]: self._models,
        }
        self.chat_models = set(CHAT_MODELS)
        self._chat_replies: deque[ChatReply] = deque()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeAimlApi is not started")
        return self._base_url

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:`port` (0 = any free port)."""
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        self._stopping.set()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAimlApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- control API -------------------------------------------------------------------------

    def script(
        self,
        route: str,
        *,
        status: int = 500,
        times: int | None = 1,
        retry_after: float | None = None,
        body: str | bytes | dict[str, Any] | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        process: bool = False,
    ) -> None:
        """Make the next `times` requests to `route` (e.g. "POST /v2/generate/audio") misbehave.

        Without `process`, the request is recorded but not handled: after `delay` the fake
        answers `status` (the provider's envelope unless `body` is given; `retry_after` adds
        that header) or, with `drop_connection`, closes the socket without answering. With
        `process=True` it is handled normally first (a submit is created and charged) and
        only then delayed or dropped: the "reached the provider, answer lost" case.
        `times=None` means every request from now on.
        """
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {', '.join(ROUTES)}")
        self._faults.append(
            Fault(route, status, times, retry_after, body, delay, drop_connection, process)
        )

    def script_chat(
        self,
        content: str | None = None,
        *,
        refusal: str | None = None,
        finish_reason: str = "stop",
        usage: tuple[int, int] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` chat completions answer with this `content` (None: no content),
        `refusal` and `finish_reason`; `usage` is (prompt, completion) tokens, else estimated.
        Unscripted completions write a short song about the idea."""
        for _ in range(times):
            self._chat_replies.append(ChatReply(content, refusal, finish_reason, usage))

    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to("POST /v1/chat/completions")

    def retire_model(self, model: str, answer: str = "not_found") -> None:
        """The provider stops serving `model` (music-01's upload and generate routes included,
        for music-01) and drops it from `GET /v1/models`. How a refused call is answered:

        not_found: 404 envelope "Model not found"; gone: 410; route: 404 "Cannot POST <path>"
        (the route was removed); enum: 400 "Body validation error" with Zod's enum message for
        `model` (the upload route, which has no model field, answers as `route`); plan: HTTP 200
        with MiniMax `base_resp` 2061 "model not available on your plan" (music-01 only).
        Nothing refused is charged or logged.
        """
        if answer not in RETIRED_ANSWERS:
            raise ValueError(f"unknown answer {answer!r}; one of {', '.join(RETIRED_ANSWERS)}")
        self.retired_models[model] = answer
        self.listed_models.discard(model)

    def _retired(self, model: str, path: str, method: str = "POST") -> web.Response | None:
        """The refusal of a call to a retired model, or None while it is served."""
        answer = self.retired_models.get(model)
        if answer is None:
            return None
        if answer == "enum" and path.endswith("/upload"):
            answer = "route"
        if answer == "not_found":
            return self._error(404, path, "Model not found")
        if answer == "gone":
            return self._error(410, path, f"The model {model} is no longer available")
        if answer == "route":
            return self._error(404, path, f"Cannot {method} {path}")
        if answer == "plan":
            return self._base_resp(2061, "model not available on your plan")
        served = tuple(m for m in (*ASYNC_MODELS, "music-01") if m not in self.retired_models)
        return self._invalid(path, [_enum_message(served, model, ' at "model"')])

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_outcome(
        self,
        *,
        fail: str | None = None,
        fail_name: str = "GenerationError",
        fail_detail: bool = False,
        never_complete: bool = False,
        base_resp_code: int | None = None,
        base_resp_msg: str | None = None,
        unknown_status: str | None = None,
        expire_audio: bool = False,
        completed_without_url: bool = False,
        generation_seconds: float | None = None,
        duration_fn: Callable[[dict[str, Any]], float] | None = None,
    ) -> None:
        """Shape every generation created from now on (each call replaces the previous one).

        fail: end in `status: error` with this message (music-01: base_resp 1000).
        base_resp_code: music-01 upload/generate answer HTTP 200 with this MiniMax code.
        unknown_status: polls say this word instead of queued/generating while pending.
        expire_audio: the announced audio URL answers 403 (expired signature).
        duration_fn: seconds of audio to make, from the request body.
        """
        self._outcome = Outcome(
            fail=fail,
            fail_name=fail_name,
            fail_detail=fail_detail,
            never_complete=never_complete,
            base_resp_code=base_resp_code,
            base_resp_msg=base_resp_msg,
            unknown_status=unknown_status,
            expire_audio=expire_audio,
            completed_without_url=completed_without_url,
            generation_seconds=generation_seconds,
            duration_fn=duration_fn,
        )

    def audio_for(self, generation_id: str) -> bytes:
        """The exact bytes served (or hex-encoded) for this generation."""
        return self.generations[generation_id].audio

    def audio_url_for(self, generation_id: str) -> str:
        gen = self.generations[generation_id]
        ext = "wav" if gen.audio_format == "wav" else "mp3"
        return f"{self.base_url}/files/{gen.file_token}.{ext}?Expires={int(gen.expires_epoch)}"

    def paid_submissions(self, client_request_id: str | None = None) -> list[RecordedRequest]:
        """Charged submits/generates, optionally only those carrying this X-Client-Request-Id."""
        return [
            r
            for r in self.requests
            if r.charged
            and (client_request_id is None or r.header("x-client-request-id") == client_request_id)
        ]

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    def complete_now(self, generation_id: str) -> None:
        """Finish a pending generation immediately (as its outcome says)."""
        self._finish(self.generations[generation_id])

    # --- dispatch ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = self._record(request, body)
        fault = self._take_fault(record.route)
        if fault is not None and not fault.process:
            await self._pause(fault.delay)
            if fault.drop_connection:
                return self._drop(request, record)
            response: web.StreamResponse = self._fault_response(fault, request.path)
        else:
            response = await self._handle(request, record)
            if fault is not None:
                await self._pause(fault.delay)
                if fault.drop_connection:
                    return self._drop(request, record)
        record.status = response.status
        return response

    async def _handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        handler = self._routes.get(record.route or "")
        if handler is None:
            return self._error(404, request.path, f"Cannot {request.method} {request.path}")
        if record.route != "GET /files" and not self._authorized(record):
            return self._error(401, request.path)
        return await handler(request, record)

    def _record(self, request: web.Request, body: bytes) -> RecordedRequest:
        headers = {k.lower(): v for k, v in request.headers.items()}
        parsed: Any | None = None
        form: dict[str, str] = {}
        files: dict[str, tuple[str, str, bytes]] = {}
        content_type = headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            with contextlib.suppress(ValueError):
                form, files = parse_multipart(content_type, body)
        elif body:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                parsed = json.loads(body)
        path = request.path
        route = f"{request.method} {path}"
        if request.method == "GET" and path.startswith("/files/"):
            route = "GET /files"
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(pairs),
            query_all=pairs,
            headers=headers,
            body=body,
            json=parsed,
            form=form,
            files=files,
            time=time.monotonic(),
            route=route if route in ROUTES else None,
        )
        self.requests.append(record)
        return record

    def _take_fault(self, route: str | None) -> Fault | None:
        for fault in self._faults:
            if fault.route == route:
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _drop(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        record.status = 0
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPNoContent()  # never reaches the client: the socket is closed

    def _fault_response(self, fault: Fault, path: str) -> web.Response:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            value = fault.retry_after
            headers["Retry-After"] = str(int(value)) if value == int(value) else str(value)
        if fault.body is None:
            return self._error(fault.status, path, headers=headers)
        if isinstance(fault.body, dict):
            return web.json_response(fault.body, status=fault.status, headers=headers)
        raw = fault.body.encode() if isinstance(fault.body, str) else fault.body
        headers["Content-Type"] = "application/json; charset=utf-8"
        return web.Response(body=raw, status=fault.status, headers=headers)

    def _error(
        self,
        status: int,
        path: str,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        envelope = {
            "message": message or STATUS_MESSAGES.get(status, "Error"),
            "path": path,
            "requestId": nanoid(),
            "statusCode": status,
            "timestamp": _iso(time.time()),
        }
        return web.json_response(envelope, status=status, headers=headers)

    def _invalid(self, path: str, problems: list[str]) -> web.Response:
        return self._error(400, path, "Body validation error\n" + "\n".join(problems))

    def _authorized(self, record: RecordedRequest) -> bool:
        scheme, _, token = (record.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return token.strip() == self.api_key or token.strip() in self.no_credit_keys

    def _out_of_credits(self, record: RecordedRequest) -> bool:
        token = (record.header("authorization") or "").partition(" ")[2].strip()
        return token in self.no_credit_keys

    # --- generation bookkeeping ----------------------------------------------------------------

    def _new_id(self, model: str) -> str:
        if self.id_style == "uuid_model":
            return (
                f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-"
                f"{secrets.token_hex(2)}-{secrets.token_hex(6)}:{model}"
            )
        return nanoid()

    async def _create(
        self, model: str, body: dict[str, Any], record: RecordedRequest
    ) -> FakeGeneration:
        outcome = self._outcome
        if outcome.generation_seconds is not None:
            seconds = outcome.generation_seconds
        elif self.generation_time_fn is not None:
            seconds = self.generation_time_fn(body)
        else:
            seconds = self.generation_seconds
        crid = record.header("x-client-request-id")
        if crid is not None and CLIENT_REQUEST_ID.fullmatch(crid) is None:
            crid = None  # the provider silently drops invalid ids
        self._counter += 1
        audio_format = self.audio_format_by_model.get(
            model, "wav" if model in WAV_MODELS else "mp3"
        )
        audio_seconds = outcome.duration_fn(body) if outcome.duration_fn else self.audio_seconds
        frequency = 220.0 + 30.0 * (self._counter % 12)
        audio = await asyncio.to_thread(make_audio, audio_format, audio_seconds, frequency)
        now = time.time()
        gen = FakeGeneration(
            id=self._new_id(model),
            model=model,
            body=body,
            created_at=time.monotonic(),
            created_epoch=now,
            client_request_id=crid,
            outcome=outcome,
            generation_seconds=seconds,
            audio=audio,
            audio_format=audio_format,
            file_token="",
            credits=CREDITS.get(model, 100_000),
            expires_epoch=now + self.audio_url_ttl,
            trace_id=secrets.token_hex(16),
        )
        # The file is named after the id (as the brief's `/files/<id>.mp3`) when the id is
        # URL-safe; "uuid:model" ids contain ':' and '/', so those get a token of their own.
        url_safe = all(c in NANOID_ALPHABET for c in gen.id)
        gen.file_token = gen.id if url_safe else nanoid()
        self.generations[gen.id] = gen
        self._by_token[gen.file_token] = gen
        record.charged = True
        self.log_rows.append(
            LogRow(now, model, nanoid(), gen.id, crid, gen.credits, generation=gen)
        )
        return gen

    def _schedule(self, gen: FakeGeneration) -> None:
        if gen.outcome.never_complete or self.polls_until_done is not None:
            return
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(gen.generation_seconds * 0.25, self._advance, gen))
        self._timers.append(loop.call_later(gen.generation_seconds, self._finish, gen))

    def _advance(self, gen: FakeGeneration) -> None:
        if gen.status == "queued":
            gen.status = "generating"

    def _finish(self, gen: FakeGeneration) -> None:
        if gen.status in ("completed", "error"):
            return
        gen.completed_at = time.monotonic()
        if gen.outcome.fail is not None:
            gen.status = "error"
        else:
            gen.status = "completed"
            self.completed_at[gen.id] = gen.completed_at

    # --- routes --------------------------------------------------------------------------------

    async def _submit(self, request: web.Request, record: RecordedRequest) -> web.Response:
        body = record.json
        if not isinstance(body, dict):
            return self._invalid(request.path, ["Expected object, received body that is not JSON"])
        model = body.get("model")
        if model not in ASYNC_MODELS:
            models = tuple(ASYNC_MODELS)
            return self._invalid(request.path, [_enum_message(models, model, ' at "model"')])
        refused = self._retired(model, request.path)
        if refused is not None:
            return refused
        problems = validate_body(model, body, strict=self.strict)
        if self.strict:
            problems.extend(self._strict_problems(model, body))
        if problems:
            return self._invalid(request.path, problems)
        if self._out_of_credits(record):
            return self._error(403, request.path)
        gen = await self._create(model, body, record)
        self._schedule(gen)
        headers = self._cost_headers(gen, record)
        payload = {
            "id": gen.id,
            "status": "queued",
            "meta": {"usage": {"credits_used": gen.credits, "usd_spent": gen.usd}},
        }
        return web.json_response(payload, status=self.submit_status, headers=headers)

    def _strict_problems(self, model: str, body: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        if model == "minimax/music-2.6":
            lyrics = body.get("lyrics")
            instrumental = body.get("is_instrumental") is True
            optimizer = body.get("lyrics_optimizer") is True
            if not lyrics and not instrumental and not optimizer:
                problems.append('Required at "lyrics"')
            if instrumental and not body.get("prompt"):
                problems.append('Required at "prompt"')
        if model == "minimax/music-cover":
            ref = body.get("reference_audio_url")
            if isinstance(ref, str) and ref.startswith("data:"):
                problem = _check_data_uri(ref, 50_000_000)
                if problem:
                    problems.append(f'{problem} at "reference_audio_url"')
        return problems

    def _cost_headers(self, gen: FakeGeneration, record: RecordedRequest) -> dict[str, str]:
        headers = {
            "x-inference-id": gen.id,
            "x-aimlapi-credits-used": str(gen.credits),
            "x-aimlapi-usd-spent": f"{gen.usd:.9f}",
        }
        if gen.client_request_id is not None:
            headers["x-client-request-id"] = gen.client_request_id
        return headers

    async def _poll(self, request: web.Request, record: RecordedRequest) -> web.Response:
        generation_id = record.query.get("generation_id")
        if not generation_id:
            return self._invalid(request.path, ['Required at "generation_id"'])
        gen = self.generations.get(generation_id)
        if gen is None or gen.model == "music-01":
            return self._error(404, request.path, f"Generation {generation_id} not found")
        gen.poll_count += 1
        if self.polls_until_done is not None and not gen.outcome.never_complete:
            if gen.poll_count >= self.polls_until_done:
                self._finish(gen)
            elif gen.poll_count > 1:
                self._advance(gen)
        payload: dict[str, Any] = {"id": gen.id, "status": gen.status}
        if gen.status in ("queued", "generating") and gen.outcome.unknown_status:
            payload["status"] = gen.outcome.unknown_status
        if gen.status == "completed":
            payload["audio_file"] = (
                None if gen.outcome.completed_without_url else self._file_info(gen)
            )
            payload["meta"] = {"usage": {"credits_used": gen.credits}}
            if gen.model.startswith("minimax/"):
                payload["extra_info"] = {
                    "music_duration": int(self._seconds_of(gen) * 1000),
                    "music_sample_rate": 44100,
                    "music_channel": 1,
                    "bitrate": 64000,
                    "music_size": len(gen.audio),
                }
                payload["trace_id"] = gen.trace_id
        elif gen.status == "error":
            message = gen.outcome.fail or "Generation failed"
            if gen.outcome.fail_detail:
                payload["error"] = {"detail": [{"loc": ["body"], "msg": message, "type": "error"}]}
            else:
                payload["error"] = {"name": gen.outcome.fail_name, "message": message}
        else:
            payload["audio_file"] = None
        return web.json_response(payload, headers={"x-inference-id": gen.id})

    def _seconds_of(self, gen: FakeGeneration) -> float:
        if gen.outcome.duration_fn is not None:
            return gen.outcome.duration_fn(gen.body)
        return self.audio_seconds

    def _file_info(self, gen: FakeGeneration) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.audio_url_for(gen.id)}
        if gen.model in ("stable-audio", "google/lyria2", "minimax-music"):
            ext = "wav" if gen.audio_format == "wav" else "mp3"
            content_type = {
                "stable-audio": "application/octet-stream",
                "google/lyria2": "audio/wav",
            }.get(gen.model, "audio/mpeg")
            info.update(
                content_type=content_type, file_name=f"output.{ext}", file_size=len(gen.audio)
            )
        return info

    async def _file(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if self.file_redirect is not None:
            # "self" redirects once to the same URL (a CDN hop that is allowed to succeed).
            target, self_hop = self.file_redirect, self.file_redirect == "self"
            if self_hop:
                self.file_redirect = None
            location = request.path_qs if self_hop else target
            return web.Response(status=302, headers={"Location": location})
        name = request.path.rsplit("/", 1)[-1]
        token = name.rsplit(".", 1)[0]
        gen = self._by_token.get(token)
        if gen is None:
            return web.Response(status=404, text="NoSuchKey", content_type="application/xml")
        expires = record.query.get("Expires")
        expired = expires is not None and expires.isdigit() and int(expires) < time.time()
        if gen.outcome.expire_audio or expired:
            return web.Response(
                status=403,
                text=_EXPIRED_XML,
                content_type="application/xml",
            )
        content_type = {
            "stable-audio": "application/octet-stream",
            "google/lyria2": "audio/wav",
        }.get(gen.model, "audio/mpeg")
        if self.file_drip_seconds is not None:
            drip = web.StreamResponse(headers={"Content-Type": content_type})
            drip.content_length = len(gen.audio)
            await drip.prepare(request)
            for i in range(len(gen.audio)):
                await drip.write(gen.audio[i : i + 1])
                await self._pause(self.file_drip_seconds)
            return drip
        return web.Response(body=gen.audio, headers={"Content-Type": content_type})

    async def _models(self, request: web.Request, record: RecordedRequest) -> web.Response:
        """OpenAI-style model list: `{"object": "list", "data": [{"id", "type", ...}]}`."""
        rows = [
            {"id": m, "type": "audio" if m in MUSIC_MODEL_IDS else "chat-completion"}
            for m in sorted(self.listed_models)
        ]
        return web.json_response({"object": "list", "data": rows})

    async def _upload(self, request: web.Request, record: RecordedRequest) -> web.Response:
        refused = self._retired("music-01", request.path)
        if refused is not None:
            return refused
        content_type = record.header("content-type") or ""
        if not content_type.lower().startswith("multipart/form-data"):
            return self._invalid(
                request.path, ['Required at "file"', "Expected multipart/form-data"]
            )
        problems: list[str] = []
        if "file" not in record.files:
            problems.append('Required at "file"')
        purpose = record.form.get("purpose")
        if purpose is None:
            problems.append('Required at "purpose"')
        elif purpose not in ("song", "voice", "instrumental"):
            purposes = ("song", "voice", "instrumental")
            problems.append(_enum_message(purposes, purpose, ' at "purpose"'))
        if problems:
            return self._invalid(request.path, problems)
        outcome = self._outcome
        if outcome.base_resp_code is not None:
            return self._base_resp(outcome.base_resp_code, outcome.base_resp_msg)
        if self.strict:
            data = record.files["file"][2]
            seconds = await asyncio.to_thread(_audio_seconds, data)
            reason = None
            if _sniff(data) is None:
                reason = "invalid params: file must be wav or mp3"
            elif seconds is None or not 10.0 < seconds <= 600.0:
                reason = "invalid params: audio duration must be longer than 10s and at most 10min"
            if reason is not None:
                if self.upload_reject_status != 200:
                    return self._invalid(request.path, [reason])
                return self._base_resp(2013, reason)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(100):02d}"
        payload: dict[str, Any] = {}
        if purpose in ("song", "voice"):
            payload["voice_id"] = f"vocal-{stamp}-{nanoid(8)}"
        if purpose in ("song", "instrumental"):
            payload["instrumental_id"] = f"instrumental-{stamp}-{nanoid(8)}"
        self.uploaded_ids.update(v for v in payload.values())
        payload["trace_id"] = secrets.token_hex(16)
        payload["base_resp"] = {"status_code": 0, "status_msg": "success"}
        return web.json_response(payload)

    def _base_resp(self, code: int, message: str | None) -> web.Response:
        text = message or {
            1002: "rate limit",
            1004: "not authorized",
            1008: "insufficient balance",
            1026: "input new_sensitive",
            1027: "output new_sensitive",
            2013: "invalid params",
            2049: "invalid api key",
        }.get(code, "unknown error")
        payload = {
            "trace_id": secrets.token_hex(16),
            "base_resp": {"status_code": code, "status_msg": text},
        }
        return web.json_response(payload)

    async def _generate(self, request: web.Request, record: RecordedRequest) -> web.Response:
        body = record.json
        if not isinstance(body, dict):
            return self._invalid(request.path, ["Expected object, received body that is not JSON"])
        if body.get("model") != "music-01":
            return self._invalid(
                request.path, [_enum_message(("music-01",), body.get("model"), ' at "model"')]
            )
        refused = self._retired("music-01", request.path)
        if refused is not None:
            return refused
        problems = validate_body("music-01", body, strict=self.strict)
        if problems:
            return self._invalid(request.path, problems)
        if self._out_of_credits(record):
            return self._error(403, request.path)
        outcome = self._outcome
        if self.strict:
            reason = self._strict_generate_problem(body)
            if reason is not None:
                return self._base_resp(2013, reason)
        if outcome.base_resp_code is not None or outcome.fail is not None:
            code = outcome.base_resp_code if outcome.base_resp_code is not None else 1000
            crid = record.header("x-client-request-id")
            if crid is not None and CLIENT_REQUEST_ID.fullmatch(crid) is None:
                crid = None
            self.log_rows.append(
                LogRow(time.time(), "music-01", nanoid(), nanoid(), crid, 0, None, failed=True)
            )
            return self._base_resp(code, outcome.base_resp_msg or outcome.fail)
        gen = await self._create("music-01", body, record)
        gen.status = "generating"
        if outcome.never_complete:
            await self._stopping.wait()
        else:
            await self._pause(gen.generation_seconds)
        self._finish(gen)
        payload = {
            "data": {"status": 2, "audio": gen.audio.hex()},
            "extra_info": {
                "music_duration": int(self._seconds_of(gen) * 1000),
                "music_sample_rate": 44100,
                "music_channel": 1,
                "bitrate": 64000,
                "music_size": len(gen.audio),
            },
            "analysis_info": None,
            "trace_id": gen.trace_id,
            "base_resp": {"status_code": 0, "status_msg": "success"},
        }
        return web.json_response(payload, headers=self._cost_headers(gen, record))

    def _strict_generate_problem(self, body: Mapping[str, Any]) -> str | None:
        voice, instrumental = body.get("refer_voice"), body.get("refer_instrumental")
        if not voice and not instrumental:
            return "invalid params: at least one of refer_voice or refer_instrumental is required"
        for value in (voice, instrumental):
            if value and value not in self.uploaded_ids:
                return f"invalid params: unknown reference id {value}"
        return None

    async def _chat(self, request: web.Request, record: RecordedRequest) -> web.Response:
        body = record.json
        problems = _chat_problems(body, self.chat_models)
        if problems:
            return self._invalid(request.path, problems)
        assert isinstance(body, dict)
        reply = self._chat_replies.popleft() if self._chat_replies else None
        if reply is None:
            reply = ChatReply(_default_song(body), None, "stop", None)
        prompt_text = " ".join(str(m.get("content", "")) for m in body["messages"])
        prompt_tokens, completion_tokens = reply.usage or (
            len(prompt_text) // 4 + 1,
            len(reply.content or reply.refusal or "") // 4 + 1,
        )
        return web.json_response(
            {
                "id": f"chatcmpl-{nanoid()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": reply.content,
                            "refusal": reply.refusal,
                        },
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def _logs(self, request: web.Request, record: RecordedRequest) -> web.Response:
        query = record.query_all
        values: dict[str, list[str]] = {}
        for key, value in query:
            values.setdefault(key, []).append(value)
        problems: list[str] = []
        now = time.time()
        period = values.get("period", [None])[-1]
        start, end = values.get("start", [None])[-1], values.get("end", [None])[-1]
        window: tuple[float, float] | None = None
        if period is not None and (start is not None or end is not None):
            problems.append("Provide either period or start and end, not both")
        elif period is not None:
            match = re.fullmatch(r"([1-9][0-9]*)([hd])", period)
            if match is None:
                problems.append(f"Invalid period '{period}'")
            else:
                span = int(match[1]) * (3600 if match[2] == "h" else 86400)
                window = (now - span, now)
        elif start is not None and end is not None:
            try:
                begin = _parse_iso(start)
                finish = _parse_iso(end)
            except ValueError:
                problems.append("Invalid start or end date")
            else:
                if finish < begin or finish - begin > timedelta(days=92).total_seconds():
                    problems.append("Invalid window")
                window = (begin, finish)
        else:
            problems.append("Provide either period or both start and end")
        limit = _query_int(values, "limit", 50, 1, 100, problems)
        offset = _query_int(values, "offset", 0, 0, None, problems)
        statuses = values.get("status", [])
        for status in statuses:
            if status not in ("succeeded", "failed"):
                problems.append(_enum_message(("succeeded", "failed"), status, ' at "status"'))
        if problems or window is None:
            return self._error(400, request.path, "; ".join(problems) or "Invalid window")
        models = values.get("model", [])
        rows = [
            row
            for row in reversed(self.log_rows)
            if window[0] <= row.created_epoch <= window[1] + 1
            and (not statuses or row.status() in statuses)
            and (not models or row.model in models)
        ]
        page = rows[offset : offset + limit]
        payload = {
            "data": [row.as_json() for row in page],
            "pagination": {
                "limit": limit,
                "offset": offset,
                "total": len(rows),
                "has_more": offset + len(page) < len(rows),
            },
        }
        return web.json_response(payload)


@dataclass
class ChatReply:
    content: str | None
    refusal: str | None
    finish_reason: str
    usage: tuple[int, int] | None


def _chat_problems(body: object, models: Collection[str]) -> list[str]:  # noqa: C901
    """OpenAI's request rules for what the bot may send (a subset, checked strictly)."""
    if not isinstance(body, dict):
        return ["body: Expected object"]
    problems: list[str] = []
    model = body.get("model")
    if not isinstance(model, str) or not model:
        problems.append("body.model: Required")
    elif model not in models:
        problems.append(f"body.model: unknown chat model {model!r}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("body.messages: Expected a non-empty array")
        messages = []
    for index, message in enumerate(messages):
        at = f"body.messages[{index}]"
        if not isinstance(message, dict):
            problems.append(f"{at}: Expected object")
            continue
        if message.get("role") not in CHAT_ROLES:
            problems.append(f"{at}.role: Invalid enum value")
        if not isinstance(message.get("content"), str) or not message["content"]:
            problems.append(f"{at}.content: Expected a non-empty string")
        extra = set(message) - {"role", "content", "name"}
        if extra:
            problems.append(f"{at}: Unrecognized key(s) {sorted(extra)}")
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            problems.append("body.response_format.type: Invalid enum value")
        elif kind == "json_schema":
            schema = fmt.get("json_schema")
            if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
                problems.append("body.response_format.json_schema.name: Required")
        elif kind == "json_object" and not any(
            isinstance(m, dict) and "json" in str(m.get("content", "")).lower() for m in messages
        ):
            problems.append(
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'."
            )
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        problems.append("body.max_tokens: Expected a positive integer")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0 <= temperature <= 2
    ):
        problems.append("body.temperature: Expected a number from 0 to 2")
    return problems


def _default_song(body: Mapping[str, Any]) -> str:
    """A short song about the idea in the first user message (its own words, so its script)."""
    last = next((m["content"] for m in body["messages"] if m.get("role") == "user"), "")
    match = re.search(r'"((?:[^"\\]|\\.)*)"', str(last))
    idea = json.loads(f'"{match.group(1)}"') if match else str(last)
    words = idea.split()[:8] or ["la"]
    line = " ".join(words)
    lyrics = f"[Verse]\n{line}\n{line}\n\n[Chorus]\n{' '.join(words[:4])}, oh"
    return json.dumps(
        {
            "title": " ".join(words[:3]),
            "style": "warm acoustic pop, gentle vocals",
            "lyrics": lyrics,
        },
        ensure_ascii=False,
    )


def _parse_iso(value: str) -> float:
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _query_int(
    values: Mapping[str, list[str]],
    name: str,
    default: int,
    low: int,
    high: int | None,
    problems: list[str],
) -> int:
    raw = values.get(name, [None])[-1]
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        problems.append(f'Expected integer at "{name}"')
        return default
    if number < low or (high is not None and number > high):
        problems.append(f'Number out of range at "{name}"')
    return number


def _check_data_uri(value: str, max_bytes: int) -> str | None:
    head, _, payload = value.partition(",")
    if not head.endswith(";base64"):
        return "Reference data URI must be base64"
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "Reference is not valid base64"
    if len(data) > max_bytes:
        return "Reference audio is larger than 50 MB"
    return None


async def _serve(port: int, generation_seconds: float, strict: bool) -> None:
    fake = FakeAimlApi(generation_seconds=generation_seconds, strict=strict)
    await fake.start(port)
    print(f"fake AI/ML API on {fake.base_url} (key {fake.api_key!r}); Ctrl-C to stop", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    """`python -m songbot_fakes.aimlapi --port 8099`: run the fake by hand."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--generation-seconds", type=float, default=5.0)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.generation_seconds, args.strict))


if __name__ == "__main__":
    main()
