"""What pairings and visits look like to their readers: a pairing with its health and the
household masked, the lists per unit and per helper, a visit with its service record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.models import (
    Attendance,
    Household,
    OrgUnit,
    Pairing,
    PairingVisit,
    Team,
    TeamMember,
    User,
    Volunteer,
)
from app.org_units.service import in_subtree, managed_unit
from app.pagination import PageParams
from app.pairings import households
from app.pairings.helpers import ACTIVE_MEMBER
from app.pairings.schemas import PairedHousehold, PairingOut, VisitOut
from app.pairings.state import HEALTH_NAMES, Health, PairingStatus, health_of
from app.privacy.masking import shown_name


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


def record_of(session: Session, visit_id: int) -> Attendance | None:
    return session.scalars(
        select(Attendance)
        .where(Attendance.visit_id == visit_id)
        .execution_options(populate_existing=True)
    ).one_or_none()


def of_pairing(session: Session, pairing_id: int, limit: int = 100) -> list[VisitOut]:
    rows = session.execute(
        select(PairingVisit, Attendance, User.name)
        .outerjoin(Attendance, Attendance.visit_id == PairingVisit.id)
        .outerjoin(Volunteer, Volunteer.id == PairingVisit.volunteer_id)
        .outerjoin(User, User.id == Volunteer.user_id)
        .where(PairingVisit.pairing_id == pairing_id)
        .order_by(PairingVisit.id.desc())
        .limit(limit)
    ).all()
    return [visit_out(v, a, n) for v, a, n in rows]


def visit_out(visit: PairingVisit, row: Attendance | None, name: str | None) -> VisitOut:
    return VisitOut(
        id=visit.id,
        pairing_id=visit.pairing_id,
        volunteer_id=visit.volunteer_id,
        volunteer_name=shown_name(name) if name else None,
        method=visit.method,
        started_at=visit.started_at,
        planned_end_at=visit.planned_end_at,
        ended_at=visit.ended_at,
        reason=visit.reason,
        needs=visit.needs,
        wish_id=visit.wish_id,
        record_id=row.id if row is not None else None,
        record_status=row.status if row is not None else None,
    )


def one(session: Session, visit: PairingVisit) -> VisitOut:
    row = record_of(session, visit.id)
    name = session.scalar(
        select(User.name)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == visit.volunteer_id)
    )
    return visit_out(visit, row, name)
