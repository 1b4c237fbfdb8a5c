"""Attendance at an activity's sessions: the record's occasion, check-in and check-out.

A record of an activity's session is an ordinary service record (`attendances`, with
`activity_session_id`): checked against the session's times and the activity's place by the
publishing unit's rules (`attendance.checks.check_for`), moved by the records' own table
(`attendance.state.move`), and once checked out it waits for the organiser's confirmation like
any other (`attendance.service.checked_out`), which credits the hours by the unit's rules. Only
volunteers holding a place check in; a coordinator of the unit may check one in by hand, with a
reason (never themself).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.activities.errors import ActivityNotFound, NotAdmitted, SessionNotFound
from app.activities.state import SignupRole, SignupStatus
from app.attendance.checks import check_for
from app.attendance.errors import NonceReused, NotCheckedIn
from app.attendance.occasions import Occasion, register
from app.attendance.schemas import AttendanceIn
from app.attendance.service import checked_out, record_check_in, write_check_out
from app.auth.principal import Principal
from app.models import Activity, ActivitySession, ActivitySignup, Attendance, OrgUnit, Volunteer
from app.models.enums import AttendanceStatus


def of_session(activity: Activity, sitting: ActivitySession, unit: OrgUnit) -> Occasion:
    point = (activity.lat, activity.lng) if activity.lat is not None else None
    return Occasion(
        kind="activity",
        subject_id=sitting.id,
        title=activity.title,
        category_code=activity.category_code,
        station=unit,
        starts_at=sitting.starts_at,
        ends_at=sitting.ends_at,
        point=point,  # type: ignore[arg-type]
        # The organiser who published it stands for the served side (a unit whose rules say
        # the requester confirms has the organiser confirm).
        requester_ids=(activity.created_by_id,) if activity.created_by_id is not None else (),
        parent_id=activity.id,
    )


def _loader(session: Session, row: Attendance) -> Occasion | None:
    found = session.execute(
        select(Activity, ActivitySession, OrgUnit)
        .join(ActivitySession, ActivitySession.activity_id == Activity.id)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(ActivitySession.id == row.activity_session_id)
    ).one_or_none()
    return of_session(*found) if found is not None else None


register("activity", _loader)


def _load(
    session: Session, activity_id: int, session_id: int
) -> tuple[Activity, ActivitySession, OrgUnit]:
    found = session.execute(
        select(Activity, ActivitySession, OrgUnit)
        .join(ActivitySession, ActivitySession.activity_id == Activity.id)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(Activity.id == activity_id, ActivitySession.id == session_id)
        .with_for_update(of=ActivitySession)
    ).one_or_none()
    if found is None:
        if session.get(Activity, activity_id) is None:
            raise ActivityNotFound()
        raise SessionNotFound()
    return found[0], found[1], found[2]


def record_of(session: Session, session_id: int, volunteer_id: int) -> Attendance | None:
    return session.scalars(
        select(Attendance).where(
            Attendance.activity_session_id == session_id, Attendance.volunteer_id == volunteer_id
        )
    ).one_or_none()


def attend(
    session: Session,
    *,
    activity_id: int,
    session_id: int,
    actor: Principal,
    body: AttendanceIn,
    out: bool,
) -> Attendance:
    """A check-in or check-out at one session (the volunteer's own with a fix, or a
    coordinator's by hand). The same nonce again is the same check, answered like the first."""
    activity, sitting, unit = _load(session, activity_id, session_id)
    target = body.volunteer_id if body.volunteer_id is not None else actor.volunteer_id
    manual = target != actor.volunteer_id
    if target is None or (manual and not actor.manages(unit.path)):
        raise ActivityNotFound()
    admitted = session.scalar(
        select(ActivitySignup.id).where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.volunteer_id == target,
            ActivitySignup.role == SignupRole.VOLUNTEER,
            ActivitySignup.status == SignupStatus.ADMITTED,
        )
    )
    if admitted is None:
        raise NotAdmitted()
    row = record_of(session, sitting.id, target)
    if body.nonce is not None:
        column = Attendance.check_out_nonce if out else Attendance.check_in_nonce
        seen = session.scalar(
            select(Attendance.id).where(Attendance.volunteer_id == target, column == body.nonce)
        )
        if seen is not None:
            if row is None or seen != row.id:
                raise NonceReused()
            return row
    occasion = of_session(activity, sitting, unit)
    now = clock.now()
    check = check_for(
        session,
        occasion=occasion,
        actor=actor,
        volunteer_id=target,
        manual=manual,
        body=body,
        now=now,
        out=out,
        checked_in_at=row.checked_in_at if row is not None else None,
    )
    if not out:
        if row is None:
            row = Attendance(
                activity_session_id=sitting.id,
                volunteer_id=target,
                unit_id=unit.id,
                is_lead=False,
                status=AttendanceStatus.ASSIGNED,
                added_by_id=actor.user_id,
            )
            session.add(row)
            session.flush()
        return record_check_in(session, row=row, check=check)
    if row is None:
        raise NotCheckedIn()
    write_check_out(session, row=row, check=check)
    session.execute(
        update(Volunteer)
        .where(Volunteer.id == target)
        .values(completed_count=Volunteer.completed_count + 1),
        execution_options={"synchronize_session": False},
    )
    checked_out(session, row, occasion, now)
    return row
