"""Finding and vetting a reference (voice note, audio, video) before anything is downloaded.

Why check before downloading: Telegram lets bots download at most 20 MB, and the provider has
duration rules; a clear reply now beats a failed job (and a charge) later. Everything here reads
only what the message declares, so it runs on the update path without any I/O.

Where a reference comes from, in order:
- the `/song …` message itself (a caption on a voice note, audio, audio document or video);
- else the message it replies to (in groups under privacy mode the bot only sees the reply,
  which Telegram delivers with the replied-to message embedded, so this works there too);
- a `ref: https://…` link instead, for the models that fetch a link themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from telegram import Message

from bot.aimlapi.models import ModelSpec, ReferenceKind
from bot.errors import ReferenceProblem
from bot.reference_kinds import ReferenceRefused
from bot.telegram.limits import MB, TELEGRAM_DOWNLOAD_LIMIT
from bot.textutil import utf16_len

AUDIO_KINDS: Final = frozenset({"voice", "audio", "document", "video", "video_note"})
# Kinds that are usually someone holding a phone: singing or (more often) talking.
SPOKEN_KINDS: Final = frozenset({"voice", "video_note"})

# Words in an audio file's name/title that say what the recording holds (purpose heuristics).
_INSTRUMENTAL_WORDS: Final = re.compile(
    r"instrumental|karaoke|backing|minus|playback|accompaniment|no[ _-]?vocals?|\binst\b",
    re.IGNORECASE,
)
_VOCAL_WORDS: Final = re.compile(
    r"a[ _-]?capp?ella|acc?app?ella|vocals?[ _-]?only|isolated[ _-]?vocals?|\(vocals?\)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TelegramReference:
    """What a message declares about its media: nothing here has been downloaded."""

    kind: str  # voice, audio, document, video, video_note, photo, sticker
    file_id: str
    file_unique_id: str
    mime_type: str | None
    duration: float | None
    file_size: int | None
    file_name: str | None = None
    title: str | None = None
    performer: str | None = None


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
            a.title,
            a.performer,
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


def find_reference(message: Message, *, include_reply: bool = True) -> TelegramReference | None:
    """The media on the command message itself, else on the message it replies to."""
    own = _from_message(message)
    if own is not None or not include_reply:
        return own
    if message.reply_to_message is not None:
        return _from_message(message.reply_to_message)
    return None


def pick_reference(message: Message, reference_url: str | None) -> TelegramReference | None:
    """The Telegram reference of a `/song`, given its `ref:` link (if any).

    A link plus media on the command itself is ambiguous and refused; a link in a reply to some
    media wins (the reply may just be conversation), so that media is ignored.
    """
    if reference_url:
        if find_reference(message, include_reply=False) is not None:
            raise ReferenceProblem("error_reference_both")
        return None
    return find_reference(message)


def guess_purpose(ref: TelegramReference) -> str:
    """The music-01 upload purpose the media most likely fits: song, voice or instrumental.

    A voice or video note is someone singing into the phone (a cappella: `voice`); a track is a
    full mix (`song`, which yields both a voice and an instrumental id) unless its file name or
    title says it is a backing track or isolated vocals.
    """
    if ref.kind in SPOKEN_KINDS:
        return "voice"
    names = " ".join(part for part in (ref.file_name, ref.title, ref.performer) if part)
    if _INSTRUMENTAL_WORDS.search(names):
        return "instrumental"
    if _VOCAL_WORDS.search(names):
        return "voice"
    return "song"


def intake_purpose(spec: ModelSpec, ref: TelegramReference | None, word: str | None) -> str | None:
    """The purpose to store with the job: the user's word, else a guess for uploaded files.

    Stored so that 🔁 Again and the reference cache agree. A voice/video note without a word
    stays None (the runner uploads it as `voice`): None then means "the user did not say".
    """
    if word:
        return str(word)
    if ref is None or not spec.upload_purposes or ref.kind in SPOKEN_KINDS:
        return None
    return guess_purpose(ref)


def needs_spoken_notice(ref: TelegramReference | None, purpose_word: str | None) -> bool:
    """Whether to warn that the provider wants singing: a voice/video note with no `voice:` etc.

    The user saying what the recording holds is taken as "yes, it is sung", so no warning then.
    """
    return ref is not None and ref.kind in SPOKEN_KINDS and purpose_word is None


def check_reference_request(
    spec: ModelSpec,
    ref: TelegramReference | None,
    reference_url: str | None,
    lyrics: str | None,
) -> None:
    """Every reference rule that can be checked from the message alone; raises with the reply."""
    if ref is None and not reference_url:
        if spec.reference_required:
            raise ReferenceProblem("error_model_needs_reference", model=spec.id)
        return
    if ref is not None:
        reference_file_check(spec, ref)
    else:
        reference_url_check(spec)
    reference_lyrics_check(spec, lyrics)


def reference_url_check(spec: ModelSpec) -> None:
    """A `ref:` link only works for models that fetch the link themselves."""
    if spec.reference == ReferenceKind.NONE:
        raise ReferenceProblem("error_model_no_reference", model=spec.id)
    if spec.reference == ReferenceKind.UPLOAD:
        raise ReferenceProblem("error_model_reference_file_only", model=spec.id)


def reference_file_check(spec: ModelSpec, ref: TelegramReference) -> None:
    """Reject what cannot work, with a reply that says what to send instead."""
    if ref.kind not in AUDIO_KINDS or (
        ref.kind == "document" and not (ref.mime_type or "").startswith(("audio/", "video/"))
    ):
        raise ReferenceRefused("error_reference_type", kind=ref.kind, mime=ref.mime_type or "")
    if spec.reference == ReferenceKind.NONE:
        raise ReferenceProblem("error_model_no_reference", model=spec.id)
    if spec.reference == ReferenceKind.URL:
        raise ReferenceProblem("error_model_reference_link_only", model=spec.id)
    if ref.file_size is not None and ref.file_size > TELEGRAM_DOWNLOAD_LIMIT:
        raise ReferenceRefused(
            "error_reference_too_big",
            kind=ref.kind,
            size_mb=round(ref.file_size / MB, 1),
            limit_mb=TELEGRAM_DOWNLOAD_LIMIT // MB,
        )
    if ref.duration is not None:
        # Telegram declares whole seconds (rounded), so allow one second either way here; the
        # runner measures the converted audio exactly.
        low, high = spec.reference_min_seconds, spec.reference_max_seconds
        if low is not None and ref.duration + 1 <= low:
            raise ReferenceRefused(
                "error_reference_too_short",
                kind=ref.kind,
                seconds=int(ref.duration),
                minimum=int(low),
            )
        if high is not None and ref.duration - 1 > high:
            raise ReferenceRefused(
                "error_reference_too_long",
                kind=ref.kind,
                seconds=int(ref.duration),
                maximum=int(high),
            )


def reference_lyrics_check(spec: ModelSpec, lyrics: str | None) -> None:
    """Reference models sing short lyrics (music-01: 600 characters with `##…##`): say so now."""
    if not lyrics or not spec.takes_lyrics:
        return
    stripped = lyrics.strip()
    wrapped = len(stripped) >= 4 and stripped.startswith("##") and stripped.endswith("##")
    overhead = spec.lyrics_wrap_overhead if spec.wrap_lyrics and not wrapped else 0
    if utf16_len(lyrics) + overhead > spec.lyrics_max:
        raise ReferenceProblem(
            "error_reference_lyrics_too_long",
            model=spec.id,
            length=utf16_len(lyrics),
            limit=spec.lyrics_max - overhead,
        )
