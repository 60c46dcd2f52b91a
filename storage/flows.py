"""Requests waiting for the user: the guided flow, a `/song` asking "lyrics or instrumental?", and
a request kept at the Stars paywall (migration 009).

Why rows: their buttons must work after a restart, each may make exactly one song however often
a button is tapped or an update is redelivered (`claim` is a compare-and-set on `job_id`), and
they expire after a day. The answers themselves are JSON (`bot/intake/kept.py` reads them): the
store does not need to know what a flow asks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

from storage.db import Database, Row

Kind = Literal["guided", "ask", "paywall"]
TTL: Final = 86_400.0  # a day: an answer after that starts over
_COLUMNS: Final = (
    "id, kind, chat_id, user_id, panel_message_id, step, data, job_id, created_at, expires_at"
)


@dataclass(frozen=True, slots=True)
class Flow:
    id: int
    kind: str
    chat_id: int
    user_id: int
    panel_message_id: int | None
    step: str
    data: dict[str, Any]
    job_id: int | None
    created_at: float
    expires_at: float

    @classmethod
    def from_row(cls, row: Row) -> Flow:
        values = tuple(row)
        data = json.loads(str(values[6]) or "{}")
        return cls(
            id=int(values[0]),
            kind=str(values[1]),
            chat_id=int(values[2]),
            user_id=int(values[3]),
            panel_message_id=None if values[4] is None else int(values[4]),
            step=str(values[5]),
            data=data if isinstance(data, dict) else {},
            job_id=None if values[7] is None else int(values[7]),
            created_at=float(values[8]),
            expires_at=float(values[9]),
        )

    def live(self, now: float) -> bool:
        """Not expired and not yet made into a song."""
        return self.job_id is None and now < self.expires_at


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class FlowStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start_guided(
        self, *, chat_id: int, user_id: int, step: str, data: dict[str, Any], now: float
    ) -> Flow:
        """The user's guided flow in this chat, started afresh (an older one is replaced)."""
        await self.prune(now)
        rows = await self.db.write_returning(
            "INSERT INTO song_flows (kind, chat_id, user_id, step, data, created_at, updated_at, "
            "expires_at) VALUES ('guided', ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, user_id) WHERE kind = 'guided' DO UPDATE SET "
            "panel_message_id = NULL, step = excluded.step, data = excluded.data, job_id = NULL, "
            "created_at = excluded.created_at, updated_at = excluded.updated_at, "
            f"expires_at = excluded.expires_at RETURNING {_COLUMNS}",
            (chat_id, user_id, step, _dump(data), now, now, now + TTL),
        )
        return Flow.from_row(rows[0])

    async def add(
        self,
        kind: Kind,
        *,
        chat_id: int,
        user_id: int,
        request_message_id: int,
        data: dict[str, Any],
        now: float,
    ) -> Flow | None:
        """A kept request (`ask` or `paywall`); None when this message's question was asked
        already (a redelivered update). A user keeps one paywalled request: the newest."""
        if kind == "paywall":
            await self.db.execute_write(
                "DELETE FROM song_flows WHERE kind = 'paywall' AND user_id = ? AND job_id IS NULL",
                (user_id,),
            )
        conflict = (
            "ON CONFLICT (chat_id, request_message_id) WHERE kind = 'ask' DO NOTHING "
            if kind == "ask"
            else ""
        )
        rows = await self.db.write_returning(
            "INSERT INTO song_flows (kind, chat_id, user_id, request_message_id, data, "
            "created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            f"{conflict}RETURNING {_COLUMNS}",
            (kind, chat_id, user_id, request_message_id, _dump(data), now, now, now + TTL),
        )
        return Flow.from_row(rows[0]) if rows else None

    async def get(self, flow_id: int) -> Flow | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM song_flows WHERE id = ?", (flow_id,))
        return None if row is None else Flow.from_row(row)

    async def guided(self, chat_id: int, user_id: int, now: float) -> Flow | None:
        """The user's live guided flow in this chat, if any."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM song_flows WHERE kind = 'guided' AND chat_id = ? "
            "AND user_id = ? AND job_id IS NULL AND expires_at > ?",
            (chat_id, user_id, now),
        )
        return None if row is None else Flow.from_row(row)

    async def paywalled(self, user_id: int, now: float) -> Flow | None:
        """The request the user's paywall kept, if it is still waiting."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM song_flows WHERE kind = 'paywall' AND user_id = ? "
            "AND job_id IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1",
            (user_id, now),
        )
        return None if row is None else Flow.from_row(row)

    async def save(
        self,
        flow_id: int,
        *,
        step: str,
        data: dict[str, Any],
        now: float,
        panel_message_id: int | None = None,
    ) -> None:
        """The next question and the answers so far (and the panel, when it moved)."""
        await self.db.execute_write(
            "UPDATE song_flows SET step = ?, data = ?, updated_at = ?, "
            "panel_message_id = COALESCE(?, panel_message_id) WHERE id = ?",
            (step, _dump(data), now, panel_message_id, flow_id),
        )

    async def claim(self, flow_id: int, now: float) -> bool:
        """Take the flow to make its song; False if it was made (or is being made) or expired."""
        changed = await self.db.execute_write(
            "UPDATE song_flows SET job_id = 0, updated_at = ? "
            "WHERE id = ? AND job_id IS NULL AND expires_at > ?",
            (now, flow_id, now),
        )
        return changed == 1

    async def set_job(self, flow_id: int, job_id: int, now: float) -> None:
        await self.db.execute_write(
            "UPDATE song_flows SET job_id = ?, updated_at = ? WHERE id = ?",
            (job_id, now, flow_id),
        )

    async def release(self, flow_id: int, now: float) -> None:
        """Undo a claim that made nothing (a refusal): the buttons work again."""
        await self.db.execute_write(
            "UPDATE song_flows SET job_id = NULL, updated_at = ? WHERE id = ? AND job_id = 0",
            (now, flow_id),
        )

    async def delete(self, flow_id: int) -> None:
        await self.db.execute_write("DELETE FROM song_flows WHERE id = ?", (flow_id,))

    async def prune(self, now: float) -> int:
        """Expired rows go (a day past their end, so a late tap still reads "expired")."""
        return await self.db.execute_write(
            "DELETE FROM song_flows WHERE expires_at < ?", (now - TTL,)
        )
