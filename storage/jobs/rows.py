"""A job as a row: what intake writes (`NewJob`), what is read back (`Job`), and the column rules.

Why apart from the repository: the shapes and the SQL fragments built from them are shared by
every module of `JobStore` (storage/jobs/) and by the tests, and read best on their own; the
SQL fragments and helpers below are public for that reason, and for nothing else.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any, Final, TypedDict

from storage.db import Row
from storage.states import TERMINAL, JobState

# A job's key is also its X-Client-Request-Id at the provider, whose rule this is
# (bot/aimlapi/client.py checks outgoing ids against the same pattern).
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True, slots=True)
class Increment:
    """A field value meaning "add this to the stored number" (e.g. `poll_count=Increment(1)`)."""

    by: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    """What intake knows about a request; the store fills in state, counters and timestamps."""

    key: str
    chat_id: int
    chat_type: str
    topic_id: int | None
    user_id: int
    user_name: str
    user_lang: str | None
    request_message_id: int
    model: str
    prompt: str
    lyrics: str | None
    options: Mapping[str, object] = field(default_factory=dict)
    deadline_at: float
    next_check_at: float
    created_at: float
    status_message_id: int | None = None
    reference_message_id: int | None = None
    reference_file_id: str | None = None
    reference_file_unique_id: str | None = None
    reference_kind: str | None = None
    reference_mime: str | None = None
    reference_duration: float | None = None
    reference_size: int | None = None
    reference_purpose: str | None = None
    refer_voice_id: str | None = None
    refer_instrumental_id: str | None = None
    reference_url: str | None = None
    # The song's title (#25.12): the /write title, else a lyric line, else the style.
    title: str | None = None

    def __post_init__(self) -> None:
        if not KEY_PATTERN.fullmatch(self.key):
            raise ValueError(f"job key must be 1-128 chars of A-Za-z0-9._:- , got {self.key!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One row of `jobs`, typed."""

    id: int
    key: str
    chat_id: int
    chat_type: str
    topic_id: int | None
    user_id: int
    user_name: str
    user_lang: str | None
    request_message_id: int
    status_message_id: int | None
    status_updated_at: float | None
    model: str
    prompt: str
    lyrics: str | None
    options: dict[str, Any]
    reference_message_id: int | None
    reference_file_id: str | None
    reference_file_unique_id: str | None
    reference_kind: str | None
    reference_mime: str | None
    reference_duration: float | None
    reference_size: int | None
    reference_purpose: str | None
    refer_voice_id: str | None
    refer_instrumental_id: str | None
    reference_url: str | None
    generation_id: str | None
    provider_status: str | None
    state: JobState
    submit_attempts: int
    poll_count: int
    delivery_attempts: int
    transient_errors: int
    claims: int
    next_check_at: float | None
    deadline_at: float
    lease_owner: str | None
    lease_until: float | None
    cancel_requested_at: float | None
    error_key: str | None
    error_detail: str | None
    credits_used: int | None
    cost_usd: float | None
    audio_url: str | None
    result_path: str | None
    result_bytes: int | None
    result_duration: float | None
    result_mime: str | None
    result_format: str | None
    delivered_message_id: int | None
    delivered_file_id: str | None
    submit_started_at: float | None
    submitted_at: float | None
    completed_at: float | None
    fetched_at: float | None
    delivered_at: float | None
    finished_at: float | None
    outcome_sent_at: float | None
    created_at: float
    updated_at: float
    title: str | None = None

    @property
    def client_request_id(self) -> str:
        """The `X-Client-Request-Id` of the current paid attempt: the key, then `key.2` for the
        one resubmit the engine makes once the request log proved the first created nothing."""
        return self.key if self.submit_attempts <= 1 else f"{self.key}.{self.submit_attempts}"

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def has_reference(self) -> bool:
        return bool(
            self.reference_file_id
            or self.reference_url
            or self.refer_voice_id
            or self.refer_instrumental_id
        )

    def lease_held(self, owner: str, now: float) -> bool:
        return (
            self.lease_owner == owner and self.lease_until is not None and self.lease_until > now
        )

    @property
    def generation_seconds(self) -> float | None:
        """Provider time: submitted until the provider reported completion."""
        if self.submitted_at is None or self.completed_at is None:
            return None
        return self.completed_at - self.submitted_at

    @classmethod
    def from_row(cls, row: Row) -> Job:
        """A row of `SELECT`/`RETURNING`, whose columns are JOB_COLUMNS in order.

        Why by position: `row[name]` scans the column names case-insensitively, and 45 such
        look-ups made this the costliest line of the update path (bench/bench_updates.py).
        """
        if len(row) != len(JOB_COLUMNS):
            raise ValueError(f"a job row has {len(JOB_COLUMNS)} columns, not {len(row)}")
        values: dict[str, Any] = dict(zip(JOB_COLUMNS, row, strict=True))
        values["state"] = JobState(values["state"])
        values["options"] = json.loads(values["options"] or "{}")
        return cls(**values)


