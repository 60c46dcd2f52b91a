"""`songbot demo`: an offline rehearsal of a whole conversation, for someone with no token or key.

Why the real bot and the test fakes: the demo shows exactly what the bot does — it starts the
local fake Bot API and fake AI/ML API (the servers the tests use), runs the real Application with
the real services and long polling against them, plays a short scripted chat, and saves the audio
the fake Telegram received. Nothing leaves 127.0.0.1 and nothing is charged.

`run_demo()` is the library entry point (the CLI, a test and the README transcript script use it);
it never configures logging and never reads the operator's environment or `.env`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bot.app import build_application
from bot.bot_data import get_services
from bot.config import Config
from bot.ops.serve import BotRun, Polling
from bot.services import Services
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.audio_fixtures import make_ogg_opus
from songbot_fakes.telegram import FakeTelegram
from storage.jobs import Job

CHAT_ID: Final = 4242  # a private chat: the user's id is the chat's id
USER_NAME: Final = "Ada"
STEP_TIMEOUT: Final = 60.0

LYRICS: Final = (
    "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"
)
VOICE_LYRICS: Final = "Lift me up, lift me high\nCarry me across the sky"


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One thing the user does; `expect_song` says whether a song should come back."""

    title: str
    text: str
    expect_song: bool
    voice_seconds: float | None = None  # send a voice note with `text` as its caption
    make_preview: bool = False  # `text` is a /write: wait for its preview, press 🎵 Make


SCRIPT: Final[tuple[DemoStep, ...]] = (
    DemoStep("A song with lyrics", f"/song dreamy synth-pop with female vocals\n{LYRICS}", True),
    DemoStep(
        "Sing it like my voice note",
        f"/song voice: gospel choir, warm and soulful\n{VOICE_LYRICS}",
        True,
        voice_seconds=12.0,
    ),
    DemoStep("A request the bot can't take", "/song model:kazoo-9000 polka", False),
    DemoStep("An instrumental", "/song calm ambient piano for studying", True),
    DemoStep(
        "Write the song for me",
        "/write a birthday song for my sister Anna who loves cats",
        True,
        make_preview=True,
    ),
)


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    who: str  # "user" or "bot"
    text: str
    message_id: int


@dataclass(frozen=True, slots=True)
class DemoAudio:
    """A delivered song: the exact bytes the fake Telegram received, saved to `path`."""

    path: Path
    title: str
    duration: int
    size: int
    message_id: int


@dataclass
class DemoResult:
    out_dir: Path
    lines: list[TranscriptLine] = field(default_factory=list)
    audio: list[DemoAudio] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def transcript(self) -> str:
        return "\n".join(render_line(line) for line in self.lines)


def default_out_dir(now: float | None = None) -> Path:
    stamp = datetime.fromtimestamp(now or time.time(), tz=UTC).strftime("%Y%m%d-%H%M%S")
    return Path(f"songbot-demo-{stamp}")


def render_line(line: TranscriptLine) -> str:
    """`👤 Ada: text` / `🤖 bot: text`, continuation lines indented under the first."""
    who = f"👤 {USER_NAME}" if line.who == "user" else "🤖 songbot"
    first, *rest = line.text.splitlines() or [""]
    pad = " " * (len(who) + 3)  # the emoji is two columns wide
    return "\n".join([f"{who}: {first}", *(f"{pad}{r}" if r else "" for r in rest)])


def format_duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def format_size(size: int) -> str:
    return f"{size / 1000:.0f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].rstrip("-") or "song"


def _ensure_no_proxy() -> None:
    """httpx honours HTTP(S)_PROXY even for 127.0.0.1 unless NO_PROXY lists it."""
    for name in ("NO_PROXY", "no_proxy"):
        parts = [p for p in os.environ.get(name, "").split(",") if p]
        for host in ("127.0.0.1", "localhost"):
            if host not in parts:
                parts.append(host)
        os.environ[name] = ",".join(parts)


