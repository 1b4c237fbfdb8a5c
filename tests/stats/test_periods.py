"""Periods of the statistics: local days to instants, buckets that tile the period, limits."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.errors import AppError
from app.models import SeasonPeriod
from app.stats.periods import BucketKind, buckets, check_period, default_period, scope_of
from tests.fixtures.builders import make_tree


def test_a_scope_runs_from_local_midnight_to_the_next_local_midnight(session: Session) -> None:
    unit = make_tree(session).city
    scope = scope_of(unit, date(2026, 11, 1), date(2026, 11, 30))
    # Asia/Shanghai is UTC+8: the local day begins at 16:00 UTC the day before.
    assert scope.starts_at == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert scope.ends_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
    one_day = scope_of(unit, date(2026, 11, 1), date(2026, 11, 1))
    assert one_day.ends_at - one_day.starts_at == timedelta(days=1)


def test_weeks_start_on_monday_and_are_clipped(session: Session) -> None:
    weeks = buckets(BucketKind.WEEK, date(2026, 11, 1), date(2026, 11, 18), session)
    assert [(b.label, b.first, b.last) for b in weeks] == [
        ("2026年第44周", date(2026, 11, 1), date(2026, 11, 1)),
        ("2026年第45周", date(2026, 11, 2), date(2026, 11, 8)),
        ("2026年第46周", date(2026, 11, 9), date(2026, 11, 15)),
        ("2026年第47周", date(2026, 11, 16), date(2026, 11, 18)),
    ]
    assert all(b.first.weekday() == 0 for b in weeks[1:])
    # ISO weeks: 1 January 2027 (a Friday) is in week 53 of 2026.
    [week] = buckets(BucketKind.WEEK, date(2027, 1, 1), date(2027, 1, 3), session)
    assert week.label == "2026年第53周"


@pytest.mark.parametrize("kind", list(BucketKind))
def test_buckets_tile_the_period(session: Session, kind: BucketKind) -> None:
    first, last = date(2025, 12, 20), date(2026, 3, 2)
    cut = buckets(kind, first, last, session)
    assert cut[0].first == first and cut[-1].last == last
    for before, after in itertools.pairwise(cut):
        assert after.first == before.last + timedelta(days=1)
    assert sum((b.last - b.first).days + 1 for b in cut) == (last - first).days + 1


def test_labels_of_months_years_and_seasons(session: Session) -> None:
    first, last = date(2025, 12, 20), date(2026, 5, 2)
    assert [b.label for b in buckets(BucketKind.MONTH, first, last, session)] == [
        "2025年12月", "2026年1月", "2026年2月", "2026年3月", "2026年4月", "2026年5月",
    ]  # fmt: skip
    assert [b.label for b in buckets(BucketKind.YEAR, first, last, session)] == [
        "2025年",
        "2026年",
    ]
    seasons = buckets(BucketKind.SEASON, first, last, session)
    assert [(b.label, b.first, b.last) for b in seasons] == [
        ("2025年诚信季", date(2025, 12, 20), date(2025, 12, 31)),
        ("2026年亲情季", date(2026, 1, 1), date(2026, 4, 30)),
        ("2026年成长季", date(2026, 5, 1), date(2026, 5, 2)),
    ]


def test_a_season_across_the_new_year_is_one_bucket(session: Session) -> None:
    """诚信季 set to 1 December – 31 January: one bucket named by the year it starts in, with
    亲情季 from 1 February."""
    for row in session.query(SeasonPeriod).filter(SeasonPeriod.season_code == "integrity"):
        row.start_md, row.end_md = "12-01", "01-31"
    for row in session.query(SeasonPeriod).filter(SeasonPeriod.season_code == "family"):
        row.start_md = "02-01"
    session.flush()
    seasons = buckets(BucketKind.SEASON, date(2026, 1, 10), date(2027, 2, 10), session)
    assert [(b.label, b.first, b.last) for b in seasons] == [
        ("2025年诚信季", date(2026, 1, 10), date(2026, 1, 31)),
        ("2026年亲情季", date(2026, 2, 1), date(2026, 4, 30)),
        ("2026年成长季", date(2026, 5, 1), date(2026, 8, 31)),
        ("2026年丰收季", date(2026, 9, 1), date(2026, 10, 31)),
        ("2026年未分季", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026年诚信季", date(2026, 12, 1), date(2027, 1, 31)),
        ("2027年亲情季", date(2027, 2, 1), date(2027, 2, 10)),
    ]


@pytest.mark.parametrize(
    ("first", "last", "kind", "code"),
    [
        (date(2026, 2, 1), date(2026, 1, 31), None, "STATS_PERIOD_INVERTED"),
        (date(2024, 2, 29), date(2027, 2, 28), None, "STATS_PERIOD_TOO_LONG"),
        (date(1999, 12, 31), date(2000, 1, 1), None, "STATS_DATE_OUT_OF_RANGE"),
        (date(2099, 12, 1), date(2100, 1, 1), None, "STATS_DATE_OUT_OF_RANGE"),
        (date(2026, 1, 1), date(2027, 1, 2), BucketKind.DAY, "STATS_TOO_MANY_BUCKETS"),
    ],
)
def test_limits(first: date, last: date, kind: BucketKind | None, code: str) -> None:
    with pytest.raises(AppError) as refused:
        check_period(first, last, kind)
    assert (refused.value.status_code, refused.value.code) == (400, code)


def test_limits_at_their_edges() -> None:
    check_period(date(2024, 2, 29), date(2027, 2, 27))  # three years less a day
    check_period(date(2000, 1, 1), date(2000, 1, 1))
    check_period(date(2026, 1, 1), date(2026, 12, 31), BucketKind.DAY)
    check_period(date(2024, 1, 1), date(2026, 12, 31), BucketKind.WEEK)


def test_the_default_period_is_this_month_so_far() -> None:
    assert default_period(date(2026, 11, 23)) == (date(2026, 11, 1), date(2026, 11, 23))
    assert default_period(date(2026, 11, 1)) == (date(2026, 11, 1), date(2026, 11, 1))
