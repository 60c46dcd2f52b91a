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
* A chat completion (`chat`, POST /v1/chat/completions) is not a paid generation but costs
  tokens, so it is not blindly repeated either: retried (same bounds) only when it certainly
  never reached the model (never sent, 429 or 503); any other failure after sending is one
  `ProviderUnavailable` for the caller to report, never a second completion.
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
import contextlib
import logging
import random
import shutil
import tempfile
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
from bot.aimlapi.bodies import build_body, check_client_request_id, validate_request
from bot.aimlapi.errors import (
    AudioDownloadError,
    GenerationFailed,
    ProviderUnavailable,
    SubmitOutcomeUnknown,
)
from bot.aimlapi.models import (
    Endpoint,
    get_model,
)
from bot.aimlapi.responses import (
    Malformed,
    as_dict,
    as_int,
    as_number,
    as_str,
    check_base_resp,
    envelope,
    error_for_response,
    error_for_status,
    error_text,
    json_body,
    log_entry,
    parse_chat,
    parse_logs,
    parse_poll,
    parse_retry_after,
)
from bot.aimlapi.types import (
    ChatAnswer,
    ChatMessage,
    DownloadedAudio,
    GenerationRequest,
    LogEntry,
    PollResult,
    Submission,
    SyncAudio,
    UploadResult,
)
from bot.aimlapi.url_guard import MAX_REDIRECTS, TargetRefused, allowed_kinds, check_target
from bot.errors import LocalFailure, ValidationError

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT: Final = "songbot/0.1 (+https://github.com/songbot)"
SUBMIT_PATH: Final = "/v2/generate/audio"
POLL_PATH: Final = "/v2/generate/audio"
UPLOAD_PATH: Final = "/v2/generate/audio/minimax/upload"
GENERATE_PATH: Final = "/v2/generate/audio/minimax/generate"
LOGS_PATH: Final = "/v2/logs"
MODELS_PATH: Final = "/v1/models"
CHAT_PATH: Final = "/v1/chat/completions"
DEFAULT_DOWNLOAD_CAP: Final = 50_000_000
UPLOAD_PURPOSES: Final = ("song", "voice", "instrumental")
# The provider silently drops an X-Client-Request-Id outside this alphabet (A15), which would


