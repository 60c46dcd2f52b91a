"""Telegram Stars: /buy, /balance, the pack buttons, pre-checkout, the payment, admin /refund.

Why a feature of its own: a public bot can pay for itself only if no payment is ever lost or
counted twice. Pre-checkout is answered at once (Telegram gives 10 s) from the payload alone; a
`successful_payment` is credited by its charge id, once (storage/stars.py), and the confirmation
is claimed before it is sent, so a redelivered update neither credits nor confirms twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.bot_data import SongbotContext
from bot.errors import NotAllowed, UserInputError
from bot.i18n import plain, t
from bot.intake.kept import make_after_payment
from bot.intake.language import chat_language, user_language
from bot.intake.stars import (
    PackPayload,
    check_checkout,
    find_pack,
    packs_keyboard,
    payment_problem,
    payments_on,
    pays,
    send_invoice,
)
from bot.intake.stars_refund import Refund, refund_at_telegram
from bot.services import Services
from bot.telegram.callback_data import Action, pattern
from bot.telegram.helpers import reply_to, thread_kwargs
from handlers.commands import Command
from handlers.replies import reply

log = logging.getLogger(__name__)


# /buy and /balance are shown only while the bot sells songs: a free bot answers /buy with
# "nothing to buy", which a menu should not advertise. Groups get them too: a song asked for in a
# group is paid for there, and the packs are offered in the group. /refund is for the few who
# need it, so it is not advertised.
COMMANDS: Final = (
    Command("buy", private=10, group=7, paid=True),
    Command("balance", private=11, group=8, paid=True),
    Command("refund"),
)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        # Before anything else looks at a message: a payment must be credited whatever it says.
        MessageHandler(filters.SUCCESSFUL_PAYMENT, on_successful_payment),
        PreCheckoutQueryHandler(on_pre_checkout),
        CommandHandler("buy", on_buy, filters=only_new),
        CommandHandler("balance", on_balance, filters=only_new),
        CommandHandler("refund", on_refund, filters=only_new),
        CallbackQueryHandler(on_pack_button, pattern=pattern(Action.BUY)),
    ]


async def on_buy(update: Update, context: SongbotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    config = services.config
    if not payments_on(config):
        await reply(message, t("stars_off", lang))
        return
    if message.from_user is not None and await _banned(services, message.from_user.id):
        await reply(message, t("stars_checkout_banned", lang))
        return
    await message.get_bot().send_message(
        chat_id=message.chat_id,
        text=t(
            "stars_buy" if config.free_songs_per_day > 0 else "stars_buy_no_free",
            lang,
            price=config.stars_per_song,
            free=config.free_songs_per_day,
        ),
        reply_markup=packs_keyboard(config, lang),
        reply_parameters=reply_to(message.message_id),
        **thread_kwargs(message),
    )


async def on_balance(update: Update, context: SongbotContext) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    config = services.config
    if not pays(config, message.from_user.id):
        await reply(message, t("stars_balance_unlimited", lang))
        return
    b = await services.stars.balance(message.from_user.id, config.free_songs_per_day, time.time())
    await reply(
        message,
        t(
            "stars_balance",
            lang,
            left=b.songs_left,
            free=b.free_left,
            credits=b.credits,
            bought=b.bought,
            used=b.used,
            held=b.held,
        ),
    )


async def on_pack_button(update: Update, context: SongbotContext) -> None:
    """A pack button: its invoice, priced today, for whoever pressed."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    services = context.services
    lang = await user_language(services, query.from_user, update.effective_chat)
    pack = find_pack(services.config, int(query.data.rsplit(":", 1)[1]))
    chat = update.effective_chat
    if pack is None or chat is None or not payments_on(services.config):
        await query.answer(plain("stars_pack_gone", lang), show_alert=True)
        return
    if await _banned(services, query.from_user.id):
        await query.answer(plain("stars_checkout_banned", lang), show_alert=True)
        return
    await query.answer()
    await send_invoice(
        context.bot, services.config, pack, chat_id=chat.id, user_id=query.from_user.id, lang=lang
    )


async def on_pre_checkout(update: Update, context: SongbotContext) -> None:
    """Answered from the payload and today's packs only: no Telegram call before it, no wait."""
    query = update.pre_checkout_query
    if query is None:
        return
    services = context.services
    reason = check_checkout(
        services.config, query.from_user.id, query.invoice_payload, query.currency,
        query.total_amount,
    )  # fmt: skip
    if reason is None and await _banned(services, query.from_user.id):
        reason = "stars_checkout_banned"  # #24.13: credits a banned user could never use
    if reason is None:
        await query.answer(ok=True)
        return
    lang = await user_language(services, query.from_user, None)
    log.info("pre-checkout refused (%s): payload %r", reason, query.invoice_payload)
    await query.answer(
        ok=False, error_message=plain(reason, lang, price=services.config.stars_per_song)
    )


