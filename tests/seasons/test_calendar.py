"""Which season a day belongs to: boundaries, periods that wrap the year, leap days, the
city's local date, and the year view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app import clock
from app.models import SeasonTheme
from app.seasons import service
from app.seasons.monthdays import DateRange, Period, code_on, is_valid_md, run_around, runs

WINTER = [("a", Period("12-01", "01-31")), ("b", Period("02-01", "02-28"))]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("01-01", True),
        ("02-29", True),
        ("12-31", True),
        ("02-30", False),
        ("04-31", False),
        ("13-01", False),
        ("00-10", False),
        ("1-01", False),
        ("０２-０１", False),  # full-width digits
        ("02/01", False),
    ],
)
def test_month_days(value: str, valid: bool) -> None:
    assert is_valid_md(value) is valid


@pytest.mark.parametrize(
    ("day", "code"),
    [
        ("2025-11-30", None),
        ("2025-12-01", "a"),
        ("2025-12-31", "a"),
        ("2026-01-01", "a"),
        ("2026-01-31", "a"),
        ("2026-02-01", "b"),
        ("2026-02-28", "b"),
        ("2026-03-01", None),
        ("2028-02-29", "b"),  # a leap day nobody names goes with 28 February
    ],
)
def test_wrapping_period_and_leap_day(day: str, code: str | None) -> None:
    assert code_on(WINTER, date.fromisoformat(day)) == code


def test_a_period_may_name_the_leap_day() -> None:
    periods = [("a", Period("01-01", "02-28")), ("leap", Period("02-29", "02-29"))]
    assert code_on(periods, date(2028, 2, 29)) == "leap"
    assert code_on(periods, date(2028, 2, 28)) == "a"
    assert code_on(periods, date(2027, 3, 1)) is None
    ends_on_leap_day = [("a", Period("02-01", "02-29"))]
    assert code_on(ends_on_leap_day, date(2027, 2, 28)) == "a"
    assert code_on(ends_on_leap_day, date(2027, 3, 1)) is None


def test_runs_split_a_wrapping_period_at_the_year_boundary() -> None:
    got = [
        (code, r.start_date.isoformat(), r.end_date.isoformat()) for code, r in runs(WINTER, 2028)
    ]
    assert got == [
        ("a", "2028-01-01", "2028-01-31"),
        ("b", "2028-02-01", "2028-02-29"),
        (None, "2028-03-01", "2028-11-30"),
        ("a", "2028-12-01", "2028-12-31"),
    ]


def test_run_around_crosses_the_year_end() -> None:
    assert run_around(WINTER, date(2025, 12, 15)) == DateRange(date(2025, 12, 1), date(2026, 1, 31))
    assert run_around(WINTER, date(2026, 1, 31)) == DateRange(date(2025, 12, 1), date(2026, 1, 31))
    assert run_around(WINTER, date(2026, 6, 1)) is None
    whole_year = [("a", Period("01-01", "12-31"))]
    around = run_around(whole_year, date(2026, 6, 1))
    assert around is not None and around.days == 2 * 366 + 1  # bounded, not endless


# ---------------------------------------------------------------- with the stored calendar

# The defaults of migration 0003.
DEFAULT_BOUNDARIES = [
    ("2026-01-01", "family"),
    ("2026-04-30", "family"),
    ("2026-05-01", "growth"),
    ("2026-08-31", "growth"),
    ("2026-09-01", "harvest"),
    ("2026-10-31", "harvest"),
    ("2026-11-01", "integrity"),
    ("2026-12-31", "integrity"),
    ("2028-02-29", "family"),
]


@pytest.mark.parametrize(("day", "code"), DEFAULT_BOUNDARIES)
def test_season_on_the_default_calendar(session: Session, day: str, code: str) -> None:
    season = service.season_on(session=session, day=date.fromisoformat(day))
    assert season is not None and season.code == code


def test_season_on_a_wrapping_period(session: Session) -> None:
    service.replace_periods(session=session, season_code="family", periods=[])
    service.replace_periods(
        session=session, season_code="integrity", periods=[Period("11-01", "02-15")]
    )
    for day, code in [
        ("2026-10-31", "harvest"),
        ("2026-11-01", "integrity"),
        ("2026-12-31", "integrity"),
        ("2027-01-01", "integrity"),
        ("2027-02-15", "integrity"),
        ("2027-02-16", None),
        ("2027-04-30", None),
        ("2027-05-01", "growth"),
    ]:
        season = service.season_on(session=session, day=date.fromisoformat(day))
        assert (season.code if season else None) == code, day


def test_inactive_seasons_are_ignored(session: Session) -> None:
    session.execute(update(SeasonTheme).where(SeasonTheme.code == "growth").values(is_active=False))
    assert service.season_on(session=session, day=date(2026, 6, 1)) is None
    view = service.year_view(session=session, year=2026)
    assert [s.season.code for s in view.seasons] == ["family", "harvest", "integrity"]
    assert view.unassigned == [DateRange(date(2026, 5, 1), date(2026, 8, 31))]


def test_affinities_of_a_season(session: Session) -> None:
    weights = service.affinities(session=session, season_code="harvest")
    assert weights == {
        "rural_revival": 1.0,
        "poverty_relief": 0.8,
        "environment": 0.6,
        "culture": 0.5,
    }
    assert service.affinity(session=session, season_code="harvest", category_code="culture") == 0.5
    assert service.affinity(session=session, season_code="harvest", category_code="legal") == 0
    assert service.affinity(session=session, season_code="nothing", category_code="culture") == 0


@pytest.fixture
def frozen() -> Iterator[list[datetime]]:
    """A controlled clock: set `frozen[0]`; the previous clock comes back afterwards."""
    previous = clock.get_clock()
    moment = [datetime(2026, 1, 1, tzinfo=UTC)]
    clock.set_clock(lambda: moment[0])
    try:
        yield moment
    finally:
        clock.set_clock(previous)


def test_current_season_uses_the_citys_date(session: Session, frozen: list[datetime]) -> None:
    # 15:59 UTC on 30 April is 23:59 in Shanghai, still 亲情季; a minute later it is 1 May.
    frozen[0] = datetime(2026, 4, 30, 15, 59, tzinfo=UTC)
    season = service.current_season(session=session)
    assert season is not None and season.code == "family"
    frozen[0] = datetime(2026, 4, 30, 16, 0, tzinfo=UTC)
    season = service.current_season(session=session)
    assert season is not None and season.code == "growth"
    found = service.current(session=session)
    assert found.local_date == date(2026, 5, 1)
    assert found.period == DateRange(date(2026, 5, 1), date(2026, 8, 31))
    assert found.days_left == 123
    assert found.affinities["disaster_study"] == 1.0
    # An explicit `now` wins over the clock.
    explicit = service.current_season(session=session, now=datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert explicit is not None and explicit.code == "family"  # 1 January in Shanghai


def test_no_current_season(session: Session, frozen: list[datetime]) -> None:
    service.replace_periods(session=session, season_code="integrity", periods=[])
    frozen[0] = datetime(2026, 11, 20, 4, tzinfo=UTC)
    found = service.current(session=session)
    assert (found.season, found.period, found.days_left, found.affinities) == (None, None, None, {})


def test_year_view(session: Session) -> None:
    service.replace_periods(
        session=session, season_code="family", periods=[Period("01-16", "04-30")]
    )
    service.replace_periods(
        session=session, season_code="integrity", periods=[Period("11-01", "01-15")]
    )
    view = service.year_view(session=session, year=2026)
    got = {
        s.season.code: (
            [(r.start_date.isoformat(), r.end_date.isoformat()) for r in s.ranges],
            s.days,
            [f.code for f in s.festivals],
        )
        for s in view.seasons
    }
    assert got == {
        "family": (
            [("2026-01-16", "2026-04-30")],
            105,
            ["spring_festival", "lantern", "qingming"],
        ),
        "growth": ([("2026-05-01", "2026-08-31")], 123, ["dragon_boat", "qixi"]),
        "harvest": (
            [("2026-09-01", "2026-10-31")],
            61,
            ["harvest_festival", "mid_autumn", "double_ninth"],
        ),
        "integrity": ([("2026-01-01", "2026-01-15"), ("2026-11-01", "2026-12-31")], 76, []),
    }
    assert sum(days for _, days, _ in got.values()) == 365
    assert view.unassigned == []
    assert [(f.code, code) for f, code in view.festivals][:2] == [
        ("spring_festival", "family"),
        ("lantern", "family"),
    ]
