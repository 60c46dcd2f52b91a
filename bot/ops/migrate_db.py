"""`songbot migrate-db --from songbot.db --to postgresql://…`: move up from SQLite to PostgreSQL.

Why a command and not a script: an operator outgrowing one process must keep every job (those in
flight included), every charge and every Stars purchase; the copy runs through the same
repositories the bot uses (storage/copy.py), into an empty, freshly migrated database, in one
transaction, and refuses while a bot still runs on the file.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.operator_db import OperatorError

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
    parser.add_argument("--to", dest="target", required=True, metavar="POSTGRESQL_URL")


def cmd_migrate_db(args: argparse.Namespace) -> int:
    report = asyncio.run(migrate(Path(args.source), str(args.target)))
    for table, count in report.rows.items():
        print(f"  {table:<15} {count:>8,} rows")
    print(
        f"copied {report.total:,} rows; {report.leases_cleared} job(s) in flight will be taken "
        "on by the first replica. Now set SONGBOT_DATABASE_URL and start the bot."
    )
    return 0


async def migrate(source: Path, target: str) -> CopyReport:
    from storage.copy import copy_database
    from storage.db import Database, StorageError, is_postgres_url
    from storage.instance_lock import InstanceLock, lock_path_for

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
            src = await Database.open(source)
        except StorageError as exc:
            raise OperatorError(str(exc)) from None
        try:
            try:
                dst = await Database.open(target)
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
