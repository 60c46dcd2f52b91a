"""Typed requests and results of the AI/ML API client.

Why dataclasses: nothing beyond the client boundary reads a provider dict, so a renamed or
missing field is handled once, in `client.py` and `responses.py`, and the rest of the bot sees
stable types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One song request, model-neutral; `client.validate` checks it against the registry.

    `prompt` is the style text; models whose entry has `takes_prompt=False` (music-01, legacy
    minimax-music) ignore it. `reference_base64` is the music-cover inline reference: either a
    full `data:audio/...;base64,...` URI or bare base64 (the client wraps bare base64 into a data
    URI, because the provider's field is typed `format: uri`).
    """

    model: str
    prompt: str
    lyrics: str | None = None
    instrumental: bool = False
    reference_url: str | None = None
    reference_base64: str | None = None
    refer_voice: str | None = None
    refer_instrumental: str | None = None
    duration_seconds: float | None = None
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submission:
    """A charged, accepted async submit: poll `generation_id` until it is done."""

    generation_id: str
    status: str
    credits_used: float | None
    usd_spent: float | None
    client_request_id: str | None = None


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    ERROR = "error"
    PENDING_UNKNOWN = "pending_unknown"  # any other word: still pending until the job times out


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll answer; `completed` without an audio URL is reported as ERROR."""

    generation_id: str
    status: GenerationStatus
    raw_status: str
    audio_url: str | None
    error_text: str | None
    duration_seconds: float | None
    sample_rate: int | None
    size_bytes: int | None
    content_type: str | None
    file_name: str | None
    credits_used: float | None
    # Our own diagnosis, as a catalogue key, when the provider gave no words of its own: the
    # user reads it in their language (`error_text` stays English, for the logs).
    error_key: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status is GenerationStatus.COMPLETED

    @property
    def is_failed(self) -> bool:
        return self.status is GenerationStatus.ERROR

    @property
    def is_pending(self) -> bool:
        return not (self.is_done or self.is_failed)


@dataclass(frozen=True, slots=True)
class UploadResult:
    """music-01 reference ids; which are set depends on the upload's purpose."""

    voice_id: str | None
    instrumental_id: str | None
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class SyncAudio:
    """music-01's synchronous result: the decoded audio bytes, sniffed format."""

    data: bytes
    format: str
    duration_seconds: float | None
    sample_rate: int | None
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One `GET /v2/logs` row: how a paid request ended, found by our `X-Client-Request-Id`."""

    client_request_id: str | None
    inference_id: str | None  # = the generation id of an async submit
    request_id: str | None
    status: str  # succeeded | failed | whatever the provider says
    credits: float | None
    usd: float | None
    created_at: str | None
    model: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True, slots=True)
class DownloadedAudio:
    """Audio written to disk by `download`; `format` is sniffed from the bytes."""

    path: Path
    size_bytes: int
    format: str
    content_type: str | None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """`choices[0]` of a chat completion and its token usage.

    `content` is None (or empty) when the model said nothing; `refusal` is the model's own
    refusal text (OpenAI's `message.refusal`), `finish_reason` e.g. "stop", "length",
    "content_filter".
    """

    content: str | None
    refusal: str | None
    finish_reason: str | None
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
