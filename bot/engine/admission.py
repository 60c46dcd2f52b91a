"""Who may take a slot now: one walk down the waiting line, in arrival order, within the caps.

Why a walk and not a per-job check on a timer: a freed slot must go to the next eligible job at
once, and a user with 50 requests waiting must not stand between other users and their first
song. Walking the whole line from one snapshot (the line and the slot counts, two queries) gives
both, and the same walk yields every waiting job's place in line for its status message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.jobs import Job, SlotCounts


@dataclass(frozen=True, slots=True)
class Caps:
    per_user: int
    per_chat: int
    total: int

    def admit(self, held: SlotCounts, job: Job) -> bool:
        """Whether `job` fits beside the slots `held`: its user's, its chat's and the total."""
        return (
            held.total < self.total
            and held.by_user.get(job.user_id, 0) < self.per_user
            and held.by_chat.get(job.chat_id, 0) < self.per_chat
        )


@dataclass(slots=True)
class Admission:
    """The result of one walk: jobs to start now, expired ones, and everyone else's place."""

    start: list[Job] = field(default_factory=list)
    expired: list[Job] = field(default_factory=list)
    places: dict[int, tuple[Job, int]] = field(default_factory=dict)


def admit(
    line: Sequence[Job], held: SlotCounts, caps: Caps, *, now: float, room: int
) -> Admission:
    """Walk `line` (arrival order) and start every job whose user, chat and the bot as a whole
    have a free slot, at most `room` (the workers free to take them).

    A job that cannot start yet keeps its place: 1 + the number of blocked jobs ahead of it,
    so the first one waiting is told "next". Past its deadline it is `expired` instead.
    """
    out = Admission()
    counts = held.copy()
    blocked = 0
    for job in line:
        if now > job.deadline_at:
            out.expired.append(job)
            continue
        if caps.admit(counts, job) and len(out.start) < room:
            out.start.append(job)
            counts.add(job.user_id, job.chat_id)
            continue
        blocked += 1
        out.places[job.id] = (job, blocked)
    return out


def worth_a_walk(
    added: Sequence[Job | None], held: SlotCounts, caps: Caps, *, freed: bool
) -> bool:
    """Whether walking the line now could start a job that the last walk could not.

    Only a freed slot (`freed`: fewer held than the last walk left) or a new job that fits its
    user's, its chat's and the total cap can; `None` is a job added elsewhere (unknown user).
    A new job behind a full bot changes nobody's place, and a poll that left its job pending
    frees nothing: neither is worth reading the whole line for.
    """
    if held.total >= caps.total:
        return False
    return freed or any(job is None or caps.admit(held, job) for job in added)
