"""The 四季红 seasons and the festival campaigns (我们的节日) a window touches, as instants: what
the seasons section (`app.stats.seasons`, whose docstring defines them) counts in.

- A season's date ranges (`app.seasons.service.year_view`, for every year the window touches)
  are local days, taken as the instants from the first day's local midnight to the local
  midnight after the last, cut to the window.
- A festival's campaign is its local day with `CAMPAIGN_DAYS` days either side; its *cell* the
  days nearer to it than to any other festival (the day halfway between two goes to the
  earlier), both cut to the window. A festival is listed when either meets the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app import clock
from app.seasons.festivals import MAX_YEAR, MIN_YEAR, festivals
from app.seasons.service import year_view
from app.stats import evidence
from app.stats.evidence import Interval
from app.stats.figures import Scope

CAMPAIGN_DAYS = 7


@dataclass(frozen=True)
class Span:
    """A season or a festival campaign: its group, label and instants (cut to the window)."""

    group: str
    label: str
    intervals: list[Interval]
    cell: list[Interval]  # festivals: the days nearer to it than to any other
    code: str | None = None  # festivals: the festival's code (activities name it)

    @property
    def days(self) -> float:
        return sum((end - start).total_seconds() for start, end in self.intervals) / 86400


def _midnight(day: date) -> datetime:
    return clock.local_at(day, time(0))


def _days(scope: Scope) -> tuple[date, date]:
    """The local days the window touches, first and last."""
    first = clock.local_day(scope.starts_at)
    last = clock.local_day(max(scope.starts_at, scope.ends_at - timedelta(microseconds=1)))
    return first, last


def _years(first: int, last: int) -> range:
    return range(max(first, MIN_YEAR), min(last, MAX_YEAR) + 1)


def season_spans(session: Session, scope: Scope) -> list[Span]:
    """Every active season, in the calendar's order, with its instants in the window."""
    first, last = _days(scope)
    spans: dict[str, Span] = {}
    for year in _years(first.year, last.year):
        for season in year_view(session=session, year=year).seasons:
            span = spans.setdefault(
                season.season.code, Span(season.season.code, season.season.name, [], [])
            )
            span.intervals.extend(
                evidence.clip(
                    scope,
                    [
                        (_midnight(r.start_date), _midnight(r.end_date + timedelta(days=1)))
                        for r in season.ranges
                    ],
                )
            )
    return list(spans.values())


def festival_spans(scope: Scope) -> list[Span]:
    """The festival campaigns whose days or cell meet the window, in date order."""
    first, last = _days(scope)
    found = sorted(
        (f for year in _years(first.year - 1, last.year + 1) for f in festivals(year=year)),
        key=lambda f: f.gregorian_date,
    )
    spans = []
    for i, festival in enumerate(found):
        on = festival.gregorian_date
        before = found[i - 1].gregorian_date if i > 0 else on - timedelta(days=732)
        after = found[i + 1].gregorian_date if i + 1 < len(found) else on + timedelta(days=732)
        cell_start = before + timedelta(days=(on - before).days // 2 + 1)
        cell_end = on + timedelta(days=(after - on).days // 2 + 1)
        campaign = (
            _midnight(on - timedelta(days=CAMPAIGN_DAYS)),
            _midnight(on + timedelta(days=CAMPAIGN_DAYS + 1)),
        )
        intervals = evidence.clip(scope, [campaign])
        cell = evidence.clip(scope, [(_midnight(cell_start), _midnight(cell_end))])
        if intervals or cell:
            group = f"{festival.code}_{on.year}"
            label = f"{on.year}年{festival.name}"
            spans.append(Span(group, label, intervals, cell, festival.code))
    return spans
