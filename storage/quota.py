"""What a daily limit counts, written once for the check and for the atomic intake.

Why one place: the friendly early check (`count_today_with_pending`) and the guard inside the job
INSERT must count exactly the same things, or a request could pass one and fail the other. A
generation counts once it is charged (a `usage` row that is not refunded) or while it could still
be charged (a job accepted but not yet past the paid submit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.states import JobState

# Jobs that may still be charged but have no usage row yet.
UNCHARGED_STATES: Final = (JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING)

# A user's charged, unrefunded generations in [start, end): (user_id, start, end).
CHARGED_IN_SPAN: Final = (
    "SELECT COUNT(*) FROM usage "
    "WHERE user_id = ? AND refunded = 0 AND created_at >= ? AND created_at < ?"
)
# A user's accepted jobs not charged yet: (user_id,).
UNCHARGED_JOBS: Final = (
    "SELECT COUNT(*) FROM jobs WHERE user_id = ? "
    f"AND state IN ({', '.join(repr(s.value) for s in UNCHARGED_STATES)})"
)
# Both, as one number: (user_id, start, end, user_id).
USED_WITH_PENDING: Final = f"({CHARGED_IN_SPAN}) + ({UNCHARGED_JOBS})"


@dataclass(frozen=True, slots=True)
class DailyQuota:
    """A limit the intake INSERT enforces in the same statement that writes the job."""

    user_id: int
    limit: int
    day_start: float
    day_end: float

    def params(self) -> tuple[object, ...]:
        """The parameters of `USED_WITH_PENDING < limit`, in order."""
        return (self.user_id, self.day_start, self.day_end, self.user_id, self.limit)


# A user's jobs still waiting for a slot: (user_id,).
WAITING_JOBS: Final = "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND state = 'received'"


@dataclass(frozen=True, slots=True)
class WaitingCap:
    """At most `limit` of a user's jobs may wait in the queue; enforced by the intake INSERT."""

    user_id: int
    limit: int

    def params(self) -> tuple[object, ...]:
        """The parameters of `WAITING_JOBS < limit`, in order."""
        return (self.user_id, self.limit)


class WaitingCapReached(Exception):
    """The intake INSERT found the user's queue full; nothing was written."""

    def __init__(self, cap: WaitingCap) -> None:
        super().__init__(f"user {cap.user_id} already has {cap.limit} songs waiting")
        self.cap = cap


class QuotaExceeded(Exception):
    """The intake INSERT found the user's daily limit used up; nothing was written."""

    def __init__(self, quota: DailyQuota) -> None:
        super().__init__(f"user {quota.user_id} reached the daily limit of {quota.limit}")
        self.quota = quota


# --- Telegram Stars (storage/stars.py): what a paying bot's intake counts ---------------------

# A user's free songs today that still count (a failed one gave its free song back):
# (user_id, start, end).
FREE_USED_IN_SPAN: Final = (
    "SELECT COUNT(*) FROM song_billing WHERE user_id = ? AND kind = 'free' "
    "AND state != 'released' AND created_at >= ? AND created_at < ?"
)
# Credits a user can still spend: bought, minus refunded, minus held by songs: (user_id x3).
CREDITS_AVAILABLE: Final = (
    "(SELECT COALESCE(SUM(songs - refunded_songs), 0) FROM star_purchases WHERE user_id = ?) - "
    "(SELECT COUNT(*) FROM song_billing WHERE user_id = ? AND kind = 'credit' "
    "AND state IN ('reserved', 'used'))"
)


@dataclass(frozen=True, slots=True)
class StarsGuard:
    """A paying bot's price, enforced by the intake INSERT and reserved in its transaction: a
    free song of the day if one is left, else one credit; neither means nothing is written."""

    user_id: int
    free_per_day: int
    day_start: float
    day_end: float

    def free_params(self) -> tuple[object, ...]:
        return (self.user_id, self.day_start, self.day_end)

    def credit_params(self) -> tuple[object, ...]:
        return (self.user_id, self.user_id)


class PaymentRequired(Exception):
    """The intake INSERT found no free song and no credit left; nothing was written."""

    def __init__(self, guard: StarsGuard) -> None:
        super().__init__(f"user {guard.user_id} has no free song and no credit left")
        self.guard = guard


# --- identity: channel posts and anonymous admins (#24.2) -------------------------------------
# A requester id below zero is a chat speaking (a channel, or a group's anonymous admins; see
# `bot.telegram.helpers.requester_id`). One person can create any number of them, so on top of
# each one's own daily limit, all of them together share one bot-wide daily cap.

# Charged, unrefunded generations of every chat requester in [start, end), plus their jobs not
# charged yet: (start, end).
CHAT_SENDERS_USED_WITH_PENDING: Final = (
    "(SELECT COUNT(*) FROM usage WHERE user_id < 0 AND refunded = 0 "
    "AND created_at >= ? AND created_at < ?) + "
    "(SELECT COUNT(*) FROM jobs WHERE user_id < 0 "
    f"AND state IN ({', '.join(repr(s.value) for s in UNCHARGED_STATES)}))"
)


def is_chat_sender(user_id: int) -> bool:
    """A requester that is a chat (channel or anonymous admins), not a person."""
    return user_id < 0


@dataclass(frozen=True, slots=True)
class ChatSendersCap:
    """The bot-wide daily cap on songs for chat requesters, enforced by the intake INSERT."""

    limit: int
    day_start: float
    day_end: float

    def params(self) -> tuple[object, ...]:
        """The parameters of `CHAT_SENDERS_USED_WITH_PENDING < limit`, in order."""
        return (self.day_start, self.day_end, self.limit)


class ChatSendersCapReached(Exception):
    """The intake INSERT found the chat requesters' daily cap used up; nothing was written."""

    def __init__(self, cap: ChatSendersCap) -> None:
        super().__init__(f"chat requesters reached their daily cap of {cap.limit}")
        self.cap = cap
