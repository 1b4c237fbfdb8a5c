"""Activities and sign-ups as shown: one query per kind of fact for a whole page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.activities.publishing import FESTIVAL_NAMES, festival_of
from app.activities.schemas import (
    ActivityCallupOut,
    ActivityOut,
    FestivalRef,
    SessionOut,
    SignupOut,
    UnitRef,
)
from app.activities.signups import positions
from app.activities.state import ActivityStatus, SignupStatus
from app.geo import distance_m
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    ActivitySkill,
    OrgUnit,
    TeamCallup,
    User,
)


def _festival(a: Activity) -> FestivalRef | None:
    if a.festival_code is None:
        return None
    found = festival_of(a.festival_code, clock.local_day(a.starts_at))
    return FestivalRef(
        code=a.festival_code,
        name=FESTIVAL_NAMES.get(a.festival_code, a.festival_code),
        gregorian_date=found.gregorian_date if found else None,
        lunar_date=found.lunar_date if found else None,
    )


def activities_out(
    session: Session,
    rows: Sequence[Activity],
    *,
    user_id: int | None = None,
    near: tuple[float, float] | None = None,
) -> list[ActivityOut]:
    if not rows:
        return []
    ids = [a.id for a in rows]
    units = {
        u.id: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({a.unit_id for a in rows})))
    }
    sittings: dict[int, list[SessionOut]] = {}
    for s in session.scalars(
        select(ActivitySession)
        .where(ActivitySession.activity_id.in_(ids))
        .order_by(ActivitySession.starts_at)
    ):
        sittings.setdefault(s.activity_id, []).append(
            SessionOut(id=s.id, starts_at=s.starts_at, ends_at=s.ends_at)
        )
    skills: dict[int, list[str]] = {}
    for activity_id, code in session.execute(
        select(ActivitySkill.activity_id, ActivitySkill.skill_code)
        .where(ActivitySkill.activity_id.in_(ids))
        .order_by(ActivitySkill.skill_code)
    ):
        skills.setdefault(activity_id, []).append(code)
    waiting = dict(
        session.execute(
            select(ActivitySignup.activity_id, func.count())
            .where(
                ActivitySignup.activity_id.in_(ids),
                ActivitySignup.status == SignupStatus.WAITING,
            )
            .group_by(ActivitySignup.activity_id)
        ).all()
    )
    mine: dict[int, SignupOut] = {}
    if user_id is not None:
        own = session.scalars(
            select(ActivitySignup).where(
                ActivitySignup.activity_id.in_(ids), ActivitySignup.user_id == user_id
            )
        ).all()
        for out in signups_out(session, own):
            mine[out.activity_id] = out
    now = clock.now()
    result = []
    for a in rows:
        unit = units[a.unit_id]
        distance = None
        if near is not None and a.lat is not None and a.lng is not None:
            distance = round(distance_m(near[0], near[1], a.lat, a.lng))
        result.append(
            ActivityOut(
                id=a.id,
                unit=UnitRef(id=unit.id, name=unit.name),
                title=a.title,
                description=a.description,
                status=ActivityStatus(a.status),
                category_code=a.category_code,
                programme_code=a.programme_code,
                season_code=a.season_code,
                festival=_festival(a),
                place=a.place,
                lat=a.lat,
                lng=a.lng,
                distance_m=distance,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                recurrence=a.recurrence,
                repeat_until=a.repeat_until,
                sessions=sittings.get(a.id, []),
                headcount=a.headcount,
                admitted=a.admitted,
                waiting=waiting.get(a.id, 0),
                skill_codes=skills.get(a.id, []),
                min_age=a.min_age,
                max_age=a.max_age,
                needs_insurance=a.needs_insurance,
                signup_opens_at=a.signup_opens_at,
                signup_closes_at=a.signup_closes_at,
                signup_open=a.status == ActivityStatus.PUBLISHED
                and a.signup_opens_at <= now < a.signup_closes_at,
                residents_may_join=a.residents_may_join,
                participant_limit=a.participant_limit,
                published_at=a.published_at,
                cancelled_at=a.cancelled_at,
                cancel_reason=a.cancel_reason,
                my_signup=mine.get(a.id),
            )
        )
    return result


def activity_out(session: Session, a: Activity, *, user_id: int | None = None) -> ActivityOut:
    [out] = activities_out(session, [a], user_id=user_id)
    return out


def signups_out(session: Session, rows: Sequence[ActivitySignup]) -> list[SignupOut]:
    if not rows:
        return []
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_({r.user_id for r in rows}))
        ).all()
    )
    places: dict[int, int] = {}
    for activity_id in {r.activity_id for r in rows if r.status == SignupStatus.WAITING}:
        places |= positions(session, activity_id)
    return [
        SignupOut(
            id=r.id,
            activity_id=r.activity_id,
            user_id=r.user_id,
            volunteer_id=r.volunteer_id,
            name=names.get(r.user_id, ""),
            role=r.role,
            status=r.status,
            position=places.get(r.id),
            team_id=r.team_id,
            queued_at=r.queued_at,
            admitted_at=r.admitted_at,
            cancelled_at=r.cancelled_at,
            cancel_reason=r.cancel_reason,
        )
        for r in rows
    ]


def signup_out(session: Session, row: ActivitySignup) -> SignupOut:
    [out] = signups_out(session, [row])
    return out


def callup_out(c: TeamCallup) -> ActivityCallupOut:
    assert c.activity_id is not None
    return ActivityCallupOut(
        id=c.id,
        team_id=c.team_id,
        activity_id=c.activity_id,
        volunteer_id=c.volunteer_id,
        status=c.status,
        answered_at=c.answered_at,
    )
