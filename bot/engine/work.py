"""What every step of the engine works with, passed as one object.

Why one object: the steps (bot/engine/submit.py, reconcile.py, poll.py, deliver.py) are plain
functions of (work, job), so each lives in its own small module and none reaches into the
runner; the runner builds this once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Bot

from bot.engine.estimates import Estimator
from bot.engine.outcomes import Outcomes
from bot.engine.status_updates import StatusUpdates
from bot.services import Services


@dataclass(frozen=True, slots=True)
class Work:
    s: Services
    bot: Bot
    owner: str
    status: StatusUpdates
    outcomes: Outcomes
    estimator: Estimator
    # Jobs whose reference is being downloaded/converted right now (bot/engine/submit.py).
    preparing: set[int] = field(default_factory=set)
