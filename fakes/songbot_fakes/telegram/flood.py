"""Flood control: per-chat, per-group and global limits (see the package docstring)."""

from __future__ import annotations

import bisect
import math
from collections import deque

from songbot_fakes.telegram._common import (
    _ARRIVAL,
    FLOOD_METHODS,
    _ApiError,
)
from songbot_fakes.telegram._state import _State
from songbot_fakes.telegram.records import (
    _Chat,
)


class _Flood(_State):
    """Flood control: per-chat, per-group and global limits (see the package docstring)."""

    def _flood(self, method: str, chat: _Chat) -> None:
        if not self.flood_limits or method not in FLOOD_METHODS:
            return
        now = _ARRIVAL.get() or self.clock()
        waits: list[float] = []
        broken: list[str] = []
        tokens, last = self._buckets.get(chat.id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * self.chat_rate)
        if tokens < 1:
            waits.append((1 - tokens) / self.chat_rate)
            broken.append("chat")
        group = self._group_windows.setdefault(chat.id, deque())
        while group and group[0] <= now - 60:
            group.popleft()
        is_group = chat.type in ("group", "supergroup")
        if is_group and len(group) >= self.group_per_minute:
            waits.append(group[0] + 60 - now)
            broken.append("group")
        while self._global_window and self._global_window[0] <= now - 1:
            self._global_window.popleft()
        # Arrival order can differ from handling order by an upload's read time: count what
        # arrived within the (jitter-narrowed) second before this message or after it.
        span = 1.0 - self.flood_jitter
        in_window = [at for at in self._global_window if at > now - span]
        if len(in_window) >= self.global_per_second:
            waits.append(min(in_window) + 1 - now)
            broken.append("global")
        if waits:
            self.flood_refusals.append((method, chat.id, tuple(broken)))
            self._buckets[chat.id] = (tokens, now)
            retry = max(1, math.ceil(max(waits)))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._buckets[chat.id] = (tokens - 1, now)
        if is_group:
            group.append(now)
        bisect.insort(self._global_window, now)
