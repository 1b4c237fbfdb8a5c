"""Random histories for the people, coverage and seasons sections, and every figure of those
sections computed again by brute force in Python from the rows written.

A history is two trees (the second one is outside every scope of the first): volunteers
registered at random stations and times, hours entries (service and training) at random
stations and times, with or without a wish (an activity's or a visit's entry has none), some
reversed and some replaced, wishes (some tagged 我们的节日) completed at random stations and
times (once at most, and with unrelated events around), star awards in every status, and
activities of stations, a township or the county in every status (some naming a festival) with
sessions at random times, sign-ups in every status (participants among them) and service records
of their sessions in every status. The brute force reads none of the sections' SQL: it walks
the rows, finds a day's season with `seasons.service.season_on` and festivals with
`seasons.festivals`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    Attendance,
    HoursEntry,
    OrgUnit,
    SeasonTheme,
    StarAward,
    Volunteer,
    WishEventRecord,
)
from app.models.enums import AttendanceStatus, OrgLevel, WishStatus
from app.seasons.festivals import Festival, festivals
from app.seasons.service import season_on
from tests.fixtures.builders import Tree, make_resident, make_tree, make_volunteer, make_wish
from tests.fixtures.programmes import make_activity, make_activity_session, make_attendance

# Local 2027-01-01 00:00 (Asia/Shanghai), and a span of fourteen months after it.
ORIGIN = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
SPAN_MINUTES = 425 * 24 * 60
NOW = ORIGIN + timedelta(minutes=SPAN_MINUTES + 60)
STATIONS = 8  # four in each tree
CAMPAIGN_DAYS = 7

offset = st.integers(min_value=0, max_value=SPAN_MINUTES)
station = st.integers(min_value=0, max_value=STATIONS - 1)
DAY = 24 * 60


def _festival_offsets() -> list[int]:
    return [
        int((_midnight(f.gregorian_date) - ORIGIN).total_seconds() // 60)
        for f in _all_festivals()
        if ORIGIN <= _midnight(f.gregorian_date) < ORIGIN + timedelta(minutes=SPAN_MINUTES)
    ]


def _moments(window: tuple[int, int, bool]) -> st.SearchStrategy[int]:
    """Instants anywhere, near a festival (its campaign's edges), or at the window's edges."""
    start, length, _ = window
    days = _festival_offsets()
    near_festival = st.sampled_from(days).flatmap(
        lambda f: (
            st.integers(f - 9 * DAY, f + 9 * DAY)
            | st.sampled_from([f - 7 * DAY - 1, f - 7 * DAY, f + 8 * DAY - 1, f + 8 * DAY])
        )
    )
    # Days halfway between two festivals (where a tagged wish changes festival).
    halfway = st.sampled_from(
        [a + (b - a) // DAY // 2 * DAY + d for a, b in itertools.pairwise(days) for d in (0, DAY)]
    )
    edges = st.sampled_from([start, start + length, start + length - 1, start - 1])
    near_window = st.integers(start - DAY, start + length + DAY)
    return st.one_of(offset, near_festival, halfway, edges, near_window).map(
        lambda m: min(max(m, 0), SPAN_MINUTES)
    )


@dataclass(frozen=True)
class Plan:
    volunteers: list[tuple[int, int]]  # station, registered at
    entries: list[tuple[int, int, int, int, bool, int | None]]
    # volunteer, station, started at, minutes, service (else training), wish
    corrections: list[tuple[int, int | None]]  # entry reversed, replaced with minutes (or not)
    wishes: list[tuple[int, bool, list[int], int | None]]
    # station, tagged 我们的节日, completed at (at most once: no event leaves `completed` to
    # reach it again), closed at
    awards: list[tuple[int, int, str, int]]  # volunteer, star, status, notice ends at
    scope: int  # index into the scope units
    window: tuple[int, int, bool]  # starts at, length, aligned to local midnights
    activities: list[ActivityPlan] = field(default_factory=list)


ACTIVITY_STATUSES = ("published", "published", "finished", "draft", "cancelled")
SIGNUP_STATUSES = ("admitted", "admitted", "no_show", "waiting", "cancelled")
FESTIVAL_CODES = (None, "spring_festival", "lantern", "mid_autumn", "double_ninth")


@dataclass(frozen=True)
class ActivityPlan:
    unit: int  # 0-7 the stations of both trees, 8 the first township, 9 the county
    status: str
    festival: str | None
    sessions: list[int]  # starts at
    signups: list[tuple[int, str, bool]]  # volunteer, status, as a participant (a resident)
    records: list[tuple[int, int, AttendanceStatus]]  # session, volunteer, status


def activity_plans(moment: st.SearchStrategy[int]) -> st.SearchStrategy[ActivityPlan]:
    return st.builds(
        ActivityPlan,
        unit=st.integers(0, 9) | st.sampled_from([0, 8, 9]),
        status=st.sampled_from(ACTIVITY_STATUSES),
        festival=st.sampled_from(FESTIVAL_CODES),
        sessions=st.lists(moment, min_size=1, max_size=3, unique=True),
        signups=st.lists(
            st.tuples(st.integers(0, 5), st.sampled_from(SIGNUP_STATUSES), st.booleans()),
            max_size=5,
        ),
        records=st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 5), st.sampled_from(list(AttendanceStatus))
            ),
            max_size=5,
        ),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    window = draw(st.tuples(offset, st.integers(1, 300 * DAY), st.booleans()))
    moment = _moments(window)
    start, length, _ = window
    inside = st.integers(start, min(start + length - 1, SPAN_MINUTES))
    return Plan(
        volunteers=draw(st.lists(st.tuples(station, moment), min_size=1, max_size=6)),
        entries=draw(
            st.lists(
                st.tuples(
                    st.integers(0, 5),
                    station,
                    moment,
                    st.sampled_from([0, 30, 60, 90, 240]) | st.integers(0, 600),
                    st.booleans(),
                    st.none() | st.integers(0, 11),
                ),
                max_size=14,
            )
        ),
        corrections=draw(
            st.lists(st.tuples(st.integers(0, 13), st.none() | st.integers(0, 600)), max_size=5)
        ),
        wishes=draw(
            st.lists(
                st.tuples(station, st.booleans(), st.lists(moment, max_size=1), st.none() | moment),
                max_size=12,
            )
        ),
        awards=draw(
            st.lists(
                st.tuples(
                    st.integers(0, 5),
                    st.integers(1, 6),
                    st.sampled_from(["notice", "held", "revoked"]),
                    moment,
                ),
                max_size=6,
            )
        ),
        scope=draw(st.integers(0, 8) | st.sampled_from([0, 1])),
        window=window,
        activities=draw(st.lists(activity_plans(moment | inside), min_size=1, max_size=5)),
    )


@dataclass
class History:
    tree: Tree
    other: Tree
    units: list[OrgUnit]
    volunteers: list[Volunteer] = field(default_factory=list)
    entries: list[HoursEntry] = field(default_factory=list)
    completions: list[tuple[int, int, datetime, bool]] = field(default_factory=list)
    # (wish id, station id, completed at, tagged)
    awards: list[StarAward] = field(default_factory=list)
    tagged: set[int] = field(default_factory=set)  # wishes of 我们的节日
    activities: list[Activity] = field(default_factory=list)
    sessions: list[ActivitySession] = field(default_factory=list)
    signups: list[ActivitySignup] = field(default_factory=list)
    records: list[Attendance] = field(default_factory=list)
    starts_at: datetime = ORIGIN
    ends_at: datetime = ORIGIN
    unit: OrgUnit | None = None


def at(minutes: int) -> datetime:
    return ORIGIN + timedelta(minutes=minutes)


def build(session: Session, plan: Plan) -> History:
    """Write the plan's rows (the clock must read NOW)."""
    tree, other = make_tree(session), make_tree(session)
    stations = tree.stations + other.stations
    units = [tree.city, tree.county, *tree.townships, *tree.stations, other.city]
    history = History(tree=tree, other=other, units=units)
    for where, registered in plan.volunteers:
        _, volunteer = make_volunteer(session, stations[where])
        volunteer.created_at = at(registered)
        history.volunteers.append(volunteer)
    requester = make_resident(session)
    wishes = []
    for where, tagged, completed, closed in plan.wishes:
        wish = make_wish(session, station=stations[where], requester=requester)
        wish.programme_code = "our_festivals" if tagged else None
        if tagged:
            history.tagged.add(wish.id)
        wishes.append(wish)
        for moment in completed:
            history.completions.append((wish.id, stations[where].id, at(moment), tagged))
            _event(session, wish.id, WishStatus.COMPLETED, at(moment))
        if closed is not None:
            _event(session, wish.id, WishStatus.CLOSED, at(closed))
    session.flush()
    for who, where, started, minutes, service, wish_index in plan.entries:
        volunteer = history.volunteers[who % len(history.volunteers)]
        wish_id = wishes[wish_index % len(wishes)].id if wishes and wish_index is not None else None
        history.entries.append(
            _entry(
                session,
                volunteer.id,
                stations[where].id,
                at(started),
                minutes,
                "service" if service else "training",
                wish_id,
            )
        )
    for index, replacement in plan.corrections:
        originals = [e for e in history.entries if e.reverses_id is None]
        original = originals[index % len(originals)] if originals else None
        reversed_ids = {e.reverses_id for e in history.entries}
        if original is None or original.id in reversed_ids:
            continue
        history.entries.append(
            _entry(
                session,
                original.volunteer_id,
                original.unit_id,
                original.started_at,
                -original.minutes,
                original.category,
                original.wish_id,
                reverses_id=original.id,
            )
        )
        if replacement is not None and original.replaces_id is None:
            history.entries.append(
                _entry(
                    session,
                    original.volunteer_id,
                    original.unit_id,
                    original.started_at,
                    replacement,
                    original.category,
                    original.wish_id,
                    replaces_id=original.id,
                )
            )
    taken: set[tuple[int, int]] = set()
    for who, star, status, ends in plan.awards:
        volunteer = history.volunteers[who % len(history.volunteers)]
        if (volunteer.id, star) in taken:
            continue
        taken.add((volunteer.id, star))
        award = StarAward(
            volunteer_id=volunteer.id,
            star=star,
            ladder_code="national",
            minutes_at_award=star * 6000,
            certifying_unit_id=volunteer.home_station_id,
            notice_starts_at=at(ends) - timedelta(days=7),
            notice_ends_at=at(ends),
            status=status,
        )
        session.add(award)
        history.awards.append(award)
    session.flush()
    _activities(session, history, plan.activities)
    start, length, aligned = plan.window
    starts_at, ends_at = at(start), at(start + length)
    if aligned:
        starts_at = _midnight(clock.local_day(starts_at))
        ends_at = _midnight(clock.local_day(ends_at) + timedelta(days=1))
    history.starts_at, history.ends_at = starts_at, ends_at
    history.unit = units[plan.scope % len(units)]
    return history


def _activities(session: Session, history: History, plans: list[ActivityPlan]) -> None:
    tree, other = history.tree, history.other
    publishers = [*tree.stations, *other.stations, tree.townships[0], tree.county]
    participant = make_resident(session)
    for n, plan in enumerate(plans):
        unit = publishers[plan.unit]
        starts = sorted(at(m) for m in plan.sessions)
        activity = make_activity(
            session,
            unit=unit,
            starts_at=starts[0],
            title=f"活动{n}",
            status=plan.status,
            festival=plan.festival,
        )
        history.activities.append(activity)
        sessions = [make_activity_session(session, activity, moment) for moment in starts]
        history.sessions += sessions
        users: set[int] = set()
        for who, status, as_participant in plan.signups:
            volunteer = history.volunteers[who % len(history.volunteers)]
            user_id = participant.id if as_participant else volunteer.user_id
            if user_id in users:
                continue
            users.add(user_id)
            signup = ActivitySignup(
                activity_id=activity.id,
                user_id=user_id,
                volunteer_id=None if as_participant else volunteer.id,
                role="participant" if as_participant else "volunteer",
                status=status,
                queued_at=activity.signup_opens_at,
            )
            session.add(signup)
            history.signups.append(signup)
        seen: set[tuple[int, int]] = set()
        for which, who, status in plan.records:
            held = sessions[which % len(sessions)]
            volunteer = history.volunteers[who % len(history.volunteers)]
            if (held.id, volunteer.id) in seen:
                continue
            seen.add((held.id, volunteer.id))
            history.records.append(
                make_attendance(
                    session,
                    volunteer=volunteer,
                    unit=unit,
                    at=held.starts_at,
                    status=status,
                    activity_session=held,
                )
            )
    session.flush()


def _event(session: Session, wish_id: int, to: WishStatus, moment: datetime) -> None:
    session.add(
        WishEventRecord(
            wish_id=wish_id,
            event="check_out" if to == WishStatus.COMPLETED else "close",
            from_status="in_service" if to == WishStatus.COMPLETED else "completed",
            to_status=to.value,
            actor_role="volunteer",
            data={},
            created_at=moment,
        )
    )


def _entry(
    session: Session,
    volunteer_id: int,
    unit_id: int,
    started_at: datetime,
    minutes: int,
    category: str,
    wish_id: int | None,
    **correction: int,
) -> HoursEntry:
    entry = HoursEntry(
        volunteer_id=volunteer_id,
        category=category,
        unit_id=unit_id,
        wish_id=wish_id,
        content="上门助老服务",
        started_at=started_at,
        minutes=minutes,
        verification="record",
        created_at=NOW,
        reason="核对后更正" if correction else None,
        **correction,
    )
    session.add(entry)
    session.flush()
    return entry


def _midnight(day: date) -> datetime:
    return clock.local_at(day, time(0))


# ---------------------------------------------------------------- brute force

Expected = dict[tuple[str, str | None], tuple[float | int | None, list[int]]]


def expected(session: Session, h: History) -> Expected:
    """Every figure of the three sections, (key, group) → (value, the ids it counts)."""
    assert h.unit is not None
    s, e = h.starts_at, h.ends_at
    units = {
        u.id: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.path.startswith(h.unit.path)))
    }
    out: Expected = {}

    registered = sorted(
        v.id for v in h.volunteers if v.home_station_id in units and v.created_at < e
    )
    new = sorted(v.id for v in h.volunteers if v.id in registered and s <= v.created_at)
    credited = [
        x
        for x in h.entries
        if x.category == "service" and x.unit_id in units and s <= x.started_at < e
    ]
    net: dict[int, int] = {}
    for x in credited:
        net[x.volunteer_id] = net.get(x.volunteer_id, 0) + x.minutes
    active = sorted(v for v, m in net.items() if m > 0)
    hours = round(sum(x.minutes for x in credited) / 60, 2)
    entry_ids = sorted(x.id for x in credited)
    out[("people.registered", None)] = (len(registered), registered)
    out[("people.new", None)] = (len(new), new)
    out[("people.active", None)] = (len(active), active)
    out[("people.hours", None)] = (hours, entry_ids)
    out[("people.hours_per_active", None)] = (
        round(hours / len(active), 2) if active else None,
        entry_ids,
    )
    star_of = {
        v: max(
            (
                a.star
                for a in h.awards
                if a.volunteer_id == v and a.status == "notice" and a.notice_ends_at <= e
            ),
            default=0,
        )
        for v in registered
    }
    for level in sorted(set(range(6)) | set(star_of.values())):
        at_level = [v for v in registered if star_of[v] == level]
        out[("people.by_star", str(level))] = (len(at_level), at_level)

    completions = [c for c in h.completions if c[1] in units and s <= c[2] < e]
    completed = sorted({c[0] for c in completions})
    stations = sorted(
        u.id for u in units.values() if u.level == OrgLevel.VILLAGE.value and u.is_active
    )
    served = sorted({c[1] for c in completions} & set(stations))
    unserved = [u for u in stations if u not in served]
    out[("coverage.stations", None)] = (len(stations), stations)
    out[("coverage.villages_served", None)] = (len(served), served)
    out[("coverage.villages_unserved", None)] = (len(unserved), unserved)
    out[("coverage.served_share", None)] = (
        round(len(served) / len(stations), 4) if stations else None,
        served,
    )

    out[("seasons.wishes", None)] = (len(completed), completed)
    held = _held(h, units, s, e)
    for name, value in _activity_figures(h, held).items():
        out[(f"seasons.{name}", None)] = value
    season_of = _season_lookup(session)
    seconds: dict[str, float] = {}
    day = clock.local_day(s)
    while _midnight(day) < e:
        code = season_of(day)
        overlap = min(e, _midnight(day + timedelta(days=1))) - max(s, _midnight(day))
        if code is not None:
            seconds[code] = seconds.get(code, 0) + overlap.total_seconds()
        day += timedelta(days=1)
    themes = session.scalars(
        select(SeasonTheme).where(SeasonTheme.is_active.is_(True)).order_by(SeasonTheme.code)
    )
    rates = []
    balance_wishes: set[int] = set()
    for theme in themes:
        wishes = sorted(
            {c[0] for c in completions if season_of(clock.local_day(c[2])) == theme.code}
        )
        entries = [x for x in credited if season_of(clock.local_day(x.started_at)) == theme.code]
        sessions = [x for x in held if season_of(clock.local_day(x.starts_at)) == theme.code]
        out[("seasons.season.wishes", theme.code)] = (len(wishes), wishes)
        out[("seasons.season.hours", theme.code)] = (
            round(sum(x.minutes for x in entries) / 60, 2),
            sorted(x.id for x in entries),
        )
        activities = _activity_figures(h, sessions)
        for name, value in activities.items():
            out[(f"seasons.season.{name}", theme.code)] = value
        if seconds.get(theme.code, 0) > 0:
            rates.append(
                (len(wishes) + activities["activities"][0]) / (seconds[theme.code] / 86400)
            )
            balance_wishes |= set(wishes)
    out[("seasons.balance_index", None)] = (_balance(rates), sorted(balance_wishes))

    first, last = clock.local_day(s), clock.local_day(e - timedelta(microseconds=1))
    for festival, index in _festivals(first.year - 1, last.year + 1):
        campaign = {
            festival.gregorian_date + timedelta(days=d)
            for d in range(-CAMPAIGN_DAYS, CAMPAIGN_DAYS + 1)
        }

        def counts(
            day: date,
            tagged: bool,
            festival: Festival = festival,
            index: int = index,
            campaign: set[date] = campaign,
        ) -> bool:
            return day in campaign or (tagged and _nearest(day) == (festival, index))

        touched = [first + timedelta(days=d) for d in range((last - first).days + 1)]
        if not any(counts(d, True) for d in touched):
            continue
        group = f"{festival.code}_{festival.gregorian_date.year}"
        wishes = sorted({c[0] for c in completions if counts(clock.local_day(c[2]), c[3])})
        entries = [
            x for x in credited if counts(clock.local_day(x.started_at), x.wish_id in h.tagged)
        ]
        out[("seasons.festival.wishes", group)] = (len(wishes), wishes)
        out[("seasons.festival.hours", group)] = (
            round(sum(x.minutes for x in entries) / 60, 2),
            sorted(x.id for x in entries),
        )
        named = {a.id for a in h.activities if a.festival_code == festival.code}
        sessions = [x for x in held if counts(clock.local_day(x.starts_at), x.activity_id in named)]
        for name, value in _activity_figures(h, sessions).items():
            out[(f"seasons.festival.{name}", group)] = value
    return out


