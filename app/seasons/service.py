"""四季红: which season a day belongs to, each season's category affinities, the year view,
and the admin edits of both. The calendar is data (season_periods, season_affinities) with
defaults from the migrations; the festivals are computed (see `festivals.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Category, SeasonAffinity, SeasonPeriod, SeasonTheme
from app.seasons.errors import (
    AffinityWeightInvalid,
    SeasonNotFound,
    SeasonPeriodInvalid,
    SeasonPeriodsOverlap,
    UnknownCategory,
)
from app.seasons.festivals import Festival, check_year, festivals
from app.seasons.monthdays import DateRange, Period, code_on, run_around, runs

# ---------------------------------------------------------------- reading the calendar


def _periods(session: Session, *, active_only: bool = True) -> list[tuple[str, Period]]:
    """Every stored period as (season code, period), in order of precedence: the season's
    sort order, then its code. Rows that are not real month-days (the table only checks their
    length) are skipped rather than allowed to break every read."""
    query = (
        select(SeasonPeriod.season_code, SeasonPeriod.start_md, SeasonPeriod.end_md)
        .join(SeasonTheme, SeasonTheme.code == SeasonPeriod.season_code)
        .order_by(SeasonTheme.sort_order, SeasonTheme.code, SeasonPeriod.start_md, SeasonPeriod.id)
    )
    if active_only:
        query = query.where(SeasonTheme.is_active.is_(True))
    found = [(code, Period(start, end)) for code, start, end in session.execute(query)]
    return [(code, period) for code, period in found if period.valid]


def _season(session: Session, code: str | None) -> SeasonTheme | None:
    return session.get(SeasonTheme, code) if code is not None else None


def season_on(*, session: Session, day: date) -> SeasonTheme | None:
    """The active season whose period contains `day`, or None."""
    return _season(session, code_on(_periods(session), day))


def local_date(now: datetime | None = None) -> date:
    """The city's date at `now` (default: the clock's now). A naive `now` is taken as UTC,
    the clock's convention."""
    now = now or clock.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return clock.local_day(now)


def current_season(*, session: Session, now: datetime | None = None) -> SeasonTheme | None:
    """The season of the city's local date."""
    return season_on(session=session, day=local_date(now))


def affinities(*, session: Session, season_code: str) -> dict[str, float]:
    """category code → how well it fits the season's theme (0..1); unset categories are absent."""
    rows = session.execute(
        select(SeasonAffinity.category_code, SeasonAffinity.weight)
        .where(SeasonAffinity.season_code == season_code)
        .order_by(SeasonAffinity.weight.desc(), SeasonAffinity.category_code)
    )
    return {code: float(weight) for code, weight in rows}


def affinity(*, session: Session, season_code: str, category_code: str) -> float:
    """How well the category fits the season's theme, 0 when unset."""
    weight = session.scalar(
        select(SeasonAffinity.weight).where(
            SeasonAffinity.season_code == season_code,
            SeasonAffinity.category_code == category_code,
        )
    )
    return float(weight) if weight is not None else 0.0


@dataclass(frozen=True)
class CurrentSeason:
    local_date: date
    season: SeasonTheme | None
    period: DateRange | None  # the run of days around today, across the year's end if it wraps
    affinities: dict[str, float]

    @property
    def days_left(self) -> int | None:
        """Days left in the current period, today included (1 on its last day)."""
        if self.period is None:
            return None
        return (self.period.end_date - self.local_date).days + 1


def current(*, session: Session, now: datetime | None = None) -> CurrentSeason:
    today = local_date(now)
    periods = _periods(session)
    season = _season(session, code_on(periods, today))
    return CurrentSeason(
        local_date=today,
        season=season,
        period=run_around(periods, today),
        affinities=affinities(session=session, season_code=season.code) if season else {},
    )


# ---------------------------------------------------------------- the year view


@dataclass
class SeasonYear:
    season: SeasonTheme
    ranges: list[DateRange] = field(default_factory=list)
    festivals: list[Festival] = field(default_factory=list)

    @property
    def days(self) -> int:
        return sum(r.days for r in self.ranges)


@dataclass(frozen=True)
class YearView:
    year: int
    seasons: list[SeasonYear]
    unassigned: list[DateRange]  # days no active season covers
    festivals: list[tuple[Festival, str | None]]  # every festival, with its season's code


def year_view(*, session: Session, year: int) -> YearView:
    """Each active season's date ranges in `year` (a period that wraps the year's end gives a
    range at each end) and the festivals in them; every festival; the days of no season."""
    check_year(year)
    periods = _periods(session)
    themes = session.scalars(
        select(SeasonTheme)
        .where(SeasonTheme.is_active.is_(True))
        .order_by(SeasonTheme.sort_order, SeasonTheme.code)
    )
    by_code = {theme.code: SeasonYear(theme) for theme in themes}
    unassigned: list[DateRange] = []
    for code, days in runs(periods, year):
        if code is None:
            unassigned.append(days)
        else:
            by_code[code].ranges.append(days)
    placed: list[tuple[Festival, str | None]] = []
    for festival in festivals(year=year):
        code = code_on(periods, festival.gregorian_date)
        placed.append((festival, code))
        if code is not None:
            by_code[code].festivals.append(festival)
    return YearView(
        year=year, seasons=list(by_code.values()), unassigned=unassigned, festivals=placed
    )


