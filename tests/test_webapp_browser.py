"""The Mini App in a real browser: Debian's Chromium against the real bot and the fakes.

The page is opened as Telegram opens it (a signed initData from the test, the theme, the buttons;
tests/support/webapp_browser.py) and used as a person would: the library lists, plays, searches,
renames,
deletes and shares; the form records with Chromium's fake microphone and makes exactly one song,
which arrives in the private chat. Waits are for states, with generous deadlines: the machine is
shared and Chromium is heavy.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping

import pytest
from playwright.async_api import BrowserContext, Route, expect

from bot.delivery.app_buttons import group_start_param
from tests.support import webapp
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import BOT, GROUP, LYRICS, deliver
from tests.support.webapp_browser import (
    DARK,
    LIGHT,
    chromium,
    init_data,
    open_app,
    telegram_calls,
    telegram_stub,
    wait_for_telegram_call,
)

# A real browser is a second process: the slow tier, whatever the fixtures say.
pytestmark = [pytest.mark.process, pytest.mark.timeout(240)]

OTHER = 2002
SLOW = 60_000  # ms: Chromium on a loaded two-core machine


@pytest.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    async with chromium() as context:
        yield context


def base(h: BotHarness) -> str:
    return webapp.base(h).rstrip("/")


def stub_for(
    h: BotHarness,
    user_id: int = USER,
    *,
    language: str = "en",
    scheme: str = "light",
    theme: Mapping[str, str] = LIGHT,
    platform: str = "unknown",
    start_param: str | None = None,
) -> str:
    raw, unsafe = init_data(h.tg.token, user_id, language=language, start_param=start_param)
    return telegram_stub(raw, unsafe, theme=theme, scheme=scheme, platform=platform)


async def test_the_page_lists_plays_and_searches_the_users_songs(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    job, _ = await deliver(app_bot)
    await deliver(app_bot, "/song gospel choir, hand claps\n[Verse]\nRise up, rise up\n")
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    songs = page.locator("#songs li.song")
    await expect(songs).to_have_count(2, timeout=SLOW)
    titles = page.locator("#songs .title")
    await expect(titles).to_contain_text(["Stay, stay, stay"], timeout=SLOW)
    # The page told Telegram it is ready and took the whole height.
    assert await telegram_calls(page, "ready") and await telegram_calls(page, "expand")

    # Play the first song's audio: Chromium must decode the bytes the bot serves.
    song = songs.filter(has_text="Stay, stay, stay")
    player = song.locator("audio.player")
    await player.evaluate(
        """(audio) => {
            window.__played = new Promise((resolve, reject) => {
                audio.addEventListener("playing", () => resolve("playing"), { once: true });
                audio.addEventListener("error", () => reject(new Error("media error " +
                    (audio.error && audio.error.code))), { once: true });
            });
            audio.play().catch(() => {});
        }"""
    )
    assert await page.evaluate("window.__played") == "playing"
    duration = await player.evaluate("(audio) => audio.duration")
    stored = await app_bot.services.songs.get(int(await song.get_attribute("data-id") or "0"))
    assert stored is not None and stored.job_id == job.id and stored.duration is not None
    assert abs(duration - stored.duration) < 1.5

    # Search narrows the list as the person types; an unknown word shows the empty note.
    await page.locator("#search").fill("RISE up")
    await expect(titles).to_have_count(1, timeout=SLOW)
    await expect(titles.first).not_to_have_text("Stay, stay, stay")
    await page.locator("#search").fill("zzzz-nothing")
    await expect(songs).to_have_count(0, timeout=SLOW)
    await expect(page.locator("#library-note")).to_have_text(
        "No song matches that search.", timeout=SLOW
    )
    await page.locator("#search").fill("")
    await expect(songs).to_have_count(2, timeout=SLOW)


async def test_rename_share_and_delete_from_the_page(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    app_bot.tg.set_inline_mode(True)
    await app_bot.restart()  # getMe tells the bot inline mode is on
    job, _ = await deliver(app_bot)
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    song = page.locator("#songs li.song").first
    await expect(song.locator(".title")).to_have_text("Stay, stay, stay", timeout=SLOW)
    song_id = int(await song.get_attribute("data-id") or "0")

    # Rename: the title becomes an input; Enter saves it, on the page and in the library.
    await song.locator("button.rename").click()
    field = song.locator("input.rename-input")
    await expect(field).to_be_focused()
    await field.fill("Neon bay")
    await field.press("Enter")
    await expect(song.locator(".title")).to_have_text("Neon bay", timeout=SLOW)
    stored = await app_bot.services.songs.get(song_id)
    assert stored is not None and stored.title == "Neon bay"

    # Share: Telegram's chat picker opens on the song's inline query.
    await song.locator("button.share").click()
    (share,) = await wait_for_telegram_call(page, "switchInlineQuery")
    assert share["args"][0] == f"#{job.id}"

    # Delete asks first; a "no" keeps the song, a "yes" removes it everywhere.
    asked: list[str] = []

    async def answer_no(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]

    page.once("dialog", answer_no)
    await song.locator("button.delete").click()
    await expect(page.locator("#songs li.song")).to_have_count(1)
    assert asked and "Neon bay" in asked[0]
    assert await app_bot.services.songs.get(song_id) is not None

    page.once("dialog", lambda dialog: dialog.accept())
    await song.locator("button.delete").click()
    await expect(page.locator("#songs li.song")).to_have_count(0, timeout=SLOW)
    await expect(page.locator("#library-note")).to_be_visible()
    assert await app_bot.services.songs.get(song_id) is None


async def test_the_form_records_with_the_microphone_and_makes_one_song(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    app_bot.tg.add_chat(PRIVATE_CHAT)
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    await page.locator("#tab-make").click()
    await expect(page.locator("#make-form")).to_be_visible()
    assert await telegram_calls(page, "BackButton.show")

    await page.locator("#style").fill("soft acoustic folk, warm male voice")
    lyrics = "[Verse]\nLittle boat on a silver sea\n[Chorus]\nCarry me home"
    await page.locator("#lyrics").fill(lyrics)
    await expect(page.locator("#counter")).to_contain_text(str(len(lyrics)))

    # Chromium's fake microphone (a beep) through the real MediaRecorder: a take longer than the
    # reference model's minimum (music-01: more than 10 s).
    record = page.locator("#record")
    await expect(page.locator("#recording")).to_be_hidden()  # no player before a take
    await expect(page.locator("#purpose")).to_be_hidden()
    await record.click()
    await expect(record).to_have_class(re.compile("recording"), timeout=SLOW)
    await page.wait_for_timeout(12_500)
    await record.click()
    await expect(page.locator("#recording")).to_be_visible(timeout=SLOW)
    size = await page.evaluate("document.getElementById('recording-audio').src ? 1 : 0")
    assert size == 1

    await page.locator("#submit").click()
    done = page.locator("#form-done")
    await expect(done).to_be_visible(timeout=SLOW)
    assert not await page.locator("#form-error").is_visible()

    job = await app_bot.wait_for_job(lambda j: j.state == "delivered", timeout=90)
    assert job.chat_id == PRIVATE_CHAT and job.user_id == USER
    assert job.reference_file_id is not None
    assert len(await app_bot.jobs()) == 1
    assert len(app_bot.api.paid_submissions()) == 1
    delivered = app_bot.tg.message(PRIVATE_CHAT, job.delivered_message_id or 0)
    assert "audio" in delivered
    # The request the song answers is the recording the page sent, in the private chat.
    anchor = app_bot.tg.message(PRIVATE_CHAT, job.request_message_id)
    assert anchor["document"]["file_name"].startswith("recording.")
    assert anchor["caption"] == "🎛 From the app: soft acoustic folk, warm male voice"
    assert job.model == "music-01"  # "Automatic" chose the reference model, as /song would
    # The page is ready for another song: the form is cleared, its token renewed.
    await expect(page.locator("#style")).to_have_value("")
    await expect(page.locator("#recording")).to_be_hidden()


async def test_a_russian_user_sees_russian_labels(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    await deliver(app_bot)
    page = await open_app(browser, base(app_bot), stub_for(app_bot, language="ru"))
    await expect(page.locator("#tab-library")).to_have_text("Мои песни", timeout=SLOW)
    await expect(page.locator("#tab-make")).to_have_text("Новая песня")
    await expect(page.locator("#songs button.delete").first).to_contain_text("Удалить")
    assert await page.evaluate("document.documentElement.lang") == "ru"
    await page.locator("#tab-make").click()
    await expect(page.locator("#submit")).to_have_text("Создать песню")


async def test_the_page_follows_telegrams_dark_theme(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    await deliver(app_bot)
    page = await open_app(browser, base(app_bot), stub_for(app_bot, scheme="dark", theme=DARK))
    await expect(page.locator("#songs li.song")).to_have_count(1, timeout=SLOW)
    body = await page.evaluate(
        """() => ({
            background: getComputedStyle(document.body).backgroundColor,
            text: getComputedStyle(document.body).color,
            scheme: getComputedStyle(document.documentElement).colorScheme,
        })"""
    )
    # #212121 and #ffffff: Telegram's colours, and the browser's own controls dark as well.
    assert body == {
        "background": "rgb(33, 33, 33)",
        "text": "rgb(255, 255, 255)",
        "scheme": "dark",
    }


async def test_a_take_too_short_for_the_model_is_stopped_on_the_page(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    app_bot.tg.add_chat(PRIVATE_CHAT)
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    await page.locator("#tab-make").click()
    await page.locator("#style").fill("gospel choir")
    await page.locator("#lyrics").fill("[Verse]\nRise up")
    record = page.locator("#record")
    await record.click()
    await expect(record).to_have_class(re.compile("recording"), timeout=SLOW)
    await page.wait_for_timeout(2_000)
    await record.click()
    await expect(page.locator("#recording")).to_be_visible(timeout=SLOW)
    await page.locator("#submit").click()
    # music-01, the model Automatic picks for a take, wants more than 10 s.
    await expect(page.locator("#form-error")).to_have_text(
        "This take is too short for the model: record more than 10 s.", timeout=SLOW
    )
    assert await app_bot.jobs() == []
    assert app_bot.tg.messages(PRIVATE_CHAT) == []


async def test_inside_telegram_the_main_back_and_confirm_of_telegram_are_used(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    await deliver(app_bot)
    page = await open_app(browser, base(app_bot), stub_for(app_bot, platform="android"))
    await expect(page.locator("#songs li.song")).to_have_count(1, timeout=SLOW)
    await page.locator("#tab-make").click()
    # Telegram's own button replaces the page's.
    await expect(page.locator("#submit")).to_be_hidden()
    assert [c["args"] for c in await telegram_calls(page, "MainButton.setText")] == [
        ["Make the song"]
    ]
    assert await telegram_calls(page, "MainButton.show")
    await page.evaluate("window.__telegram.handlers.mainButtonClicked.forEach((h) => h())")
    await expect(page.locator("#form-error")).to_have_text(
        "Describe the style first: a genre, a mood or a voice.", timeout=SLOW
    )
    await page.evaluate("window.__telegram.handlers.backButtonClicked.forEach((h) => h())")
    await expect(page.locator("#library")).to_be_visible()
    assert await telegram_calls(page, "MainButton.hide")
    # Delete asks through Telegram's dialog (the stand-in answers yes), not the browser's.
    await page.locator("#songs button.delete").click()
    await expect(page.locator("#songs li.song")).to_have_count(0, timeout=SLOW)
    (asked,) = await telegram_calls(page, "showConfirm")
    assert "Stay, stay, stay" in asked["args"][0]
    assert await app_bot.services.songs.page(owner_id=USER) == ([], False)


async def test_a_slow_answer_to_an_older_search_does_not_mix_into_the_newer_one(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    await deliver(app_bot)
    await deliver(app_bot, "/song gospel choir, hand claps\n[Verse]\nRise up, rise up\n")
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    titles = page.locator("#songs .title")
    await expect(titles).to_have_count(2, timeout=SLOW)
    held = asyncio.Event()
    release = asyncio.Event()

    async def slow_search(route: Route) -> None:
        # The answer to "stay" is held until the newer search has been shown.
        held.set()
        await release.wait()
        await route.continue_()

    await page.route("**/app/api/songs?q=stay*", slow_search)
    await page.locator("#search").fill("stay")
    await asyncio.wait_for(held.wait(), 60)
    await page.locator("#search").fill("rise")
    await expect(titles).to_have_count(1, timeout=SLOW)
    await expect(titles.first).to_have_text("Rise up, rise up")
    release.set()
    # The late "stay" answer arrives; the list still shows only what "rise" found.
    await page.wait_for_timeout(1_500)
    await expect(titles).to_have_count(1)
    await expect(titles.first).not_to_have_text("Stay, stay, stay")


async def test_opened_from_a_groups_link_a_member_sees_the_groups_songs(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    app_bot.tg.set_inline_mode(True)
    await app_bot.restart()
    app_bot.tg.add_chat(GROUP, type="supergroup", title="Choir")
    await deliver(app_bot, f"/song@{BOT} surf rock\n{LYRICS}", chat_id=GROUP)
    await deliver(app_bot)  # a private song: not the group's
    app_bot.tg.add_user(OTHER, first_name="Bo", language_code="en")
    app_bot.tg.set_member_status(GROUP, OTHER, "member")
    stub = stub_for(app_bot, OTHER, start_param=group_start_param(GROUP))
    page = await open_app(browser, base(app_bot), stub)
    await expect(page.locator("#tab-library")).to_have_text("This group's songs", timeout=SLOW)
    await expect(page.locator("#tab-make")).to_be_hidden()
    song = page.locator("#songs li.song")
    await expect(song).to_have_count(1, timeout=SLOW)
    await expect(song.locator(".meta")).to_contain_text("surf rock")
    # Someone else's song: renaming, deleting and links stay with the one who asked, and the
    # inline Share would find nothing (inline mode lists only your own songs), so none of them.
    await expect(song.locator("audio.player")).to_have_count(1)
    for action in ("share", "rename", "delete", "link-button"):
        await expect(song.locator(f"button.{action}")).to_have_count(0)


async def test_without_inline_mode_the_page_shares_by_link_only(
    app_bot: BotHarness, browser: BrowserContext
) -> None:
    await deliver(app_bot)
    page = await open_app(browser, base(app_bot), stub_for(app_bot))
    song = page.locator("#songs li.song").first
    await expect(song.locator(".title")).to_have_text("Stay, stay, stay", timeout=SLOW)
    # The chat picker would insert "@bot #1" into a chat where it does nothing: no such button.
    await expect(song.locator("button.share")).to_have_count(0)
    await song.locator("button.link-button").click()
    await expect(song.locator("button.link-button")).to_have_text("Link copied", timeout=SLOW)
    link = await song.locator("button.link-button").get_attribute("title")
    assert link is not None and link.startswith("https://t.me/SongTestBot?start=s_")
    stored = await app_bot.services.songs.get(int(await song.get_attribute("data-id") or "0"))
    assert stored is not None and stored.share_token is not None and stored.share_token in link
