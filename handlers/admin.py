"""Operator commands (/stats, /ban, /unban) and a group's "who may request" setting.

Why two kinds of admin: operators (SONGBOT_ADMIN_IDS) pay the bill and see everything; a group's
own administrators (asked of Telegram, cached briefly) decide how their group uses the bot.
Everyone else gets a polite refusal, never silence.
"""

from __future__ import annotations

import time
from typing import Any, Final

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.bot_data import SongbotContext
from bot.errors import NotAllowed, UserInputError
from bot.i18n import t
from bot.intake.chat_admins import is_chat_admin
from bot.intake.language import chat_language, language_for, load_message_requester
from bot.services import Services
from bot.telegram.helpers import requester_id
from bot.textutil import human_duration
from handlers.commands import Command

# Operators' and group admins' commands: served, never advertised in the menu.
COMMANDS: Final = (Command("stats"), Command("ban"), Command("unban"), Command("requests"))


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("stats", on_stats, filters=only_new),
        CommandHandler("ban", on_ban, filters=only_new),
        CommandHandler("unban", on_unban, filters=only_new),
        CommandHandler("requests", on_requests, filters=only_new),
    ]


def _require_operator(services: Services, message: Message) -> None:
    user = message.from_user
    if user is None or user.id not in services.config.admin_ids:
        raise NotAllowed("error_operators_only")


async def on_stats(update: Update, context: SongbotContext) -> None:
    """Jobs by state, generations and credits today/total, top users, time per model."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    _require_operator(services, message)
    stats = await services.usage.stats(time.time())
    states = ", ".join(f"{k}: {v}" for k, v in sorted(stats.jobs_by_state.items())) or "—"
    top = (
        "\n".join(
            t("stats_top_line", lang, name=name or str(uid), user_id=str(uid), count=n)
            for uid, name, n in stats.top_users
        )
        or "—"
    )
    models = (
        "\n".join(
            t("stats_model_line", lang, model=model, avg=human_duration(secs))
            for model, secs in sorted(stats.avg_seconds_by_model.items())
        )
        or "—"
    )
    await message.reply_text(
        t(
            "stats",
            lang,
            states=states,
            today=stats.generations_today,
            credits_today=stats.credits_today,
            total=stats.generations_total,
            credits_total=stats.credits_total,
            refunded=stats.refunded_total,
            top=_raw(top),
            models=_raw(models),
        )
        + (
            # A paying bot (Telegram Stars): what came in, what went back, paid vs free songs.
            t(
                "stats_stars",
                lang,
                received=stats.stars_received,
                refunded=stats.stars_refunded,
                paid=stats.songs_paid,
                free=stats.songs_free,
            )
            if services.config.stars_per_song > 0
            else ""
        ),
        do_quote=True,
    )


def _raw(text: str) -> Any:
    from bot.i18n import Raw

    return Raw(text)


def _target_user(message: Message, args: list[str]) -> int:
    if args:
        try:
            return int(args[0])
        except ValueError:
            raise UserInputError("usage_ban") from None
    replied = message.reply_to_message
    target = requester_id(replied) if replied is not None else None
    if target is not None:
        return target  # a channel's post bans the channel, not @Channel_Bot
    raise UserInputError("usage_ban")


async def on_ban(update: Update, context: SongbotContext) -> None:
    await _set_ban(update, context, banned=True)


async def on_unban(update: Update, context: SongbotContext) -> None:
    await _set_ban(update, context, banned=False)


async def _set_ban(update: Update, context: SongbotContext, *, banned: bool) -> None:
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    _require_operator(services, message)
    user_id = _target_user(message, list(context.args or []))
    if banned and user_id in services.config.admin_ids:
        raise UserInputError("error_cannot_ban_operator")
    await services.users.set_banned(user_id, banned)
    services.memo.access_notified.discard(f"user:{user_id}")
    await message.reply_text(
        t("banned" if banned else "unbanned", lang, user_id=str(user_id)), do_quote=True
    )


async def on_requests(update: Update, context: SongbotContext) -> None:
    """`/requests everyone|admins`: who may ask for songs in this group (chat admins only)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    requester = await load_message_requester(services, message)
    lang = language_for(message, requester)
    if message.chat.type == "private":
        raise UserInputError("error_group_only")
    if not await is_chat_admin(services, context.bot, message.chat_id, requester_id(message) or 0):
        raise NotAllowed("error_chat_admins_only")
    args = [a.lower() for a in (context.args or [])]
    if not args or args[0] not in ("everyone", "admins"):
        current = requester.chat.who_may_request
        await message.reply_text(t("requests_usage", lang, current=current), do_quote=True)
        return
    await services.chat_settings.set_who_may_request(message.chat_id, args[0])
    await message.reply_text(t("requests_set", lang, who=args[0]), do_quote=True)
