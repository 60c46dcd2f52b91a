"""The Mini App's HTTP side (#29): its page, its JSON API and its audio, on the bot's own port.

Why these rules:
- Every API call carries Telegram's initData (`Authorization: tma <initData>`), checked here on
  every call (bot/webapp/init_data.py); anything else gets 401 and nothing more. No cookies, no
  session: the signed initData is the session, bounded by its `auth_date`.
- The `<audio>` element cannot send headers, so each song in a listing comes with an audio URL
  whose token is an HMAC of (song, user, expiry) under a key derived from the bot token: it names
  one song for one user for an hour, and never contains the token or the initData.
- The same rules and the same intake as the chat: listing, renaming, deleting and sharing follow
  bot/webapp/access.py (the chat library's rules); a song made here goes through
  `accept_request` like `/song`, with the chat's quotas, caps and Stars (bot/webapp/make.py).
- Bounded: request bodies (1 MB, the upload 20 MB like a voice note), calls per user (a token
  bucket), the audio cache in bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from telegram.error import TelegramError

from bot.aimlapi.models import MODELS
from bot.bot_data import bot_data_of
from bot.i18n import CATALOGUE, plain
from bot.i18n.en import EN
from bot.intake.language import resolve_language
from bot.intake.requests import ReferenceInfo, choose_model
from bot.services import Services
from bot.textutil import truncate_utf16, utf16_len
from bot.webapp.access import Members, group_of, may_manage, may_see
from bot.webapp.audio_cache import AudioCache, AudioTooLarge
from bot.webapp.init_data import InitData, InitDataError, verify
from bot.webapp.make import MakeFailed, make_song
from storage.settings import load_requester
from storage.songs import Song, search_words

log = logging.getLogger(__name__)

STATIC: Final = Path(__file__).resolve().parent / "static"
PAGE_SIZE: Final = 20
AUDIO_TOKEN_SECONDS: Final = 3600
TITLE_LIMIT: Final = 64
BODY_LIMIT: Final = 64 * 1024
# Calls per user: a burst of 30, then 5 a second (a page lists, searches and plays at once).
RATE_BURST: Final = 30.0
RATE_PER_SECOND: Final = 5.0
RATE_USERS: Final = 10_000
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# The page runs inside Telegram's web view: its own files, Telegram's script, nothing else.
PAGE_POLICY: Final = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors https://web.telegram.org https://*.telegram.org; base-uri 'none'"
)
APP_KEYS: Final = tuple(k for k in EN if k.startswith("app_"))


class Unauthorized(Exception):
    pass


class RateLimits:
    """A token bucket per user, the oldest forgotten past RATE_USERS (memory stays bounded)."""

    def __init__(self) -> None:
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()

    def allow(self, user_id: int, now: float) -> bool:
        tokens, last = self._buckets.pop(user_id, (RATE_BURST, now))
        tokens = min(RATE_BURST, tokens + (now - last) * RATE_PER_SECOND)
        allowed = tokens >= 1
        self._buckets[user_id] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > RATE_USERS:
            self._buckets.popitem(last=False)
        return allowed


class MiniApp:
    """Routes under /app/ for one Application; services are looked up per request."""

    def __init__(self, app: Any, *, token: str, public_url: str) -> None:
        self._app = app
        self._token = token
        self.public_url = public_url
        self._audio_key = hmac.new(b"songbot-app-audio", token.encode(), hashlib.sha256).digest()
        self._rates = RateLimits()
        self._members = Members()
        self._cache: AudioCache | None = None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/app", self._to_page),
            web.get("/app/", self._page),
            web.get("/app/static/{name}", self._static),
            web.get("/app/api/me", self._me),
            web.get("/app/api/songs", self._songs),
            web.post("/app/api/songs/{id}/rename", self._rename),
            web.post("/app/api/songs/{id}/delete", self._delete),
            web.post("/app/api/songs/{id}/share", self._share),
            web.post("/app/api/make", self._make),
            web.get("/app/audio/{id}", self._audio),
        ]

    # ---------------------------------------------------------------- plumbing
    def _services(self) -> Services:
        services = bot_data_of(self._app).services
        if services is None:
            raise web.HTTPServiceUnavailable(text="starting")
        return services

    def _auth(self, request: web.Request) -> InitData:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "tma":
            raise Unauthorized("no tma authorization")
        try:
            checked = verify(raw.strip(), self._token)
        except InitDataError as exc:
            raise Unauthorized(str(exc)) from None
        if not self._rates.allow(checked.user.id, time.monotonic()):
            raise web.HTTPTooManyRequests(
                text=json.dumps({"error": "slow down"}), content_type="application/json"
            )
        return checked

    async def _language(self, services: Services, who: InitData) -> str:
        requester = await load_requester(services.db, who.user.id, who.user.id)
        return resolve_language(
            requester, chat_type="private", language_code=who.user.language_code
        )

    @staticmethod
    def _json(body: object, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, headers=SECURITY_HEADERS)

    async def _guarded(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            who = self._auth(request)
        except Unauthorized as exc:
            log.info("mini app call refused (401): %s", exc)
            return self._json({"error": "unauthorized"}, 401)
        result: web.StreamResponse = await handler(request, self._services(), who)
        return result

    async def _song_of(
        self, request: web.Request, services: Services, who: InitData, *, manage: bool
    ) -> Song:
        try:
            song_id = int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        song = await services.songs.get(song_id)
        bot = self._app.bot
        if song is None or not await may_see(services, bot, self._members, who.user.id, song):
            # Another user's song looks exactly like a missing one.
            raise web.HTTPNotFound(
                text=json.dumps({"error": "not found"}), content_type="application/json"
            )
        if manage and not await may_manage(services, bot, who.user.id, song):
            lang = await self._language(services, who)
            raise web.HTTPForbidden(
                text=json.dumps({"error": plain("answer_song_not_yours", lang)}),
                content_type="application/json",
            )
        return song

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_length is not None and request.content_length > BODY_LIMIT:
            raise web.HTTPRequestEntityTooLarge(
                max_size=BODY_LIMIT, actual_size=request.content_length
            )
        raw = await request.content.read(BODY_LIMIT + 1)
        if len(raw) > BODY_LIMIT:
            raise web.HTTPRequestEntityTooLarge(max_size=BODY_LIMIT, actual_size=len(raw))
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise web.HTTPBadRequest(text="bad json") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="bad json")
        return data

    # ---------------------------------------------------------------- the page
    async def _to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/app/")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={**SECURITY_HEADERS, "Content-Security-Policy": PAGE_POLICY},
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in {"app.js", "app.css"}:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers=SECURITY_HEADERS)

    # ---------------------------------------------------------------- the API
    async def _me(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._me_body)

    async def _me_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        lang = await self._language(services, who)
        group = group_of(who.start_param)
        group_body = None
        if group is not None and await self._members.is_member(self._app.bot, group, who.user.id):
            title = ""
            try:
                chat = await self._app.bot.get_chat(group)
                title = chat.title or ""
            except TelegramError:
                pass
            group_body = {"id": group, "title": title}
        table = CATALOGUE.get(lang, EN)
        strings = {key: html_free(str(table.get(key) or EN[key])) for key in APP_KEYS}
        models = [
            {
                "id": spec.id,
                "name": spec.title,
                "lyrics_max": spec.lyrics_max,
                "takes_lyrics": spec.takes_lyrics,
                "instrumental": spec.instrumental,
                "reference": spec.reference.value != "none",
                # A take must be longer than this (music-01: "longer than 10 s"); the page
                # says so before sending rather than after a failed job.
                "reference_min_seconds": spec.reference_min_seconds,
            }
            for spec in MODELS.values()
        ]
        requester = await load_requester(services.db, who.user.id, who.user.id)
        return self._json(
            {
                "user": {"id": who.user.id, "name": who.user.first_name},
                "lang": lang,
                "strings": strings,
                "models": models,
                "auto_models": auto_models(services, requester.chat.model),
                "group": group_body,
                "bot": services.bot_username,
                # Share opens Telegram's chat picker on an inline query: only worth a button
                # when BotFather's inline mode is on (as ↗️ in the chat); else the link serves.
                "inline": self._inline_mode(),
            }
        )

    def _inline_mode(self) -> bool:
        try:
            return bool(self._app.bot.supports_inline_queries)
        except RuntimeError:  # a bot not initialised yet
            return False

    async def _songs(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._songs_body)

    async def _songs_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        try:
            offset = max(0, int(request.query.get("offset", "0")))
        except ValueError:
            offset = 0
        words = search_words(request.query.get("q", "")[:200])
        group = group_of(who.start_param)
        if group is not None and await self._members.is_member(self._app.bot, group, who.user.id):
            songs, more = await services.songs.page(
                chat_id=group, words=words, offset=offset, limit=PAGE_SIZE
            )
        else:
            songs, more = await services.songs.page(
                owner_id=who.user.id, words=words, offset=offset, limit=PAGE_SIZE
            )
        now = int(time.time())
        bot = self._app.bot
        rows = []
        for song in songs:
            manage = await may_manage(services, bot, who.user.id, song)
            rows.append(self._song_json(services, song, who.user.id, now, manage))
        return self._json({"songs": rows, "next_offset": offset + len(songs) if more else None})

    def _song_json(
        self, services: Services, song: Song, user_id: int, now: int, manage: bool
    ) -> dict[str, Any]:
        spec = MODELS.get(song.model)
        expires = now + AUDIO_TOKEN_SECONDS
        return {
            "id": song.id,
            "title": song.title,
            "style": song.style,
            "lyrics": song.lyrics or "",
            "model": spec.title if spec is not None else song.model,
            "duration": song.duration,
            "created_at": song.created_at,
            "owner": song.owner_name if song.owner_id != user_id else "",
            # Inline mode finds only the asker's own songs (handlers/library_share.py), so the
            # chat-picker Share is offered for those only.
            "mine": song.owner_id == user_id,
            "plays": song.plays,
            "shared": song.share_token is not None,
            "link": self._link(services, song.share_token)
            if manage and song.share_token
            else None,
            "manage": manage,
            "audio": self._audio_url(song.id, user_id, expires),
        }

    @staticmethod
    def _link(services: Services, token: str) -> str:
        return f"https://t.me/{services.bot_username}?start=s_{token}"

    async def _rename(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._rename_body)

    async def _rename_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        song = await self._song_of(request, services, who, manage=True)
        body = await self._body(request)
        title = " ".join(str(body.get("title", "")).split())
        if not title:
            lang = await self._language(services, who)
            return self._json({"error": plain("app_title_empty", lang)}, 422)
        if utf16_len(title) > TITLE_LIMIT:
            title = truncate_utf16(title, TITLE_LIMIT)
        await services.songs.rename(song.id, title, time.time())
        return self._json({"ok": True, "title": title})

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._delete_body)

    async def _delete_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        song = await self._song_of(request, services, who, manage=True)
        await services.songs.delete(song.id)
        log.info("mini app: song %s deleted by user %s", song.id, who.user.id)
        return self._json({"ok": True})

    async def _share(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._share_body)

    async def _share_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        song = await self._song_of(request, services, who, manage=False)
        # Everyone who may see a song may pass it on through inline mode (their own chat
        # picker finds only their own songs); a link, which anyone can open, is the manager's.
        body = await self._body(request)
        result: dict[str, Any] = {
            "ok": True,
            "inline_query": f"#{song.job_id}" if song.job_id else song.title,
        }
        if body.get("link"):
            if not await may_manage(services, self._app.bot, who.user.id, song):
                lang = await self._language(services, who)
                return self._json({"error": plain("answer_song_not_yours", lang)}, 403)
            token = await services.songs.share(song.id, time.time())
            if token is None:
                raise web.HTTPNotFound()
            result["link"] = self._link(services, token)
        return self._json(result)

    async def _make(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, self._make_body)

    async def _make_body(
        self, request: web.Request, services: Services, who: InitData
    ) -> web.StreamResponse:
        lang = await self._language(services, who)
        try:
            job_id = await make_song(services, self._app.bot, who, lang, request)
        except MakeFailed as failed:
            return self._json({"error": failed.message, "paywall": failed.paywall}, failed.status)
        return self._json({"ok": True, "job": job_id, "message": plain("app_made", lang)})

    # ---------------------------------------------------------------- audio
    def _audio_url(self, song_id: int, user_id: int, expires: int) -> str:
        token = self._audio_token(song_id, user_id, expires)
        return f"/app/audio/{song_id}?u={user_id}&e={expires}&t={token}"

    def _audio_token(self, song_id: int, user_id: int, expires: int) -> str:
        mac = hmac.new(self._audio_key, f"{song_id}:{user_id}:{expires}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode()

    async def _audio(self, request: web.Request) -> web.StreamResponse:
        try:
            song_id = int(request.match_info["id"])
            user_id = int(request.query["u"])
            expires = int(request.query["e"])
            given = request.query["t"]
        except (KeyError, ValueError):
            return self._json({"error": "unauthorized"}, 401)
        expected = self._audio_token(song_id, user_id, expires)
        if not hmac.compare_digest(given.encode(), expected.encode()) or expires < time.time():
            return self._json({"error": "unauthorized"}, 401)
        services = self._services()
        song = await services.songs.get(song_id)
        if song is None or not await may_see(
            services, self._app.bot, self._members, user_id, song
        ):
            return self._json({"error": "not found"}, 404)
        cache = self._audio_cache(services)
        try:
            path = await cache.get(
                self._app.bot, song.file_id, song.file_unique_id or song.file_id
            )
        except AudioTooLarge:
            return self._json({"error": "too large"}, 413)
        except TelegramError as exc:
            log.warning("mini app: cannot fetch song %s from Telegram: %s", song.id, exc)
            return self._json({"error": "unavailable"}, 502)
        return web.FileResponse(
            path,
            headers={
                **SECURITY_HEADERS,
                "Content-Type": "audio/mpeg",
                "Cache-Control": "private, max-age=3600",
            },
        )

    def _audio_cache(self, services: Services) -> AudioCache:
        if self._cache is None:
            self._cache = AudioCache(services.config.work_dir / "app-audio")
        return self._cache


def auto_models(services: Services, chat_model: str | None) -> dict[str, str]:
    """What "Automatic" picks for each kind of request, by /song's own rule (choose_model).

    The form sends no model unless the person picks one, so the server chooses as it does for
    /song; the page only needs to know which model's lyrics limit to count against.
    """

    def pick(*, lyrics: bool, reference: bool) -> str:
        return choose_model(
            explicit=None,
            chat_default=chat_model,
            has_lyrics=lyrics,
            reference=ReferenceInfo(kind="telegram") if reference else None,
            config=services.config,
        ).id

    return {
        "lyrics": pick(lyrics=True, reference=False),
        "instrumental": pick(lyrics=False, reference=False),
        "reference": pick(lyrics=True, reference=True),
    }


def html_free(template: str) -> str:
    """Catalogue strings for the page are plain text (the page sets textContent, never HTML)."""
    import html
    import re

    return html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", template))
