"""The "seasons" section (四季均衡): completed wishes and credited hours per 四季红 season and
per festival campaign (我们的节日), and how evenly the activity spreads over the seasons.

Completed wishes and credited hours follow `app.stats.evidence`; a wish falls in a season by the
instant of its completion, an hours entry by the start of its service.

Seasons are the periods `app.seasons.service.year_view` gives for every year the window touches:
each season's date ranges are local days, taken as the instants from the first day's local
midnight to the local midnight after the last, cut to the window. Every active season is
listed, with 0 when it has no day in the window.

A festival campaign is the festival's local day with `CAMPAIGN_DAYS` days either side. A wish
completed (an hour credited) in those days counts for the festival; so does one whose wish is
tagged with the programme 我们的节日 (`FESTIVAL_PROGRAMME`) when it falls in the festival's
*cell*: the days nearer to this festival than to any other (the day halfway between two
festivals goes to the earlier), so a tagged wish counts for the festival it was nearest to even
outside the campaign days. Campaigns of festivals close together (春节 and 元宵) can share days;
a wish in both counts for both. Festivals are listed when their campaign or cell meets the
window; the group is `<festival code>_<year>`.

Balance index (`seasons.balance_index`), in [0, 1], 1 = perfectly balanced: for each of the
n seasons with time in the window, its rate r_s = completed wishes / days of the season in the
window (days as a fraction, so seasons of different length and a window that cuts a season
compare fairly); with mean m and population standard deviation σ of the rates, the coefficient
of variation CV = σ / m is at most √(n − 1) (everything in one season), so
    index = 1 − CV / √(n − 1).
It is None when fewer than two seasons have time in the window or nothing was completed in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models import HoursEntry
from app.models import WishMilestones as M
from app.seasons.festivals import MAX_YEAR, MIN_YEAR, festivals
from app.seasons.service import year_view
from app.stats import evidence
from app.stats.evidence import Interval
from app.stats.figures import DrillKind, Figure, Scope, Section, register

KEY = "seasons"
FESTIVAL_PROGRAMME = "our_festivals"
CAMPAIGN_DAYS = 7
LABELS = {
    "seasons.wishes": "完成心愿",
    "seasons.season.wishes": "各季完成心愿",
    "seasons.season.hours": "各季服务时长",
    "seasons.festival.wishes": "节日活动完成心愿",
    "seasons.festival.hours": "节日活动服务时长",
    "seasons.balance_index": "四季均衡指数",
}


@dataclass(frozen=True)
class Span:
    """A season or a festival campaign: its group, label and instants (cut to the window)."""

    group: str
    label: str
    intervals: list[Interval]
    cell: list[Interval]  # festivals: the days nearer to it than to any other

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
            spans.append(Span(group, f"{on.year}年{festival.name}", intervals, cell))
    return spans


def _festive(span: Span, column: object, tagged: ColumnElement[bool]) -> ColumnElement[bool]:
    """In the festival's campaign days, or tagged 我们的节日 (`tagged`) and in its cell."""
    return or_(
        evidence.during(column, span.intervals),
        and_(tagged, evidence.during(column, span.cell)),
    )


def _wishes(span: Span, *, festival: bool) -> ColumnElement[bool]:
    column = M.completed_at
    if festival:
        return _festive(span, column, M.programme_code == FESTIVAL_PROGRAMME)
    return evidence.during(column, span.intervals)


def _hours(span: Span, *, festival: bool) -> ColumnElement[bool]:
    column = HoursEntry.started_at
    if festival:
        return _festive(span, column, _tagged_entry())
    return evidence.during(column, span.intervals)


def _tagged_entry() -> ColumnElement[bool]:
    """The entry's wish is tagged 我们的节日: read among the tagged wishes' milestones (by the
    index on programme), not by joining every entry to its wish."""
    return HoursEntry.wish_id.in_(select(M.wish_id).where(M.programme_code == FESTIVAL_PROGRAMME))


def balance(rates: list[float]) -> float | None:
    """1 − CV / √(n − 1) of the per-day rates (see the module's docstring)."""
    n = len(rates)
    mean = sum(rates) / n if n else 0.0
    if n < 2 or mean <= 0:
        return None
    sigma = math.sqrt(sum((r - mean) ** 2 for r in rates) / n)
    return round(min(1.0, max(0.0, 1 - sigma / mean / math.sqrt(n - 1))), 4)


