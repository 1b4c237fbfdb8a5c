"""A service record's lifecycle as data, guarded like the wish's.

`TRANSITIONS[(status, event)]` says where an event takes a record; `move` applies one with a
compare-and-set `UPDATE ... WHERE id AND status`, so of two writers racing on one record only
one moves it and the other learns it lost (and raises the error that fits). Check-in and
check-out are the volunteer's (this package); crediting and rejecting are the confirmer's
(`records.hours.service`), through the same table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Attendance
from app.models.enums import AttendanceStatus


class AttendanceEvent(StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    CREDIT = "credit"  # 确认时长，入账
    REJECT = "reject"  # 确认未通过


A = AttendanceStatus
E = AttendanceEvent

TRANSITIONS: dict[tuple[AttendanceStatus, AttendanceEvent], AttendanceStatus] = {
    (A.ASSIGNED, E.CHECK_IN): A.IN_SERVICE,
    (A.IN_SERVICE, E.CHECK_OUT): A.CHECKED_OUT,
    (A.CHECKED_OUT, E.CREDIT): A.CREDITED,
    (A.CHECKED_OUT, E.REJECT): A.REJECTED,
}

# A record of service done: checked out, then credited (or awaiting it).
SERVED = frozenset({A.CHECKED_OUT, A.CREDITED})
# Confirmed one way or the other: nothing more to decide.
DECIDED = frozenset({A.CREDITED, A.REJECTED})


def source_of(event: AttendanceEvent) -> AttendanceStatus:
    """The one status an event leaves from."""
    [source] = [status for (status, e) in TRANSITIONS if e == event]
    return source


def move(session: Session, row: Attendance, event: AttendanceEvent, **values: Any) -> bool:
    """Apply `event` to the record if it is still in the event's source status; True if it
    moved (the row is refreshed), False if another writer got there first."""
    source = source_of(event)
    moved = session.execute(
        update(Attendance)
        .where(Attendance.id == row.id, Attendance.status == source)
        .values(status=TRANSITIONS[(source, event)], **values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(row)
    return True


def attended_minutes(checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Whole minutes between check-in and check-out (the time served, before any rule)."""
    return max(0, int((checked_out_at - checked_in_at).total_seconds() // 60))
