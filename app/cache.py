"""One small per-process cache: entries live `ttl` seconds, optionally bounded, thread-safe.

Each process keeps its own copy of what is read often and changes rarely (principals, the
catalogue, unit settings). A process that changes the underlying rows drops its own copy at
once (`invalidate`, `clear`); other processes see the change within `ttl`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """`get` answers what was `put` less than `ttl` seconds ago (read at each `get`, so a
    changed `ttl` applies at once; 0 turns the cache off). With `max_entries`, storing one
    more drops the least recently stored. `on_drop(key, value)` is told of every entry that
    goes, except by `clear` (it runs under the cache's lock: keep it short)."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int | None = None,
        on_drop: Callable[[K, V], object] | None = None,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._on_drop = on_drop
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if time.monotonic() - stored_at >= self.ttl:
                self._drop(key)
                return None
            return value

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while self.max_entries is not None and len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def invalidate(self, key: K) -> None:
        with self._lock:
            self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and self._on_drop is not None:
            self._on_drop(key, entry[1])
