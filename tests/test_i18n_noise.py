"""Issue #25 item 15 through the real bot: the spoken-voice notice is said once per person."""

from __future__ import annotations

from bot.i18n import t
from songbot_fakes.audio_fixtures import make_ogg_opus
from tests.support.harness import BotHarness
from tests.support.ux import LYRICS

SINGER = 4901


async def test_the_spoken_voice_notice_comes_once_per_user_even_after_a_restart(
    harness: BotHarness,
) -> None:
    tg = harness.tg
    tg.chat_burst = 100  # several songs in one private chat: flood control is not under test
    notice = t("reference_spoken_notice", "en")

    async def voice_song(number: int) -> None:
        """The `number`-th voice note with a /song caption, made into a song."""
        request = tg.send_media(
            SINGER, SINGER, "voice", make_ogg_opus(12.0), caption=f"/song gospel choir\n{LYRICS}"
        )
        await harness.wait_for_job(
            lambda j: j.request_message_id == request["message_id"] and j.state == "delivered",
            timeout=30,
        )
        assert len([j for j in await harness.jobs() if j.user_id == SINGER]) == number

    def notices() -> int:
        return sum(
            1
            for c in tg.calls_to("sendMessage")
            if c.ok and c.params.get("chat_id") == SINGER and c.params.get("text") == notice
        )

    tg.add_user(SINGER, language_code="en")
    await voice_song(1)
    assert notices() == 1
    await voice_song(2)
    await harness.restart()
    await voice_song(3)
    assert notices() == 1  # not with every voice note, and not again after a restart
