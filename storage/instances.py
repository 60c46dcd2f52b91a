"""The processes working one database, and the leases of those that died.

Why heartbeats as well as leases: a lease runs for `SONGBOT_LEASE_SECONDS` (30 s) so a slow step
is not taken away from a live worker; a replica that was killed stops beating at once, so its jobs
can be taken over after a few seconds instead (`release_dead`), not after the lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storage.db import Database

Role = Literal["poller", "worker"]


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    host: str
    pid: int
    role: str
    started_at: float
    heartbeat_at: float


class InstanceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(self, instance_id: str, *, host: str, pid: int, now: float) -> None:
        await self.db.execute_write(
            "INSERT INTO instances (id, host, pid, role, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, 'worker', ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            (instance_id, host, pid, now, now),
        )

    async def beat(self, instance_id: str, *, role: Role, now: float) -> bool:
        """False if our row is gone: another replica took us for dead (we were paused too long)."""
        changed = await self.db.execute_write(
            "UPDATE instances SET heartbeat_at = ?, role = ? WHERE id = ?",
            (now, role, instance_id),
        )
        return changed == 1

    async def release_dead(self, *, now: float, stale_after: float) -> tuple[int, list[str]]:
        """Hand back every lease of an instance whose heartbeat is older than `stale_after`,
        due at once, and forget those instances. Returns (jobs released, instance ids)."""
        cutoff = now - stale_after
        rows = await self.db.fetchall(
            "SELECT id FROM instances WHERE heartbeat_at < ? ORDER BY id", (cutoff,)
        )
        dead = [str(r[0]) for r in rows]
        if not dead:
            return 0, []
        marks = ", ".join("?" for _ in dead)
        least = self.db.dialect.least("next_check_at", "?")
        released = await self.db.execute_write(
            f"UPDATE jobs SET lease_owner = NULL, lease_until = NULL, next_check_at = {least} "
            f"WHERE lease_owner IN ({marks}) AND next_check_at IS NOT NULL",
            (now, *dead),
        )
        # Still stale at delete time: a replica that came back meanwhile keeps its row.
        await self.db.execute_write(
            f"DELETE FROM instances WHERE id IN ({marks}) AND heartbeat_at < ?", (*dead, cutoff)
        )
        return released, dead

    async def live(self, *, now: float, stale_after: float) -> list[Instance]:
        rows = await self.db.fetchall(
            "SELECT id, host, pid, role, started_at, heartbeat_at FROM instances "
            "WHERE heartbeat_at >= ? ORDER BY started_at, id",
            (now - stale_after,),
        )
        return [
            Instance(str(r[0]), str(r[1]), int(r[2]), str(r[3]), float(r[4]), float(r[5]))
            for r in rows
        ]

    async def remove(self, instance_id: str) -> None:
        """A clean shutdown: the others need not wait for our heartbeat to go stale."""
        await self.db.execute_write("DELETE FROM instances WHERE id = ?", (instance_id,))
