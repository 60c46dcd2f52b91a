"""Every SQL difference between SQLite and PostgreSQL, in one place.

Why one module: the repositories write their queries once, in the subset both engines share
(`?` placeholders, `ON CONFLICT … DO`, `RETURNING`, `IS NOT DISTINCT FROM`, `TRUE`); where the
engines really differ (scalar min/max, row locks, the driver's parameter style, booleans) the
repository asks its database's `Dialect` for the piece of SQL, and nothing else knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

EngineName = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class Dialect:
    name: EngineName

    def least(self, a: str, b: str) -> str:
        """The smaller of two non-NULL expressions (SQLite's scalar `MIN(a, b)`)."""
        return f"MIN({a}, {b})" if self.name == "sqlite" else f"LEAST({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"MAX({a}, {b})" if self.name == "sqlite" else f"GREATEST({a}, {b})"

    @property
    def skip_locked(self) -> str:
        """Appended to a claim's inner SELECT: on PostgreSQL, replicas claiming at once pass
        over each other's rows instead of queueing on them (SQLite has one writer anyway)."""
        return "" if self.name == "sqlite" else " FOR UPDATE SKIP LOCKED"

    def driver_sql(self, sql: str) -> str:
        """The query as the driver takes it: psycopg wants `%s` and a literal `%` doubled."""
        if self.name == "sqlite":
            return sql
        return _to_format_style(sql)

    def driver_params(self, params: Sequence[object]) -> tuple[object, ...]:
        """SQLite stores True as 1; PostgreSQL's INTEGER columns refuse a boolean parameter."""
        if self.name == "sqlite":
            return tuple(params)
        return tuple(int(p) if isinstance(p, bool) else p for p in params)


SQLITE: Final = Dialect("sqlite")
POSTGRESQL: Final = Dialect("postgresql")


def _to_format_style(sql: str) -> str:
    """`?` → `%s` and `%` → `%%`, outside quoted strings and identifiers."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)
