"""Pairings: who may see and act on one, its lifecycle (pause, resume, end) through the table in
`state.py` with a compare-and-set on (status, version), its views with health, and the reveal of
the household's personal data (logged).

A pairing's helper visits through volunteers: the helper volunteer, the active members of a
helper team, or the volunteer profile of a helper household's resident. Reminders go to the
helper's people: the volunteer, the team's lead (its members when it has none), the helper
household's resident.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import (
    Household,
    OrgUnit,
    Pairing,
    Team,
    Volunteer,
)
from app.models.enums import VolunteerStatus
from app.notifications.outbox import enqueue
from app.org_units.service import coordinators_for
from app.pairings import households, timer
from app.pairings.errors import (
    HelperIsHousehold,
    HelperNotFound,
    HouseholdClosed,
    HouseholdNotFound,
    InvalidDates,
    NotTheHelper,
    PairingChanged,
    PairingNotFound,
    PairingTransitionNotAllowed,
    RevealNotAllowed,
)
from app.pairings.helpers import helper_user_ids, is_helper
from app.pairings.schemas import (
    HouseholdRevealed,
    PairingCreate,
)
from app.pairings.state import (
    TRANSITIONS,
    PairingEvent,
    PairingStatus,
    Role,
    first_due,
)
from app.privacy import access_log
from app.privacy.access_log import AccessPurpose

log = structlog.get_logger()

TEAM_USABLE = ("verified",)


# ---------------------------------------------------------------- loading


def load(session: Session, pairing_id: int, *, fresh: bool = False) -> tuple[Pairing, OrgUnit]:
    query = (
        select(Pairing, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Pairing.station_id)
        .where(Pairing.id == pairing_id)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    found = session.execute(query).one_or_none()
    if found is None:
        raise PairingNotFound()
    return found[0], found[1]


def visible(session: Session, *, pairing_id: int, actor: Principal) -> tuple[Pairing, OrgUnit]:
    """A pairing the caller coordinates or helps in; 404 otherwise."""
    pairing, station = load(session, pairing_id)
    if actor.manages(station.path) or is_helper(session, pairing, actor):
        return pairing, station
    raise PairingNotFound()


def managed(session: Session, *, pairing_id: int, actor: Principal) -> tuple[Pairing, OrgUnit]:
    pairing, station = load(session, pairing_id)
    if not actor.manages(station.path):
        raise PairingNotFound()
    return pairing, station


# ---------------------------------------------------------------- creating


def _check_helper(
    session: Session, body: PairingCreate, household: Household, station: OrgUnit
) -> None:
    helper = body.helper
    if helper.volunteer_id is not None:
        found = session.execute(
            select(Volunteer.status, OrgUnit.path)
            .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
            .where(Volunteer.id == helper.volunteer_id)
        ).one_or_none()
        # A volunteer of the same county (the centre's subtree), active.
        county = "/".join(station.path.split("/")[:3]) + "/"
        if found is None or found[0] != VolunteerStatus.ACTIVE or not found[1].startswith(county):
            raise HelperNotFound(details={"volunteer_id": helper.volunteer_id})
    elif helper.household_id is not None:
        if helper.household_id == household.id:
            raise HelperIsHousehold()
        other = session.get(Household, helper.household_id)
        if other is None or other.status != "active" or other.station_id != household.station_id:
            raise HelperNotFound(details={"household_id": helper.household_id})
    elif helper.team_id is not None:
        team = session.get(Team, helper.team_id)
        if team is None or team.status not in TEAM_USABLE:
            raise HelperNotFound(details={"team_id": helper.team_id})


def create(*, session: Session, body: PairingCreate, actor: Principal, now: datetime) -> Pairing:
    seen = households.load(session, body.household_id)
    if seen is None or not actor.manages(seen.station.path):
        raise HouseholdNotFound()
    if seen.household.status != "active":
        raise HouseholdClosed()
    if body.end_date is not None and body.end_date < body.start_date:
        raise InvalidDates()
    _check_helper(session, body, seen.household, seen.station)
    # The coordinator does not pair themself: their visits would be their own hours.
    if body.helper.volunteer_id is not None:
        refuse_self(session, actor, action="pair_self", volunteer_id=body.helper.volunteer_id)
    pairing = Pairing(
        station_id=seen.household.station_id,
        household_id=seen.household.id,
        helper_kind=body.helper.kind,
        helper_volunteer_id=body.helper.volunteer_id,
        helper_household_id=body.helper.household_id,
        helper_team_id=body.helper.team_id,
        rhythm_days=body.rhythm_days,
        visit_minutes=body.visit_minutes,
        start_date=body.start_date,
        end_date=body.end_date,
        status=PairingStatus.ACTIVE,
        note=body.note or None,
        next_due_at=first_due(body.start_date, body.rhythm_days),
        missed_count=0,
        created_by_id=actor.user_id,
        version=1,
    )
    session.add(pairing)
    session.flush()
    timer.follow(session, pairing, now)
    log.info("pairing.created", pairing_id=pairing.id, actor_id=actor.user_id)
    return pairing


# ---------------------------------------------------------------- the lifecycle


def apply(
    *,
    session: Session,
    pairing_id: int,
    event: PairingEvent,
    actor: Principal,
    reason: str,
    now: datetime,
) -> Pairing:
    pairing, station = visible(session, pairing_id=pairing_id, actor=actor)
    transition = TRANSITIONS.get((PairingStatus(pairing.status), event))
    if transition is None:
        raise PairingTransitionNotAllowed(details={"status": pairing.status, "event": event})
    roles = set()
    if actor.manages(station.path):
        roles.add(Role.COORDINATOR)
    # The helper's own people (the volunteer, a team's lead, the helper household's resident),
    # not every member of a helper team.
    if actor.user_id in helper_user_ids(session, pairing):
        roles.add(Role.HELPER)
    if not roles & transition.roles:
        raise NotTheHelper()
    values: dict[str, object] = {"status": transition.to, "version": pairing.version + 1}
    if event == PairingEvent.RESUME:
        values.update(next_due_at=timer.due_from(pairing, now), reminded_at=None, escalated_at=None)
    moved = session.execute(
        update(Pairing)
        .where(
            Pairing.id == pairing.id,
            Pairing.status == pairing.status,
            Pairing.version == pairing.version,
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise PairingChanged()
    session.refresh(pairing)
    timer.follow(session, pairing, now)
    if event == PairingEvent.END:
        told = [*coordinators_for(session, station), *helper_user_ids(session, pairing)]
        enqueue(
            session=session,
            topic="pairing.ended",
            recipient_ids=[i for i in dict.fromkeys(told) if i != actor.user_id],
            payload={**timer.facts(session, pairing, station), "reason": reason},
        )
    log.info("pairing.transition", pairing_id=pairing.id, step=event, actor_id=actor.user_id)
    return pairing


# ---------------------------------------------------------------- the reveal


def reveal_household(
    *, session: Session, household_id: int, actor: Principal, reason: str, now: datetime
) -> HouseholdRevealed:
    """The household's name, phone, full address and place: to coordinators in scope and admins
    (purpose coordinate), and to the visiting volunteers of a pairing with it not ended
    (purpose visit_household). Every reveal is logged against the household's resident."""
    seen = households.load(session, household_id)
    if seen is None:
        raise HouseholdNotFound()
    h = seen.household
    if actor.manages(seen.station.path):
        purpose = AccessPurpose.COORDINATE
        role = "coordinator" if actor.covers(seen.station.path) else "admin"
    else:
        pairings = session.scalars(
            select(Pairing).where(
                Pairing.household_id == household_id, Pairing.status != PairingStatus.ENDED
            )
        ).all()
        if not any(is_helper(session, p, actor) for p in pairings):
            raise HouseholdNotFound()  # not shown to whoever has no part in it
        purpose, role = AccessPurpose.VISIT_HOUSEHOLD, "volunteer"
    if h.resident_id is None:  # nobody to log the reveal against: nothing is revealed
        raise RevealNotAllowed()
    shown = {
        "name": h.head_name,
        "phone": h.phone,
        "full_address": h.full_address,
        "location": h.exact_point,
    }
    access_log.record(
        session,
        actor_id=actor.user_id,
        actor_role=role,
        subject_user_id=h.resident_id,
        fields=[name for name, value in shown.items() if value is not None],
        purpose=purpose,
        reason=reason,
        now=now,
    )
    point = h.exact_point
    return HouseholdRevealed(
        id=h.id,
        head_name=h.head_name,
        phone=h.phone,
        full_address=h.full_address,
        lat=point[0] if point is not None else None,
        lng=point[1] if point is not None else None,
    )
