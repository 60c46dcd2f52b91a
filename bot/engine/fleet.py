"""This process among the replicas that share one PostgreSQL database.

Why here: the engine's leases are what a dead replica leaves behind. Every replica beats every
`HEARTBEAT` seconds; each also looks for replicas whose beat is older than `STALE_AFTER` and hands
their jobs back at once (well under the 30 s lease), then wakes its own runner to take them. The
number of live replicas sets each one's share of Telegram's flood budget (bot/telegram/flood.py),
so the fleet as a whole stays within the bot's limits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Final

from bot.periodic import periodic
from storage.db import StorageError
from storage.flood_slots import FloodSlots
from storage.instances import InstanceStore, Role

log = logging.getLogger(__name__)

HEARTBEAT: Final = 1.5
STALE_AFTER: Final = 6.0
# Flood slots older than this are dropped (a group's budget looks back one minute).
FLOOD_SLOTS_KEPT: Final = 180.0


class Fleet:
    def __init__(
        self,
        instances: InstanceStore,
        instance_id: str,
        *,
        wake: Callable[[], None],
        on_share: Callable[[int], None],
        on_role: Callable[[str, Role], None],
        flood: FloodSlots | None = None,
        heartbeat: float = HEARTBEAT,
        stale_after: float = STALE_AFTER,
    ) -> None:
        self.instances = instances
        self.instance_id = instance_id
        self.role: Role = "worker"
        self.live = 1
        self.last_beat = 0.0
        self.taken_over = 0
        self._wake = wake
        self._on_share = on_share
        self._on_role = on_role
        self._flood = flood
        self._heartbeat = heartbeat
        self._stale_after = stale_after
        self._failing = False
        self._loop = periodic("fleet-heartbeat", self._beat, heartbeat, first_delay=heartbeat)

    async def start(self) -> None:
        await self.instances.register(
            self.instance_id, host=socket.gethostname(), pid=os.getpid(), now=time.time()
        )
        self._on_role(self.instance_id, self.role)
        await self.tick()
        self._loop.start()
        log.info("replica %s joined (%d live)", self.instance_id, self.live)

    def set_role(self, role: Role) -> None:
        if role != self.role:
            self.role = role
            self._on_role(self.instance_id, role)

    async def tick(self) -> None:
        """One beat: our heartbeat, the dead replicas' jobs, the live count."""
        now = time.time()
        if not await self.instances.beat(self.instance_id, role=self.role, now=now):
            # Paused past STALE_AFTER (our jobs were handed on): carry on as a new member.
            log.warning("replica %s was taken for dead; registering again", self.instance_id)
            await self.instances.register(
                self.instance_id, host=socket.gethostname(), pid=os.getpid(), now=now
            )
        self.last_beat = now
        released, dead = await self.instances.release_dead(now=now, stale_after=self._stale_after)
        if dead:
            self.taken_over += released
            log.warning(
                "replica(s) %s stopped beating; %d job(s) handed back", ", ".join(dead), released
            )
            self._wake()
        live = len(await self.instances.live(now=now, stale_after=self._stale_after))
        if live != self.live:
            log.info("%d replica(s) live", live)
        self.live = max(1, live)
        self._on_share(self.live)
        if self._flood is not None:
            await self._flood.prune(before=now - FLOOD_SLOTS_KEPT)

    async def _beat(self) -> None:
        try:
            await self.tick()
        except StorageError as exc:  # the server went away: /healthz says so; retry
            if not self._failing:
                every = self._heartbeat
                log.warning("heartbeat failed (retrying every %.1fs): %s", every, exc)
            self._failing = True
            return
        if self._failing:
            log.info("heartbeat back: the database answers again")
        self._failing = False

    async def stop(self) -> None:
        await self._loop.stop()
        with contextlib.suppress(StorageError):
            await self.instances.remove(self.instance_id)
