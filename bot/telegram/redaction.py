"""Secrets never reach a chat: every text the bot sends is redacted on its way out (#24.6).

Why at the Bot API call and not where errors are phrased: a provider's diagnostic can reach a
user through many doors (a submit refusal, a failed poll, a /write refusal, a stored error shown
again by /jobs, the callback answers), and the next door would be forgotten. Every one of them is
a Bot API call, so the text fields of each call are redacted there, once. What is redacted: the
configured secrets (bot token, API key, webhook and metrics secrets, the database password) and
anything shaped like a credential, since a provider may echo a key we do not know (a proxy's, an
old one): bot tokens, `Bearer` values, `key=`/`token=` pairs and long random-looking strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from typing import Final

from bot.ops.logging_setup import Redactor

MASK: Final = "***"
# The Bot API parameters a person reads; everything else (ids, file ids, markup) is left alone.
TEXT_FIELDS: Final = frozenset(
    {"text", "caption", "description", "title", "question", "explanation", "performer"}
)
_SHAPES: Final = (
    # A Telegram bot token: `123456:AA...` (optionally behind `bot`, as in an API URL).
    re.compile(r"(?<!\d)\d{3,}:[A-Za-z0-9_-]{30,}"),
    # An Authorization value: `Bearer xyz`, `Basic xyz` (the scheme's name stays readable).
    re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}|(?<=\bbasic )[A-Za-z0-9+/=]{8,}"),
    # `api_key=…`, `"apiKey": "…"`, `secret: …`, `password=…`.
    re.compile(
        r"(?i)\b(?:api[_-]?key|access[_-]?token|secret|password|authorization)"
        r"[\"']?\s*[:=]\s*[\"']?[^\s\"',;&]{6,}"
    ),
    # A long run of letters and digits (both), as API keys are: `sk-…`, hex or base64 keys.
    # Not a Telegram Stars charge id (`stx…`): the operator's /refund needs to read it.
    re.compile(
        r"(?<![A-Za-z0-9_-])(?!stx)(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])"
        r"[A-Za-z0-9_-]{32,}"
    ),
)
# A link the bot itself made (a song over 50 MB is sent as its signed download link): only the
# configured secrets are masked inside, or the link's own signature would break it.
_HREF: Final = re.compile(r'href="[^"]*"')


class UserTextRedactor:
    """Masks the configured secrets and anything credential-shaped in a text for a person."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = Redactor(secrets)

    def add(self, *secrets: str) -> None:
        self._secrets.add(*secrets)

    def __call__(self, text: str) -> str:
        text = self._secrets(text)
        parts: list[str] = []
        done = 0
        for link in _HREF.finditer(text):
            parts.append(self._shapes(text[done : link.start()]))
            parts.append(link.group())
            done = link.end()
        parts.append(self._shapes(text[done:]))
        return "".join(parts)

    @staticmethod
    def _shapes(text: str) -> str:
        for shape in _SHAPES:
            text = shape.sub(MASK, text)
        return text

    def redact_call(self, data: MutableMapping[str, object]) -> None:
        """Redact, in place, the text fields of one Bot API call's parameters."""
        for name in TEXT_FIELDS.intersection(data):
            value = data[name]
            if isinstance(value, str):
                data[name] = self(value)
