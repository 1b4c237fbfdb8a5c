"""Statistics periods: the city's local dates a caller names, turned into a scope (half-open
instants) and cut into buckets (days, Monday weeks, months, 四季红 seasons, years).

Every period is checked here, once: `from` not after `to`, at most three years, day buckets at
most 366, dates in 2000–2099 (the festival calendar the seasons come from ends in 2099).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from app import clock
from app.models import OrgUnit
from app.seasons import service as seasons
from app.seasons.festivals import MAX_YEAR, MIN_YEAR
from app.stats.errors import DateOutOfRange, PeriodInverted, PeriodTooLong, TooManyDays
from app.stats.figures import Scope

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_YEARS = 3
MAX_DAY_BUCKETS = 366
UNASSIGNED = "未分季"


class BucketKind(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday
    MONTH = "month"
    SEASON = "season"  # the 四季红 season periods
    YEAR = "year"


@dataclass(frozen=True)
class Bucket:
    label: str  # 2026年11月23日 | 2026年第47周 | 2026年11月 | 2026年丰收季 | 2026年
    first: date
    last: date  # inclusive


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def too_long(first: date, last: date) -> bool:
    """Whether the period runs over MAX_YEARS (the statistics' and the ranking's bound)."""
    return last >= _years_later(first, MAX_YEARS)


def check_period(first: date, last: date, kind: BucketKind | None = None) -> None:
    """Refuse a period the statistics do not answer (see the module's docstring)."""
    for day in (first, last):
        if not EARLIEST <= day <= LATEST:
            raise DateOutOfRange(details={"date": day.isoformat()})
    if first > last:
        raise PeriodInverted(details={"from": first.isoformat(), "to": last.isoformat()})
    if too_long(first, last):
        raise PeriodTooLong(details={"from": first.isoformat(), "to": last.isoformat()})
    days = (last - first).days + 1
    if kind == BucketKind.DAY and days > MAX_DAY_BUCKETS:
        raise TooManyDays(details={"days": days, "max": MAX_DAY_BUCKETS})


def local_midnight(day: date) -> datetime:
    """The instant (UTC) the city's `day` begins."""
    return clock.local_at(day, time(0)).astimezone(UTC)


def scope_of(unit: OrgUnit, first: date, last: date) -> Scope:
    """The unit's subtree from the start of the local day `first` to the start of the day after
    `last` (the period is inclusive of `last`)."""
    check_period(first, last)
    return Scope(
        unit=unit,
        starts_at=local_midnight(first),
        ends_at=local_midnight(last + timedelta(days=1)),
    )


def default_period(today: date | None = None) -> tuple[date, date]:
    """The first day of the current local month to today."""
    today = today or clock.local_day(clock.now())
    return today.replace(day=1), today


def asked_period(first: date | None, last: date | None) -> tuple[date, date]:
    """The period a request asked for: without `to`, up to today; without `from`, from the
    first day of the month of `to` (unchecked: see `check_period`)."""
    default_first, today = default_period()
    last = last or today
    return first or (default_first if last == today else last.replace(day=1)), last


# ---------------------------------------------------------------- buckets


def buckets(kind: BucketKind, first: date, last: date, session: Session) -> list[Bucket]:
    """The period cut into buckets of `kind`, in order, clipped to [first, last]: together they
    cover every day of the period once."""
    check_period(first, last, kind)
    if kind == BucketKind.SEASON:
        return _season_buckets(session, first, last)
    out: list[Bucket] = []
    start = first
    while start <= last:
        end = min(_end_of(kind, start), last)
        out.append(Bucket(_label(kind, start), start, end))
        start = end + timedelta(days=1)
    return out


def _end_of(kind: BucketKind, day: date) -> date:
    """The last day of the calendar bucket of `kind` holding `day`."""
    if kind == BucketKind.DAY:
        return day
    if kind == BucketKind.WEEK:
        return day + timedelta(days=6 - day.weekday())
    if kind == BucketKind.MONTH:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return date(day.year, 12, 31)


def _label(kind: BucketKind, day: date) -> str:
    if kind == BucketKind.DAY:
        return f"{day.year}年{day.month}月{day.day}日"
    if kind == BucketKind.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}年第{week}周"
    if kind == BucketKind.MONTH:
        return f"{day.year}年{day.month}月"
    return f"{day.year}年"


def _season_buckets(session: Session, first: date, last: date) -> list[Bucket]:
    """The runs of the 四季红 calendar over the period: each run of days in one season is a
    bucket named by the year its run starts in (a season that wraps the year's end is one run);
    days of no season make buckets of their own (未分季)."""
    runs: list[tuple[str, date, date]] = []  # (name, first, last), in date order
    years = range(max(first.year - 1, MIN_YEAR), min(last.year + 1, MAX_YEAR) + 1)
    for year in years:
        view = seasons.year_view(session=session, year=year)
        found = [(s.season.name, r.start_date, r.end_date) for s in view.seasons for r in s.ranges]
        found += [(UNASSIGNED, r.start_date, r.end_date) for r in view.unassigned]
        for name, start, end in sorted(found, key=lambda run: run[1]):
            if runs and runs[-1][0] == name and runs[-1][2] + timedelta(days=1) == start:
                runs[-1] = (name, runs[-1][1], end)
            else:
                runs.append((name, start, end))
    return [
        Bucket(f"{start.year}年{name}", max(start, first), min(end, last))
        for name, start, end in runs
        if start <= last and end >= first
    ]
