from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app import clock


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now

    def at(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now


@pytest.fixture
def frozen() -> Iterator[Clock]:
    # A Tuesday, 10:00 in Shanghai (02:00 UTC): outside quiet hours.
    fake = Clock(datetime(2027, 3, 2, 2, 0, tzinfo=UTC))
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)
