"""The demo's activities: played through the services, with a 重阳节 activity that filled,
moved its wait-list, was attended and credited, and had a no-show."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.seed import seed_demo
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    Attendance,
    HoursEntry,
    OutboxMessage,
)


def test_the_demo_has_activities_with_history(session: Session) -> None:
    seed_demo(session=session, history_wishes=0)
    by_festival = {a.festival_code: a for a in session.scalars(select(Activity))}
    assert set(by_festival) == {"double_ninth", "spring_festival", None}
    chongyang = by_festival["double_ninth"]
    assert chongyang.status == "finished" and chongyang.admitted == chongyang.headcount
    statuses = dict(
        session.execute(
            select(ActivitySignup.status, func.count())
            .where(ActivitySignup.activity_id == chongyang.id)
            .group_by(ActivitySignup.status)
        ).all()
    )
    assert statuses == {"admitted": 5, "no_show": 1, "cancelled": 3}
    promoted = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.topic == "activity.promoted")
    )
    assert promoted == 1
    credited = session.scalar(
        select(func.count())
        .select_from(HoursEntry)
        .join(Attendance, Attendance.id == HoursEntry.attendance_id)
        .join(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
        .where(ActivitySession.activity_id == chongyang.id)
    )
    assert credited == 5
    spring = by_festival["spring_festival"]
    assert spring.status == "published" and spring.admitted == spring.headcount
    waiting = session.scalar(
        select(func.count())
        .select_from(ActivitySignup)
        .where(ActivitySignup.activity_id == spring.id, ActivitySignup.status == "waiting")
    )
    assert waiting == 2
    others = {
        a.title: a.status
        for a in session.scalars(select(Activity).where(Activity.festival_code.is_(None)))
    }
    assert others == {"垃圾分类进万家": "finished", "诚信季 · 文明交通劝导": "draft"}
