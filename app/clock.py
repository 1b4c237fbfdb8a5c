"""The one place the service reads the time, so tests, timers and the demo can control it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


_now: Clock = wall_clock


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def get_clock() -> Clock:
    return _now


def set_clock(fn: Clock | None) -> None:
    """Replace the clock (tests, simulations); `None` restores the wall clock."""
    global _now
    _now = fn if fn is not None else wall_clock
