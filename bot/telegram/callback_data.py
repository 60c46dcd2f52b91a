"""Every button's callback data, built and read in one place.

Why one module: Telegram gives a button 64 bytes and hands them back verbatim, possibly long
after a restart or from a message sent by an older version. The format — `v1:<action>:<arg>`, with
a job id or a small index as the argument, nothing kept in memory — is decided here once, and
the handlers' patterns come from the same definitions as the data they match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

VERSION: Final = "v1"
MAX_BYTES: Final = 64  # Telegram's limit for callback_data


class Action(StrEnum):
    """What a button does; the value is what its data carries."""

    AGAIN = "again"
    LYRICS = "lyrics"
    VARY = "vary"
    RESEND = "resend"
    CANCEL = "cancel"
    MODEL = "model"
    LANGUAGE = "lang"
    # Under a /write preview; the argument is the draft's id (storage/lyrics.py).
    WRITE_MAKE = "wmake"
    WRITE_REDO = "wredo"
    WRITE_EDIT = "wedit"
    BUY = "buy"  # a Stars pack: the argument is its number of songs
    # The library (#26): a list page (the argument is the offset; a search's words are read
    # from the /songs message the list replies to), a song card and its buttons (the song's id),
    # and under a delivered song the card and the link of the song of a job (the job's id).
    SONGS = "songs"
    SONG = "song"
    SONG_OF_JOB = "sjob"
    SONG_SEND = "ssend"
    SONG_LYRICS = "slyr"
    SONG_RENAME = "sren"
    SONG_DELETE = "sdel"
    SONG_DELETE_YES = "sdelok"
    SONG_LINK = "slink"
    SONG_UNSHARE = "sunsh"
    SONG_AGAIN = "sagain"
    SONG_VARY = "svary"
    JOB_LINK = "jlink"
    # A request waiting for the user (storage/flows.py): `<flow id>-<answer>`, e.g. `12-s3`.
    FLOW = "flow"
    HELP = "help"  # a /help "more" button: the argument names the section


# The argument each action accepts, as a regular expression.
_ARGS: Final[dict[Action, str]] = {
    Action.AGAIN: r"\d{1,18}",
    Action.LYRICS: r"\d{1,18}",
    Action.VARY: r"\d{1,18}",
    Action.RESEND: r"\d{1,18}",
    Action.CANCEL: r"\d{1,18}",
    Action.MODEL: r"\d{1,3}|default",
    Action.LANGUAGE: r"[a-z]{2,4}",
    Action.WRITE_MAKE: r"\d{1,18}",
    Action.WRITE_REDO: r"\d{1,18}",
    Action.WRITE_EDIT: r"\d{1,18}",
    Action.BUY: r"\d{1,4}",
    Action.SONGS: r"\d{1,6}",
    **{
        action: r"\d{1,18}"
        for action in (
            Action.SONG,
            Action.SONG_OF_JOB,
            Action.SONG_SEND,
            Action.SONG_LYRICS,
            Action.SONG_RENAME,
            Action.SONG_DELETE,
            Action.SONG_DELETE_YES,
            Action.SONG_LINK,
            Action.SONG_UNSHARE,
            Action.SONG_AGAIN,
            Action.SONG_VARY,
            Action.JOB_LINK,
        )
    },
    Action.FLOW: r"\d{1,18}-[a-z0-9]{1,8}",
    Action.HELP: r"[a-z]{2,8}",
}
MODEL_DEFAULT: Final = "default"
LANGUAGE_AUTO: Final = "auto"


@dataclass(frozen=True, slots=True)
class Pressed:
    action: Action
    arg: str

    @property
    def job_id(self) -> int:
        return int(self.arg)


def build(action: Action, arg: object) -> str:
    """The data for one button; raises if it could not be read back."""
    data = f"{VERSION}:{action.value}:{arg}"
    if len(data.encode()) > MAX_BYTES or not re.fullmatch(_ARGS[action], str(arg)):
        raise ValueError(f"bad callback data {data!r}")
    return data


def for_job(action: Action, job_id: int) -> str:
    return build(action, int(job_id))


def pattern(action: Action) -> str:
    """The `CallbackQueryHandler` pattern for valid data of `action`."""
    return rf"^{VERSION}:{action.value}:(?:{_ARGS[action]})$"


def any_of_ours() -> str:
    """Data of any of our actions, valid or not (a menu from an older version)."""
    actions = "|".join(re.escape(a.value) for a in Action)
    return rf"^{VERSION}:(?:{actions}):"


def parse(data: str | None) -> Pressed | None:
    """The action and argument of valid data, else None."""
    if not data:
        return None
    version, _, rest = data.partition(":")
    name, _, arg = rest.partition(":")
    if version != VERSION:
        return None
    try:
        action = Action(name)
    except ValueError:
        return None
    if not re.fullmatch(_ARGS[action], arg):
        return None
    return Pressed(action, arg)
