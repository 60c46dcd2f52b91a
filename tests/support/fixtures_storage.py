"""Storage fixtures shared by the storage tests: `db` (SQLite and PostgreSQL) and its `store`."""

from __future__ import annotations

import pytest

from storage import Database, JobStore


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL (tests/support/fixtures_pg.py)."""
    return any_db


@pytest.fixture
def store(db: Database) -> JobStore:
    return JobStore(db)
