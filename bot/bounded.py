"""Per-chat memories with a ceiling: least recently used entries go first, old ones expire.

Why (#24.12): the update path and the group boards remember a little per chat (a lock, when a
board was last edited, its language, an admin check, a notice already given). Kept in plain dicts
they only grow: every group that ever asked leaves entries behind, forever. Each such memory is
only worth having while the chat is active, and losing one costs at most one more call or notice,
so a bounded LRU with an optional age limit is safe. Why not `functools.lru_cache` or a library:
these are written and read from many places (not one function's results), and some entries must
not be dropped while in use (a lock being held), which `keep` expresses.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Enough for every chat active at once on a busy bot; memory stays in the low megabytes.
CHAT_CACHE_MAX: Final = 4096


class BoundedMap(MutableMapping[K, V], Generic[K, V]):
    """A dict of at most `max_size` entries (least recently used dropped first), each
    forgotten `ttl` seconds after it was written (None: never); `keep(value)` pins an entry in
    use: it is passed over, so the map holds at most `max_size` plus the entries in use, and
    is back within `max_size` at its next use once they are released."""

    def __init__(
        self,
        max_size: int = CHAT_CACHE_MAX,
        *,
        ttl: float | None = None,
        keep: Callable[[V], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self.ttl = ttl
        self._keep = keep
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __getitem__(self, key: K) -> V:
        if len(self._data) > self.max_size:
            self._trim()  # pinned entries kept it over the bound: they may be free now
        written, value = self._data[key]
        if self.ttl is not None and self._clock() - written > self.ttl:
            del self._data[key]
            raise KeyError(key)
        self._data.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._data[key] = (self._clock(), value)
        self._data.move_to_end(key)
        self._trim()

    def __delitem__(self, key: K) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def _trim(self) -> None:
        """Drop the oldest entries past the bound, and expired ones met on the way."""
        now = self._clock()
        passed: list[K] = []
        for key in list(self._data):
            over = len(self._data) - len(passed) > self.max_size
            written, value = self._data[key]
            expired = self.ttl is not None and now - written > self.ttl
            if not over and not expired:
                break
            if self._keep is not None and self._keep(value):
                passed.append(key)
                continue
            del self._data[key]


class BoundedSet(Generic[K]):
    """A set over `BoundedMap`: the same ceiling and age limit."""

    def __init__(self, max_size: int = CHAT_CACHE_MAX, *, ttl: float | None = None) -> None:
        self._map: BoundedMap[K, None] = BoundedMap(max_size, ttl=ttl)

    @property
    def max_size(self) -> int:
        return self._map.max_size

    @max_size.setter
    def max_size(self, value: int) -> None:
        self._map.max_size = value

    def add(self, key: K) -> None:
        self._map[key] = None

    def discard(self, key: K) -> None:
        self._map.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __len__(self) -> int:
        return len(self._map)
