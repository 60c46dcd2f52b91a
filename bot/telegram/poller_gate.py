"""Long polling with several replicas: only the holder of the poller lock calls getUpdates.

Why a gate in front of getUpdates instead of starting and stopping PTB's updater: every replica
runs the same `run_polling`; the updater of a replica that is not the poller simply waits here
(no request reaches Telegram), and takes over the moment the lock is free, in the same loop that
PTB already retries and shuts down. So Telegram never sees two pollers, and the successor asks
with no offset: Telegram hands it every update the dead poller had not confirmed (intake is
idempotent, so one the predecessor had stored is not stored twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from storage.instances import Role
from storage.poller_lock import PollerLock

log = logging.getLogger(__name__)

RETRY: Final = 1.0


class PollerGate:
    def __init__(
        self, lock: PollerLock, *, on_role: Callable[[Role], None], retry: float = RETRY
    ) -> None:
        self._lock = lock
        self._on_role = on_role
        self._retry = retry

    @property
    def polling(self) -> bool:
        return self._lock.held

    async def wait_turn(self) -> None:
        """Return once this replica may call getUpdates (it holds the lock)."""
        if self._lock.held:
            if await self._lock.still_held():
                return
            log.warning("lost the poller lock (database connection dropped); waiting to retake it")
            self._on_role("worker")
        while not await self._lock.try_acquire():
            await asyncio.sleep(self._retry)
        log.info("this replica is now the one polling Telegram")
        self._on_role("poller")

    async def release(self) -> None:
        if self._lock.held:
            await self._lock.release()
            self._on_role("worker")
