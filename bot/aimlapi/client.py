"""The AI/ML API music client: the one place where the provider's quirks live.

Validation: `validate`/`submit`/`generate_sync` build the wire body from the registry entry in
one pass (`build_body`), so exactly what was validated is what is sent, and a request the
provider would reject never leaves the bot. Lengths are UTF-16 code units, as the provider counts.

The client is layered by job: `session.py` (the shared HTTP client, the key and the retry rules,
documented there), `download.py` (result audio), `chat.py` (chat completions), `model_list.py`
(`GET /v1/models`); this module adds the music calls: submit, poll, music-01's upload and
synchronous generate, and the request log.

Quirks handled here and in responses.py: error envelope `{message, path, requestId, statusCode,
timestamp}` with `statusCode` a string or a number; poll statuses beyond the four documented
ones mean "still pending"; `error` on a failed poll is opaque (`message`, `detail[].msg` or
`name`); music-01 forwards MiniMax's `base_resp`, so a 2xx can still be a failure; music-01 audio
comes back hex-encoded; result URLs can be third-party hosts, so downloads never carry the key.

music-01 may be retired (its docs page is hidden since 2026-08-17, and it is missing from the
complete model list). Its two routes are called with `model="music-01"`, so an answer that means
the model is gone raises `ModelUnavailable` instead of `InvalidRequest`; what counts as "gone"
is decided in one function, `responses.model_gone`, whose docstring is the classification.
The fallback (music-cover, the reference inline) is chosen in availability.py.

Open question (`/v2/logs`): the documented endpoint (logs-v2.json) takes a window (`period`)
plus `limit`/`offset` and returns `{"data": [rows], "pagination": {…, "has_more"}}`; it has no
`client_request_id` filter, so we page through the recent window and match rows ourselves. A
bare list of rows is accepted too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import httpx

from bot.aimlapi.audio import (
    AUDIO_MIME,
    HexDecodeError,
    decode_hex_audio,
    read_head,
    sniff_audio_format,
)
from bot.aimlapi.bodies import build_body, check_client_request_id, validate_request
from bot.aimlapi.chat import ChatCompletions
from bot.aimlapi.download import AudioDownloads
from bot.aimlapi.errors import GenerationFailed
from bot.aimlapi.model_list import ModelList
from bot.aimlapi.models import Endpoint, get_model
from bot.aimlapi.multipart import MultipartFile
from bot.aimlapi.responses import (
    Malformed,
    as_dict,
    as_int,
    as_number,
    as_str,
    check_base_resp,
    envelope,
    error_for_status,
    error_text,
    json_body,
    log_entry,
    parse_logs,
    parse_poll,
)
from bot.aimlapi.types import (
    GenerationRequest,
    LogEntry,
    PollResult,
    Submission,
    SyncAudio,
    UploadResult,
)
from bot.errors import LocalFailure, ValidationError

SUBMIT_PATH: Final = "/v2/generate/audio"
POLL_PATH: Final = "/v2/generate/audio"
UPLOAD_PATH: Final = "/v2/generate/audio/minimax/upload"
GENERATE_PATH: Final = "/v2/generate/audio/minimax/generate"
LOGS_PATH: Final = "/v2/logs"
UPLOAD_PURPOSES: Final = ("song", "voice", "instrumental")


class AimlApiClient(AudioDownloads, ChatCompletions, ModelList):
    """Async AI/ML API client; see session.py for the retry rules."""

    def validate(self, request: GenerationRequest) -> None:
        """Raise `ValidationError` (with a user-ready message) if the provider would refuse it."""
        validate_request(request)

    async def submit(
        self,
        request: GenerationRequest,
        *,
        client_request_id: str,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> Submission:
        """Start an async generation (charged). Raises `SubmitOutcomeUnknown` when unsure.

        `still_wanted`: asked before a refused POST is sent again (session.py)."""
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
            still_wanted=still_wanted,
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
        # From the file, never the whole of it in memory (issue #28): its size and first bytes.
        size = (await asyncio.to_thread(path.stat)).st_size
        limit = spec.reference_max_bytes
        if limit is not None and size > limit:
            raise ValidationError(
                "error_reference_data_too_big",
                size_mb=round(size / 1_000_000, 1),
                limit_mb=round(limit / 1_000_000),
            )
        fmt = sniff_audio_format(await read_head(path))
        if fmt not in ("mp3", "wav"):
            raise ValidationError("error_reference_format")
        name = path.name if path.suffix.lower() == f".{fmt}" else f"reference.{fmt}"

        async def parse(response: httpx.Response) -> UploadResult:
            body = json_body(response)
            if not isinstance(body, dict):
                raise Malformed("upload body is not an object")
            check_base_resp(body, model=spec.id)
            voice = as_str(body.get("voice_id"))
            instrumental = as_str(body.get("instrumental_id"))
            if voice is None and instrumental is None:
                raise GenerationFailed(detail="upload answered without voice_id/instrumental_id")
            return UploadResult(voice, instrumental, as_str(body.get("trace_id")))

        return await self._call(
            "POST",
            UPLOAD_PATH,
            upload=MultipartFile.of(
                path, name="file", filename=name, mime=AUDIO_MIME[fmt], fields={"purpose": purpose}
            ),
            timeout=self._timeouts.upload,
            parse=parse,
            model=spec.id,
        )

    async def generate_sync(
        self,
        request: GenerationRequest,
        *,
        client_request_id: str,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> SyncAudio:
        """music-01: one long, charged POST that returns the audio itself (hex-encoded).

        `still_wanted`: asked before a refused POST is sent again (session.py)."""
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
            model=spec.id,
            still_wanted=still_wanted,
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
        check_base_resp(data, model="music-01")
        payload = as_dict(data.get("data"))
        audio = payload.get("audio")
        trace_id = as_str(data.get("trace_id"))
        if not isinstance(audio, str) or not audio:
            state = payload.get("status")
            raise GenerationFailed(detail=f"music-01 answered without audio (data.status={state})")
        if audio.startswith(("https://", "http://")):
            raw = await self.fetch_small(audio)
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
