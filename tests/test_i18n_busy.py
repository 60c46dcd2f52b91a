"""Issue #25 item 17 through the real bot: a music service that answers 503 to every start."""

from __future__ import annotations

import pytest

from bot.i18n import t
from tests.support.harness import BotHarness
from tests.support.ux import LYRICS


def texts_to(h: BotHarness, chat_id: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in h.tg.calls_to("sendMessage") + h.tg.calls_to("editMessageText")
        if c.ok and c.params.get("chat_id") == chat_id
    ]


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_busy_service_is_named_and_ends_the_same_in_every_language(
    harness: BotHarness, lang: str
) -> None:
    await harness.restart(SONGBOT_JOB_TIMEOUT="6")
    user = 4700 if lang == "en" else 4701
    harness.tg.add_user(user, language_code=lang)
    harness.api.script("POST /v2/generate/audio", status=503, times=None)
    harness.tg.send_text(user, user, f"/song slow blues\n{LYRICS}")
    job = await harness.wait_for_job(
        lambda j: j.user_id == user and bool(j.outcome_sent_at), timeout=40
    )
    # Statuses and outcomes read under the song's title (#25.12): what they say follows it.
    said = [text.split("\n", 1)[-1] for text in texts_to(harness, user)]
    waiting = t("status_waiting", lang, model=job.model, position=1)
    assert waiting not in said, said  # nothing else was in line: no "position 1"
    assert t("status_provider_busy", lang, model=job.model) in said, said
    outcomes = [text for text in said if text.startswith("⚠️")]
    assert len(outcomes) == 1 and t("error_provider_unavailable", lang) in outcomes[0], said
    assert job.error_key == "error_provider_unavailable"
