"""Telegram Stars at intake: who pays, what the packs are, the invoices and their payloads.

Why here: the intake decides whether a song may be queued, so it also decides what it costs. A
pack's payload names the pack and the buyer (`stars:v1:<user>:<songs>:<stars>`), so a
pre-checkout can be checked against today's price for that very user without any stored state,
and a payment arriving after a restart still says what it bought.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice

from bot.config import Config, StarPack
from bot.i18n import plain, t
from bot.telegram.callback_data import Action, build
from storage.quota import StarsGuard
from storage.stars import StarStore

CURRENCY: Final = "XTR"
_PAYLOAD = re.compile(r"stars:v1:(\d{1,19}):(\d{1,4}):(\d{1,5})")


@dataclass(frozen=True, slots=True)
class PackPayload:
    user_id: int
    songs: int
    stars: int

    def encode(self) -> str:
        return f"stars:v1:{self.user_id}:{self.songs}:{self.stars}"

    @classmethod
    def decode(cls, payload: str) -> PackPayload | None:
        match = _PAYLOAD.fullmatch(payload)
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]))


def payments_on(config: Config) -> bool:
    return config.stars_per_song > 0


def pays(config: Config, user_id: int) -> bool:
    """Whether this user's songs cost anything: a paying bot, and not one of its admins."""
    return payments_on(config) and user_id not in config.admin_ids


def stars_guard(stars: StarStore, config: Config, user_id: int, now: float) -> StarsGuard | None:
    """What the intake INSERT must find (a free song or a credit), None for a free song."""
    if not pays(config, user_id):
        return None
    return stars.guard(user_id, config.free_songs_per_day, now)


def find_pack(config: Config, songs: int) -> StarPack | None:
    return next((p for p in config.star_packs if p.songs == songs), None)


def check_checkout(
    config: Config, user_id: int, payload: str, currency: str, total: int
) -> str | None:
    """None if a pre-checkout may go ahead; else the catalogue key of the reason it may not."""
    decoded = PackPayload.decode(payload)
    if not payments_on(config):
        return "stars_checkout_off"
    if decoded is None or decoded.user_id != user_id:
        return "stars_checkout_unknown"
    pack = find_pack(config, decoded.songs)
    if pack is None:
        return "stars_checkout_unknown"
    if currency != CURRENCY or pack.stars != decoded.stars or total != pack.stars:
        return "stars_checkout_price"
    return None


def payment_problem(
    config: Config, user_id: int, payload: str, currency: str, total: int
) -> str | None:
    """None if a successful payment buys exactly a pack on sale, for this user, in Stars; else
    what is wrong with it, for the operator (#24.15: credited only what was paid for)."""
    decoded = PackPayload.decode(payload)
    if decoded is None or decoded.user_id != user_id:
        return "the payload was not issued by this bot for this user"
    if currency != CURRENCY:
        return f"paid in {currency!r}, not {CURRENCY}"
    pack = find_pack(config, decoded.songs)
    if pack is None:
        return f"no pack of {decoded.songs} songs is on sale"
    if total != pack.stars or decoded.stars != pack.stars:
        return f"{total} Stars paid for the pack of {pack.songs} songs, which costs {pack.stars}"
    return None


def packs_keyboard(config: Config, lang: str) -> InlineKeyboardMarkup:
    """One button per pack; each sends that pack's invoice."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain("stars_pack_button", lang, songs=p.songs, stars=p.stars),
                    callback_data=build(Action.BUY, p.songs),
                )
            ]
            for p in config.star_packs
        ]
    )


async def send_offer(
    bot: Bot, config: Config, *, chat_id: int, lang: str, **kwargs: object
) -> None:
    """The reply to a song that is not paid for: what a song costs, and the packs."""
    await bot.send_message(
        chat_id=chat_id,
        text=t("stars_payment_required", lang, price=config.stars_per_song),
        reply_markup=packs_keyboard(config, lang),
        **kwargs,  # type: ignore[arg-type]
    )


async def send_invoice(
    bot: Bot, config: Config, pack: StarPack, *, chat_id: int, user_id: int, lang: str
) -> None:
    """A pack's invoice: currency XTR, no provider token, exactly one price (Telegram's rules)."""
    payload = PackPayload(user_id, pack.songs, pack.stars).encode()
    await bot.send_invoice(
        chat_id=chat_id,
        title=plain("stars_invoice_title", lang, songs=pack.songs),
        description=plain("stars_invoice_description", lang, songs=pack.songs),
        payload=payload,
        currency=CURRENCY,
        prices=[LabeledPrice(plain("stars_invoice_label", lang, songs=pack.songs), pack.stars)],
    )
