"""Finding and vetting a reference (voice note, audio, video) before anything is downloaded.

Why check before downloading: Telegram lets bots download at most 20 MB, and the provider has
duration
rules; a clear reply now beats a failed job (and a charge) later.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message

from bot.aimlapi.models import ModelSpec, ReferenceKind
from bot.errors import ReferenceProblem

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TelegramReference:
    kind: str  # voice, audio, document, video, video_note, photo, sticker
    file_id: str
    file_unique_id: str
    mime_type: str | None
    duration: float | None
    file_size: int | None
    file_name: str | None = None


def _from_message(message: Message) -> TelegramReference | None:
    if message.voice:
        v = message.voice
        return TelegramReference(
            "voice", v.file_id, v.file_unique_id, v.mime_type, _secs(v.duration), v.file_size
        )
    if message.audio:
        a = message.audio
        return TelegramReference(
            "audio",
            a.file_id,
            a.file_unique_id,
            a.mime_type,
            _secs(a.duration),
            a.file_size,
            a.file_name,
        )
    if message.video_note:
        n = message.video_note
        return TelegramReference(
            "video_note", n.file_id, n.file_unique_id, "video/mp4", _secs(n.duration), n.file_size
        )
    if message.video:
        v2 = message.video
        return TelegramReference(
            "video",
            v2.file_id,
            v2.file_unique_id,
            v2.mime_type,
            _secs(v2.duration),
            v2.file_size,
            v2.file_name,
        )
    if message.document:
        d = message.document
        return TelegramReference(
            "document", d.file_id, d.file_unique_id, d.mime_type, None, d.file_size, d.file_name
        )
    if message.photo:
        p = message.photo[-1]
        return TelegramReference(
            "photo", p.file_id, p.file_unique_id, "image/jpeg", None, p.file_size
        )
    if message.sticker:
        s = message.sticker
        return TelegramReference("sticker", s.file_id, s.file_unique_id, None, None, s.file_size)
    return None


def _secs(value: object) -> float | None:
    if value is None:
        return None
    total = getattr(value, "total_seconds", None)
    if callable(total):
        return float(total())
    return float(value)  # type: ignore[arg-type]


def find_reference(message: Message) -> TelegramReference | None:
    """The media on the command message itself, else on the message it replies to."""
    own = _from_message(message)
    if own is not None:
        return own
    if message.reply_to_message is not None:
        return _from_message(message.reply_to_message)
    return None


def reference_request_check(spec: ModelSpec, ref: TelegramReference) -> None:
    """Reject what cannot work, with a reply that says what to send instead."""
    if ref.kind in ("photo", "sticker"):
        raise ReferenceProblem("error_reference_type", kind=ref.kind)
    if ref.kind == "document" and not (ref.mime_type or "").startswith("audio/"):
        raise ReferenceProblem("error_reference_type", kind=ref.mime_type or "document")
    if spec.reference == ReferenceKind.NONE:
        raise ReferenceProblem("error_model_no_reference", model=spec.id)
    if ref.file_size is not None and ref.file_size > TELEGRAM_DOWNLOAD_LIMIT:
        raise ReferenceProblem(
            "error_reference_too_big", size_mb=round(ref.file_size / 1_048_576, 1), limit_mb=20
        )
    if (
        spec.reference_max_bytes is not None
        and ref.file_size
        and ref.file_size > spec.reference_max_bytes
    ):
        raise ReferenceProblem(
            "error_reference_too_big",
            size_mb=round(ref.file_size / 1_048_576, 1),
            limit_mb=round(spec.reference_max_bytes / 1_048_576),
        )
    if ref.duration is not None:
        low = spec.reference_min_seconds
        high = spec.reference_max_seconds
        if low is not None and ref.duration <= low:
            raise ReferenceProblem(
                "error_reference_too_short",
                kind=ref.kind,
                seconds=int(ref.duration),
                minimum=int(low),
            )
        if high is not None and ref.duration > high:
            raise ReferenceProblem(
                "error_reference_too_long",
                kind=ref.kind,
                seconds=int(ref.duration),
                maximum=int(high),
            )
