"""Shared pytest fixtures, and the test tiers.

Every test gets exactly one tier marker, from what it really uses, so a new test cannot forget it:
- `postgres`: the suite's own PostgreSQL server (the `pg_server` / `pg_url` fixtures, or the
  PostgreSQL half of `any_db`);
- `process`: a real `songbot run` child process (its module uses `tests.support.subprocess_bot`) or
  another command run as a process;
- `bot`: the real PTB Application or a client against the local fakes, in the test's process;
- `unit`: pure code, no server.
And, beside its tier, a test that must wait for real time (a job deadline, a retry schedule, a
timeout it proves) says so with `@pytest.mark.slow` and a comment naming the wait. The fast inner
loop is `pytest -m "(unit or bot) and not slow" -n 4 --dist worksteal` (README, "Tests");
the README's command runs every test, slow ones included.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import settings

# Bytecode caches on, for this run and every process it starts (xdist workers, `songbot run`
# children): a machine that sets PYTHONDONTWRITEBYTECODE (container images often do) made each
# of those processes compile the project and rewrite the test modules from source again, about
# 3 s of CPU per pytest process. The caches land in __pycache__/, which git ignores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Property tests draw the same examples on every run: a counterexample found by chance in one CI
# run and not the next is a flaky test that blocks a landing. `--hypothesis-profile=explore`
# draws new examples when you hunt for them.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

# The shared fixtures live in tests/support/ (with the rest of the test support code) and load as
# plugins, so a test sees each fixture from one named module instead of a star import.
pytest.register_assert_rewrite("tests.support")
pytest_plugins = [
    "tests.support.fixtures_aimlapi",
    "tests.support.fixtures_bot",
    "tests.support.fixtures_ops",
    "tests.support.fixtures_pg",
    "tests.support.fixtures_storage",
    "tests.support.fixtures_telegram",
]

TIERS = ("unit", "bot", "process", "postgres")
_POSTGRES_FIXTURES = frozenset({"pg_server", "pg_url"})
_FAKE_FIXTURES = frozenset(
    {"harness", "fake_telegram", "fake_aimlapi", "strict_fake_aimlapi", "aimlapi_client"}
)
_PROCESS_NAMES = ("BotProcess", "run_cli", "subprocess")


def pytest_configure(config: pytest.Config) -> None:
    for tier in TIERS:
        config.addinivalue_line("markers", f"{tier}: test tier (tests/conftest.py)")
    config.addinivalue_line(
        "markers", "slow: waits for real time it cannot shorten; left out of the fast tier"
    )


def tier_of(item: pytest.Item) -> str:
    """The heaviest thing the test uses decides its tier."""
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    if fixtures & _POSTGRES_FIXTURES or "postgresql" in params:
        return "postgres"
    module = getattr(item, "module", None)
    names = vars(module) if module is not None else {}
    if any(name in names for name in _PROCESS_NAMES):
        return "process"
    if fixtures & _FAKE_FIXTURES or any(n in names for n in ("FakeTelegram", "FakeAimlApi")):
        return "bot"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(tier_of(item))
