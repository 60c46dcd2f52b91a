"""/stats, /ban, /unban for operators (issue #6 fills these in)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return []
