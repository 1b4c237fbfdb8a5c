"""Pairings: who may see and act on one, its lifecycle (pause, resume, end) through the table in
`state.py` with a compare-and-set on (status, version), its views with health, and the reveal of
the household's personal data (logged).

A pairing's helper visits through volunteers: the helper volunteer, the active members of a
helper team, or the volunteer profile of a helper household's resident. Reminders go to the
helper's people: the volunteer, the team's lead (its members when it has none), the helper
household's resident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import (
    Household,
    OrgUnit,
    Pairing,
    PairingVisit,
    Team,
    TeamMember,
    User,
    Volunteer,
)
from app.models.enums import VolunteerStatus
from app.notifications.outbox import enqueue
from app.org_units.service import coordinators_for, in_subtree, managed_unit
from app.pagination import PageParams
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
from app.pairings.helpers import ACTIVE_MEMBER, helper_user_ids, is_helper
from app.pairings.schemas import (
    HouseholdRevealed,
    PairedHousehold,
    PairingCreate,
    PairingOut,
)
from app.pairings.state import (
    HEALTH_NAMES,
    TRANSITIONS,
    Health,
    PairingEvent,
    PairingStatus,
    Role,
    first_due,
    health_of,
)
from app.privacy import access_log
from app.privacy.access_log import AccessPurpose
from app.privacy.masking import shown_name

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


# ---------------------------------------------------------------- views


def health_condition(health: Health, now: datetime) -> ColumnElement[bool]:
    active = Pairing.status == PairingStatus.ACTIVE
    calm = and_(active, Pairing.reminded_at.is_(None), Pairing.escalated_at.is_(None))
    return {
        Health.ENDED: Pairing.status == PairingStatus.ENDED,
        Health.PAUSED: Pairing.status == PairingStatus.PAUSED,
        Health.LAPSING: and_(active, Pairing.escalated_at.is_not(None)),
        Health.OVERDUE: and_(
            active, Pairing.reminded_at.is_not(None), Pairing.escalated_at.is_(None)
        ),
        Health.DUE: and_(calm, Pairing.next_due_at <= now),
        Health.HEALTHY: and_(calm, Pairing.next_due_at > now),
    }[health]


def _helper_names(session: Session, pairings: Sequence[Pairing]) -> dict[int, str]:
    names: dict[int, str] = {}
    vols = {p.helper_volunteer_id for p in pairings if p.helper_volunteer_id is not None}
    teams = {p.helper_team_id for p in pairings if p.helper_team_id is not None}
    homes = {p.helper_household_id for p in pairings if p.helper_household_id is not None}
    by_vol = dict(
        session.execute(
            select(Volunteer.id, User.name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(vols))
        ).all()
    )
    by_team = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(teams))).all())
    by_home = {
        h.id: h.head_name for h in session.scalars(select(Household).where(Household.id.in_(homes)))
    }
    for p in pairings:
        if p.helper_volunteer_id is not None:
            names[p.id] = shown_name(by_vol.get(p.helper_volunteer_id, ""))
        elif p.helper_team_id is not None:
            names[p.id] = by_team.get(p.helper_team_id, "")
        else:
            assert p.helper_household_id is not None
            names[p.id] = shown_name(by_home.get(p.helper_household_id, "")) + "家"
    return names


def helper_id(p: Pairing) -> int:
    found = p.helper_volunteer_id or p.helper_team_id or p.helper_household_id
    assert found is not None
    return found


def outs(session: Session, pairings: Sequence[Pairing], now: datetime) -> list[PairingOut]:
    if not pairings:
        return []
    ids = [p.id for p in pairings]
    homes = {
        h.id: h
        for h in session.scalars(
            select(Household).where(Household.id.in_({p.household_id for p in pairings}))
        )
    }
    cats = households.categories_of(session, list(homes))
    counts = dict(
        session.execute(
            select(PairingVisit.pairing_id, func.count())
            .where(PairingVisit.pairing_id.in_(ids))
            .group_by(PairingVisit.pairing_id)
        ).all()
    )
    names = _helper_names(session, pairings)
    result = []
    for p in pairings:
        home = homes[p.household_id]
        health = health_of(
            status=p.status,
            next_due_at=p.next_due_at,
            reminded_at=p.reminded_at,
            escalated_at=p.escalated_at,
            now=now,
        )
        result.append(
            PairingOut(
                id=p.id,
                station_id=p.station_id,
                household=PairedHousehold(
                    id=home.id,
                    head_name=shown_name(home.head_name),
                    coarse_address=home.coarse_address,
                    category_names=[c.name for c in cats[home.id]],
                ),
                helper_kind=p.helper_kind,
                helper_id=helper_id(p),
                helper_name=names[p.id],
                rhythm_days=p.rhythm_days,
                visit_minutes=p.visit_minutes,
                start_date=p.start_date,
                end_date=p.end_date,
                status=p.status,
                health=health,
                health_name=HEALTH_NAMES[health],
                next_due_at=p.next_due_at,
                last_visit_at=p.last_visit_at,
                reminded_at=p.reminded_at,
                escalated_at=p.escalated_at,
                missed_count=p.missed_count,
                visit_count=counts.get(p.id, 0),
                note=p.note or "",
                version=p.version,
            )
        )
    return result


def of_unit(
    *,
    session: Session,
    actor: Principal,
    unit_id: int,
    health: Health | None,
    household_id: int | None,
    params: PageParams,
    now: datetime,
) -> Sequence[Pairing]:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    query = (
        select(Pairing)
        .join(OrgUnit, OrgUnit.id == Pairing.station_id)
        .where(in_subtree(OrgUnit.path, unit.path))
        .order_by(Pairing.id)
        .limit(params.limit + 1)
    )
    if params.after_id is not None:
        query = query.where(Pairing.id > params.after_id)
    if health is not None:
        query = query.where(health_condition(health, now))
    if household_id is not None:
        query = query.where(Pairing.household_id == household_id)
    return session.scalars(query).all()


def of_helper(*, session: Session, actor: Principal, params: PageParams) -> Sequence[Pairing]:
    """The pairings the caller helps in: as the volunteer, a team's active member, or the
    resident of the helper household."""
    mine: list[ColumnElement[bool]] = [Pairing.helper_household_id.in_(
        select(Household.id).where(Household.resident_id == actor.user_id)
    )]  # fmt: skip
    if actor.volunteer_id is not None:
        mine += [
            Pairing.helper_volunteer_id == actor.volunteer_id,
            Pairing.helper_team_id.in_(
                select(TeamMember.team_id).where(
                    TeamMember.volunteer_id == actor.volunteer_id,
                    TeamMember.status == ACTIVE_MEMBER,
                )
            ),
        ]
    query = select(Pairing).where(or_(*mine)).order_by(Pairing.id).limit(params.limit + 1)
    if params.after_id is not None:
        query = query.where(Pairing.id > params.after_id)
    return session.scalars(query).all()


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
