"""The station's activity ledger (台账) for a unit's subtree and a period of local dates.

Three sheets:
- 服务台账: one row per wish served at a station of the subtree whose service began in the
  period (the first check-in of a service record that was checked out: credited or awaiting
  confirmation), with the volunteers' names masked, the hours credited to it (the sum of its
  service entries in the hours ledger, corrections included) and the resident's rating.
- 志愿者时长: per volunteer, the service and training minutes of the hours ledger recorded by
  units of the subtree with a start in the period: sums over `hours_entries`, as every total is.
- 汇总: the figures of the two sheets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.attendance.state import SERVED
from app.exports.errors import LedgerDateOutOfRange, LedgerPeriodInverted, LedgerPeriodTooLong
from app.exports.sheets import Cell, Column, ColumnKind, Sheet
from app.models import Attendance, Category, HoursEntry, OrgUnit, User, Volunteer, Wish
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
    Column("实践站"),
    Column("心愿编号", ColumnKind.INTEGER),
    Column("心愿", width=30),
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
    wish_id: int
    first_in: datetime
    volunteers: list[tuple[int, str]]  # (volunteer id, name) in check-in order
    waiting: int  # checked out, not yet confirmed


def _services(session: Session, unit: OrgUnit, when: Period) -> dict[int, _Service]:
    """The wishes served in the subtree whose first served check-in lies in the period."""
    in_tree = in_subtree(OrgUnit.path, unit.path)
    touched = (
        select(Attendance.wish_id)
        .join(Wish, Wish.id == Attendance.wish_id)
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(
            in_tree,
            Attendance.status.in_(SERVED),
            Attendance.checked_in_at >= when.starts_at,
            Attendance.checked_in_at < when.ends_at,
        )
    )
    rows = session.execute(
        select(
            Attendance.wish_id,
            Attendance.volunteer_id,
            Attendance.checked_in_at,
            Attendance.status,
            User.name,
        )
        .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .where(Attendance.wish_id.in_(touched), Attendance.status.in_(SERVED))
        .order_by(Attendance.wish_id, Attendance.checked_in_at, Attendance.id)
    ).all()
    out: dict[int, _Service] = {}
    for wish_id, volunteer_id, checked_in_at, status, name in rows:
        if checked_in_at is None or wish_id is None:
            continue
        service = out.setdefault(wish_id, _Service(wish_id, checked_in_at, [], 0))
        service.first_in = min(service.first_in, checked_in_at)
        service.volunteers.append((volunteer_id, name))
        service.waiting += status == AttendanceStatus.CHECKED_OUT
    # A service begun before the period belongs to the period it began in.
    return {k: s for k, s in out.items() if s.first_in >= when.starts_at}


def service_sheet(session: Session, unit: OrgUnit, when: Period) -> tuple[Sheet, int]:
    """The sheet and the minutes it credits in all."""
    services = _services(session, unit, when)
    ids = list(services)
    minutes: dict[int, int] = defaultdict(int)
    details: dict[int, tuple[str, str, str, int | None]] = {}
    for chunk in _chunks(ids):
        for wish_id, total in session.execute(
            select(HoursEntry.wish_id, func.coalesce(func.sum(HoursEntry.minutes), 0))
            .where(HoursEntry.wish_id.in_(chunk), HoursEntry.category == "service")
            .group_by(HoursEntry.wish_id)
        ).all():
            if wish_id is not None:
                minutes[wish_id] = int(total)
        for wish_id, title, category, station, rating in session.execute(
            select(Wish.id, Wish.title, Category.name, OrgUnit.name, Wish.rating)
            .join(Category, Category.code == Wish.category_code)
            .join(OrgUnit, OrgUnit.id == Wish.station_id)
            .where(Wish.id.in_(chunk))
        ).all():
            details[wish_id] = (title, category, station, rating)
    ordered = sorted(
        services.values(), key=lambda s: (s.first_in, details[s.wish_id][2], s.wish_id)
    )
    rows = []
    for service in ordered:
        title, category, station, rating = details[service.wish_id]
        # One service record per volunteer and wish: two 张* are two people.
        names = [shown_name(name) for _, name in service.volunteers]
        rows.append(
            (
                clock.local_day(service.first_in),
                station,
                service.wish_id,
                title,
                category,
                "、".join(names),
                len(service.volunteers),
                hours_of(minutes[service.wish_id]),
                service.waiting,
                rating,
            )
        )
    sheet = Sheet(
        SERVICE_SHEET,
        SERVICE_COLUMNS,
        rows,
        title=f"{unit.name} 服务台账 {when.label}",
        notes=(
            "服务日期为首位志愿者签到的日期（本市时间）；志愿者姓名已脱敏。",
            "计入时长为服务记录中确认计入的小时数（含更正）；待确认的服务尚未计入。",
        ),
    )
    return sheet, sum(minutes[k] for k in services)


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
    rated = [r[9] for r in services.rows if isinstance(r[9], int)]
    rows: list[tuple[Cell, Cell, Cell]] = [
        ("单位", unit.name, ""),
        ("时段", when.label, ""),
        ("服务次数", len(services.rows), "次"),
        ("服务人次", sum(_int(r[6]) for r in services.rows), "人次"),
        ("服务计入时长", hours_of(service_minutes), "小时"),
        ("待确认人次", sum(_int(r[8]) for r in services.rows), "人次"),
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
