"""The per-process TTL cache: entries expire, the bound drops the oldest, 0 turns it off."""

from __future__ import annotations

import pytest

from app import cache
from app.cache import TTLCache


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    moment = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: moment[0])
    return moment


def test_an_entry_lives_ttl_seconds(now: list[float]) -> None:
    dropped: list[tuple[str, int]] = []
    entries: TTLCache[str, int] = TTLCache(30, on_drop=lambda k, v: dropped.append((k, v)))
    entries.put("a", 1)
    now[0] += 29.9
    assert entries.get("a") == 1
    now[0] += 0.1
    assert entries.get("a") is None
    assert dropped == [("a", 1)]


def test_the_bound_drops_the_least_recently_stored(now: list[float]) -> None:
    dropped: list[str] = []
    entries: TTLCache[str, int] = TTLCache(
        30, max_entries=2, on_drop=lambda k, _: dropped.append(k)
    )
    entries.put("a", 1)
    entries.put("b", 2)
    entries.put("a", 3)  # stored again: now the most recent
    entries.put("c", 4)
    assert dropped == ["b"]
    assert (entries.get("a"), entries.get("b"), entries.get("c")) == (3, None, 4)


def test_invalidate_clear_and_off(now: list[float]) -> None:
    entries: TTLCache[int, str] = TTLCache(30)
    entries.put(1, "x")
    entries.put(2, "y")
    entries.invalidate(1)
    assert entries.get(1) is None and entries.get(2) == "y"
    entries.clear()
    assert entries.get(2) is None
    entries.ttl = 0
    entries.put(3, "z")
    assert entries.get(3) is None
