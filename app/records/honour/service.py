"""Honour lists (好人榜 / 爱心榜): a unit's volunteers ranked over a month, a 四季红 season or a
year, by service hours, by the requesters' ratings, or by hours in the season's own theme.

Everything is one aggregate query over the ledger (or the ratings), scoped to the volunteers
whose home station lies in the unit's subtree, so a list can be reproduced from the records.
Ranks are standard competition ranks (1, 2, 2, 4) computed by the database over the whole
scope, so a row's rank does not depend on the page size.

- hours: the sum of service entries whose `started_at` lies in the period. A reversal copies
  its original's `started_at`, so it lands in the same period and cancels it there. The hours
  count wherever they were recorded: the list honours the unit's own volunteers.
- rating: the average requester rating (评单) of wishes rated in the period that the volunteer
  served: as the assignee, or as a team member who checked out (an attendance that was never
  completed, or was rejected, earns no share of the rating). A volunteer needs `min_ratings`
  ratings to be listed; ties are broken by the number of ratings, then by hours in the period.
- season_theme: hours in the season containing the date, only on wishes whose category fits
  the season's theme (affinity weight above 0); the period is always that season.

Suspended volunteers are left off: a list is published, and a suspension is a coordinator's
decision that the volunteer should not currently be put forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import clock
from app.attendance.state import SERVED
from app.errors import BadRequest, NotFound
from app.models import Attendance, HoursEntry, OrgUnit, SeasonTheme, User, Volunteer, Wish
from app.models.enums import VolunteerStatus
from app.org_units.service import in_subtree
from app.seasons import service as seasons

MIN_YEAR, MAX_YEAR = 2000, 2200  # the range `Instant` accepts elsewhere in the API
DEFAULT_MIN_RATINGS = 3
# Attendance statuses of a team member who actually served (checked out, credited or not yet).


class HonourBy(StrEnum):
    HOURS = "hours"  # 服务时长
    RATING = "rating"  # 群众评价
    SEASON_THEME = "season_theme"  # 当季主题服务时长


class HonourPeriod(StrEnum):
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"


# ---------------------------------------------------------------- errors


class HonourDateOutOfRange(BadRequest):
    code = "HONOUR_DATE_OUT_OF_RANGE"
    message = f"日期超出范围，应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间"


class HonourThemeNeedsSeason(BadRequest):
    code = "HONOUR_THEME_NEEDS_SEASON"
    message = "当季主题榜只按四季红季节统计，period 只能为 season 或不填"


class NoSeasonOnDate(NotFound):
    code = "NO_SEASON_ON_DATE"
    message = "该日期不属于任何四季红季节"


# ---------------------------------------------------------------- the period


@dataclass(frozen=True)
class Window:
    period: HonourPeriod
    start_date: date  # inclusive, in the city's calendar
    end_date: date  # inclusive
    season: SeasonTheme | None
    theme_categories: tuple[str, ...]  # the season's affine categories (season periods only)

    @property
    def starts_at(self) -> datetime:
        return _local_midnight(self.start_date)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period (half-open)."""
        return _local_midnight(self.end_date + timedelta(days=1))


def _local_midnight(day: date) -> datetime:
    return clock.local_at(day, time(0)).astimezone(UTC)


