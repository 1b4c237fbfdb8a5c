"""A pairing's lifecycle and health as data; imports nothing from the database.

A pairing is active, paused or ended; `TRANSITIONS[(status, event)]` says where an event takes
it and who may fire it. Its health is read from the visit timer's columns: healthy while the
next visit is not yet due, due once it is, overdue when the helper has been reminded, lapsing
when the station has been told.

The timer's grace: a visit is due by `next_due_at`, the end of the day `rhythm_days` after the
last visit (or after the start). One day after that the helper is reminded; three days after it
the station's coordinators are told. The same for every unit (no unit rule sets them yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from app import clock


class PairingStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class PairingEvent(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"
    EXPIRE = "expire"  # the system, after the end date


class Role(StrEnum):
    COORDINATOR = "coordinator"  # the station's coordinators, those above, admins
    HELPER = "helper"  # the helper volunteer (or a team's lead): may end with notice
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    to: PairingStatus
    roles: frozenset[Role]


S, E, R = PairingStatus, PairingEvent, Role
STAFF = frozenset({R.COORDINATOR})
TRANSITIONS: dict[tuple[PairingStatus, PairingEvent], Transition] = {
    (S.ACTIVE, E.PAUSE): Transition(S.PAUSED, STAFF),
    (S.PAUSED, E.RESUME): Transition(S.ACTIVE, STAFF),
    (S.ACTIVE, E.END): Transition(S.ENDED, frozenset({R.COORDINATOR, R.HELPER})),
    (S.PAUSED, E.END): Transition(S.ENDED, frozenset({R.COORDINATOR, R.HELPER})),
    (S.ACTIVE, E.EXPIRE): Transition(S.ENDED, frozenset({R.SYSTEM})),
    (S.PAUSED, E.EXPIRE): Transition(S.ENDED, frozenset({R.SYSTEM})),
}


class Health(StrEnum):
    HEALTHY = "healthy"  # 正常
    DUE = "due"  # 待走访: the next visit is due
    OVERDUE = "overdue"  # 逾期: missed, the helper reminded
    LAPSING = "lapsing"  # 失联风险: missed, the station told
    PAUSED = "paused"  # 暂停
    ENDED = "ended"  # 已结束


HEALTH_NAMES = {
    Health.HEALTHY: "正常",
    Health.DUE: "待走访",
    Health.OVERDUE: "逾期未走访",
    Health.LAPSING: "长期未走访",
    Health.PAUSED: "已暂停",
    Health.ENDED: "已结束",
}

REMIND_AFTER = timedelta(days=1)
ESCALATE_AFTER = timedelta(days=3)


def health_of(
    *,
    status: str,
    next_due_at: datetime,
    reminded_at: datetime | None,
    escalated_at: datetime | None,
    now: datetime,
) -> Health:
    if status == S.ENDED:
        return Health.ENDED
    if status == S.PAUSED:
        return Health.PAUSED
    if escalated_at is not None:
        return Health.LAPSING
    if reminded_at is not None:
        return Health.OVERDUE
    return Health.DUE if now >= next_due_at else Health.HEALTHY


def day_end(day: date) -> datetime:
    """The end of a day of the city's calendar (midnight that begins the next)."""
    return clock.local_at(day + timedelta(days=1), time(0, 0)).astimezone(UTC)


def first_due(start_date: date, rhythm_days: int) -> datetime:
    """The first visit is due by the end of the first rhythm's last day."""
    return day_end(start_date + timedelta(days=rhythm_days - 1))


def due_after(visited_at: datetime, rhythm_days: int) -> datetime:
    """After a visit, the next is due by the end of the day `rhythm_days` later."""
    return day_end(clock.local_day(visited_at) + timedelta(days=rhythm_days))


def ends_at(end_date: date | None) -> datetime | None:
    return day_end(end_date) if end_date is not None else None
