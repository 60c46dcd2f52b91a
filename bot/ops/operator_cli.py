"""Operator subcommands of `songbot`: check, jobs, stats, backup, stars and demo.

Why separate from `run`: these are what an operator types on the host (or `docker compose exec`)
to answer "is it configured right?", "what is it doing?" and "is my data safe?" without reading
logs. None of them changes the bot's state unless told to (`stars reconcile --fix`): they never
migrate the database (a newer CLI must not upgrade the schema under an older running bot) and
`backup` uses SQLite's online backup API, which is safe while the bot runs. Exit codes: 0 fine,
1 a problem was found, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.check import CHECK_TIMEOUT, cmd_check
from bot.ops.operator_db import OperatorError
from bot.ops.reports import cmd_backup, cmd_jobs, cmd_stats
from bot.ops.stars_cli import add_command as add_stars_command
from bot.ops.stars_cli import cmd_stars

if TYPE_CHECKING:
    pass


# ------------------------------------------------------------------------------ argparse wiring
def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the operator subcommands on `songbot`'s subparsers."""
    from storage.states import JobState

    check = sub.add_parser(
        "check",
        help="check the configuration, the token, the API key, ffmpeg and the database",
        description=(
            "Check everything the bot needs, without starting it and without creating anything: "
            "the configuration, the Telegram token (getMe) and webhook registration, the AI/ML "
            "API key (a free read-only call), ffmpeg, and the database. Exit 0 if all is well, "
            "1 otherwise."
        ),
    )
    check.add_argument(
        "--timeout", type=float, default=CHECK_TIMEOUT, help="seconds per network check"
    )

    jobs = sub.add_parser(
        "jobs",
        help="list recent jobs from the database",
        description="List jobs, newest first, read straight from the database (safe while the "
        "bot runs).",
    )
    jobs.add_argument("--state", choices=[s.value for s in JobState], help="only this state")
    jobs.add_argument("--chat", type=int, metavar="CHAT_ID", help="only this chat")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    jobs.add_argument("--json", action="store_true", help="one JSON object per line")
    _db_argument(jobs)

    stats = sub.add_parser(
        "stats",
        help="usage and job statistics from the database",
        description="Generations and credits (today in UTC and in total), top users, average "
        "generation time per model, and jobs by state.",
    )
    stats.add_argument("--json", action="store_true", help="print JSON")
    _db_argument(stats)

    backup = sub.add_parser(
        "backup",
        help="copy the database safely, even while the bot runs",
        description="Write a consistent copy of the database with SQLite's online backup API. "
        "PATH may be a file, or a folder (an existing one, or a path ending in /, created if "
        "missing) that gets a timestamped file. An existing file is never overwritten.",
    )
    backup.add_argument("path", metavar="PATH")
    _db_argument(backup)

    add_stars_command(sub)

    demo = sub.add_parser(
        "demo",
        help="rehearse a whole conversation offline (no token or key needed)",
        description="Start local fakes of Telegram and the AI/ML API, run the real bot against "
        "them, play a short scripted chat, print it, and save the songs it delivered.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to save the songs (default ./songbot-demo-<timestamp>)",
    )
    demo.add_argument(
        "--generation-seconds",
        type=float,
        default=1.0,
        help="how long the fake provider takes per song (default 1)",
    )
    demo.add_argument("--verbose", action="store_true", help="show the bot's log lines")


def _db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="database file (default: SONGBOT_DB or songbot.db)"
    )


def dispatch(args: argparse.Namespace) -> int:
    commands = {
        "check": cmd_check,
        "jobs": cmd_jobs,
        "stats": cmd_stats,
        "backup": cmd_backup,
        "stars": cmd_stars,
        "demo": cmd_demo,
    }
    handler = commands.get(str(args.command))
    if handler is None:
        print(f"songbot: unknown command {args.command!r}", file=sys.stderr)
        return 2
    try:
        return handler(args)
    except OperatorError as exc:
        print(f"songbot {args.command}: {exc}", file=sys.stderr)
        return 1


# -------------------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    # The fakes are a distribution of their own (fakes/): a plain install carries none.
    try:
        from bot.ops.demo import default_out_dir, run_demo, summary
    except ModuleNotFoundError as exc:
        if exc.name != "songbot_fakes":
            raise
        print(
            "songbot demo: the demo needs the local fakes; from a checkout run "
            '`pip install ./fakes` (or `pip install -e ".[dev]" -e ./fakes`)',
            file=sys.stderr,
        )
        return 2
    from bot.ops.logging_setup import setup_logging

    setup_logging("INFO" if args.verbose else "ERROR", "text")
    out_dir = args.out if args.out is not None else default_out_dir()
    result = asyncio.run(
        run_demo(
            out_dir,
            generation_seconds=float(args.generation_seconds),
            echo=lambda line: print(line, flush=True),
        )
    )
    print(summary(result))
    return 0 if result.ok else 1
