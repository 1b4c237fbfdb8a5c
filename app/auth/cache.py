"""What each process remembers of who is calling, and how it learns to forget.

Every authenticated request needs the caller's principal; reading it from the database is the
largest fixed cost of a request after the framework's own. Principals are cached per session
(a session has one user and one kind, so this is the (user, kind) cache with revocation built
in) for `PRINCIPAL_CACHE_SECONDS` (default 30 s; 0 turns the cache off).

A change to a user (a grant, a suspension, a deactivation, a revoked session) is forgotten at
once in the process that made it, and written to the `auth_revocations` feed in the same
transaction. Every process reads that feed at most once every `REVOCATION_POLL_SECONDS`
(default 1 s), and only when authenticated requests arrive: a revoked session stops working in
every other process within that bound (plus the time the poll takes). A process that has not
polled for longer than the cache lifetime drops its whole cache instead of reading the gap.
Decisions that must not rest on a copy re-read the row inside their transaction (accepting a
wish re-reads the volunteer's status under a lock).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from app import clock
from app.cache import TTLCache
from app.models import AuthRevocation

if TYPE_CHECKING:
    from app.auth.principal import Principal
    from app.db import Database

# Feed rows older than this are deleted when new ones are written: a process that has not
# polled for longer than its cache lifetime (at most 300 s) clears its cache anyway.
FEED_KEEP = timedelta(hours=1)


class PrincipalCache:
    """Principals by session id, with an index of each user's cached sessions."""

    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 50_000) -> None:
        self._entries: TTLCache[int, Principal] = TTLCache(
            ttl_seconds, max_entries=max_entries, on_drop=self._unindex
        )
        self._by_user: dict[int, set[int]] = {}
        self._lock = threading.Lock()

    @property
    def ttl(self) -> float:
        return self._entries.ttl

    def configure(self, ttl_seconds: float) -> None:
        self._entries.ttl = ttl_seconds
        self.clear()

    def get(self, session_id: int) -> Principal | None:
        with self._lock:
            return self._entries.get(session_id)

    def put(self, principal: Principal) -> None:
        if self.ttl <= 0 or principal.session_id is None:
            return
        sid = principal.session_id
        with self._lock:
            self._entries.put(sid, principal)
            self._by_user.setdefault(principal.user_id, set()).add(sid)

    def _unindex(self, session_id: int, principal: Principal) -> None:
        """Told of every entry dropped (under our lock: every call into the entries holds it)."""
        sids = self._by_user.get(principal.user_id)
        if sids is not None:
            sids.discard(session_id)
            if not sids:
                del self._by_user[principal.user_id]

    def invalidate(self, user_id: int) -> None:
        """Forget every cached session of the user."""
        with self._lock:
            for sid in list(self._by_user.get(user_id, ())):
                self._entries.invalidate(sid)

    def invalidate_session(self, session_id: int) -> None:
        with self._lock:
            self._entries.invalidate(session_id)

    def cached_sessions(self, user_id: int) -> set[int]:
        with self._lock:
            return set(self._by_user.get(user_id, ()))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_user.clear()


# One per process; the app sets its lifetime from the settings.
principal_cache = PrincipalCache()


def forget_principal(session: Session, user_id: int, *, session_id: int | None = None) -> None:
    """Drop a user's cached principals (or one session's) in this process now and again once
    the session commits, and tell the other processes through the revocation feed.

    The second drop covers a request that read the old rows between now and the commit.
    """
    if session_id is None:
        principal_cache.invalidate(user_id)
    else:
        principal_cache.invalidate_session(session_id)
    session.info.setdefault(_PENDING, set()).add((user_id, session_id))
    session.execute(
        insert(AuthRevocation).values(
            user_id=user_id, session_id=session_id, created_at=clock.now()
        )
    )
    session.execute(
        delete(AuthRevocation).where(AuthRevocation.created_at < clock.now() - FEED_KEEP)
    )


_PENDING = "principals_to_forget"


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    for user_id, session_id in session.info.pop(_PENDING, ()):
        if session_id is None:
            principal_cache.invalidate(user_id)
        else:
            principal_cache.invalidate_session(session_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


# Rows this recent are read again at every poll: on PostgreSQL a transaction may commit its
# row after a later id was already seen (ids come from a sequence, not in commit order).
LATE_COMMIT = timedelta(seconds=10)


class RevocationFeed:
    """Reads `auth_revocations` past the last row seen, at most every `interval` seconds."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.last_id: int | None = None
        self.polled_at = float("-inf")
        self._seen: set[int] = set()
        self._lock: anyio.Lock | None = None

    def configure(self, interval: float) -> None:
        self.interval = interval
        self.reset()

    def reset(self) -> None:
        self.last_id = None
        self.polled_at = float("-inf")
        self._seen = set()

    def due(self) -> bool:
        return time.monotonic() - self.polled_at >= self.interval

    async def maybe_poll(self, database: Database) -> None:
        if not self.due():
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            # Requests that arrived while another one polled wait for that poll, then go on.
            if not self.due():
                return
            await run_in_threadpool(self.poll, database)

    def poll(self, database: Database) -> None:
        started = time.monotonic()
        with database.session(write=False) as session:
            if self.last_id is None or started - self.polled_at > principal_cache.ttl:
                # First poll, or a gap longer than any cached entry lives: start afresh.
                principal_cache.clear()
                self.last_id = session.scalar(select(func.max(AuthRevocation.id))) or 0
            else:
                rows = session.execute(
                    select(AuthRevocation.id, AuthRevocation.user_id, AuthRevocation.session_id)
                    .where(
                        (AuthRevocation.id > self.last_id)
                        | (AuthRevocation.created_at >= clock.now() - LATE_COMMIT)
                    )
                    .order_by(AuthRevocation.id)
                ).all()
                for row in rows:
                    if row.id in self._seen:
                        continue
                    if row.session_id is None:
                        principal_cache.invalidate(row.user_id)
                    else:
                        principal_cache.invalidate_session(row.session_id)
                    self.last_id = max(self.last_id, row.id)
                self._seen = {row.id for row in rows}
        self.polled_at = started


revocation_feed = RevocationFeed()
