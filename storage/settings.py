"""Per-chat settings and per-user records (bans, language override, display name).

Why defaults live here: a chat that never ran /settings has no row, and every caller must still see
the same defaults; writes are upserts so no caller needs to know whether a row exists.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from storage.db import Database, Row

# "admins": only the chat's administrators may start songs (groups).
WHO_MAY_REQUEST: Final = ("everyone", "admins")


def _now(now: float | None) -> float:
    return time.time() if now is None else now


@dataclass(frozen=True, slots=True)
class ChatSettings:
    chat_id: int
    model: str | None = None
    audio_prefs: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    who_may_request: str = "everyone"
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: int
    banned: bool
    language: str | None
    display_name: str
    first_seen_at: float | None
    last_seen_at: float | None
    updated_at: float


class ChatSettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, chat_id: int) -> ChatSettings:
        row = await self.db.fetchone(
            f"SELECT {_CHAT_COLUMNS} FROM chat_settings WHERE chat_id = ?", (chat_id,)
        )
        return ChatSettings(chat_id=chat_id) if row is None else _chat_settings(row)

    async def _set(self, chat_id: int, column: str, value: object, now: float | None) -> None:
        assert column in {"model", "audio_prefs", "language", "who_may_request"}
        await self.db.execute_write(
            f"INSERT INTO chat_settings (chat_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (chat_id) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            (chat_id, value, _now(now)),
        )

    async def set_model(
        self, chat_id: int, model: str | None, *, now: float | None = None
    ) -> None:
        """None means "use the bot's default model"."""
        await self._set(chat_id, "model", model, now)

    async def set_language(
        self, chat_id: int, language: str | None, *, now: float | None = None
    ) -> None:
        await self._set(chat_id, "language", language, now)

    async def adopt_language(
        self, chat_id: int, language: str, *, now: float | None = None
    ) -> None:
        """Give a group the language of its first user, unless it has one (one atomic write:
        of two first messages at once, the first written wins and the other changes nothing)."""
        await self.db.execute_write(
            "INSERT INTO chat_settings (chat_id, language, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET "
            "language = COALESCE(chat_settings.language, excluded.language)",
            (chat_id, language, _now(now)),
        )

    async def set_who_may_request(
        self, chat_id: int, who: str, *, now: float | None = None
    ) -> None:
        if who not in WHO_MAY_REQUEST:
            raise ValueError(f"who_may_request must be one of {', '.join(WHO_MAY_REQUEST)}")
        await self._set(chat_id, "who_may_request", who, now)

    async def set_audio_prefs(
        self, chat_id: int, prefs: Mapping[str, object], *, now: float | None = None
    ) -> None:
        """Replace the chat's audio preferences (a JSON object, e.g. format and bitrate)."""
        encoded = json.dumps(dict(prefs), ensure_ascii=False, sort_keys=True)
        await self._set(chat_id, "audio_prefs", encoded, now)

    async def reset(self, chat_id: int) -> bool:
        """Back to defaults."""
        changed = await self.db.execute_write(
            "DELETE FROM chat_settings WHERE chat_id = ?", (chat_id,)
        )
        return changed == 1


_CHAT_COLUMNS: Final = "chat_id, model, audio_prefs, language, who_may_request, updated_at"


def _chat_settings(row: Row | Sequence[Any]) -> ChatSettings:
    return ChatSettings(
        chat_id=int(row[0]),
        model=row[1],
        audio_prefs=json.loads(row[2] or "{}"),
        language=row[3],
        who_may_request=str(row[4]),
        updated_at=float(row[5]),
    )


def _user(row: Row | Sequence[Any]) -> UserRecord:
    return UserRecord(
        user_id=int(row[0]),
        banned=bool(row[1]),
        language=row[2],
        display_name=str(row[3]),
        first_seen_at=None if row[4] is None else float(row[4]),
        last_seen_at=None if row[5] is None else float(row[5]),
        updated_at=float(row[6]),
    )


_USER_COLUMNS: Final = (
    "user_id, banned, language, display_name, first_seen_at, last_seen_at, updated_at"
)


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
        )
        return None if row is None else _user(row)

    async def upsert_seen(self, user_id: int, name: str, now: float) -> None:
        """Remember the user's current display name (for /stats and admin lists)."""
        await self.db.execute_write(
            "INSERT INTO users (user_id, display_name, first_seen_at, last_seen_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "display_name = excluded.display_name, last_seen_at = excluded.last_seen_at, "
            "first_seen_at = COALESCE(users.first_seen_at, excluded.first_seen_at), "
            "updated_at = excluded.updated_at",
            (user_id, name, now, now, now),
        )

    async def forget_names(self, *, before: float) -> int:
        """Retention (#24.14): the display name of a user not seen since `before` is blanked;
        the row itself stays (a ban or a language choice outlives retention)."""
        return await self.db.execute_write(
            "UPDATE users SET display_name = '' WHERE display_name != '' "
            "AND COALESCE(last_seen_at, updated_at) < ?",
            (before,),
        )

    async def set_banned(self, user_id: int, banned: bool, *, now: float | None = None) -> None:
        """Works for users the bot has never seen, so an admin can ban pre-emptively."""
        await self.db.execute_write(
            "INSERT INTO users (user_id, banned, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET banned = excluded.banned, "
            "updated_at = excluded.updated_at",
            (user_id, int(banned), _now(now)),
        )

    async def is_banned(self, user_id: int) -> bool:
        value = await self.db.fetchval("SELECT banned FROM users WHERE user_id = ?", (user_id,))
        return bool(value)

    async def set_language(
        self, user_id: int, language: str | None, *, now: float | None = None
    ) -> None:
        """None clears the override (Telegram's language_code is used again)."""
        await self.db.execute_write(
            "INSERT INTO users (user_id, language, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at",
            (user_id, language, _now(now)),
        )

    async def list_banned(self, *, limit: int = 100) -> list[UserRecord]:
        rows = await self.db.fetchall(
            f"SELECT {_USER_COLUMNS} FROM users WHERE banned = 1 ORDER BY user_id LIMIT ?",
            (limit,),
        )
        return [_user(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Requester:
    """Who is asking and where: the user's record (None until first stored) and the chat's
    settings (defaults when it has none): what every update needs before it can answer."""

    user: UserRecord | None
    chat: ChatSettings


_USER_COUNT: Final = len(_USER_COLUMNS.split(","))
_REQUESTER_SQL: Final = (
    "SELECT "
    + ", ".join(f"u.{c.strip()}" for c in _USER_COLUMNS.split(","))
    + ", "
    + ", ".join(f"c.{c.strip()}" for c in _CHAT_COLUMNS.split(","))
    + " FROM (SELECT ? AS user_id, ? AS chat_id) AS q "
    "LEFT JOIN users AS u ON u.user_id = q.user_id "
    "LEFT JOIN chat_settings AS c ON c.chat_id = q.chat_id"
)


async def load_requester(db: Database, user_id: int, chat_id: int) -> Requester:
    """The user's record and the chat's settings in one query.

    Why one: every aiosqlite call is a round trip to its thread and back through the event
    loop's wake-up pipe (about 0.2 ms of CPU), and the language, the access check and the
    model choice each need these rows on every update (bench/bench_updates.py).
    """
    row = await db.fetchone(_REQUESTER_SQL, (user_id, chat_id))
    assert row is not None  # the one-row subquery always yields a row
    user = None if row[0] is None else _user(row[:_USER_COUNT])
    chat_row = row[_USER_COUNT:]
    chat = ChatSettings(chat_id=chat_id) if chat_row[0] is None else _chat_settings(chat_row)
    return Requester(user=user, chat=chat)
