"""`songbot stars reconcile`: the Stars ledger against Telegram's record of the bot's payments.

Why an operator command: the running bot credits payments it missed by itself (the newest
transactions), but only the whole history shows purchases Telegram does not know, refunds made
outside the bot, or a refund whose credits were taken back while Telegram never paid the Stars
out. Without `--fix` it changes nothing; with it, it credits, writes refunds and completes refunds,
each keyed by the charge id, so running it twice, or while the bot runs, changes nothing twice.
Exit 0 when the ledger matches Telegram, 1 while differences remain (or Telegram cannot be asked).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError
from bot.ops.operator_db import OperatorError, open_existing
from bot.tls import client_tls

if TYPE_CHECKING:
    from bot.intake.stars_reconcile import Report


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stars = sub.add_parser(
        "stars",
        help="Telegram Stars: compare the ledger with Telegram's record",
        description="Telegram Stars operator commands.",
    )
    actions = stars.add_subparsers(dest="stars_command", metavar="ACTION", required=True)
    reconcile = actions.add_parser(
        "reconcile",
        help="compare star_purchases with getStarTransactions",
        description=(
            "Page through Telegram's list of the bot's Star transactions and compare it with the "
            "ledger: payments never credited, purchases Telegram does not list, refunds on one "
            "side only, amounts that differ. Exit 0 if they match, 1 otherwise."
        ),
    )
    reconcile.add_argument(
        "--fix",
        action="store_true",
        help="credit missing payments (and tell their buyers), write Telegram's refunds into "
        "the ledger, and complete refunds the ledger already counts",
    )
    reconcile.add_argument(
        "--db", type=Path, metavar="PATH", help="database file (default: SONGBOT_DB or songbot.db)"
    )


def cmd_stars(args: argparse.Namespace) -> int:
    try:
        config = Config.from_env()
    except ConfigError as exc:
        raise OperatorError(f"configuration error: {exc}") from None
    from bot.ops.logging_setup import setup_logging

    setup_logging("ERROR", "text", config.secrets)
    path: Path | str = Path(args.db) if args.db is not None else config.db_path
    if args.db is None and config.database_url is not None:
        path = config.database_url.get()
    fix = bool(args.fix)
    report = asyncio.run(_reconcile(config, path, fix=fix))
    print(format_report(report, fix=fix))
    return 1 if report.remaining else 0


async def _reconcile(config: Config, path: Path | str, *, fix: bool) -> Report:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError
    from telegram.request import HTTPXRequest

    from bot.intake.stars_reconcile import reconcile
    from storage.stars import StarStore

    base = config.telegram_api_base_url
    tls = {"verify": client_tls()}
    request = HTTPXRequest(
        connection_pool_size=2, connect_timeout=10.0, read_timeout=30.0, httpx_kwargs=tls
    )
    bot = Bot(
        config.telegram_token.get(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls),
    )
    async with open_existing(path) as db:
        try:
            async with bot:
                return await reconcile(
                    bot,
                    StarStore(db),
                    fix=fix,
                    now=time.time(),
                    free_per_day=config.free_songs_per_day,
                )
        except InvalidToken:
            # PTB's message for this error contains the token itself: say it in our words.
            raise OperatorError(f"the bot token was rejected by {base}") from None
        except TelegramError as exc:
            raise OperatorError(f"Telegram did not answer usably: {exc}") from None


def format_report(report: Report, *, fix: bool) -> str:
    """A short report for the operator: the counts, one line per difference, what is left."""
    r = report.record
    lines = [
        "songbot stars reconcile",
        f"  Telegram: {len(r.payments)} payments, {len(r.refunds)} refunds, {r.other} other "
        f"transactions; ledger: {report.purchases} purchases",
    ]
    if not r.complete:
        lines.append(
            f"  (Telegram's list was read for {r.pages} pages only: purchases it does not list "
            "were not looked for)"
        )
    unlisted = {c: why for c, why in report.problems.items() if c not in r.payments}
    for charge_id, why in unlisted.items():
        lines.append(
            f"  NOTE   payment not credited when it arrived: {charge_id}: {why} (Telegram does "
            "not list it: a forged update, or one of another bot)"
        )
    for f in report.findings:
        status = "FIXED" if f.fixed else "DIFF"
        lines.append(
            f"  {status:<5}  {f.kind.value}: {f.charge_id} (user {f.user_id}, {f.stars} Stars): "
            f"{f.detail}"
        )
    left = report.remaining
    if not left:
        fixed = sum(f.fixed for f in report.findings)
        lines.append("The ledger matches Telegram" + (f" ({fixed} fixed)." if fixed else "."))
        return "\n".join(lines)
    lines.append(f"{len(left)} difference{'s' if len(left) != 1 else ''} remain.")
    from bot.intake.stars_reconcile import Kind

    fixable = {Kind.MISSING, Kind.REFUND_MISSING, Kind.REFUND_UNKNOWN}
    if not fix and any(f.kind in fixable for f in left):
        lines.append(
            "Run `songbot stars reconcile --fix` to credit missing payments (their buyers are "
            "told), write Telegram's refunds into the ledger, and complete refunds the ledger "
            "already counts."
        )
    return "\n".join(lines)
