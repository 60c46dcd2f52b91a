"""Which replica calls getUpdates: a PostgreSQL session advisory lock on a connection of its own.

Why an advisory lock and not a leader row: the server drops the lock the moment the holder's
connection ends, and a killed process's socket is closed by its kernel, so a successor can take
over within one retry interval, with no clock or heartbeat to tune. Telegram allows one poller per
bot; holding this lock is the permission to be it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Final

import psycopg

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "songbot poller" (any constant shared by all replicas).
POLLER_KEY: Final = 0x53_42_50_4F_4C_4C


class PollerLock:
    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """True if this process now holds the lock (or already did and still does)."""
        if self._conn is not None:
            if await self._alive():
                return True
            await self._drop()
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, int(self._timeout)),
                application_name="songbot-poller",
            )
        except (psycopg.Error, OSError) as exc:
            log.debug("poller lock: cannot connect: %s", type(exc).__name__)
            return False
        try:
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (POLLER_KEY,))
            row = await cursor.fetchone()
        except psycopg.Error:
            await conn.close()
            return False
        if not row or not row[0]:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        """Whether the lock's connection is still up (if it dropped, so did the lock)."""
        if self._conn is None:
            return False
        if await self._alive():
            return True
        await self._drop()
        return False

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(psycopg.Error):
            await self._conn.execute("SELECT pg_advisory_unlock(%s)", (POLLER_KEY,))
        await self._drop()

    async def _alive(self) -> bool:
        assert self._conn is not None
        try:
            await self._conn.execute("SELECT 1")
        except (psycopg.Error, OSError):
            return False
        return True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()
