"""Issue #24.14: retention covers /write drafts and every other table with personal text.

Through the real bot: a draft is written, aged past SONGBOT_RETENTION_DAYS by moving its
timestamps back, and the bot is restarted (the sweep runs at start and every few hours).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

from tests.support.harness import USER, BotHarness
from tests.support.write import write

DAY = 86_400.0
IDEA = "a song for my friend Marta about her diagnosis and her recovery"


def _age_draft(harness: BotHarness, draft_id: int, days: float) -> None:
    with sqlite3.connect(harness.db_path) as conn:
        conn.execute(
            "UPDATE lyrics_drafts SET created_at = created_at - ?, updated_at = updated_at - ? "
            "WHERE id = ?",
            (days * DAY, days * DAY, draft_id),
        )


def _rows(harness: BotHarness, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.db_path) as conn:
        return list(conn.execute(sql))


async def test_drafts_and_names_past_retention_are_swept(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_RETENTION_DAYS="30")
    await write(harness, f"/write {IDEA}")
    await write(harness, "/write a song about the sea")
    [(old,), (new,)] = _rows(harness, "SELECT id FROM lyrics_drafts ORDER BY id")
    _age_draft(harness, old, 400)
    _age_draft(harness, new, 29)
    # A user the bot last saw long ago, and one seen yesterday.
    await harness.services.users.upsert_seen(USER + 1, "Marta Old", time.time() - 400 * DAY)
    await harness.services.users.upsert_seen(USER + 2, "Recent Name", time.time() - DAY)
    await harness.services.users.set_banned(USER + 1, True)
    await harness.restart(SONGBOT_RETENTION_DAYS="30")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ids = [r[0] for r in _rows(harness, "SELECT id FROM lyrics_drafts ORDER BY id")]
        # The sweep deletes drafts first and forgets stale names after: wait for both.
        named = _rows(harness, f"SELECT display_name FROM users WHERE user_id = {USER + 1}")
        if ids == [new] and named == [("",)]:
            break
        await asyncio.sleep(0.05)  # the sweep runs in the background, right after start
    assert ids == [new]
    assert not _rows(harness, "SELECT 1 FROM lyrics_drafts WHERE idea LIKE '%Marta%'")
    # The call ledger keeps its rows (daily limits, token totals), no longer naming the draft.
    calls = _rows(harness, "SELECT draft_id FROM lyrics_calls ORDER BY id")
    assert len(calls) == 2 and calls[0][0] is None and calls[1][0] == new
    # A stale display name is forgotten; the row and its ban stay. A recent one stays.
    old_user = await harness.services.users.get(USER + 1)
    assert old_user is not None and old_user.display_name == "" and old_user.banned
    recent = await harness.services.users.get(USER + 2)
    assert recent is not None and recent.display_name == "Recent Name"
