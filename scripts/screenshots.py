"""Take the Mini App's screenshots in docs/images/: the library and the form, light and dark.

Why a script and real: the pictures show what the current page does, from the real bot against
the local fakes (nothing leaves 127.0.0.1, nothing is charged), in Debian's Chromium at a phone's
size, themed as Telegram themes it (the same stand-in for telegram-web-app.js as the browser
tests, tests/support/webapp_browser.py). The suite never writes into docs/; run this after
changing the
page, then look at the pictures before committing them.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bot_data import bot_data_of, get_services  # noqa: E402
from bot.ops.demo import bot_against_fakes  # noqa: E402
from songbot_fakes.aimlapi import FakeAimlApi  # noqa: E402
from songbot_fakes.telegram import FakeTelegram  # noqa: E402
from tests.support.webapp_browser import (  # noqa: E402
    DARK,
    LIGHT,
    chromium,
    init_data,
    open_app,
    telegram_stub,
)

OUT: Final = ROOT / "docs" / "images"
CHAT: Final = 4242  # a private chat: the user's id is the chat's id
TIMEOUT: Final = 90.0
SONGS: Final = (
    "/song dreamy synth-pop with female vocals\n"
    "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay",
    "/song gospel choir, hand claps\n[Verse]\nRise up, rise up\nMorning is near\n\n"
    "[Chorus]\nSing it loud, sing it clear",
    "/song acoustic folk, warm male voice\n[Verse]\nLittle boat on a silver sea\n\n"
    "[Chorus]\nCarry me home",
)
FORM_STYLE: Final = "lo-fi hip hop, rainy night"
FORM_LYRICS: Final = "[Verse]\nStreetlights hum a quiet tune\nCoffee's cold, it's half past two"


def _server_url(app: object) -> str:
    server = bot_data_of(app).web_server  # type: ignore[arg-type]
    assert server is not None
    return server.url("")


async def make_songs(tg: FakeTelegram, app: Any) -> None:
    services = get_services(app)
    for text in SONGS:
        sent = tg.send_text(CHAT, CHAT, text)
        deadline = time.monotonic() + TIMEOUT
        while True:
            jobs = await services.jobs.list_for_chat(CHAT, limit=50)
            mine = [j for j in jobs if j.request_message_id == sent["message_id"]]
            if mine and mine[0].state == "delivered":
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the song for {text.splitlines()[0]!r} was not delivered")
            await asyncio.sleep(0.2)


async def shoot(base_url: str, token: str, scheme: str) -> list[Path]:
    raw, unsafe = init_data(token, CHAT)
    theme = DARK if scheme == "dark" else LIGHT
    stub = telegram_stub(raw, unsafe, theme=theme, scheme=scheme)
    written = []
    async with chromium() as context:
        page = await open_app(context, base_url, stub)
        await page.locator("#songs li.song").nth(len(SONGS) - 1).wait_for()
        await page.locator("#songs details.lyrics").first.evaluate("(d) => { d.open = true; }")
        library = OUT / f"miniapp-library-{scheme}.png"
        await page.screenshot(path=str(library))
        written.append(library)
        await page.locator("#tab-make").click()
        await page.locator("#style").fill(FORM_STYLE)
        await page.locator("#lyrics").fill(FORM_LYRICS)
        await page.locator("#style").blur()
        form = OUT / f"miniapp-form-{scheme}.png"
        await page.screenshot(path=str(form))
        written.append(form)
    return written


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="songbot-screens-"))
    try:
        tg, api = FakeTelegram(), FakeAimlApi()
        tg.set_inline_mode(True)  # BotFather's inline mode on: the page shows Share too
        env = {
            "SONGBOT_HTTP_PORT": "0",
            "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "SONGBOT_PUBLIC_URL": "https://songs.example.test",
            "SONGBOT_TG_RATE_SCALE": "10",
        }
        async with bot_against_fakes(tg, api, work, env) as app:
            tg.add_user(CHAT, first_name="Ada", language_code="en")
            await make_songs(tg, app)
            base_url = _server_url(app).rstrip("/")
            OUT.mkdir(parents=True, exist_ok=True)
            for scheme in ("light", "dark"):
                for path in await shoot(base_url, tg.token, scheme):
                    print(path.relative_to(ROOT))
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


if __name__ == "__main__":
    asyncio.run(main())
