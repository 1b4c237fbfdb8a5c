"""A service record's lifecycle is a table, and `move` follows it: from every status, each event
moves the record exactly where the table says, or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.attendance.state import (
    DECIDED,
    SERVED,
    TRANSITIONS,
    AttendanceEvent,
    move,
    source_of,
)
from app.models import Attendance
from app.models.enums import AttendanceStatus, WishStatus
from tests.fixtures.builders import make_resident, make_tree, make_volunteer, make_wish


def test_every_event_leaves_from_one_status_and_none_leaves_a_decided_record() -> None:
    for event in AttendanceEvent:
        assert [s for (s, e) in TRANSITIONS if e == event] == [source_of(event)]
    assert not any(status in DECIDED for (status, _event) in TRANSITIONS)
    assert {AttendanceStatus.CHECKED_OUT, AttendanceStatus.CREDITED} == SERVED


def _record(session: Session, status: AttendanceStatus) -> Attendance:
    station = make_tree(session).stations[0]
    _user, volunteer = make_volunteer(session, station)
    wish = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.ACCEPTED,
        assignee=volunteer,
    )
    now = clock.now()
    served = status not in (AttendanceStatus.ASSIGNED,)
    out = status in SERVED | DECIDED
    row = Attendance(
        wish_id=wish.id,
        volunteer_id=volunteer.id,
        unit_id=station.id,
        is_lead=True,
        status=status,
        checked_in_at=now - timedelta(hours=2) if served else None,
        checked_out_at=now - timedelta(hours=1) if out else None,
    )
    session.add(row)
    session.flush()
    return row


@pytest.mark.parametrize("event", list(AttendanceEvent))
@pytest.mark.parametrize("status", list(AttendanceStatus))
def test_move_follows_the_table(
    session: Session, status: AttendanceStatus, event: AttendanceEvent
) -> None:
    row = _record(session, status)
    target = TRANSITIONS.get((status, event))
    moved = move(session, row, event)
    assert moved is (target is not None)
    stored = session.scalar(select(Attendance.status).where(Attendance.id == row.id))
    assert stored == (target if target is not None else status)
    # The same event again never moves it twice.
    assert move(session, row, event) is False
