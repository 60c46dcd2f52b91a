"""`songbot migrate-db --from songbot.db`: move up from SQLite to PostgreSQL (the target URL from
SONGBOT_DATABASE_URL, `--to-file PATH`, or a password-less `--to URL`).

Why a command and not a script: an operator outgrowing one process must keep every job (those in
flight included), every charge and every Stars purchase; the copy runs through the same
repositories the bot uses (storage/copy.py), into an empty, freshly migrated database, in one
transaction, and refuses while a bot still runs on the file.

Why never a password on the command line (#24.10): every user of the machine can read a running
process's arguments (`ps`, /proc/<pid>/cmdline) and the shell keeps them in its history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlsplit

from bot.ops.operator_db import OperatorError, operator_env

if TYPE_CHECKING:
    from storage.copy import CopyReport


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "migrate-db",
        help="copy a SQLite database into an empty PostgreSQL database",
        description="Copy every job (in flight included), charge, setting, lyrics draft and "
        "Stars purchase from a SQLite file into an empty PostgreSQL database, which is "
        "created at the current schema first. Stop the bot first; afterwards set "
        "SONGBOT_DATABASE_URL and start one or more replicas.",
    )
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--to-file",
        dest="target_file",
        type=Path,
        metavar="PATH",
        help="a file holding the postgresql:// URL (default: SONGBOT_DATABASE_URL, from the "
        "environment or .env)",
    )
    target.add_argument(
        "--to",
        dest="target",
        metavar="POSTGRESQL_URL",
        help="a URL without a password only (peer or trust authentication, PGPASSWORD, ~/.pgpass)",
    )


REFUSE_CREDENTIALS_IN_ARGV: Final = (
    "a password on the command line is readable by every user of this machine while the "
    "command runs; set SONGBOT_DATABASE_URL in the environment or .env, or put the URL in a "
    "file and pass --to-file PATH"
)


def has_password(url: str) -> bool:
    """True for a URL that carries a password (in its user part or as ?password=)."""
    try:
        parts = urlsplit(url)
        in_userinfo = parts.password is not None
    except ValueError:
        return True  # unparseable: do not risk it
    return in_userinfo or "password" in parse_qs(parts.query)


def target_url(args: argparse.Namespace) -> str:
    """The PostgreSQL URL to copy into: `--to` (no password), `--to-file`, or the environment."""
    if args.target is not None:
        return str(args.target)
    if args.target_file is not None:
        path = Path(args.target_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OperatorError(f"cannot read --to-file {path}: {exc}") from None
        url = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if not url:
            raise OperatorError(f"--to-file {path} is empty")
        return url
    url = operator_env().get("SONGBOT_DATABASE_URL", "").strip()
    if not url:
        raise OperatorError(
            "no target: set SONGBOT_DATABASE_URL (environment or .env) or pass --to-file PATH"
        )
    return url


def cmd_migrate_db(args: argparse.Namespace) -> int:
    if args.target is not None and has_password(str(args.target)):
        print(f"songbot migrate-db: {REFUSE_CREDENTIALS_IN_ARGV}", file=sys.stderr)
        return 2
    report = asyncio.run(migrate(Path(args.source), target_url(args)))
    for table, count in report.rows.items():
        print(f"  {table:<15} {count:>8,} rows")
    print(
        f"copied {report.total:,} rows; {report.leases_cleared} job(s) in flight will be taken "
        "on by the first replica. Now set SONGBOT_DATABASE_URL and start the bot."
    )
    return 0


async def migrate(source: Path, target: str) -> CopyReport:
    from storage.copy import copy_database
    from storage.db import StorageError, is_postgres_url
    from storage.instance_lock import InstanceLock, lock_path_for
    from storage.open_db import open_database

    if not is_postgres_url(target):
        raise OperatorError("--to must be a postgresql://user:password@host:port/dbname URL")
    if not await asyncio.to_thread(source.is_file):
        raise OperatorError(f"no database at {source}")
    lock = InstanceLock(lock_path_for(source))
    if not await asyncio.to_thread(lock.acquire):
        raise OperatorError(f"a songbot is running on {source}; stop it first")
    try:
        try:
            # The source is brought to this songbot's schema (the bot is stopped: nobody else
            # opens it), so both sides have the same tables and columns.
            src = await open_database(source)
        except StorageError as exc:
            raise OperatorError(str(exc)) from None
        try:
            try:
                dst = await open_database(target)
            except StorageError as exc:
                raise OperatorError(str(exc)) from None
            try:
                return await copy_database(src, dst)
            except StorageError as exc:
                raise OperatorError(str(exc)) from None
            finally:
                await dst.close()
        finally:
            await src.close()
    finally:
        lock.release()
