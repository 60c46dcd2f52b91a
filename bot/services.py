"""The long-lived services one bot process owns, created in `post_init` and closed at shutdown.

Why a single container in `bot_data`: handlers and the runner reach the same DB connection, HTTP
client and temp folder without globals, and tests can build one around fakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext

from bot.aimlapi.client import AimlApiClient
from bot.config import Config
from bot.delivery.media import TempFiles
from storage.db import Database
from storage.jobs import JobStore
from storage.references import ReferenceCache
from storage.settings import ChatSettingsStore, UserStore
from storage.usage import UsageLedger

if TYPE_CHECKING:
    from bot.engine.runner import JobRunner
    from bot.ops.metrics import Metrics
    from bot.progress.boards import GroupBoards

SERVICES_KEY = "songbot.services"


@dataclass
class Services:
    config: Config
    db: Database
    jobs: JobStore
    usage: UsageLedger
    references: ReferenceCache
    chat_settings: ChatSettingsStore
    users: UserStore
    client: AimlApiClient
    temp: TempFiles
    metrics: Metrics
    runner: JobRunner | None = None
    boards: GroupBoards | None = None
    bot_username: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(cls, config: Config, *, metrics: Metrics) -> Services:
        db = await Database.open(config.db_path)
        client = AimlApiClient(base_url=config.aimlapi_base_url, api_key=config.aimlapi_key.get())
        temp = TempFiles(config.work_dir)
        return cls(
            config=config,
            db=db,
            jobs=JobStore(db),
            usage=UsageLedger(db),
            references=ReferenceCache(db),
            chat_settings=ChatSettingsStore(db),
            users=UserStore(db),
            client=client,
            temp=temp,
            metrics=metrics,
        )

    async def close(self) -> None:
        await self.client.aclose()
        await self.db.close()


def get_services(
    source: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any],
) -> Services:
    """The services of this application (raises if `post_init` has not run yet)."""
    data = source.bot_data
    services = data.get(SERVICES_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("songbot services are not started")
    return services
