"""The station's activity ledger (台账) for a unit's subtree and a period of local dates.

Three sheets:
- 服务台账: one row per occasion served in the subtree whose service began in the period (the
  first check-in of a service record that was checked out: credited or awaiting confirmation):
  a wish (of a station of the subtree), an activity's session (of an activity published by a
  unit of the subtree) or a pairing's visit (of a pairing of a station of the subtree), with its
  kind, title, the volunteers' names masked, the hours credited to it (the sum of its service
  entries in the hours ledger, corrections included: a wish's entries by the wish, which a
  correction copies; a session's or a visit's by its service records, followed through the
  corrections that reverse or replace them) and, for a wish, the resident's rating.
- 志愿者时长: per volunteer, the service and training minutes of the hours ledger recorded by
  units of the subtree with a start in the period: sums over `hours_entries`, as every total is.
- 汇总: the figures of the two sheets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.attendance.state import SERVED
from app.exports.errors import LedgerDateOutOfRange, LedgerPeriodInverted, LedgerPeriodTooLong
from app.exports.sheets import Cell, Column, ColumnKind, Sheet
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
from app.privacy.masking import shown_name
from app.schemas import hours_of

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
SERVICE_SHEET = "服务台账"
HOURS_SHEET = "志愿者时长"
SUMMARY_SHEET = "汇总"

SERVICE_COLUMNS = (
    Column("服务日期", ColumnKind.DATE),
    Column("单位"),
    Column("类型"),
    Column("编号", ColumnKind.INTEGER),
    Column("服务内容", width=30),
    Column("服务类别"),
    Column("服务志愿者", width=24),
    Column("服务人数", ColumnKind.INTEGER),
    Column("计入时长（小时）", ColumnKind.NUMBER),
    Column("待确认人数", ColumnKind.INTEGER),
    Column("群众评价（1–5）", ColumnKind.INTEGER),
)
HOURS_COLUMNS = (
    Column("志愿者编号", ColumnKind.INTEGER),
    Column("志愿者"),
    Column("所属实践站"),
    Column("服务时长（小时）", ColumnKind.NUMBER),
    Column("培训时长（小时）", ColumnKind.NUMBER),
)
SUMMARY_COLUMNS = (Column("项目", width=28), Column("数值"), Column("单位"))
# Where the service sheet's figures are, for the summary.
PEOPLE, WAITING, RATING = 7, 9, 10

WISH, ACTIVITY, VISIT = "wish", "activity", "visit"
KIND_LABELS = {WISH: "心愿", ACTIVITY: "活动", VISIT: "走访"}


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def starts_at(self) -> datetime:
        return _local_midnight(self.first)

    @property
    def ends_at(self) -> datetime:
        return _local_midnight(self.last + timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"


def _local_midnight(day: date) -> datetime:
    return clock.local_at(day, time(0)).astimezone(UTC)


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February into a common year
        return date(day.year + 1, 3, 1)


def period(first: date | None, last: date | None, today: date | None = None) -> Period:
    """The period asked for: by default the first of the current local month to today (or to
    the end of the month of `last`); refused when inverted, over a year, or out of range."""
    today = today or clock.local_day(clock.now())
    if first is None:
        first = (last or today).replace(day=1)
    if last is None:
        last = today if first <= today else first
    for day in (first, last):
        if not EARLIEST <= day <= LATEST:
            raise LedgerDateOutOfRange(details={"date": day.isoformat()})
    if first > last:
        raise LedgerPeriodInverted(details={"from": first.isoformat(), "to": last.isoformat()})
    if last >= _a_year_after(first):
        raise LedgerPeriodTooLong(details={"from": first.isoformat(), "to": last.isoformat()})
    return Period(first, last)


@dataclass
class _Service:
    kind: str  # wish | activity (a session) | visit
    key: int  # the wish's, the session's or the visit's id
    first_in: datetime
    volunteers: list[tuple[int, str]]  # (volunteer id, name) in check-in order
    waiting: int  # checked out, not yet confirmed
    records: list[int]  # the service records (attendance ids)


@dataclass(frozen=True)
class _Details:
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


def _touched(kind: str, unit: OrgUnit, when: Period) -> Select[int | None]:
    """The occasions of a kind in the subtree with a served check-in in the period."""
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
        Attendance.checked_in_at >= when.starts_at,
        Attendance.checked_in_at < when.ends_at,
    )


def _services(session: Session, unit: OrgUnit, when: Period) -> list[_Service]:
    """The occasions served in the subtree whose first served check-in lies in the period."""
    out: list[_Service] = []
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
            .where(column.in_(_touched(kind, unit, when)), Attendance.status.in_(SERVED))
            .order_by(column, Attendance.checked_in_at, Attendance.id)
        ).all()
        found: dict[int, _Service] = {}
        for key, record, volunteer_id, checked_in_at, status, name in rows:
            if checked_in_at is None or key is None:
                continue
            service = found.setdefault(key, _Service(kind, key, checked_in_at, [], 0, []))
            service.first_in = min(service.first_in, checked_in_at)
            service.volunteers.append((volunteer_id, name))
            service.waiting += status == AttendanceStatus.CHECKED_OUT
            service.records.append(record)
        # A service begun before the period belongs to the period it began in.
        out += [s for s in found.values() if s.first_in >= when.starts_at]
    return out


def _wish_minutes(session: Session, ids: list[int]) -> dict[int, int]:
    """A wish's service minutes: its entries, corrections included (they copy the wish)."""
    minutes: dict[int, int] = {}
    for chunk in _chunks(ids):
        for wish_id, total in session.execute(
            select(HoursEntry.wish_id, func.coalesce(func.sum(HoursEntry.minutes), 0))
            .where(HoursEntry.wish_id.in_(chunk), HoursEntry.category == "service")
            .group_by(HoursEntry.wish_id)
        ).all():
            if wish_id is not None:
                minutes[wish_id] = int(total)
    return minutes


