"""An activity taken as a team: the lead of a verified team or organisation names members
(`team_callups` with the activity), and each member still answers for themself (no forced
assignment, 《志愿服务条例》 Art 25). A member's acceptance is their sign-up, under the same
constraints and headcount as anyone's, marked with the team. The teams themselves (members,
leads, verification) are the teams domain's; this module only reads them.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.activities.errors import (
    ActivityNotFound,
    ActivityStatusConflict,
    CallupAnswered,
    CallupNotFound,
    NotTeamLead,
    NotTeamMember,
)
from app.activities.rows import facts, locked
from app.activities.signups import Outcome, sign_up, visible
from app.activities.state import ActivityStatus
from app.auth.principal import Principal
from app.models import Team, TeamCallup, TeamMember, Volunteer
from app.notifications.outbox import enqueue

VERIFIED = "verified"
ACTIVE = "active"
LEAD = "lead"


def _led_team(session: Session, team_id: int, actor: Principal) -> Team:
    team = session.get(Team, team_id)
    lead = (
        team is not None
        and actor.volunteer_id is not None
        and session.scalar(
            select(TeamMember.id).where(
                TeamMember.team_id == team_id,
                TeamMember.volunteer_id == actor.volunteer_id,
                TeamMember.role == LEAD,
                TeamMember.status == ACTIVE,
            )
        )
        is not None
    )
    if team is None or not lead or team.status != VERIFIED:
        raise NotTeamLead()
    return team


def call_up(
    session: Session, *, activity_id: int, team_id: int, volunteer_ids: list[int], actor: Principal
) -> list[TeamCallup]:
    """The lead names members for the activity; each is told and answers for themself. A
    member named before keeps their call-up as it is."""
    activity, unit = locked(session, activity_id)
    if not visible(activity, unit, actor):
        raise ActivityNotFound()
    if activity.status != ActivityStatus.PUBLISHED:
        raise ActivityStatusConflict("活动未在报名中", details={"status": activity.status})
    _led_team(session, team_id, actor)
    wanted = list(dict.fromkeys(volunteer_ids))
    members = set(
        session.scalars(
            select(TeamMember.volunteer_id).where(
                TeamMember.team_id == team_id,
                TeamMember.status == ACTIVE,
                TeamMember.volunteer_id.in_(wanted),
            )
        )
    )
    strangers = [v for v in wanted if v not in members]
    if strangers:
        raise NotTeamMember(details={"volunteer_ids": strangers})
    existing = {
        c.volunteer_id: c
        for c in session.scalars(
            select(TeamCallup).where(
                TeamCallup.team_id == team_id, TeamCallup.activity_id == activity.id
            )
        )
    }
    fresh = [
        TeamCallup(
            team_id=team_id,
            activity_id=activity.id,
            volunteer_id=v,
            status="named",
            named_by_id=actor.user_id,
        )
        for v in wanted
        if v not in existing
    ]
    session.add_all(fresh)
    session.flush()
    users = session.scalars(
        select(Volunteer.user_id).where(Volunteer.id.in_([c.volunteer_id for c in fresh]))
    ).all()
    team = session.get(Team, team_id)
    assert team is not None
    enqueue(
        session=session,
        topic="activity.callup",
        recipient_ids=users,
        payload={**facts(activity), "team_name": team.name},
    )
    return [existing.get(v) or next(c for c in fresh if c.volunteer_id == v) for v in wanted]


def _own_callup(session: Session, callup_id: int, actor: Principal) -> TeamCallup:
    callup = session.get(TeamCallup, callup_id, populate_existing=True)
    if (
        callup is None
        or callup.activity_id is None
        or actor.volunteer_id is None
        or callup.volunteer_id != actor.volunteer_id
    ):
        raise CallupNotFound()
    return callup


def _answer(session: Session, callup: TeamCallup, status: str) -> None:
    moved = session.execute(
        update(TeamCallup)
        .where(TeamCallup.id == callup.id, TeamCallup.status == "named")
        .values(status=status, answered_at=clock.now()),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise CallupAnswered(details={"status": callup.status})
    session.refresh(callup)


def accept(session: Session, *, callup_id: int, actor: Principal) -> tuple[TeamCallup, Outcome]:
    """The member's yes is their sign-up with the team (a place, or the wait-list)."""
    callup = _own_callup(session, callup_id, actor)
    _answer(session, callup, "accepted")
    assert callup.activity_id is not None
    outcome = sign_up(session, activity_id=callup.activity_id, actor=actor, team_id=callup.team_id)
    return callup, outcome


def decline(session: Session, *, callup_id: int, actor: Principal) -> TeamCallup:
    callup = _own_callup(session, callup_id, actor)
    _answer(session, callup, "declined")
    return callup
