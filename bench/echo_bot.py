"""The floor for bench_updates.py: a minimal python-telegram-bot echo bot.

Run: .venv/bin/python bench/echo_bot.py [--like-songbot]
Reads TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL. Without flags it is PTB's textbook echo bot
(one update at a time, no rate limiter); `--like-songbot` adds what songbot's Application uses
for throughput and Telegram's flood limits (its MessageRateLimiter, 64 concurrent updates), so the
ratio shows songbot's own work rather than those choices.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.telegram.flood import GROUP_INTERVAL, OVERALL_INTERVAL, MessageRateLimiter


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--like-songbot", action="store_true")
    args = parser.parse_args()
    base = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
    )
    if args.like_songbot:
        # The same limiter as bot/app.py: one message per 1/27 s overall, one per 3.5 s per group.
        limiter = MessageRateLimiter(
            overall_limit=1,
            overall_period=OVERALL_INTERVAL,
            group_limit=1,
            group_period=GROUP_INTERVAL,
            max_retries=3,
        )
        builder = builder.rate_limiter(limiter).concurrent_updates(64)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