def _record_minutes(session: Session, records: list[int]) -> dict[int, int]:
    """Each service record's service minutes: the entry that credited it and every correction
    down the chain from it (a reversal or replacement names the entry it corrects, not the
    record)."""
    minutes: dict[int, int] = {}
    for chunk in _chunks(records):
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


def _details(session: Session, kind: str, ids: list[int]) -> dict[int, _Details]:
    out: dict[int, _Details] = {}
    for chunk in _chunks(ids):
        if kind == WISH:
            for key, title, category, station, rating in session.execute(
                select(Wish.id, Wish.title, Category.name, OrgUnit.name, Wish.rating)
                .join(Category, Category.code == Wish.category_code)
                .join(OrgUnit, OrgUnit.id == Wish.station_id)
                .where(Wish.id.in_(chunk))
            ).all():
                out[key] = _Details(title, category, station, rating)
        elif kind == ACTIVITY:
            for key, title, category, publisher in session.execute(
                select(ActivitySession.id, Activity.title, Category.name, OrgUnit.name)
                .join(Activity, Activity.id == ActivitySession.activity_id)
                .join(OrgUnit, OrgUnit.id == Activity.unit_id)
                .outerjoin(Category, Category.code == Activity.category_code)
                .where(ActivitySession.id.in_(chunk))
            ).all():
                out[key] = _Details(title, category, publisher, None)
        else:
            for key, address, station in session.execute(
                select(PairingVisit.id, Household.coarse_address, OrgUnit.name)
                .join(Pairing, Pairing.id == PairingVisit.pairing_id)
                .join(Household, Household.id == Pairing.household_id)
                .join(OrgUnit, OrgUnit.id == Pairing.station_id)
                .where(PairingVisit.id.in_(chunk))
            ).all():
                out[key] = _Details(f"结对入户走访（{address}）", None, station, None)
    return out


def service_sheet(session: Session, unit: OrgUnit, when: Period) -> tuple[Sheet, int]:
    """The sheet and the minutes it credits in all."""
    services = _services(session, unit, when)
    by_wish = _wish_minutes(session, [s.key for s in services if s.kind == WISH])
    by_record = _record_minutes(session, [r for s in services if s.kind != WISH for r in s.records])
    details = {
        kind: _details(session, kind, [s.key for s in services if s.kind == kind])
        for kind in (WISH, ACTIVITY, VISIT)
    }
    order = {kind: n for n, kind in enumerate((WISH, ACTIVITY, VISIT))}

    def minutes(service: _Service) -> int:
        if service.kind == WISH:
            return by_wish.get(service.key, 0)
        return sum(by_record.get(r, 0) for r in service.records)

    ordered = sorted(
        services,
        key=lambda s: (s.first_in, details[s.kind][s.key].unit, order[s.kind], s.key),
    )
    rows = []
    for service in ordered:
        shown = details[service.kind][service.key]
        # One service record per volunteer and occasion: two 张* are two people.
        names = [shown_name(name) for _, name in service.volunteers]
        rows.append(
            (
                clock.local_day(service.first_in),
                shown.unit,
                KIND_LABELS[service.kind],
                service.key,
                shown.title,
                shown.category,
                "、".join(names),
                len(service.volunteers),
                hours_of(minutes(service)),
                service.waiting,
                shown.rating,
            )
        )
    sheet = Sheet(
        SERVICE_SHEET,
        SERVICE_COLUMNS,
        rows,
        title=f"{unit.name} 服务台账 {when.label}",
        notes=(
            "每次服务一行：心愿（编号为心愿编号）、活动的一场（编号为场次编号）、结对走访"
            "（编号为走访编号）；单位为心愿和走访所在的实践站、发布活动的单位。",
            "服务日期为首位志愿者签到的日期（本市时间）；志愿者姓名已脱敏。",
            "计入时长为服务记录中确认计入的小时数（含更正）；待确认的服务尚未计入。",
        ),
    )
    return sheet, sum(minutes(s) for s in services)


