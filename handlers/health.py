"""Group -1 observers: note that updates arrive (for /healthz) before any handler runs."""

from __future__ import annotations

import time
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import (
    BaseHandler,
    TypeHandler,
)

from bot.bot_data import SongbotContext, bot_data_of


def observers() -> list[BaseHandler[Update, Any, Any]]:
    # block=True: the observer is two attribute writes; a task of its own per update cost more.
    return [TypeHandler(Update, _seen)]


async def _seen(update: Update, context: SongbotContext) -> None:
    """Record that updates arrive (health) before the real handlers run."""
    bot_data_of(context.application).metrics.last_update.set(time.time())