def festivals_with_seasons(
    *, session: Session, years: Sequence[int]
) -> list[tuple[Festival, str | None]]:
    """The festivals of these years, each with the code of the active season it falls in."""
    for year in years:
        check_year(year)
    periods = _periods(session)
    return [
        (festival, code_on(periods, festival.gregorian_date))
        for year in years
        for festival in festivals(year=year)
    ]


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SeasonConfig:
    season: SeasonTheme
    periods: list[Period]
    affinities: dict[str, float]


def season_config(*, session: Session, season: SeasonTheme) -> SeasonConfig:
    periods = session.execute(
        select(SeasonPeriod.start_md, SeasonPeriod.end_md)
        .where(SeasonPeriod.season_code == season.code)
        .order_by(SeasonPeriod.start_md, SeasonPeriod.id)
    )
    return SeasonConfig(
        season=season,
        periods=[Period(start, end) for start, end in periods],
        affinities=affinities(session=session, season_code=season.code),
    )


def season_configs(*, session: Session, include_inactive: bool = False) -> list[SeasonConfig]:
    query = select(SeasonTheme).order_by(SeasonTheme.sort_order, SeasonTheme.code)
    if not include_inactive:
        query = query.where(SeasonTheme.is_active.is_(True))
    return [season_config(session=session, season=s) for s in session.scalars(query)]


def _locked_season(session: Session, code: str) -> SeasonTheme:
    season = session.get(SeasonTheme, code, with_for_update=True)
    if season is None:
        raise SeasonNotFound(details={"season_code": code})
    return season


def _describe(period: Period) -> dict[str, str]:
    return {"start_md": period.start_md, "end_md": period.end_md}


def replace_periods(
    *, session: Session, season_code: str, periods: Sequence[Period]
) -> SeasonConfig:
    """Replace the season's periods. Every month-day must exist (02-29 does, 02-30 does not),
    and no day may belong to two periods: neither two of these, nor one of these and one of
    another season's, active or not (an inactive season keeps its periods and may come back;
    clear them first to hand its days to another season). An empty list leaves the season
    without days."""
    for index, period in enumerate(periods):
        if not period.valid:
            raise SeasonPeriodInvalid(details={"index": index, **_describe(period)})
    # Edits of any season's periods take the season rows in one order: two admins cannot both
    # check against the old calendar and then write overlapping periods (on SQLite the write
    # transaction's BEGIN IMMEDIATE already serialises them).
    session.execute(select(SeasonTheme.code).order_by(SeasonTheme.code).with_for_update()).all()
    season = _locked_season(session, season_code)
    for index, period in enumerate(periods):
        for other in periods[:index]:
            if period.days() & other.days():
                raise SeasonPeriodsOverlap(
                    details={
                        "period": _describe(period),
                        "season_code": season_code,
                        "overlaps": _describe(other),
                    }
                )
    others = [
        (code, stored)
        for code, stored in _periods(session, active_only=False)
        if code != season_code
    ]
    for period in periods:
        for code, stored in others:
            if period.days() & stored.days():
                raise SeasonPeriodsOverlap(
                    details={
                        "period": _describe(period),
                        "season_code": code,
                        "overlaps": _describe(stored),
                    }
                )
    session.execute(delete(SeasonPeriod).where(SeasonPeriod.season_code == season_code))
    session.add_all(
        SeasonPeriod(season_code=season_code, start_md=p.start_md, end_md=p.end_md) for p in periods
    )
    session.flush()
    return season_config(session=session, season=season)


def set_affinities(
    *, session: Session, season_code: str, weights: Mapping[str, float]
) -> SeasonConfig:
    """Replace the season's category affinities: weights 0..1 for active categories."""
    wrong = {
        code: weight
        for code, weight in weights.items()
        if not (math.isfinite(weight) and 0 <= weight <= 1)
    }
    if wrong:
        raise AffinityWeightInvalid(details={"weights": wrong})
    season = _locked_season(session, season_code)
    known = set(
        session.scalars(
            select(Category.code).where(
                Category.code.in_(list(weights)), Category.is_active.is_(True)
            )
        )
    )
    unknown = sorted(set(weights) - known)
    if unknown:
        raise UnknownCategory(details={"category_codes": unknown})
    session.execute(delete(SeasonAffinity).where(SeasonAffinity.season_code == season_code))
    session.add_all(
        SeasonAffinity(season_code=season_code, category_code=code, weight=float(weight))
        for code, weight in weights.items()
    )
    session.flush()
    return season_config(session=session, season=season)
