"""What every operator command shares: the environment, the database path, opening it unmigrated.

Why never migrate: a newer CLI must not upgrade the schema under an older running bot; an
operator command reads the database at the version it has, or says which songbot to use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from storage.files import schema_version_of

if TYPE_CHECKING:
    from storage.db import Database


class OperatorError(Exception):
    """A problem to report as one line (exit 1), not a traceback."""


def operator_env(env_file: Path = Path(".env")) -> dict[str, str]:
    """The environment as the bot sees it: `.env` first, the process environment wins."""
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return merged


def db_path_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Path | str:
    """`--db`, else SONGBOT_DATABASE_URL (PostgreSQL, a string), else SONGBOT_DB (a file)."""
    explicit = getattr(args, "db", None)
    if explicit is not None:
        return Path(explicit)
    env = operator_env() if env is None else env
    url = env.get("SONGBOT_DATABASE_URL", "").strip()
    if url:
        return url
    return Path(env.get("SONGBOT_DB", "").strip() or "songbot.db")


async def open_unmigrated(path: Path, version: int) -> Database:
    from storage.open_db import open_database

    return await open_database(path, migrate_to=version)


@asynccontextmanager
async def open_existing(path: Path | str) -> AsyncIterator[Database]:
    """An existing songbot database at its current schema, opened without migrating it, and
    closed when the block ends."""
    from storage.db import StorageError, load_migrations

    if isinstance(path, str):
        async with _open_existing_postgres(path) as db:
            yield db
        return

    if not await asyncio.to_thread(path.is_file):
        raise OperatorError(f"no database at {path} (set SONGBOT_DB or pass --db)")
    if (await asyncio.to_thread(path.stat)).st_size == 0:
        raise OperatorError(
            f"{path} is empty: the bot has not started on it yet (no jobs, nothing to back up)"
        )
    latest = (await asyncio.to_thread(load_migrations))[-1].version
    try:
        version = await asyncio.to_thread(schema_version_of, path)
    except sqlite3.Error as exc:
        raise OperatorError(f"{path} is not a usable SQLite database: {exc}") from None
    if version != latest:
        newer = "newer" if version > latest else "older"
        raise OperatorError(
            f"{path} has schema version {version}, {newer} than this songbot's {latest}; "
            "use the songbot version that runs the bot"
        )
    try:
        db = await open_unmigrated(path, version)
    except StorageError as exc:
        raise OperatorError(str(exc)) from None
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def _open_existing_postgres(url: str) -> AsyncIterator[Database]:
    from storage.db import StorageError, load_migrations
    from storage.open_db import open_database

    try:
        db = await open_database(url, migrate_to=0)  # connect only: never migrate from here
    except StorageError as exc:
        raise OperatorError(str(exc)) from None
    try:
        latest = (await asyncio.to_thread(load_migrations, "postgresql"))[-1].version
        version = await db.schema_version()
        if version == 0:
            raise OperatorError(f"{db.path} has no songbot tables yet: the bot has not run on it")
        if version != latest:
            newer = "newer" if version > latest else "older"
            raise OperatorError(
                f"{db.path} has schema version {version}, {newer} than this songbot's {latest}; "
                "use the songbot version that runs the bot"
            )
        yield db
    finally:
        await db.close()
