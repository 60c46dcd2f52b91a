"""The typed error hierarchy: every failure a user can cause or meet, with its friendly message.

Why: handlers and the runner raise these; exactly one place (`handlers/errors.py` for updates,
`bot/engine/runner.py` for jobs) turns them into a reply, rendered from the catalogue in the user's
language. Internal detail (`detail`) is for logs only and never shown to users.
"""

from __future__ import annotations

from bot.i18n import t


class SongbotError(Exception):
    """Base class; `key` names the catalogue entry shown to the user, `params` fill it in."""

    key: str = "error_generic"

    def __init__(self, key: str | None = None, /, *, detail: str = "", **params: object) -> None:
        self.key = key or type(self).key
        self.params = params
        self.detail = detail
        super().__init__(f"{self.key}: {detail or params}")

    def user_message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)


class UserInputError(SongbotError):
    """The request itself cannot be served as sent; nothing was (or will be) charged."""

    key = "error_bad_input"


class ValidationError(UserInputError):
    """A request the provider would reject (length, range, missing field) caught before sending."""

    key = "error_bad_input"


class ReferenceProblem(UserInputError):
    """A reference (voice note, audio, URL) that cannot be used: too big, too short, wrong type."""

    key = "error_reference"


class NotAllowed(SongbotError):
    """The user or chat may not do this (allowlist, ban, admin-only, daily limit)."""

    key = "error_not_allowed"


class LocalFailure(SongbotError):
    """Something on our side broke (ffmpeg, disk); the user is not to blame."""

    key = "error_internal"
