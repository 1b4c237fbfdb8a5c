"""The "seasons" section (四季均衡): completed wishes, activities held and credited hours per
四季红 season and per festival campaign (我们的节日), and how evenly the service spreads over the
seasons.

Completed wishes, credited hours and activities held follow `app.stats.evidence`; a wish falls
in a season by the instant of its completion, an hours entry by the start of its service (every
service entry of the ledger: wishes', activities' and visits' alike), an activity by the start
of each of its sessions.

Per season and per festival campaign, beside the wishes:
- `activities`: the activities held there (published by a unit of the subtree, a session
  starting in the span); an activity with sessions in two spans counts in both, once in each.
- `places`: the volunteer places taken at those activities (admitted sign-ups; see
  `evidence.places`), all of each activity's places wherever its sessions fall.
- `attendances`: the service records served at their sessions in the span.
The drills list activities, sign-ups and service records. The same three figures for the whole
window are `seasons.activities`, `seasons.places`, `seasons.attendances`.

Seasons are the periods `app.seasons.service.year_view` gives for every year the window touches:
each season's date ranges are local days, taken as the instants from the first day's local
midnight to the local midnight after the last, cut to the window. Every active season is
listed, with 0 when it has no day in the window.

A festival campaign is the festival's local day with `CAMPAIGN_DAYS` days either side. A wish
completed (an hour credited, an activity's session begun) in those days counts for the
festival. So does, in the festival's *cell* (the days nearer to this festival than to any other;
the day halfway between two festivals goes to the earlier), a wish tagged with the programme
我们的节日 (`FESTIVAL_PROGRAMME`), an hours entry of such a wish, and a session of an activity
that names this festival (`activities.festival_code`): a tagged wish counts for the festival
it was nearest to, a named activity for its own festival, even outside the campaign days (an
activity's hours count by the campaign days only: an entry reads its wish's tag, and an
activity's entries have none). Campaigns of festivals close together (春节 and 元宵) can share
days; a wish in both counts for both. Festivals are listed when their campaign or cell meets
the window; the group is `<festival code>_<year>`.

Balance index (`seasons.balance_index`), in [0, 1], 1 = perfectly balanced: for each of the
n seasons with time in the window, its rate r_s = (completed wishes + activities held) / days
of the season in the window (the season's `wishes` and `activities` figures; days as a
fraction, so seasons of different length and a window that cuts a season compare fairly); with
mean m and population standard deviation σ of the rates, the coefficient of variation
CV = σ / m is at most √(n − 1) (everything in one season), so
    index = 1 − CV / √(n − 1).
It is None when fewer than two seasons have time in the window or nothing was completed or
held in them. Without activities it is the index of completed wishes alone, as it was before
activities were counted. Its drill lists the wishes it counts; the activities it counts are
those of each season's `seasons.season.activities`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.attendance.state import SERVED as SERVED_RECORDS
from app.models import Activity, ActivitySession, Attendance, HoursEntry
from app.models import WishMilestones as M
from app.stats import evidence
from app.stats.figures import DrillKind, Figure, Scope, Section, register
from app.stats.spans import Span, festival_spans, season_spans

KEY = "seasons"
FESTIVAL_PROGRAMME = "our_festivals"
LABELS = {
    "seasons.wishes": "完成心愿",
    "seasons.activities": "开展活动",
    "seasons.places": "活动志愿者名额",
    "seasons.attendances": "活动服务人次",
    "seasons.season.wishes": "各季完成心愿",
    "seasons.season.activities": "各季开展活动",
    "seasons.season.places": "各季活动志愿者名额",
    "seasons.season.attendances": "各季活动服务人次",
    "seasons.season.hours": "各季服务时长",
    "seasons.festival.wishes": "节日活动完成心愿",
    "seasons.festival.activities": "节日开展活动",
    "seasons.festival.places": "节日活动志愿者名额",
    "seasons.festival.attendances": "节日活动服务人次",
    "seasons.festival.hours": "节日活动服务时长",
    "seasons.balance_index": "四季均衡指数",
}


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


def _sessions(span: Span, *, festival: bool) -> ColumnElement[bool]:
    """A held session in the span: in a festival's cell too when its activity names it."""
    column = ActivitySession.starts_at
    if festival:
        return _festive(span, column, Activity.festival_code == span.code)
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


@dataclass
class Counts:
    """The window's totals and each span's figures, in the order of the spans."""

    wishes: int
    activities: int
    places: int
    attendances: int
    each: list[dict[str, float | int]]  # per span: wishes, activities, places, attendances, hours


