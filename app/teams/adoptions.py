"""万企帮万户: an organisation adopts households in need or a whole village (station).

A coordinator of the household's station (or of the village) records the adoption and ends it;
not one who leads the organisation (its help would be counted on their own say-so). An
organisation has one adoption in force per household or village.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import Household, OrgUnit, TeamAdoption
from app.models.enums import OrgLevel
from app.seasons.service import local_date
from app.teams.errors import (
    AdoptionEnded,
    AdoptionNotFound,
    AlreadyAdopted,
    HouseholdNotFound,
    OneTarget,
    PeriodInvalid,
    TeamNotVerified,
    VillageNotFound,
)
from app.teams.schemas import AdoptionIn, TeamStatus
from app.teams.service import seen_team


def _target_unit(session: Session, body: AdoptionIn, actor: Principal) -> OrgUnit:
    """The station the adoption is recorded at, if the caller manages it."""
    if body.household_id is not None:
        household = session.get(Household, body.household_id)
        unit = session.get(OrgUnit, household.station_id) if household is not None else None
        if household is None or unit is None or not actor.manages(unit.path):
            raise HouseholdNotFound()
        if household.status != "active":
            raise HouseholdNotFound("该困难家庭已结案", details={"status": household.status})
        return unit
    assert body.village_id is not None
    village = session.get(OrgUnit, body.village_id)
    if village is None or village.level != OrgLevel.VILLAGE or not actor.manages(village.path):
        raise VillageNotFound()
    return village


def adopt(session: Session, *, team_id: int, body: AdoptionIn, actor: Principal) -> TeamAdoption:
    if (body.household_id is None) == (body.village_id is None):
        raise OneTarget()
    seen = seen_team(session, team_id=team_id, actor=actor)
    _target_unit(session, body, actor)
    refuse_self(
        session, actor, action="adopt_for_own_team", volunteer_id=seen.team.lead_volunteer_id
    )
    refuse_self(session, actor, action="adopt_for_own_team", user_id=seen.team.registered_by_id)
    if seen.team.status != TeamStatus.VERIFIED:
        raise TeamNotVerified()
    start = body.start_date or local_date()
    if start.year < 2000 or start > local_date().replace(year=local_date().year + 1):
        raise PeriodInvalid(details={"start_date": start.isoformat()})
    same = (
        TeamAdoption.household_id == body.household_id
        if body.household_id is not None
        else TeamAdoption.village_id == body.village_id
    )
    if session.scalar(
        select(TeamAdoption.id).where(
            TeamAdoption.team_id == team_id, TeamAdoption.status == "active", same
        )
    ):
        raise AlreadyAdopted()
    now = clock.now()
    row = TeamAdoption(
        team_id=team_id,
        household_id=body.household_id,
        village_id=body.village_id,
        status="active",
        start_date=start,
        note=body.note or None,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def end(session: Session, *, adoption_id: int, actor: Principal) -> TeamAdoption:
    row = session.get(TeamAdoption, adoption_id)
    if row is None:
        raise AdoptionNotFound()
    try:
        _target_unit(
            session, AdoptionIn(household_id=row.household_id, village_id=row.village_id), actor
        )
    except (HouseholdNotFound, VillageNotFound):
        raise AdoptionNotFound() from None
    today = local_date()
    moved = session.execute(
        update(TeamAdoption)
        .where(TeamAdoption.id == row.id, TeamAdoption.status == "active")
        .values(status="ended", end_date=max(today, row.start_date), updated_at=clock.now()),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AdoptionEnded()
    session.refresh(row)
    return row


def adoptions(
    session: Session, *, team_id: int
) -> list[tuple[TeamAdoption, str | None, OrgUnit | None]]:
    rows = session.execute(
        select(TeamAdoption, Household.coarse_address, OrgUnit)
        .outerjoin(Household, Household.id == TeamAdoption.household_id)
        .outerjoin(OrgUnit, OrgUnit.id == TeamAdoption.village_id)
        .where(TeamAdoption.team_id == team_id)
        .order_by(TeamAdoption.id.desc())
        .limit(200)
    )
    return [(a, address, unit) for a, address, unit in rows]
