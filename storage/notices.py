"""One-time notices: whether a user has already been told something (issue #25 item 15).

Why durable: "a spoken voice note gives odd results" is worth saying once per person, not with
every voice note and not again after a restart. Kept in the `meta` table (`notice:<name>:<user>`,
insert-if-absent, so of two voice notes at once only one carries the notice): no migration.
"""

from __future__ import annotations

from storage.meta import MetaStore


class NoticeStore:
    def __init__(self, meta: MetaStore) -> None:
        self._meta = meta

    async def first_time(self, notice: str, user_id: int) -> bool:
        """True exactly once per user and notice: the call that should show it."""
        return await self._meta.add(f"notice:{notice}:{user_id}", "1")