class ReleasePatch(TypedDict, total=False):
    """The columns a caller may set, with their types; all but `next_check_at` (`JobPatch`).

    Why a TypedDict: `**fields: Unpack[...]` lets mypy check every call site's names and values;
    identity, state, the row's own timestamps and leases are the store's (`_PROTECTED`). The
    counters also take an `Increment`. Why apart: `release` names the next check itself.
    """

    chat_type: str
    topic_id: int | None
    user_id: int
    user_name: str
    user_lang: str | None
    status_message_id: int | None
    status_updated_at: float | None
    model: str
    prompt: str
    lyrics: str | None
    options: Mapping[str, object]
    reference_message_id: int | None
    reference_file_id: str | None
    reference_file_unique_id: str | None
    reference_kind: str | None
    reference_mime: str | None
    reference_duration: float | None
    reference_size: int | None
    reference_purpose: str | None
    refer_voice_id: str | None
    refer_instrumental_id: str | None
    reference_url: str | None
    generation_id: str | None
    provider_status: str | None
    submit_attempts: int | Increment
    poll_count: int | Increment
    delivery_attempts: int | Increment
    transient_errors: int | Increment
    deadline_at: float
    cancel_requested_at: float | None
    error_key: str | None
    error_detail: str | None
    credits_used: float | None  # the provider reports a float
    cost_usd: float | None
    audio_url: str | None
    result_path: str | None
    result_bytes: int | None
    result_duration: float | None
    result_mime: str | None
    result_format: str | None
    delivered_message_id: int | None
    delivered_file_id: str | None
    submit_started_at: float | None
    submitted_at: float | None
    completed_at: float | None
    fetched_at: float | None
    delivered_at: float | None
    finished_at: float | None
    outcome_sent_at: float | None
    title: str | None


class JobPatch(ReleasePatch, total=False):
    """What `transition`, `update` and `start_waiting` may set: every patchable column."""

    next_check_at: float | None


JOB_COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in dataclass_fields(Job))
NEW_JOB_COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in dataclass_fields(NewJob))
# Columns that identify a job or are managed only by the store itself (state via `transition`,
# leases via claim/release/renew).
_PROTECTED: Final = frozenset(
    {
        "id",
        "key",
        "chat_id",
        "request_message_id",
        "state",
        "created_at",
        "updated_at",
        "lease_owner",
        "lease_until",
        "claims",
    }
)
UPDATABLE_COLUMNS: Final[frozenset[str]] = frozenset(JOB_COLUMNS) - _PROTECTED
# tests/test_storage_jobs.py checks that `JobPatch` names exactly these.
SELECT: Final = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"
RETURNING: Final = f"RETURNING {', '.join(JOB_COLUMNS)}"


def new_job_key() -> str:
    """A fresh, unique job key; it names no chat or user, since the provider sees it."""
    return f"sb-{secrets.token_hex(12)}"


def sql_value(name: str, value: object) -> object:
    if name == "options":
        if not isinstance(value, Mapping):
            raise TypeError("options must be a mapping")
        return json.dumps(dict(value), ensure_ascii=False, sort_keys=True)
    if isinstance(value, JobState):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def assignments(values: Mapping[str, object]) -> tuple[list[str], list[object]]:
    """`col = ?` clauses for whitelisted columns; unknown names are a programming error."""
    unknown = set(values) - UPDATABLE_COLUMNS
    if unknown:
        raise ValueError(f"cannot set job column(s): {', '.join(sorted(unknown))}")
    clauses: list[str] = []
    params: list[object] = []
    for name, value in values.items():
        if isinstance(value, Increment):
            clauses.append(f"{name} = {name} + ?")
            params.append(value.by)
        else:
            clauses.append(f"{name} = ?")
            params.append(sql_value(name, value))
    return clauses, params


def placeholders(items: Collection[object]) -> str:
    return ", ".join("?" for _ in items)


def state_values(states: Collection[JobState]) -> list[str]:
    return sorted(JobState(s).value for s in states)