def hours_sheet(session: Session, unit: OrgUnit, when: Period) -> tuple[Sheet, dict[str, int]]:
    """The sheet and its minutes in all per category (service, training)."""
    sums = session.execute(
        select(HoursEntry.volunteer_id, HoursEntry.category, func.sum(HoursEntry.minutes))
        .join(OrgUnit, OrgUnit.id == HoursEntry.unit_id)
        .where(
            in_subtree(OrgUnit.path, unit.path),
            HoursEntry.category.in_(("service", "training")),
            HoursEntry.started_at >= when.starts_at,
            HoursEntry.started_at < when.ends_at,
        )
        .group_by(HoursEntry.volunteer_id, HoursEntry.category)
    ).all()
    by_volunteer: dict[int, dict[str, int]] = defaultdict(dict)
    for volunteer_id, category, total in sums:
        by_volunteer[volunteer_id][category] = int(total or 0)
    people: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(list(by_volunteer)):
        for volunteer_id, name, station in session.execute(
            select(Volunteer.id, User.name, OrgUnit.name)
            .join(User, User.id == Volunteer.user_id)
            .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
            .where(Volunteer.id.in_(chunk))
        ).all():
            people[volunteer_id] = (shown_name(name), station)
    ordered = sorted(by_volunteer.items(), key=lambda kv: (-kv[1].get("service", 0), kv[0]))
    rows = [
        (
            volunteer_id,
            *people[volunteer_id],
            hours_of(totals.get("service", 0)),
            hours_of(totals.get("training", 0)),
        )
        for volunteer_id, totals in ordered
    ]
    sheet = Sheet(
        HOURS_SHEET,
        HOURS_COLUMNS,
        rows,
        title=f"{unit.name} 志愿者时长 {when.label}",
        notes=("时长为本单位及下级单位记录、开始时间在本时段内的服务记录之和（含更正与补录）。",),
    )
    totals = {c: sum(t.get(c, 0) for t in by_volunteer.values()) for c in ("service", "training")}
    return sheet, totals


def summary_sheet(
    unit: OrgUnit,
    when: Period,
    services: Sheet,
    service_minutes: int,
    hours: Sheet,
    volunteer_minutes: dict[str, int],
) -> Sheet:
    rated = [v for r in services.rows if isinstance(v := r[RATING], int)]
    rows: list[tuple[Cell, Cell, Cell]] = [
        ("单位", unit.name, ""),
        ("时段", when.label, ""),
        ("服务次数", len(services.rows), "次"),
        ("服务人次", sum(_int(r[PEOPLE]) for r in services.rows), "人次"),
        ("服务计入时长", hours_of(service_minutes), "小时"),
        ("待确认人次", sum(_int(r[WAITING]) for r in services.rows), "人次"),
        ("已评价服务", len(rated), "次"),
        ("平均评价", round(sum(rated) / len(rated), 2) if rated else None, "分"),
        ("记录时长的志愿者", len(hours.rows), "人"),
        ("志愿者服务时长合计", hours_of(volunteer_minutes["service"]), "小时"),
        ("志愿者培训时长合计", hours_of(volunteer_minutes["training"]), "小时"),
    ]
    return Sheet(SUMMARY_SHEET, SUMMARY_COLUMNS, rows, title=f"{unit.name} 台账汇总 {when.label}")


def _int(cell: object) -> int:
    return cell if isinstance(cell, int) else 0


def sheets(session: Session, unit: OrgUnit, when: Period) -> list[Sheet]:
    """The ledger's sheets: 服务台账, 志愿者时长, 汇总."""
    services, service_minutes = service_sheet(session, unit, when)
    hours, volunteer_minutes = hours_sheet(session, unit, when)
    summary = summary_sheet(unit, when, services, service_minutes, hours, volunteer_minutes)
    return [services, hours, summary]


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