def window(*, session: Session, period: HonourPeriod, day: date) -> Window:
    """The calendar month or year containing `day`, or the 四季红 season containing it (its own
    run of days, across the year's end if the season wraps)."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise HonourDateOutOfRange(details={"date": day.isoformat()})
    if period == HonourPeriod.MONTH:
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Window(period, start, following - timedelta(days=1), None, ())
    if period == HonourPeriod.YEAR:
        return Window(period, date(day.year, 1, 1), date(day.year, 12, 31), None, ())
    # `current` reads the season of the city's date at a moment: noon of `day` is that date.
    noon = clock.local_at(day, time(12))
    found = seasons.current(session=session, now=noon)
    if found.season is None or found.period is None:
        raise NoSeasonOnDate(details={"date": day.isoformat()})
    affine = tuple(sorted(code for code, weight in found.affinities.items() if weight > 0))
    return Window(period, found.period.start_date, found.period.end_date, found.season, affine)


def resolve_period(by: HonourBy, period: HonourPeriod | None) -> HonourPeriod:
    """The period a list covers: the season for the theme list (anything else is refused),
    else the one asked for, the month by default."""
    if by == HonourBy.SEASON_THEME:
        if period not in (None, HonourPeriod.SEASON):
            raise HonourThemeNeedsSeason(details={"period": period})
        return HonourPeriod.SEASON
    return period or HonourPeriod.MONTH


# ---------------------------------------------------------------- the lists


@dataclass(frozen=True)
class HonourRow:
    rank: int
    volunteer_id: int
    name: str
    station_id: int
    station_name: str
    minutes: int
    average_rating: float | None = None
    rating_count: int | None = None


def _scope(unit: OrgUnit) -> list[ColumnElement[bool]]:
    return [in_subtree(OrgUnit.path, unit.path), Volunteer.status == VolunteerStatus.ACTIVE]


def _in_window(column: InstrumentedAttribute[Any], w: Window) -> ColumnElement[bool]:
    return and_(column >= w.starts_at, column < w.ends_at)


def by_hours(
    *,
    session: Session,
    unit: OrgUnit,
    window: Window,
    limit: int,
    categories: tuple[str, ...] | None = None,
    only: int | None = None,
) -> list[HonourRow]:
    """Service minutes started in the window, per volunteer of the unit's subtree; only on
    these wish categories when `categories` is given. With `only`, that volunteer's row alone
    (ranked among everyone), if they are on the list."""
    if categories is not None and not categories:
        return []
    minutes = func.sum(HoursEntry.minutes)
    query = (
        select(
            func.rank().over(order_by=minutes.desc()).label("rank"),
            HoursEntry.volunteer_id,
            User.name.label("volunteer_name"),
            OrgUnit.id.label("station_id"),
            OrgUnit.name.label("station_name"),
            minutes.label("minutes"),
        )
        .join(Volunteer, Volunteer.id == HoursEntry.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
        .where(
            HoursEntry.category == "service",
            _in_window(HoursEntry.started_at, window),
            *_scope(unit),
        )
        .group_by(HoursEntry.volunteer_id, User.name, OrgUnit.id, OrgUnit.name)
        .having(minutes > 0)
    )
    if categories is not None:
        query = query.where(HoursEntry.category_code.in_(categories))
    ranked = query.subquery("ranked")
    picked = select(ranked)
    if only is not None:
        picked = picked.where(ranked.c.volunteer_id == only)
    picked = picked.order_by(ranked.c.minutes.desc(), ranked.c.volunteer_id).limit(limit)
    return [
        HonourRow(
            rank=int(rank),
            volunteer_id=volunteer_id,
            name=name,
            station_id=station_id,
            station_name=station_name,
            minutes=int(total),
        )
        for rank, volunteer_id, name, station_id, station_name, total in session.execute(picked)
    ]


def by_rating(
    *,
    session: Session,
    unit: OrgUnit,
    window: Window,
    limit: int,
    min_ratings: int,
    only: int | None = None,
) -> list[HonourRow]:
    """Average rating of the wishes rated in the window that each volunteer served (with
    `only`, that volunteer's row alone, ranked among everyone)."""
    rated = and_(Wish.rating.is_not(None), _in_window(Wish.rated_at, window))
    # (wish, volunteer) pairs: the assignee, and team members who served. UNION removes the
    # assignee's own attendance, so a wish counts once per volunteer.
    served = union(
        select(Wish.id.label("wish_id"), Wish.assignee_id.label("volunteer_id")).where(
            rated, Wish.assignee_id.is_not(None)
        ),
        select(Attendance.wish_id, Attendance.volunteer_id)
        .join(Wish, Wish.id == Attendance.wish_id)
        .where(rated, Attendance.status.in_(SERVED)),
    ).subquery("served")
    hours = (
        select(HoursEntry.volunteer_id, func.sum(HoursEntry.minutes).label("minutes"))
        .where(HoursEntry.category == "service", _in_window(HoursEntry.started_at, window))
        .group_by(HoursEntry.volunteer_id)
        .subquery("hours")
    )
    average = func.avg(cast(Wish.rating, Float))
    count = func.count(Wish.id)
    minutes = func.coalesce(hours.c.minutes, 0)
    query = (
        select(
            func.rank().over(order_by=[average.desc(), count.desc(), minutes.desc()]).label("rank"),
            served.c.volunteer_id,
            User.name.label("volunteer_name"),
            OrgUnit.id.label("station_id"),
            OrgUnit.name.label("station_name"),
            minutes.label("minutes"),
            average.label("average_rating"),
            count.label("rating_count"),
        )
        .select_from(served)
        .join(Wish, Wish.id == served.c.wish_id)
        .join(Volunteer, Volunteer.id == served.c.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
        .outerjoin(hours, hours.c.volunteer_id == served.c.volunteer_id)
        .where(*_scope(unit))
        .group_by(served.c.volunteer_id, User.name, OrgUnit.id, OrgUnit.name, hours.c.minutes)
        .having(count >= min_ratings)
    )
    ranked = query.subquery("ranked")
    picked = select(ranked)
    if only is not None:
        picked = picked.where(ranked.c.volunteer_id == only)
    picked = picked.order_by(
        ranked.c.average_rating.desc(),
        ranked.c.rating_count.desc(),
        ranked.c.minutes.desc(),
        ranked.c.volunteer_id,
    ).limit(limit)
    return [
        HonourRow(
            rank=int(row.rank),
            volunteer_id=row.volunteer_id,
            name=row.volunteer_name,
            station_id=row.station_id,
            station_name=row.station_name,
            minutes=int(row.minutes),
            average_rating=float(row.average_rating),
            rating_count=int(row.rating_count),
        )
        for row in session.execute(picked)
    ]


def honour_list(
    *,
    session: Session,
    unit: OrgUnit,
    by: HonourBy,
    window: Window,
    limit: int,
    min_ratings: int = DEFAULT_MIN_RATINGS,
    only: int | None = None,
) -> list[HonourRow]:
    if by == HonourBy.RATING:
        return by_rating(session=session, unit=unit, window=window, limit=limit,
                         min_ratings=min_ratings, only=only)  # fmt: skip
    categories = window.theme_categories if by == HonourBy.SEASON_THEME else None
    return by_hours(session=session, unit=unit, window=window, limit=limit,
                    categories=categories, only=only)  # fmt: skip