def _held(h: History, units: dict[int, OrgUnit], s: datetime, e: datetime) -> list[ActivitySession]:
    """The sessions of published activities of the subtree starting in [s, e)."""
    counted = {
        a.id for a in h.activities if a.unit_id in units and a.status in ("published", "finished")
    }
    return [x for x in h.sessions if x.activity_id in counted and s <= x.starts_at < e]


def _activity_figures(h: History, sessions: list[ActivitySession]) -> dict[str, Any]:
    """Activities held at the sessions, their places taken, the records served there."""
    activities = sorted({x.activity_id for x in sessions})
    places = sorted(
        x.id
        for x in h.signups
        if x.activity_id in activities
        and x.role == "volunteer"
        and x.status in ("admitted", "no_show")
    )
    ids = {x.id for x in sessions}
    served = sorted(
        r.id
        for r in h.records
        if r.activity_session_id in ids
        and r.status in (AttendanceStatus.CHECKED_OUT, AttendanceStatus.CREDITED)
    )
    return {
        "activities": (len(activities), activities),
        "places": (len(places), places),
        "attendances": (len(served), served),
    }


def _balance(rates: list[float]) -> float | None:
    n = len(rates)
    if n < 2 or sum(rates) == 0:
        return None
    mean = sum(rates) / n
    cv = math.sqrt(sum((r - mean) ** 2 for r in rates) / n) / mean
    return 1 - cv / math.sqrt(n - 1)


def _season_lookup(session: Session) -> Callable[[date], str | None]:
    cache: dict[date, str | None] = {}

    def season_of(day: date) -> str | None:
        if day not in cache:
            theme = season_on(session=session, day=day)
            cache[day] = theme.code if theme else None
        return cache[day]

    return season_of


def _festivals(first_year: int, last_year: int) -> list[tuple[Festival, int]]:
    """Festivals of the years in date order, each with its place in the order of all the
    festivals from 1 January two years before `first_year`."""
    every = _all_festivals()
    return [(f, i) for i, f in enumerate(every) if first_year <= f.gregorian_date.year <= last_year]


def _all_festivals() -> list[Festival]:
    return sorted(
        (f for year in range(2024, 2031) for f in festivals(year=year)),
        key=lambda f: f.gregorian_date,
    )


def _nearest(day: date) -> tuple[Festival, int]:
    """The festival nearest `day`; of two as near, the earlier."""
    every = _all_festivals()
    index = min(
        range(len(every)),
        key=lambda i: (abs((every[i].gregorian_date - day).days), every[i].gregorian_date, i),
    )
    return every[index], index
