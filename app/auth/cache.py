"""A short-lived, per-process cache of who each user is (roles, scopes, volunteer facts).

Every authenticated request needs the caller's principal; reading it from the database is the
largest fixed cost of a request after the framework's own. Entries live for
`PRINCIPAL_CACHE_SECONDS` (default 30 s; 0 turns the cache off) and are dropped at once in the
process where a grant, an account or a volunteer profile changes. In other worker processes a
change shows within that time. Decisions that must not rest on a possibly stale copy re-read
the row inside their transaction (accepting a wish re-reads the volunteer's status under a lock).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from app.auth.deps import Principal


class PrincipalCache:
    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 50_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[int, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def configure(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self.clear()

    def get(self, user_id: int) -> Principal | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                return None
            stored_at, principal = entry
            if time.monotonic() - stored_at > self.ttl:
                del self._entries[user_id]
                return None
            return principal

    def put(self, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[principal.user_id] = (time.monotonic(), principal)
            self._entries.move_to_end(principal.user_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, user_id: int) -> None:
        with self._lock:
            self._entries.pop(user_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# One per process; the app sets its lifetime from the settings.
principal_cache = PrincipalCache()


def forget_principal(session: Session, user_id: int) -> None:
    """Drop a user's cached principal now and again once the session commits.

    The second drop covers a request that read the old rows between now and the commit.
    """
    principal_cache.invalidate(user_id)
    session.info.setdefault(_PENDING, set()).add(user_id)


_PENDING = "principals_to_forget"


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    for user_id in session.info.pop(_PENDING, ()):
        principal_cache.invalidate(user_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
