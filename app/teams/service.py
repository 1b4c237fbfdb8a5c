"""Teams and organisations: setting up, registering and verifying; membership.

A volunteer team (志愿服务队) is set up by a coordinator of the unit it belongs to and is in
force at once. An organisation (enterprise, school, department, social group) is registered by
any signed-in user with a county centre, which verifies or rejects it with a reason. Its lead is
the registrant if they volunteer, else the volunteer they name. Volunteers apply to join; the
team's lead or a coordinator of its unit approves or refuses. Nobody approves themselves
(`refuse_self`): not their own membership, not an organisation they lead or registered.

Every status change is a compare-and-set on the row's status, so two deciders never both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import OrgUnit, Team, TeamMember, User, Volunteer
from app.models.enums import OrgLevel, VolunteerStatus
from app.org_units.errors import OrgUnitNotFound
from app.org_units.service import in_subtree
from app.pagination import PageParams
from app.teams.errors import (
    CreditCodeTaken,
    LeadNotFound,
    LeadRequired,
    NotACentre,
    NotTeamLead,
    StaffCreatesTeams,
    TeamNotFound,
    TeamStatusConflict,
)
from app.teams.schemas import MemberStatus, TeamCreate, TeamKind, TeamStatus


@dataclass(frozen=True)
class Seen:
    """A team as the caller may see it, with what the caller is to it."""

    team: Team
    unit: OrgUnit
    manages: bool  # a coordinator of its unit or above, or an admin
    membership: TeamMember | None

    @property
    def leads(self) -> bool:
        m = self.membership
        return m is not None and m.role == "lead" and m.status == MemberStatus.ACTIVE


# ---------------------------------------------------------------- reading


def _membership(session: Session, team_id: int, volunteer_id: int | None) -> TeamMember | None:
    if volunteer_id is None:
        return None
    return session.scalars(
        select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.volunteer_id == volunteer_id
        )
    ).one_or_none()


def seen_team(session: Session, *, team_id: int, actor: Principal) -> Seen:
    """The team if the caller may see it: a verified team is public to signed-in users; a
    pending, rejected or suspended one only to its registrant, its members and the coordinators
    of its unit. Otherwise 404, as if it did not exist."""
    row = session.execute(
        select(Team, OrgUnit).join(OrgUnit, OrgUnit.id == Team.unit_id).where(Team.id == team_id)
    ).one_or_none()
    if row is None:
        raise TeamNotFound()
    team, unit = row
    membership = _membership(session, team.id, actor.volunteer_id)
    manages = actor.manages(unit.path)
    own = team.registered_by_id == actor.user_id or membership is not None
    if team.status != TeamStatus.VERIFIED and not (manages or own):
        raise TeamNotFound()
    return Seen(team, unit, manages, membership)


def managed_team(session: Session, *, team_id: int, actor: Principal) -> Seen:
    """The team, for a coordinator of its unit (or an admin); 404 for everyone else."""
    seen = seen_team(session, team_id=team_id, actor=actor)
    if not seen.manages:
        raise TeamNotFound()
    return seen


def led_team(session: Session, *, team_id: int, actor: Principal) -> Seen:
    """The team, for its lead or a coordinator of its unit."""
    seen = seen_team(session, team_id=team_id, actor=actor)
    if not (seen.manages or seen.leads):
        raise NotTeamLead()
    return seen


def list_teams(
    session: Session,
    *,
    actor: Principal,
    page: PageParams,
    unit: OrgUnit | None,
    kind: TeamKind | None,
    status: TeamStatus | None,
    mine: bool,
) -> list[Team]:
    """Teams in id order: coordinators see every team of their subtrees; everyone sees verified
    teams and the ones they registered or belong to. `unit` narrows to a subtree."""
    query = select(Team).join(OrgUnit, OrgUnit.id == Team.unit_id)
    own = Team.registered_by_id == actor.user_id
    if actor.volunteer_id is not None:
        member_of = select(TeamMember.team_id).where(
            TeamMember.volunteer_id == actor.volunteer_id,
            TeamMember.status.in_([MemberStatus.ACTIVE, MemberStatus.APPLIED]),
        )
        own = own | Team.id.in_(member_of)
    if mine:
        query = query.where(own)
    elif not actor.is_admin:
        visible = (Team.status == TeamStatus.VERIFIED) | own
        for scope in actor.coordinator_units:
            visible = visible | in_subtree(OrgUnit.path, scope.path)
        query = query.where(visible)
    if unit is not None:
        query = query.where(in_subtree(OrgUnit.path, unit.path))
    if kind is not None:
        query = query.where(Team.kind == kind)
    if status is not None:
        query = query.where(Team.status == status)
    if page.after_id is not None:
        query = query.where(Team.id > page.after_id)
    return list(session.scalars(query.order_by(Team.id).limit(page.limit + 1)))


def member_counts(session: Session, team_ids: list[int]) -> dict[int, int]:
    if not team_ids:
        return {}
    rows = session.execute(
        select(TeamMember.team_id, func.count())
        .where(TeamMember.team_id.in_(team_ids), TeamMember.status == MemberStatus.ACTIVE)
        .group_by(TeamMember.team_id)
    )
    return {team_id: int(n) for team_id, n in rows}


def active_member_ids(session: Session, team_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TeamMember.volunteer_id).where(
                TeamMember.team_id == team_id, TeamMember.status == MemberStatus.ACTIVE
            )
        )
    )


# ---------------------------------------------------------------- setting up and registering


def _lead(session: Session, body: TeamCreate, actor: Principal) -> int:
    if body.lead_volunteer_id is None:
        if actor.volunteer_id is None:
            raise LeadRequired()
        return actor.volunteer_id
    status = session.scalar(select(Volunteer.status).where(Volunteer.id == body.lead_volunteer_id))
    if status != VolunteerStatus.ACTIVE:
        raise LeadNotFound(details={"lead_volunteer_id": body.lead_volunteer_id})
    return body.lead_volunteer_id


def create_team(session: Session, *, body: TeamCreate, actor: Principal) -> Team:
    """A unit's coordinator sets up a volunteer team (verified at once); anyone signed in
    registers an organisation with a county centre (pending until the centre decides)."""
    unit = session.get(OrgUnit, body.unit_id)
    if body.kind == TeamKind.TEAM:
        if unit is None:
            raise OrgUnitNotFound()
        if not actor.manages(unit.path):
            if actor.is_coordinator:
                raise OrgUnitNotFound()
            raise StaffCreatesTeams()
    elif unit is None or unit.level != OrgLevel.COUNTY:
        raise NotACentre(details={"unit_id": body.unit_id})
    assert unit is not None
    lead_id = _lead(session, body, actor)
    now = clock.now()
    verified_now = body.kind == TeamKind.TEAM
    if verified_now:
        # Set up and verified by the same hand: not for a team the coordinator leads.
        refuse_self(session, actor, action="verify_own_team", volunteer_id=lead_id)
    if body.credit_code is not None and session.scalar(
        select(Team.id).where(Team.credit_code == body.credit_code)
    ):
        raise CreditCodeTaken()
    team = Team(
        unit_id=unit.id,
        kind=body.kind,
        name=body.name,
        description=body.description,
        status=TeamStatus.VERIFIED if verified_now else TeamStatus.PENDING,
        credit_code=body.credit_code,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        lead_volunteer_id=lead_id,
        registered_by_id=actor.user_id,
        verified_by_id=actor.user_id if verified_now else None,
        verified_at=now if verified_now else None,
        created_at=now,
        updated_at=now,
    )
    session.add(team)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise CreditCodeTaken() from None
    session.add(
        TeamMember(
            team_id=team.id,
            volunteer_id=lead_id,
            role="lead",
            status=MemberStatus.ACTIVE,
            decided_by_id=actor.user_id,
            decided_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return team


def _refuse_own_team(session: Session, actor: Principal, team: Team, action: str) -> None:
    """Nobody decides on an organisation they registered or lead."""
    refuse_self(session, actor, action=action, user_id=team.registered_by_id)
    refuse_self(session, actor, action=action, volunteer_id=team.lead_volunteer_id)


def _move_team(
    session: Session, team: Team, *, source: TeamStatus, target: TeamStatus, **values: object
) -> Team:
    now = clock.now()
    moved = session.execute(
        update(Team)
        .where(Team.id == team.id, Team.status == source)
        .values(status=target, updated_at=now, **values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise TeamStatusConflict(details={"status": team.status})
    session.refresh(team)
    return team


def decide(
    session: Session, *, team_id: int, actor: Principal, verify: bool, reason: str | None
) -> Team:
    """A coordinator of the centre verifies (or rejects, with a reason) a pending organisation."""
    seen = managed_team(session, team_id=team_id, actor=actor)
    team = seen.team
    _refuse_own_team(session, actor, team, "verify_own_team" if verify else "reject_own_team")
    if team.status != TeamStatus.PENDING:
        raise TeamStatusConflict(details={"status": team.status})
    return _move_team(
        session,
        team,
        source=TeamStatus.PENDING,
        target=TeamStatus.VERIFIED if verify else TeamStatus.REJECTED,
        verified_by_id=actor.user_id,
        verified_at=clock.now(),
        decision_reason=reason,
    )


def members(session: Session, *, team_id: int, status: MemberStatus | None) -> list[
    tuple[TeamMember, str, OrgUnit]
]:  # fmt: skip
    query = (
        select(TeamMember, User.name, OrgUnit)
        .join(Volunteer, Volunteer.id == TeamMember.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
        .where(TeamMember.team_id == team_id)
        .order_by(TeamMember.role, TeamMember.id)
    )
    if status is not None:
        query = query.where(TeamMember.status == status)
    return [(m, name, unit) for m, name, unit in session.execute(query)]


def lead_name(session: Session, team: Team) -> str | None:
    if team.lead_volunteer_id is None:
        return None
    return session.scalar(
        select(User.name)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == team.lead_volunteer_id)
    )


def joined_at(row: TeamMember) -> datetime:
    return row.decided_at or row.created_at
