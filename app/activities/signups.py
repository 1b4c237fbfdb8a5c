"""Signing up for an activity: the hard constraints, the headcount and the wait-list.

A volunteer signs up under the same hard constraints as matching and grab (one rule set,
`wishes.eligibility.ineligibility`, each failure a typed reason). A place is taken by a
compare-and-set on the activity's counter, `admitted = admitted + 1 WHERE admitted <
headcount`, so the headcount is never exceeded; whoever finds it full waits, in order of
sign-up. When someone holding a place cancels, the place passes straight to the first on the
wait-list (told through the outbox) and the counter does not move. Sign-ups, cancellations and
promotions on one activity run one after another under a lock on its row (`rows.locked`).

Reliability (matching's factor): cancelling a place after sign-up closed is a withdrawal with
short notice (`withdrawn_count`, Art 22); cancelling before is giving notice in time and counts
nothing; a no-show is counted by the timer (`timers.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.activities.errors import (
    ActivityNotFound,
    ActivityStatusConflict,
    AlreadySignedUp,
    NotEligible,
    ParticipantsNotAllowed,
    SignupClosed,
    SignupNotCancellable,
    SignupNotFound,
)
from app.activities.rows import facts, locked, move_signup, sessions_of
from app.activities.state import (
    ACTIVE_SIGNUPS,
    ActivityStatus,
    SignupEvent,
    SignupRole,
    SignupStatus,
)
from app.auth.principal import Principal
from app.catalogue.service import skills_needing_qualification
from app.config import current_settings
from app.geo import distance_m
from app.matching.scoring import REASON_TEXT, Reason
from app.models import Activity, ActivitySignup, ActivitySkill, OrgUnit, Volunteer, VolunteerSkill
from app.models.enums import AccountRole
from app.notifications.outbox import enqueue
from app.volunteers.availability import window_masks
from app.wishes.eligibility import Fit, ineligibility, reach_m


@dataclass(frozen=True)
class Outcome:
    row: ActivitySignup
    activity: Activity


def fit_of(session: Session, activity: Activity, volunteer: Volunteer) -> Fit:
    """What the sign-up reads of the volunteer against the activity's first session."""
    day = clock.local_day(activity.starts_at)
    skills = set(
        session.scalars(
            select(ActivitySkill.skill_code).where(ActivitySkill.activity_id == activity.id)
        )
    )
    held = dict(
        session.execute(
            select(VolunteerSkill.skill_code, VolunteerSkill.qualified_until).where(
                VolunteerSkill.volunteer_id == volunteer.id
            )
        ).all()
    )
    needs = skills_needing_qualification(session) & skills
    window, _slots = window_masks(activity.starts_at, activity.ends_at, current_settings().timezone)
    masks = [getattr(volunteer, f"avail_{d}") for d in range(7)]
    return Fit(
        lacks_skill=not skills <= set(held),
        lacks_qualification=any((held.get(c) or date.min) < day for c in needs),
        risky=activity.needs_insurance,
        insured_until=volunteer.insured_until,
        min_age=activity.min_age,
        max_age=activity.max_age,
        birth_date=volunteer.birth_date,
        service_day=day,
        available=any(v & w for v, w in zip(masks, window, strict=True)),
    )


def reasons_for(
    session: Session, activity: Activity, unit: OrgUnit, volunteer: Volunteer
) -> list[Reason]:
    """The hard constraints the volunteer fails for this activity (empty: may sign up). The
    place is public: its distance is from the volunteer's home to the place itself (the unit's
    point when the activity names none)."""
    lat, lng = (activity.lat, activity.lng) if activity.lat is not None else (unit.lat, unit.lng)
    away = 0.0 if lat is None or lng is None else distance_m(volunteer.lat, volunteer.lng, lat, lng)
    return ineligibility(
        volunteer=volunteer,
        fit=fit_of(session, activity, volunteer),
        requester_ids=(),
        away_m=away,
        reach=reach_m(volunteer, unit),
    )


def refuse_ineligible(reasons: list[Reason]) -> None:
    if reasons:
        raise NotEligible(
            "您不符合该活动的报名条件：" + "；".join(REASON_TEXT[r] for r in reasons),
            details={"reasons": [r.value for r in reasons]},
        )


def visible(activity: Activity, unit: OrgUnit, actor: Principal) -> bool:
    return activity.status != ActivityStatus.DRAFT or actor.manages(unit.path)


def _role(activity: Activity, actor: Principal) -> SignupRole:
    if actor.volunteer_id is not None:
        return SignupRole.VOLUNTEER
    if activity.residents_may_join and actor.has(AccountRole.RESIDENT):
        return SignupRole.PARTICIPANT
    raise ParticipantsNotAllowed()


def _take_place(session: Session, activity: Activity, role: SignupRole) -> bool:
    """Take a place if one is free: the volunteers' counter by compare-and-set; residents
    against their own limit (counted under the activity's lock)."""
    if role == SignupRole.VOLUNTEER:
        taken = session.execute(
            update(Activity)
            .where(Activity.id == activity.id, Activity.admitted < Activity.headcount)
            .values(admitted=Activity.admitted + 1),
            execution_options={"synchronize_session": False},
        )
        return taken.rowcount == 1  # type: ignore[attr-defined]
    if activity.participant_limit is None:
        return True
    joined = session.scalar(
        select(func.count())
        .select_from(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.role == SignupRole.PARTICIPANT,
            ActivitySignup.status == SignupStatus.ADMITTED,
        )
    )
    return (joined or 0) < activity.participant_limit


