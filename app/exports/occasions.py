"""The occasions a ledger lists: wishes, activity sessions and pairing visits served in a unit's
subtree over a window, with their service records, titles and credited minutes.

- An occasion is served when one of its service records was checked out (credited or
  awaiting confirmation); it belongs to the window its first such check-in falls in, and to the
  subtree of its wish's station, its activity's publishing unit or its pairing's station.
- A wish's minutes are its service entries in the hours ledger (a correction copies the wish);
  a session's or a visit's are those of its records: the entry that credited each record and
  every correction down the chain from it (a reversal or a replacement names the entry it
  corrects, not the record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.attendance.state import SERVED
from app.models import (
    Activity,
    ActivitySession,
    Attendance,
    Category,
    HoursEntry,
    Household,
    OrgUnit,
    Pairing,
    PairingVisit,
    User,
    Volunteer,
    Wish,
)
from app.models.enums import AttendanceStatus
from app.org_units.service import in_subtree

WISH, ACTIVITY, VISIT = "wish", "activity", "visit"
KINDS = (WISH, ACTIVITY, VISIT)


@dataclass
class Service:
    kind: str  # wish | activity (a session) | visit
    key: int  # the wish's, the session's or the visit's id
    first_in: datetime
    volunteers: list[tuple[int, str]]  # (volunteer id, name) in check-in order
    waiting: int  # checked out, not yet confirmed
    records: list[int]  # the service records (attendance ids)


@dataclass(frozen=True)
class Details:
    title: str
    category: str | None
    unit: str
    rating: int | None


def _occasion(kind: str) -> InstrumentedAttribute[int | None]:
    return {
        WISH: Attendance.wish_id,
        ACTIVITY: Attendance.activity_session_id,
        VISIT: Attendance.visit_id,
    }[kind]


def _touched(
    kind: str, unit: OrgUnit, starts_at: datetime, ends_at: datetime
) -> Select[int | None]:
    """The occasions of a kind in the subtree with a served check-in in the window."""
    column = _occasion(kind)
    query = select(column)
    if kind == WISH:
        query = query.join(Wish, Wish.id == Attendance.wish_id).join(
            OrgUnit, OrgUnit.id == Wish.station_id
        )
    elif kind == ACTIVITY:
        query = (
            query.join(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
            .join(Activity, Activity.id == ActivitySession.activity_id)
            .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        )
    else:
        query = (
            query.join(PairingVisit, PairingVisit.id == Attendance.visit_id)
            .join(Pairing, Pairing.id == PairingVisit.pairing_id)
            .join(OrgUnit, OrgUnit.id == Pairing.station_id)
        )
    return query.where(
        in_subtree(OrgUnit.path, unit.path),
        Attendance.status.in_(SERVED),
        Attendance.checked_in_at >= starts_at,
        Attendance.checked_in_at < ends_at,
    )


def served(
    session: Session, unit: OrgUnit, starts_at: datetime, ends_at: datetime
) -> list[Service]:
    """The occasions served in the subtree whose first served check-in lies in the window."""
    out: list[Service] = []
    for kind in (WISH, ACTIVITY, VISIT):
        column = _occasion(kind)
        rows = session.execute(
            select(
                column,
                Attendance.id,
                Attendance.volunteer_id,
                Attendance.checked_in_at,
                Attendance.status,
                User.name,
            )
            .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(
                column.in_(_touched(kind, unit, starts_at, ends_at)), Attendance.status.in_(SERVED)
            )
            .order_by(column, Attendance.checked_in_at, Attendance.id)
        ).all()
        found: dict[int, Service] = {}
        for key, record, volunteer_id, checked_in_at, status, name in rows:
            if checked_in_at is None or key is None:
                continue
            service = found.setdefault(key, Service(kind, key, checked_in_at, [], 0, []))
            service.first_in = min(service.first_in, checked_in_at)
            service.volunteers.append((volunteer_id, name))
            service.waiting += status == AttendanceStatus.CHECKED_OUT
            service.records.append(record)
        # A service begun before the window belongs to the window it began in.
        out += [s for s in found.values() if s.first_in >= starts_at]
    return out


def wish_minutes(session: Session, ids: list[int]) -> dict[int, int]:
    """A wish's service minutes: its entries, corrections included (they copy the wish)."""
    minutes: dict[int, int] = {}
    for chunk in chunks(ids):
        for wish_id, total in session.execute(
            select(HoursEntry.wish_id, func.coalesce(func.sum(HoursEntry.minutes), 0))
            .where(HoursEntry.wish_id.in_(chunk), HoursEntry.category == "service")
            .group_by(HoursEntry.wish_id)
        ).all():
            if wish_id is not None:
                minutes[wish_id] = int(total)
    return minutes


def record_minutes(session: Session, records: list[int]) -> dict[int, int]:
    """Each service record's service minutes: the entry that credited it and every correction
    down the chain from it (a reversal or replacement names the entry it corrects, not the
    record)."""
    minutes: dict[int, int] = {}
    for chunk in chunks(records):
        chain = (
            select(HoursEntry.id.label("id"), HoursEntry.attendance_id.label("record"))
            .where(HoursEntry.attendance_id.in_(chunk))
            .cte("chain", recursive=True)
        )
        chain = chain.union_all(
            select(HoursEntry.id, chain.c.record).join(
                chain,
                or_(HoursEntry.reverses_id == chain.c.id, HoursEntry.replaces_id == chain.c.id),
            )
        )
        for record, total in session.execute(
            select(chain.c.record, func.coalesce(func.sum(HoursEntry.minutes), 0))
            .join(HoursEntry, HoursEntry.id == chain.c.id)
            .where(HoursEntry.category == "service")
            .group_by(chain.c.record)
        ).all():
            minutes[int(record)] = int(total)
    return minutes


def details_of(session: Session, kind: str, ids: list[int]) -> dict[int, Details]:
    out: dict[int, Details] = {}
    for chunk in chunks(ids):
        if kind == WISH:
            for key, title, category, station, rating in session.execute(
                select(Wish.id, Wish.title, Category.name, OrgUnit.name, Wish.rating)
                .join(Category, Category.code == Wish.category_code)
                .join(OrgUnit, OrgUnit.id == Wish.station_id)
                .where(Wish.id.in_(chunk))
            ).all():
                out[key] = Details(title, category, station, rating)
        elif kind == ACTIVITY:
            for key, title, category, publisher in session.execute(
                select(ActivitySession.id, Activity.title, Category.name, OrgUnit.name)
                .join(Activity, Activity.id == ActivitySession.activity_id)
                .join(OrgUnit, OrgUnit.id == Activity.unit_id)
                .outerjoin(Category, Category.code == Activity.category_code)
                .where(ActivitySession.id.in_(chunk))
            ).all():
                out[key] = Details(title, category, publisher, None)
        else:
            for key, address, station in session.execute(
                select(PairingVisit.id, Household.coarse_address, OrgUnit.name)
                .join(Pairing, Pairing.id == PairingVisit.pairing_id)
                .join(Household, Household.id == Pairing.household_id)
                .join(OrgUnit, OrgUnit.id == Pairing.station_id)
                .where(PairingVisit.id.in_(chunk))
            ).all():
                out[key] = Details(f"结对入户走访（{address}）", None, station, None)
    return out


def chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
