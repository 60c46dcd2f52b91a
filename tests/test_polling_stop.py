"""A stop while the first long poll is still connecting confirms what was fetched, at once.

PTB cancels the waiting getUpdates on a stop and then calls getUpdates once more (timeout 0)
to tell Telegram which updates were handled. With a one-connection pool, a stop that caught the
long poll while it connected left that call waiting for the cancelled one's slot until the pool
timeout: a second of stop, a logged traceback, and no confirmation (the last updates could come
back after a restart).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.support.harness import BotHarness


async def test_a_stop_right_after_the_start_confirms_the_fetched_updates(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="telegram.ext.Updater")
    # Stops at many moments of the first long poll's connection: one of them catches it between
    # the connect and the request.
    for step in range(12):
        await harness.restart()
        polls_before = len(harness.tg.calls_to("getUpdates"))
        for _ in range(step):
            await asyncio.sleep(0)
        await harness.stop()
        polls = harness.tg.calls_to("getUpdates")[polls_before:]
        confirms = [c.ok for c in polls if c.params.get("timeout") == 0]
        assert confirms == [True], f"stopped after {step} steps: no confirming getUpdates"
    assert "Error while calling `get_updates` one more time" not in caplog.text