DOWNLOAD_DEADLINE: Final = 300.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Read timeouts per kind of call, in seconds; connect/pool share `connect`."""

    connect: float = 10.0
    poll: float = 30.0
    submit: float = 60.0
    upload: float = 180.0
    generate: float = 300.0
    logs: float = 30.0
    chat: float = 60.0
    download: float = 60.0
    write: float = 60.0
    # The whole audio download, all attempts and redirects: a server dripping a byte a second
    # must not keep a job in "fetching" for ever (#17.8).
    download_deadline: float = DOWNLOAD_DEADLINE

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
        self._download_kinds: frozenset[str] | None = None
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
            return parse_poll(generation_id, json_body(response))

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
            body = json_body(response)
            if not isinstance(body, dict):
                raise Malformed("upload body is not an object")
            check_base_resp(body)
            voice = as_str(body.get("voice_id"))
            instrumental = as_str(body.get("instrumental_id"))
            if voice is None and instrumental is None:
                raise GenerationFailed(detail="upload answered without voice_id/instrumental_id")
            return UploadResult(voice, instrumental, as_str(body.get("trace_id")))

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

    async def chat(
        self,
        model: str,
        messages: list[ChatMessage],
        *,
        json_object: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatAnswer:
        """One OpenAI-compatible chat completion; see the module docstring for its retries."""
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        if json_object:
            body["response_format"] = {"type": "json_object"}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature

        async def parse(response: httpx.Response) -> ChatAnswer:
            return parse_chat(json_body(response), model)

        return await self._call(
            "POST", CHAT_PATH, json=body, timeout=self._timeouts.chat, parse=parse, tokens=True
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
                return parse_logs(json_body(response), limit)

            rows, has_more = await self._call(
                "GET", LOGS_PATH, params=params, timeout=self._timeouts.logs, parse=parse
            )
            matches.extend(
                log_entry(row) for row in rows if row.get("client_request_id") == client_request_id
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
            parse_logs(json_body(response), 1)

        await self._call(
            "GET",
            LOGS_PATH,
            params={"period": "1h", "limit": 1},
            timeout=self._timeouts.logs,
            parse=parse,
        )

    async def list_models(self) -> frozenset[str]:
        """The model ids the key can use, from `GET /v1/models` (free, read-only).

        Accepts the OpenAI-style `{"data": [{"id": ...}]}` and a bare list of objects or ids.
        """

        async def parse(response: httpx.Response) -> frozenset[str]:
            body = json_body(response)
            rows = body.get("data") if isinstance(body, dict) else body
            if not isinstance(rows, list):
                raise Malformed("GET /v1/models: no list of models")
            ids = set()
            for row in rows:
                value = row.get("id") if isinstance(row, dict) else row
                if isinstance(value, str) and value:
                    ids.add(value)
            return frozenset(ids)

        return await self._call("GET", MODELS_PATH, timeout=self._timeouts.logs, parse=parse)

    async def download(
        self, url: str, dest: Path, *, max_bytes: int = DEFAULT_DOWNLOAD_CAP
    ) -> DownloadedAudio:
        """Stream a result URL to `dest` (≤ `max_bytes`), never sending our Authorization header.

        The format is sniffed from the bytes; anything that is not audio is deleted and refused.
        """
        if self._download_kinds is None:
            self._download_kinds = await allowed_kinds(self._base_url)
        deadline = self._timeouts.download_deadline
        try:
            async with asyncio.timeout(deadline):
                return await self._download(url, dest, max_bytes, self._download_kinds)
        except TimeoutError:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(dest.unlink, True)
            raise AudioDownloadError(
                "error_audio_download", detail=f"download took longer than {deadline:g} s"
            ) from None

    async def _download(
        self, url: str, dest: Path, max_bytes: int, allowed: frozenset[str]
    ) -> DownloadedAudio:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._get_following(url, allowed)
            except httpx.TransportError as exc:
                host = urlsplit(url).hostname
                await self._download_retry(attempt, None, f"{type(exc).__name__} from {host}")
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
                declared = as_int(response.headers.get("content-length"))
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

    async def _get_following(self, url: str, allowed: frozenset[str]) -> httpx.Response:
        """GET with redirects followed by hand, each hop checked by `check_target` first."""
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                await check_target(url, allowed)
            except TargetRefused as exc:
                raise AudioDownloadError("error_audio_download", detail=str(exc)) from None
            request = self._http.build_request(
                "GET",
                url,
                headers={"Accept": "audio/*, application/octet-stream;q=0.9, */*;q=0.5"},
                timeout=self._timeouts.make(self._timeouts.download),
            )
            # Result URLs can be third-party hosts: strip any auth a shared client might carry.
            request.headers.pop("Authorization", None)
            request.headers.pop("Cookie", None)
            response = await self._http.send(request, stream=True, follow_redirects=False)
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                return response
            await response.aclose()
            url = str(response.url.join(location))
        raise AudioDownloadError(
            "error_audio_download", detail=f"more than {MAX_REDIRECTS} redirects"
        )

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
        tokens: bool = False,
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
                if tokens or attempt >= self._max_attempts:
                    raise ProviderUnavailable(detail=f"{what}: {why}") from exc
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return await parse(response)
                    except Malformed as exc:
                        why = f"unusable {status} body: {exc}"
                        if paid:
                            assert client_request_id is not None
                            raise SubmitOutcomeUnknown(
                                client_request_id=client_request_id,
                                http_status=status,
                                detail=f"{what}: {why}",
                            ) from None
                        if tokens or attempt >= self._max_attempts:
                            raise ProviderUnavailable(
                                http_status=status, detail=f"{what}: {why}"
                            ) from None
                elif status == 429 or status >= 500:
                    error = error_for_response(response, on_poll=on_poll)
                    if paid and status not in (429, 503):
                        assert client_request_id is not None
                        raise SubmitOutcomeUnknown(
                            client_request_id=client_request_id,
                            http_status=status,
                            provider_message=error.provider_message,
                            request_id=error.request_id,
                            detail=f"{what}: HTTP {status} after the request was sent",
                        )
                    if tokens and status not in (429, 503):
                        raise error  # the model may have run: no second completion
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    why = f"HTTP {status}"
                    if attempt >= self._max_attempts or (
                        retry_after is not None and retry_after > self._max_retry_after
                    ):
                        raise error
                else:
                    raise error_for_response(response, on_poll=on_poll)
            delay = self._delay(attempt, retry_after)
            log.info("%s: %s; attempt %d, retrying in %.2fs", what, why, attempt, delay)
            await self._sleep(delay)

    def _parse_submission(self, response: httpx.Response, client_request_id: str) -> Submission:
        data = json_body(response)
        if not isinstance(data, dict):
            raise Malformed("submit body is not an object")
        generation_id = (
            as_str(data.get("id"))
            or as_str(data.get("generation_id"))
            or as_str(response.headers.get("x-inference-id"))
        )
        if generation_id is None:
            message, request_id, code = envelope(response)
            if code is not None and code >= 400:
                raise error_for_status(code, message, request_id)
            raise Malformed("submit answered without an id")
        status = as_str(data.get("status")) or "queued"
        if status.lower() == "error":
            raise GenerationFailed(
                provider_message=error_text(data.get("error")),
                detail=f"submit of {generation_id} answered status error",
            )
        usage = as_dict(as_dict(data.get("meta")).get("usage"))
        credits = as_number(usage.get("credits_used"))
        usd = as_number(usage.get("usd_spent"))
        if credits is None:
            credits = as_number(response.headers.get("x-aimlapi-credits-used"))
        if usd is None:
            usd = as_number(response.headers.get("x-aimlapi-usd-spent"))
        return Submission(generation_id, status, credits, usd, client_request_id)

    async def _parse_sync_audio(self, response: httpx.Response) -> SyncAudio:
        data = json_body(response)
        if not isinstance(data, dict):
            raise Malformed("generate body is not an object")
        check_base_resp(data)
        payload = as_dict(data.get("data"))
        audio = payload.get("audio")
        trace_id = as_str(data.get("trace_id"))
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
        extra = as_dict(data.get("extra_info"))
        duration_ms = as_number(extra.get("music_duration")) or as_number(
            extra.get("audio_length")
        )
        rate = as_int(extra.get("music_sample_rate")) or as_int(extra.get("audio_sample_rate"))
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
