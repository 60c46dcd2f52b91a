"""Issue #25 items 13 and 14 through the real bot: one model name, songs named by what they are,
and ❌ meaning cancel only."""

from __future__ import annotations

from bot.aimlapi.models import MODELS
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import LYRICS, deliver

ID = "minimax/music-2.0"
NAME = MODELS[ID].title


def texts_sent(h: BotHarness) -> list[str]:
    """Every text and caption the bot wrote, in sends and edits."""
    found: list[str] = []
    for method in ("sendMessage", "editMessageText", "sendAudio", "editMessageCaption"):
        for call in h.tg.calls_to(method):
            for field in ("text", "caption", "performer"):
                value = call.params.get(field)
                if isinstance(value, str):
                    found.append(value)
    return found


async def test_users_read_one_short_model_name_never_the_id(harness: BotHarness) -> None:
    job, audio = await deliver(harness)
    assert job.model == ID  # the id stays in the database (and the logs) for operators
    sent = texts_sent(harness)
    assert not [text for text in sent if ID in text], sent
    assert NAME in audio["caption"]
    assert NAME in harness.tg.calls_to("sendAudio")[-1].params["performer"]
    menu = harness.tg.send_text(PRIVATE_CHAT, USER, "/model")
    reply = await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == menu["message_id"],
    )
    assert NAME in reply.params["text"] and ID not in reply.params["text"]
    # The name users read is the name they type.
    harness.tg.send_text(
        PRIVATE_CHAT, USER, f"/song model:{MODELS['google/lyria2'].title} calm piano"
    )
    typed = await harness.wait_for_job(lambda j: j.model == "google/lyria2", timeout=30)
    assert typed.prompt == "calm piano"


async def test_cancel_names_the_song_and_speaks_to_the_user(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)
    tg.send_text(PRIVATE_CHAT, USER, f"/song slow midnight jazz\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.state == "pending")
    request = tg.send_text(PRIVATE_CHAT, USER, "/cancel")
    reply = await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == request["message_id"],
    )
    text = reply.params["text"]
    assert job.title and job.title in text  # the song's title (#25.12), never the model
    assert ID not in text and NAME not in text
    assert "music service" not in text and "charge" not in text  # the operator's bill, not theirs
    await harness.wait_state(job.id, "cancelled")


async def test_a_failure_is_not_marked_with_the_cancel_sign(harness: BotHarness) -> None:
    harness.api.set_outcome(fail="Generation failed")
    harness.tg.send_text(PRIVATE_CHAT, USER, f"/song sad piano ballad\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.state == "failed", timeout=30)
    await harness.tg.wait_for_call("deleteMessage")  # the outcome is out, the status gone
    replies = [
        c.params["text"]
        for c in harness.tg.calls_to("sendMessage")
        if c.ok
        and c.params.get("reply_parameters", {}).get("message_id") == job.request_message_id
    ]
    text = replies[-1].split("\n", 1)[-1]  # under the song's title (#25.12)
    assert text.startswith("⚠️") and "❌" not in text, text