async def on_successful_payment(update: Update, context: SongbotContext) -> None:
    message = update.effective_message
    if message is None or message.successful_payment is None or message.from_user is None:
        return
    payment = message.successful_payment
    services = context.services
    user_id = message.from_user.id
    charge_id = payment.telegram_payment_charge_id
    now = time.time()
    problem = payment_problem(
        services.config, user_id, payment.invoice_payload, payment.currency, payment.total_amount
    )
    decoded = PackPayload.decode(payment.invoice_payload)
    if problem is not None or decoded is None:
        await _keep_for_operator(services, message, problem or "unreadable payload", now)
        return
    credited = await services.stars.credit_purchase(
        charge_id=charge_id,
        user_id=user_id,
        chat_id=message.chat_id,
        songs=decoded.songs,
        stars=payment.total_amount,
        payload=payment.invoice_payload,
        now=now,
    )
    log.info(
        "payment %s: %d stars for %d songs by user %s (%s)",
        charge_id,
        payment.total_amount,
        decoded.songs,
        user_id,
        "credited" if credited else "seen before",
    )
    await _confirm(services, message, charge_id)
    # The song that met the paywall is made now, once (#25.4): a redelivered payment finds it
    # claimed already.
    await make_after_payment(services, message.get_bot(), user_id)


async def _keep_for_operator(
    services: Services, message: Message, problem: str, now: float
) -> None:
    """A payment that buys no pack on sale (#24.15): nothing is credited; the operator sees it
    in the log and in `songbot stars reconcile`, and the payer is told once."""
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    first = await services.stars.record_payment_problem(
        charge_id=payment.telegram_payment_charge_id,
        user_id=message.from_user.id,
        chat_id=message.chat_id,
        currency=payment.currency,
        stars=payment.total_amount,
        payload=payment.invoice_payload,
        reason=problem,
        now=now,
    )
    log.error(
        "OPERATOR: payment %s of user %s NOT credited: %s (%d %s, payload %r); see `songbot "
        "stars reconcile`, refund it if it was a mistake",
        payment.telegram_payment_charge_id,
        message.from_user.id,
        problem,
        payment.total_amount,
        payment.currency,
        payment.invoice_payload,
    )
    if first:
        lang = await chat_language(services, message)
        await reply(message, t("stars_payment_unmatched", lang))


async def _confirm(services: Services, message: Message, charge_id: str) -> None:
    """The confirmation with the new balance, at most once per payment."""
    if not await services.stars.claim_notification(charge_id, time.time()):
        return
    assert message.from_user is not None
    config = services.config
    lang = await chat_language(services, message)
    b = await services.stars.balance(message.from_user.id, config.free_songs_per_day, time.time())
    try:
        await reply(message, t("stars_paid", lang, left=b.songs_left, credits=b.credits))
    except TelegramError:
        await services.stars.unclaim_notification(charge_id)
        raise


async def on_refund(update: Update, context: SongbotContext) -> None:
    """Operators: give a purchase's Stars back and remove its credits, only if none is spent."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    if message.from_user.id not in services.config.admin_ids:
        raise NotAllowed("error_operators_only")
    args = (message.text or "").split()[1:]
    if len(args) != 1:
        raise UserInputError("stars_refund_usage")
    charge_id = args[0]
    plan = await services.stars.plan_refund(charge_id)
    if plan is None:
        raise UserInputError("stars_refund_unknown", charge_id=charge_id)
    p = plan.purchase
    if p.refunded_at is not None:
        raise UserInputError("stars_refund_done", charge_id=charge_id)
    if not plan.allowed:
        raise UserInputError(
            "stars_refund_spent", charge_id=charge_id, songs=p.songs, unused=plan.unused
        )
    # Credits first: once they are gone no song can spend them while Telegram refunds.
    if not await services.stars.take_back(charge_id, time.time()):
        raise UserInputError(
            "stars_refund_spent", charge_id=charge_id, songs=p.songs, unused=plan.unused
        )
    # The ledger now records the refund (the intent, #24.4): only an answered refusal undoes it.
    result = await refund_at_telegram(message.get_bot(), services.stars, p)
    if result.outcome is Refund.REFUSED:
        await services.stars.undo_take_back(charge_id)
        log.warning("refundStarPayment %s refused: %s", charge_id, result.reason)
        raise UserInputError("stars_refund_failed", charge_id=charge_id, reason=result.reason)
    if result.outcome is Refund.UNKNOWN:
        # The credits stay removed; `songbot stars reconcile --fix` completes it if Telegram
        # never did (a refund in the ledger that Telegram lacks).
        log.warning("refundStarPayment %s: outcome unknown (%s)", charge_id, result.reason)
        await reply(message, t("stars_refund_pending", lang, charge_id=charge_id))
        return
    log.info("refunded payment %s: %d stars, %d songs", charge_id, p.stars, p.songs)
    await reply(message, t("stars_refunded", lang, stars=p.stars, songs=p.songs))


async def _banned(services: Services, user_id: int) -> bool:
    """A banned user is sold nothing: no invoice, no pre-checkout (operators are never banned)."""
    return user_id not in services.config.admin_ids and await services.users.is_banned(user_id)
