"""The people of a pairing's helper: who may visit for it, and whom its reminders go to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.models import Household, Pairing, Team, TeamMember, Volunteer

ACTIVE_MEMBER = "active"


def helper_volunteer_ids(session: Session, pairing: Pairing) -> list[int]:
    """The volunteers who may visit for the pairing's helper."""
    if pairing.helper_volunteer_id is not None:
        return [pairing.helper_volunteer_id]
    if pairing.helper_team_id is not None:
        return list(
            session.scalars(
                select(TeamMember.volunteer_id).where(
                    TeamMember.team_id == pairing.helper_team_id,
                    TeamMember.status == ACTIVE_MEMBER,
                )
            )
        )
    resident = session.scalar(
        select(Household.resident_id).where(Household.id == pairing.helper_household_id)
    )
    if resident is None:
        return []
    return list(session.scalars(select(Volunteer.id).where(Volunteer.user_id == resident)))


def helper_user_ids(session: Session, pairing: Pairing) -> list[int]:
    """Whom a reminder goes to: the helper volunteer, the helper team's lead (else its active
    members), the helper household's resident."""
    if pairing.helper_volunteer_id is not None:
        found = session.scalar(
            select(Volunteer.user_id).where(Volunteer.id == pairing.helper_volunteer_id)
        )
        return [found] if found is not None else []
    if pairing.helper_team_id is not None:
        leads = list(
            session.scalars(
                select(Volunteer.user_id)
                .join(TeamMember, TeamMember.volunteer_id == Volunteer.id)
                .where(
                    TeamMember.team_id == pairing.helper_team_id,
                    TeamMember.status == ACTIVE_MEMBER,
                    TeamMember.role == "lead",
                )
            )
        )
        named = session.scalar(
            select(Volunteer.user_id)
            .join(Team, Team.lead_volunteer_id == Volunteer.id)
            .where(Team.id == pairing.helper_team_id)
        )
        ids = [*leads, *([named] if named is not None else [])]
        if not ids:
            ids = list(
                session.scalars(
                    select(Volunteer.user_id)
                    .join(TeamMember, TeamMember.volunteer_id == Volunteer.id)
                    .where(
                        TeamMember.team_id == pairing.helper_team_id,
                        TeamMember.status == ACTIVE_MEMBER,
                    )
                )
            )
        return list(dict.fromkeys(ids))
    resident = session.scalar(
        select(Household.resident_id).where(Household.id == pairing.helper_household_id)
    )
    return [resident] if resident is not None else []


def is_helper(session: Session, pairing: Pairing, actor: Principal) -> bool:
    if actor.volunteer_id is not None and actor.volunteer_id in helper_volunteer_ids(
        session, pairing
    ):
        return True
    return actor.user_id in helper_user_ids(session, pairing)
