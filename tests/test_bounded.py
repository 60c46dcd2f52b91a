"""bot/bounded.py (#24.12): the LRU bound, the age limit and pinned entries."""

from __future__ import annotations

from bot.bounded import BoundedMap, BoundedSet


def test_least_recently_used_goes_first() -> None:
    cache: BoundedMap[int, str] = BoundedMap(3)
    for n in range(3):
        cache[n] = str(n)
    assert cache[0] == "0"  # 0 is now the most recently used
    cache[3] = "3"
    assert sorted(cache) == [0, 2, 3]
    for n in range(100):
        cache[n + 10] = "x"
    assert len(cache) == 3


def test_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    cache: BoundedMap[str, int] = BoundedMap(10, ttl=60.0, clock=lambda: now[0])
    cache["a"] = 1
    now[0] = 59.0
    assert cache.get("a") == 1
    now[0] = 61.0
    assert cache.get("a") is None and "a" not in cache


def test_pinned_entries_are_kept_until_released() -> None:
    held = {"a", "b"}
    cache: BoundedMap[str, str] = BoundedMap(1, keep=lambda v: v in held)
    cache["a"], cache["b"], cache["c"] = "a", "b", "c"
    assert sorted(cache) == ["a", "b", "c"]  # a and b in use, c the newest
    held.clear()
    assert cache["c"] == "c"  # the next use trims the released ones
    assert list(cache) == ["c"]


def test_bounded_set() -> None:
    seen: BoundedSet[str] = BoundedSet(2)
    for key in ("a", "b", "c"):
        seen.add(key)
    assert "a" not in seen and "b" in seen and "c" in seen and len(seen) == 2
    seen.discard("b")
    assert "b" not in seen
