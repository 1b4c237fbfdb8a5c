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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.exports.errors import LedgerDateOutOfRange, LedgerPeriodInverted, LedgerPeriodTooLong
from app.exports.occasions import (
    ACTIVITY,
    VISIT,
    WISH,
    Service,
    chunks,
    details_of,
    record_minutes,
    served,
    wish_minutes,
)
from app.exports.sheets import Cell, Column, ColumnKind, Sheet
from app.models import (
    HoursEntry,
    OrgUnit,
    User,
    Volunteer,
)
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


def service_sheet(session: Session, unit: OrgUnit, when: Period) -> tuple[Sheet, int]:
    """The sheet and the minutes it credits in all."""
    services = served(session, unit, when.starts_at, when.ends_at)
    by_wish = wish_minutes(session, [s.key for s in services if s.kind == WISH])
    by_record = record_minutes(session, [r for s in services if s.kind != WISH for r in s.records])
    details = {
        kind: details_of(session, kind, [s.key for s in services if s.kind == kind])
        for kind in (WISH, ACTIVITY, VISIT)
    }
    order = {kind: n for n, kind in enumerate((WISH, ACTIVITY, VISIT))}

    def minutes(service: Service) -> int:
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
    for chunk in chunks(list(by_volunteer)):
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
