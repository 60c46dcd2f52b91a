"""One shared, rarely edited status message per burst of requests in a group.

Why: a group allows about 20 bot messages a minute. A status reply plus edits per request would
spend that budget on progress chatter and delay the songs themselves; 40 requests in a minute must
all be acknowledged and delivered without a single 429. So the first request of a burst gets a
status reply, later requests in the same minute join it, and the board is re-rendered from SQLite
at most once every `MIN_EDIT_INTERVAL` seconds with who is waiting, generating and done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.bounded import BoundedMap
from bot.i18n import t
from bot.telegram.flood import BACKGROUND
from storage.jobs import JobStore
from storage.settings import ChatSettingsStore
from storage.states import ACTIVE, JobState

log = logging.getLogger(__name__)

BURST_WINDOW = 60.0  # a request joins the board of an active request made this recently
MIN_EDIT_INTERVAL = 20.0  # seconds between edits of one board (group flood budget)
MAX_NAMES = 12


async def find_board(
    jobs: JobStore, chat_id: int, now: float, *, topic_id: int | None = None
) -> int | None:
    """The status message of a recent, still active request in this group (and topic), if any."""
    return await jobs.recent_board(chat_id, topic_id, since=now - BURST_WINDOW)


async def render_board(jobs: JobStore, chat_id: int, message_id: int, lang: str | None) -> str:
    members = await jobs.board_members(chat_id, message_id)
    waiting = [name for name, state in members if state is JobState.RECEIVED]
    working = [
        name for name, state in members if state in ACTIVE and state is not JobState.RECEIVED
    ]
    done = sum(state is JobState.DELIVERED for _, state in members)
    failed = len(members) - len(waiting) - len(working) - done
    if not waiting and not working:
        # "All done" only when something was made: a burst that made nothing says so.
        if done == 0:
            return t("board_finished_none", lang, failed=failed)
        return t("board_finished", lang, done=done, failed=failed)
    return t(
        "board",
        lang,
        total=len(members),
        working=len(working),
        waiting=len(waiting),
        done=done,
        names=_names(waiting + working),
    )


def _names(names: list[str]) -> str:
    unique: dict[str, int] = {}
    for name in names:
        unique[name or "?"] = unique.get(name or "?", 0) + 1
    parts = [f"{n} ({c})" if c > 1 else n for n, c in list(unique.items())[:MAX_NAMES]]
    if len(unique) > MAX_NAMES:
        parts.append("…")
    return ", ".join(parts)


class GroupBoards:
    """Coalesces board refreshes: many state changes, at most one edit per interval per board."""

    def __init__(
        self,
        jobs: JobStore,
        bot: Bot,
        *,
        chat_settings: ChatSettingsStore | None = None,
        min_interval: float = MIN_EDIT_INTERVAL,
    ) -> None:
        self._jobs = jobs
        self._chat_settings = chat_settings
        self._bot = bot
        self._min_interval = min_interval
        # Bounded (#24.12): a board forgotten long after its burst costs at most one early edit
        # (still paced by the flood limiter), its default language or one unskipped edit.
        self._last_edit: BoundedMap[tuple[int, int], float] = BoundedMap()
        self._pending: dict[tuple[int, int], asyncio.Task[None]] = {}  # emptied as they run
        self._lang: BoundedMap[tuple[int, int], str | None] = BoundedMap()
        # What each board shows now: an edit to the same text is skipped, not sent (Telegram
        # answers "message is not modified", and the edit would still spend a 3.5 s group slot).
        self._shown: BoundedMap[tuple[int, int], str] = BoundedMap()
        self._locks: BoundedMap[tuple[int, int], asyncio.Lock] = BoundedMap(
            keep=lambda lock: lock.locked()
        )

    def shown(self, chat_id: int, message_id: int, text: str) -> None:
        """Record a board's text as sent (the first reply of a burst)."""
        self._shown[(chat_id, message_id)] = text

    def touch(self, chat_id: int, message_id: int, lang: str | None) -> None:
        """Schedule a refresh of this board (coalesced with any already scheduled)."""
        key = (chat_id, message_id)
        self._lang[key] = lang
        if key in self._pending:
            return
        self._pending[key] = asyncio.create_task(self._refresh(key))

    async def _refresh(self, key: tuple[int, int]) -> None:
        try:
            wait = self._last_edit.get(key, 0.0) + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._pending.get(key) is asyncio.current_task():
                self._pending.pop(key, None)  # later touches schedule the next refresh
            # One refresh of a board at a time, rendered just before it is sent: a refresh
            # scheduled meanwhile renders after this edit lands, so an older text never
            # overwrites a newer one (a board must end on "All done", not on a stale count).
            async with self._locks.setdefault(key, asyncio.Lock()):
                self._last_edit[key] = time.monotonic()
                await self._edit(key)
        finally:
            if self._pending.get(key) is asyncio.current_task():
                self._pending.pop(key, None)

    async def _edit(self, key: tuple[int, int]) -> None:
        text = await render_board(self._jobs, key[0], key[1], await self._language(key))
        if self._shown.get(key) == text:
            return
        try:
            spare: dict[str, Any] = {}
            if isinstance(self._bot, ExtBot):
                # A board is cosmetic: it waits for spare budget, so replies to commands, songs
                # and failures in the same group go first (#25.16).
                spare["rate_limit_args"] = BACKGROUND
            await self._bot.edit_message_text(
                chat_id=key[0], message_id=key[1], text=text, **spare
            )
            self._shown[key] = text
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("group board edit skipped: %s", exc)
            else:
                self._shown[key] = text
        except TelegramError as exc:
            log.warning("group board edit failed: %s", exc)
        except Exception as exc:  # cosmetic: never an unretrieved task error (#16.5)
            log.warning("group board edit failed: %s: %s", type(exc).__name__, exc)

    async def _language(self, key: tuple[int, int]) -> str | None:
        """The group's own language (issue #25 item 10), not that of whoever touched it last;
        the toucher's only for a group with none stored yet."""
        if self._chat_settings is not None:
            stored = (await self._chat_settings.get(key[0])).language
            if stored:
                return stored
        return self._lang.get(key)

    async def close(self) -> None:
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
