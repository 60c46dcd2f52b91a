"""A real PostgreSQL server for the suite, started by the suite itself.

Why real: the PostgreSQL engine's claims (SKIP LOCKED), advisory locks, LISTEN/NOTIFY and
PL/pgSQL triggers can only be tested against the server. The binaries come from the Debian
`postgresql` package, which the suite never installs itself (`.ci/run` does, for CI): a test run
must not change the machine it runs on. The server refuses to run as root, so
as root it runs as the package's `postgres` user (or `nobody`). It listens on 127.0.0.1 on a free
port, with its data in a temporary folder that is removed at the end.

Each test gets a database of its own, copied from a migrated template (`fresh_database`), which
takes a few milliseconds instead of a migration per test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

TEMPLATE = "songbot_template"
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
MISSING_MESSAGE = (
    "the tests need a PostgreSQL server binary (13 or newer): install Debian's "
    "`postgresql` package (apt-get install postgresql) or set SONGBOT_TEST_PG_BIN"
)


class PgServerMissing(RuntimeError):
    pass


def find_bin_dir() -> Path:
    explicit = os.environ.get("SONGBOT_TEST_PG_BIN")
    if explicit:
        return Path(explicit)
    versions = sorted(
        DEBIAN_PG_ROOT.glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise PgServerMissing(MISSING_MESSAGE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="songbot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "songbot"
        self._as: list[str] = []
        if os.geteuid() == 0:
            runner = "postgres" if _user_exists("postgres") else "nobody"
            self._as = ["runuser", "-u", runner, "--"]
            os.chown(self.root, pwd.getpwnam(runner).pw_uid, -1)
        self.root.chmod(0o700)

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, text=True, cwd=self.root
        )

    def start(self) -> None:
        try:
            self._run(
                str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
            self.resume()
        except subprocess.CalledProcessError as exc:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{tail}") from exc

    def pause(self) -> None:
        """Stop the server but keep its data (a database that goes away for a while)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        with self.admin() as conn:
            source = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{source}")
        return self.url(name)

    def fresh_database(self) -> str:
        """A new database at the latest schema (a copy of the migrated template)."""
        return self.create_database(f"t_{uuid.uuid4().hex[:16]}", template=TEMPLATE)

    def empty_database(self) -> str:
        """A new database with no songbot tables (for migration tests)."""
        return self.create_database(f"e_{uuid.uuid4().hex[:16]}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
