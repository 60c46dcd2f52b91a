"""What a song request is before it is checked: who asked and where (`Origin`), and what they
asked for (`Draft`).

Why a module of its own: the intake (accept.py) and the requests kept for later (kept_rows.py:
a question to answer, a payment to wait for) both build on these, and neither may import the
other's module for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message

from bot.aimlapi.models import ModelSpec
from bot.intake.references import TelegramReference
from bot.telegram.helpers import requester_id, requester_name


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked, where, and which message the job's replies attach to.

    Why not the PTB message: a button press (🔁 Again, 🎲 Variation) makes a job too, and there
    the request is the bot's own anchor message, while the requester is whoever pressed.
    """

    chat_id: int
    chat_type: str
    topic_id: int | None
    user_id: int
    user_name: str
    lang: str
    request_message_id: int

    @classmethod
    def from_message(cls, message: Message, lang: str) -> Origin:
        user_id = requester_id(message)
        assert user_id is not None
        return cls(
            chat_id=message.chat_id,
            chat_type=message.chat.type,
            topic_id=message.message_thread_id if message.is_topic_message else None,
            user_id=user_id,
            user_name=requester_name(message),
            lang=lang,
            request_message_id=message.message_id,
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """A request with its model chosen, before any check: what `/song` and the buttons share."""

    spec: ModelSpec
    style: str
    lyrics: str | None
    reference_url: str | None = None
    reference: TelegramReference | None = None
    purpose: str | None = None
    # A title the user chose or /write wrote; None: derived from the lyrics or style (#25.12).
    title: str | None = None
