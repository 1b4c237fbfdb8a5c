"""Activities and pairing visits in the statistics: the hours of an activity's session or of a
visit (hours entries without a wish, and their corrections) count in the people section's
active volunteers and hours and in the seasons' hours like a wish's; the seasons section counts
activities held, places taken and service records served per season and festival campaign, and
the balance index counts activities beside wishes; each new figure drills down to its rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from app import clock
from app.models import Attendance, HoursEntry, Volunteer
from app.models.enums import AttendanceStatus
from app.seasons.festivals import festivals
from app.stats import people, seasons, service, spans
from app.stats.figures import DrillKind, Figure, Scope
from tests.fixtures.builders import make_tree, make_user, make_volunteer
from tests.fixtures.programmes import (
    make_activity,
    make_activity_session,
    make_attendance,
    make_signup,
    make_visit,
)

NOW = datetime(2027, 12, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    previous = clock.get_clock()
    clock.set_clock(lambda: NOW)
    try:
        yield
    finally:
        clock.set_clock(previous)


def local(month: int, day: int, hour: int = 9) -> datetime:
    return clock.local_at(datetime(2027, month, day).date(), time(hour)).astimezone(UTC)


def entry(
    session: Session,
    record: Attendance,
    minutes: int,
    *,
    reverses: HoursEntry | None = None,
    replaces: HoursEntry | None = None,
) -> HoursEntry:
    """A service entry crediting `record` (a correction copies its start and has no record)."""
    assert record.checked_in_at is not None
    row = HoursEntry(
        volunteer_id=record.volunteer_id,
        category="service",
        unit_id=record.unit_id,
        wish_id=None,
        attendance_id=None if reverses or replaces else record.id,
        content="活动服务",
        started_at=record.checked_in_at,
        minutes=minutes,
        verification="correction" if reverses or replaces else "gps",
        reverses_id=reverses.id if reverses else None,
        replaces_id=replaces.id if replaces else None,
        reason="更正" if reverses or replaces else None,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def figures(
    session: Session, scope: Scope, *sections: object
) -> dict[tuple[str, str | None], Figure]:
    return {
        (f.key, f.group): f
        for section in sections
        for f in section.compute(session, scope)  # type: ignore[attr-defined]
    }


def volunteer(session: Session, station: object, name: str) -> Volunteer:
    return make_volunteer(session, station, user=make_user(session, name=name))[1]  # type: ignore[arg-type]


def test_activity_and_visit_hours_count_for_active_volunteers_and_hours(session: Session) -> None:
    tree = make_tree(session)
    township = tree.townships[0]
    a, b = (
        volunteer(session, tree.stations[0], "欧阳小明"),
        volunteer(session, tree.stations[1], "张三"),
    )
    activity = make_activity(session, unit=township, starts_at=local(11, 6))
    held = make_activity_session(session, activity, local(11, 6))
    at_activity = make_attendance(
        session, volunteer=a, unit=township, at=local(11, 6), activity_session=held
    )
    credited = entry(session, at_activity, 120)
    visit = make_visit(session, station=tree.stations[1], volunteer=b)
    at_home = make_attendance(
        session, volunteer=b, unit=tree.stations[1], at=local(11, 8), visit=visit
    )
    original = entry(session, at_home, 90)
    reversal = entry(session, at_home, -90, reverses=original)
    replacement = entry(session, at_home, 60, replaces=original)
    scope = Scope(township, local(11, 1, 0), local(12, 1, 0))

    found = figures(session, scope, people.SECTION, seasons.SECTION)
    assert found[("people.active", None)].value == 2
    assert found[("people.hours", None)].value == 3.0  # 120 + 90 − 90 + 60 minutes
    assert found[("people.hours_per_active", None)].value == 1.5
    entries = sorted(e.id for e in (credited, original, reversal, replacement))
    assert people.SECTION.drill(session, scope, "people.hours", None) == entries
    assert people.SECTION.drill(session, scope, "people.active", None) == sorted([a.id, b.id])
    # November is in the harvest season by default: the season's hours hold both occasions.
    season = next(k[1] for k, f in found.items() if k[0] == "seasons.season.hours" and f.value)
    assert found[("seasons.season.hours", season)].value == 3.0
    assert seasons.SECTION.drill(session, scope, "seasons.season.hours", season) == entries
    # The visit's station alone: its visit's entries, net 1 hour, one active volunteer.
    station = Scope(tree.stations[1], scope.starts_at, scope.ends_at)
    alone = figures(session, station, people.SECTION)
    assert (alone[("people.active", None)].value, alone[("people.hours", None)].value) == (1, 1.0)


def test_activities_held_places_and_records_per_season_and_festival(session: Session) -> None:
    tree = make_tree(session)
    county, station = tree.county, tree.stations[0]
    a, b, c = (volunteer(session, station, name) for name in ("欧阳小明", "张三", "李四"))
    double_ninth = next(f for f in festivals(year=2027) if f.code == "double_ninth")
    day = double_ninth.gregorian_date
    on_the_day = clock.local_at(day, time(9)).astimezone(UTC)
    # Named for 重阳, held 9 days after it: outside the campaign, inside its cell.
    named = make_activity(session, unit=station, starts_at=on_the_day, festival="double_ninth")
    early = make_activity_session(session, named, on_the_day + timedelta(days=9))
    make_activity_session(session, named, on_the_day + timedelta(days=40))  # after the window
    # Not named, on the day itself: in the campaign.
    plain = make_activity(session, unit=tree.townships[0], starts_at=on_the_day)
    same_day = make_activity_session(session, plain, on_the_day)
    # Not held: a draft, a cancelled activity, and one of another county.
    draft = make_activity(session, unit=station, starts_at=on_the_day, status="draft")
    make_activity_session(session, draft, on_the_day)
    cancelled = make_activity(session, unit=station, starts_at=on_the_day, status="cancelled")
    make_activity_session(session, cancelled, on_the_day)
    other = make_tree(session)
    outside = make_activity(session, unit=other.stations[0], starts_at=on_the_day)
    make_activity_session(session, outside, on_the_day)

    places = [
        make_signup(session, named, a),
        make_signup(session, named, b, "no_show"),
        make_signup(session, plain, c),
    ]
    make_signup(session, named, c, "waiting")
    make_signup(session, plain, b, "cancelled")
    served = [
        make_attendance(
            session, volunteer=a, unit=station, at=early.starts_at, activity_session=early
        ),
        make_attendance(
            session,
            volunteer=c,
            unit=tree.townships[0],
            at=same_day.starts_at,
            activity_session=same_day,
            status=AttendanceStatus.CHECKED_OUT,
        ),
    ]
    make_attendance(
        session,
        volunteer=b,
        unit=station,
        at=early.starts_at,
        activity_session=early,
        status=AttendanceStatus.REJECTED,
    )
    start = clock.local_at(day - timedelta(days=20), time(0)).astimezone(UTC)  # to day + 10
    scope = Scope(county, start, start + timedelta(days=30))

    found = figures(session, scope, seasons.SECTION)
    assert found[("seasons.activities", None)].value == 2
    assert found[("seasons.places", None)].value == 3
    assert found[("seasons.attendances", None)].value == 2
    drill = seasons.SECTION.drill
    assert drill(session, scope, "seasons.activities", None) == sorted([named.id, plain.id])
    assert drill(session, scope, "seasons.places", None) == sorted(p.id for p in places)
    assert drill(session, scope, "seasons.attendances", None) == sorted(r.id for r in served)
    group = f"double_ninth_{day.year}"
    assert found[("seasons.festival.activities", group)].value == 2
    assert drill(session, scope, "seasons.festival.attendances", group) == sorted(
        r.id for r in served
    )
    # The festivals before it hold neither (their campaigns ended, the named one is 重阳's).
    for code in ("mid_autumn", "harvest_festival"):
        listed = found.get(("seasons.festival.activities", f"{code}_{day.year}"))
        assert listed is None or listed.value == 0, code
    assert found[("seasons.activities", None)].drill == DrillKind.ACTIVITIES
    assert found[("seasons.places", None)].drill == DrillKind.SIGNUPS
    assert found[("seasons.attendances", None)].drill == DrillKind.ATTENDANCES

    # Rows a coordinator can check by hand: titles and units, masked names.
    items = service.items_of(session, DrillKind.SIGNUPS, [places[0].id])
    assert items[0].label == f"{named.title} · 欧**明"
    items = service.items_of(session, DrillKind.ATTENDANCES, [served[1].id])
    assert items[0].label == f"{plain.title} · 李*"
    items = service.items_of(session, DrillKind.ACTIVITIES, [plain.id])
    assert items[0].label == f"{plain.title}（{tree.townships[0].name}）"


def test_the_balance_index_counts_activities_beside_wishes(session: Session) -> None:
    """With no wish at all, activities alone make the index: one activity in each of two
    seasons' equal stretches is perfectly balanced; without activities the index is None."""
    tree = make_tree(session)
    scope = Scope(tree.county, local(1, 1, 0), local(12, 31, 0))
    before = figures(session, scope, seasons.SECTION)[("seasons.balance_index", None)]
    assert before.value is None
    seasons_seen = [s for s in spans.season_spans(session, scope) if s.days > 0]
    for span in seasons_seen:
        activity = make_activity(session, unit=tree.stations[0], starts_at=span.intervals[0][0])
        make_activity_session(session, activity, span.intervals[0][0])
    rates = [1 / span.days for span in seasons_seen]
    after = figures(session, scope, seasons.SECTION)[("seasons.balance_index", None)]
    assert after.value == seasons.balance(rates)
    assert after.value is not None and 0 < after.value <= 1
