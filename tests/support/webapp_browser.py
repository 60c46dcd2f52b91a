"""Debian's Chromium, driven by Playwright, on the Mini App as Telegram would open it.

Why a module of its own: the browser tests (tests/test_webapp_browser.py) and the screenshot
script (scripts/screenshots.py) open the page the same way. The page loads Telegram's
`telegram-web-app.js`; here that request never leaves the machine: it is answered with a small
stand-in that defines `window.Telegram.WebApp` as a Telegram client does (signed initData, theme,
buttons, haptics, inline share) and records every call the page makes, for the tests to read.
Every other request to anywhere but the bot's own port is refused, so a page that reached for the
internet would fail here. Playwright never downloads a browser: it is given /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from playwright.async_api import BrowserContext, Page, Route, async_playwright, expect

from bot.webapp.init_data import sign

CHROMIUM: Final = Path("/usr/bin/chromium")
TELEGRAM_SCRIPT: Final = "https://telegram.org/js/telegram-web-app.js"
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # The player is started by the test, not by a tap: let it play without one.
    "--autoplay-policy=no-user-gesture-required",
)
PHONE: Final = {"width": 390, "height": 780}

LIGHT: Final = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "destructive_text_color": "#e53935",
    "accent_text_color": "#2481cc",
}
DARK: Final = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#181818",
    "destructive_text_color": "#ee686f",
    "accent_text_color": "#8774e1",
}

# The stand-in for telegram-web-app.js; `__SETUP__` in it becomes the JSON setup.
_STUB: Final = (Path(__file__).parent / "telegram_web_app_stub.js").read_text(encoding="utf-8")


def init_data(
    token: str,
    user_id: int,
    *,
    first_name: str = "Ada",
    language: str = "en",
    start_param: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A fresh initData signed with the bot's token, and the unsafe copy the page also gets."""
    user = {"id": user_id, "first_name": first_name, "language_code": language}
    fields = {
        "auth_date": str(int(time.time())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
    }
    if start_param is not None:
        fields["start_param"] = start_param
    unsafe: dict[str, Any] = {"user": user, "auth_date": int(fields["auth_date"])}
    if start_param is not None:
        unsafe["start_param"] = start_param
    return sign(fields, token), unsafe


def telegram_stub(
    raw_init_data: str,
    unsafe: Mapping[str, Any],
    *,
    theme: Mapping[str, str] = LIGHT,
    scheme: str = "light",
    platform: str = "unknown",
) -> str:
    setup = {
        "initData": raw_init_data,
        "initDataUnsafe": dict(unsafe),
        "themeParams": dict(theme),
        "colorScheme": scheme,
        "platform": platform,
    }
    return _STUB.replace("const setup = __SETUP__;", f"const setup = {json.dumps(setup)};")


@asynccontextmanager
async def chromium(
    *, viewport: Mapping[str, int] = PHONE, extra_args: tuple[str, ...] = ()
) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile, closed (and its profile removed) afterwards."""
    with tempfile.TemporaryDirectory(prefix="songbot-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_ARGS, *extra_args],
                viewport={"width": viewport["width"], "height": viewport["height"]},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="en-US",
            )
            context.set_default_timeout(30_000)
            try:
                yield context
            finally:
                await context.close()


async def open_app(context: BrowserContext, base_url: str, stub: str) -> Page:
    """A page on `<base_url>/app/` with the stand-in for Telegram's script; nothing else leaves."""
    page = context.pages[0] if context.pages else await context.new_page()

    async def route(r: Route) -> None:
        url = r.request.url
        if url.startswith(TELEGRAM_SCRIPT):
            await r.fulfill(status=200, content_type="application/javascript", body=stub)
        elif url.startswith(base_url) or url.startswith(("blob:", "data:")):
            await r.continue_()
        else:
            await r.abort("blockedbyclient")

    await page.route("**/*", route)
    await page.goto(f"{base_url}/app/")
    # Waits go through locators: the page's CSP (no 'unsafe-eval') refuses wait_for_function.
    await expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=60_000)
    return page


async def telegram_calls(page: Page, name: str | None = None) -> list[dict[str, Any]]:
    """What the page asked of Telegram (the stand-in's record), optionally one method only."""
    calls: list[dict[str, Any]] = await page.evaluate("window.__telegram.calls")
    return [c for c in calls if name is None or c["name"] == name]


async def wait_for_telegram_call(
    page: Page, name: str, *, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """Poll the stand-in's record until the page has called `name` (the page's work is async)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = await telegram_calls(page, name)
        if calls or time.monotonic() > deadline:
            assert calls, f"the page never called Telegram.WebApp.{name}"
            return calls
        await asyncio.sleep(0.1)
