"""The PostgreSQL server of the test session and a database per test on either engine.

`any_db` is parametrised over both engines: a storage test that takes it runs once on SQLite
(in memory) and once on a fresh PostgreSQL database of the suite's own server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.db import Database
from storage.open_db import open_database
from tests.support.pg_server import TEMPLATE, PgServer

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    try:
        url = server.create_database(TEMPLATE)
        # In a thread of its own: this fixture may be first needed inside a running loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _migrate(url)).result()
        yield server
    finally:
        server.stop()


async def _migrate(url: str) -> None:
    db = await open_database(url)
    await db.close()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, migrated PostgreSQL database for this test."""
    return pg_server.fresh_database()


async def open_engine(engine: str, request: pytest.FixtureRequest) -> Database:
    if engine == "sqlite":
        return await open_database(":memory:")
    server: PgServer = request.getfixturevalue("pg_server")
    return await open_database(server.fresh_database())


@pytest.fixture(params=ENGINES)
async def any_db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = await open_engine(request.param, request)
    yield database
    await database.close()
