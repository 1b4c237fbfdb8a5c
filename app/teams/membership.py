"""Membership: a volunteer applies to a verified team, its lead or a coordinator of its unit
approves or refuses (never their own application), and a member leaves. Every change is a
compare-and-set on the row's status."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import TeamMember
from app.teams.errors import (
    AlreadyMember,
    LeadCannotLeave,
    MembershipNotFound,
    MembershipStatusConflict,
    NotTeamLead,
    TeamNotFound,
    TeamNotVerified,
)
from app.teams.schemas import MemberStatus, TeamStatus
from app.teams.service import Seen, seen_team


def apply(session: Session, *, team_id: int, actor: Principal, note: str) -> TeamMember:
    """A volunteer applies to join a verified team (again, after a refusal or leaving)."""
    seen = seen_team(session, team_id=team_id, actor=actor)
    if seen.team.status != TeamStatus.VERIFIED:
        raise TeamNotVerified()
    assert actor.volunteer_id is not None
    now = clock.now()
    row = seen.membership
    if row is None:
        row = TeamMember(
            team_id=team_id,
            volunteer_id=actor.volunteer_id,
            role="member",
            status=MemberStatus.APPLIED,
            reason=note or None,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            raise AlreadyMember() from None
        return row
    moved = session.execute(
        update(TeamMember)
        .where(
            TeamMember.id == row.id,
            TeamMember.status.in_([MemberStatus.REFUSED, MemberStatus.LEFT]),
        )
        .values(
            status=MemberStatus.APPLIED,
            role="member",
            reason=note or None,
            decided_by_id=None,
            decided_at=None,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyMember(details={"status": row.status})
    session.refresh(row)
    return row


def membership_for(
    session: Session, *, member_id: int, actor: Principal
) -> tuple[TeamMember, Seen]:
    row = session.get(TeamMember, member_id)
    if row is None:
        raise MembershipNotFound()
    try:
        seen = seen_team(session, team_id=row.team_id, actor=actor)
    except TeamNotFound:
        raise MembershipNotFound() from None
    if not (seen.manages or seen.leads or row.volunteer_id == actor.volunteer_id):
        raise MembershipNotFound()
    return row, seen


def _move_member(
    session: Session, row: TeamMember, *, source: set[MemberStatus], target: MemberStatus,
    **values: object,
) -> TeamMember:  # fmt: skip
    now = clock.now()
    moved = session.execute(
        update(TeamMember)
        .where(TeamMember.id == row.id, TeamMember.status.in_(source))
        .values(status=target, updated_at=now, **values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise MembershipStatusConflict(details={"status": row.status})
    session.refresh(row)
    return row


def answer_application(
    session: Session, *, member_id: int, actor: Principal, approve: bool, reason: str | None
) -> TeamMember:
    """The team's lead or a coordinator of its unit approves or refuses an application."""
    row, seen = membership_for(session, member_id=member_id, actor=actor)
    if not (seen.manages or seen.leads):
        raise NotTeamLead()
    refuse_self(
        session,
        actor,
        action="approve_own_membership" if approve else "refuse_own_membership",
        volunteer_id=row.volunteer_id,
    )
    if approve and seen.team.status != TeamStatus.VERIFIED:
        raise TeamNotVerified()
    return _move_member(
        session,
        row,
        source={MemberStatus.APPLIED},
        target=MemberStatus.ACTIVE if approve else MemberStatus.REFUSED,
        decided_by_id=actor.user_id,
        decided_at=clock.now(),
        reason=reason,
    )


def leave(session: Session, *, member_id: int, actor: Principal) -> TeamMember:
    """A member leaves (or withdraws an application); the lead cannot leave their own team."""
    row, _seen = membership_for(session, member_id=member_id, actor=actor)
    if row.volunteer_id != actor.volunteer_id:
        raise MembershipNotFound()
    if row.role == "lead":
        raise LeadCannotLeave()
    return _move_member(
        session,
        row,
        source={MemberStatus.APPLIED, MemberStatus.ACTIVE},
        target=MemberStatus.LEFT,
    )
