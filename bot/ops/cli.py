"""The `songbot` command line: `run` the bot, plus operator commands.

Why exit codes matter: supervisors act on them. The one ladder, for every mode, is
`bot.lifecycle.ExitCode`: 0 a clean stop, 1 a runtime failure (Telegram rejected the token or
cannot be reached), 2 "fix your setup" (configuration, ffmpeg, database, a busy port, another
instance on the database) — always one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError
from storage.files import probe_writable
from storage.instance_lock import InstanceLock, lock_path_for

DESCRIPTION = """songbot — turns /song requests in Telegram into songs made by the AI/ML API.

Configuration comes from the environment (and a .env file in the working directory):
TELEGRAM_BOT_TOKEN and AIMLAPI_KEY are required; see the README for every variable."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="songbot", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="start the bot (long polling, or a webhook with --webhook)",
        description=(
            "Start the bot. Long polling by default: pending updates sent while the bot was down "
            "are processed, pending jobs in the database resume. Stop with Ctrl-C or SIGTERM."
        ),
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's webhook (needs SONGBOT_WEBHOOK_URL and SONGBOT_WEBHOOK_SECRET)",
    )
    from bot.ops import operator_cli

    operator_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from bot.ops.process_setup import private_umask

    private_umask()
    problem = ensure_tmpdir()
    if problem is not None:
        print(f"songbot: {problem}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run(webhook=bool(args.webhook))
    from bot.ops import operator_cli

    return operator_cli.dispatch(args)


def ensure_tmpdir() -> str | None:
    """Create `TMPDIR` when it is missing (#16.11): the image points it at /data/tmp, and a
    bind-mounted /data starts empty. Python would otherwise fall back to the working folder or
    fail deep inside a conversion. Returns a one-line problem when it cannot be created."""
    raw = os.environ.get("TMPDIR")
    if not raw:
        return None
    folder = Path(raw)
    if folder.is_dir():
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        return f"TMPDIR {raw} does not exist and cannot be created: {exc.strerror or exc}"
    tempfile.tempdir = None  # forget a fallback chosen before the folder existed
    return None


def load_config() -> Config:
    """The config, or exit 2 with one line naming the variable and the problem."""
    try:
        return Config.from_env()
    except ConfigError as exc:
        print(f"songbot: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def check_db_path(path: Path) -> str | None:
    """A clear startup error for an unusable database path, before anything starts.

    A missing database is not created here: only the migration at start-up creates it, so a
    start that fails (a bad token, no network) leaves no empty file that would later look like
    a database of schema version 0.
    """
    try:
        folder = path.resolve().parent
        folder.mkdir(parents=True, exist_ok=True)
        if path.exists():
            probe_writable(path)
        elif not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot create the database at {path}: {folder} is not writable"
    except (OSError, sqlite3.Error) as exc:
        return f"cannot open the database at {path}: {exc}"
    return None


def run(*, webhook: bool = False) -> int:
    config = load_config()
    from bot.ops.logging_setup import setup_logging

    setup_logging(config.log_level, config.log_format, config.secrets)
    from bot.ops.process_setup import raise_open_files_limit

    raise_open_files_limit()
    from bot.delivery.media import FfmpegMissing, find_ffmpeg

    try:
        find_ffmpeg()
    except FfmpegMissing as exc:
        print(f"songbot: {exc.detail or exc}", file=sys.stderr)
        return 2
    if config.database_url is not None:
        # PostgreSQL: any number of replicas; no file lock. Connect (and migrate) once now, so
        # a bad URL or a server that is down is one line and exit 2, before Telegram is asked.
        problem = asyncio.run(probe_database(config.database_url.get()))
        if problem:
            print(f"songbot: {problem}", file=sys.stderr)
            return 2
        return _run_mode(config, webhook)
    problem = check_db_path(config.db_path)
    if problem:
        print(f"songbot: {problem}", file=sys.stderr)
        return 2
    lock = InstanceLock(lock_path_for(config.db_path))
    if not lock.acquire():
        holder = lock.holder()
        print(
            f"songbot: another songbot instance is running on {config.db_path}"
            f"{f' (pid {holder})' if holder else ''}; stop it first",
            file=sys.stderr,
        )
        return 2
    try:
        return _run_mode(config, webhook, sole_instance=True)
    finally:
        lock.release()


def _run_mode(config: Config, webhook: bool, *, sole_instance: bool = False) -> int:
    if webhook or config.webhook_url:
        from bot.ops.webhook import run_webhook

        return run_webhook(config, sole_instance=sole_instance)
    return run_polling(config, sole_instance=sole_instance)


async def probe_database(url: str) -> str | None:
    """None if the PostgreSQL database can be used (it is migrated on the way), else why."""
    from storage.db import StorageError
    from storage.open_db import open_database

    try:
        db = await open_database(url)
    except StorageError as exc:
        return str(exc)
    await db.close()
    return None


def run_polling(config: Config, *, sole_instance: bool = True) -> int:
    """`songbot run` in long-polling mode; exit codes: bot/lifecycle.py `ExitCode`."""
    from bot.app import build_application
    from bot.bot_data import bot_data_of
    from bot.ops.serve import Polling
    from bot.ops.serve import run as serve

    app = build_application(config)
    # run() holds the SQLite instance lock: every lease left in the file is a dead predecessor's.
    bot_data_of(app).sole_instance = sole_instance
    return asyncio.run(serve(app, Polling()))
