"""Visits: the helper's check-in at the household (GPS with their consent) and check-out, or a
coordinator's manual record with a reason; each is a service record (`attendances.visit_id`)
confirmed and credited by the station's rules through `POST /service-records/{id}/confirm`.
A visit moves the pairing's timer on. The needs noted at a visit become a wish in one step,
ordered by the station's staff on the household's behalf through the real intake.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.attendance.checks import Check, check_for
from app.attendance.schemas import AttendanceIn
from app.attendance.service import checked_out, write_check_out
from app.attendance.state import AttendanceEvent, move
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import (
    Attendance,
    Household,
    OrgUnit,
    Pairing,
    PairingVisit,
    Programme,
    Wish,
)
from app.models.enums import AttendanceStatus
from app.pairings import households, service, timer
from app.pairings.errors import (
    HouseholdNotLocated,
    InvalidVisitTimes,
    NotTheHelper,
    PairingNotActive,
    PairingNotFound,
    VisitAlreadyEnded,
    VisitHasNoRecord,
    VisitInProgress,
    VisitNotFound,
    VisitWishExists,
    VolunteerRequired,
)
from app.pairings.helpers import helper_volunteer_ids
from app.pairings.occasion import load_visit, of_visit
from app.pairings.schemas import ManualVisitIn, VisitCheckIn, VisitCheckOut, VisitWishIn
from app.pairings.state import PairingStatus
from app.pairings.views import record_of
from app.wishes.intake import create_wish
from app.wishes.schemas import OnBehalfOf, ProxyConsent, WishCreate

CLOCK_SKEW = timedelta(minutes=5)
PAIRS_PROGRAMME = "household_pairs"
FALLBACK_CATEGORY = "neighbourly_watch"  # 邻里守望, for a household whose categories name none


def _start_record(
    session: Session,
    *,
    visit: PairingVisit,
    volunteer_id: int,
    station: OrgUnit,
    check: Check,
    actor: Principal,
) -> Attendance:
    row = Attendance(
        visit_id=visit.id,
        volunteer_id=volunteer_id,
        unit_id=station.id,
        is_lead=True,
        status=AttendanceStatus.ASSIGNED,
        added_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    move(
        session,
        row,
        AttendanceEvent.CHECK_IN,
        checked_in_at=check.at,
        check_in_received_at=check.received_at,
        check_in_fix=check.fix,
        check_in_method=check.method,
        check_in_nonce=check.nonce,
        manual=check.method == "manual",
        late_sync=check.late_sync,
        manual_reason=check.manual_reason,
    )
    return row


# ---------------------------------------------------------------- the helper's check-in/out


def check_in(
    *, session: Session, pairing_id: int, actor: Principal, body: VisitCheckIn, now: datetime
) -> PairingVisit:
    pairing, station = service.load(session, pairing_id)
    volunteer_id = actor.volunteer_id
    if volunteer_id is None or volunteer_id not in helper_volunteer_ids(session, pairing):
        if actor.manages(station.path) or service.is_helper(session, pairing, actor):
            raise NotTheHelper()
        raise PairingNotFound()
    if body.nonce is not None:  # the same check uploaded again
        replay = session.scalar(
            select(PairingVisit)
            .join(Attendance, Attendance.visit_id == PairingVisit.id)
            .where(Attendance.volunteer_id == volunteer_id, Attendance.check_in_nonce == body.nonce)
        )
        if replay is not None:
            return replay
    if pairing.status != PairingStatus.ACTIVE:
        raise PairingNotActive()
    # One check-in at a time per pairing: a lock on its row until the transaction ends (on
    # SQLite, writers already run one at a time), so a double tap makes one visit.
    session.execute(select(Pairing.id).where(Pairing.id == pairing.id).with_for_update())
    open_visit = session.scalar(
        select(PairingVisit.id)
        .join(Attendance, Attendance.visit_id == PairingVisit.id)
        .where(
            PairingVisit.pairing_id == pairing.id,
            Attendance.volunteer_id == volunteer_id,
            Attendance.status == AttendanceStatus.IN_SERVICE,
        )
    )
    if open_visit is not None:
        raise VisitInProgress(details={"visit_id": open_visit})
    household = session.get(Household, pairing.household_id)
    assert household is not None
    starts = body.client_time or now
    planned = timedelta(minutes=pairing.visit_minutes)
    occasion = of_visit(
        session,
        visit_id=0,
        pairing=pairing,
        household=household,
        station=station,
        starts_at=starts,
        ends_at=starts + planned,
    )
    check = check_for(
        session,
        occasion=occasion,
        actor=actor,
        volunteer_id=volunteer_id,
        manual=False,
        body=AttendanceIn(
            lat=body.lat, lng=body.lng, client_time=body.client_time, nonce=body.nonce
        ),
        now=now,
        out=False,
        checked_in_at=None,
    )
    visit = PairingVisit(
        pairing_id=pairing.id,
        volunteer_id=volunteer_id,
        method="gps",
        started_at=check.at,
        planned_end_at=check.at + planned,
        recorded_by_id=actor.user_id,
    )
    session.add(visit)
    session.flush()
    _start_record(
        session, visit=visit, volunteer_id=volunteer_id, station=station, check=check, actor=actor
    )
    timer.visited(session, pairing, check.at, now)
    return visit


def check_out(
    *, session: Session, visit_id: int, actor: Principal, body: VisitCheckOut, now: datetime
) -> PairingVisit:
    found = load_visit(session, visit_id)
    if found is None:
        raise VisitNotFound()
    visit, pairing, household, station = found
    row = record_of(session, visit.id)
    own = row is not None and actor.volunteer_id == row.volunteer_id
    staff = actor.manages(station.path)
    if not (own or staff):
        raise VisitNotFound()
    if row is None:
        raise VisitHasNoRecord()
    if row.status != AttendanceStatus.IN_SERVICE:
        if body.nonce is not None and row.check_out_nonce == body.nonce:
            return visit  # the same check-out uploaded again
        raise VisitAlreadyEnded()
    manual = not own or (body.reason is not None and body.lat is None)
    occasion = of_visit(
        session,
        visit_id=visit.id,
        pairing=pairing,
        household=household,
        station=station,
        starts_at=visit.started_at,
        ends_at=visit.planned_end_at,
    )
    assert row.checked_in_at is not None
    check = check_for(
        session,
        occasion=occasion,
        actor=actor,
        volunteer_id=row.volunteer_id,
        manual=manual and staff,
        body=AttendanceIn(
            lat=body.lat,
            lng=body.lng,
            client_time=body.client_time,
            nonce=body.nonce,
            reason=body.reason,
            summary=body.summary,
        ),
        now=now,
        out=True,
        checked_in_at=row.checked_in_at,
    )
    write_check_out(session, row=row, check=check)
    visit.ended_at = check.at
    if body.needs:
        visit.needs = body.needs
    session.flush()
    checked_out(session, row, occasion, now)
    return visit


# ---------------------------------------------------------------- the coordinator's record


def record_manual(
    *, session: Session, pairing_id: int, actor: Principal, body: ManualVisitIn, now: datetime
) -> PairingVisit:
    pairing, station = service.managed(session, pairing_id=pairing_id, actor=actor)
    if pairing.status != PairingStatus.ACTIVE:
        raise PairingNotActive()
    if body.ended_at <= body.started_at or body.ended_at > now + CLOCK_SKEW:
        raise InvalidVisitTimes()
    allowed = helper_volunteer_ids(session, pairing)
    volunteer_id = body.volunteer_id
    if volunteer_id is None and pairing.helper_volunteer_id is not None:
        volunteer_id = pairing.helper_volunteer_id
    elif volunteer_id is None and pairing.helper_kind == "household" and len(allowed) == 1:
        volunteer_id = allowed[0]
    if volunteer_id is None and pairing.helper_kind != "household":
        raise VolunteerRequired()
    if volunteer_id is not None and volunteer_id not in allowed:
        raise VolunteerRequired(details={"volunteer_id": volunteer_id})
    if volunteer_id is not None:
        refuse_self(session, actor, action="manual_check_of_self", volunteer_id=volunteer_id)
    household = session.get(Household, pairing.household_id)
    assert household is not None
    planned_end = max(body.ended_at, body.started_at + timedelta(minutes=pairing.visit_minutes))
    visit = PairingVisit(
        pairing_id=pairing.id,
        volunteer_id=volunteer_id,
        method="manual",
        started_at=body.started_at,
        planned_end_at=planned_end,
        ended_at=body.ended_at,
        reason=body.reason,
        needs=body.needs or None,
        recorded_by_id=actor.user_id,
    )
    session.add(visit)
    session.flush()
    if volunteer_id is not None:
        occasion = of_visit(
            session,
            visit_id=visit.id,
            pairing=pairing,
            household=household,
            station=station,
            starts_at=visit.started_at,
            ends_at=planned_end,
        )
        checks = [
            check_for(
                session,
                occasion=occasion,
                actor=actor,
                volunteer_id=volunteer_id,
                manual=True,
                body=AttendanceIn(client_time=at, reason=body.reason, summary=summary),
                now=now,
                out=out,
                checked_in_at=body.started_at if out else None,
            )
            for at, out, summary in (
                (body.started_at, False, ""),
                (body.ended_at, True, body.summary),
            )
        ]
        row = _start_record(
            session,
            visit=visit,
            volunteer_id=volunteer_id,
            station=station,
            check=checks[0],
            actor=actor,
        )
        write_check_out(session, row=row, check=checks[1])
        checked_out(session, row, occasion, now)
    timer.visited(session, pairing, body.started_at, now)
    return visit


# ---------------------------------------------------------------- needs → wish


def to_wish(
    *, session: Session, visit_id: int, actor: Principal, body: VisitWishIn, now: datetime
) -> Wish:
    found = load_visit(session, visit_id)
    if found is None or not actor.manages(found[3].path):
        raise VisitNotFound()
    visit, _pairing, household, station = found
    if visit.wish_id is not None:
        raise VisitWishExists(details={"wish_id": visit.wish_id})
    point = household.exact_point
    if point is None or not household.full_address or not household.phone:
        raise HouseholdNotLocated()
    seen = households.load(session, household.id)
    assert seen is not None
    programme = session.scalar(
        select(Programme.code).where(
            Programme.code == PAIRS_PROGRAMME, Programme.is_active.is_(True)
        )
    )
    start = body.wanted_start_at or now + timedelta(days=1)
    end = body.wanted_end_at or start + timedelta(days=7)
    wish = create_wish(
        session=session,
        body=WishCreate(
            category_code=body.category_code or seen.service_category or FALLBACK_CATEGORY,
            title=body.title,
            description=body.description if body.description is not None else visit.needs or "",
            skill_codes=body.skill_codes,
            coarse_address=household.coarse_address,
            full_address=household.full_address,
            contact_phone=household.phone,
            lat=point[0],
            lng=point[1],
            wanted_start_at=start,
            wanted_end_at=end,
            urgency=body.urgency,
            programme_code=programme,
            station_id=station.id,
            on_behalf_of=OnBehalfOf(
                phone=household.phone,
                name=household.head_name,
                consent=ProxyConsent(method=body.consent.method, version=body.consent.version),
            ),
        ),
        actor=actor,
    )
    linked = session.execute(
        update(PairingVisit)
        .where(PairingVisit.id == visit.id, PairingVisit.wish_id.is_(None))
        .values(wish_id=wish.id),
        execution_options={"synchronize_session": False},
    )
    if linked.rowcount != 1:  # type: ignore[attr-defined]
        raise VisitWishExists()
    session.refresh(visit)
    return wish
