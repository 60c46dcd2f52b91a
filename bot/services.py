"""The long-lived services one bot process owns, created in `post_init` and closed at shutdown.

Why a single container in the typed `bot_data` (bot/bot_data.py): handlers and the engine reach
the same DB connection, HTTP client and temp folder without globals, and tests can build one
around fakes. It is built complete in `Services.open`: nothing is attached later, so no caller
checks for a missing part. The job engine (bot/engine/), which needs the finished container, is
built after it; what the rest of the bot says to the engine goes through `engine`, a link made
first (bot/engine_link.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import Bot

from bot.aimlapi.availability import ModelAvailability
from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.session import DOWNLOAD_DEADLINE, Timeouts
from bot.bounded import BoundedMap, BoundedSet
from bot.config import Config
from bot.delivery.media import TempFiles
from bot.engine_link import EngineLink
from bot.progress.boards import GroupBoards
from storage.db import Database
from storage.flows import FlowStore
from storage.jobs import JobStore
from storage.lyrics import LyricsStore
from storage.meta import MetaStore
from storage.notices import NoticeStore
from storage.open_db import open_database
from storage.references import ReferenceCache
from storage.settings import ChatSettingsStore, UserStore
from storage.songs import SongStore
from storage.stars import StarStore
from storage.usage import UsageLedger

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics


def _held(lock: asyncio.Lock) -> bool:
    return lock.locked()


@dataclass
class UpdateMemo:
    """Small per-process memories of the update path; losing them on a restart costs nothing.

    Why in memory: each only saves a Telegram call or a repeated message, and a restart resets it
    to the safe side (one more notice, one more `getChatMember`).
    """

    # Each per-chat memory is bounded (bot/bounded.py, #24.12): every group that ever asked
    # would otherwise leave its entries behind for the life of the process.
    # Serialises group status boards per (chat, topic): a burst must share one board. A lock
    # being held is never dropped.
    board_locks: BoundedMap[tuple[int, int | None], asyncio.Lock] = field(
        default_factory=lambda: BoundedMap(keep=_held)
    )
    # (chat, user) -> (checked at, is admin): getChatMember answers, briefly cached.
    chat_admins: BoundedMap[tuple[int, int], tuple[float, bool]] = field(
        default_factory=lambda: BoundedMap(ttl=60.0)
    )
    # "chat:<id>" / "user:<id>" already told they are not served: later updates get silence.
    access_notified: BoundedSet[str] = field(default_factory=BoundedSet)
    # (user, action, job) -> when: a double tap within the window is one press.
    recent_presses: BoundedMap[tuple[int, str, int], float] = field(
        default_factory=lambda: BoundedMap(ttl=60.0)
    )
    # Jobs whose kept song (Telegram refused it, #16.6) is being uploaded again right now.
    resending: set[int] = field(default_factory=set)
    # (chat, message) -> when: /song requests refused with a reply; an edit of one of these is
    # made from the corrected text (#25.1), other edits never start a song.
    refused_songs: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass
class Services:
    config: Config
    db: Database
    jobs: JobStore
    usage: UsageLedger
    lyrics: LyricsStore
    stars: StarStore
    references: ReferenceCache
    chat_settings: ChatSettingsStore
    users: UserStore
    client: AimlApiClient
    # The library (#26): delivered songs, kept beyond job retention.
    songs: SongStore
    # Retired models and their fallbacks (music-01 -> music-cover), remembered in `meta`.
    models: ModelAvailability
    temp: TempFiles
    metrics: Metrics
    boards: GroupBoards
    bot_username: str
    # One-time notices per user (the spoken-voice heads-up), remembered in `meta`.
    notices: NoticeStore
    # The job engine's signals and heartbeat: new jobs, cancels and wake-ups go there; the
    # engine itself (bot/engine/runner.py) is built after this container, reading the link.
    engine: EngineLink
    memo: UpdateMemo = field(default_factory=UpdateMemo)

    @classmethod
    async def open(cls, config: Config, *, metrics: Metrics, bot: Bot) -> Services:
        """Everything, in dependency order (the job engine is built on top, by the caller)."""
        db = await open_database(
            config.database_url.get() if config.database_url is not None else config.db_path
        )
        try:
            return await cls._around(db, config, metrics=metrics, bot=bot)
        except BaseException:
            await db.close()  # a failed start leaves no open connection (and no thread) behind
            raise

    @classmethod
    async def _around(
        cls,
        db: Database,
        config: Config,
        *,
        metrics: Metrics,
        bot: Bot,
    ) -> Services:
        jobs = JobStore(db)
        # A download never outlives the job it belongs to (#17.8).
        timeouts = Timeouts(download_deadline=min(DOWNLOAD_DEADLINE, config.job_timeout))
        client = AimlApiClient(
            base_url=config.aimlapi_base_url, api_key=config.aimlapi_key.get(), timeouts=timeouts
        )
        meta = MetaStore(db)
        models = ModelAvailability(meta)
        try:
            await models.load()
        except BaseException:
            await client.aclose()
            raise
        chat_settings = ChatSettingsStore(db)
        return cls(
            config=config,
            db=db,
            jobs=jobs,
            usage=UsageLedger(db),
            lyrics=LyricsStore(db),
            stars=StarStore(db),
            references=ReferenceCache(db),
            chat_settings=chat_settings,
            users=UserStore(db),
            client=client,
            songs=SongStore(db),
            models=models,
            temp=TempFiles(config.work_dir),
            metrics=metrics,
            boards=GroupBoards(jobs, bot, chat_settings=chat_settings),
            bot_username=_username(bot),
            notices=NoticeStore(meta),
            engine=EngineLink(),
        )

    @property
    def flows(self) -> FlowStore:
        """Requests waiting for the user (storage/flows.py); stateless, so built on demand."""
        return FlowStore(self.db)

    async def close(self) -> None:
        await self.client.aclose()
        await self.db.close()


def _username(bot: Bot) -> str:
    """The bot's @username; empty for a bot not initialised yet (benchmarks build one bare)."""
    try:
        return bot.username or ""
    except RuntimeError:
        return ""
