"""The Mini App's API through the real bot and its own web server, against the fakes.

Every call needs a valid initData; a user only ever reaches their own songs (or a group's they are
a member of); a song made from the form is one job through the /song intake, answered in the chat.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import LYRICS, deliver
from tests.support.webapp import PUBLIC, base, init_data

OTHER_USER = 2002


async def call(
    h: BotHarness, method: str, path: str, *, auth: str | None, **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if auth is not None:
        headers["Authorization"] = f"tma {auth}"
    async with httpx.AsyncClient(base_url=base(h), timeout=20) as client:
        return await client.request(method, path, headers=headers, **kwargs)


async def test_the_menu_button_opens_the_app(app_bot: BotHarness) -> None:
    button = app_bot.tg.menu_buttons[None]
    assert button["type"] == "web_app"
    assert button["web_app"]["url"] == f"{PUBLIC}/app/"
    page = await call(app_bot, "GET", "/app/", auth=None)
    assert page.status_code == 200
    assert "app.js" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize("case", ["missing", "forged", "stale", "other bot", "wrong scheme"])
async def test_without_a_valid_init_data_the_api_answers_401_and_nothing_else(
    app_bot: BotHarness, case: str
) -> None:
    await deliver(app_bot)
    token = app_bot.tg.token
    auth: str | None = {
        "missing": None,
        "forged": init_data(token).replace("Ada", "Eve"),
        "stale": init_data(token, age=2 * 24 * 3600),
        "other bot": init_data("654321:another-bots-token-0000000000000"),
        "wrong scheme": "x",
    }[case]
    headers = {"Authorization": f"Bearer {init_data(token)}"} if case == "wrong scheme" else {}
    for method, path in (("GET", "/app/api/songs"), ("GET", "/app/api/me")):
        answer = await call(
            app_bot, method, path, auth=auth if not headers else None, headers=dict(headers)
        )
        assert answer.status_code == 401
        assert answer.json() == {"error": "unauthorized"}


async def test_a_user_lists_plays_renames_and_deletes_their_own_song(app_bot: BotHarness) -> None:
    await deliver(app_bot)
    auth = init_data(app_bot.tg.token)
    listed = (await call(app_bot, "GET", "/app/api/songs", auth=auth)).json()
    assert [s["title"] for s in listed["songs"]] == ["Stay, stay, stay"]
    song = listed["songs"][0]
    assert song["manage"] is True
    assert "bot" not in song["audio"] and app_bot.tg.token not in json.dumps(listed)
    # The player's audio: the bytes Telegram holds, with range requests for seeking.
    whole = await call(app_bot, "GET", song["audio"], auth=None)
    assert whole.status_code == 200
    uploaded = app_bot.tg.uploaded_audio[-1].data
    assert whole.content == uploaded
    part = await call(app_bot, "GET", song["audio"], auth=None, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == uploaded[10:20]
    # A tampered audio token is refused.
    bad = song["audio"].replace(f"/audio/{song['id']}", f"/audio/{song['id'] + 1}")
    assert (await call(app_bot, "GET", bad, auth=None)).status_code == 401
    # Search, rename, delete.
    found = (await call(app_bot, "GET", "/app/api/songs", auth=auth, params={"q": "stay"})).json()
    assert len(found["songs"]) == 1
    missed = (
        await call(app_bot, "GET", "/app/api/songs", auth=auth, params={"q": "nothing"})
    ).json()
    assert missed["songs"] == []
    renamed = await call(
        app_bot,
        "POST",
        f"/app/api/songs/{song['id']}/rename",
        auth=auth,
        json={"title": "  Neon  bay "},
    )
    assert renamed.json() == {"ok": True, "title": "Neon bay"}
    stored = await app_bot.services.songs.get(song["id"])
    assert stored is not None and stored.title == "Neon bay"
    link = (
        await call(
            app_bot, "POST", f"/app/api/songs/{song['id']}/share", auth=auth, json={"link": True}
        )
    ).json()
    assert link["link"].startswith("https://t.me/SongTestBot?start=s_")
    assert (
        await call(app_bot, "POST", f"/app/api/songs/{song['id']}/delete", auth=auth)
    ).json() == {"ok": True}
    assert await app_bot.services.songs.get(song["id"]) is None
    gone = await call(app_bot, "GET", song["audio"], auth=None)
    assert gone.status_code == 404


async def test_another_users_song_is_invisible_and_untouchable(app_bot: BotHarness) -> None:
    await deliver(app_bot)
    mine = (await call(app_bot, "GET", "/app/api/songs", auth=init_data(app_bot.tg.token))).json()
    song = mine["songs"][0]
    stranger = init_data(app_bot.tg.token, OTHER_USER)
    theirs = (await call(app_bot, "GET", "/app/api/songs", auth=stranger)).json()
    assert theirs["songs"] == []
    for action in ("rename", "delete", "share"):
        answer = await call(
            app_bot,
            "POST",
            f"/app/api/songs/{song['id']}/{action}",
            auth=stranger,
            json={"title": "x", "link": True},
        )
        assert answer.status_code == 404, action
    assert await app_bot.services.songs.get(song["id"]) is not None
    # A group song opened with a forged group parameter: not a member, nothing shown.
    forged_group = init_data(app_bot.tg.token, OTHER_USER, start_param="g-100777")
    listed = (await call(app_bot, "GET", "/app/api/songs", auth=forged_group)).json()
    assert listed["songs"] == []


def form(token: str, **fields: str) -> dict[str, Any]:
    return {"data": {"token": token, **fields}}


async def test_the_form_needs_the_private_chat_started(app_bot: BotHarness) -> None:
    answer = await call(
        app_bot,
        "POST",
        "/app/api/make",
        auth=init_data(app_bot.tg.token),
        data={"token": str(uuid.uuid4()), "style": "rock", "lyrics": LYRICS},
        files={"unused": ("", b"", "text/plain")},
    )
    assert answer.status_code == 409
    assert "press Start" in answer.json()["error"]
    assert await app_bot.jobs() == []


async def test_the_form_makes_one_song_through_the_song_intake(app_bot: BotHarness) -> None:
    app_bot.tg.add_chat(PRIVATE_CHAT)
    auth = init_data(app_bot.tg.token)
    token = str(uuid.uuid4())
    files = {"unused": ("", b"", "text/plain")}  # forces multipart/form-data like the browser
    fields = {
        "style": "dreamy synth-pop with female vocals",
        "lyrics": LYRICS,
        "instrumental": "0",
    }
    first = await call(
        app_bot, "POST", "/app/api/make", auth=auth, data={"token": token, **fields}, files=files
    )
    assert first.status_code == 200, first.text
    job = await app_bot.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.chat_id == PRIVATE_CHAT and job.user_id == USER
    anchor = app_bot.tg.message(PRIVATE_CHAT, job.request_message_id)
    assert anchor["text"].startswith("🎛 From the app: dreamy synth-pop")
    again = await call(
        app_bot, "POST", "/app/api/make", auth=auth, data={"token": token, **fields}, files=files
    )
    assert again.status_code == 409
    assert len(await app_bot.jobs()) == 1
    assert len(app_bot.api.paid_submissions()) == 1


async def test_the_form_says_what_is_missing_as_song_would(app_bot: BotHarness) -> None:
    app_bot.tg.add_chat(PRIVATE_CHAT)
    auth = init_data(app_bot.tg.token)
    files = {"unused": ("", b"", "text/plain")}
    no_lyrics = await call(
        app_bot,
        "POST",
        "/app/api/make",
        auth=auth,
        data={"token": str(uuid.uuid4()), "style": "rock"},
        files=files,
    )
    assert no_lyrics.status_code == 422
    assert "Instrumental" in no_lyrics.json()["error"]
    too_long = await call(
        app_bot,
        "POST",
        "/app/api/make",
        auth=auth,
        data={"token": str(uuid.uuid4()), "style": "rock", "lyrics": "la " * 4000},
        files=files,
    )
    assert too_long.status_code == 422 and "10,000" in too_long.json()["error"]
    assert await app_bot.jobs() == []


async def test_an_oversize_recording_is_refused_while_it_is_read(app_bot: BotHarness) -> None:
    auth = init_data(app_bot.tg.token)
    big = b"\0" * (20_000_000 + 1)
    answer = await call(
        app_bot,
        "POST",
        "/app/api/make",
        auth=auth,
        data={"token": str(uuid.uuid4()), "style": "gospel choir"},
        files={"recording": ("take.webm", big, "audio/webm")},
    )
    assert answer.status_code == 413
    assert "20 MB" in answer.json()["error"]
    assert await app_bot.jobs() == []