def _counted(session: Session, scope: Scope, spans: list[tuple[Span, bool]]) -> Counts:
    """The window's completed wishes and activities held, and each span's completed wishes,
    activities held, places taken, attendances served and credited hours (as the drills
    list them), in one grouped pass over the window's completions, one over its entries, one
    over its held sessions with their served records and one over those activities' places.

    Every start and end of every span's days cuts time into pieces; a piece lies wholly inside
    or wholly outside each span's intervals and cell. Each pass counts per piece and per
    tagged-or-not (per activity and its festival for the sessions), and a span adds up the
    pieces it holds."""
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
    held = (
        evidence.held_sessions(scope)
        .add_columns(
            piece(ActivitySession.starts_at).label("piece"),
            Activity.festival_code.label("festival"),
        )
        .subquery()
    )
    # (activity, piece, festival) -> its sessions' served records there (0 for none).
    sessions = {
        (int(a), int(i), f): int(n)
        for a, i, f, n in session.execute(
            select(held.c.activity_id, held.c.piece, held.c.festival, func.count(Attendance.id))
            .select_from(held)
            .outerjoin(
                Attendance,
                and_(
                    Attendance.activity_session_id == held.c.id,
                    Attendance.status.in_(tuple(SERVED_RECORDS)),
                ),
            )
            .group_by(held.c.activity_id, held.c.piece, held.c.festival)
        )
    }
    taken = evidence.places(select(held.c.activity_id)).subquery()
    places = {
        int(a): int(n)
        for a, n in session.execute(
            select(taken.c.activity_id, func.count()).group_by(taken.c.activity_id)
        )
    }

    def holds(span: Span, festival: bool, i: int, tagged: bool) -> bool:
        if i == 0:
            return False
        start = bounds[i - 1]
        if any(a <= start < b for a, b in span.intervals):
            return True
        return festival and tagged and any(a <= start < b for a, b in span.cell)

    each: list[dict[str, float | int]] = []
    for span, festival in spans:
        activities = {
            a
            for (a, i, f) in sessions
            if holds(span, festival, i, f is not None and f == span.code)
        }
        each.append(
            {
                "wishes": sum(n for (i, t), n in done.items() if holds(span, festival, i, t)),
                "activities": len(activities),
                "places": sum(places.get(a, 0) for a in activities),
                "attendances": sum(
                    n
                    for (a, i, f), n in sessions.items()
                    if holds(span, festival, i, f is not None and f == span.code)
                ),
                "hours": round(
                    sum(m for (i, t), m in minutes.items() if holds(span, festival, i, t)) / 60, 2
                ),
            }
        )
    every = {a for (a, _i, _f) in sessions}
    return Counts(
        wishes=sum(done.values()),
        activities=len(every),
        places=sum(places.get(a, 0) for a in every),
        attendances=sum(sessions.values()),
        each=each,
    )


# Each span's figures, in the order shown: (name, unit, drill).
PER_SPAN = (
    ("wishes", "件", DrillKind.WISHES),
    ("activities", "个", DrillKind.ACTIVITIES),
    ("places", "人次", DrillKind.SIGNUPS),
    ("attendances", "人次", DrillKind.ATTENDANCES),
    ("hours", "小时", DrillKind.HOURS),
)


def compute(session: Session, scope: Scope) -> list[Figure]:
    seasons = season_spans(session, scope)
    campaigns = festival_spans(scope)
    spans = [(span, False) for span in seasons] + [(span, True) for span in campaigns]
    counts = _counted(session, scope, spans)
    out = [
        Figure("seasons.wishes", LABELS["seasons.wishes"], counts.wishes, "件", _W),
        Figure("seasons.activities", LABELS["seasons.activities"], counts.activities, "个", _A),
        Figure("seasons.places", LABELS["seasons.places"], counts.places, "人次", _S),
        Figure(
            "seasons.attendances", LABELS["seasons.attendances"], counts.attendances, "人次", _R
        ),
    ]
    rates = []
    for (span, festival), figures in zip(spans, counts.each, strict=True):
        if not festival and span.days > 0:
            rates.append((figures["wishes"] + figures["activities"]) / span.days)
        kind = "festival" if festival else "season"
        out += [
            Figure(
                f"seasons.{kind}.{name}",
                LABELS[f"seasons.{kind}.{name}"],
                figures[name],
                unit,
                drill,
                span.group,
                span.label,
            )
            for name, unit, drill in PER_SPAN
        ]
    out.append(
        Figure("seasons.balance_index", LABELS["seasons.balance_index"], balance(rates), "指数", _W)
    )
    return out


_W = DrillKind.WISHES
_H = DrillKind.HOURS
_A = DrillKind.ACTIVITIES
_S = DrillKind.SIGNUPS
_R = DrillKind.ATTENDANCES


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    if key == "seasons.wishes":
        return evidence.ids(session, evidence.completed(scope))
    if key == "seasons.activities":
        return evidence.ids(session, evidence.held(scope))
    if key == "seasons.places":
        return evidence.ids(session, evidence.places(evidence.held(scope)))
    if key == "seasons.attendances":
        return evidence.ids(session, evidence.served_at(scope))
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
    name = key.rsplit(".", 1)[-1]
    if key not in (f"seasons.{'festival' if festival else 'season'}.{n}" for n, *_ in PER_SPAN):
        return []
    if name == "wishes":
        return evidence.ids(session, evidence.completed(scope, _wishes(span, festival=festival)))
    if name == "hours":
        return evidence.ids(session, evidence.credited(scope, _hours(span, festival=festival)))
    sessions = _sessions(span, festival=festival)
    if name == "activities":
        return evidence.ids(session, evidence.held(scope, sessions))
    if name == "places":
        return evidence.ids(session, evidence.places(evidence.held(scope, sessions)))
    return evidence.ids(session, evidence.served_at(scope, sessions))


SECTION = register(Section(key=KEY, label="四季均衡", compute=compute, drill=drill))