def sign_up(
    session: Session, *, activity_id: int, actor: Principal, team_id: int | None = None
) -> Outcome:
    activity, unit = locked(session, activity_id)
    if not visible(activity, unit, actor):
        raise ActivityNotFound()
    if activity.status != ActivityStatus.PUBLISHED:
        raise ActivityStatusConflict("活动未在报名中", details={"status": activity.status})
    now = clock.now()
    if not activity.signup_opens_at <= now < activity.signup_closes_at:
        raise SignupClosed(
            details={
                "signup_opens_at": activity.signup_opens_at.isoformat(),
                "signup_closes_at": activity.signup_closes_at.isoformat(),
            }
        )
    role = _role(activity, actor)
    row = session.scalars(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == actor.user_id
        )
    ).one_or_none()
    if row is not None and row.status in ACTIVE_SIGNUPS:
        raise AlreadySignedUp(details={"status": row.status})
    if role == SignupRole.VOLUNTEER:
        volunteer = session.get(Volunteer, actor.volunteer_id, populate_existing=True)
        assert volunteer is not None
        refuse_ineligible(reasons_for(session, activity, unit, volunteer))
    admitted = _take_place(session, activity, role)
    status = SignupStatus.ADMITTED if admitted else SignupStatus.WAITING
    values = {
        "volunteer_id": actor.volunteer_id if role == SignupRole.VOLUNTEER else None,
        "role": role,
        "status": status,
        "queued_at": now,
        "team_id": team_id,
        "admitted_at": now if admitted else None,
        "cancelled_at": None,
        "cancel_reason": None,
        "cancelled_by_id": None,
    }
    if row is None:
        row = ActivitySignup(activity_id=activity.id, user_id=actor.user_id, **values)
        session.add(row)
    else:  # signing up again after cancelling: at the end of the line
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    session.refresh(activity)
    return Outcome(row, activity)


def last_end(session: Session, activity: Activity) -> datetime:
    return max(s.ends_at for s in sessions_of(session, activity.id))


def promote(session: Session, activity: Activity, role: SignupRole, now: datetime) -> int | None:
    """A place of `role` came free: the first on the wait-list takes it (told); with nobody
    waiting the volunteers' counter goes down. Call under the activity's lock."""
    if activity.status == ActivityStatus.PUBLISHED and now < last_end(session, activity):
        waiting = session.scalars(
            select(ActivitySignup)
            .where(
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.role == role,
                ActivitySignup.status == SignupStatus.WAITING,
            )
            .order_by(ActivitySignup.queued_at, ActivitySignup.id)
        ).all()
        for row in waiting:
            if move_signup(session, row, SignupEvent.PROMOTE, admitted_at=now):
                enqueue(
                    session=session,
                    topic="activity.promoted",
                    recipient_ids=[row.user_id],
                    payload=facts(activity),
                )
                return row.id
    if role == SignupRole.VOLUNTEER:
        session.execute(
            update(Activity)
            .where(Activity.id == activity.id, Activity.admitted > 0)
            .values(admitted=Activity.admitted - 1),
            execution_options={"synchronize_session": False},
        )
    return None


def cancel(session: Session, *, activity_id: int, actor: Principal, reason: str | None) -> Outcome:
    """The person cancels their own sign-up (a place or a place in line)."""
    activity, _unit = locked(session, activity_id)
    row = session.scalars(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == actor.user_id
        )
    ).one_or_none()
    if row is None:
        raise SignupNotFound()
    now = clock.now()
    held = row.status == SignupStatus.ADMITTED
    if activity.status != ActivityStatus.PUBLISHED or not move_signup(
        session,
        row,
        SignupEvent.CANCEL,
        cancelled_at=now,
        cancel_reason=reason,
        cancelled_by_id=actor.user_id,
    ):
        raise SignupNotCancellable(details={"status": row.status})
    if held:
        if row.volunteer_id is not None and now >= activity.signup_closes_at:
            session.execute(
                update(Volunteer)
                .where(Volunteer.id == row.volunteer_id)
                .values(withdrawn_count=Volunteer.withdrawn_count + 1),
                execution_options={"synchronize_session": False},
            )
        promote(session, activity, SignupRole(row.role), now)
    session.refresh(activity)
    return Outcome(row, activity)


def positions(session: Session, activity_id: int) -> dict[int, int]:
    """Each waiting sign-up's place in line (1: next to move up), per role."""
    rows = session.execute(
        select(ActivitySignup.id, ActivitySignup.role)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status == SignupStatus.WAITING,
        )
        .order_by(ActivitySignup.queued_at, ActivitySignup.id)
    ).all()
    seen: dict[str, int] = {}
    out: dict[int, int] = {}
    for signup_id, role in rows:
        seen[role] = seen.get(role, 0) + 1
        out[signup_id] = seen[role]
    return out