def demo_env(tg: FakeTelegram, api: FakeAimlApi, work: Path) -> dict[str, str]:
    """The whole configuration of the demo bot: fakes, a throw-away DB, fast polling."""
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "AIMLAPI_KEY": api.api_key,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "AIMLAPI_BASE_URL": api.base_url,
        "SONGBOT_DB": str(work / "demo.db"),
        "SONGBOT_TEMP_DIR": str(work / "tmp"),
        "SONGBOT_POLL_INTERVAL": "0.2",
        "SONGBOT_JOB_TIMEOUT": "120",
        "SONGBOT_LEASE_SECONDS": "5",
        "SONGBOT_RECONCILE_GRACE": "2",
    }


class _Demo:
    def __init__(
        self,
        tg: FakeTelegram,
        app: Any,
        out_dir: Path,
        echo: Callable[[str], None] | None,
        step_timeout: float,
    ) -> None:
        self.tg = tg
        self.app = app
        self.out_dir = out_dir
        self.echo = echo
        self.step_timeout = step_timeout
        self.result = DemoResult(out_dir=out_dir)
        self._shown = 0  # highest message id already in the transcript

    @property
    def services(self) -> Services:
        return get_services(self.app)

    def say(self, text: str) -> None:
        if self.echo is not None:
            self.echo(text)

    async def play(self, number: int, step: DemoStep) -> None:
        self.say(f"\n── {number}. {step.title} " + "─" * max(3, 60 - len(step.title)))
        if step.voice_seconds is not None:
            voice = await asyncio.to_thread(make_ogg_opus, step.voice_seconds)
            sent = self.tg.send_media(CHAT_ID, CHAT_ID, "voice", voice, caption=step.text)
        else:
            sent = self.tg.send_text(CHAT_ID, CHAT_ID, step.text)
        request_id = int(sent["message_id"])
        if step.make_preview:
            preview = await self._wait_for_preview(request_id)
            if preview is None:
                self.result.problems.append(f"step {number} ({step.title}): no preview")
                await self._show_new_messages()
                return
            await self._show_new_messages()
            self.say("👤 [presses 🎵]")
            self.tg.press_button(CHAT_ID, CHAT_ID, preview[0], preview[1])
            request_id = preview[0]  # the status and the song reply to the preview
        job = await self._wait_for_outcome(request_id)
        if job is not None:
            self.result.jobs.append(job)
        await self._show_new_messages()
        delivered = job is not None and job.state == "delivered"
        if step.expect_song and not delivered:
            state = "no job" if job is None else f"{job.state} ({job.error_key})"
            self.result.problems.append(f"step {number} ({step.title}): no song, {state}")
        if not step.expect_song and job is not None:
            self.result.problems.append(f"step {number} ({step.title}): a job was created")

    async def _wait_for_outcome(self, request_id: int) -> Job | None:
        """The job once it has finished and told the user (status message gone), or None once
        the bot answered without creating a job (a request it can't take)."""
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            job = await self.services.jobs.get_by_request(CHAT_ID, request_id)
            present = {m["message_id"] for m in self.tg.messages(CHAT_ID)}
            if job is None:
                if any(self._replies_to(m, request_id) for m in self.tg.bot_messages(CHAT_ID)):
                    return None
            elif (
                job.is_terminal
                and job.outcome_sent_at is not None
                and (job.status_message_id is None or job.status_message_id not in present)
            ):
                return job
            await asyncio.sleep(0.05)
        self.result.problems.append(f"no outcome for message {request_id} in {self.step_timeout}s")
        return await self.services.jobs.get_by_request(CHAT_ID, request_id)

    async def _wait_for_preview(self, request_id: int) -> tuple[int, str] | None:
        """The /write preview replying to `request_id` and its 🎵 button's data, once shown."""
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            for message in self.tg.bot_messages(CHAT_ID):
                if not self._replies_to(message, request_id):
                    continue
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in (b for row in rows for b in row):
                    data = str(button.get("callback_data", ""))
                    if data.startswith("v1:wmake:"):
                        return int(message["message_id"]), data
            await asyncio.sleep(0.05)
        return None

    @staticmethod
    def _replies_to(message: dict[str, Any], request_id: int) -> bool:
        replied = message.get("reply_to_message") or {}
        return bool(replied.get("message_id") == request_id)

    async def _show_new_messages(self) -> None:
        bot_id = self.tg.bot_user["id"]
        for message in self.tg.messages(CHAT_ID):
            message_id = int(message["message_id"])
            if message_id <= self._shown:
                continue
            self._shown = message_id
            who = "bot" if message["from"]["id"] == bot_id else "user"
            text = await self._describe(message)
            line = TranscriptLine(who, text, message_id)
            self.result.lines.append(line)
            self.say(render_line(line))

    async def _describe(self, message: dict[str, Any]) -> str:
        parts: list[str] = []
        if "voice" in message:
            parts.append(f"🎤 [voice note, {format_duration(int(message['voice']['duration']))}]")
        if "audio" in message:
            parts.append(await self._save_audio(message))
        body = message.get("text") or message.get("caption") or ""
        if body:
            parts.append(body)
        return "\n".join(parts)

    async def _save_audio(self, message: dict[str, Any]) -> str:
        audio = message["audio"]
        title = str(audio.get("title") or audio.get("file_name") or "song")
        duration = int(audio.get("duration") or 0)
        label = f"🎵 [audio: {title}, {format_duration(duration)}, "
        call = next(
            (
                c
                for c in self.tg.calls_to("sendAudio")
                if c.ok and (c.result or {}).get("message_id") == message["message_id"]
            ),
            None,
        )
        upload = call.file("audio") if call is not None else None
        if upload is None:
            self.result.problems.append(
                f"no upload found for audio message {message['message_id']}"
            )
            return label + "?]"
        number = len(self.result.audio) + 1
        suffix = Path(upload.filename or "song.mp3").suffix or ".mp3"
        path = self.out_dir / f"{number:02d}-{_slug(title)}{suffix}"
        await asyncio.to_thread(path.write_bytes, upload.data)
        self.result.audio.append(
            DemoAudio(path, title, duration, upload.size, int(message["message_id"]))
        )
        return label + f"{format_size(upload.size)}]"