def _counted(
    session: Session, scope: Scope, spans: list[tuple[Span, bool]]
) -> tuple[int, list[int], list[float]]:
    """The completed wishes of the window, and each span's completed wishes and credited hours
    (as `count(completed(scope, _wishes(span)))` and `hours(credited(scope, _hours(span)))`),
    in one grouped pass over the window's completions and one over its entries.

    Every start and end of every span's days cuts time into pieces; a piece lies wholly inside
    or wholly outside each span's intervals and cell. Each pass counts per piece and per
    tagged-or-not, and a span adds up the pieces it holds."""
    bounds = sorted(
        {t for span, _f in spans for a, b in span.intervals + span.cell for t in (a, b)}
    )

    def piece(column: Any) -> ColumnElement[int]:
        # Piece i is [bounds[i - 1], bounds[i]); 0 before the first bound, len(bounds) after.
        if not bounds:
            return literal(0)
        return case(*((column < bound, i) for i, bound in enumerate(bounds)), else_=len(bounds))

    wishes = (
        evidence.completed(scope)
        .add_columns(
            piece(M.completed_at).label("piece"),
            case((M.programme_code == FESTIVAL_PROGRAMME, 1), else_=0).label("tagged"),
        )
        .subquery()
    )
    done = {
        (int(i), bool(t)): int(n)
        for i, t, n in session.execute(
            select(wishes.c.piece, wishes.c.tagged, func.count()).group_by(
                wishes.c.piece, wishes.c.tagged
            )
        )
    }
    entries = (
        evidence.credited(scope)
        .add_columns(
            piece(HoursEntry.started_at).label("piece"),
            case((_tagged_entry(), 1), else_=0).label("tagged"),
        )
        .subquery()
    )
    minutes = {
        (int(i), bool(t)): int(m)
        for i, t, m in session.execute(
            select(entries.c.piece, entries.c.tagged, func.sum(entries.c.minutes)).group_by(
                entries.c.piece, entries.c.tagged
            )
        )
    }

    def held(span: Span, festival: bool, i: int, tagged: bool) -> bool:
        if i == 0:
            return False
        start = bounds[i - 1]
        if any(a <= start < b for a, b in span.intervals):
            return True
        return festival and tagged and any(a <= start < b for a, b in span.cell)

    done_each = [
        sum(n for (i, t), n in done.items() if held(span, festival, i, t))
        for span, festival in spans
    ]
    hours_each = [
        round(sum(m for (i, t), m in minutes.items() if held(span, festival, i, t)) / 60, 2)
        for span, festival in spans
    ]
    return sum(done.values()), done_each, hours_each


def compute(session: Session, scope: Scope) -> list[Figure]:
    seasons = season_spans(session, scope)
    campaigns = festival_spans(scope)
    spans = [(span, False) for span in seasons] + [(span, True) for span in campaigns]
    total, done_each, hours_each = _counted(session, scope, spans)
    out = [Figure("seasons.wishes", LABELS["seasons.wishes"], total, "件", _W)]
    rates = []
    for (span, festival), done, credited in zip(spans, done_each, hours_each, strict=True):
        if not festival and span.days > 0:
            rates.append(done / span.days)
        kind = "festival" if festival else "season"
        out += [
            Figure(
                f"seasons.{kind}.wishes",
                LABELS[f"seasons.{kind}.wishes"],
                done,
                "件",
                _W,
                span.group,
                span.label,
            ),
            Figure(
                f"seasons.{kind}.hours",
                LABELS[f"seasons.{kind}.hours"],
                credited,
                "小时",
                _H,
                span.group,
                span.label,
            ),
        ]
    out.append(
        Figure("seasons.balance_index", LABELS["seasons.balance_index"], balance(rates), "指数", _W)
    )
    return out


_W = DrillKind.WISHES
_H = DrillKind.HOURS


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    if key == "seasons.wishes":
        return evidence.ids(session, evidence.completed(scope))
    if key == "seasons.balance_index":
        seasons = [s for s in season_spans(session, scope) if s.days > 0]
        every = [i for s in seasons for i in s.intervals]
        when = evidence.during(M.completed_at, every)
        return evidence.ids(session, evidence.completed(scope, when))
    festival = key.startswith("seasons.festival.")
    spans = festival_spans(scope) if festival else season_spans(session, scope)
    span = next((s for s in spans if s.group == group), None)
    if span is None:
        return []
    if key in ("seasons.season.wishes", "seasons.festival.wishes"):
        return evidence.ids(session, evidence.completed(scope, _wishes(span, festival=festival)))
    if key in ("seasons.season.hours", "seasons.festival.hours"):
        return evidence.ids(session, evidence.credited(scope, _hours(span, festival=festival)))
    return []


SECTION = register(Section(key=KEY, label="四季均衡", compute=compute, drill=drill))
