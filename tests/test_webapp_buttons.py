"""📚 buttons that open the Mini App, and /help's line about it, through the real bot.

In a private chat: a `web_app` button under a delivered song and under /songs. In a group (where
Telegram refuses `web_app` buttons, and the fake does too): a t.me link to the bot's main Mini
App whose start parameter names the group, which the app reads back and checks membership of.
Without SONGBOT_PUBLIC_URL none of this appears.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.i18n import plain
from bot.webapp.access import group_of
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import BOT, GROUP, LYRICS, ask, buttons, deliver
from tests.support.webapp import PUBLIC, base, init_data

OTHER = 2002


def app_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in buttons(message) if "web_app" in b or "startapp=" in b.get("url", "")]


async def test_a_delivered_private_song_and_songs_open_the_app(app_bot: BotHarness) -> None:
    _, audio = await deliver(app_bot)
    (button,) = app_buttons(audio)
    assert button == {"text": "📚 Open the app", "web_app": {"url": f"{PUBLIC}/app/"}}
    listing = (await ask(app_bot, PRIVATE_CHAT, USER, "/songs")).result
    assert app_buttons(listing) == [button]
    # Last, under the songs.
    assert listing["reply_markup"]["inline_keyboard"][-1] == [button]
    # An empty search still offers the app (it can make the first song).
    empty = (await ask(app_bot, PRIVATE_CHAT, USER, "/songs nothing-like-this")).result
    assert app_buttons(empty) == [button]


async def test_a_russian_chat_gets_the_button_in_russian(app_bot: BotHarness) -> None:
    app_bot.tg.add_user(USER, first_name="Ада", language_code="ru")
    listing = (await ask(app_bot, PRIVATE_CHAT, USER, "/songs")).result
    (button,) = app_buttons(listing)
    assert button["text"] == plain("app_open_button", "ru") == "📚 Открыть приложение"


async def test_a_groups_songs_link_to_the_main_app_for_that_group(app_bot: BotHarness) -> None:
    app_bot.tg.add_chat(GROUP, type="supergroup", title="Choir")
    app_bot.tg.add_user(OTHER, first_name="Bo", language_code="en")
    _, audio = await deliver(app_bot, f"/song@{BOT} surf rock\n{LYRICS}", chat_id=GROUP)
    # Under the song itself, nothing opens the app: a group takes no web_app button.
    assert app_buttons(audio) == []
    listing = (await ask(app_bot, GROUP, OTHER, f"/songs@{BOT}")).result
    (button,) = app_buttons(listing)
    assert "web_app" not in button
    url = urlsplit(button["url"])
    assert (url.netloc, url.path) == ("t.me", f"/{BOT}")
    (param,) = parse_qs(url.query)["startapp"]
    assert param == "g_100777" and group_of(param) == GROUP
    # The app opened from that link (Telegram passes the parameter as start_param) lists the
    # group's songs for a member, and nothing for someone who is not in the group.
    app_bot.tg.set_member_status(GROUP, OTHER, "member")
    member = init_data(app_bot.tg.token, OTHER, start_param=param)
    async with httpx.AsyncClient(base_url=base(app_bot), timeout=20) as client:
        seen = await client.get("/app/api/songs", headers={"Authorization": f"tma {member}"})
        stranger = init_data(app_bot.tg.token, 3003, start_param=param)
        hidden = await client.get("/app/api/songs", headers={"Authorization": f"tma {stranger}"})
    assert [s["title"] for s in seen.json()["songs"]] == ["Stay, stay, stay"]
    assert hidden.json()["songs"] == []


async def test_help_mentions_the_app_when_it_is_on(app_bot: BotHarness) -> None:
    on = (await ask(app_bot, PRIVATE_CHAT, USER, "/help")).result["text"]
    assert "The app" in on and "/songs" in on


async def test_without_a_public_url_no_button_opens_an_app(harness: BotHarness) -> None:
    _, audio = await deliver(harness)
    assert app_buttons(audio) == []
    listing = (await ask(harness, PRIVATE_CHAT, USER, "/songs")).result
    assert app_buttons(listing) == []
    assert None not in harness.tg.menu_buttons
    assert "The app" not in (await ask(harness, PRIVATE_CHAT, USER, "/help")).result["text"]


@pytest.mark.parametrize("chat", ["supergroup", "private-http"])
async def test_the_fake_refuses_web_app_buttons_where_telegram_does(
    fake_telegram: FakeTelegram, chat: str
) -> None:
    url = "http://songs.example.test/app/" if chat == "private-http" else f"{PUBLIC}/app/"
    chat_id = GROUP if chat == "supergroup" else PRIVATE_CHAT
    fake_telegram.add_chat(chat_id, type="supergroup" if chat_id < 0 else "private")
    async with httpx.AsyncClient(base_url=fake_telegram.base_url, timeout=20) as client:
        answer = await client.post(
            f"/bot{fake_telegram.token}/sendMessage",
            json={
                "chat_id": chat_id,
                "text": "songs",
                "reply_markup": {"inline_keyboard": [[{"text": "📚", "web_app": {"url": url}}]]},
            },
        )
    assert answer.status_code == 400
    expected = "BUTTON_TYPE_INVALID" if chat == "supergroup" else "BUTTON_URL_INVALID"
    assert expected in answer.json()["description"]
