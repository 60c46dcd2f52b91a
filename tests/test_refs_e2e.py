"""End to end: references ("sing it like this") through the real bot, against both fakes.

Every test uses real audio (OGG/Opus voice notes, MP3s, an MP4 video note made by ffmpeg) and
checks what the fake AI/ML API really received; `guard` configures logging as `songbot run` does
(at DEBUG) and proves the bot token never reached a log line, the provider, or the database.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import imageio_ffmpeg
import mutagen
import pytest
from PIL import Image

from bot.ops.logging_setup import setup_logging
from songbot_fakes.aimlapi import FakeAimlApi, RecordedRequest
from songbot_fakes.audio_fixtures import make_m4a, make_mp3, make_ogg_opus
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import BotHarness

UPLOAD = "POST /v2/generate/audio/minimax/upload"
GENERATE = "POST /v2/generate/audio/minimax/generate"
SUBMIT = "POST /v2/generate/audio"
LYRICS = "I sing in the morning light\nAnd the day is bright"
BOT = "SongTestBot"
PTB_URL_LINES = (
    "telegram.ext.ExtBot: Set Bot API URL:",
    "telegram.ext.ExtBot: Set Bot API File URL:",
)


# ---------------------------------------------------------------------------------- helpers


def seconds_of(data: bytes) -> float:
    parsed = mutagen.File(io.BytesIO(data))
    assert parsed is not None and parsed.info is not None, "not decodable audio"
    return float(parsed.info.length)


def is_mp3_or_wav(data: bytes) -> bool:
    mp3 = data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    return mp3 or (data[:4] == b"RIFF" and data[8:12] == b"WAVE")


def body(request: RecordedRequest) -> dict[str, Any]:
    assert isinstance(request.json, dict), "not a JSON object body"
    return request.json


def uploaded_file(request: RecordedRequest) -> tuple[str, str, bytes]:
    assert "file" in request.files, f"no multipart file part: {request.form}"
    return request.files["file"]


def sync_generation(api: FakeAimlApi, index: int = 0) -> bytes:
    """The audio the fake returned (hex-encoded) for the `index`-th music-01 generate."""
    gens = [g for g in api.generations.values() if g.model == "music-01"]
    return gens[index].audio


def replies_to(tg: FakeTelegram, message: dict[str, Any]) -> list[str]:
    return [
        c.params["text"]
        for c in tg.calls_to("sendMessage")
        if c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
        and c.params.get("chat_id") == message["chat"]["id"]
    ]


async def reply_containing(
    tg: FakeTelegram, message: dict[str, Any], needle: str, timeout: float = 10.0
) -> str:
    call = await tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.params.get("chat_id") == message["chat"]["id"]
            and c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
            and needle in c.params["text"]
        ),
        timeout=timeout,
    )
    return str(call.params["text"])


def make_video_note(seconds: float, frequency: float = 500.0) -> bytes:
    """A real MP4 (MPEG-4 video + AAC audio), like a round video message."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    video = f"color=c=blue:s=240x240:d={seconds}:r=10"
    audio = f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}"
    with tempfile.TemporaryDirectory(prefix="songbot-test-") as tmp:
        out = Path(tmp) / "note.mp4"
        cmd = [
            ffmpeg,
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", video),
            *("-f", "lavfi", "-i", audio, "-c:v", "mpeg4", "-c:a", "aac", "-shortest"),
            *("-f", "mp4", "-y", str(out)),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return out.read_bytes()


async def eventually_gone(path: Path, timeout: float = 5.0) -> bool:
    """Cleanup runs just after the state change the test waited for: give it a moment."""
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return not path.exists()


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


class RawLines(logging.Handler):
    """Every record as rendered at emit time, before any redacting filter touches it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


class TokenGuard:
    """Logging as in production (at DEBUG) plus the checks that the token stayed home."""

    def __init__(self, tg: FakeTelegram, api: FakeAimlApi, db_path: Path) -> None:
        self.tg, self.api, self.db_path = tg, api, db_path
        secret = tg.token.split(":", 1)[1]
        self.forms = {tg.token, quote(tg.token, safe=""), quote(tg.token), secret}
        self.raw = RawLines()
        self.stream = io.StringIO()

    def leaks(self, text: str | bytes) -> bool:
        if isinstance(text, bytes):
            return any(form.encode() in text for form in self.forms)
        return any(form in text for form in self.forms)

    def check(self, caplog: pytest.LogCaptureFixture) -> None:
        assert self.raw.lines, "logging was not captured"
        # PTB's ExtBot logs its API URLs (token included) at DEBUG when the bot starts; the
        # redacting handler masks them in what is written (checked below), nothing else may
        # carry the token even before redaction. See the report: logging_setup should also
        # raise `telegram.ext.ExtBot` to INFO, like `telegram.Bot`.
        ptb_startup = [
            line for line in self.raw.lines if line.startswith(PTB_URL_LINES) and self.leaks(line)
        ]
        assert not [
            line for line in self.raw.lines if self.leaks(line) and line not in ptb_startup
        ]
        written = self.stream.getvalue()
        for line in ptb_startup:
            assert line.split(": ", 1)[1].split("http", 1)[0] in written  # logged, but redacted
        assert "/bot***" in written or not ptb_startup
        assert not self.leaks(caplog.text)
        assert not self.leaks(self.stream.getvalue())
        assert self.api.requests, "the provider was never called"
        for request in self.api.requests:
            assert not self.leaks(request.path)
            assert not self.leaks(repr(request.query_all))
            assert not self.leaks(repr(sorted(request.headers.items())))
            assert not self.leaks(request.body)
        with sqlite3.connect(self.db_path) as conn:
            for table, *_ in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    assert not self.leaks(repr(row)), f"token stored in table {table}"


@pytest.fixture
def guard(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[TokenGuard]:
    """Set up before the harness (so its startup is logged too); restores logging afterwards."""
    guard = TokenGuard(fake_telegram, fake_aimlapi, tmp_path / "songbot.db")
    root = logging.getLogger()
    names = ("httpx", "httpcore", "telegram.Bot", "aiohttp.access")
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in names})
    setup_logging("DEBUG", "text", [fake_telegram.token], stream=guard.stream)
    root.handlers.insert(0, guard.raw)
    caplog.set_level(logging.DEBUG)
    try:
        yield guard
    finally:
        # Remove only what we added (pytest swaps its own capture handlers between phases).
        for handler in list(root.handlers):
            if handler is guard.raw or (
                getattr(handler, "_songbot", False) and handler not in saved[0]
            ):
                root.removeHandler(handler)
        for handler in saved[0]:
            if getattr(handler, "_songbot", False) and handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def bot(guard: TokenGuard, harness: BotHarness) -> BotHarness:
    """The harness, started after `guard` configured logging."""
    return harness


# ---------------------------------------------------------------------------- the four forms


async def test_voice_note_caption_is_converted_uploaded_and_sung(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    tg, api = bot.tg, bot.api
    voice = make_ogg_opus(12.0)
    request = tg.send_media(
        1001, 1001, "voice", voice, caption=f"/song gospel choir\n{LYRICS}", duration=12
    )
    call = await tg.wait_for_call("sendAudio", timeout=20)
    job = await bot.wait_for_job(lambda j: j.state == "delivered")

    # The user was told that speech is not what the provider wants, but it is tried anyway.
    notice = await reply_containing(tg, request, "singing")
    assert "voice:" in notice
    # One upload: MP3 (the provider takes WAV or MP3) of the same length, purpose voice.
    (upload,) = api.requests_to(UPLOAD)
    name, content_type, data = uploaded_file(upload)
    assert upload.form["purpose"] == "voice"
    assert voice[:4] == b"OggS" and is_mp3_or_wav(data)
    assert name.endswith(".mp3") and content_type == "audio/mpeg"
    assert abs(seconds_of(data) - seconds_of(voice)) <= 0.5
    # Then one synchronous generate with the uploaded voice id and the lyrics wrapped in ##.
    (generate,) = api.requests_to(GENERATE)
    assert body(generate)["model"] == "music-01"
    assert body(generate)["lyrics"] == f"##{LYRICS}##"
    assert body(generate)["refer_voice"] == job.refer_voice_id
    assert job.refer_voice_id in api.uploaded_ids
    assert "refer_instrumental" not in body(generate)
    assert generate.header("x-client-request-id") == job.key
    # The delivered audio is exactly what the provider sent (hex-decoded), as a reply.
    assert call.files["audio"].data == sync_generation(api)
    assert call.params["reply_parameters"]["message_id"] == request["message_id"]
    # Downloaded once from the fake Bot API; temporary files are gone after delivery.
    assert len(tg.calls_to("getFile")) == 1 and len(tg.downloads) == 1
    assert await eventually_gone(bot.services.temp.job_dir(job.key))
    guard.check(caplog)


async def test_reply_to_audio_in_group_then_reuse_hits_the_cache(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    # PTB's rate limiter spaces group messages 3.5 s apart; compress that for the test.
    await bot.restart(SONGBOT_TG_RATE_SCALE="20")
    tg, api = bot.tg, bot.api
    group = -100777
    tg.add_chat(group, type="supergroup", title="Choir")
    track = make_mp3(15.0, 330.0)
    audio = tg.send_media(group, 42, "audio", track, file_name="our-song.mp3", duration=15)
    # Privacy mode: the bot only sees commands addressed to it; the reply carries the audio.
    first = tg.send_text(
        group, 42, f"/song@{BOT} smooth jazz | {LYRICS}", reply_to=audio["message_id"]
    )
    one = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert one.request_message_id == first["message_id"]

    (upload,) = api.requests_to(UPLOAD)
    assert upload.form["purpose"] == "song"  # a full track: both ids
    assert abs(seconds_of(uploaded_file(upload)[2]) - seconds_of(track)) <= 0.5
    sent = body(api.requests_to(GENERATE)[0])
    assert sent["refer_voice"] == one.refer_voice_id
    assert sent["refer_instrumental"] == one.refer_instrumental_id
    assert one.refer_voice_id and one.refer_instrumental_id
    assert not [t for t in replies_to(tg, first) if "singing" in t]  # no spoken-note warning

    # The same audio again (another reply): no download, no upload, the cached ids.
    second = tg.send_text(
        group, 43, f"/song@{BOT} slow blues | {LYRICS}", reply_to=audio["message_id"]
    )
    two = await bot.wait_for_job(
        lambda j: j.request_message_id == second["message_id"] and j.state == "delivered",
        timeout=20,
    )
    assert len(api.requests_to(UPLOAD)) == 1
    assert len(tg.calls_to("getFile")) == 1
    generates = api.requests_to(GENERATE)
    assert len(generates) == 2
    assert body(generates[1])["refer_voice"] == one.refer_voice_id == two.refer_voice_id
    assert body(generates[1])["refer_instrumental"] == one.refer_instrumental_id
    delivered = [c for c in tg.calls_to("sendAudio") if c.ok]
    assert [c.files["audio"].data for c in delivered] == [
        sync_generation(api, 0),
        sync_generation(api, 1),
    ]
    guard.check(caplog)


async def test_audio_document_is_converted_and_its_name_picks_the_purpose(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    tg, api = bot.tg, bot.api
    m4a = make_m4a(14.0)
    request = tg.send_media(
        2002,
        2002,
        "document",
        m4a,
        mime_type="audio/mp4",
        file_name="Backing Track (instrumental).m4a",
        caption=f"/song country ballad\n{LYRICS}",
    )
    job = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert job.request_message_id == request["message_id"]
    assert job.reference_purpose == "instrumental"
    (upload,) = api.requests_to(UPLOAD)
    assert upload.form["purpose"] == "instrumental"
    data = uploaded_file(upload)[2]
    assert m4a[4:8] == b"ftyp" and is_mp3_or_wav(data)
    assert abs(seconds_of(data) - seconds_of(m4a)) <= 0.5
    sent = body(api.requests_to(GENERATE)[0])
    assert sent["refer_instrumental"] == job.refer_instrumental_id
    assert "refer_voice" not in sent
    guard.check(caplog)


async def test_video_note_sound_is_extracted_and_voice_word_skips_the_warning(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    tg, api = bot.tg, bot.api
    clip = await asyncio.to_thread(make_video_note, 12.0)
    # Round video messages cannot carry a caption: the reply form is the way to use one.
    note = tg.send_media(3003, 3003, "video_note", clip, duration=12)
    request = tg.send_text(
        3003, 3003, f"/song voice: a cappella soul\n{LYRICS}", reply_to=note["message_id"]
    )
    job = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert job.reference_kind == "video_note" and job.reference_purpose == "voice"
    (upload,) = api.requests_to(UPLOAD)
    data = uploaded_file(upload)[2]
    assert is_mp3_or_wav(data) and abs(seconds_of(data) - 12.0) <= 0.5
    assert upload.form["purpose"] == "voice"
    assert not [t for t in replies_to(tg, request) if "singing" in t]
    guard.check(caplog)


async def test_ref_links_go_to_cover_and_to_legacy(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    tg, api = bot.tg, bot.api
    link = "https://example.com/takes/my%20take.mp3"
    tg.send_text(4004, 4004, f"/song ref: {link} jazz cover of my song\n{LYRICS}")
    cover = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    tg.send_text(5005, 5005, f"/song model:legacy ref:{link} rock\n{LYRICS}")
    legacy = await bot.wait_for_job(
        lambda j: j.chat_id == 5005 and j.state == "delivered", timeout=20
    )
    first, second = (body(r) for r in api.requests_to(SUBMIT))
    assert cover.model == first["model"] == "minimax/music-cover"
    assert first["reference_audio_url"] == link
    assert first["prompt"] == "jazz cover of my song" and first["lyrics"] == LYRICS
    assert legacy.model == second["model"] == "minimax-music"
    assert second["reference_audio_url"] == link
    assert second["prompt"] == f"##{LYRICS}##"  # legacy: the lyrics travel as the prompt
    # A link needs no Telegram download and no upload.
    assert not tg.calls_to("getFile") and not api.requests_to(UPLOAD)
    delivered = [c.files["audio"].data for c in tg.calls_to("sendAudio") if c.ok]
    assert delivered == [
        api.audio_for(cover.generation_id or ""),
        api.audio_for(legacy.generation_id or ""),
    ]
    guard.check(caplog)


async def test_cover_with_a_voice_note_sends_it_inline_as_base64(
    bot: BotHarness, guard: TokenGuard, caplog: pytest.LogCaptureFixture
) -> None:
    tg, api = bot.tg, bot.api
    voice = make_ogg_opus(8.0, 280.0)
    tg.send_media(
        6006, 6006, "voice", voice, caption=f"/song model:cover song: lo-fi cover\n{LYRICS}"
    )
    job = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    (submit,) = api.requests_to(SUBMIT)
    uri = body(submit)["reference_audio_url"]
    prefix = "data:audio/mpeg;base64,"
    assert body(submit)["model"] == "minimax/music-cover" and uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix) :], validate=True)
    assert is_mp3_or_wav(data) and abs(seconds_of(data) - seconds_of(voice)) <= 0.5
    assert not api.requests_to(UPLOAD)
    assert job.reference_url is None  # the data URI lives in memory only, never in the DB
    assert [c.files["audio"].data for c in tg.calls_to("sendAudio") if c.ok] == [
        api.audio_for(job.generation_id or "")
    ]
    guard.check(caplog)


# --------------------------------------------------------------------- refusals, no charge


async def test_unusable_references_are_refused_before_download_or_charge(
    bot: BotHarness, guard: TokenGuard
) -> None:
    tg, api = bot.tg, bot.api
    cmd = f"/song soul ballad\n{LYRICS}"
    big = tg.send_media(
        7001, 7001, "audio", make_mp3(3.0), caption=cmd, duration=200, declared_size=20_500_000
    )
    short = tg.send_media(7002, 7002, "voice", make_ogg_opus(6.0), caption=cmd, duration=6)
    long = tg.send_media(7003, 7003, "audio", make_mp3(3.0), caption=cmd, duration=700)
    photo = tg.send_media(7004, 7004, "photo", image_bytes("JPEG"), caption=cmd)
    pdf = tg.send_media(
        7005,
        7005,
        "document",
        b"%PDF-1.4\n%%EOF\n",
        mime_type="application/pdf",
        file_name="lyrics.pdf",
        caption=cmd,
    )
    sticker = tg.send_media(7006, 7006, "sticker", image_bytes("WEBP"))
    sticker_reply = tg.send_text(7006, 7006, cmd, reply_to=sticker["message_id"])

    assert "20.5 MB" in await reply_containing(tg, big, "at most 20 MB")
    text = await reply_containing(tg, short, "voice note is 6 sec long")
    assert "more than 10 sec of singing" in text
    assert "at most 10 min" in await reply_containing(tg, long, "11 min 40 sec")
    assert "not a photo" in await reply_containing(tg, photo, "voice note")
    assert "not a PDF file" in await reply_containing(tg, pdf, "voice note")
    assert "not a sticker" in await reply_containing(tg, sticker_reply, "voice note")

    assert not tg.calls_to("getFile") and not tg.downloads
    assert api.requests == []
    assert await bot.jobs() == []


async def test_music01_lyrics_limit_is_explained_before_submitting(bot: BotHarness) -> None:
    tg, api = bot.tg, bot.api
    lyrics = "\n".join(["la la la la la la la la la"] * 25)
    assert len(lyrics) == 674  # 600 on the wire minus "##…##" leaves 596
    request = tg.send_media(
        8008, 8008, "voice", make_ogg_opus(12.0), caption=f"/song voice: opera\n{lyrics}"
    )
    text = await reply_containing(tg, request, "596")
    assert "674" in text and "MiniMax-01" in text
    assert api.requests == [] and not tg.calls_to("getFile")
    assert await bot.jobs() == []


async def test_runner_measures_the_real_duration_and_cleans_up(bot: BotHarness) -> None:
    """Telegram's declared duration can be wrong: the converted audio is what counts."""
    tg, api = bot.tg, bot.api
    request = tg.send_media(
        9009,
        9009,
        "voice",
        make_ogg_opus(5.0),
        caption=f"/song voice: folk\n{LYRICS}",
        duration=14,
    )
    job = await bot.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    assert job.error_key == "error_reference_too_short"
    text = await reply_containing(tg, request, "⚠️")
    assert "voice note is 5 sec long" in text and "10 sec" in text
    assert len(tg.downloads) == 1
    assert api.requests == []  # measured locally: no upload, no charge
    assert await eventually_gone(bot.services.temp.job_dir(job.key))


async def test_sync_generation_cut_by_a_restart_ends_interrupted_and_is_not_resent(
    bot: BotHarness,
) -> None:
    tg, api = bot.tg, bot.api
    api.set_outcome(generation_seconds=30.0)  # music-01 answers only after 30 s
    request = tg.send_media(
        1111, 1111, "voice", make_ogg_opus(12.0), caption=f"/song voice: gospel\n{LYRICS}"
    )
    job = await bot.wait_for_job(lambda j: j.state == "submitting")
    deadline = time.monotonic() + 10
    while not api.requests_to(GENERATE) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(api.requests_to(GENERATE)) == 1
    await bot.stop()  # the process "dies" during the synchronous call
    api.set_outcome()
    await bot.start()
    done = await bot.wait_state(job.id, "interrupted")
    assert done.error_key == "error_interrupted"
    text = await reply_containing(tg, request, "restarted")
    assert "send the request again" in text
    await asyncio.sleep(0.5)
    assert len(api.requests_to(GENERATE)) == 1  # never re-submitted automatically
    assert not tg.calls_to("sendAudio")


async def test_stale_temporary_files_are_swept_at_start(bot: BotHarness) -> None:
    temp = bot.services.temp.root
    stale_dir = temp / "sb-stale"
    stale_dir.mkdir(parents=True, exist_ok=True)
    stale = stale_dir / "sb-stale.ref.src"
    stale.write_bytes(b"x" * 1000)
    fresh = temp / "fresh.part"
    fresh.write_bytes(b"y")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    os.utime(stale_dir, (old, old))
    await bot.restart()
    assert not stale.exists() and not stale_dir.exists()
    assert fresh.exists()


async def test_get_file_too_big_fails_once_with_a_clear_reply(bot: BotHarness) -> None:
    """A file whose size was not declared (or was wrong): Telegram's own refusal is final."""
    tg, api = bot.tg, bot.api
    tg.script("getFile", status=400, description="Bad Request: file is too big")
    request = tg.send_media(
        1212, 1212, "voice", make_ogg_opus(12.0), caption=f"/song voice: soul\n{LYRICS}"
    )
    job = await bot.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    assert job.error_key == "error_reference_too_big" and job.transient_errors == 0
    assert "at most 20 MB" in await reply_containing(tg, request, "⚠️")
    assert len(tg.calls_to("getFile")) == 1 and not tg.downloads
    assert api.requests == []


async def test_a_cached_id_the_provider_rejects_is_forgotten(bot: BotHarness) -> None:
    tg, api = bot.tg, bot.api
    tg.chat_burst = 100  # three songs in one private chat: flood control is not under test
    voice = tg.send_media(1313, 1313, "voice", make_ogg_opus(12.0, 300.0), duration=12)
    command = f"/song voice: chanson | {LYRICS}"
    tg.send_text(1313, 1313, command, reply_to=voice["message_id"])
    await bot.wait_for_job(lambda j: j.state == "delivered")
    api.set_outcome(base_resp_code=2013, base_resp_msg="invalid params: unknown voice id")
    tg.send_text(1313, 1313, command, reply_to=voice["message_id"])
    failed = await bot.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    assert failed.error_key == "error_provider_invalid_request"
    assert len(api.requests_to(UPLOAD)) == 1  # the second job used the cache...
    api.set_outcome()
    third = tg.send_text(1313, 1313, command, reply_to=voice["message_id"])
    await bot.wait_for_job(
        lambda j: j.request_message_id == third["message_id"] and j.state == "delivered"
    )
    assert len(api.requests_to(UPLOAD)) == 2  # ...which the rejection cleared: uploaded afresh
    assert len(api.requests_to(GENERATE)) == 3
