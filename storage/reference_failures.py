"""How many of a user's references failed today: the count behind SONGBOT_REFERENCE_FAILURE_LIMIT.

Why from `jobs` (no table of its own): a reference that could not be used ends its job `failed`
with one of a few error keys and a `finished_at`, which is all the count needs; no schema change.
A failed reference costs no quota (nothing was charged) but it did cost download and ffmpeg time,
so without a count one user could send transcode bombs all day (#17.4). Standard SQL with `?`
placeholders only.
"""

from __future__ import annotations

from typing import Final

from storage.db import Database
from storage.states import JobState
from storage.usage import utc_day_bounds

# The ends of a job whose Telegram reference could not be used (bot/engine/prepare_reference.py):
# unreadable or without audio, too big, too long or too short once converted, not downloadable.
REFERENCE_FAILURE_KEYS: Final = (
    "error_media",
    "error_reference_no_audio",
    "error_reference_too_big",
    "error_reference_too_long",
    "error_reference_too_short",
    "error_reference_unavailable",
)

_COUNT: Final = (
    "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND state = ? "
    "AND reference_file_id IS NOT NULL "
    f"AND error_key IN ({', '.join('?' for _ in REFERENCE_FAILURE_KEYS)}) "
    "AND finished_at >= ? AND finished_at < ?"
)


async def failed_references_today(db: Database, user_id: int, now: float) -> int:
    """The user's jobs whose Telegram reference failed in the current UTC day."""
    start, end = utc_day_bounds(now)
    value = await db.fetchval(
        _COUNT, (user_id, JobState.FAILED.value, *REFERENCE_FAILURE_KEYS, start, end)
    )
    return int(str(value or 0))
