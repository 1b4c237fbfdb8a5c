"""Slots for the expensive reads: the statistics (figures, series, drill-downs, exports), the
ranking, the ledger files and the bulk import upload.

One of them can hold a database session for seconds (a series by week over three years
computes a whole section per week; a PDF ledger lays out two thousand rows under the font's
lock). Without a bound, a few callers repeating them would take every admitted session
(`app.db.Admission`) and everyone else would queue behind them. So, per process:

- at most `HEAVY_REQUESTS` of them run at once (fewer than `DB_SESSIONS`, so the rest of the
  API always has sessions left);
- one caller runs at most `HEAVY_REQUESTS_PER_USER` of them at once, so that one coordinator
  cannot take every slot from the others.

A request over either bound is refused at once, before it opens a session: 429 with
`Retry-After` (`HEAVY_BUSY`, or `HEAVY_PER_USER` for the caller's own bound). Nothing waits, so
a flood costs the server no threads and no sessions. The slot is checked after the caller is
known (an unauthenticated request is refused as 401 first) and held until the endpoint's
answer is built.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import CurrentUser
from app.errors import TooManyRequests

RETRY_AFTER_SECONDS = 5


class HeavyBusy(TooManyRequests):
    code = "HEAVY_BUSY"
    message = "统计、排名与导出的请求较多，请稍后再试"


class HeavyPerUser(TooManyRequests):
    code = "HEAVY_PER_USER"
    message = "您已有统计、排名或导出正在进行，请等它完成后再试"


class HeavyWork:
    """The slots of one process."""

    def __init__(self, *, slots: int, per_user: int) -> None:
        self.slots = slots
        self.per_user = per_user
        self._lock = threading.Lock()
        self._running = 0
        self._by_user: Counter[int] = Counter()

    @property
    def running(self) -> int:
        return self._running

    @contextmanager
    def slot(self, user_id: int) -> Iterator[None]:
        """Hold a slot for `user_id` while the block runs; refuse at once when none is free."""
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        details = {"retry_after_seconds": RETRY_AFTER_SECONDS}
        with self._lock:
            if self._by_user[user_id] >= self.per_user:
                raise HeavyPerUser(details={**details, "max": self.per_user}, headers=headers)
            if self._running >= self.slots:
                raise HeavyBusy(details=details, headers=headers)
            self._running += 1
            self._by_user[user_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                self._by_user[user_id] -= 1
                if self._by_user[user_id] <= 0:
                    del self._by_user[user_id]


async def heavy_slot(request: Request, principal: CurrentUser) -> AsyncIterator[None]:
    work: HeavyWork = request.app.state.heavy
    with work.slot(principal.user_id):
        yield


# Put first in a route's `dependencies`: it is resolved before the session is admitted.
HEAVY = Depends(heavy_slot, scope="function")
Heavy = Annotated[None, HEAVY]
