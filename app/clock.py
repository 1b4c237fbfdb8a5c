"""The one place the service reads the time, so tests, timers and the demo can control it, and
the one place it turns instants into the city's local time (TIMEZONE)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from app.config import current_settings

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


# ---------------------------------------------------------------- the city's local time


def zone(name: str | None = None) -> ZoneInfo:
    """The city's time zone (TIMEZONE), or the zone named."""
    return ZoneInfo(name or current_settings().timezone)


def to_local(moment: datetime, tz: str | None = None) -> datetime:
    """An aware instant as the city's wall-clock time."""
    return moment.astimezone(zone(tz))


def local_day(moment: datetime, tz: str | None = None) -> date:
    """The city's date at an aware instant."""
    return to_local(moment, tz).date()


def local_at(day: date, at: time, tz: str | None = None) -> datetime:
    """The instant (aware, in the city's zone) of wall-clock time `at` on the city's `day`."""
    return datetime.combine(day, at, tzinfo=zone(tz))


def assume_local(moment: datetime) -> datetime:
    """A naive date-time taken as the city's wall-clock time (an aware one as it is)."""
    return moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment
