"""Songs the provider made and Telegram refused, kept on disk for a free re-send (#16.6, #24.1).

Why a store of their own: such a song was paid for (its credit stays spent, its generation keeps
counting), so the requester may have it later by 📤 / ▶️; but each one is a file on disk for days,
so a requester holds only a few (`SONGBOT_KEEP_UNSENT_PER_USER`), and once a re-send gets it
through it is a delivered song like any other.
"""

from __future__ import annotations

from typing import Final

from storage.db import Database
from storage.jobs.rows import SELECT, Job
from storage.states import JobState

# The error key of a song that was made but that Telegram kept refusing (its audio is kept).
UPLOAD_FAILED: Final = "error_telegram_upload"

_KEPT: Final = (
    "state = 'failed' AND error_key = ? AND result_path IS NOT NULL "
    "AND delivered_message_id IS NULL"
)


class KeptSongs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_requester(self, user_id: int) -> list[Job]:
        """A requester's kept songs, newest first."""
        rows = await self.db.fetchall(
            f"{SELECT} WHERE user_id = ? AND {_KEPT} ORDER BY id DESC",
            (user_id, UPLOAD_FAILED),
        )
        return [Job.from_row(r) for r in rows]

    async def forget(self, job_id: int, now: float) -> bool:
        """The kept file is gone (dropped over the bound): the job no longer offers a re-send."""
        changed = await self.db.execute_write(
            f"UPDATE jobs SET result_path = NULL, updated_at = ? WHERE id = ? AND {_KEPT}",
            (now, job_id, UPLOAD_FAILED),
        )
        return changed == 1

    async def delivered(
        self, job_id: int, *, message_id: int, file_id: str | None, now: float
    ) -> bool:
        """A re-send got the kept song through: the job is delivered from now on.

        The one move out of a terminal state, made here and not in the state table on purpose:
        the engine never takes a failed job up again, only this re-send does, and only for a
        song that exists. Nothing about billing changes: the song was charged and stayed so
        (migration 007), and the release trigger does not fire for `delivered`."""
        changed = await self.db.execute_write(
            "UPDATE jobs SET state = ?, delivered_message_id = ?, delivered_file_id = ?, "
            f"delivered_at = ?, result_path = NULL, updated_at = ? WHERE id = ? AND {_KEPT}",
            (JobState.DELIVERED.value, message_id, file_id, now, now, job_id, UPLOAD_FAILED),
        )
        return changed == 1
