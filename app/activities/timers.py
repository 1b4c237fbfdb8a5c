"""The activity's timer: at sign-up closing the organisers are told the roster; once check-ins
can no longer arrive for the last session (its end, the unit's late margin and late-upload
window), volunteers admitted who attended no session are no-shows, those still waiting lapse,
and the activity is finished.

A no-show counts in matching's reliability as `released_count`, the counter the score weighs
twice (`(completed + 1) / (completed + withdrawn + 2·no-shows + 2)`): it is what the wish loop
counts when a task is taken back from a volunteer who did not come, the same failure. One
timer per activity (`activity`, subject the activity's id), run in the worker's fenced
transaction; every step decides again from the rows whether it is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.activities.rows import facts, locked, move_activity, move_signups, sessions_of
from app.activities.state import ActivityEvent, ActivityStatus, SignupEvent, SignupStatus
from app.jobs import store
from app.jobs.registry import register
from app.models import Activity, ActivitySession, ActivitySignup, Attendance, OrgUnit, Volunteer
from app.notifications.outbox import enqueue
from app.org_units.service import coordinators_for
from app.rules.records import rules_for

KIND = "activity"


def judged_at(session: Session, activity: Activity, unit: OrgUnit) -> datetime:
    """When no check-in for the last session can still arrive."""
    rules = rules_for(session, unit)
    last = max(s.ends_at for s in sessions_of(session, activity.id))
    return last + timedelta(minutes=rules.checkin_late_minutes, hours=rules.late_sync_hours)


def schedule(session: Session, activity: Activity, now: datetime) -> None:
    unit = session.get(OrgUnit, activity.unit_id)
    assert unit is not None  # foreign key
    at = activity.signup_closes_at
    if now >= at:
        at = judged_at(session, activity, unit)
    store.set_timer(session, kind=KIND, subject_id=activity.id, run_at=at, now=now)


def unschedule(session: Session, activity: Activity) -> None:
    store.clear_timer(session, kind=KIND, subject_id=activity.id)


def run(session: Session, activity_id: int, now: datetime) -> str | None:
    activity, unit = locked(session, activity_id)
    if activity.status != ActivityStatus.PUBLISHED:
        return None
    if now < activity.signup_closes_at:
        schedule(session, activity, now)
        return None
    judge = judged_at(session, activity, unit)
    if now < judge:
        _roster(session, activity, unit)
        store.set_timer(session, kind=KIND, subject_id=activity.id, run_at=judge, now=now)
        return "closed"
    no_shows = mark_no_shows(session, activity, now)
    lapsed = move_signups(
        session,
        activity_id=activity.id,
        event=SignupEvent.LAPSE,
        statuses=(SignupStatus.WAITING,),
        values={"cancelled_at": now, "cancel_reason": "活动已结束，未能递补"},
    )
    enqueue(session=session, topic="activity.lapsed", recipient_ids=lapsed, payload=facts(activity))
    move_activity(session, activity, ActivityEvent.FINISH)
    return f"finished, {no_shows} no-shows"


def _roster(session: Session, activity: Activity, unit: OrgUnit) -> None:
    waiting = session.scalar(
        select(func.count())
        .select_from(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.status == SignupStatus.WAITING,
        )
    )
    enqueue(
        session=session,
        topic="activity.signup_closed",
        recipient_ids=coordinators_for(session, unit),
        payload={
            **facts(activity),
            "admitted": activity.admitted,
            "headcount": activity.headcount,
            "waiting": waiting,
        },
    )


def mark_no_shows(session: Session, activity: Activity, now: datetime) -> int:
    """Volunteers admitted who checked in at no session: no-shows, counted and told."""
    attended = (
        select(Attendance.volunteer_id)
        .join(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
        .where(ActivitySession.activity_id == activity.id, Attendance.checked_in_at.is_not(None))
    )
    absent = list(
        session.scalars(
            select(ActivitySignup.id).where(
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.status == SignupStatus.ADMITTED,
                ActivitySignup.volunteer_id.is_not(None),
                ActivitySignup.volunteer_id.not_in(attended),
            )
        )
    )
    if not absent:
        return 0
    told = move_signups(
        session,
        activity_id=activity.id,
        event=SignupEvent.NO_SHOW,
        statuses=(SignupStatus.ADMITTED,),
        values={},
        ids=absent,
    )
    volunteer_ids = select(ActivitySignup.volunteer_id).where(ActivitySignup.id.in_(absent))
    session.execute(
        update(Volunteer)
        .where(Volunteer.id.in_(volunteer_ids))
        .values(released_count=Volunteer.released_count + 1),
        execution_options={"synchronize_session": False},
    )
    enqueue(session=session, topic="activity.no_show", recipient_ids=told, payload=facts(activity))
    return len(told)


register(KIND, run)
