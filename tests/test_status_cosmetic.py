"""Issue #16.5: a status message that cannot be edited never delays or fails the job.

Through the real bot: every editMessageText is carried out but answered with a result of the
wrong shape (PTB then raises a non-Telegram error while parsing it).
"""

from __future__ import annotations

import time

from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG


async def test_a_garbled_edit_answer_neither_delays_nor_fails_the_song(
    harness: BotHarness,
) -> None:
    edits = harness.tg.script("editMessageText", status=None, garble=True, times=None)
    started = time.monotonic()
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.is_terminal, timeout=20)
    assert job.state == "delivered", (job.state, job.error_key, job.error_detail)
    assert edits.hits >= 1  # the status edits really went wrong
    assert job.transient_errors == 0  # and no step was retried because of them
    assert time.monotonic() - started < 8
    assert len([c for c in harness.tg.calls_to("sendAudio") if c.ok]) == 1
