"""Service records as shown: each with the volunteer's name and the hours attended and credited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.attendance.occasions import kind_of
from app.attendance.schemas import AttendanceOut
from app.attendance.state import attended_minutes
from app.models import Attendance, HoursEntry, User, Volunteer
from app.schemas import hours_of


def attendances_out(session: Session, rows: Sequence[Attendance]) -> list[AttendanceOut]:
    """Records as shown, with each volunteer's name and the minutes credited: one query for all."""
    if not rows:
        return []
    extras = {
        record_id: (name, credited)
        for record_id, name, credited in session.execute(
            select(Attendance.id, User.name, HoursEntry.minutes)
            .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .outerjoin(HoursEntry, HoursEntry.attendance_id == Attendance.id)
            .where(Attendance.id.in_([row.id for row in rows]))
        )
    }
    return [_attendance_out(row, *extras[row.id]) for row in rows]


def attendance_out(session: Session, row: Attendance) -> AttendanceOut:
    [out] = attendances_out(session, [row])
    return out


def _attendance_out(row: Attendance, name: str, credited: int | None) -> AttendanceOut:
    attended = (
        hours_of(attended_minutes(row.checked_in_at, row.checked_out_at))
        if row.checked_in_at is not None and row.checked_out_at is not None
        else None
    )
    return AttendanceOut(
        id=row.id,
        kind=kind_of(row),
        wish_id=row.wish_id,
        activity_session_id=row.activity_session_id,
        visit_id=row.visit_id,
        volunteer_id=row.volunteer_id,
        volunteer_name=name,
        unit_id=row.unit_id,
        is_lead=row.is_lead,
        status=row.status,
        checked_in_at=row.checked_in_at,
        check_in_method=row.check_in_method,
        checked_out_at=row.checked_out_at,
        check_out_method=row.check_out_method,
        manual=row.manual,
        late_sync=row.late_sync,
        manual_reason=row.manual_reason,
        summary=row.summary,
        attended_hours=attended,
        credited_hours=hours_of(credited) if credited is not None else None,
        confirmed_at=row.confirmed_at,
        reject_reason=row.reject_reason,
        feedback_score=row.feedback_score,
    )
