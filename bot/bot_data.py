"""What one Application keeps for its whole life, typed (PTB's `ContextTypes(bot_data=…)`).

Why not string keys in a dict: thirteen keys had grown, two written and never read, each reader
re-checking the type with `isinstance`. Here every field has one type and one writer, and a
missing one (services before `post_init`) is a clear error.

It sits above the services and the engine it holds (the layers in pyproject.toml): nothing below
reads `bot_data`, so the types it names are plain imports, not a circle hidden by TYPE_CHECKING.
"""

from __future__ import annotations

from typing import Any, Protocol

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.config import Config
from bot.engine.fleet import Fleet
from bot.engine.runner import JobRunner
from bot.lifecycle import Lifecycle
from bot.ops.metrics import Metrics
from bot.services import Services


class HttpServer(Protocol):
    """What is kept of the HTTP server (bot/ops/web.py, a layer above, which reads `bot_data`):
    where it answers."""

    def url(self, path: str) -> str: ...


class BotData:
    """The typed `bot_data`; PTB builds it with no arguments, `build_application` fills it."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self.metrics = Metrics()  # build_application may hand in a shared one
        self.lifecycle = Lifecycle()
        self.services: Services | None = None
        # The job engine, built on the services and started with them (bot/app.py); the rest of
        # the bot talks to it through `services.engine`.
        self.runner: JobRunner | None = None
        # Polling mode with SONGBOT_HTTP_PORT, or the webhook server: /healthz and /metrics.
        self.web_server: HttpServer | None = None
        # This replica's place in a fleet on a shared (PostgreSQL) database.
        self.fleet: Fleet | None = None
        # `songbot run` holds the SQLite instance lock: every lease left is a dead predecessor's.
        self.sole_instance = False
        # When the Conflict warning was last logged (once a minute at most).
        self.conflict_said_at: float | None = None
        # ✏️ Rename (handlers/library_share.py): user -> until when their next private text may
        # be a new name (a filter reads memory only; the pending rename itself is a row), and the
        # texts handed on to the other handlers once found not to be a name.
        self.rename_hints: dict[int, float] = {}
        self.rename_handed_on: set[tuple[int, int]] = set()

    @property
    def config(self) -> Config:
        if self._config is None:
            raise RuntimeError("the application has no configuration yet")
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = config


class SongbotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler gets: `context.services` instead of a lookup by key."""

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("songbot services are not started")
        return services


CONTEXT_TYPES: ContextTypes[SongbotContext, dict[Any, Any], dict[Any, Any], BotData] = (
    ContextTypes(context=SongbotContext, bot_data=BotData)
)


def bot_data_of(
    source: Application[Any, Any, Any, Any, Any, Any] | CallbackContext[Any, Any, Any, Any],
) -> BotData:
    """The typed bot_data of an application or a context built with `CONTEXT_TYPES`."""
    data = source.bot_data
    if not isinstance(data, BotData):
        raise RuntimeError("this application was not built by bot.app.build_application")
    return data


def get_services(
    source: Application[Any, Any, Any, Any, Any, Any] | CallbackContext[Any, Any, Any, Any],
) -> Services:
    """The services of this application (raises if `post_init` has not run yet)."""
    services = bot_data_of(source).services
    if services is None:
        raise RuntimeError("songbot services are not started")
    return services
