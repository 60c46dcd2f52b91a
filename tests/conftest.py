"""Shared pytest fixtures."""

from tests.conftest_aimlapi import *  # noqa: F403
from tests.conftest_bot import *  # noqa: F403
from tests.conftest_pg import *  # noqa: F403
from tests.conftest_telegram import *  # noqa: F403
