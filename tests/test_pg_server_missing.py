"""The PostgreSQL fixture never changes the machine: a missing server is one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import pg_server


def test_a_missing_server_binary_asks_for_debians_package_and_installs_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_commands(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the fixture ran a command: {args}")

    monkeypatch.delenv("SONGBOT_TEST_PG_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg_server, "DEBIAN_PG_ROOT", tmp_path / "postgresql")
    monkeypatch.setattr(pg_server.subprocess, "run", no_commands)
    with pytest.raises(pg_server.PgServerMissing, match=r"install Debian's `postgresql` package"):
        pg_server.find_bin_dir()
