"""Write "A session with songbot" in docs/usage.md: a real conversation with the bot and the fakes.

Why generated: a screenshot goes stale; this transcript is what the current code does. It starts
the local fake Telegram and fake AI/ML API (the servers the tests use), runs the real bot against
them, plays a short session (commands, a song, its buttons, /jobs, the library and a link) and
prints what the chat shows, with buttons and the short notes a tap pops up. Nothing leaves
127.0.0.1 and nothing is charged.

    .venv/bin/python scripts/transcript.py            # print it and rewrite docs/usage.md
    .venv/bin/python scripts/transcript.py --check    # exit 1 if docs/usage.md is out of date
    .venv/bin/python scripts/transcript.py --print    # only print
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bot_data import get_services  # noqa: E402
from bot.ops.demo import bot_against_fakes, format_duration  # noqa: E402
from songbot_fakes.aimlapi import FakeAimlApi  # noqa: E402
from songbot_fakes.telegram import FakeTelegram  # noqa: E402

PAGE: Final = ROOT / "docs" / "usage.md"
START: Final = "<!-- transcript:start -->"
END: Final = "<!-- transcript:end -->"
CHAT: Final = 4242  # a private chat: the user's id is the chat's id
USER_NAME: Final = "Ada"
TIMEOUT: Final = 60.0
LYRICS: Final = (
    "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"
)
ELAPSED: Final = re.compile(r" · \d+:\d{2}(:\d{2})?")  # timings differ from run to run
# A song's link carries a random secret, and its date the day of the run.
SECRETS: Final = (
    (re.compile(r"start=s_[\w-]+"), "start=s_…"),
    (re.compile(r"\d{4}-\d\d-\d\d"), "2026-12-06"),
)


class Session:
    """Plays the conversation and writes down what a person in the chat would see."""

    def __init__(self, tg: FakeTelegram, app: Any) -> None:
        self.tg = tg
        self.app = app
        self.lines: list[str] = []
        self.shown: set[int] = set()
        self.seen_calls = 0

    # ---- what the user does ------------------------------------------------------------------

    async def say(self, text: str) -> None:
        sent = self.tg.send_text(CHAT, CHAT, text)
        self.shown.add(int(sent["message_id"]))
        self._write("👤", USER_NAME, text)
        self.seen_calls = len(self.tg.calls)
        await self._wait_reply(int(sent["message_id"]))
        await self._wait_handled()
        await self.show_new()

    async def song(self, text: str) -> None:
        """A /song request: wait until the song is delivered, then show the chat."""
        before = await self._jobs()
        sent = self.tg.send_text(CHAT, CHAT, text)
        self.shown.add(int(sent["message_id"]))
        self._write("👤", USER_NAME, text)
        await self._wait_delivered(before)
        await self.show_new()

    async def tap(
        self, message_id: int, label: str, *, song: bool = False, wait_for: str | None = None
    ) -> None:
        """Tap the button labelled `label` under `message_id`; with `wait_for`, wait until a new
        bot message reads so (a /write preview: the lyrics take a moment)."""
        message = self.tg.message(CHAT, message_id)
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        button = next(b for row in rows for b in row if b["text"].startswith(label))
        before = await self._jobs()
        query_id = self.tg.press_button(CHAT, CHAT, message_id, button["callback_data"])
        note = f"👆 {USER_NAME} taps [{button['text']}]"
        call = await self.tg.wait_for_call(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            timeout=TIMEOUT,
        )
        toast = call.params.get("text")
        self.lines.append(f"{note}  → “{toast}”" if toast else note)
        if song:
            await self._wait_delivered(before)
        elif wait_for is not None:
            await self._wait_text(wait_for)
        else:
            await self._wait_handled()
        await self.show_new(edited=message_id)

    # ---- what the chat shows -----------------------------------------------------------------

    async def show_new(self, edited: int | None = None) -> None:
        """Every bot message not shown yet, in chat order, as it reads now; a status message
        that came and went is summarised from its edits; `edited` is a shown message the last
        tap changed."""
        entries = self._vanished_statuses()
        for message in self.tg.messages(CHAT):
            message_id = int(message["message_id"])
            if message_id in self.shown:
                continue
            entries[message_id] = (self._describe(message), _buttons(message))
        if edited is not None and self._was_edited(edited):
            message = self.tg.message(CHAT, edited)
            self._write(
                "🤖", "songbot (edits that message)", self._describe(message), _buttons(message)
            )
        for message_id in sorted(entries):
            self.shown.add(message_id)
            text, buttons = entries[message_id]
            self._write("🤖", "songbot", text, buttons)
        self.seen_calls = len(self.tg.calls)

    def last_bot_message(self, kind: str = "text") -> int:
        messages = [m for m in self.tg.bot_messages(CHAT) if kind in m]
        return int(messages[-1]["message_id"])

    def _describe(self, message: dict[str, Any]) -> str:
        parts: list[str] = []
        if "audio" in message:
            audio = message["audio"]
            title = audio.get("title") or audio.get("file_name") or "song"
            duration = format_duration(int(audio.get("duration") or 0))
            cover = ", cover art" if "thumbnail" in audio else ""
            parts.append(f"🎵 [audio: {title}, {duration}{cover}]")
        body = message.get("text") or message.get("caption") or ""
        if body:
            for pattern, shown in SECRETS:
                body = pattern.sub(shown, body)
            parts.append(ELAPSED.sub("", body))
        return "\n".join(parts)

    def _vanished_statuses(self) -> dict[int, tuple[str, str]]:
        """A status message is edited as the song advances and removed once it arrives."""
        present = {int(m["message_id"]) for m in self.tg.messages(CHAT)}
        steps: dict[int, list[str]] = {}
        for call in self.tg.calls[self.seen_calls :]:
            if not call.ok or call.method not in ("sendMessage", "editMessageText"):
                continue
            message_id = int(call.result["message_id"])
            if message_id in present or message_id in self.shown:
                continue
            # The song's title heads every status: the step is the line under it.
            lines = ELAPSED.sub("", call.result["text"]).split("\n")
            text = lines[1] if len(lines) > 1 else lines[0]
            if not steps.setdefault(message_id, []) or steps[message_id][-1] != text:
                steps[message_id].append(text)
        return {
            message_id: (" → ".join(texts) + "  (status, removed when done)", "")
            for message_id, texts in steps.items()
        }

    def _was_edited(self, message_id: int) -> bool:
        return any(
            call.ok
            and call.method == "editMessageText"
            and call.params.get("message_id") == message_id
            for call in self.tg.calls[self.seen_calls :]
        )

    def _write(self, icon: str, who: str, text: str, buttons: str = "") -> None:
        pad = " " * (len(f"{icon} {who}: ") + 1)  # emoji are two columns wide
        first, *rest = text.split("\n") or [""]
        self.lines.append(f"{icon} {who}: {first}")
        self.lines.extend(f"{pad}{line}" if line else "" for line in rest)
        self.lines.extend(f"{pad}{row}" for row in buttons.split("\n") if row)

    # ---- waiting -----------------------------------------------------------------------------

    async def _jobs(self) -> set[int]:
        return {job.id for job in await get_services(self.app).jobs.list_for_chat(CHAT, limit=50)}

    async def _wait_delivered(self, before: set[int]) -> None:
        deadline = time.monotonic() + TIMEOUT
        services = get_services(self.app)
        while time.monotonic() < deadline:
            jobs = [
                j for j in await services.jobs.list_for_chat(CHAT, limit=50) if j.id not in before
            ]
            present = {int(m["message_id"]) for m in self.tg.messages(CHAT)}
            if jobs and all(
                j.is_terminal and (j.status_message_id or 0) not in present for j in jobs
            ):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the song did not arrive")

    async def _wait_text(self, start: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if any(
                str(m.get("text", "")).startswith(start)
                for m in self.tg.bot_messages(CHAT)
                if int(m["message_id"]) not in self.shown
            ):
                await self._wait_handled()
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no message starting {start!r}")

    async def _wait_handled(self) -> None:
        """Until the bot has handled every update sent so far: it confirms an update (the next
        getUpdates' offset) only once its handlers are done (bot/telegram/confirming_bot.py),
        and the fake keeps it queued until then. Waiting for that, not a fixed pause, keeps
        the session both quick and sure to show everything a reply brought."""
        deadline = time.monotonic() + TIMEOUT
        while self.tg.pending_updates:
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not handle its updates")
            await asyncio.sleep(0.01)

    async def _wait_reply(self, message_id: int) -> None:
        await self.tg.wait_for_call(
            "sendMessage",
            lambda c: (
                c.ok and c.params.get("reply_parameters", {}).get("message_id") == message_id
            ),
            timeout=TIMEOUT,
        )


def _buttons(message: dict[str, Any]) -> str:
    """The inline keyboard, one line per row: `[🔁 Again] [📝 Lyrics] [🎲 Variation]`."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return "\n".join(" ".join(f"[{b['text']}]" for b in row) for row in rows)


async def play(session: Session) -> None:
    await session.say("/start")
    # The newcomer's first minute (#25.1, #26.3): a plain message becomes a guided flow, and an
    # idea goes to the /write path, whose preview makes the song.
    await session.say("hi! can you make me a song about my cat Miso?")
    panel = session.last_bot_message()
    await session.tap(panel, "✍️")
    await session.tap(panel, "upbeat pop")
    await session.tap(panel, "👩")
    await session.tap(panel, "✍️", wait_for="📝")
    await session.tap(session.last_bot_message(), "🎵", song=True)
    # The one-message way, for those who know what they want.
    await session.song(f"/song dreamy synth-pop with female vocals\n{LYRICS}")
    song = session.last_bot_message("audio")
    await session.tap(song, "📝")
    await session.tap(song, "🎲", song=True)
    await session.say("/jobs")
    await session.tap(session.last_bot_message(), "▶️ 2.")
    # The library (#26): every song kept, a card per song, a link to share it.
    await session.say("/songs")
    await session.tap(session.last_bot_message(), "2.")
    await session.tap(session.last_bot_message(), "🔗")
    await session.say("/language")
    await session.tap(session.last_bot_message(), "Español")


async def record() -> str:
    """Run the bot against the fakes, play the session, return the transcript."""
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="songbot-transcript-"))
    tg = FakeTelegram(flood_limits=False)
    tg.add_user(CHAT, first_name=USER_NAME, language_code="en")
    api = FakeAimlApi(generation_seconds=0.2)
    try:
        # The session taps about ten times faster than a person does, so Telegram's windows are
        # scaled with it: otherwise a private chat's pace (one message a second after a burst)
        # would hold back replies that a person, tapping at a person's speed, gets at once.
        async with bot_against_fakes(tg, api, work, {"SONGBOT_TG_RATE_SCALE": "10"}) as app:
            session = Session(tg, app)
            await play(session)
            return "\n".join(session.lines)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


def with_transcript(readme: str, transcript: str) -> str:
    """`readme` with the text between the markers replaced by `transcript` in a code block."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"docs/usage.md has no {START} … {END} markers")
    block = f"{START}\n```text\n{transcript}\n```\n{END}"
    return readme[:start] + block + readme[end + len(END) :]


def _no_proxy_for_localhost() -> None:
    """httpx honours HTTP(S)_PROXY even for 127.0.0.1 unless NO_PROXY lists it."""
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h]
        hosts += [h for h in ("127.0.0.1", "localhost") if h not in hosts]
        os.environ[name] = ",".join(hosts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="fail if docs/usage.md is out of date")
    group.add_argument("--print", action="store_true", help="only print the transcript")
    args = parser.parse_args(argv)
    _no_proxy_for_localhost()
    transcript = asyncio.run(record())
    print(transcript)
    if args.print:
        return 0
    current = PAGE.read_text(encoding="utf-8")
    updated = with_transcript(current, transcript)
    if args.check:
        if updated != current:
            print("docs/usage.md is out of date: run scripts/transcript.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        PAGE.write_text(updated, encoding="utf-8")
        print(f"updated {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
