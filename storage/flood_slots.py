"""Telegram's flood budget in the shared database: every replica takes its message slots here.

Why slots and not counters: a slot is a point in time one message may go out at; slot n of a
scope starts at n × width seconds (unix time), and the primary key lets each be taken once. With
one global slot per 1/29 s, no window of one second ever holds more than 29 messages of the whole
fleet, however the messages fall across the replicas, and an idle replica's share is not lost as it
is with a fixed split. The first free slot at or after "now" is found and taken in one statement;
two replicas racing for it see one of them win, and the loser takes the next.

PostgreSQL only (`generate_series`); with SQLite there is one process and its limiter keeps the
budget in memory (bot/telegram/flood.py).
"""

from __future__ import annotations

import math
from typing import Final

from storage.db import Database

GLOBAL: Final = 0  # the scope of the whole bot; groups use their (negative) chat id
# How far ahead one statement looks for a free slot (at 1/29 s slots: about 35 s).
_LOOKAHEAD: Final = 1000
_ATTEMPTS: Final = 5


class FloodSlots:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def take(
        self, scope: int, *, width: float, not_before: float, horizon: float | None = None
    ) -> float | None:
        """Take the first free slot of `scope` starting at or after `not_before`; returns when
        it starts. With `horizon`, only a slot starting by then (else None, nothing taken)."""
        first = math.ceil(not_before / width - 1e-9)
        last = first + _LOOKAHEAD
        if horizon is not None:
            last = min(last, math.floor(horizon / width + 1e-9))
            if last < first:
                return None
        for _ in range(_ATTEMPTS):
            rows = await self.db.write_returning(
                "INSERT INTO flood_slots (scope, slot, at) "
                "SELECT ?, s, s * ? FROM generate_series(?::bigint, ?::bigint) AS s "
                "WHERE NOT EXISTS (SELECT 1 FROM flood_slots f WHERE f.scope = ? AND f.slot = s) "
                "ORDER BY s LIMIT 1 ON CONFLICT DO NOTHING RETURNING slot",
                (scope, width, first, last, scope),
                # One taker per scope at a time: dozens racing for the same first free slot
                # would mostly lose and retry; queued on a lock each takes it at once.
                serialize_on=f"flood:{scope}",
            )
            if rows:
                return int(rows[0][0]) * width
            found = await self.db.fetchval(
                "SELECT COUNT(*) FROM flood_slots WHERE scope = ? AND slot BETWEEN ? AND ?",
                (scope, first, last),
            )
            if int(str(found)) > last - first:
                if horizon is not None:
                    return None
                first, last = last + 1, last + 1 + _LOOKAHEAD  # all taken: look further
            # else another replica took the one we chose: try again
        return None

    async def block(self, scope: int, *, width: float, start: float, until: float) -> None:
        """Take every free slot of `scope` in [start, until): Telegram said retry_after, so no
        replica sends in that span."""
        first = math.ceil(start / width - 1e-9)
        last = math.floor(until / width - 1e-9)
        if last < first:
            return
        await self.db.execute_write(
            "INSERT INTO flood_slots (scope, slot, at) "
            "SELECT ?, s, s * ? FROM generate_series(?::bigint, ?::bigint) AS s "
            "ON CONFLICT DO NOTHING",
            (scope, width, first, last),
        )

    async def prune(self, *, before: float) -> int:
        return await self.db.execute_write("DELETE FROM flood_slots WHERE at < ?", (before,))
