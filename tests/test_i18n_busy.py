"""Issue #25 item 17 through the real bot: a music service that answers 503 to every start.

Wherever its deadline passes, such a job ends with the same words in every language: waiting in
line for its next try (`runner._expire`, which once said "took too long") or during a try
(`outcomes.transient`). The client's own retries are the fast test ones (`fast_client`): what is
tested is what the bot does once they are spent, so the deadline can be a second.
"""

from __future__ import annotations

import pytest

from bot.i18n import t
from tests.support.fixtures_aimlapi import fast_client
from tests.support.harness import BotHarness
from tests.support.ux import LYRICS


def texts_to(h: BotHarness, chat_id: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in h.tg.calls_to("sendMessage") + h.tg.calls_to("editMessageText")
        if c.ok and c.params.get("chat_id") == chat_id
    ]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("where", ["in line", "at a try"])
async def test_a_busy_service_is_named_and_ends_the_same_in_every_language(
    harness: BotHarness, lang: str, where: str
) -> None:
    await harness.restart(SONGBOT_JOB_TIMEOUT="1")
    await fast_client(harness)
    user = 4700 if lang == "en" else 4701
    harness.tg.add_user(user, language_code=lang)
    # In line: the first try is refused at once and the next one is 2 s away, past the
    # deadline. At a try: each refusal takes 0.3 s, so the first try outlasts the deadline.
    delay = 0.0 if where == "in line" else 0.3
    harness.api.script("POST /v2/generate/audio", status=503, times=None, delay=delay)
    harness.tg.send_text(user, user, f"/song slow blues\n{LYRICS}")
    job = await harness.wait_for_job(
        lambda j: j.user_id == user and bool(j.outcome_sent_at), timeout=40
    )
    # Statuses and outcomes read under the song's title (#25.12): what they say follows it.
    said = [text.split("\n", 1)[-1] for text in texts_to(harness, user)]
    waiting = t("status_waiting", lang, model=job.model, position=1)
    assert waiting not in said, said  # nothing else was in line: no "position 1"
    busy = t("status_provider_busy", lang, model=job.model)
    assert (busy in said) == (where == "in line"), said  # said while it waits for a try
    outcomes = [text for text in said if text.startswith("⚠️")]
    assert len(outcomes) == 1 and t("error_provider_unavailable", lang) in outcomes[0], said
    assert job.error_key == "error_provider_unavailable"
