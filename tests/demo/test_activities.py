"""The demo's activities: played through the services on the moved clock, with a full one
whose wait-list moved, attended and credited, with a no-show, and a 重阳节 activity."""

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


def _statuses(session: Session, activity: Activity) -> dict[str, int]:
    return dict(
        session.execute(
            select(ActivitySignup.status, func.count())
            .where(ActivitySignup.activity_id == activity.id)
            .group_by(ActivitySignup.status)
        ).all()
    )


def _credited(session: Session, activity: Activity) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(HoursEntry)
            .join(Attendance, Attendance.id == HoursEntry.attendance_id)
            .join(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
            .where(ActivitySession.activity_id == activity.id)
        )
        or 0
    )


def test_the_demo_has_activities_with_history(session: Session) -> None:
    seed_demo(session=session, history_wishes=0)
    by_title = {a.title: a for a in session.scalars(select(Activity))}
    assert set(by_title) == {
        "垃圾分类进万家", "重阳节敬老志愿服务", "迎新春 写春联 送福字", "诚信季 · 文明交通劝导",
    }  # fmt: skip
    sorting = by_title["垃圾分类进万家"]
    assert sorting.status == "finished" and sorting.admitted == sorting.headcount == 5
    assert _statuses(session, sorting) == {"admitted": 4, "no_show": 1, "cancelled": 2}
    assert _credited(session, sorting) == 4
    promoted = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.topic == "activity.promoted")
    )
    assert promoted == 1
    chongyang = by_title["重阳节敬老志愿服务"]
    assert chongyang.festival_code == "double_ninth"
    if chongyang.status == "finished":  # last 重阳节, attended
        assert _credited(session, chongyang) == 4
        assert _statuses(session, chongyang) == {"admitted": 4, "cancelled": 2}
    else:  # the coming one, full with a wait-list
        assert chongyang.status == "published"
        assert _statuses(session, chongyang) == {"admitted": 4, "waiting": 2}
    spring = by_title["迎新春 写春联 送福字"]
    assert spring.status == "published" and spring.festival_code == "spring_festival"
    assert _statuses(session, spring) == {"admitted": 4, "waiting": 2}
    assert by_title["诚信季 · 文明交通劝导"].status == "draft"