@contextlib.asynccontextmanager
async def bot_against_fakes(
    tg: FakeTelegram, api: FakeAimlApi, work: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[Any]:
    """Start both fakes and the real bot on them (`env` over `demo_env`), then stop everything
    in reverse order.

    The same path as `songbot run` (build, initialize with getMe, services, long polling), so the
    demo and the README transcript exercise production code, not a shortcut.
    """
    bot_run: BotRun | None = None
    try:
        await tg.start()
        await api.start()
        config = Config.from_env({**demo_env(tg, api, work), **(env or {})}, env_file=None)
        app = build_application(config)
        bot_run = BotRun(app, Polling(timeout=1))
        await bot_run.start()
        yield app
    finally:
        if bot_run is not None:
            await bot_run.stop()
        await api.stop()
        await tg.stop()


async def run_demo(
    out_dir: Path | None = None,
    *,
    generation_seconds: float = 1.0,
    echo: Callable[[str], None] | None = None,
    step_timeout: float = STEP_TIMEOUT,
    script: tuple[DemoStep, ...] = SCRIPT,
) -> DemoResult:
    """Play `script` against the real bot and the local fakes; save the songs into `out_dir`.

    `echo` receives the transcript line by line as it happens (e.g. `print`).
    """
    started = time.monotonic()
    out_dir = out_dir or default_out_dir()
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    _ensure_no_proxy()
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="songbot-demo-"))
    tg = FakeTelegram(flood_limits=False)
    tg.add_user(CHAT_ID, first_name=USER_NAME, language_code="en")
    api = FakeAimlApi(generation_seconds=generation_seconds)
    try:
        async with bot_against_fakes(tg, api, work) as app:
            demo = _Demo(tg, app, out_dir, echo, step_timeout)
            demo.say(
                f"songbot demo: the real bot against local fakes of Telegram and the AI/ML API "
                f"(@{app.bot.username}, nothing leaves this machine)"
            )
            for number, step in enumerate(script, start=1):
                await demo.play(number, step)
            result = demo.result
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    result.seconds = time.monotonic() - started
    return result


def summary(result: DemoResult) -> str:
    """The closing lines: where the songs are, and anything that did not go as scripted."""
    lines = [f"\n{len(result.audio)} song(s) saved in {result.out_dir}/ ({result.seconds:.1f}s):"]
    lines += [
        f"  {a.path.name}  ({format_duration(a.duration)}, {format_size(a.size)})"
        for a in result.audio
    ]
    if result.problems:
        lines.append("The demo did not go as scripted:")
        lines += [f"  - {p}" for p in result.problems]
    return "\n".join(lines)
